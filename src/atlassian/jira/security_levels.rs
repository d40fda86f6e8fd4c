//! Which issue security levels each project has: the projects' issue security schemes and the levels of
//! those schemes, read for every project at once (`GET /issuesecurityschemes/project`, then
//! `GET /issuesecurityschemes/level` for the schemes in use) instead of one
//! `/project/{id}/issuesecuritylevelscheme` call per project, which made every run's permission snapshot
//! cost a call per project whether or not anything had changed.
//!
//! Fail closed: a project that two mappings name with different schemes has no level known here, so an
//! issue carrying a level is readable by nobody; a level without a usable id is left out the same way.
//! A page that cannot be fetched fails the whole read, as the level members' walk does.
//!
//! This file reads no level members (the caller does, once for every scheme) and no permission scheme.

use std::collections::{BTreeMap, BTreeSet};

use super::super::client::Client;
use super::super::paginate::OffsetPager;
use super::super::path::query;
use super::super::wire::jira as wire;
use super::super::Error;
use super::{is_id, API};

/// Mappings or levels asked for per page; a site that serves fewer costs more pages, never items.
const PAGE: u32 = 100;

/// Level id → the id of the scheme it belongs to, per project id, for the projects in `projects` that
/// use an issue security scheme (the others are absent: their issues carry no level).
pub(super) async fn levels_by_project(
    client: &Client,
    projects: &BTreeSet<String>,
) -> Result<BTreeMap<String, BTreeMap<String, String>>, Error> {
    let mappings = OffsetPager::<wire::PageBean<wire::SecuritySchemeProject>>::new(
        format!("{API}/issuesecurityschemes/project"),
        PAGE,
    )
    .collect_all(client)
    .await?;
    let scheme_of = schemes_of(mappings, projects);
    let schemes: BTreeSet<&String> = scheme_of.values().flatten().collect();
    if schemes.is_empty() {
        return Ok(BTreeMap::new());
    }
    let pairs: Vec<(&str, &str)> = schemes.iter().map(|s| ("schemeId", s.as_str())).collect();
    let levels = OffsetPager::<wire::PageBean<wire::SecurityLevel>>::new(
        format!("{API}/issuesecurityschemes/level?{}", query(&pairs)),
        PAGE,
    )
    .collect_all(client)
    .await?;
    let mut by_scheme: BTreeMap<&str, BTreeSet<String>> = BTreeMap::new();
    for level in levels.iter().filter(|l| is_id(&l.id)) {
        // A level that names no scheme of its own cannot be placed; the filter asked for schemes only.
        if let Some(scheme) =
            level.issue_security_scheme_id.as_deref().filter(|s| schemes.contains(&s.to_string()))
        {
            by_scheme.entry(scheme).or_default().insert(level.id.clone());
        }
    }
    Ok(scheme_of
        .iter()
        .map(|(project, scheme)| {
            let levels = scheme
                .as_deref()
                .and_then(|s| by_scheme.get(s))
                .into_iter()
                .flatten()
                .map(|level| (level.clone(), scheme.clone().unwrap_or_default()))
                .collect();
            (project.clone(), levels)
        })
        .collect())
}

/// The scheme each project in `projects` uses, by the mappings; `None` for a project named with two
/// different schemes (which a site should never send), so that none of its levels is trusted.
fn schemes_of(
    mappings: Vec<wire::SecuritySchemeProject>,
    projects: &BTreeSet<String>,
) -> BTreeMap<String, Option<String>> {
    let mut scheme_of: BTreeMap<String, Option<String>> = BTreeMap::new();
    for m in mappings {
        if !projects.contains(&m.project_id) || !is_id(&m.issue_security_scheme_id) {
            continue;
        }
        let scheme = Some(m.issue_security_scheme_id);
        let entry = scheme_of.entry(m.project_id).or_insert_with(|| scheme.clone());
        if *entry != scheme {
            *entry = None;
        }
    }
    scheme_of
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mapping(project: &str, scheme: &str) -> wire::SecuritySchemeProject {
        wire::SecuritySchemeProject { project_id: project.into(), issue_security_scheme_id: scheme.into() }
    }

    /// Mappings given, and the scheme each project gets.
    type Case<'a> = (&'a [(&'a str, &'a str)], &'a [(&'a str, Option<&'a str>)]);

    #[test]
    fn each_project_gets_its_one_scheme_and_a_contradiction_gets_none() {
        let projects: BTreeSet<String> = ["1", "2", "3"].map(String::from).into();
        let cases: &[Case] = &[
            (&[("1", "10"), ("2", "10")], &[("1", Some("10")), ("2", Some("10"))]),
            // Out of scope, or without a usable scheme id: left out.
            (&[("9", "10"), ("3", ""), ("3", "-1")], &[]),
            // The same mapping twice is one; two schemes for one project is none.
            (&[("1", "10"), ("1", "10"), ("2", "10"), ("2", "11")], &[("1", Some("10")), ("2", None)]),
        ];
        for (given, want) in cases {
            let got = schemes_of(given.iter().map(|(p, s)| mapping(p, s)).collect(), &projects);
            let want: BTreeMap<String, Option<String>> =
                want.iter().map(|(p, s)| (p.to_string(), s.map(String::from))).collect();
            assert_eq!(got, want, "{given:?}");
        }
    }
}

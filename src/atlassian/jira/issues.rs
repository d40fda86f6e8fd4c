//! Issues: their ids (`POST /search/jql`, 5000 a page, in ascending id order), Jira's estimate of how many
//! there are (`POST /search/approximate-count`), what each one's access depends on (its level, reporter
//! and assignee, 100 a page), the issues themselves (`POST /issue/bulkfetch`, 100 per call) and their
//! attachments' bytes.
//!
//! Listings are paged by the last id served rather than by Jira's own page tokens, which expire: a stored
//! token resumes a walk at any later time, and a walk cannot loop. Not here: comments (`comments.rs`),
//! who may browse a project (`projects.rs`).

use std::collections::BTreeSet;

use chrono::{DateTime, Utc};
use tokio::task::JoinSet;

use super::service_desk::RequestFields;
use super::{
    account_id, is_id, joined, malformed, parse_time, Jira, API, BULKFETCH_MAX, ISSUE_ACCESS_PAGE,
    ISSUE_FIELDS, ISSUE_IDS_PAGE, UNKNOWN_LEVEL,
};
use crate::atlassian::model::{Issue, IssueAttachment, PortalRequest};
use crate::atlassian::path::segment;
use crate::atlassian::wire::jira as wire;
use crate::atlassian::{Error, Page};

/// What an issue's access depends on besides its project (see [`Jira::issue_access`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IssueAccess {
    pub id: String,
    pub reporter: Option<String>,
    pub assignee: Option<String>,
    /// As [`Issue::security_level_id`].
    pub security_level_id: Option<String>,
    /// As [`Issue::portal`].
    pub portal: PortalRequest,
}

impl Jira {
    /// One page of the ids of the issues of `project_keys` (all of them, or those updated at or after
    /// `updated_since`), in ascending id order, up to 5000 per page. `token` is the `next` of the previous
    /// page (`None` for the first): it is the last id served, so a stored token resumes the walk at any
    /// later time (Jira's own page tokens expire), and a walk cannot loop. Archived issues and those of
    /// archived projects are not searchable, so they are never listed.
    pub async fn issue_ids(
        &self,
        project_keys: &[String],
        updated_since: Option<DateTime<Utc>>,
        token: Option<&str>,
    ) -> Result<Page<String>, Error> {
        let Some(scope) = IssueScope::of(project_keys, updated_since) else {
            return Ok(Page { items: Vec::new(), next: None });
        };
        let page = self.search_page(&scope, token, &["id"], ISSUE_IDS_PAGE).await?;
        Ok(Page { items: page.items.into_iter().map(|(id, _)| id.to_string()).collect(), next: page.next })
    }

    /// Jira's estimate of how many issues of these projects a listing will return
    /// (`POST /search/approximate-count`), for progress only: the count may lag recent changes. `None`
    /// for no projects.
    pub async fn approximate_issue_count(&self, project_keys: &[String]) -> Result<Option<u64>, Error> {
        let Some(scope) = IssueScope::of(project_keys, None) else { return Ok(None) };
        let request = wire::JqlCountRequest { jql: Some(scope.filter(None)) };
        let answer: wire::JqlCountResults =
            self.client.post_json(&format!("{API}/search/approximate-count"), &request).await?;
        Ok(answer.count)
    }

    /// What an issue's access depends on besides its project (its level, reporter and assignee), for every
    /// issue of these projects, a page (100 issues) per call, walked like [`issue_ids`](Self::issue_ids).
    /// A permission refresh reads these to follow changes that bodies need not be fetched for.
    pub async fn issue_access(
        &self,
        project_keys: &[String],
        token: Option<&str>,
    ) -> Result<Page<IssueAccess>, Error> {
        let Some(scope) = IssueScope::of(project_keys, None) else {
            return Ok(Page { items: Vec::new(), next: None });
        };
        let request_fields = self.known_request_fields();
        let mut fields = vec!["id", "security", "reporter", "assignee"];
        fields.extend(request_fields.ids());
        let page = self.search_page(&scope, token, &fields, ISSUE_ACCESS_PAGE).await?;
        let items = page
            .items
            .into_iter()
            .map(|(id, bean)| {
                let fields = bean.fields.unwrap_or_default();
                IssueAccess {
                    id: id.to_string(),
                    portal: request_fields.portal(&fields.other),
                    reporter: fields.reporter.flatten().and_then(account_id),
                    assignee: fields.assignee.flatten().and_then(account_id),
                    security_level_id: fields.security.map(level_id),
                }
            })
            .collect();
        Ok(Page { items, next: page.next })
    }

    /// One page of a `search/jql` walk over `scope` in ascending id order: up to `page_size` issues with
    /// `fields`, each with its id as a number. `token` is the last id of the previous page (`None` for the
    /// first); the next token is the largest id of this one, while Jira says there is more.
    async fn search_page(
        &self,
        scope: &IssueScope<'_>,
        token: Option<&str>,
        fields: &[&str],
        page_size: usize,
    ) -> Result<Page<(u64, wire::IssueBean)>, Error> {
        let path = format!("{API}/search/jql");
        let after = match token {
            None => None,
            Some(text) => Some(text.parse::<u64>().map_err(|_| Error::InvalidRequest {
                path: path.clone(),
                reason: format!("{text:?} is not a page token of an issue listing"),
            })?),
        };
        let request = wire::SearchRequest {
            jql: Some(scope.jql(after)),
            max_results: Some(page_size as i64),
            fields: fields.iter().map(|f| f.to_string()).collect(),
            ..Default::default()
        };
        let page: wire::SearchAndReconcileResults = self.client.post_json(&path, &request).await?;
        let more =
            page.is_last != Some(true) && page.next_page_token.as_deref().is_some_and(|t| !t.is_empty());
        let mut items = Vec::with_capacity(page.issues.len());
        for bean in page.issues {
            let Some(id) = bean.id.parse::<u64>().ok().filter(|id| after.is_none_or(|a| *id > a)) else {
                return Err(malformed(
                    &path,
                    format!("issue id {:?} is not a number above the page start", bean.id),
                ));
            };
            items.push((id, bean));
        }
        // Every id is above `after`, so the next page starts strictly later; an empty page ends the walk
        // whatever it claims, since nothing above `after` matched.
        let last = items.iter().map(|(id, _)| *id).max();
        let next = if more { last.map(|id| id.to_string()) } else { None };
        Ok(Page { items, next })
    }

    /// The issues with these ids (any number: fetched 100 per call), and the ids Jira could not return,
    /// with its message (deleted, archived, or not visible). An issue missing from the answer without an
    /// error, or without its project, is reported the same way.
    pub async fn issues(&self, ids: &[String]) -> Result<(Vec<Issue>, Vec<(String, String)>), Error> {
        let path = format!("{API}/issue/bulkfetch");
        let base = self.web_base();
        let request_fields = self.known_request_fields();
        let mut fields: Vec<String> = ISSUE_FIELDS.iter().map(|f| f.to_string()).collect();
        fields.extend(request_fields.ids().map(str::to_string));
        // The chunks are fetched side by side (the client bounds how many at once) and put back in order.
        let mut tasks = JoinSet::new();
        for (n, chunk) in ids.chunks(BULKFETCH_MAX).enumerate() {
            let request = wire::BulkFetchRequest {
                issue_ids_or_keys: chunk.to_vec(),
                fields: fields.clone(),
                ..Default::default()
            };
            let (client, path) = (self.client.clone(), path.clone());
            tasks.spawn(
                async move { (n, client.post_json::<_, wire::BulkIssueResults>(&path, &request).await) },
            );
        }
        let mut answers: Vec<Option<wire::BulkIssueResults>> = (0..tasks.len()).map(|_| None).collect();
        while let Some(done) = tasks.join_next().await {
            let (n, answer) = joined(done);
            answers[n] = Some(answer?);
        }
        let mut issues = Vec::with_capacity(ids.len());
        let mut errors = Vec::new();
        for (chunk, answer) in ids.chunks(BULKFETCH_MAX).zip(answers) {
            let answer = answer.unwrap_or_default();
            let mut answered = BTreeSet::new();
            for bean in answer.issues {
                answered.insert(bean.id.clone());
                if let Some(key) = &bean.key {
                    answered.insert(key.clone());
                }
                match issue_from_wire(bean, &base, &request_fields) {
                    Ok(issue) => issues.push(issue),
                    Err(error) => errors.push(error),
                }
            }
            for error in answer.issue_errors {
                answered.insert(error.id.clone());
                errors.push((error.id, error.error_message));
            }
            for id in chunk.iter().filter(|id| !answered.contains(*id)) {
                errors.push((id.clone(), "not in the bulk fetch answer".into()));
            }
        }
        Ok((issues, errors))
    }

    /// The attachment's bytes, at most `max_bytes` (a larger file is [`Error::TooLarge`]). Jira answers
    /// with a redirect to its media service, which the client follows without sending credentials.
    pub async fn download(&self, attachment: &IssueAttachment, max_bytes: u64) -> Result<Vec<u8>, Error> {
        Ok(self.client.download(&attachment.download_path, max_bytes).await?.bytes)
    }
}

/// Which issues a listing or a count covers: those of some projects, all of them or those updated at or
/// after a time. There is none of no projects: nothing can be listed, and JQL has no empty `in ()`.
struct IssueScope<'a> {
    project_keys: &'a [String],
    updated_since: Option<DateTime<Utc>>,
}

impl<'a> IssueScope<'a> {
    fn of(project_keys: &'a [String], updated_since: Option<DateTime<Utc>>) -> Option<Self> {
        (!project_keys.is_empty()).then_some(IssueScope { project_keys, updated_since })
    }

    /// `project in ("A", "B") [AND id > n] [AND updated >= millis] ORDER BY id ASC`. Epoch milliseconds
    /// are read the same in every time zone, unlike JQL's date literals.
    fn jql(&self, after: Option<u64>) -> String {
        let mut jql = self.filter(after);
        jql.push_str(" ORDER BY id ASC");
        jql
    }

    /// The search restriction of [`jql`](Self::jql), without its order.
    fn filter(&self, after: Option<u64>) -> String {
        let keys: Vec<String> = self
            .project_keys
            .iter()
            .map(|k| format!("\"{}\"", k.replace('\\', "\\\\").replace('"', "\\\"")))
            .collect();
        let mut jql = format!("project in ({})", keys.join(", "));
        if let Some(after) = after {
            jql.push_str(&format!(" AND id > {after}"));
        }
        if let Some(since) = self.updated_since {
            jql.push_str(&format!(" AND updated >= {}", since.timestamp_millis()));
        }
        jql
    }
}

/// An issue's security level id; a level the site names but whose id cannot be read is a level nobody
/// is known to be in.
fn level_id(security: wire::SecurityLevel) -> String {
    if is_id(&security.id) {
        security.id
    } else {
        UNKNOWN_LEVEL.to_owned()
    }
}

/// A bulk-fetched issue in permdex's terms, or why it cannot be one.
pub(in crate::atlassian) fn issue_from_wire(
    bean: wire::IssueBean,
    base: &str,
    request_fields: &RequestFields,
) -> Result<Issue, (String, String)> {
    if !is_id(&bean.id) {
        return Err((bean.id, "answered without a usable id".into()));
    }
    let Some(fields) = bean.fields else { return Err((bean.id, "answered without fields".into())) };
    let Some(project) = fields.project.filter(|p| is_id(&p.id)) else {
        return Err((bean.id, "answered without its project".into()));
    };
    let key = bean.key.unwrap_or_default();
    let assignee = fields.assignee.flatten();
    let attachments = fields
        .attachment
        .unwrap_or_default()
        .into_iter()
        .filter(|a| !a.id.is_empty())
        .map(|a| IssueAttachment {
            download_path: format!("{API}/attachment/content/{}", segment(&a.id)),
            id: a.id,
            issue_id: bean.id.clone(),
            filename: a.filename,
            media_type: a.mime_type,
            size: a.size,
            created: a.created.as_deref().and_then(parse_time),
            author: a.author.and_then(account_id),
        })
        .collect();
    Ok(Issue {
        url: format!("{base}/browse/{key}"),
        key,
        project_id: project.id,
        summary: fields.summary.unwrap_or_default(),
        description: fields.description.unwrap_or(serde_json::Value::Null),
        issue_type: fields.issuetype.map(|t| t.name).unwrap_or_default(),
        parent_id: fields.parent.map(|p| p.id).filter(|id| !id.is_empty()),
        subtask_ids: fields
            .subtasks
            .unwrap_or_default()
            .into_iter()
            .map(|s| s.id)
            .filter(|id| !id.is_empty())
            .collect(),
        status_category: status_category(fields.status.as_ref()),
        status: fields.status.map(|s| s.name).filter(|n| !n.is_empty()),
        labels: fields.labels.unwrap_or_default(),
        reporter: fields.reporter.flatten().and_then(account_id),
        assignee_name: assignee.as_ref().and_then(|u| u.display_name.clone()).filter(|n| !n.is_empty()),
        assignee: assignee.and_then(account_id),
        security_level_id: fields.security.map(level_id),
        created: fields.created.as_deref().and_then(parse_time),
        updated: fields.updated.as_deref().and_then(parse_time),
        attachments,
        portal: request_fields.portal(&fields.other),
        id: bean.id,
    })
}

/// The key of a status's category, lowercased; none when the status or its category is missing.
fn status_category(status: Option<&wire::StatusDetails>) -> Option<String> {
    let key = status?.status_category.as_ref()?.key.trim().to_ascii_lowercase();
    (!key.is_empty()).then_some(key)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn jql_is_bounded_by_projects_and_uses_epoch_millis() {
        let keys = ["APP".to_string(), "O\"DD".to_string()];
        let since = DateTime::from_timestamp_millis(1_700_000_000_123).expect("valid time");
        let cases = [
            (None, None, r#"project in ("APP", "O\"DD") ORDER BY id ASC"#),
            (
                Some(since),
                None,
                r#"project in ("APP", "O\"DD") AND updated >= 1700000000123 ORDER BY id ASC"#,
            ),
            (
                Some(since),
                Some(10_100),
                r#"project in ("APP", "O\"DD") AND id > 10100 AND updated >= 1700000000123 ORDER BY id ASC"#,
            ),
        ];
        for (since, after, expected) in cases {
            let scope = IssueScope::of(&keys, since).expect("projects");
            assert_eq!(scope.jql(after), expected);
        }
        assert!(IssueScope::of(&[], None).is_none());
    }

    #[test]
    fn issues_without_project_or_fields_are_errors() {
        let bare: wire::IssueBean = serde_json::from_value(json!({"id": "1"})).expect("parses");
        assert_eq!(
            issue_from_wire(bare, "http://x", &RequestFields::default()).map(|i| i.id),
            Err(("1".into(), "answered without fields".into()))
        );
        let orphan: wire::IssueBean =
            serde_json::from_value(json!({"id": "2", "fields": {"summary": "s"}})).expect("parses");
        assert!(issue_from_wire(orphan, "http://x", &RequestFields::default()).is_err());
    }
}

//! Jira for the simulated company: project roles, permission schemes, issue security schemes, projects
//! with leads and role actors, and issues with sub-tasks, comments and attachments.
//!
//! Shapes the HTTP layer and the oracle rely on, all built here:
//! - the `BROWSE_PROJECTS` grants of the permission schemes together use every [`Holder`] variant, and
//!   every scheme also carries grants of other permissions (some to `anyone`), which must not count;
//! - security levels have members of type group, user, projectRole, reporter and assignee;
//! - about 15% of issues carry a security level; sub-tasks never carry their own (they take the parent's);
//! - about 15% of comments are restricted to a group or a project role;
//! - a few archived issues, and issue keys `KEY-n` counted per project.
//!
//! Scheme, level and project ids are fixed small numbers; issue, comment, attachment, grant and level
//! member ids come from [`IdSequences`].

use std::collections::{BTreeMap, BTreeSet};

use rand::seq::SliceRandom;
use rand::Rng;

use super::confluence::unique_filename;
use super::people::{People, Purpose};
use super::text::{self, Mention};
use super::topics::TOPICS;
use super::{later, Plan, DAY};
use crate::sim::model::*;

pub const ROLE_USERS: u64 = 10000;
pub const ROLE_DEVELOPERS: u64 = 10001;
pub const ROLE_ADMINISTRATORS: u64 = 10002;
pub const ROLE_VIEWERS: u64 = 10003;
const ROLE_ADDONS: u64 = 10004;

const SCHEME_DEFAULT: u64 = 10000;
const SCHEME_OPEN: u64 = 10001;
const SCHEME_CONFIDENTIAL: u64 = 10002;
const SCHEME_PUBLIC: u64 = 10003;
const SCHEME_REPORTER: u64 = 10004;

const SECURITY_ENGINEERING: u64 = 10000;
const SECURITY_PEOPLE: u64 = 10001;

const ISSUE_SHARE: f64 = 0.22;
const COMMENT_SHARE: f64 = 0.18;
const ATTACHMENT_SHARE: f64 = 0.04;

/// Permission scheme of each department's main project, chosen so the first five departments (a tiny
/// site) already use every scheme.
const MAIN_SCHEME: [u64; 10] = [
    SCHEME_DEFAULT,
    SCHEME_OPEN,
    SCHEME_REPORTER,
    SCHEME_CONFIDENTIAL,
    SCHEME_PUBLIC,
    SCHEME_OPEN,
    SCHEME_DEFAULT,
    SCHEME_CONFIDENTIAL,
    SCHEME_DEFAULT,
    SCHEME_OPEN,
];
/// Issue security scheme of each department's main project.
const MAIN_SECURITY: [Option<u64>; 10] = [
    Some(SECURITY_ENGINEERING),
    Some(SECURITY_ENGINEERING),
    Some(SECURITY_ENGINEERING),
    Some(SECURITY_PEOPLE),
    None,
    None,
    None,
    Some(SECURITY_PEOPLE),
    Some(SECURITY_ENGINEERING),
    None,
];

const ARCHIVED_PROJECTS: &[(&str, &str, usize)] =
    &[("OLDOPS", "Legacy Operations", 0), ("HACK", "Hackathon 2024", 8)];

/// A permission scheme to build: id, name, description and `(permission, holder)` grants.
type SchemeSpec = (u64, &'static str, &'static str, Vec<(&'static str, Holder)>);
/// A security level to build: id, name and member holders.
type LevelSpec = (u64, &'static str, Vec<Holder>);
/// An issue security scheme to build: id, name, default level and levels.
type SecuritySpec = (u64, &'static str, Option<u64>, Vec<LevelSpec>);

struct ProjectSpec {
    key: &'static str,
    name: &'static str,
    topic: usize,
    scheme: u64,
    security: Option<u64>,
    archived: bool,
    weight: u32,
}

pub(super) fn generate<R: Rng>(rng: &mut R, site: &mut Site, people: &People, plan: &Plan) {
    site.roles = roles();
    add_permission_schemes(site, people);
    add_security_schemes(site, people);
    let specs = project_specs(rng, plan);
    let issue_budget = plan.share(ISSUE_SHARE, 40);
    let total_weight: u32 = specs.iter().map(|s| s.weight).sum();
    let mut all_issues: Vec<(u64, usize)> = Vec::new();
    for (n, spec) in specs.iter().enumerate() {
        let project_id = 10000 + n as u64;
        add_project(rng, site, people, project_id, spec);
        let count = (issue_budget * spec.weight as usize / total_weight as usize).max(4);
        add_issues(rng, site, people, project_id, spec, count, &mut all_issues);
    }
    archive_a_few_issues(rng, site);
    add_comments(rng, site, people, &all_issues, plan.share(COMMENT_SHARE, 20));
    add_attachments(rng, site, people, &all_issues, plan.share(ATTACHMENT_SHARE, 6));
}

fn roles() -> Vec<ProjectRole> {
    [
        (ROLE_USERS, "Users", "People who may see and comment on issues"),
        (ROLE_DEVELOPERS, "Developers", "People who work on issues"),
        (ROLE_ADMINISTRATORS, "Administrators", "People who administer the project"),
        (ROLE_VIEWERS, "Viewers", "People who may look but not touch"),
        (ROLE_ADDONS, "atlassian-addons-project-access", "Apps installed on the site"),
    ]
    .into_iter()
    .map(|(id, name, description)| ProjectRole { id, name: name.into(), description: description.into() })
    .collect()
}

fn grant(site: &mut Site, permission: &str, holder: Holder) -> PermissionGrant {
    PermissionGrant { id: IdSequences::take(&mut site.ids.grant), permission: permission.into(), holder }
}

/// The first active member of a department: its named contact in schemes and levels.
fn contact(people: &People, topic: usize) -> String {
    people.colleagues(topic).first().cloned().unwrap_or_else(|| people.admin.clone())
}

fn add_permission_schemes(site: &mut Site, people: &People) {
    let group = |p: Purpose| Holder::Group(people.group(p).to_string());
    let software = || Holder::ApplicationRole(Some("jira-software".into()));
    let schemes: Vec<SchemeSpec> = vec![
        (
            SCHEME_DEFAULT,
            "Default software scheme",
            "Project members by role",
            vec![
                ("BROWSE_PROJECTS", Holder::ProjectRole(ROLE_USERS)),
                ("BROWSE_PROJECTS", Holder::ProjectRole(ROLE_DEVELOPERS)),
                ("BROWSE_PROJECTS", Holder::ProjectRole(ROLE_ADMINISTRATORS)),
                ("CREATE_ISSUES", Holder::ProjectRole(ROLE_DEVELOPERS)),
                ("EDIT_ISSUES", Holder::ProjectRole(ROLE_DEVELOPERS)),
                ("ADD_COMMENTS", Holder::ProjectRole(ROLE_USERS)),
                ("ASSIGN_ISSUES", Holder::ProjectLead),
                ("CREATE_ATTACHMENTS", Holder::ProjectRole(ROLE_DEVELOPERS)),
                ("ADMINISTER_PROJECTS", Holder::ProjectRole(ROLE_ADMINISTRATORS)),
            ],
        ),
        (
            SCHEME_OPEN,
            "Internal open scheme",
            "Every licensed Jira user",
            vec![
                ("BROWSE_PROJECTS", software()),
                ("CREATE_ISSUES", Holder::ApplicationRole(None)),
                ("ADD_COMMENTS", software()),
                ("DELETE_ISSUES", Holder::ProjectLead),
                ("ADMINISTER_PROJECTS", Holder::ProjectRole(ROLE_ADMINISTRATORS)),
            ],
        ),
        (
            SCHEME_CONFIDENTIAL,
            "Confidential scheme",
            "Named people and the confidential group only",
            vec![
                ("BROWSE_PROJECTS", group(Purpose::Confidential)),
                ("BROWSE_PROJECTS", Holder::User(contact(people, 3))),
                ("BROWSE_PROJECTS", Holder::ProjectLead),
                ("BROWSE_PROJECTS", Holder::Assignee),
                // Anyone may file a request, but filing is not seeing.
                ("CREATE_ISSUES", Holder::Anyone),
                ("ADD_COMMENTS", group(Purpose::Managers)),
                ("ADMINISTER_PROJECTS", Holder::ProjectRole(ROLE_ADMINISTRATORS)),
            ],
        ),
        (
            SCHEME_PUBLIC,
            "Public service desk scheme",
            "Readable without signing in",
            vec![
                ("BROWSE_PROJECTS", Holder::Anyone),
                ("BROWSE_PROJECTS", Holder::ProjectRole(ROLE_DEVELOPERS)),
                ("CREATE_ISSUES", Holder::Anyone),
                ("TRANSITION_ISSUES", Holder::ProjectRole(ROLE_DEVELOPERS)),
                ("ADMINISTER_PROJECTS", group(Purpose::Admins)),
            ],
        ),
        (
            SCHEME_REPORTER,
            "Reporter-restricted scheme",
            "Reporters see their own issues; the team and auditors see all",
            vec![
                ("BROWSE_PROJECTS", Holder::Reporter),
                ("BROWSE_PROJECTS", Holder::Assignee),
                ("BROWSE_PROJECTS", Holder::ProjectRole(ROLE_DEVELOPERS)),
                ("BROWSE_PROJECTS", group(Purpose::Auditors)),
                ("CREATE_ISSUES", software()),
                ("ADD_COMMENTS", Holder::Reporter),
                ("ADMINISTER_PROJECTS", Holder::ProjectRole(ROLE_ADMINISTRATORS)),
            ],
        ),
    ];
    for (id, name, description, grants) in schemes {
        let grants = grants.into_iter().map(|(permission, holder)| grant(site, permission, holder)).collect();
        site.permission_schemes
            .insert(id, PermissionScheme { id, name: name.into(), description: description.into(), grants });
    }
}

fn add_security_schemes(site: &mut Site, people: &People) {
    let group = |p: Purpose| Holder::Group(people.group(p).to_string());
    let reviewers: Vec<String> = people.colleagues(2).iter().take(2).cloned().collect();
    let mut reviewer_holders: Vec<Holder> = reviewers.into_iter().map(Holder::User).collect();
    reviewer_holders.push(group(Purpose::Engineering));
    let schemes: Vec<SecuritySpec> = vec![
        (
            SECURITY_ENGINEERING,
            "Engineering security levels",
            None,
            vec![
                (
                    10100,
                    "Security team only",
                    vec![group(Purpose::Auditors), Holder::ProjectRole(ROLE_ADMINISTRATORS)],
                ),
                (10101, "Reporter and assignee", vec![Holder::Reporter, Holder::Assignee]),
                (10102, "Named reviewers", reviewer_holders),
            ],
        ),
        (
            SECURITY_PEOPLE,
            "People confidential levels",
            Some(10103),
            vec![
                (10103, "HR only", vec![group(Purpose::Confidential), Holder::User(contact(people, 3))]),
                (10104, "Employee and HR", vec![Holder::Reporter, group(Purpose::Confidential)]),
                (10105, "Project developers", vec![Holder::ProjectRole(ROLE_DEVELOPERS)]),
            ],
        ),
    ];
    for (id, name, default_level_id, levels) in schemes {
        let levels = levels
            .into_iter()
            .map(|(level_id, level_name, holders)| SecurityLevel {
                id: level_id,
                name: level_name.into(),
                description: format!("{level_name}: who may see issues at this level"),
                members: holders
                    .into_iter()
                    .map(|holder| LevelMember { id: IdSequences::take(&mut site.ids.level_member), holder })
                    .collect(),
            })
            .collect();
        site.security_schemes.insert(
            id,
            SecurityScheme {
                id,
                name: name.into(),
                description: format!("{name} for confidential issues"),
                default_level_id,
                levels,
            },
        );
    }
}

fn project_specs<R: Rng>(rng: &mut R, plan: &Plan) -> Vec<ProjectSpec> {
    let mut specs = Vec::new();
    for topic in 0..plan.topics {
        let (key, name) = TOPICS[topic].projects[0];
        specs.push(ProjectSpec {
            key,
            name,
            topic,
            scheme: MAIN_SCHEME[topic],
            security: MAIN_SECURITY[topic],
            archived: false,
            weight: 6,
        });
    }
    for (topic, t) in TOPICS.iter().enumerate().take(plan.second_projects.min(plan.topics)) {
        let (key, name) = t.projects[1];
        let (scheme, security) = if topic == 3 {
            (SCHEME_CONFIDENTIAL, Some(SECURITY_PEOPLE))
        } else {
            let scheme = *text::pick(rng, &[SCHEME_DEFAULT, SCHEME_OPEN, SCHEME_REPORTER]);
            (scheme, if rng.gen_bool(0.5) { Some(SECURITY_ENGINEERING) } else { None })
        };
        specs.push(ProjectSpec { key, name, topic, scheme, security, archived: false, weight: 4 });
    }
    for &(key, name, topic) in ARCHIVED_PROJECTS.iter().take(plan.archived_projects) {
        specs.push(ProjectSpec {
            key,
            name,
            topic: topic.min(plan.topics - 1),
            scheme: SCHEME_DEFAULT,
            security: None,
            archived: true,
            weight: 1,
        });
    }
    specs
}

fn add_project<R: Rng>(rng: &mut R, site: &mut Site, people: &People, id: u64, spec: &ProjectSpec) {
    let colleagues = people.colleagues(spec.topic);
    let lead = text::pick(rng, colleagues).clone();
    let mut roles = BTreeMap::new();

    let mut admins = RoleActors::default();
    admins.users.insert(lead.clone());
    if rng.gen_bool(0.5) {
        admins.groups.insert(people.group(Purpose::Admins).to_string());
    }
    roles.insert(ROLE_ADMINISTRATORS, admins);

    let mut developers = RoleActors::default();
    match people.department_group(spec.topic) {
        Some(g) => {
            developers.groups.insert(g.to_string());
            developers.users.extend(colleagues.choose_multiple(rng, 2).cloned());
        }
        None => developers.users.extend(colleagues.choose_multiple(rng, 6).cloned()),
    }
    roles.insert(ROLE_DEVELOPERS, developers);

    let mut users = RoleActors::default();
    let how_many = rng.gen_range(2..=5);
    users.users.extend(people.active.choose_multiple(rng, how_many).cloned());
    if rng.gen_bool(0.5) {
        users.groups.insert(people.group(Purpose::Managers).to_string());
    }
    roles.insert(ROLE_USERS, users);

    let mut viewers = RoleActors::default();
    match rng.gen_range(0..10) {
        0..=3 => {}
        4..=6 => {
            viewers.groups.insert(people.group(Purpose::Contractors).to_string());
        }
        _ => viewers.users.extend(people.active.choose_multiple(rng, 2).cloned()),
    }
    roles.insert(ROLE_VIEWERS, viewers);
    roles.insert(ROLE_ADDONS, RoleActors::default());

    let topic = &TOPICS[spec.topic];
    site.projects.insert(
        id,
        Project {
            id,
            key: spec.key.into(),
            name: spec.name.into(),
            description: format!(
                "{} work of the {} on the {} and {}.",
                topic.name, topic.team, topic.systems[0], topic.objects[0]
            ),
            lead,
            permission_scheme_id: spec.scheme,
            security_scheme_id: spec.security,
            roles,
            topic: spec.topic,
            archived: spec.archived,
            created: text::START + rng.gen_range(0..20 * DAY),
        },
    );
}

const STATUSES: &[&str] = &["To Do", "In Progress", "In Review", "Done"];
const PRIORITIES: &[&str] = &["Highest", "High", "Medium", "Medium", "Medium", "Low", "Lowest"];

fn issue_type<R: Rng>(rng: &mut R, can_have_subtask: bool) -> IssueType {
    match rng.gen_range(0..100) {
        0..=5 => IssueType::Epic,
        6..=35 => IssueType::Story,
        36..=59 => IssueType::Task,
        60..=84 => IssueType::Bug,
        _ if can_have_subtask => IssueType::Subtask,
        _ => IssueType::Task,
    }
}

fn reporter<R: Rng>(rng: &mut R, people: &People, topic: usize) -> Option<String> {
    match rng.gen_range(0..100) {
        0..=1 => None,
        2..=6 if !people.inactive.is_empty() => Some(text::pick(rng, &people.inactive).clone()),
        7..=14 => Some(text::pick(rng, &people.active).clone()),
        _ => Some(text::pick(rng, people.colleagues(topic)).clone()),
    }
}

fn add_issues<R: Rng>(
    rng: &mut R,
    site: &mut Site,
    people: &People,
    project_id: u64,
    spec: &ProjectSpec,
    count: usize,
    all_issues: &mut Vec<(u64, usize)>,
) {
    let topic = &TOPICS[spec.topic];
    let mentions: Vec<Mention> = people.mentions(spec.topic);
    let site_name = site.name.clone();
    let levels: Vec<u64> = spec
        .security
        .and_then(|s| site.security_schemes.get(&s))
        .map(|s| s.levels.iter().map(|l| l.id).collect())
        .unwrap_or_default();
    let start = site.projects.get(&project_id).map_or(text::START, |p| p.created);
    let step = ((text::END - 20 * DAY - start) / count.max(1) as i64).max(1);
    // Standard issues that can take sub-tasks: (id, created).
    let mut parents: Vec<(u64, Millis)> = Vec::new();
    for n in 0..count {
        let id = IdSequences::take(&mut site.ids.issue);
        let mut created = start + step * n as i64 + rng.gen_range(0..step);
        let kind = issue_type(rng, !parents.is_empty());
        let parent_id = if kind.is_subtask() {
            let &(parent, parent_created) = text::pick(rng, &parents);
            created = created.max(parent_created + 60_000);
            Some(parent)
        } else {
            None
        };
        // Sub-tasks never carry their own level: they take their parent's.
        let security_level_id = if !kind.is_subtask() && !levels.is_empty() && rng.gen_bool(0.3) {
            Some(*text::pick(rng, &levels))
        } else {
            None
        };
        let updated = if rng.gen_bool(0.7) { later(rng, created, 120 * DAY) } else { created };
        let status = if spec.archived { "Done" } else { *text::pick(rng, STATUSES) };
        let mut labels: Vec<String> = Vec::new();
        for _ in 0..rng.gen_range(0..=2) {
            let label = text::pick(rng, topic.labels).to_string();
            if !labels.contains(&label) {
                labels.push(label);
            }
        }
        let issue = Issue {
            id,
            key: format!("{}-{}", spec.key, n + 1),
            project_id,
            issue_type: kind,
            parent_id,
            summary: text::issue_summary(rng, topic, kind),
            description: text::adf_description(rng, topic, kind, &mentions, &site_name),
            reporter: reporter(rng, people, spec.topic),
            assignee: if rng.gen_bool(0.2) {
                None
            } else {
                Some(text::pick(rng, people.colleagues(spec.topic)).clone())
            },
            security_level_id,
            status: status.into(),
            priority: text::pick(rng, PRIORITIES).to_string(),
            labels,
            created,
            updated,
            archived: false,
        };
        if matches!(kind, IssueType::Story | IssueType::Task | IssueType::Bug) {
            parents.push((id, created));
        }
        all_issues.push((id, spec.topic));
        site.issues.insert(id, issue);
    }
}

/// Archives about one issue in a hundred (at least one), never one whose sub-tasks would stay live.
fn archive_a_few_issues<R: Rng>(rng: &mut R, site: &mut Site) {
    let with_subtasks: BTreeSet<u64> = site.issues.values().filter_map(|i| i.parent_id).collect();
    let candidates: Vec<u64> = site
        .issues
        .values()
        .filter(|i| !i.issue_type.is_subtask() && !with_subtasks.contains(&i.id))
        .map(|i| i.id)
        .collect();
    let count = (candidates.len() / 100).max(1).min(candidates.len());
    for id in candidates.choose_multiple(rng, count) {
        if let Some(issue) = site.issues.get_mut(id) {
            issue.archived = true;
        }
    }
}

fn add_comments<R: Rng>(
    rng: &mut R,
    site: &mut Site,
    people: &People,
    issues: &[(u64, usize)],
    count: usize,
) {
    let site_name = site.name.clone();
    let restrictable_roles = [ROLE_DEVELOPERS, ROLE_ADMINISTRATORS, ROLE_VIEWERS, ROLE_USERS];
    let specific_groups = people.specific_groups();
    let mentions: Vec<Vec<Mention>> = (0..TOPICS.len()).map(|t| people.mentions(t)).collect();
    for _ in 0..count {
        let &(issue_id, topic) = text::pick(rng, issues);
        let Some(issue) = site.issues.get(&issue_id) else { continue };
        let project_groups: Vec<String> = site
            .projects
            .get(&issue.project_id)
            .map(|p| p.roles.values().flat_map(|r| r.groups.iter().cloned()).collect())
            .unwrap_or_default();
        let issue_created = issue.created;
        let visibility = if rng.gen_bool(0.15) {
            if rng.gen_bool(0.5) {
                let group = match project_groups.choose(rng) {
                    Some(g) if rng.gen_bool(0.7) => g.clone(),
                    _ => specific_groups.choose(rng).map_or_else(
                        || people.group(Purpose::Confidential).to_string(),
                        |g| (*g).to_string(),
                    ),
                };
                Some(Visibility::Group(group))
            } else {
                Some(Visibility::Role(*text::pick(rng, &restrictable_roles)))
            }
        } else {
            None
        };
        let id = IdSequences::take(&mut site.ids.issue_comment);
        let created = later(rng, issue_created, 60 * DAY);
        let updated = if rng.gen_bool(0.1) { later(rng, created, 5 * DAY) } else { created };
        site.issue_comments.insert(
            id,
            IssueComment {
                id,
                issue_id,
                author: text::pick(rng, people.colleagues(topic)).clone(),
                body: text::adf_comment(rng, &TOPICS[topic], &mentions[topic], &site_name),
                created,
                updated,
                visibility,
                internal: false,
            },
        );
    }
}

fn add_attachments<R: Rng>(
    rng: &mut R,
    site: &mut Site,
    people: &People,
    issues: &[(u64, usize)],
    count: usize,
) {
    let kinds = [
        FileKind::Text,
        FileKind::Text,
        FileKind::Csv,
        FileKind::Pdf,
        FileKind::Pdf,
        FileKind::Docx,
        FileKind::Xlsx,
        FileKind::Markdown,
    ];
    let mut names: BTreeMap<u64, BTreeSet<String>> = BTreeMap::new();
    for _ in 0..count {
        let &(issue_id, topic) = text::pick(rng, issues);
        let Some(issue) = site.issues.get(&issue_id) else { continue };
        let (summary, issue_created) = (issue.summary.clone(), issue.created);
        let kind = *text::pick(rng, &kinds);
        let (filename, body) = text::attachment_text(rng, &TOPICS[topic], kind, &summary);
        let filename = unique_filename(names.entry(issue_id).or_default(), filename);
        let id = IdSequences::take(&mut site.ids.jira_attachment);
        site.jira_attachments.insert(
            id,
            JiraAttachment {
                id,
                issue_id,
                file: FileBody::new(kind, filename, body),
                author: text::pick(rng, people.colleagues(topic)).clone(),
                created: later(rng, issue_created, 30 * DAY),
            },
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn main_projects_of_a_tiny_site_use_every_scheme() {
        let used: BTreeSet<u64> = MAIN_SCHEME[..5].iter().copied().collect();
        assert_eq!(used.len(), 5);
    }

    #[test]
    fn issue_types_fall_back_when_no_parent_exists() {
        let mut rng = <rand_chacha::ChaCha8Rng as rand::SeedableRng>::seed_from_u64(1);
        assert!((0..500).all(|_| issue_type(&mut rng, false) != IssueType::Subtask));
        assert!((0..500).any(|_| issue_type(&mut rng, true) == IssueType::Subtask));
    }
}

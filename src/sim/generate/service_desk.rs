//! The service-management feature: a Jira Service Management service desk with its customers.
//!
//! [`add`] gives the site what a real support desk has:
//!
//! - a company-managed service project (`DESK`) whose permission scheme grants `BROWSE_PROJECTS` to the
//!   support agents (the Developers role: the Jira Service Management access group), to the
//!   `jira-servicedesk` application role and to `sd.customer.portal.only` (the service desk's customers,
//!   through the portal only);
//! - portal-only customer accounts (`accountType: customer`, in no group: no Jira or Confluence access),
//!   one of them deactivated;
//! - customer organisations, all but one added to the service desk, with customers as members (some in
//!   two organisations, some in none);
//! - requests raised mostly by customers (some by agents), a few created in Jira without a request type,
//!   with request participants (customers, sometimes an agent), some shared with one of the reporter's
//!   organisations, a fifth at an issue security level of the desk's own scheme (one level admits the
//!   portal's customers, one the reporter, one agents only);
//! - public replies and internal notes (`jsdPublic: false`, by agents only), and a few attachments.
//!
//! Who may then read what is the oracle's business; this module only builds the model.

use std::collections::{BTreeMap, BTreeSet};

use rand::seq::SliceRandom;
use rand::Rng;

use super::jira::{ROLE_ADMINISTRATORS, ROLE_DEVELOPERS, ROLE_USERS};
use super::topics::TOPICS;
use super::{later, text, uuid, DAY};
use crate::sim::model::*;

/// The service desk's project key.
pub const DESK_KEY: &str = "DESK";
/// Its permission scheme.
const SCHEME_DESK: u64 = 10005;
/// Its issue security scheme and levels.
const SECURITY_DESK: u64 = 10002;
const LEVEL_AGENTS: u64 = 10106;
const LEVEL_CUSTOMERS: u64 = 10107;
const LEVEL_REPORTER: u64 = 10108;
/// The topic whose vocabulary the requests use (Customer Support).
const SUPPORT_TOPIC: usize = 4;
/// Request type ids of the desk's portal.
const REQUEST_TYPES: [u64; 3] = [1, 2, 3];

/// The service-management feature (see the module documentation). `user_count` is the plan's number of
/// users, which sizes the customers and requests.
pub fn add<R: Rng>(rng: &mut R, site: &mut Site, user_count: usize) {
    let agents: Vec<String> = site
        .product_access
        .jira
        .get(super::access::JIRA_SERVICE_MANAGEMENT)
        .into_iter()
        .flat_map(|app| app.groups.iter())
        .filter_map(|g| site.groups.iter().find(|x| &x.id == g))
        .flat_map(|g| g.members.iter().cloned())
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
    let agent_group = site
        .product_access
        .jira
        .get(super::access::JIRA_SERVICE_MANAGEMENT)
        .and_then(|app| app.groups.iter().next().cloned());
    let customers = add_customers(rng, site, (user_count / 8).max(6));
    let organisations = add_organisations(rng, site, &customers);
    add_schemes(site);
    let project_id = site.projects.keys().max().map_or(10_000, |id| id + 1);
    add_project(rng, site, project_id, &agents, agent_group);
    let desk_id = 1;
    let on_desk: BTreeSet<u64> = organisations.iter().skip(1).copied().collect();
    site.service_desks
        .insert(desk_id, ServiceDesk { id: desk_id, project_id, organisations: on_desk.clone() });
    let people = Cast { agents: &agents, customers: &customers, on_desk: &on_desk };
    add_requests(rng, site, project_id, &people, (user_count / 3).max(12));
}

/// Who takes part in the desk's requests.
struct Cast<'a> {
    agents: &'a [String],
    /// Active customers.
    customers: &'a [String],
    /// Organisations added to the service desk.
    on_desk: &'a BTreeSet<u64>,
}

/// Adds `count` portal-only customers, the last one deactivated; returns the active ones.
fn add_customers<R: Rng>(rng: &mut R, site: &mut Site, count: usize) -> Vec<String> {
    let mut active = Vec::new();
    for n in 1..=count {
        let id = loop {
            // Portal-only customers' account ids have their own shape on Atlassian Cloud.
            let candidate = format!("qm:{}:{}", uuid(rng), uuid(rng));
            if site.user(&candidate).is_none() && !active.contains(&candidate) {
                break candidate;
            }
        };
        let is_active = n < count;
        site.users.push(User {
            account_id: id.clone(),
            display_name: format!("Customer {n}"),
            email: format!("customer{n}@client{}.example.org", n % 3),
            email_hidden: n % 4 == 0,
            active: is_active,
            account_type: AccountType::Customer,
        });
        if is_active {
            active.push(id);
        }
    }
    active
}

/// Adds four organisations with customers as members (some in two, some in none); returns their ids.
fn add_organisations<R: Rng>(rng: &mut R, site: &mut Site, customers: &[String]) -> Vec<u64> {
    let names = ["Globex Corporation", "Initech", "Umbrella Retail", "Stark Logistics"];
    let mut ids = Vec::new();
    for name in names {
        let id = IdSequences::take(&mut site.ids.organisation);
        let members: BTreeSet<String> = customers.iter().filter(|_| rng.gen_bool(0.3)).cloned().collect();
        site.organisations.insert(id, Organisation { id, name: name.into(), members });
        ids.push(id);
    }
    ids
}

fn add_schemes(site: &mut Site) {
    let grants = [
        ("BROWSE_PROJECTS", Holder::ProjectRole(ROLE_DEVELOPERS)),
        ("BROWSE_PROJECTS", Holder::ApplicationRole(Some(super::access::JIRA_SERVICE_MANAGEMENT.into()))),
        ("BROWSE_PROJECTS", Holder::CustomerPortal),
        ("CREATE_ISSUES", Holder::CustomerPortal),
        ("ADD_COMMENTS", Holder::CustomerPortal),
        ("ADMINISTER_PROJECTS", Holder::ProjectRole(ROLE_ADMINISTRATORS)),
    ];
    let grants = grants
        .into_iter()
        .map(|(permission, holder)| PermissionGrant {
            id: IdSequences::take(&mut site.ids.grant),
            permission: permission.into(),
            holder,
        })
        .collect();
    site.permission_schemes.insert(
        SCHEME_DESK,
        PermissionScheme {
            id: SCHEME_DESK,
            name: "Service desk scheme".into(),
            description: "Agents see every request; customers see theirs on the portal".into(),
            grants,
        },
    );
    let levels = [
        (LEVEL_AGENTS, "Agents only", vec![Holder::ProjectRole(ROLE_DEVELOPERS)]),
        (
            LEVEL_CUSTOMERS,
            "Customers and agents",
            vec![Holder::CustomerPortal, Holder::ProjectRole(ROLE_DEVELOPERS)],
        ),
        (LEVEL_REPORTER, "Reporter and agents", vec![Holder::Reporter, Holder::ProjectRole(ROLE_DEVELOPERS)]),
    ];
    let levels = levels
        .into_iter()
        .map(|(id, name, holders)| SecurityLevel {
            id,
            name: name.into(),
            description: format!("{name}: who may see requests at this level"),
            members: holders
                .into_iter()
                .map(|holder| LevelMember { id: IdSequences::take(&mut site.ids.level_member), holder })
                .collect(),
        })
        .collect();
    site.security_schemes.insert(
        SECURITY_DESK,
        SecurityScheme {
            id: SECURITY_DESK,
            name: "Service desk levels".into(),
            description: "Service desk levels for sensitive requests".into(),
            default_level_id: None,
            levels,
        },
    );
}

fn add_project<R: Rng>(
    rng: &mut R,
    site: &mut Site,
    project_id: u64,
    agents: &[String],
    agent_group: Option<String>,
) {
    let lead = agents.first().cloned().unwrap_or_else(|| site.admin_account_id.clone());
    let mut roles = BTreeMap::new();
    roles.insert(
        ROLE_ADMINISTRATORS,
        RoleActors { users: BTreeSet::from([lead.clone()]), groups: BTreeSet::new() },
    );
    roles.insert(
        ROLE_DEVELOPERS,
        RoleActors { users: BTreeSet::new(), groups: agent_group.into_iter().collect() },
    );
    roles.insert(ROLE_USERS, RoleActors::default());
    let created = text::START + rng.gen_range(0..20 * DAY);
    site.projects.insert(
        project_id,
        Project {
            id: project_id,
            key: DESK_KEY.into(),
            name: "Customer Service Desk".into(),
            description: "Requests from our customers, answered by the support team.".into(),
            lead,
            permission_scheme_id: SCHEME_DESK,
            security_scheme_id: Some(SECURITY_DESK),
            roles,
            topic: SUPPORT_TOPIC,
            archived: false,
            created,
        },
    );
}

fn add_requests<R: Rng>(rng: &mut R, site: &mut Site, project_id: u64, cast: &Cast<'_>, count: usize) {
    let topic = &TOPICS[SUPPORT_TOPIC];
    let site_name = site.name.clone();
    let start = site.projects.get(&project_id).map_or(text::START, |p| p.created);
    let step = ((text::END - 20 * DAY - start) / count.max(1) as i64).max(1);
    let levels = [LEVEL_AGENTS, LEVEL_CUSTOMERS, LEVEL_REPORTER];
    let admin = site.admin_account_id.clone();
    let mentions = [text::Mention { account_id: &admin, display_name: "Support lead" }];
    let agent = |rng: &mut R| cast.agents.choose(rng).cloned().unwrap_or_else(|| admin.clone());
    for n in 0..count {
        let id = IdSequences::take(&mut site.ids.issue);
        let created = start + step * n as i64 + rng.gen_range(0..step);
        let by_customer = !cast.customers.is_empty() && rng.gen_bool(0.8);
        let reporter = if by_customer { cast.customers.choose(rng).cloned() } else { Some(agent(rng)) };
        let how_many = rng.gen_range(0..=2);
        let mut participants: BTreeSet<String> =
            cast.customers.choose_multiple(rng, how_many).cloned().collect();
        if rng.gen_bool(0.15) {
            participants.insert(agent(rng));
        }
        if let Some(r) = &reporter {
            participants.remove(r);
        }
        let reporter_orgs: Vec<u64> = cast
            .on_desk
            .iter()
            .copied()
            .filter(|o| reporter.as_ref().is_some_and(|r| site.organisations[o].members.contains(r)))
            .collect();
        let organisations: BTreeSet<u64> =
            reporter_orgs.choose(rng).filter(|_| rng.gen_bool(0.6)).copied().into_iter().collect();
        let request_type = (by_customer || rng.gen_bool(0.5)).then(|| *text::pick(rng, &REQUEST_TYPES));
        let security_level_id = rng.gen_bool(0.2).then(|| *text::pick(rng, &levels));
        let updated = later(rng, created, 30 * DAY);
        let issue = Issue {
            id,
            key: format!("{DESK_KEY}-{}", n + 1),
            project_id,
            issue_type: IssueType::Task,
            parent_id: None,
            summary: text::issue_summary(rng, topic, IssueType::Task),
            description: text::adf_description(rng, topic, IssueType::Task, &mentions, &site_name),
            reporter: reporter.clone(),
            assignee: rng.gen_bool(0.7).then(|| agent(rng)),
            security_level_id,
            status: text::pick(rng, &["Waiting for support", "In progress", "Resolved"]).to_string(),
            priority: "Medium".into(),
            labels: Vec::new(),
            created,
            updated,
            archived: false,
        };
        site.issues.insert(id, issue);
        site.requests.insert(id, RequestSharing { request_type, participants, organisations });
        add_conversation(rng, site, id, reporter.as_deref(), created, cast);
    }
}

/// Replies and internal notes on one request, and now and then an attachment.
fn add_conversation<R: Rng>(
    rng: &mut R,
    site: &mut Site,
    issue_id: u64,
    reporter: Option<&str>,
    created: Millis,
    cast: &Cast<'_>,
) {
    let topic = &TOPICS[SUPPORT_TOPIC];
    let site_name = site.name.clone();
    let lead = site.admin_account_id.clone();
    let mentions = [text::Mention { account_id: &lead, display_name: "Support lead" }];
    for _ in 0..rng.gen_range(0..=3) {
        let internal = rng.gen_bool(0.4);
        let author = match reporter {
            Some(r) if !internal && rng.gen_bool(0.4) => r.to_string(),
            _ => cast.agents.choose(rng).cloned().unwrap_or_else(|| site.admin_account_id.clone()),
        };
        let id = IdSequences::take(&mut site.ids.issue_comment);
        let at = later(rng, created, 10 * DAY);
        site.issue_comments.insert(
            id,
            IssueComment {
                id,
                issue_id,
                author,
                body: text::adf_comment(rng, topic, &mentions, &site_name),
                created: at,
                updated: at,
                visibility: None,
                internal,
            },
        );
    }
    if rng.gen_bool(0.15) {
        let (filename, body) = text::attachment_text(rng, topic, FileKind::Text, "request");
        let id = IdSequences::take(&mut site.ids.jira_attachment);
        let author = reporter.map(str::to_string).unwrap_or_else(|| site.admin_account_id.clone());
        site.jira_attachments.insert(
            id,
            JiraAttachment {
                id,
                issue_id,
                file: FileBody::new(FileKind::Text, filename, body),
                author,
                created: later(rng, created, 5 * DAY),
            },
        );
    }
}

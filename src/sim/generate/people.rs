//! The people of the simulated company: users (one of them the site admin) and groups.
//!
//! Every user works in one department (a topic); groups are drawn from a catalogue of realistic names
//! (product-access groups, departments, squads, confidential and cross-cutting groups, one empty group),
//! taken in priority order so small sites get the groups that matter most. This module knows nothing of
//! spaces or projects; it hands the rest of the generator a [`People`] to pick owners and grantees from.

use std::collections::{BTreeMap, BTreeSet};

use rand::seq::SliceRandom;
use rand::Rng;

use super::text::Mention;
use super::topics::{FIRST_NAMES, LAST_NAMES};
use super::uuid;
use crate::sim::model::{AccountType, Group, User};

/// Who belongs to a catalogue group.
#[derive(Debug, Clone, Copy)]
enum Members {
    /// Every account, the admin included: product-access groups.
    Everyone,
    /// Everyone in these departments.
    Departments(&'static [usize]),
    /// A share of one department, plus a share of everyone else.
    DepartmentShare { topic: usize, share: f64, outsiders: f64 },
    /// A share of all accounts except the admin.
    RandomShare(f64),
    /// The admin and one other person.
    Admins,
    /// Nobody: a group kept for history.
    Nobody,
}

/// Purposes the rest of the generator looks groups up by; each falls back to another group when a small
/// site lacks it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Purpose {
    ConfluenceUsers,
    JiraUsers,
    Engineering,
    Confidential,
    Auditors,
    Contractors,
    Managers,
    Admins,
}

struct GroupSpec {
    name: String,
    members: Members,
    purpose: Option<Purpose>,
    /// The department this group stands for, if any.
    department: Option<usize>,
}

/// Squad names per department, for large sites.
const SQUADS: &[(&str, [&str; 5])] = &[
    ("platform", ["observability", "ci-cd", "kubernetes", "networking", "databases"]),
    ("payments", ["checkout", "ledger", "fraud", "payouts", "billing"]),
    ("security", ["appsec", "red-team", "iam", "compliance", "incident-response"]),
    ("hr", ["recruiting", "payroll", "benefits", "learning", "people-partners"]),
    ("support", ["tier1", "escalations", "knowledge-base", "enterprise", "community"]),
    ("marketing", ["brand", "growth", "content", "events", "web"]),
    ("sales", ["emea", "north-america", "apac", "solutions-engineering", "partnerships"]),
    ("legal", ["contracts", "privacy", "ip", "employment", "corporate"]),
    ("data", ["analytics", "ml-platform", "data-engineering", "bi", "experimentation"]),
    ("mobile", ["ios-release", "android-release", "design-system", "qa", "crash-triage"]),
];

/// The group catalogue in priority order: a site with `n` groups has the first `n`.
fn catalogue(site_name: &str) -> Vec<GroupSpec> {
    let spec = |name: &str, members: Members| GroupSpec {
        name: name.to_string(),
        members,
        purpose: None,
        department: None,
    };
    let purpose = |name: String, members: Members, p: Purpose| GroupSpec {
        name,
        members,
        purpose: Some(p),
        department: None,
    };
    let department = |name: &str, topic: usize| GroupSpec {
        name: name.to_string(),
        members: Members::Departments(std::slice::from_ref(&DEPARTMENT_INDEX[topic])),
        purpose: None,
        department: Some(topic),
    };
    let share = |name: &str, topic: usize, share: f64| {
        spec(name, Members::DepartmentShare { topic, share, outsiders: 0.0 })
    };
    let mut groups = vec![
        purpose(format!("confluence-users-{site_name}"), Members::Everyone, Purpose::ConfluenceUsers),
        purpose(format!("jira-software-users-{site_name}"), Members::Everyone, Purpose::JiraUsers),
        purpose("engineering".into(), Members::Departments(&[0, 1, 2, 8, 9]), Purpose::Engineering),
        department("payments-team", 1),
        purpose(
            "hr-confidential".into(),
            Members::DepartmentShare { topic: 3, share: 0.6, outsiders: 0.0 },
            Purpose::Confidential,
        ),
        purpose(
            "security-auditors".into(),
            Members::DepartmentShare { topic: 2, share: 0.5, outsiders: 0.02 },
            Purpose::Auditors,
        ),
        purpose("contractors".into(), Members::RandomShare(0.1), Purpose::Contractors),
        purpose("site-admins".into(), Members::Admins, Purpose::Admins),
        purpose("managers".into(), Members::RandomShare(0.12), Purpose::Managers),
        spec("former-employees", Members::Nobody),
        department("platform-team", 0),
        department("security-team", 2),
        department("people-ops", 3),
        department("customer-support", 4),
        department("marketing", 5),
        department("sales", 6),
        department("legal", 7),
        department("data-science", 8),
        department("mobile-team", 9),
        share("sre", 0, 0.3),
        share("payments-oncall", 1, 0.3),
        share("mobile-ios", 9, 0.5),
        share("mobile-android", 9, 0.5),
        share("support-tier2", 4, 0.3),
        share("legal-privileged", 7, 0.5),
        spec("interns", Members::RandomShare(0.03)),
        spec("leadership", Members::RandomShare(0.02)),
        spec("people-managers", Members::RandomShare(0.1)),
        spec("emea-office", Members::RandomShare(0.4)),
        spec("americas-office", Members::RandomShare(0.35)),
        spec("apac-office", Members::RandomShare(0.25)),
        spec("release-managers", Members::RandomShare(0.02)),
        spec("all-hands-organisers", Members::RandomShare(0.02)),
    ];
    for round in 0..5 {
        for (topic, (prefix, squads)) in SQUADS.iter().enumerate() {
            groups.push(share(&format!("{prefix}-{}", squads[round]), topic, 0.25));
        }
    }
    groups
}

/// Backing storage for one-department `Members::Departments` slices.
static DEPARTMENT_INDEX: [usize; 10] = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9];

/// Users, groups and the lookups the generator needs to pick from them.
pub struct People {
    pub users: Vec<User>,
    pub groups: Vec<Group>,
    pub admin: String,
    /// An account id that belongs to nobody: someone who left and whose account was deleted.
    pub departed: String,
    /// Department of each account.
    pub department_of: BTreeMap<String, usize>,
    /// Active account ids per department.
    pub active_by_topic: Vec<Vec<String>>,
    pub active: Vec<String>,
    pub inactive: Vec<String>,
    /// Group id per purpose, with fallbacks applied.
    purposes: BTreeMap<Purpose, String>,
    /// Group id per department, when the site has a group for it.
    department_groups: Vec<Option<String>>,
    display: BTreeMap<String, String>,
}

impl People {
    /// The group serving a purpose (always present: purposes fall back to a product-access group).
    pub fn group(&self, purpose: Purpose) -> &str {
        self.purposes.get(&purpose).map(String::as_str).unwrap_or_default()
    }

    /// The group standing for a department, if the site has one.
    pub fn department_group(&self, topic: usize) -> Option<&str> {
        self.department_groups.get(topic).and_then(|g| g.as_deref())
    }

    pub fn display_name<'a>(&'a self, account_id: &'a str) -> &'a str {
        self.display.get(account_id).map(String::as_str).unwrap_or(account_id)
    }

    pub fn mention<'a>(&'a self, account_id: &'a str) -> Mention<'a> {
        Mention { account_id, display_name: self.display_name(account_id) }
    }

    /// Active people of a department, or every active person when the department is empty.
    pub fn colleagues(&self, topic: usize) -> &[String] {
        match self.active_by_topic.get(topic) {
            Some(list) if !list.is_empty() => list,
            _ => &self.active,
        }
    }

    /// Mentionable people of a department.
    pub fn mentions(&self, topic: usize) -> Vec<Mention<'_>> {
        self.colleagues(topic).iter().map(|a| self.mention(a)).collect()
    }

    /// Group ids other than the product-access groups, which would make any grant trivially wide.
    pub fn specific_groups(&self) -> Vec<&str> {
        let wide = [self.group(Purpose::ConfluenceUsers), self.group(Purpose::JiraUsers)];
        self.groups.iter().map(|g| g.id.as_str()).filter(|id| !wide.contains(id)).collect()
    }
}

/// An Atlassian-style account id: `557058:uuid`, `712020:uuid` or 24 hex digits.
pub(super) fn account_id<R: Rng>(rng: &mut R) -> String {
    match rng.gen_range(0..5) {
        0 | 1 => format!("557058:{}", uuid(rng)),
        2 | 3 => format!("712020:{}", uuid(rng)),
        _ => format!("{:016x}{:08x}", rng.gen::<u64>(), rng.gen::<u32>()),
    }
}

/// Builds `user_count` users (including the admin) spread over `topics` departments, and the first
/// `group_count` groups of the catalogue.
pub fn people<R: Rng>(
    rng: &mut R,
    site_name: &str,
    topics: usize,
    user_count: usize,
    group_count: usize,
) -> People {
    let topics = topics.max(1);
    let regular = user_count.saturating_sub(1).max(topics);
    let name_pairs = FIRST_NAMES.len() * LAST_NAMES.len();
    let names = rand::seq::index::sample(rng, name_pairs, regular.min(name_pairs));

    let admin = account_id(rng);
    let mut users = vec![User {
        account_id: admin.clone(),
        display_name: "Site Administrator".into(),
        email: format!("admin@{site_name}.example.com"),
        email_hidden: false,
        active: true,
        account_type: AccountType::Atlassian,
    }];
    let mut department_of = BTreeMap::new();
    department_of.insert(admin.clone(), 0);
    for (i, name_index) in names.iter().enumerate() {
        let first = FIRST_NAMES[name_index / LAST_NAMES.len()];
        let last = LAST_NAMES[name_index % LAST_NAMES.len()];
        let id = account_id(rng);
        // The first users go round the departments so every department has people; the rest land anywhere.
        let topic = if i < 2 * topics { i % topics } else { rng.gen_range(0..topics) };
        department_of.insert(id.clone(), topic);
        users.push(User {
            account_id: id,
            display_name: format!("{first} {last}"),
            email: format!("{}.{}@{site_name}.example.com", first.to_lowercase(), last.to_lowercase()),
            email_hidden: rng.gen_bool(0.25),
            active: true,
            account_type: AccountType::Atlassian,
        });
    }
    // Hidden emails and deactivated accounts, at least one of each, never the admin, and never the last
    // active person of a department.
    if !users[1..].iter().any(|u| u.email_hidden) {
        users[1].email_hidden = true;
    }
    let inactive_target = (regular / 16).max(1);
    let mut order: Vec<usize> = (1..users.len()).collect();
    order.shuffle(rng);
    let mut active_per_topic = vec![0usize; topics];
    for u in &users[1..] {
        active_per_topic[department_of[&u.account_id]] += 1;
    }
    let mut deactivated = 0;
    for i in order {
        if deactivated == inactive_target {
            break;
        }
        let topic = department_of[&users[i].account_id];
        if active_per_topic[topic] > 1 {
            users[i].active = false;
            active_per_topic[topic] -= 1;
            deactivated += 1;
        }
    }

    let mut active_by_topic = vec![Vec::new(); topics];
    let mut active = Vec::new();
    let mut inactive = Vec::new();
    for u in &users[1..] {
        if u.active {
            active_by_topic[department_of[&u.account_id]].push(u.account_id.clone());
            active.push(u.account_id.clone());
        } else {
            inactive.push(u.account_id.clone());
        }
    }
    let display: BTreeMap<String, String> =
        users.iter().map(|u| (u.account_id.clone(), u.display_name.clone())).collect();
    let everybody: Vec<String> = users.iter().map(|u| u.account_id.clone()).collect();
    let staff: Vec<String> = users[1..].iter().map(|u| u.account_id.clone()).collect();

    let mut groups = Vec::new();
    let mut purposes = BTreeMap::new();
    let mut department_groups = vec![None; topics];
    for spec in catalogue(site_name).into_iter().take(group_count) {
        let id = uuid(rng);
        let mut members: BTreeSet<String> = BTreeSet::new();
        match spec.members {
            Members::Everyone => members.extend(everybody.iter().cloned()),
            Members::Departments(list) => {
                members.extend(staff.iter().filter(|a| list.contains(&department_of[*a])).cloned())
            }
            Members::DepartmentShare { topic, share, outsiders } => {
                let inside: Vec<&String> = staff.iter().filter(|a| department_of[*a] == topic).collect();
                let take = ((inside.len() as f64 * share).ceil() as usize).min(inside.len());
                members.extend(inside.choose_multiple(rng, take).map(|a| (*a).clone()));
                let outside: Vec<&String> = staff.iter().filter(|a| department_of[*a] != topic).collect();
                let take = ((outside.len() as f64 * outsiders).ceil() as usize).min(outside.len());
                members.extend(outside.choose_multiple(rng, take).map(|a| (*a).clone()));
            }
            Members::RandomShare(share) => {
                let take = ((staff.len() as f64 * share).ceil() as usize).clamp(1, staff.len());
                members.extend(staff.choose_multiple(rng, take).cloned());
            }
            Members::Admins => {
                members.insert(admin.clone());
                if let Some(other) = staff.choose(rng) {
                    members.insert(other.clone());
                }
            }
            Members::Nobody => {}
        }
        if let Some(p) = spec.purpose {
            purposes.insert(p, id.clone());
        }
        if let Some(t) = spec.department.filter(|t| *t < topics) {
            department_groups[t] = Some(id.clone());
        }
        groups.push(Group { id, name: spec.name, members });
    }
    // Small sites lack some groups: point those purposes at the nearest group that exists.
    let fallbacks = [
        (Purpose::JiraUsers, Purpose::ConfluenceUsers),
        (Purpose::Engineering, Purpose::JiraUsers),
        (Purpose::Confidential, Purpose::Engineering),
        (Purpose::Auditors, Purpose::Confidential),
        (Purpose::Contractors, Purpose::Auditors),
        (Purpose::Managers, Purpose::Confidential),
        (Purpose::Admins, Purpose::Engineering),
    ];
    for (missing, fallback) in fallbacks {
        if !purposes.contains_key(&missing) {
            if let Some(id) = purposes.get(&fallback).cloned() {
                purposes.insert(missing, id);
            }
        }
    }
    let departed = loop {
        let candidate = account_id(rng);
        if !display.contains_key(&candidate) {
            break candidate;
        }
    };
    People {
        users,
        groups,
        admin,
        departed,
        department_of,
        active_by_topic,
        active,
        inactive,
        purposes,
        department_groups,
        display,
    }
}

#[cfg(test)]
mod tests {
    use rand::SeedableRng;
    use rand_chacha::ChaCha8Rng;

    use super::*;

    #[test]
    fn sizes_and_shapes_follow_the_request() {
        for (topics, users, groups) in [(5, 12, 5), (10, 60, 10), (10, 300, 25), (10, 2000, 80)] {
            let mut rng = ChaCha8Rng::seed_from_u64(users as u64);
            let p = people(&mut rng, "acme", topics, users, groups);
            assert_eq!(p.users.len(), users);
            assert_eq!(p.groups.len(), groups);
            let ids: BTreeSet<&str> = p.users.iter().map(|u| u.account_id.as_str()).collect();
            assert_eq!(ids.len(), users, "account ids unique");
            let names: BTreeSet<&str> = p.users.iter().map(|u| u.display_name.as_str()).collect();
            assert_eq!(names.len(), users, "display names unique");
            let group_names: BTreeSet<&str> = p.groups.iter().map(|g| g.name.as_str()).collect();
            assert_eq!(group_names.len(), groups);
            assert!(p.users.iter().any(|u| !u.active) && p.users.iter().any(|u| u.email_hidden));
            assert!(!ids.contains(p.departed.as_str()));
            assert!(p.active_by_topic.iter().all(|t| !t.is_empty()), "every department has active people");
            for g in &p.groups {
                assert!(g.members.iter().all(|m| ids.contains(m.as_str())), "{} has unknown members", g.name);
            }
            for purpose in
                [Purpose::ConfluenceUsers, Purpose::Confidential, Purpose::Auditors, Purpose::Admins]
            {
                assert!(p.groups.iter().any(|g| g.id == p.group(purpose)), "{purpose:?}");
            }
            assert_eq!(p.users.iter().filter(|u| u.email.starts_with("admin@")).count(), 1);
        }
    }
}

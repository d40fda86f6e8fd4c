//! Product access: which groups let their members use Jira's applications and Confluence.
//!
//! [`product_access`] describes the original site, where everyone uses everything: its
//! `confluence-users-{site}` and `jira-software-users-{site}` groups hold every account, and product access
//! is not enforced. [`add`] is the product-access feature: access groups decide, as on real sites, and the
//! site gets what real sites have:
//!
//! - three Jira applications with site-suffixed access groups: Jira Software (the original group), Jira
//!   Service Management (`jira-servicedesk-users-{site}`: the support department and the admin) and Jira
//!   Product Discovery (`jira-product-discovery-users-{site}`);
//! - Confluence-only accounts (out of every Jira group), accounts whose only Jira is Product Discovery, and
//!   Jira-only accounts (out of the Confluence group);
//! - Confluence guests: new accounts in `confluence-guests-{site}`, each granted one space by name;
//! - `applicationRole` grants of `BROWSE_PROJECTS` without a key (any Jira application) and with the
//!   `jira-servicedesk` key.
//!
//! Who may then read what is the oracle's business; this module only builds the model.

use std::collections::BTreeSet;

use rand::seq::SliceRandom;
use rand::Rng;

use super::people::{account_id, People, Purpose};
use super::uuid;
use crate::sim::model::*;

pub const JIRA_SOFTWARE: &str = "jira-software";
pub const JIRA_SERVICE_MANAGEMENT: &str = "jira-servicedesk";
pub const JIRA_PRODUCT_DISCOVERY: &str = "jira-product-discovery";

/// The permission schemes that get application-role grants (see `jira.rs`).
const SCHEME_OPEN: u64 = 10001;
const SCHEME_REPORTER: u64 = 10004;

/// The original site's product access: not enforced, with the groups that would grant it.
pub fn product_access(people: &People) -> ProductAccess {
    let group = |p: Purpose| BTreeSet::from([people.group(p).to_string()]);
    let software = application(JIRA_SOFTWARE, "Jira Software", group(Purpose::JiraUsers));
    ProductAccess {
        rule: AccessRule::Everyone,
        jira: [(software.key.clone(), software)].into(),
        confluence_users: group(Purpose::ConfluenceUsers),
        confluence_guests: BTreeSet::new(),
    }
}

fn application(key: &str, name: &str, groups: BTreeSet<String>) -> Application {
    Application { key: key.into(), name: name.into(), default_groups: groups.clone(), groups }
}

/// The product-access feature (see the module documentation). `user_count` is the plan's number of users,
/// which sizes the number of guests.
pub fn add<R: Rng>(rng: &mut R, site: &mut Site, user_count: usize) {
    let admin = site.admin_account_id.clone();
    let software_group = first(&site.product_access.jira[JIRA_SOFTWARE].groups);
    let confluence_group = first(&site.product_access.confluence_users);
    let mut staff: Vec<String> = site
        .users
        .iter()
        .filter(|u| u.active && u.account_id != admin && u.account_type == AccountType::Atlassian)
        .map(|u| u.account_id.clone())
        .collect();
    staff.shuffle(rng);
    let share = |fraction: f64| ((staff.len() as f64 * fraction).ceil() as usize).max(1);
    let (confluence_only, rest) = staff.split_at(share(0.15).min(staff.len()));
    let (discovery_only, rest) = rest.split_at(share(0.05).min(rest.len()));
    let (jira_only, _) = rest.split_at(share(0.08).min(rest.len()));

    let mut leave = |group_id: &str, accounts: &[String]| {
        if let Some(group) = site.groups.iter_mut().find(|g| g.id == group_id) {
            for account in accounts {
                group.members.remove(account);
            }
        }
    };
    // On the smallest sites one group may serve both products; it then stays as it is.
    if software_group != confluence_group {
        leave(&software_group, confluence_only);
        leave(&software_group, discovery_only);
        leave(&confluence_group, jira_only);
    }

    let name = site.name.clone();
    let support: BTreeSet<String> = site
        .users
        .iter()
        .filter(|u| u.active && u.account_id != admin)
        .map(|u| u.account_id.clone())
        .filter(|a| !confluence_only.contains(a) && !discovery_only.contains(a))
        .filter(|_| rng.gen_bool(0.2))
        .chain([admin.clone()])
        .collect();
    let agents = new_group(rng, site, &format!("jira-servicedesk-users-{name}"), support);
    let mut discoverers: BTreeSet<String> = discovery_only.iter().cloned().collect();
    discoverers.extend(staff.iter().filter(|a| !confluence_only.contains(a)).take(2).cloned());
    let discovery = new_group(rng, site, &format!("jira-product-discovery-users-{name}"), discoverers);

    let guests = add_guests(rng, site, (user_count / 30).max(1));
    let guest_group = new_group(rng, site, &format!("confluence-guests-{name}"), guests);

    let access = &mut site.product_access;
    access.rule = AccessRule::Groups;
    for app in [
        application(JIRA_SERVICE_MANAGEMENT, "Jira Service Management", BTreeSet::from([agents])),
        application(JIRA_PRODUCT_DISCOVERY, "Jira Product Discovery", BTreeSet::from([discovery])),
    ] {
        access.jira.insert(app.key.clone(), app);
    }
    access.confluence_guests.insert(guest_group);

    let grants = [
        (SCHEME_OPEN, Holder::ApplicationRole(None)),
        (SCHEME_REPORTER, Holder::ApplicationRole(Some(JIRA_SERVICE_MANAGEMENT.into()))),
    ];
    for (scheme_id, holder) in grants {
        let id = IdSequences::take(&mut site.ids.grant);
        if let Some(scheme) = site.permission_schemes.get_mut(&scheme_id) {
            scheme.grants.push(PermissionGrant { id, permission: "BROWSE_PROJECTS".into(), holder });
        }
    }
}

fn first(groups: &BTreeSet<String>) -> String {
    groups.iter().next().cloned().unwrap_or_default()
}

/// Adds a group with these members; returns its id.
fn new_group<R: Rng>(rng: &mut R, site: &mut Site, name: &str, members: BTreeSet<String>) -> String {
    let id = uuid(rng);
    site.groups.push(Group { id: id.clone(), name: name.into(), members });
    id
}

/// Adds `count` guest accounts, each granted `read` on one current global space by name; returns them.
fn add_guests<R: Rng>(rng: &mut R, site: &mut Site, count: usize) -> BTreeSet<String> {
    let spaces: Vec<u64> = site
        .spaces
        .values()
        .filter(|s| s.kind == SpaceKind::Global && s.status == Status::Current)
        .map(|s| s.id)
        .collect();
    let mut guests = BTreeSet::new();
    for n in 1..=count {
        let id = loop {
            let candidate = account_id(rng);
            if site.user(&candidate).is_none() && !guests.contains(&candidate) {
                break candidate;
            }
        };
        site.users.push(User {
            account_id: id.clone(),
            display_name: format!("Guest {n} (partner)"),
            email: format!("guest{n}@partner.example.com"),
            email_hidden: n % 2 == 0,
            active: true,
            account_type: AccountType::Atlassian,
        });
        if let Some(&space_id) = spaces.choose(rng) {
            let permission_id = IdSequences::take(&mut site.ids.space_permission);
            if let Some(space) = site.spaces.get_mut(&space_id) {
                space.permissions.push(SpacePermission {
                    id: permission_id,
                    principal: SpacePrincipal::User(id.clone()),
                    operation: "read".into(),
                    target: "space".into(),
                });
            }
        }
        guests.insert(id);
    }
    guests
}

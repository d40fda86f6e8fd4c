//! The space-roles feature: role-based space access, as Confluence sites moving to roles have it.
//!
//! The site is put in `ROLES_TRANSITION` mode with the four system roles (Admin, Manager, Collaborator,
//! Viewer) and a custom "Auditor" role. Most global spaces get role assignments besides the space
//! permissions they keep: a department group as collaborators, a person as manager, sometimes every
//! licensed user or anonymous users as viewers, and (on one space each) classes the oracle does not model
//! (`authenticated-users`, `all-product-admins`, which admit nobody there). A few spaces lose their
//! `read` space permissions altogether, so only their roles say who may view them.

use std::collections::BTreeSet;

use rand::seq::SliceRandom;
use rand::Rng;

use super::uuid;
use crate::sim::model::*;

fn role(rng: &mut impl Rng, name: &str, system: bool, permissions: &[&str]) -> SpaceRole {
    SpaceRole {
        id: uuid(rng),
        name: name.into(),
        description: format!("{name} of the space"),
        system,
        permissions: permissions.iter().map(|p| p.to_string()).collect(),
    }
}

/// Adds the space roles of the feature to `site`.
pub fn add<R: Rng>(rng: &mut R, site: &mut Site) {
    let viewer = [VIEW_SPACE, "create/comment"];
    let collaborator = [VIEW_SPACE, "create/page", "create/blogpost", "create/comment", "create/attachment"];
    let all: Vec<&str> = SPACE_PERMISSIONS.iter().map(|(id, _, _)| *id).collect();
    let roles = vec![
        role(rng, "Admin", true, &all),
        role(rng, "Manager", true, &all[..all.len() - 1]),
        role(rng, "Collaborator", true, &collaborator),
        role(rng, "Viewer", true, &viewer),
        role(rng, "Auditor", false, &[VIEW_SPACE, "export/space"]),
    ];
    let id_of = |name: &str| roles.iter().find(|r| r.name == name).map(|r| r.id.clone()).unwrap_or_default();
    let (manager, collaborator, viewer, auditor) =
        (id_of("Manager"), id_of("Collaborator"), id_of("Viewer"), id_of("Auditor"));

    let people: Vec<String> = site.users.iter().filter(|u| u.active).map(|u| u.account_id.clone()).collect();
    let groups: Vec<String> = site.groups.iter().map(|g| g.id.clone()).collect();
    let mut spaces: Vec<u64> =
        site.spaces.values().filter(|s| s.kind == SpaceKind::Global).map(|s| s.id).collect();
    spaces.shuffle(rng);
    let classes_unmodelled = ["authenticated-users", "all-product-admins"];
    let mut assignments = std::collections::BTreeMap::new();
    for (n, &space_id) in spaces.iter().enumerate() {
        if n > 0 && rng.gen_bool(0.3) {
            continue;
        }
        let mut on_space = Vec::new();
        let assign =
            |principal: RolePrincipal, role_id: &str| RoleAssignment { principal, role_id: role_id.into() };
        if let Some(g) = groups.choose(rng) {
            on_space.push(assign(RolePrincipal::Group(g.clone()), &collaborator));
        }
        if let Some(p) = people.choose(rng) {
            on_space.push(assign(RolePrincipal::User(p.clone()), &manager));
        }
        match n % 6 {
            0 => on_space.push(assign(RolePrincipal::AccessClass("all-licensed-users".into()), &viewer)),
            1 => on_space.push(assign(RolePrincipal::AccessClass("anonymous-users".into()), &viewer)),
            2 | 3 => {
                let class = classes_unmodelled[n % 2];
                on_space.push(assign(RolePrincipal::AccessClass(class.into()), &viewer));
            }
            _ => {
                if let Some(p) = people.choose(rng) {
                    on_space.push(assign(RolePrincipal::User(p.clone()), &auditor));
                }
            }
        }
        // Some spaces keep only their roles: nothing but the roles says who may view them.
        if n % 4 == 3 {
            if let Some(space) = site.spaces.get_mut(&space_id) {
                space.permissions.retain(|p| p.operation != "read");
            }
        }
        assignments.insert(space_id, on_space);
    }
    let assigned: BTreeSet<u64> = assignments.keys().copied().collect();
    tracing::debug!(spaces = assigned.len(), "space roles assigned");
    site.space_roles = SpaceRoles { mode: RoleMode::Transition, roles, assignments };
}

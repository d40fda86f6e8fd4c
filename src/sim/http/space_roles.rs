//! The simulated Confluence REST v2 role-based space access: `GET /space-role-mode`, `GET /space-roles`
//! (filtered by `space-id`, `role-type`, `principal-id` with `principal-type`), `GET /space-roles/{id}`,
//! `GET /spaces/{id}/role-assignments` (filtered by `role-id`, `role-type`, `principal-id` with
//! `principal-type`) and `GET /space-permissions` (what a role can hold).
//!
//! The mode is always answered; on a site still in `PRE_ROLES` mode the other calls answer 404, as on
//! tenants without roles. Deliberately absent: writes and the transition tasks.

use std::collections::BTreeSet;

use axum::extract::{Path, State};
use axum::response::IntoResponse;
use axum::routing::get;
use axum::{Json, Router};

use super::confluence_v2::{
    cursor_after, listing, path_id, take_page, Answer, Ctx, Params, Problem, DEFAULT_LIMIT, MAX_LIMIT,
};
use super::SimState;
use crate::atlassian::wire::confluence::v2;
use crate::sim::model::{RoleMode, RolePrincipal, Site, SpaceRole, SPACE_PERMISSIONS};

pub fn routes() -> Router<SimState> {
    Router::new()
        .route("/wiki/api/v2/space-role-mode", get(mode))
        .route("/wiki/api/v2/space-roles", get(list_roles))
        .route("/wiki/api/v2/space-roles/{id}", get(get_role))
        .route("/wiki/api/v2/spaces/{id}/role-assignments", get(list_assignments))
        .route("/wiki/api/v2/space-permissions", get(list_permissions))
}

async fn mode(State(state): State<SimState>) -> Answer {
    let mode = state.read().space_roles.mode;
    Ok(Json(v2::SpaceRoleMode { mode: mode.as_str().into() }).into_response())
}

/// The 404 of a site without roles.
fn roles_enabled(site: &Site) -> Result<(), Problem> {
    match site.space_roles.mode {
        RoleMode::PreRoles => Err(Problem::not_found("role-based space access is not enabled on this site")),
        RoleMode::Transition | RoleMode::Roles => Ok(()),
    }
}

fn role_type(role: &SpaceRole) -> &'static str {
    if role.system {
        "SYSTEM"
    } else {
        "CUSTOM"
    }
}

fn role_json(role: &SpaceRole) -> v2::SpaceRole {
    v2::SpaceRole {
        id: role.id.clone(),
        kind: Some(role_type(role).into()),
        name: role.name.clone(),
        description: Some(role.description.clone()),
        space_permissions: role.permissions.iter().cloned().collect(),
        links: None,
    }
}

fn principal_json(principal: &RolePrincipal) -> v2::RolePrincipal {
    let (kind, id) = match principal {
        RolePrincipal::User(id) => ("USER", id),
        RolePrincipal::Group(id) => ("GROUP", id),
        RolePrincipal::AccessClass(id) => ("ACCESS_CLASS", id),
    };
    v2::RolePrincipal { principal_type: kind.into(), principal_id: id.clone() }
}

/// The `principal-type` and `principal-id` filter: both or neither.
fn principal_filter(params: &Params) -> Result<Option<v2::RolePrincipal>, Problem> {
    match (params.first("principal-type"), params.first("principal-id")) {
        (None, None) => Ok(None),
        (Some(kind), Some(id)) if ["USER", "GROUP", "ACCESS_CLASS"].contains(&kind) => {
            Ok(Some(v2::RolePrincipal { principal_type: kind.into(), principal_id: id.into() }))
        }
        (Some(kind), Some(_)) => {
            Err(Problem::bad_request(format!("principal-type {kind:?} is not USER, GROUP or ACCESS_CLASS")))
        }
        _ => Err(Problem::bad_request("principal-id and principal-type go together")),
    }
}

/// One page over items listed in a fixed order, by their position (the cursor is the last position served).
fn positional_page<T: Clone>(ctx: &Ctx, items: &[T]) -> Result<(Vec<T>, Option<String>), Problem> {
    let limit = ctx.params.limit(DEFAULT_LIMIT, MAX_LIMIT)?;
    let start = cursor_after(&ctx.params)?.map_or(0, |a| a.saturating_add(1));
    let (positions, next) = take_page(start..items.len() as u64, limit);
    Ok((positions.iter().filter_map(|&p| items.get(p as usize).cloned()).collect(), next))
}

async fn list_roles(State(state): State<SimState>, ctx: Ctx) -> Answer {
    let p = &ctx.params;
    let site = state.read();
    roles_enabled(&site)?;
    let kind = p.first("role-type");
    let principal = principal_filter(p)?;
    let space = match p.first("space-id") {
        Some(raw) => Some(path_id(raw)?),
        None => None,
    };
    // With a space or a principal, the roles assigned there (to them).
    let assigned: Option<BTreeSet<&str>> = (space.is_some() || principal.is_some()).then(|| {
        site.space_roles
            .assignments
            .iter()
            .filter(|(id, _)| space.is_none_or(|s| s == **id))
            .flat_map(|(_, list)| list.iter())
            .filter(|a| principal.as_ref().is_none_or(|want| principal_json(&a.principal) == *want))
            .map(|a| a.role_id.as_str())
            .collect()
    });
    let roles: Vec<v2::SpaceRole> = site
        .space_roles
        .roles
        .iter()
        .filter(|r| kind.is_none_or(|k| k == role_type(r)))
        .filter(|r| assigned.as_ref().is_none_or(|ids| ids.contains(r.id.as_str())))
        .map(role_json)
        .collect();
    let (results, next) = positional_page(&ctx, &roles)?;
    Ok(listing(&ctx, results, next))
}

async fn get_role(State(state): State<SimState>, Path(id): Path<String>, ctx: Ctx) -> Answer {
    let site = state.read();
    roles_enabled(&site)?;
    let role = site
        .space_roles
        .roles
        .iter()
        .find(|r| r.id == id)
        .ok_or_else(|| Problem::not_found(format!("no space role {id}")))?;
    let mut json = role_json(role);
    json.links = Some(v2::EntityLinks { base: Some(ctx.base()), ..Default::default() });
    Ok(Json(json).into_response())
}

async fn list_assignments(State(state): State<SimState>, Path(id): Path<String>, ctx: Ctx) -> Answer {
    let id = path_id(&id)?;
    let p = &ctx.params;
    let site = state.read();
    roles_enabled(&site)?;
    if !site.spaces.contains_key(&id) {
        return Err(Problem::not_found(format!("no space with id {id}")).into());
    }
    let principal = principal_filter(p)?;
    let (role_id, kind) = (p.first("role-id"), p.first("role-type"));
    let role_of = |rid: &str| site.space_roles.roles.iter().find(|r| r.id == rid);
    let assignments: Vec<v2::SpaceRoleAssignment> = site
        .space_roles
        .assignments
        .get(&id)
        .into_iter()
        .flatten()
        .filter(|a| role_id.is_none_or(|r| r == a.role_id))
        .filter(|a| kind.is_none_or(|k| role_of(&a.role_id).is_some_and(|r| role_type(r) == k)))
        .map(|a| v2::SpaceRoleAssignment {
            principal: principal_json(&a.principal),
            role_id: a.role_id.clone(),
        })
        .filter(|a| principal.as_ref().is_none_or(|want| a.principal == *want))
        .collect();
    let (results, next) = positional_page(&ctx, &assignments)?;
    Ok(listing(&ctx, results, next))
}

async fn list_permissions(State(state): State<SimState>, ctx: Ctx) -> Answer {
    roles_enabled(&state.read())?;
    let all: Vec<v2::SpacePermissionDefinition> = SPACE_PERMISSIONS
        .iter()
        .map(|(id, name, requires)| v2::SpacePermissionDefinition {
            id: id.to_string(),
            display_name: Some(name.to_string()),
            description: Some(format!("{name} in the space")),
            required_permission_ids: requires.iter().map(|r| r.to_string()).collect(),
        })
        .collect();
    let (results, next) = positional_page(&ctx, &all)?;
    Ok(listing(&ctx, results, next))
}

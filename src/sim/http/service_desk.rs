//! The simulated Jira Service Management REST API (`/rest/servicedeskapi`): the reads a permission-aware
//! crawler needs to know who a request's customers are.
//!
//! `GET /servicedesk` (the service desks and their projects), `GET /servicedesk/{id}/organization` (the
//! organisations added to a desk) and `GET /organization/{id}/user` (an organisation's members), each
//! paged with `start` and `limit` in the API's own envelope `{size, start, limit, isLastPage, values,
//! _links}`. A request's participants and organisations are not served here: the crawler reads them from
//! the custom fields (`jira.rs`), one bulk fetch instead of a call per request.
//!
//! The caller is always the site admin, who may read every desk and organisation. Deliberately absent:
//! writes, customers (`/servicedesk/{id}/customer`), request types, queues, the request resource.

use axum::extract::{Path, RawQuery, State};
use axum::http::HeaderMap;
use axum::routing::get;
use axum::Router;
use serde::Serialize;

use super::jira::{bad_request, base_url, not_found, ok_json, Answer, Params};
use super::SimState;
use crate::atlassian::wire::jira as wire;
use crate::sim::model::Site;

const API: &str = "/rest/servicedeskapi";
/// The API's default and largest page.
const PAGE_DEFAULT: usize = 50;
const PAGE_MAX: usize = 100;

pub fn routes() -> Router<SimState> {
    Router::new()
        .route(&format!("{API}/servicedesk"), get(service_desks))
        .route(&format!("{API}/servicedesk/{{id}}/organization"), get(desk_organisations))
        .route(&format!("{API}/organization/{{id}}/user"), get(organisation_users))
}

/// `start` and `limit`, defaulted and capped.
fn page_of(params: &Params) -> Result<(usize, usize), super::jira::JiraError> {
    let start = params.number("start")?.unwrap_or(0).max(0) as usize;
    let limit = params.number("limit")?.map_or(PAGE_DEFAULT, |n| n.clamp(1, PAGE_MAX as i64) as usize);
    Ok((start, limit))
}

/// One page of `items` in the service desk API's envelope.
fn paged<T: Clone + Serialize>(items: &[T], start: usize, limit: usize, base: &str, path: &str) -> Answer {
    let values: Vec<T> = items.iter().skip(start).take(limit).cloned().collect();
    let last = start + values.len() >= items.len();
    let link = |start: usize| format!("{base}{path}?start={start}&limit={limit}");
    let page = wire::PagedDto {
        size: Some(values.len() as u64),
        start: Some(start as u64),
        limit: Some(limit as u64),
        is_last_page: Some(last),
        values,
        links: Some(wire::PagedLinks {
            base: Some(base.to_string()),
            context: Some(String::new()),
            self_url: Some(link(start)),
            next: (!last).then(|| link(start + limit)),
            prev: (start > 0).then(|| link(start.saturating_sub(limit))),
        }),
    };
    ok_json(&page)
}

/// A desk or organisation id from the path: a number, as the API's ids are.
fn path_id(raw: &str, what: &str) -> Result<u64, super::jira::JiraError> {
    raw.parse().map_err(|_| bad_request(&format!("The {what} id '{raw}' is not valid.")))
}

async fn service_desks(State(state): State<SimState>, headers: HeaderMap, RawQuery(raw): RawQuery) -> Answer {
    let (start, limit) = page_of(&Params::parse(raw))?;
    let site = state.read();
    let base = base_url(&headers);
    let desks: Vec<wire::ServiceDesk> = site
        .service_desks
        .values()
        .filter_map(|desk| {
            let project = site.projects.get(&desk.project_id)?;
            Some(wire::ServiceDesk {
                id: desk.id.to_string(),
                project_id: project.id.to_string(),
                project_name: Some(project.name.clone()),
                project_key: Some(project.key.clone()),
                links: Some(wire::SelfLink {
                    self_url: Some(format!("{base}{API}/servicedesk/{}", desk.id)),
                }),
            })
        })
        .collect();
    paged(&desks, start, limit, &base, &format!("{API}/servicedesk"))
}

fn organisation(site: &Site, base: &str, id: u64) -> Option<wire::Organization> {
    let org = site.organisations.get(&id)?;
    Some(wire::Organization {
        id: org.id.to_string(),
        name: Some(org.name.clone()),
        links: Some(wire::SelfLink { self_url: Some(format!("{base}{API}/organization/{}", org.id)) }),
    })
}

async fn desk_organisations(
    State(state): State<SimState>,
    headers: HeaderMap,
    Path(id): Path<String>,
    RawQuery(raw): RawQuery,
) -> Answer {
    let (start, limit) = page_of(&Params::parse(raw))?;
    let desk_id = path_id(&id, "service desk")?;
    let site = state.read();
    let base = base_url(&headers);
    let desk = site.service_desks.get(&desk_id).ok_or_else(|| not_found("Service Desk does not exist."))?;
    let orgs: Vec<wire::Organization> =
        desk.organisations.iter().filter_map(|o| organisation(&site, &base, *o)).collect();
    paged(&orgs, start, limit, &base, &format!("{API}/servicedesk/{desk_id}/organization"))
}

async fn organisation_users(
    State(state): State<SimState>,
    headers: HeaderMap,
    Path(id): Path<String>,
    RawQuery(raw): RawQuery,
) -> Answer {
    let (start, limit) = page_of(&Params::parse(raw))?;
    let org_id = path_id(&id, "organization")?;
    let site = state.read();
    let base = base_url(&headers);
    let org = site.organisations.get(&org_id).ok_or_else(|| not_found("Organization does not exist."))?;
    let users: Vec<wire::ServiceDeskUser> = org
        .members
        .iter()
        .map(|account| {
            let user = site.user(account);
            wire::ServiceDeskUser {
                account_id: account.clone(),
                email_address: user.filter(|u| !u.email_hidden).map(|u| u.email.clone()),
                display_name: Some(
                    user.map_or_else(|| "Former user".to_string(), |u| u.display_name.clone()),
                ),
                active: Some(user.is_some_and(|u| u.active)),
                time_zone: None,
                links: Some(wire::SelfLink {
                    self_url: Some(format!("{base}/rest/api/3/user?accountId={account}")),
                }),
            }
        })
        .collect();
    paged(&users, start, limit, &base, &format!("{API}/organization/{org_id}/user"))
}

//! The simulator's own `/_sim/` routes: what tests need to know or change about the running site
//! beyond what Atlassian's API tells a crawler.
//!
//! - `GET /_sim/users`: every account with its active flag and group ids.
//! - `GET /_sim/oracle?accountId=ID[&includeArchived=true]`: the ids of everything that account may
//!   read, by Atlassian's rules ([`oracle::visible`]), for comparison with what an index returns.
//! - `POST /_sim/mutate`: apply one [`Mutation`] or an array of them, in order.
//! - `GET /_sim/stats`: the guard's counters (requests, 429s, faults per kind).
//! - `GET /_sim/faults`, `POST /_sim/faults`: read or replace the fault settings (with the first-call
//!   refusal) and the rate limit.
//! - `POST /_sim/tokens` with `{"accountId": …}`: an API token for that account, which signs in without
//!   admin rights (admin-only calls such as `GET /rest/api/3/applicationrole` answer it 403).
//!
//! They take the same Basic credential as the API but are never rate limited or faulty: they are
//! the test's view of the site, not part of the site under test.

use std::time::Duration;

use axum::extract::rejection::QueryRejection;
use axum::extract::{FromRequestParts, Query, State};
use axum::http::request::Parts;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::{Deserialize, Serialize};
use serde_json::json;

use super::common::{self, Product};
use super::{guard, SimState};
use crate::sim::mutate::{self, Mutation};
use crate::sim::oracle::{self, Scope};
use crate::sim::{FaultConfig, FirstCallRefusal, RateLimitConfig};

pub fn routes() -> Router<SimState> {
    Router::new()
        .route("/_sim/users", get(users))
        .route("/_sim/oracle", get(visible_to))
        .route("/_sim/mutate", post(mutate))
        .route("/_sim/stats", get(stats))
        .route("/_sim/faults", get(faults).post(set_faults))
        .route("/_sim/tokens", post(issue_token))
}

/// Proof that a request carried the simulator's credential; handlers that take it are authenticated.
pub struct Admin;

impl FromRequestParts<SimState> for Admin {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &SimState) -> Result<Self, Response> {
        if guard::is_authorized(&parts.headers, &state.credentials) {
            Ok(Admin)
        } else {
            Err(guard::unauthorized(Product::Jira))
        }
    }
}

fn bad_request(message: impl std::fmt::Display) -> Response {
    common::json_response(StatusCode::BAD_REQUEST, json!({"error": message.to_string()}))
}

async fn users(_: Admin, State(state): State<SimState>) -> Response {
    let site = state.read();
    let users: Vec<_> = site
        .users
        .iter()
        .map(|u| {
            json!({
                "accountId": u.account_id,
                "displayName": u.display_name,
                "active": u.active,
                "groups": site.groups_of(&u.account_id).collect::<Vec<_>>(),
            })
        })
        .collect();
    Json(json!({ "users": users })).into_response()
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct OracleQuery {
    account_id: Option<String>,
    #[serde(default)]
    include_archived: bool,
}

async fn visible_to(
    _: Admin,
    State(state): State<SimState>,
    query: Result<Query<OracleQuery>, QueryRejection>,
) -> Response {
    let query = match query {
        Ok(Query(q)) => q,
        Err(e) => return bad_request(format!("bad oracle query: {e}")),
    };
    let Some(account_id) = query.account_id.filter(|id| !id.is_empty()) else {
        return bad_request("accountId is required");
    };
    let scope = Scope { include_archived: query.include_archived };
    // Working out every item's visibility is CPU work over the whole site: off the async workers.
    let ids = tokio::task::spawn_blocking(move || {
        let site = state.read();
        oracle::visible(&site, &account_id, scope)
    })
    .await;
    match ids {
        Ok(ids) => {
            Json(json!({ "visible": ids.iter().map(|id| id.0.as_str()).collect::<Vec<_>>() })).into_response()
        }
        Err(e) => {
            tracing::error!(error = %e, "oracle task failed");
            common::json_response(StatusCode::INTERNAL_SERVER_ERROR, json!({"error": "oracle failed"}))
        }
    }
}

/// `POST /_sim/mutate` takes one mutation or an array of them.
#[derive(Debug, Deserialize)]
#[serde(untagged)]
enum MutationBatch {
    Many(Vec<Mutation>),
    One(Mutation),
}

async fn mutate(_: Admin, State(state): State<SimState>, body: axum::body::Bytes) -> Response {
    let batch = match serde_json::from_slice::<MutationBatch>(&body) {
        Ok(MutationBatch::Many(many)) => many,
        Ok(MutationBatch::One(one)) => vec![one],
        Err(e) => return bad_request(format!("bad mutation: {e}")),
    };
    let mut site = state.write();
    for (applied, mutation) in batch.iter().enumerate() {
        if let Err(e) = mutate::apply(&mut site, mutation) {
            // Mutations are applied in order and not rolled back: say how many took effect.
            return common::json_response(
                StatusCode::BAD_REQUEST,
                json!({"error": e.to_string(), "applied": applied}),
            );
        }
    }
    Json(json!({ "applied": batch.len() })).into_response()
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct TokenRequest {
    account_id: String,
}

async fn issue_token(_: Admin, State(state): State<SimState>, body: axum::body::Bytes) -> Response {
    let request: TokenRequest = match serde_json::from_slice(&body) {
        Ok(r) => r,
        Err(e) => return bad_request(format!("bad token request: {e}")),
    };
    match state.issue_token(&request.account_id) {
        Some(credentials) => {
            Json(json!({"email": credentials.email, "token": credentials.token})).into_response()
        }
        None => common::json_response(
            StatusCode::NOT_FOUND,
            json!({"error": format!("no account {}", request.account_id)}),
        ),
    }
}

async fn stats(_: Admin, State(state): State<SimState>) -> Response {
    state.guard.stats().into_response()
}

/// The fault settings as `/_sim/faults` reads and writes them. Missing probabilities are zero.
#[derive(Debug, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default, deny_unknown_fields)]
struct FaultsWire {
    seed: u64,
    server_error: f64,
    slow: f64,
    slow_delay_ms: u64,
    truncated: f64,
    malformed_json: f64,
    empty_next: f64,
    null_fields: f64,
    variance: f64,
    garbled_permissions: f64,
    /// Share of request targets whose first call is refused once (see [`FirstCallRefusal`]).
    first_call_refusal: f64,
    /// The `Retry-After` of those refusals.
    first_call_retry_after_ms: u64,
}

#[derive(Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct RateLimitWire {
    capacity: u32,
    window_ms: u64,
    #[serde(default)]
    retry_after_probability: f64,
}

/// Body of `POST /_sim/faults`: both parts are replaced; a missing `faults` means none, a missing or
/// null `rateLimit` means unlimited.
#[derive(Debug, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default, deny_unknown_fields)]
struct GuardSettingsWire {
    faults: FaultsWire,
    rate_limit: Option<RateLimitWire>,
}

fn millis(d: Duration) -> u64 {
    u64::try_from(d.as_millis()).unwrap_or(u64::MAX)
}

fn probability(name: &str, p: f64) -> Result<f64, String> {
    if (0.0..=1.0).contains(&p) {
        Ok(p)
    } else {
        Err(format!("{name} must be a probability in 0..=1, got {p}"))
    }
}

impl FaultsWire {
    fn from_config(f: &FaultConfig, refusal: Option<&FirstCallRefusal>) -> Self {
        FaultsWire {
            seed: f.seed,
            server_error: f.server_error,
            slow: f.slow,
            slow_delay_ms: millis(f.slow_delay),
            truncated: f.truncated,
            malformed_json: f.malformed_json,
            empty_next: f.empty_next,
            null_fields: f.null_fields,
            variance: f.variance,
            garbled_permissions: f.garbled_permissions,
            first_call_refusal: refusal.map_or(0.0, |r| r.share),
            first_call_retry_after_ms: refusal.map_or(0, |r| millis(r.retry_after)),
        }
    }

    /// The first-call refusal these settings ask for; none at a share of zero.
    fn first_call_refusal(&self) -> Result<Option<FirstCallRefusal>, String> {
        let share = probability("firstCallRefusal", self.first_call_refusal)?;
        Ok((share > 0.0).then(|| FirstCallRefusal {
            seed: self.seed,
            share,
            retry_after: Duration::from_millis(self.first_call_retry_after_ms),
        }))
    }

    fn to_config(&self) -> Result<FaultConfig, String> {
        Ok(FaultConfig {
            seed: self.seed,
            server_error: probability("serverError", self.server_error)?,
            slow: probability("slow", self.slow)?,
            slow_delay: Duration::from_millis(self.slow_delay_ms),
            truncated: probability("truncated", self.truncated)?,
            malformed_json: probability("malformedJson", self.malformed_json)?,
            empty_next: probability("emptyNext", self.empty_next)?,
            null_fields: probability("nullFields", self.null_fields)?,
            variance: probability("variance", self.variance)?,
            garbled_permissions: probability("garbledPermissions", self.garbled_permissions)?,
        })
    }
}

impl RateLimitWire {
    fn from_config(r: &RateLimitConfig) -> Self {
        RateLimitWire {
            capacity: r.capacity,
            window_ms: u64::try_from(r.window.as_millis()).unwrap_or(u64::MAX),
            retry_after_probability: r.retry_after_probability,
        }
    }

    fn to_config(&self) -> Result<RateLimitConfig, String> {
        if self.capacity == 0 || self.window_ms == 0 {
            return Err("rateLimit needs capacity >= 1 and windowMs >= 1".to_string());
        }
        Ok(RateLimitConfig {
            capacity: self.capacity,
            window: Duration::from_millis(self.window_ms),
            retry_after_probability: probability("retryAfterProbability", self.retry_after_probability)?,
        })
    }
}

fn current_settings(state: &SimState) -> GuardSettingsWire {
    GuardSettingsWire {
        faults: FaultsWire::from_config(&state.guard.faults(), state.guard.first_call_refusal().as_ref()),
        rate_limit: state.guard.rate_limit().as_ref().map(RateLimitWire::from_config),
    }
}

async fn faults(_: Admin, State(state): State<SimState>) -> Response {
    Json(current_settings(&state)).into_response()
}

async fn set_faults(_: Admin, State(state): State<SimState>, body: axum::body::Bytes) -> Response {
    let wire: GuardSettingsWire = match serde_json::from_slice(&body) {
        Ok(w) => w,
        Err(e) => return bad_request(format!("bad fault settings: {e}")),
    };
    let faults = match wire.faults.to_config() {
        Ok(f) => f,
        Err(e) => return bad_request(e),
    };
    let rate_limit = match wire.rate_limit.as_ref().map(RateLimitWire::to_config).transpose() {
        Ok(r) => r,
        Err(e) => return bad_request(e),
    };
    let refusal = match wire.faults.first_call_refusal() {
        Ok(r) => r,
        Err(e) => return bad_request(e),
    };
    state.guard.set_faults(faults);
    state.guard.set_first_call_refusal(refusal);
    state.guard.set_rate_limit(rate_limit);
    tracing::info!("fault settings replaced");
    Json(current_settings(&state)).into_response()
}

//! The web pages the binary serves: the search page (`/`), the integrations page (`/integrations`) and their
//! assets (`/assets/…`), all static files from `src/server/web/` compiled in, so there is no build step and
//! nothing to install next to the binary. Also `GET /api/v1/demo/users`, which lets the search page offer a
//! picker of demo users when the server runs in demo mode (`permdex demo`).
//!
//! The pages call the JSON API with the session cookie of a sign-in (`login/`), or a bearer token kept in the
//! browser's sessionStorage (pasted, or a demo user's); they render data
//! as text, except the `title_html`/`snippet_html` the API escapes itself. Every page and asset is served
//! with a Content-Security-Policy that allows only same-origin scripts, styles and requests.
//!
//! This file holds no search or admin logic: the pages are clients of the API like any other.

use axum::extract::{Path, State};
use axum::http::{header, HeaderValue, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use serde::{Deserialize, Serialize};

use super::{ApiError, AppState, Route};

/// No inline script or style, no third-party origin, no framing.
pub const CONTENT_SECURITY_POLICY: &str = "default-src 'none'; script-src 'self'; style-src 'self'; \
     connect-src 'self'; img-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

/// A demo user as `GET /api/v1/demo/users` lists them: a signed-in identity anyone visiting the demo may take.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DemoUser {
    pub account_id: String,
    pub display_name: String,
    /// What this user shows, e.g. "sees most spaces and projects".
    pub description: String,
    /// A bearer token for this user.
    pub token: String,
    /// A word that finds something this user may read (empty: none found), for the examples the demo prints.
    #[serde(default)]
    pub example: String,
}

/// One static file: its path under `/assets/`, content type and bytes.
struct Asset {
    name: &'static str,
    content_type: &'static str,
    body: &'static str,
}

const ASSETS: &[Asset] = &[
    Asset { name: "app.css", content_type: "text/css; charset=utf-8", body: include_str!("web/app.css") },
    Asset {
        name: "common.js",
        content_type: "text/javascript; charset=utf-8",
        body: include_str!("web/common.js"),
    },
    Asset {
        name: "search.js",
        content_type: "text/javascript; charset=utf-8",
        body: include_str!("web/search.js"),
    },
    Asset {
        name: "integrations.js",
        content_type: "text/javascript; charset=utf-8",
        body: include_str!("web/integrations.js"),
    },
];

const SEARCH_PAGE: &str = include_str!("web/index.html");
const INTEGRATIONS_PAGE: &str = include_str!("web/integrations.html");
const HTML: &str = "text/html; charset=utf-8";

/// The page routes. They are not part of the API, so the OpenAPI description does not list them.
pub(super) fn page_routes(router: Router<AppState>) -> Router<AppState> {
    router
        .route("/", get(|| async { page(HTML, SEARCH_PAGE) }))
        .route("/integrations", get(|| async { page(HTML, INTEGRATIONS_PAGE) }))
        .route("/assets/{name}", get(asset))
}

/// The API routes of this file (described in the OpenAPI document).
pub(super) fn api_routes() -> Vec<Route> {
    vec![Route::new(Method::GET, "/api/v1/demo/users", get(demo_users))]
}

fn page(content_type: &'static str, body: &'static str) -> Response {
    let mut response = (StatusCode::OK, body).into_response();
    secure_headers(response.headers_mut(), content_type);
    response
}

/// The content type and the headers every page and asset carries: the policy, no sniffing, no framing.
pub(super) fn secure_headers(headers: &mut axum::http::HeaderMap, content_type: &'static str) {
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    headers.insert(header::CONTENT_SECURITY_POLICY, HeaderValue::from_static(CONTENT_SECURITY_POLICY));
    headers.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    headers.insert(header::REFERRER_POLICY, HeaderValue::from_static("no-referrer"));
    headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    // The files change only with the binary; revalidating keeps an upgraded server's pages consistent.
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
}

async fn asset(Path(name): Path<String>) -> Result<Response, ApiError> {
    ASSETS
        .iter()
        .find(|asset| asset.name == name)
        .map(|asset| page(asset.content_type, asset.body))
        .ok_or_else(|| ApiError::NotFound(format!("no asset {name}")))
}

/// `GET /api/v1/demo/users`: the demo users and their tokens, only in demo mode; 404 otherwise.
async fn demo_users(State(state): State<AppState>) -> Result<Json<Vec<DemoUser>>, ApiError> {
    match &state.demo_users {
        Some(users) => Ok(Json(users.as_ref().clone())),
        None => Err(ApiError::NotFound("demo users exist only in demo mode (permdex demo)".into())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_file_the_pages_load_is_an_asset() {
        for page in [SEARCH_PAGE, INTEGRATIONS_PAGE] {
            for reference in page.split("\"/assets/").skip(1) {
                let name = reference.split('"').next().unwrap();
                assert!(
                    ASSETS.iter().any(|a| a.name == name),
                    "page loads /assets/{name}, which is not served"
                );
            }
        }
    }

    #[test]
    fn pages_have_no_inline_script_or_style() {
        for page in [SEARCH_PAGE, INTEGRATIONS_PAGE] {
            assert!(!page.contains("<script>"), "inline script breaks the CSP");
            assert!(!page.contains("<style"), "inline style breaks the CSP");
            assert!(!page.contains(" style="), "inline style attribute breaks the CSP");
            assert!(!page.contains(" onclick="), "inline handler breaks the CSP");
        }
    }

    #[test]
    fn scripts_insert_html_only_from_escaped_fields() {
        for asset in ASSETS.iter().filter(|a| a.name.ends_with(".js")) {
            for line in asset.body.lines().filter(|l| l.contains("innerHTML")) {
                assert!(
                    line.contains("hit.title_html") || line.contains("hit.snippet_html"),
                    "{}: innerHTML from something the server did not escape: {line}",
                    asset.name
                );
            }
        }
    }
}

//! The simulator's guard over real HTTP: auth, 404/410 shapes, rate limits, every fault kind as a
//! client sees it, the `/_sim/` routes, and the `permdex sim` binary.
//!
//! The product routes here are small stand-ins with Atlassian's listing shapes, so these tests do not
//! depend on the real handlers; the guard recognises listings by shape only.

use std::time::Duration;

use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use permdex::sim::http::{admin, common, guard, Credentials, SimState};
use permdex::sim::{fixture, FaultConfig, RateLimitConfig, Scale, SimConfig};
use serde_json::{json, Value};

use crate::support;

fn creds() -> Credentials {
    Credentials { email: "admin@acme.example".into(), token: "sim-token-7f3a".into() }
}

/// Confluence v2 pages of the fixture, two per page, with the fields the null-fields fault targets.
async fn v2_pages(
    State(state): State<SimState>,
    Query(q): Query<std::collections::HashMap<String, String>>,
) -> Response {
    let site = state.read();
    let ids: Vec<u64> = site.contents.keys().copied().collect();
    let Ok((page, next)) = common::cursor_page(&ids, q.get("cursor").map(String::as_str), 2) else {
        return common::error_response(common::Product::ConfluenceV2, StatusCode::BAD_REQUEST, "bad cursor");
    };
    let results: Vec<Value> = page
        .iter()
        .map(|id| {
            let c = &site.contents[id];
            json!({
                "id": c.id.to_string(), "title": c.title, "position": c.position,
                "version": {"number": c.version, "message": "edit", "authorId": c.last_editor},
                "_links": {"webui": format!("/pages/{id}"), "tinyui": format!("/x/{id}")},
            })
        })
        .collect();
    let next = next.map(|n| format!("/wiki/api/v2/pages?cursor={n}"));
    let mut links = json!({"base": "http://sim/wiki"});
    if let Some(n) = &next {
        links["next"] = json!(n);
    }
    common::with_next_link(
        common::json_response(StatusCode::OK, json!({"results": results, "_links": links})),
        next.as_deref(),
    )
}

/// A Confluence v1 CQL search answering everything on one page.
async fn v1_search(State(state): State<SimState>) -> Response {
    let site = state.read();
    let results: Vec<Value> = site.contents.keys().map(|id| json!({"id": id.to_string()})).collect();
    Json(json!({
        "results": results, "start": 0, "limit": 25, "size": site.contents.len(),
        "_links": {"base": "http://sim/wiki", "context": "/wiki"},
    }))
    .into_response()
}

fn jira_page(state: &SimState) -> Value {
    let site = state.read();
    let issues: Vec<Value> = site
        .issues
        .values()
        .map(|i| {
            json!({
                "id": i.id.to_string(), "key": i.key, "self": format!("http://sim/rest/api/3/issue/{}", i.id),
                "fields": {"summary": i.summary, "priority": {"name": i.priority},
                           "status": {"name": i.status, "description": "the status"}},
            })
        })
        .collect();
    json!({"issues": issues, "isLast": true})
}

/// Jira enhanced search: everything on one page; any page token is one it never issued.
async fn jira_search(
    State(state): State<SimState>,
    Query(q): Query<std::collections::HashMap<String, String>>,
) -> Response {
    if q.contains_key("nextPageToken") {
        return common::error_response(common::Product::Jira, StatusCode::BAD_REQUEST, "bad token");
    }
    Json(jira_page(&state)).into_response()
}

async fn jira_search_post(State(state): State<SimState>, Json(body): Json<Value>) -> Response {
    if body.get("nextPageToken").is_some() {
        return common::error_response(common::Product::Jira, StatusCode::BAD_REQUEST, "bad token");
    }
    Json(jira_page(&state)).into_response()
}

async fn attachment_bytes() -> Response {
    ([("content-type", "text/plain")], "attachment text ".repeat(100)).into_response()
}

fn test_api() -> Router<SimState> {
    Router::new()
        .route("/wiki/api/v2/pages", get(v2_pages))
        .route("/wiki/rest/api/content/search", get(v1_search))
        .route("/rest/api/3/search/jql", get(jira_search).post(jira_search_post))
        .route("/rest/api/3/attachment/content/{id}", get(attachment_bytes))
}

fn config_with(faults: FaultConfig, rate_limit: Option<RateLimitConfig>) -> SimConfig {
    SimConfig { rate_limit, faults, ..SimConfig::new(1, Scale::Tiny) }
}

struct Sim {
    base: String,
    state: SimState,
    http: reqwest::Client,
}

impl Sim {
    async fn start(config: SimConfig) -> Sim {
        let state = SimState::new(fixture::tiny_site(), config, creds());
        let app = guard::wrap(test_api(), state.clone()).merge(admin::routes().with_state(state.clone()));
        Sim { base: support::serve(app).await, state, http: reqwest::Client::new() }
    }

    fn get(&self, path: &str) -> reqwest::RequestBuilder {
        let c = creds();
        self.http.get(format!("{}{path}", self.base)).basic_auth(c.email, Some(c.token))
    }

    fn post(&self, path: &str) -> reqwest::RequestBuilder {
        let c = creds();
        self.http.post(format!("{}{path}", self.base)).basic_auth(c.email, Some(c.token))
    }
}

fn faults(set: impl FnOnce(&mut FaultConfig)) -> FaultConfig {
    let mut f = FaultConfig { seed: 42, ..FaultConfig::default() };
    set(&mut f);
    f
}

/// Checks an error body has the product's shape and carries `status`.
fn assert_error_shape(path: &str, status: u16, body: &Value) {
    match common::product_of(path) {
        common::Product::ConfluenceV2 => assert_eq!(body["errors"][0]["status"], status, "{path}: {body}"),
        common::Product::ConfluenceV1 => assert_eq!(body["statusCode"], status, "{path}: {body}"),
        common::Product::Jira => {
            assert!(body["errorMessages"].as_array().is_some_and(|m| !m.is_empty()), "{path}: {body}")
        }
    }
}

const API_PATHS: [&str; 3] =
    ["/wiki/api/v2/pages", "/wiki/rest/api/content/search", "/rest/api/3/search/jql"];

#[tokio::test]
async fn auth_accepts_only_the_site_credential() {
    let sim = Sim::start(SimConfig::new(1, Scale::Tiny)).await;
    for path in API_PATHS {
        let url = format!("{}{path}", sim.base);
        let missing = sim.http.get(&url).send().await.unwrap();
        let wrong =
            sim.http.get(&url).basic_auth(creds().email, Some("guessed-token-123")).send().await.unwrap();
        let token_as_password =
            sim.http.get(&url).basic_auth("someone@else.example", Some(creds().token)).send().await.unwrap();
        for response in [missing, wrong, token_as_password] {
            assert_eq!(response.status(), 401, "{path}");
            let challenge = response.headers()["www-authenticate"].to_str().unwrap().to_string();
            assert!(challenge.starts_with("Basic realm="), "{challenge}");
            let text = response.text().await.unwrap();
            assert!(!text.contains("guessed-token-123") && !text.contains(&creds().token), "{text}");
            assert_error_shape(path, 401, &serde_json::from_str(&text).unwrap());
        }
        assert_eq!(sim.get(path).send().await.unwrap().status(), 200, "{path}");
    }
    let stats = sim.state.guard.stats();
    assert_eq!((stats.requests, stats.unauthorized), (12, 9));
}

#[tokio::test]
async fn unknown_paths_are_404_in_the_product_shape() {
    let sim = Sim::start(SimConfig::new(1, Scale::Tiny)).await;
    for path in ["/wiki/api/v2/nothing", "/wiki/rest/api/nothing", "/rest/api/3/nothing"] {
        let response = sim.get(path).send().await.unwrap();
        assert_eq!(response.status(), 404, "{path}");
        assert_error_shape(path, 404, &response.json().await.unwrap());
    }
    // Unauthenticated, an unknown path says 401, not whether it exists.
    let response = sim.http.get(format!("{}/rest/api/3/nothing", sim.base)).send().await.unwrap();
    assert_eq!(response.status(), 401);
}

#[tokio::test]
async fn removed_jira_search_is_410_gone() {
    let sim = Sim::start(SimConfig::new(1, Scale::Tiny)).await;
    for path in ["/rest/api/3/search", "/rest/api/2/search"] {
        for request in [sim.get(path), sim.post(path).json(&json!({"jql": "project = APP"}))] {
            let response = request.send().await.unwrap();
            assert_eq!(response.status(), 410, "{path}");
            let body: Value = response.json().await.unwrap();
            assert!(body["errorMessages"][0].as_str().unwrap().contains("/rest/api/3/search/jql"), "{body}");
        }
    }
}

async fn burst(sim: &Sim, path: &str, n: usize) -> Vec<reqwest::Response> {
    let mut responses = Vec::new();
    for _ in 0..n {
        responses.push(sim.get(path).send().await.unwrap());
    }
    responses
}

#[tokio::test]
async fn rate_limit_refuses_over_budget_with_atlassian_headers() {
    // Three requests per hour: the bucket cannot refill noticeably while the test runs.
    let limit =
        RateLimitConfig { capacity: 3, window: Duration::from_secs(3600), retry_after_probability: 1.0 };
    let sim = Sim::start(config_with(FaultConfig::default(), Some(limit))).await;
    let responses = burst(&sim, "/rest/api/3/search/jql", 10).await;
    let (ok, refused): (Vec<_>, Vec<_>) = responses.iter().partition(|r| r.status() == 200);
    assert_eq!((ok.len(), refused.len()), (3, 7));
    let remaining: Vec<&str> =
        ok.iter().map(|r| r.headers()["x-ratelimit-remaining"].to_str().unwrap()).collect();
    assert_eq!(remaining, ["2", "1", "0"]);
    assert!(ok.iter().all(|r| r.headers()["x-ratelimit-limit"] == "3"));
    let near: Vec<bool> = ok.iter().map(|r| r.headers().contains_key("x-ratelimit-nearlimit")).collect();
    assert_eq!(near, [false, false, true]);
    for r in &refused {
        assert_eq!(r.status(), 429);
        let h = r.headers();
        assert_eq!(h["ratelimit-reason"], "jira-burst-based");
        assert_eq!(h["x-ratelimit-limit"], "3");
        assert_eq!(h["x-ratelimit-remaining"], "0");
        let reset = h["x-ratelimit-reset"].to_str().unwrap();
        assert!(chrono::NaiveDateTime::parse_from_str(reset, "%Y-%m-%dT%H:%MZ").is_ok(), "{reset}");
        let retry_after: u64 = h["retry-after"].to_str().unwrap().parse().unwrap();
        assert!((1..=1200).contains(&retry_after), "{retry_after}");
    }
    let confluence = sim.get("/wiki/api/v2/pages").send().await.unwrap();
    assert_eq!(confluence.status(), 429);
    assert_eq!(confluence.headers()["ratelimit-reason"], "confluence-burst-based");
    assert_error_shape("/wiki/api/v2/pages", 429, &confluence.json().await.unwrap());
    assert_eq!(sim.state.guard.stats().rate_limited, 8);
}

#[tokio::test]
async fn retry_after_follows_its_probability() {
    for (probability, expect_header) in [(1.0, true), (0.0, false)] {
        let limit = RateLimitConfig {
            capacity: 1,
            window: Duration::from_secs(3600),
            retry_after_probability: probability,
        };
        let sim = Sim::start(config_with(FaultConfig::default(), Some(limit))).await;
        let responses = burst(&sim, "/wiki/api/v2/pages", 12).await;
        let refused: Vec<_> = responses.iter().filter(|r| r.status() == 429).collect();
        assert_eq!(refused.len(), 11);
        assert!(
            refused.iter().all(|r| r.headers().contains_key("retry-after") == expect_header),
            "p = {probability}"
        );
    }
}

#[tokio::test]
async fn server_error_fault_answers_500_or_503() {
    let sim = Sim::start(config_with(faults(|f| f.server_error = 1.0), None)).await;
    let (mut statuses, mut retry_after_503s) = (Vec::new(), 0);
    for path in API_PATHS.iter().cycle().take(30) {
        let response = sim.get(path).send().await.unwrap();
        let status = response.status().as_u16();
        assert!(status == 500 || status == 503, "{path}: {status}");
        let retry_after = response.headers().contains_key("retry-after");
        assert!(status == 503 || !retry_after, "a 500 never says when to retry");
        retry_after_503s += usize::from(retry_after);
        assert_error_shape(path, status, &response.json().await.unwrap());
        statuses.push(status);
    }
    assert!(statuses.contains(&500) && statuses.contains(&503), "{statuses:?}");
    let unavailable = statuses.iter().filter(|&&s| s == 503).count();
    assert!(retry_after_503s > 0 && retry_after_503s < unavailable, "some 503s carry Retry-After, not all");
    assert_eq!(sim.state.guard.stats().server_errors, 30);
}

#[tokio::test]
async fn malformed_json_fault_breaks_parsing_only() {
    let sim = Sim::start(config_with(faults(|f| f.malformed_json = 1.0), None)).await;
    for path in API_PATHS {
        let response = sim.get(path).send().await.unwrap();
        assert_eq!(response.status(), 200, "{path}");
        assert!(response.headers()["content-type"].to_str().unwrap().starts_with("application/json"));
        let text = response.text().await.unwrap();
        assert!(serde_json::from_str::<Value>(&text).is_err(), "{path}: {text}");
    }
    // Non-JSON bodies are not "malformed JSON".
    let bytes = sim.get("/rest/api/3/attachment/content/10300").send().await.unwrap().text().await.unwrap();
    assert_eq!(bytes, "attachment text ".repeat(100));
    assert_eq!(sim.state.guard.stats().malformed_json, 3);
}

#[tokio::test]
async fn truncated_fault_ends_the_body_early() {
    let sim = Sim::start(config_with(faults(|f| f.truncated = 1.0), None)).await;
    for path in API_PATHS.into_iter().chain(["/rest/api/3/attachment/content/10300"]) {
        let response = sim.get(path).send().await.unwrap();
        assert_eq!(response.status(), 200, "{path}");
        let promised: usize = response.headers()["content-length"].to_str().unwrap().parse().unwrap();
        assert!(promised > 1, "{path}");
        let error = response.bytes().await.expect_err("a truncated body must fail to read");
        assert!(error.is_body() || error.is_decode(), "{path}: {error:?}");
    }
    assert_eq!(sim.state.guard.stats().truncated, 4);
}

#[tokio::test]
async fn empty_next_fault_adds_one_empty_last_page() {
    let sim = Sim::start(config_with(faults(|f| f.empty_next = 1.0), None)).await;

    // Confluence v2: follow `_links.next` to the end, checking the Link header agrees.
    let mut url = "/wiki/api/v2/pages".to_string();
    let mut pages = Vec::new();
    loop {
        let response = sim.get(&url).send().await.unwrap();
        assert_eq!(response.status(), 200, "{url}");
        let link = response.headers().get("link").map(|l| l.to_str().unwrap().to_string());
        let body: Value = response.json().await.unwrap();
        let next = body["_links"]["next"].as_str().map(str::to_string);
        assert_eq!(link, next.as_ref().map(|n| format!("<{n}>; rel=\"next\"")), "{url}");
        pages.push(body["results"].as_array().unwrap().len());
        match next {
            Some(n) => url = n,
            None => break,
        }
        assert!(pages.len() < 20, "pagination does not end");
    }
    let items = sim.state.read().contents.len();
    assert_eq!(*pages.last().unwrap(), 0, "{pages:?}");
    assert_eq!(pages.iter().sum::<usize>(), items);
    assert!(pages[..pages.len() - 1].iter().all(|&n| n > 0), "{pages:?}");

    // Confluence v1: the next link is relative to the /wiki context.
    let body: Value = sim.get("/wiki/rest/api/content/search").send().await.unwrap().json().await.unwrap();
    let next = body["_links"]["next"].as_str().unwrap();
    assert!(next.starts_with("/rest/api/content/search?"), "{next}");
    let empty: Value = sim.get(&format!("/wiki{next}")).send().await.unwrap().json().await.unwrap();
    assert_eq!(empty["results"], json!([]));
    assert_eq!(empty["size"], 0);
    assert!(empty["_links"].get("next").is_none(), "{empty}");

    // Jira: a token on the last page, by GET and by POST, leading to no issues and isLast.
    let body: Value =
        sim.get("/rest/api/3/search/jql?jql=updated%3E0").send().await.unwrap().json().await.unwrap();
    assert_eq!(body["isLast"], false);
    let token = body["nextPageToken"].as_str().unwrap().to_string();
    let by_get: Value = sim
        .get("/rest/api/3/search/jql")
        .query(&[("jql", "updated>0"), ("nextPageToken", token.as_str())])
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let by_post: Value = sim
        .post("/rest/api/3/search/jql")
        .json(&json!({"jql": "updated>0", "nextPageToken": token}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    for empty in [by_get, by_post] {
        assert_eq!(empty["issues"], json!([]));
        assert_eq!(empty["isLast"], true);
        assert!(empty.get("nextPageToken").is_none(), "{empty}");
    }
}

#[tokio::test]
async fn null_fields_fault_nulls_only_dispensable_fields() {
    let sim = Sim::start(config_with(faults(|f| f.null_fields = 1.0), None)).await;
    let body: Value = sim.get("/wiki/api/v2/pages").send().await.unwrap().json().await.unwrap();
    let page = &body["results"][0];
    for field in ["/version/message", "/version/authorId", "/_links/tinyui", "/position"] {
        assert!(page.pointer(field).unwrap().is_null(), "{field}: {page}");
    }
    assert!(
        page["id"].is_string() && page["title"].is_string() && page["version"]["number"].is_u64(),
        "{page}"
    );
    assert!(body["_links"]["next"].is_string(), "{body}");

    let body: Value = sim.get("/rest/api/3/search/jql").send().await.unwrap().json().await.unwrap();
    let issue = &body["issues"][0];
    for field in ["/fields/priority", "/fields/status/description", "/self"] {
        assert!(issue.pointer(field).unwrap().is_null(), "{field}: {issue}");
    }
    assert!(issue["key"].is_string() && issue["fields"]["status"]["name"].is_string(), "{issue}");
    assert_eq!(sim.state.guard.stats().null_fields, 2);
}

fn every_fault() -> FaultConfig {
    faults(|f| {
        f.server_error = 1.0;
        f.slow = 1.0;
        f.slow_delay = Duration::from_millis(1);
        f.truncated = 1.0;
        f.malformed_json = 1.0;
        f.empty_next = 1.0;
        f.null_fields = 1.0;
    })
}

#[tokio::test]
async fn faults_and_limits_never_touch_sim_routes() {
    let limit =
        RateLimitConfig { capacity: 1, window: Duration::from_secs(3600), retry_after_probability: 1.0 };
    let sim = Sim::start(config_with(every_fault(), Some(limit))).await;
    for _ in 0..5 {
        for path in ["/_sim/users", "/_sim/stats", "/_sim/faults"] {
            let response = sim.get(path).send().await.unwrap();
            assert_eq!(response.status(), 200, "{path}");
            let _: Value = response.json().await.expect("admin JSON is well formed");
        }
    }
    let users: Value = sim.get("/_sim/users").send().await.unwrap().json().await.unwrap();
    let alice = users["users"].as_array().unwrap().iter().find(|u| u["accountId"] == "alice").unwrap();
    assert_eq!(alice["groups"], json!(["g-eng", "g-jira"]));
    assert_eq!(sim.state.guard.stats().requests, 0, "admin requests are not API requests");
    // Nor do faults touch unknown paths: a 404 stays a 404.
    assert_eq!(sim.get("/rest/api/3/nothing").send().await.unwrap().status(), 404);
}

#[tokio::test]
async fn sim_routes_need_the_credential() {
    let sim = Sim::start(SimConfig::new(1, Scale::Tiny)).await;
    for path in ["/_sim/users", "/_sim/stats", "/_sim/faults", "/_sim/oracle?accountId=alice"] {
        let response = sim.http.get(format!("{}{path}", sim.base)).send().await.unwrap();
        assert_eq!(response.status(), 401, "{path}");
    }
    let response = sim.http.post(format!("{}/_sim/faults", sim.base)).json(&json!({})).send().await.unwrap();
    assert_eq!(response.status(), 401);
}

#[tokio::test(start_paused = true)]
async fn slow_fault_delays_by_the_configured_time() {
    use tower::ServiceExt;
    let delay = Duration::from_secs(90);
    for (probability, expect_delay) in [(1.0, true), (0.0, false)] {
        let config = config_with(faults(|f| (f.slow, f.slow_delay) = (probability, delay)), None);
        let state = SimState::new(fixture::tiny_site(), config, creds());
        let app = guard::wrap(test_api(), state.clone());
        let c = creds();
        let auth = base64::Engine::encode(
            &base64::engine::general_purpose::STANDARD,
            format!("{}:{}", c.email, c.token),
        );
        let request = axum::http::Request::get("/wiki/api/v2/pages")
            .header("authorization", format!("Basic {auth}"))
            .body(axum::body::Body::empty())
            .unwrap();
        let start = tokio::time::Instant::now();
        let response = app.oneshot(request).await.unwrap();
        let elapsed = start.elapsed();
        assert_eq!(response.status(), 200);
        assert_eq!(elapsed >= delay, expect_delay, "p = {probability}: {elapsed:?}");
        assert_eq!(state.guard.stats().slow, u64::from(expect_delay));
    }
}

#[tokio::test]
async fn faults_and_limits_switch_at_run_time() {
    let sim = Sim::start(SimConfig::new(1, Scale::Tiny)).await;
    let path = "/rest/api/3/search/jql";
    assert_eq!(sim.get(path).send().await.unwrap().status(), 200);

    let storm = json!({"rateLimit": {"capacity": 1, "windowMs": 3_600_000, "retryAfterProbability": 1.0}});
    let echoed: Value = sim.post("/_sim/faults").json(&storm).send().await.unwrap().json().await.unwrap();
    assert_eq!(echoed["rateLimit"]["capacity"], 1);
    let statuses: Vec<u16> = burst(&sim, path, 4).await.iter().map(|r| r.status().as_u16()).collect();
    assert_eq!(statuses, [200, 429, 429, 429]);

    let errors = json!({"faults": {"seed": 3, "serverError": 1.0}});
    assert_eq!(sim.post("/_sim/faults").json(&errors).send().await.unwrap().status(), 200);
    let status = sim.get(path).send().await.unwrap().status().as_u16();
    assert!(status == 500 || status == 503, "{status}");
    assert_eq!(sim.state.guard.faults().server_error, 1.0);
    assert_eq!(sim.state.guard.rate_limit(), None);

    assert_eq!(sim.post("/_sim/faults").json(&json!({})).send().await.unwrap().status(), 200);
    assert_eq!(sim.get(path).send().await.unwrap().status(), 200);

    let stats: Value = sim.get("/_sim/stats").send().await.unwrap().json().await.unwrap();
    assert_eq!(
        (stats["rateLimited"].as_u64(), stats["serverErrors"].as_u64()),
        (Some(3), Some(1)),
        "{stats}"
    );
    assert_eq!(stats["requests"], 7);

    // In-process switching does the same without HTTP.
    sim.state.guard.set_faults(faults(|f| f.malformed_json = 1.0));
    assert!(sim.get(path).send().await.unwrap().json::<Value>().await.is_err());
}

#[tokio::test]
async fn bad_fault_settings_are_refused() {
    let sim = Sim::start(SimConfig::new(1, Scale::Tiny)).await;
    let cases = [
        json!({"faults": {"serverError": 1.5}}),
        json!({"faults": {"slow": -0.1}}),
        json!({"faults": {"typo": 0.1}}),
        json!({"rateLimit": {"capacity": 0, "windowMs": 1000}}),
        json!({"rateLimit": {"capacity": 5, "windowMs": 1000, "retryAfterProbability": 2.0}}),
    ];
    for body in cases {
        let response = sim.post("/_sim/faults").json(&body).send().await.unwrap();
        assert_eq!(response.status(), 400, "{body}");
        let error: Value = response.json().await.unwrap();
        assert!(error["error"].is_string(), "{error}");
    }
    assert_eq!(sim.state.guard.faults(), FaultConfig::default());
}

#[tokio::test]
async fn running_sim_serves_until_shutdown() {
    let addr = "127.0.0.1:0".parse().unwrap();
    let sim = permdex::sim::run::start_with_site(
        fixture::tiny_site(),
        SimConfig::new(1, Scale::Tiny),
        creds(),
        addr,
    )
    .await
    .unwrap();
    assert!(sim.url.starts_with("http://127.0.0.1:") && !sim.url.ends_with(":0"), "{}", sim.url);
    let http = reqwest::Client::new();
    let users = format!("{}/_sim/users", sim.url);
    let c = creds();
    let response = http.get(&users).basic_auth(&c.email, Some(&c.token)).send().await.unwrap();
    assert_eq!(response.status(), 200);
    let gone = http.get(format!("{}/rest/api/3/search", sim.url)).basic_auth(&c.email, Some(&c.token));
    assert_eq!(gone.send().await.unwrap().status(), 410);
    assert_eq!(sim.state.guard.stats().requests, 1);
    sim.shutdown().await;
    let after = reqwest::Client::new().get(&users).basic_auth(&c.email, Some(&c.token)).send().await;
    assert!(after.is_err_and(|e| e.is_connect()), "still serving after shutdown");
}

#[tokio::test]
async fn sim_binary_prints_its_address_and_credential() {
    use tokio::io::{AsyncBufReadExt, AsyncReadExt};
    let mut child = tokio::process::Command::new(env!("CARGO_BIN_EXE_permdex"))
        .args(["sim", "--seed", "1", "--scale", "tiny", "--listen", "127.0.0.1:0"])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let mut stdout = tokio::io::BufReader::new(child.stdout.take().unwrap());
    let mut line = String::new();
    stdout.read_line(&mut line).await.unwrap();
    let mut stderr = String::new();
    if line.is_empty() {
        child.stderr.take().unwrap().read_to_string(&mut stderr).await.unwrap();
        panic!("no JSON line on stdout; stderr: {stderr}");
    }
    let info: Value = serde_json::from_str(&line).unwrap();
    let (url, email, token) =
        (info["url"].as_str().unwrap(), info["email"].as_str().unwrap(), info["token"].as_str().unwrap());
    assert!(url.starts_with("http://127.0.0.1:"), "{line}");
    assert!(!email.is_empty() && !token.is_empty(), "{line}");

    let http = reqwest::Client::new();
    let users: Value = http
        .get(format!("{url}/_sim/users"))
        .basic_auth(email, Some(token))
        .send()
        .await
        .unwrap()
        .error_for_status()
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(!users["users"].as_array().unwrap().is_empty(), "{users}");
    let anonymous = http.get(format!("{url}/_sim/users")).send().await.unwrap();
    assert_eq!(anonymous.status(), 401);

    // SIGTERM shuts it down gracefully: exit status 0, and the token never reached the log.
    let pid = child.id().unwrap().to_string();
    let killed = std::process::Command::new("kill").args(["-TERM", &pid]).status().unwrap();
    assert!(killed.success());
    let status = child.wait().await.unwrap();
    child.stderr.take().unwrap().read_to_string(&mut stderr).await.unwrap();
    assert!(status.success(), "{status}; stderr: {stderr}");
    assert!(!stderr.contains(token), "token in log: {stderr}");
    let mut rest = String::new();
    stdout.read_to_string(&mut rest).await.unwrap();
    assert_eq!(rest, "", "stdout carries exactly one line");
}

async fn start_real(faults: FaultConfig) -> permdex::sim::run::RunningSim {
    let addr = "127.0.0.1:0".parse().unwrap();
    permdex::sim::run::start_with_site(fixture::tiny_site(), config_with(faults, None), creds(), addr)
        .await
        .unwrap()
}

async fn get_json(sim: &permdex::sim::run::RunningSim, path: &str) -> (reqwest::header::HeaderMap, Value) {
    let c = &sim.credentials;
    let response = reqwest::Client::new()
        .get(format!("{}{path}", sim.url))
        .basic_auth(&c.email, Some(&c.token))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200, "{path}");
    let headers = response.headers().clone();
    (headers, response.json().await.unwrap())
}

#[tokio::test]
async fn faults_recognise_the_real_handlers_listings() {
    let sim = start_real(faults(|f| (f.empty_next, f.null_fields) = (1.0, 1.0))).await;

    let (headers, spaces) = get_json(&sim, "/wiki/api/v2/spaces").await;
    let next = spaces["_links"]["next"].as_str().expect("an invented next link").to_string();
    assert_eq!(headers["link"].to_str().unwrap(), format!("<{next}>; rel=\"next\""));
    let (_, empty) = get_json(&sim, &next).await;
    assert_eq!(empty["results"], json!([]), "{empty}");
    assert!(empty["_links"].get("next").is_none(), "{empty}");

    let (_, pages) = get_json(&sim, "/wiki/api/v2/pages?space-id=1&limit=250").await;
    let page = &pages["results"][0];
    assert!(page["version"]["message"].is_null() && page["position"].is_null(), "{page}");
    assert!(page["id"].is_string() && page["version"]["number"].is_u64(), "{page}");

    let (_, found) = get_json(&sim, "/rest/api/3/search/jql?jql=project%20%3D%20APP&fields=summary").await;
    assert_eq!(found["isLast"], false, "{found}");
    assert!(!found["issues"].as_array().unwrap().is_empty(), "{found}");
    let token = found["nextPageToken"].as_str().unwrap();
    let (_, empty) =
        get_json(&sim, &format!("/rest/api/3/search/jql?jql=project%20%3D%20APP&nextPageToken={token}"))
            .await;
    assert_eq!((empty["issues"].clone(), empty["isLast"].clone()), (json!([]), json!(true)), "{empty}");

    let (_, issue) = get_json(&sim, "/rest/api/3/issue/APP-1").await;
    assert!(issue["fields"]["priority"].is_null() && issue["self"].is_null(), "{issue}");
    assert_eq!(issue["key"], "APP-1");
    sim.shutdown().await;
}

#[tokio::test]
async fn oracle_and_mutate_routes() {
    use permdex::sim::oracle::{self, Scope};
    let sim = start_real(FaultConfig::default()).await;
    let site = fixture::tiny_site();
    for include_archived in [false, true] {
        let (_, body) =
            get_json(&sim, &format!("/_sim/oracle?accountId=dave&includeArchived={include_archived}")).await;
        let served: Vec<&str> =
            body["visible"].as_array().unwrap().iter().map(|v| v.as_str().unwrap()).collect();
        let direct = oracle::visible(&site, "dave", Scope { include_archived });
        assert_eq!(served, direct.iter().map(|d| d.0.as_str()).collect::<Vec<_>>());
        // PUB is readable by anonymous users, so by dave too.
        assert!(served.contains(&"confluence:page:200"), "{served:?}");
    }
    let http = reqwest::Client::new();
    let c = &sim.credentials;
    for query in ["", "?accountId=", "?accountId=dave&includeArchived=maybe"] {
        let response = http
            .get(format!("{}/_sim/oracle{query}", sim.url))
            .basic_auth(&c.email, Some(&c.token))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 400, "{query}");
    }
    for body in [json!({"op": "no-such-operation"}), json!([{"op": "no-such-operation"}]), json!("text")] {
        let response = http
            .post(format!("{}/_sim/mutate", sim.url))
            .basic_auth(&c.email, Some(&c.token))
            .json(&body)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 400, "{body}");
        let error: Value = response.json().await.unwrap();
        assert!(error["error"].is_string(), "{error}");
    }

    // dave is in no group; joining engineering opens space ENG's home page to him. A batch stops at
    // its first refused mutation and says how many took effect.
    let oracle_for_dave = || async {
        let (_, body) = get_json(&sim, "/_sim/oracle?accountId=dave").await;
        body["visible"].as_array().unwrap().iter().any(|id| id == "confluence:page:100")
    };
    assert!(!oracle_for_dave().await);
    let join = json!({"op": "add_group_member", "group_id": "g-eng", "account_id": "dave"});
    let batch = json!([join, {"op": "delete_page", "id": 999_999}]);
    let mutate = |body: Value| {
        http.post(format!("{}/_sim/mutate", sim.url)).basic_auth(&c.email, Some(&c.token)).json(&body).send()
    };
    let response = mutate(batch).await.unwrap();
    assert_eq!(response.status(), 400);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["applied"], 1, "{body}");
    assert!(body["error"].as_str().unwrap().contains("999999"), "{body}");
    assert!(oracle_for_dave().await);
    let leave = json!({"op": "remove_group_member", "group_id": "g-eng", "account_id": "dave"});
    let response = mutate(leave).await.unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(response.json::<Value>().await.unwrap()["applied"], 1);
    assert!(!oracle_for_dave().await);

    let anonymous = http.post(format!("{}/_sim/mutate", sim.url)).json(&json!([])).send().await.unwrap();
    assert_eq!(anonymous.status(), 401);
    sim.shutdown().await;
}

#[tokio::test]
async fn media_urls_skip_basic_auth_and_the_site_budget_but_not_faults() {
    let sim = start_real(FaultConfig::default()).await;
    let c = sim.credentials.clone();
    let no_redirects =
        reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
    let redirect = no_redirects
        .get(format!("{}/rest/api/3/attachment/content/10300", sim.url))
        .basic_auth(&c.email, Some(&c.token))
        .send()
        .await
        .unwrap();
    assert_eq!(redirect.status(), 303);
    let media = redirect.headers()["location"].to_str().unwrap().to_string();
    assert!(media.contains("/_media/"), "{media}");
    let expected = no_redirects.get(&media).send().await.unwrap();
    assert_eq!(expected.status(), 200, "media needs no Basic auth");
    let expected = expected.bytes().await.unwrap();
    assert!(!expected.is_empty());

    // Exhaust the site's budget: the API refuses, the media service still serves.
    sim.state.guard.set_rate_limit(Some(RateLimitConfig {
        capacity: 1,
        window: Duration::from_secs(3600),
        retry_after_probability: 1.0,
    }));
    let api =
        |path: &str| no_redirects.get(format!("{}{path}", sim.url)).basic_auth(&c.email, Some(&c.token));
    assert_eq!(api("/rest/api/3/myself").send().await.unwrap().status(), 200);
    assert_eq!(api("/rest/api/3/myself").send().await.unwrap().status(), 429);
    assert_eq!(no_redirects.get(&media).send().await.unwrap().bytes().await.unwrap(), expected);

    sim.state.guard.set_faults(faults(|f| f.truncated = 1.0));
    let cut = no_redirects.get(&media).send().await.unwrap();
    assert_eq!(cut.status(), 200);
    assert!(cut.bytes().await.is_err(), "a faulty media download is cut short");
    sim.shutdown().await;
}

#[tokio::test]
async fn first_calls_are_refused_once_for_the_chosen_share_of_targets() {
    let sim = Sim::start(SimConfig::new(1, Scale::Tiny)).await;
    let settings = json!({"faults": {"seed": 9, "firstCallRefusal": 1.0, "firstCallRetryAfterMs": 1000}});
    let echoed: Value = sim.post("/_sim/faults").json(&settings).send().await.unwrap().json().await.unwrap();
    assert_eq!(echoed["faults"]["firstCallRefusal"], 1.0);
    for path in ["/rest/api/3/search/jql", "/wiki/api/v2/pages", "/wiki/api/v2/pages?limit=1"] {
        let first = sim.get(path).send().await.unwrap();
        assert_eq!(first.status(), 429, "{path}");
        assert_eq!(first.headers()["retry-after"], "1", "{path}");
        let reason = first.headers()["ratelimit-reason"].to_str().unwrap().to_string();
        assert!(reason.ends_with("-burst-based"), "{reason}");
        assert_eq!(sim.get(path).send().await.unwrap().status(), 200, "{path}: refused only once");
    }
    assert_eq!(sim.state.guard.stats().first_call_refusals, 3);

    // At a share of one half, which targets are refused depends on the seed and the target only.
    let half = json!({"faults": {"seed": 9, "firstCallRefusal": 0.5, "firstCallRetryAfterMs": 1000}});
    let targets: Vec<String> = (0..40).map(|n| format!("/wiki/api/v2/pages?limit={}", n + 1)).collect();
    let mut refused_runs = Vec::new();
    for order in [false, true] {
        assert_eq!(sim.post("/_sim/faults").json(&half).send().await.unwrap().status(), 200);
        let mut refused = std::collections::BTreeSet::new();
        let walk: Vec<&String> =
            if order { targets.iter().rev().collect() } else { targets.iter().collect() };
        for target in walk {
            if sim.get(target).send().await.unwrap().status() == 429 {
                refused.insert(target.clone());
            }
        }
        refused_runs.push(refused);
    }
    assert_eq!(refused_runs[0], refused_runs[1], "the same targets whatever the order");
    assert!((8..=32).contains(&refused_runs[0].len()), "about half: {}", refused_runs[0].len());
}

//! The Atlassian HTTP client against small fake servers on loopback: retries and `Retry-After`, the shared
//! pacer, malformed and truncated bodies, redirects that must not carry the token to another host, download
//! caps, the concurrency limit, the pagination walkers, and the token staying out of every error.
//!
//! Tests that wait for a backoff or a `Retry-After` run on a paused clock (the runtime skips ahead when it
//! is idle), and assert on virtual time only. Their client timeout is long, so a skip forward while a
//! request is on the wire can never fire it. The others use a backoff of a millisecond or two.

use std::future::Future;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::extract::Query;
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use base64::Engine as _;
use permdex::atlassian::paginate::{CursorAnomaly, CursorPager, OffsetPager, TokenPager};
use permdex::atlassian::wire::confluence::{v1, v2};
use permdex::atlassian::wire::jira;
use permdex::atlassian::{Client, ClientConfig, ClientStats, Error};
use permdex::config::{Email, Secret, Url};
use serde_json::{json, Value};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::time::Instant;

const EMAIL: &str = "crawler@example.com";
const TOKEN: &str = "ATATT3xFfGF0-very-secret-token";

fn basic_credentials() -> String {
    base64::engine::general_purpose::STANDARD.encode(format!("{EMAIL}:{TOKEN}"))
}

/// Serves `router` on a loopback port; returns its origin (`http://127.0.0.1:port`).
async fn serve(router: Router) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind loopback");
    let origin = format!("http://{}", listener.local_addr().expect("local addr"));
    tokio::spawn(async move { axum::serve(listener, router).await.expect("serve") });
    origin
}

/// A bare TCP server for answers axum will not give (bodies cut short, endless bodies): reads each
/// request head, then hands the socket and the connection's number (from 0) to `respond`.
async fn serve_raw<F, Fut>(respond: F) -> String
where
    F: Fn(usize, TcpStream) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = ()> + Send + 'static,
{
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind loopback");
    let origin = format!("http://{}", listener.local_addr().expect("local addr"));
    let respond = Arc::new(respond);
    tokio::spawn(async move {
        for connection in 0.. {
            let Ok((mut socket, _)) = listener.accept().await else { return };
            let respond = respond.clone();
            tokio::spawn(async move {
                let mut head = Vec::new();
                let mut buf = [0u8; 1024];
                while !head.windows(4).any(|w| w == b"\r\n\r\n") {
                    match socket.read(&mut buf).await {
                        Ok(0) | Err(_) => return,
                        Ok(n) => head.extend_from_slice(&buf[..n]),
                    }
                }
                respond(connection, socket).await;
            });
        }
    });
    origin
}

/// A client for `origin` with fast retries: 3 retries, backoff of 1–2 ms, no pacing to speak of.
fn fast_config(origin: &str) -> ClientConfig {
    let mut config = ClientConfig::new(
        Url::parse(origin).expect("origin url"),
        Email::parse(EMAIL).expect("email"),
        Secret::new(TOKEN.into()),
    );
    config.requests_per_second = 10_000.0;
    config.max_retries = 3;
    config.backoff_base = Duration::from_millis(1);
    config.backoff_cap = Duration::from_millis(2);
    config.timeout = Duration::from_secs(3600);
    config
}

fn fast_client(origin: &str) -> Client {
    Client::new(fast_config(origin)).expect("client")
}

/// A client with the default backoff, for tests on a paused clock.
fn paused_client(origin: &str) -> Client {
    let mut config = fast_config(origin);
    config.backoff_base = ClientConfig::DEFAULT_BACKOFF_BASE;
    config.backoff_cap = ClientConfig::DEFAULT_BACKOFF_CAP;
    config.requests_per_second = 100.0;
    Client::new(config).expect("client")
}

/// Counts calls and records the (virtual) time each arrived.
#[derive(Clone, Default)]
struct Calls {
    arrivals: Arc<Mutex<Vec<Instant>>>,
}

impl Calls {
    /// Records a call; returns its number, from 1.
    fn record(&self) -> usize {
        let mut arrivals = self.arrivals.lock().expect("calls lock");
        arrivals.push(Instant::now());
        arrivals.len()
    }

    fn count(&self) -> usize {
        self.arrivals.lock().expect("calls lock").len()
    }

    fn gap(&self, earlier: usize, later: usize) -> Duration {
        let arrivals = self.arrivals.lock().expect("calls lock");
        arrivals[later - 1] - arrivals[earlier - 1]
    }
}

/// A route that answers the n-th call (from 1) with `answer(n)`.
fn scripted(calls: &Calls, answer: fn(usize) -> Response) -> axum::routing::MethodRouter {
    let calls = calls.clone();
    get(move || {
        let n = calls.record();
        async move { answer(n) }
    })
}

fn too_many(retry_after: Option<&str>) -> Response {
    let mut response = (StatusCode::TOO_MANY_REQUESTS, "Rate limit exceeded").into_response();
    if let Some(value) = retry_after {
        response.headers_mut().insert(header::RETRY_AFTER, value.parse().expect("header value"));
    }
    response
}

/// A 429 that names the limit it hit (`RateLimit-Reason`), with `Retry-After` seconds.
fn too_many_because(reason: &str, retry_after: &str) -> Response {
    let mut response = too_many(Some(retry_after));
    response.headers_mut().insert("RateLimit-Reason", reason.parse().expect("header value"));
    response
}

fn ok_json() -> Response {
    Json(json!({"ok": true})).into_response()
}

#[tokio::test(start_paused = true)]
async fn retry_after_seconds_is_the_minimum_wait() {
    let calls = Calls::default();
    let app = Router::new().route(
        "/rest/api/3/myself",
        scripted(&calls, |n| if n == 1 { too_many(Some("120")) } else { ok_json() }),
    );
    let client = paused_client(&serve(app).await);

    let answer: Value = client.get_json("/rest/api/3/myself").await.expect("second attempt succeeds");

    assert_eq!(answer, json!({"ok": true}));
    assert_eq!(calls.count(), 2);
    assert!(calls.gap(1, 2) >= Duration::from_secs(120), "waited only {:?}", calls.gap(1, 2));
    let stats = client.stats();
    assert_eq!(
        stats,
        ClientStats { api_calls: 2, throttled: 1, retries: 1, ..ClientStats::default() },
        "{stats:?}"
    );
}

#[tokio::test(start_paused = true)]
async fn without_retry_after_the_backoff_doubles_with_jitter() {
    let calls = Calls::default();
    let app = Router::new()
        .route("/wiki/api/v2/spaces", scripted(&calls, |n| if n <= 2 { too_many(None) } else { ok_json() }));
    let client = paused_client(&serve(app).await);

    let _: Value = client.get_json("/wiki/api/v2/spaces").await.expect("third attempt succeeds");

    assert_eq!(calls.count(), 3);
    // Base 500 ms, doubling, jitter 0.7–1.3.
    let (first, second) = (calls.gap(1, 2), calls.gap(2, 3));
    assert!(first >= Duration::from_millis(350) && first <= Duration::from_millis(650 + 50), "{first:?}");
    assert!(second >= Duration::from_millis(700) && second <= Duration::from_millis(1300 + 50), "{second:?}");
    assert_eq!(client.stats().throttled, 2);
    assert_eq!(client.stats().retries, 2);
}

/// One route refused once with `refusal`, another that always answers; the time (since the refusal
/// was read) at which a request to the other route went out.
async fn delay_of_another_request_after(refusal: fn() -> Response) -> Duration {
    let throttled = Arc::new(tokio::sync::Notify::new());
    let other = Calls::default();
    let app = Router::new()
        .route(
            "/limited",
            get({
                let throttled = throttled.clone();
                let calls = Calls::default();
                move || {
                    let n = calls.record();
                    throttled.notify_one();
                    async move {
                        if n == 1 {
                            refusal()
                        } else {
                            ok_json()
                        }
                    }
                }
            }),
        )
        .route("/other", scripted(&other, |_| ok_json()));
    let client = paused_client(&serve(app).await);

    let limited = tokio::spawn({
        let client = client.clone();
        async move { client.get_json::<Value>("/limited").await }
    });
    throttled.notified().await;
    // Let the client read the 429 before the second request starts.
    while client.stats().throttled == 0 {
        tokio::task::yield_now().await;
    }
    let throttled_at = Instant::now();
    let _: Value = client.get_json("/other").await.expect("other request succeeds");

    let arrival = other.arrivals.lock().expect("calls lock")[0];
    limited.await.expect("join").expect("limited request succeeds after its wait");
    arrival - throttled_at
}

#[tokio::test(start_paused = true)]
async fn a_tenant_wide_429_holds_back_every_request_not_just_its_own() {
    for reason in ["jira-quota-tenant-based", "confluence-quota-global-based", "jira-cost-based"] {
        let refusal = match reason {
            "jira-quota-tenant-based" => || too_many_because("jira-quota-tenant-based", "30"),
            "confluence-quota-global-based" => || too_many_because("confluence-quota-global-based", "30"),
            _ => || too_many_because("jira-cost-based", "30"),
        };
        let delay = delay_of_another_request_after(refusal).await;
        assert!(delay >= Duration::from_secs(29), "{reason}: other request went out after {delay:?}");
    }
}

#[tokio::test(start_paused = true)]
async fn a_burst_429_with_retry_after_delays_only_its_own_request() {
    for refusal in [|| too_many_because("jira-burst-based", "30"), || too_many(Some("30"))] {
        let delay = delay_of_another_request_after(refusal).await;
        assert!(delay < Duration::from_secs(1), "other request held back for {delay:?}");
    }
}

#[tokio::test(start_paused = true)]
async fn a_storm_of_first_calls_refused_once_keeps_concurrency_and_pace() {
    // Fifty paths, each refused on its first call with `Retry-After: 1`, fetched eight at a time: every
    // path waits its one second, side by side, so the whole takes a few seconds, not fifty.
    let seen = Arc::new(Mutex::new(std::collections::HashSet::new()));
    let app = Router::new().route(
        "/item/{n}",
        get({
            let seen = seen.clone();
            move |axum::extract::Path(n): axum::extract::Path<u32>| {
                let first = seen.lock().expect("seen lock").insert(n);
                async move {
                    if first {
                        too_many_because("jira-burst-based", "1")
                    } else {
                        ok_json()
                    }
                }
            }
        }),
    );
    let mut config = fast_config(&serve(app).await);
    config.concurrency = std::num::NonZeroUsize::new(8).expect("non-zero");
    config.requests_per_second = 100.0;
    let client = Client::new(config).expect("client");
    let started = Instant::now();

    let mut tasks = tokio::task::JoinSet::new();
    for n in 0..50 {
        let client = client.clone();
        tasks.spawn(async move { client.get_json::<Value>(&format!("/item/{n}")).await });
    }
    while let Some(done) = tasks.join_next().await {
        done.expect("join").expect("every item arrives");
    }

    let took = started.elapsed();
    assert_eq!(client.stats().throttled, 50);
    // 100 calls at 100 a second is one second of pacing; each refusal adds its one second in parallel.
    assert!(took < Duration::from_secs(4), "took {took:?}");
}

#[tokio::test(start_paused = true)]
async fn cancelling_ends_a_retry_after_wait_at_once() {
    let calls = Calls::default();
    let app = Router::new().route("/rest/api/3/myself", scripted(&calls, |_| too_many(Some("600"))));
    let client = paused_client(&serve(app).await);
    let cancel = client.cancellation();
    let call = tokio::spawn({
        let client = client.clone();
        async move { client.get_json::<Value>("/rest/api/3/myself").await }
    });
    while client.stats().throttled == 0 {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let cancelled_at = Instant::now();
    cancel.cancel();

    let error = call.await.expect("join").expect_err("cancelled");
    assert!(matches!(error, Error::Cancelled { .. }), "{error}");
    assert!(cancelled_at.elapsed() < Duration::from_secs(2), "took {:?}", cancelled_at.elapsed());
    assert_eq!(calls.count(), 1, "no retry after cancelling");
    let later = client.get_json::<Value>("/rest/api/3/myself").await.expect_err("still cancelled");
    assert!(matches!(later, Error::Cancelled { .. }), "{later}");
    assert_eq!(calls.count(), 1, "a cancelled client sends nothing");
}

#[tokio::test(start_paused = true)]
async fn cancelling_ends_a_pacer_wait_and_a_request_in_flight() {
    let app = Router::new()
        .route("/fast", get(|| async { ok_json() }))
        .route("/hangs", get(std::future::pending::<Response>));
    let origin = serve(app).await;
    let mut config = fast_config(&origin);
    // One request a minute: the second call waits a minute for its slot.
    config.requests_per_second = 1.0 / 60.0;
    let client = Client::new(config).expect("client");
    let _: Value = client.get_json("/fast").await.expect("first slot is free");
    let paced = tokio::spawn({
        let client = client.clone();
        async move { client.get_json::<Value>("/fast").await }
    });
    let hanging = tokio::spawn({
        let client = Client::new(fast_config(&origin)).expect("client");
        let cancel = client.cancellation();
        let call = tokio::spawn(async move { client.get_json::<Value>("/hangs").await });
        async move {
            tokio::time::sleep(Duration::from_secs(5)).await;
            let cancelled_at = Instant::now();
            cancel.cancel();
            (call.await.expect("join"), cancelled_at.elapsed())
        }
    });
    tokio::time::sleep(Duration::from_secs(1)).await;
    let cancelled_at = Instant::now();
    client.cancellation().cancel();

    let error = paced.await.expect("join").expect_err("cancelled while paced");
    assert!(matches!(error, Error::Cancelled { .. }), "{error}");
    assert!(cancelled_at.elapsed() < Duration::from_secs(2), "paced call took {:?}", cancelled_at.elapsed());
    let (result, took) = hanging.await.expect("join");
    assert!(matches!(result, Err(Error::Cancelled { .. })), "{result:?}");
    assert!(took < Duration::from_secs(2), "request in flight took {took:?} to stop");
}

#[tokio::test]
async fn a_503_storm_exhausts_the_retry_budget_and_names_path_and_attempts() {
    let calls = Calls::default();
    let app = Router::new().route(
        "/rest/api/3/search/jql",
        scripted(&calls, |_| StatusCode::SERVICE_UNAVAILABLE.into_response()),
    );
    let client = fast_client(&serve(app).await);

    let error = client.get_json::<Value>("/rest/api/3/search/jql?jql=project%3DSECRET").await.unwrap_err();

    assert_eq!(calls.count(), 4, "one attempt and three retries");
    assert!(matches!(error, Error::Status { status: 503, attempts: 4, .. }), "{error:?}");
    let message = error.to_string();
    assert!(message.contains("/rest/api/3/search/jql"), "{message}");
    assert!(message.contains("503") && message.contains("4 attempt"), "{message}");
    assert!(!message.contains("SECRET"), "the query stays out of the message: {message}");
    let stats = client.stats();
    assert_eq!(
        (stats.api_calls, stats.server_errors, stats.retries, stats.failures),
        (4, 4, 3, 1),
        "{stats:?}"
    );
}

#[tokio::test(start_paused = true)]
async fn a_429_storm_does_not_spend_the_retry_budget_of_real_failures() {
    // Ten 429s, then a 503, then success: three retries would be spent four times over if a 429 counted.
    let calls = Calls::default();
    let app = Router::new().route(
        "/rest/api/3/project/search",
        scripted(&calls, |n| match n {
            1..=10 => too_many(Some("2")),
            11 => StatusCode::SERVICE_UNAVAILABLE.into_response(),
            _ => ok_json(),
        }),
    );
    let client = paused_client(&serve(app).await);

    let answer: Value = client.get_json("/rest/api/3/project/search").await.expect("the storm is waited out");

    assert_eq!(answer, json!({"ok": true}));
    assert_eq!(calls.count(), 12);
    let stats = client.stats();
    assert_eq!((stats.throttled, stats.retries, stats.failures), (10, 11, 0), "{stats:?}");
}

#[tokio::test(start_paused = true)]
async fn a_429_storm_longer_than_the_throttle_budget_fails_the_request() {
    let calls = Calls::default();
    let app = Router::new().route("/wiki/api/v2/spaces", scripted(&calls, |_| too_many(Some("60"))));
    let mut config = fast_config(&serve(app).await);
    config.max_throttle_wait = Duration::from_secs(5 * 60);
    let client = Client::new(config).expect("client");

    let error = client.get_json::<Value>("/wiki/api/v2/spaces").await.unwrap_err();

    // 60 s each: the sixth wait would pass five minutes, so the sixth answer is the last.
    assert!(matches!(error, Error::Status { status: 429, attempts: 6, .. }), "{error:?}");
    assert_eq!(calls.count(), 6);
    assert_eq!(client.stats().failures, 1);
}

#[tokio::test]
async fn client_errors_fail_at_once_with_the_sites_reason() {
    let calls = Calls::default();
    let app = Router::new().route(
        "/wiki/api/v2/pages/42",
        scripted(&calls, |_| {
            (StatusCode::NOT_FOUND, Json(json!({"errors": [{"status": 404, "title": "Page not found"}]})))
                .into_response()
        }),
    );
    let client = fast_client(&serve(app).await);

    let error = client.get_json::<Value>("/wiki/api/v2/pages/42").await.unwrap_err();

    assert_eq!(calls.count(), 1);
    assert_eq!(error.status(), Some(404));
    assert!(error.to_string().contains("Page not found"), "{error}");
    assert_eq!(client.stats().retries, 0);
    assert_eq!(client.stats().failures, 1);
}

#[tokio::test]
async fn malformed_json_is_retried_then_parsed() {
    let calls = Calls::default();
    let app = Router::new().route(
        "/wiki/api/v2/spaces",
        scripted(&calls, |n| {
            if n == 1 {
                ([(header::CONTENT_TYPE, "application/json")], "{\"results\": [1, 2").into_response()
            } else {
                Json(json!({"results": [1, 2, 3]})).into_response()
            }
        }),
    );
    let client = fast_client(&serve(app).await);

    let page: v2::MultiEntityResult<u32> =
        client.get_json("/wiki/api/v2/spaces").await.expect("second body parses");

    assert_eq!(page.results, vec![1, 2, 3]);
    assert_eq!(calls.count(), 2);
    assert_eq!(client.stats().malformed, 1);
    assert_eq!(client.stats().failures, 0);
}

#[tokio::test]
async fn json_that_stays_broken_is_reported_as_malformed() {
    let calls = Calls::default();
    let app = Router::new()
        .route("/wiki/api/v2/spaces", scripted(&calls, |_| "<html>maintenance</html>".into_response()));
    let client = fast_client(&serve(app).await);

    let error = client.get_json::<Value>("/wiki/api/v2/spaces").await.unwrap_err();

    assert!(
        matches!(&error, Error::Malformed { path, attempts: 4, .. } if path == "/wiki/api/v2/spaces"),
        "{error:?}"
    );
    assert_eq!(calls.count(), 4);
}

/// Answers `200` with a `Content-Length` of 100 but only 20 bytes, then closes.
async fn truncated(socket: &mut TcpStream) {
    let head = "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n";
    let _ = socket.write_all(head.as_bytes()).await;
    let _ = socket.write_all(br#"{"results": [1, 2, 3"#).await;
    let _ = socket.shutdown().await;
}

#[tokio::test]
async fn a_body_cut_short_is_malformed_and_retried() {
    let origin = serve_raw(|connection, mut socket| async move {
        if connection == 0 {
            truncated(&mut socket).await;
        } else {
            let body = r#"{"results": [7]}"#;
            let head = format!(
                "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                body.len()
            );
            let _ = socket.write_all(format!("{head}{body}").as_bytes()).await;
        }
    })
    .await;
    let client = fast_client(&origin);

    let page: v2::MultiEntityResult<u32> =
        client.get_json("/wiki/api/v2/spaces").await.expect("retry succeeds");

    assert_eq!(page.results, vec![7]);
    assert_eq!(client.stats().malformed, 1);
    assert_eq!(client.stats().api_calls, 2);
}

#[tokio::test]
async fn a_body_always_cut_short_is_reported_as_malformed() {
    let origin = serve_raw(|_, mut socket| async move { truncated(&mut socket).await }).await;
    let client = fast_client(&origin);

    let error = client.get_json::<Value>("/wiki/api/v2/spaces").await.unwrap_err();

    match &error {
        Error::Malformed { reason, attempts: 4, .. } => assert!(reason.contains("cut short"), "{reason}"),
        other => panic!("expected a malformed error, got {other:?}"),
    }
}

/// What a fake server saw in `Authorization`, per request.
#[derive(Clone, Default)]
struct SeenAuth(Arc<Mutex<Vec<Option<String>>>>);

impl SeenAuth {
    fn record(&self, headers: &HeaderMap) {
        let value = headers.get(header::AUTHORIZATION).map(|v| v.to_str().expect("ascii").to_owned());
        self.0.lock().expect("auth lock").push(value);
    }

    fn all(&self) -> Vec<Option<String>> {
        self.0.lock().expect("auth lock").clone()
    }
}

#[tokio::test]
async fn redirects_carry_the_token_to_the_same_origin_only() {
    let media_seen = SeenAuth::default();
    let media = serve(Router::new().route(
        "/file/{id}/binary",
        get({
            let seen = media_seen.clone();
            move |headers: HeaderMap| {
                seen.record(&headers);
                async move { ([(header::CONTENT_TYPE, "application/pdf")], b"%PDF-1.7 media".to_vec()) }
            }
        }),
    ))
    .await;
    let site_seen = SeenAuth::default();
    let media_location = format!("{media}/file/77/binary?token=signed-media-token");
    let site = serve(
        Router::new()
            .route(
                "/rest/api/3/attachment/content/77",
                get(move || {
                    let location = media_location.clone();
                    async move { (StatusCode::SEE_OTHER, [(header::LOCATION, location)]) }
                }),
            )
            .route("/wiki/moved", get(|| async { (StatusCode::FOUND, [(header::LOCATION, "/wiki/here")]) }))
            .route(
                "/wiki/here",
                get({
                    let seen = site_seen.clone();
                    move |headers: HeaderMap| {
                        seen.record(&headers);
                        async move { b"same origin".to_vec() }
                    }
                }),
            ),
    )
    .await;
    let client = fast_client(&site);

    let cross = client.download("/rest/api/3/attachment/content/77", 1 << 20).await.expect("media download");
    let same = client.download("/wiki/moved", 1 << 20).await.expect("same-origin download");

    assert_eq!(cross.bytes, b"%PDF-1.7 media");
    assert_eq!(cross.content_type.as_deref(), Some("application/pdf"));
    assert_eq!(media_seen.all(), vec![None], "the media host must not see the Authorization header");
    assert_eq!(same.bytes, b"same origin");
    assert_eq!(site_seen.all(), vec![Some(format!("Basic {}", basic_credentials()))]);
    assert_eq!(client.stats().api_calls, 4, "each hop is a call");
}

#[tokio::test]
async fn redirect_loops_are_cut_off() {
    let calls = Calls::default();
    let app = Router::new().route(
        "/loop",
        scripted(&calls, |_| (StatusCode::FOUND, [(header::LOCATION, "/loop")]).into_response()),
    );
    let client = fast_client(&serve(app).await);

    let error = client.get_json::<Value>("/loop").await.unwrap_err();

    assert!(matches!(error, Error::TooManyRedirects { limit: 5, .. }), "{error:?}");
    assert_eq!(calls.count(), 6, "five hops followed, the sixth refused, no retries");
}

#[tokio::test]
async fn downloads_over_the_cap_by_content_length_are_refused() {
    let app = Router::new().route("/download/big", get(|| async { vec![b'x'; 1000] }));
    let client = fast_client(&serve(app).await);

    let error = client.download("/download/big", 999).await.unwrap_err();
    assert!(matches!(error, Error::TooLarge { limit: 999, length: Some(1000), .. }), "{error:?}");

    let exact = client.download("/download/big", 1000).await.expect("fits exactly");
    assert_eq!(exact.bytes.len(), 1000);
}

#[tokio::test]
async fn the_client_cap_bounds_what_a_caller_asks_for() {
    let app = Router::new().route("/download/big", get(|| async { vec![b'x'; 1000] }));
    let mut config = fast_config(&serve(app).await);
    config.max_download_bytes = 500;
    let client = Client::new(config).expect("client");

    let error = client.download("/download/big", 1 << 20).await.unwrap_err();

    assert!(matches!(error, Error::TooLarge { limit: 500, .. }), "{error:?}");
}

#[tokio::test]
async fn an_endless_stream_is_cut_at_the_cap_without_reading_the_rest() {
    let (closed_tx, closed_rx) = tokio::sync::oneshot::channel::<usize>();
    let closed_tx = Arc::new(Mutex::new(Some(closed_tx)));
    let origin = serve_raw(move |_, mut socket| {
        let closed_tx = closed_tx.clone();
        async move {
            let head = "HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\nTransfer-Encoding: chunked\r\n\r\n";
            if socket.write_all(head.as_bytes()).await.is_err() {
                return;
            }
            let chunk = format!("{:x}\r\n{}\r\n", 4096, "y".repeat(4096));
            let mut sent = 0usize;
            // Endless: only the client closing the connection stops this loop.
            while socket.write_all(chunk.as_bytes()).await.is_ok() {
                sent += 4096;
            }
            if let Some(tx) = closed_tx.lock().expect("lock").take() {
                let _ = tx.send(sent);
            }
        }
    })
    .await;
    let client = fast_client(&origin);

    let error = client.download("/stream", 64 * 1024).await.unwrap_err();

    assert!(matches!(error, Error::TooLarge { limit: 65536, length: None, .. }), "{error:?}");
    drop(client);
    let sent = tokio::time::timeout(Duration::from_secs(60), closed_rx)
        .await
        .expect("the client closed the connection")
        .expect("server reports");
    assert!(sent > 64 * 1024, "the server got past the cap before the client hung up ({sent} bytes)");
}

#[tokio::test]
async fn requests_in_flight_stay_within_the_concurrency_limit() {
    #[derive(Clone, Default)]
    struct Gauge {
        now: Arc<AtomicUsize>,
        max: Arc<AtomicUsize>,
    }
    let gauge = Gauge::default();
    let app = Router::new().route(
        "/slow",
        get({
            let gauge = gauge.clone();
            move || {
                let gauge = gauge.clone();
                async move {
                    let now = gauge.now.fetch_add(1, Ordering::SeqCst) + 1;
                    gauge.max.fetch_max(now, Ordering::SeqCst);
                    for _ in 0..50 {
                        tokio::task::yield_now().await;
                    }
                    gauge.now.fetch_sub(1, Ordering::SeqCst);
                    ok_json()
                }
            }
        }),
    );
    let mut config = fast_config(&serve(app).await);
    config.concurrency = std::num::NonZeroUsize::new(3).expect("non-zero");
    let client = Client::new(config).expect("client");

    let mut tasks = Vec::new();
    for _ in 0..12 {
        let client = client.clone();
        tasks.push(tokio::spawn(async move { client.get_json::<Value>("/slow").await }));
    }
    for task in tasks {
        task.await.expect("join").expect("request succeeds");
    }

    let max = gauge.max.load(Ordering::SeqCst);
    assert!((1..=3).contains(&max), "{max} requests were in flight at once");
    assert_eq!(client.stats().api_calls, 12);
}

#[tokio::test]
async fn a_base_url_with_a_path_prefix_is_kept() {
    let app = Router::new().route("/atlassian/wiki/api/v2/spaces", get(|| async { ok_json() }));
    let client = fast_client(&format!("{}/atlassian/", serve(app).await));

    let answer: Value = client.get_json("/wiki/api/v2/spaces").await.expect("prefixed path");

    assert_eq!(answer, json!({"ok": true}));
}

/// A v2 listing served from a table: cursor (absent on the first page) → (items, next link).
fn cursor_listing(
    calls: &Calls,
    pages: &'static [(&'static str, &'static [u32], Option<&'static str>)],
) -> Router {
    let calls = calls.clone();
    Router::new().route(
        "/wiki/api/v2/spaces",
        get(move |Query(query): Query<std::collections::HashMap<String, String>>| {
            calls.record();
            let cursor = query.get("cursor").map(String::as_str).unwrap_or("");
            let (_, items, next) = pages.iter().find(|(c, _, _)| *c == cursor).expect("known cursor");
            let mut body = json!({"results": items, "_links": {}});
            if let Some(next) = next {
                body["_links"]["next"] = json!(format!("/wiki/api/v2/spaces?cursor={next}"));
            }
            async move { Json(body) }
        }),
    )
}

type Spaces = v2::MultiEntityResult<u32>;

#[tokio::test]
async fn the_cursor_walker_follows_next_links_and_stops_on_a_repeated_one() {
    let calls = Calls::default();
    let app =
        cursor_listing(&calls, &[("", &[1, 2], Some("b")), ("b", &[3], Some("c")), ("c", &[4], Some("b"))]);
    let client = fast_client(&serve(app).await);
    let mut pager = CursorPager::<Spaces>::new("/wiki/api/v2/spaces");

    let first = pager.next_page(&client).await.expect("page 1").expect("some");
    assert_eq!(first, vec![1, 2]);
    assert_eq!(pager.checkpoint(), Some("/wiki/api/v2/spaces?cursor=b"));
    let mut rest = Vec::new();
    while let Some(items) = pager.next_page(&client).await.expect("page") {
        rest.extend(items);
    }

    assert_eq!(rest, vec![3, 4]);
    assert_eq!(calls.count(), 3, "the repeated link is not fetched again");
    assert_eq!(pager.checkpoint(), None);
    assert!(
        matches!(pager.anomaly(), Some(CursorAnomaly::RepeatedNext { link, pages: 3 }) if link.ends_with("cursor=b")),
        "{:?}",
        pager.anomaly()
    );
    assert!(pager.next_page(&client).await.expect("done").is_none());
    assert_eq!(calls.count(), 3);
}

#[tokio::test]
async fn the_cursor_walker_stops_on_an_empty_page_with_a_next_link() {
    let calls = Calls::default();
    let app = cursor_listing(&calls, &[("", &[1], Some("b")), ("b", &[], Some("c")), ("c", &[9], None)]);
    let client = fast_client(&serve(app).await);

    let (items, anomaly) =
        CursorPager::<Spaces>::new("/wiki/api/v2/spaces").collect_all(&client).await.expect("walk");

    assert_eq!(items, vec![1]);
    assert_eq!(calls.count(), 2, "the link after the empty page is not followed");
    assert!(matches!(anomaly, Some(CursorAnomaly::EmptyPageWithNext { pages: 2, .. })), "{anomaly:?}");
}

#[tokio::test]
async fn the_cursor_walker_resumes_from_a_checkpoint_and_ends_cleanly() {
    let calls = Calls::default();
    let app = cursor_listing(&calls, &[("", &[1], Some("b")), ("b", &[2], Some("c")), ("c", &[3], None)]);
    let client = fast_client(&serve(app).await);
    let mut first = CursorPager::<Spaces>::new("/wiki/api/v2/spaces");
    first.next_page(&client).await.expect("page 1");
    let checkpoint = first.checkpoint().expect("more to come").to_owned();

    let (items, anomaly) = CursorPager::<Spaces>::new(checkpoint).collect_all(&client).await.expect("walk");

    assert_eq!(items, vec![2, 3]);
    assert_eq!(anomaly, None);
    assert_eq!(calls.count(), 3);
}

#[tokio::test]
async fn the_cursor_walker_follows_the_link_header_and_v1_context_relative_links() {
    let app = Router::new()
        .route(
            "/wiki/api/v2/pages",
            get(|Query(query): Query<std::collections::HashMap<String, String>>| async move {
                match query.get("cursor") {
                    None => (
                        [(header::LINK, r#"</wiki/api/v2/pages?cursor=z>; rel="next""#)],
                        Json(json!({"results": [1]})),
                    )
                        .into_response(),
                    Some(_) => Json(json!({"results": [2], "_links": {}})).into_response(),
                }
            }),
        )
        .route(
            "/wiki/rest/api/content/search",
            get(|Query(query): Query<std::collections::HashMap<String, String>>| async move {
                match query.get("cursor") {
                    None => Json(json!({"results": [10], "size": 1, "_links": {
                        "context": "/wiki", "next": "/rest/api/content/search?cql=x&cursor=q"}})),
                    Some(_) => Json(json!({"results": [11], "size": 1, "_links": {"context": "/wiki"}})),
                }
            }),
        );
    let client = fast_client(&serve(app).await);

    let (v2_items, _) =
        CursorPager::<Spaces>::new("/wiki/api/v2/pages").collect_all(&client).await.expect("v2");
    let (v1_items, _) = CursorPager::<v1::ResultArray<u32>>::new("/wiki/rest/api/content/search?cql=x")
        .collect_all(&client)
        .await
        .expect("v1");

    assert_eq!(v2_items, vec![1, 2]);
    assert_eq!(v1_items, vec![10, 11]);
}

/// One page of a scripted Jira search: the token it answers (absent on the first page), its issue ids, the
/// next token and `isLast`.
type SearchPage = (Option<&'static str>, &'static [&'static str], Option<&'static str>, bool);

/// A Jira search served from a table of [`SearchPage`]s.
fn jira_search(calls: &Calls, pages: &'static [SearchPage]) -> Router {
    let calls = calls.clone();
    Router::new().route(
        "/rest/api/3/search/jql",
        post(move |Json(request): Json<jira::SearchRequest>| {
            calls.record();
            let (_, ids, next, is_last) = pages
                .iter()
                .find(|(token, _, _, _)| token.map(str::to_owned) == request.next_page_token)
                .expect("known token");
            let issues: Vec<Value> = ids.iter().map(|id| json!({"id": id})).collect();
            let mut body = json!({"issues": issues, "isLast": is_last});
            if let Some(next) = next {
                body["nextPageToken"] = json!(next);
            }
            async move { Json(body) }
        }),
    )
}

fn search_request() -> jira::SearchRequest {
    jira::SearchRequest { jql: Some("updated >= 1700000000000 order by id".into()), ..Default::default() }
}

type Search = TokenPager<jira::SearchRequest, jira::SearchAndReconcileResults>;

#[tokio::test]
async fn the_token_walker_stops_on_is_last() {
    let calls = Calls::default();
    let app = jira_search(
        &calls,
        &[
            (None, &["1", "2"], Some("t1"), false),
            (Some("t1"), &["3"], Some("t2"), true),
            (Some("t2"), &["4"], None, true),
        ],
    );
    let client = fast_client(&serve(app).await);
    let mut pager = Search::new("/rest/api/3/search/jql", search_request());

    let first = pager.next_page(&client).await.expect("page 1").expect("some");
    assert_eq!(pager.checkpoint(), Some("t1"));
    let second = pager.next_page(&client).await.expect("page 2").expect("some");
    let after = pager.next_page(&client).await.expect("done");

    let ids: Vec<&str> = first.iter().chain(&second).map(|issue| issue.id.as_str()).collect();
    assert_eq!(ids, ["1", "2", "3"]);
    assert!(after.is_none());
    assert!(pager.is_done());
    assert_eq!(calls.count(), 2, "a token on the last page is not followed");
}

#[tokio::test]
async fn the_token_walker_stops_when_the_token_is_absent_and_resumes_from_a_checkpoint() {
    let calls = Calls::default();
    let app = jira_search(&calls, &[(None, &["1"], Some("t1"), false), (Some("t1"), &["2"], None, false)]);
    let client = fast_client(&serve(app).await);

    let resumed = Search::new("/rest/api/3/search/jql", search_request())
        .resume_at("t1".into())
        .collect_all(&client)
        .await;

    let ids: Vec<String> = resumed.expect("walk").into_iter().map(|issue| issue.id).collect();
    assert_eq!(ids, ["2"]);
    assert_eq!(calls.count(), 1);
}

#[tokio::test]
async fn a_repeated_page_token_is_an_error_not_a_loop() {
    let calls = Calls::default();
    let app =
        jira_search(&calls, &[(None, &["1"], Some("t1"), false), (Some("t1"), &["2"], Some("t1"), false)]);
    let client = fast_client(&serve(app).await);

    let error =
        Search::new("/rest/api/3/search/jql", search_request()).collect_all(&client).await.unwrap_err();

    assert!(matches!(error, Error::RepeatedPageToken { pages: 2, .. }), "{error:?}");
    assert_eq!(calls.count(), 2);
}

#[tokio::test]
async fn the_offset_walker_pages_a_jira_page_bean_whose_server_caps_the_page_size() {
    let calls = Calls::default();
    let app = Router::new().route(
        "/rest/api/3/project/search",
        get({
            let calls = calls.clone();
            move |Query(query): Query<std::collections::HashMap<String, String>>| {
                calls.record();
                assert_eq!(query["orderBy"], "key", "the path's own query is kept");
                let start: u64 = query["startAt"].parse().expect("startAt");
                // Five projects; the server gives at most 2 per page whatever was asked.
                let values: Vec<u64> = (start..5).take(2).collect();
                let body = json!({"startAt": start, "maxResults": 2, "total": 5,
                    "isLast": start + values.len() as u64 >= 5, "values": values});
                async move { Json(body) }
            }
        }),
    );
    let client = fast_client(&serve(app).await);
    let mut pager = OffsetPager::<jira::PageBean<u64>>::new("/rest/api/3/project/search?orderBy=key", 50);

    let first = pager.next_page(&client).await.expect("page 1").expect("some");
    assert_eq!((first, pager.checkpoint()), (vec![0, 1], Some(2)));
    let rest = OffsetPager::<jira::PageBean<u64>>::new("/rest/api/3/project/search?orderBy=key", 50)
        .resume_at(2)
        .collect_all(&client)
        .await
        .expect("walk");

    assert_eq!(rest, vec![2, 3, 4]);
    assert_eq!(calls.count(), 3);
}

#[tokio::test]
async fn the_offset_walker_stops_a_v1_listing_on_a_short_page() {
    let calls = Calls::default();
    let app = Router::new().route(
        "/wiki/rest/api/group/g1/membersByGroupId",
        get({
            let calls = calls.clone();
            move |Query(query): Query<std::collections::HashMap<String, u32>>| {
                calls.record();
                let (start, limit) = (query["start"], query["limit"]);
                let results: Vec<u32> = (start..7).take(limit as usize).collect();
                let body = json!({"results": results, "start": start, "limit": limit, "size": results.len()});
                async move { Json(body) }
            }
        }),
    );
    let client = fast_client(&serve(app).await);

    let members = OffsetPager::<v1::ResultArray<u32>>::new("/wiki/rest/api/group/g1/membersByGroupId", 3)
        .collect_all(&client)
        .await
        .expect("walk");

    assert_eq!(members, (0..7).collect::<Vec<_>>());
    assert_eq!(calls.count(), 3, "pages of 3, 3 and 1");
}

#[tokio::test]
async fn the_token_appears_in_no_error() {
    // A site that echoes the request's headers into its error bodies, and one that is not there at all.
    let app = Router::new()
        .route(
            "/echo",
            get(|headers: HeaderMap| async move {
                let auth = headers.get(header::AUTHORIZATION).map(|v| v.to_str().unwrap_or("").to_owned());
                (StatusCode::UNAUTHORIZED, format!("bad credentials: {auth:?} {}", TOKEN))
            }),
        )
        .route("/unavailable", get(|| async { (StatusCode::SERVICE_UNAVAILABLE, TOKEN) }))
        .route("/broken", get(|| async { format!("{{\"token\": \"{TOKEN}\"") }))
        .route("/big", get(|| async { vec![0u8; 100] }));
    let origin = serve(app).await;
    let client = fast_client(&origin);
    let closed = {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let origin = format!("http://{}", listener.local_addr().expect("addr"));
        drop(listener);
        fast_client(&origin)
    };

    let errors = vec![
        client.get_json::<Value>("/echo").await.unwrap_err(),
        client.get_json::<Value>("/unavailable").await.unwrap_err(),
        client.get_json::<Value>("/broken").await.unwrap_err(),
        client.download("/big", 10).await.unwrap_err(),
        client.get_json::<Value>("relative").await.unwrap_err(),
        closed.get_json::<Value>("/anything").await.unwrap_err(),
    ];

    let credentials = basic_credentials();
    for error in errors {
        // As the client raises it, and as the sync engine passes it on.
        let own = (error.to_string(), format!("{error:?}"));
        let sync_error = permdex::sync::Error::from(error);
        for text in [own.0, own.1, sync_error.to_string(), format!("{sync_error:?}")] {
            assert!(!text.contains(TOKEN), "token in {text}");
            assert!(!text.contains(&credentials), "encoded credentials in {text}");
        }
    }
    for text in [format!("{client:?}"), format!("{:?}", fast_config(&origin))] {
        assert!(!text.contains(TOKEN) && !text.contains(&credentials), "{text}");
    }
}

/// The bundled simulator, crawled through the client with pages of one item: every space and every issue
/// of the model (archived issues aside, which Jira search leaves out) arrives exactly once, and the call
/// counter matches the pages walked.
#[tokio::test]
async fn walks_the_simulators_listings_to_the_end() {
    use permdex::sim::fixture::tiny_site;
    use permdex::sim::http::{serve as serve_sim, Credentials, SimState};
    use permdex::sim::{Scale, SimConfig};

    let site = tiny_site();
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind loopback");
    let origin = format!("http://{}", listener.local_addr().expect("local addr"));
    let credentials = Credentials { email: EMAIL.into(), token: TOKEN.into() };
    let state = SimState::new(site.clone(), SimConfig::new(site.seed, Scale::Tiny), credentials);
    tokio::spawn(async move { serve_sim(listener, state, std::future::pending()).await.expect("serve") });
    let client = fast_client(&origin);

    let mut spaces = CursorPager::<v2::MultiEntityResult<v2::Space>>::new("/wiki/api/v2/spaces?limit=1");
    let mut space_ids = Vec::new();
    while let Some(page) = spaces.next_page(&client).await.expect("spaces page") {
        assert!(page.len() <= 1, "pages of one");
        space_ids.extend(page.into_iter().map(|space| space.id.parse::<u64>().expect("numeric space id")));
    }
    let project_keys: Vec<&str> = site.projects.values().map(|project| project.key.as_str()).collect();
    let request = jira::SearchRequest {
        jql: Some(format!("project in ({}) order by id", project_keys.join(", "))),
        max_results: Some(1),
        ..Default::default()
    };
    let issues = Search::new("/rest/api/3/search/jql", request).collect_all(&client).await.expect("issues");

    space_ids.sort_unstable();
    assert_eq!(space_ids, site.spaces.keys().copied().collect::<Vec<_>>());
    assert_eq!(spaces.anomaly(), None);
    let mut issue_ids: Vec<u64> =
        issues.iter().map(|issue| issue.id.parse().expect("numeric issue id")).collect();
    issue_ids.sort_unstable();
    let searchable: Vec<u64> =
        site.issues.values().filter(|issue| !issue.archived).map(|issue| issue.id).collect();
    assert_eq!(issue_ids, searchable);
    let stats = client.stats();
    assert_eq!(stats.api_calls, spaces.pages() + issues.len() as u64, "{stats:?}");
    assert_eq!((stats.retries, stats.failures), (0, 0));
}

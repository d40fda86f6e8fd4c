//! The server against hostile clients: invented methods cannot grow `/metrics`, which takes its own key
//! when one is set; every refusal (405, 414, 431 and the rest) is JSON and every response says `nosniff`;
//! slow and idle connections are closed at the header deadline while searches still answer; search terms
//! stay out of debug logs unless asked for.

use std::io::Write;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use permdex::config::ConnectionLimits;
use permdex::server::Limits;
use serde_json::Value;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use super::{assert_error, good_jwt, start_with, SOURCE_TOKEN};

/// `[server]` lines with `/metrics` behind a key (the source token's variable, for want of another).
const WITH_METRICS_KEY: &str = "jwt_hs256_secret_env = \"JWT\"\nmetrics_key_env = \"TOK\"";

#[tokio::test]
async fn metrics_labels_stay_bounded_and_the_key_guards_them() {
    let server = start_with(WITH_METRICS_KEY, Limits::default()).await;
    for i in 0..300 {
        let method = reqwest::Method::from_bytes(format!("INVENTED{i}").as_bytes()).unwrap();
        let response = server.http.request(method, format!("{}/api/v1/search", server.base)).send().await;
        assert!(response.unwrap().status().is_client_error());
    }
    let (status, body, _) = server.get("/metrics", None).await;
    assert_error(status, &body, 401, "unauthorized", "no metrics key");
    let (status, _, _) = server.get("/metrics", Some(&good_jwt("u1"))).await;
    assert_eq!(status, 401, "a user token is not the metrics key");
    let (status, _, text) = server.get("/metrics", Some(SOURCE_TOKEN)).await;
    assert_eq!(status, 200, "{text}");
    assert!(!text.contains("INVENTED"), "an invented method is never a label value");
    let methods: std::collections::BTreeSet<&str> = text
        .lines()
        .filter(|l| l.starts_with("permdex_http_requests_total{"))
        .filter_map(|l| l.split("method=\"").nth(1)?.split('"').next())
        .collect();
    assert_eq!(methods.into_iter().collect::<Vec<_>>(), ["GET", "other"], "{text}");
    assert!(text.len() < 16 * 1024, "{} bytes of metrics after 300 invented methods", text.len());
}

#[tokio::test]
async fn metrics_are_open_without_a_key() {
    let server = start_with("jwt_hs256_secret_env = \"JWT\"", Limits::default()).await;
    let (status, _, text) = server.get("/metrics", None).await;
    assert_eq!(status, 200, "{text}");
}

/// Sends `request` (a whole HTTP/1.1 request) on a fresh connection and returns status, headers and body.
async fn raw(base: &str, request: &[u8]) -> (u16, String, Value) {
    let mut stream = TcpStream::connect(base.trim_start_matches("http://")).await.unwrap();
    stream.write_all(request).await.unwrap();
    let mut bytes = Vec::new();
    stream.read_to_end(&mut bytes).await.unwrap();
    let text = String::from_utf8_lossy(&bytes).into_owned();
    let (head, body) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
    let status = head.split(' ').nth(1).and_then(|s| s.parse().ok()).unwrap_or(0);
    (status, head.to_ascii_lowercase(), serde_json::from_str(body).unwrap_or(Value::Null))
}

#[tokio::test]
async fn every_refusal_is_json_and_every_response_says_nosniff() {
    let server = start_with("jwt_hs256_secret_env = \"JWT\"", Limits::default()).await;
    let long_uri = format!("/api/v1/search?q={}", "a".repeat(62_000));
    let many_headers: String = (0..150).map(|i| format!("x-h{i}: v\r\n")).collect();
    let big_header = format!("x-big: {}\r\n", "b".repeat(40_000));
    let cases = [
        (
            "POST /api/v1/search HTTP/1.1\r\nhost: a\r\ncontent-length: 0\r\nconnection: close\r\n\r\n"
                .to_owned(),
            405,
            "method_not_allowed",
        ),
        ("GET /nowhere HTTP/1.1\r\nhost: a\r\nconnection: close\r\n\r\n".to_owned(), 404, "not_found"),
        (format!("GET {long_uri} HTTP/1.1\r\nhost: a\r\nconnection: close\r\n\r\n"), 414, "uri_too_long"),
        (
            format!("GET /healthz HTTP/1.1\r\nhost: a\r\n{many_headers}connection: close\r\n\r\n"),
            431,
            "headers_too_large",
        ),
        (
            format!("GET /healthz HTTP/1.1\r\nhost: a\r\n{big_header}connection: close\r\n\r\n"),
            431,
            "headers_too_large",
        ),
        (
            "GET /api/v1/search HTTP/1.1\r\nhost: a\r\nconnection: close\r\n\r\n".to_owned(),
            401,
            "unauthorized",
        ),
    ];
    for (request, status, code) in cases {
        let context = &request[..40.min(request.len())];
        let (got, head, body) = raw(&server.base, request.as_bytes()).await;
        assert_error(got, &body, status, code, context);
        assert!(head.contains("content-type: application/json"), "{context}: {head}");
        assert!(head.contains("x-content-type-options: nosniff"), "{context}: {head}");
    }
    let request = format!(
        "GET /api/v1/search?q=release HTTP/1.1\r\nhost: a\r\nauthorization: Bearer {}\r\nconnection: close\r\n\r\n",
        good_jwt("u1")
    );
    let (status, head, _) = raw(&server.base, request.as_bytes()).await;
    assert_eq!(status, 200, "{head}");
    assert!(head.contains("x-content-type-options: nosniff"), "{head}");
}

/// Whether the server closes `stream` (end of file or reset) within `within`.
async fn closed_within(stream: &mut TcpStream, within: Duration) -> bool {
    let mut buf = [0u8; 1024];
    let deadline = tokio::time::Instant::now() + within;
    loop {
        match tokio::time::timeout_at(deadline, stream.read(&mut buf)).await {
            Err(_) => return false,
            Ok(Ok(0) | Err(_)) => return true,
            // A response (to a complete request) before the close.
            Ok(Ok(_)) => continue,
        }
    }
}

/// Connections that send nothing, half a request, or a request a byte at a time fill the cap; they are
/// closed at the header deadline, an idle keep-alive connection too, and a search waiting for a slot
/// then answers.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn slow_connections_are_closed_and_searches_still_answer() {
    let connections = ConnectionLimits { header_read_timeout: Duration::from_secs(1), max_connections: 6 };
    let server =
        start_with("jwt_hs256_secret_env = \"JWT\"", Limits { connections, ..Limits::default() }).await;
    let addr = server.base.trim_start_matches("http://").to_owned();
    let mut held = Vec::new();
    for i in 0..5 {
        let mut stream = TcpStream::connect(&addr).await.unwrap();
        if i % 2 == 1 {
            stream.write_all(b"GET /api/v1/search?q=x HTTP/1.1\r\nhost: a\r\n").await.unwrap();
        }
        held.push(stream);
    }
    let mut idle = TcpStream::connect(&addr).await.unwrap();
    idle.write_all(b"GET /healthz HTTP/1.1\r\nhost: a\r\n\r\n").await.unwrap();
    let dripping = {
        let addr = addr.clone();
        tokio::spawn(async move {
            let mut stream = TcpStream::connect(&addr).await.unwrap();
            for byte in b"GET /healthz HTTP/1.1\r\nhost: a\r\nx-slow: aaaaaaaaaaaaaaaaaaaaaaaaaaaaa\r\n\r\n" {
                if stream.write_all(&[*byte]).await.is_err() {
                    return true;
                }
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
            closed_within(&mut stream, Duration::from_secs(30)).await
        })
    };

    // Every slot is taken; the search waits for one and answers.
    let search = server
        .http
        .get(format!("{}/api/v1/search?q=release", server.base))
        .bearer_auth(good_jwt("u1"))
        .timeout(Duration::from_secs(60))
        .send()
        .await
        .expect("the search is answered");
    assert_eq!(search.status().as_u16(), 200);

    for (i, stream) in held.iter_mut().enumerate() {
        assert!(closed_within(stream, Duration::from_secs(30)).await, "slow connection {i} stays open");
    }
    assert!(closed_within(&mut idle, Duration::from_secs(30)).await, "the idle connection stays open");
    assert!(dripping.await.unwrap(), "the dripping connection stays open");
}

/// A `MakeWriter` collecting log lines in memory.
#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// The debug log of one search for `term`, served with `log_search_terms`.
async fn debug_log_of_a_search(term: &str, log_search_terms: bool) -> String {
    let captured = Captured::default();
    let writer = captured.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::new("permdex=debug,tower_http=debug"))
        .with_writer(move || writer.clone())
        .with_ansi(false)
        .finish();
    let _guard = tracing::subscriber::set_default(subscriber);
    let server =
        start_with("jwt_hs256_secret_env = \"JWT\"", Limits { log_search_terms, ..Limits::default() }).await;
    let (status, _, _) = server.get(&format!("/api/v1/search?q={term}"), Some(&good_jwt("u1"))).await;
    assert_eq!(status, 200);
    let bytes = captured.0.lock().unwrap().clone();
    String::from_utf8(bytes).unwrap()
}

/// Set in the child process that [`search_terms_stay_out_of_debug_logs_unless_asked`] starts: tracing's
/// callsite filters are process-wide, so the log is captured in a process running only this probe.
const LOG_PROBE: &str = "PERMDEX_TEST_LOG_PROBE";

/// The probe itself: prints the debug logs of two searches, without and with `log_search_terms`. Does
/// nothing unless started by the test below.
#[tokio::test]
async fn log_probe() {
    if std::env::var_os(LOG_PROBE).is_none() {
        return;
    }
    let quiet = debug_log_of_a_search("zebracorn", false).await;
    let asked = debug_log_of_a_search("unicornfish", true).await;
    println!("QUIET<<{quiet}>>QUIET\nASKED<<{asked}>>ASKED");
}

#[test]
fn search_terms_stay_out_of_debug_logs_unless_asked() {
    let output = std::process::Command::new(std::env::current_exe().expect("test binary"))
        .args(["--exact", "server::hardening::log_probe", "--nocapture", "--test-threads", "1"])
        .env(LOG_PROBE, "1")
        .output()
        .expect("the probe runs");
    let text = String::from_utf8_lossy(&output.stdout).into_owned();
    let between = |tag: &str| {
        let start = text.find(&format!("{tag}<<")).map(|i| i + tag.len() + 2);
        let end = text.find(&format!(">>{tag}"));
        match (start, end) {
            (Some(start), Some(end)) if start <= end => text[start..end].to_owned(),
            _ => panic!("no {tag} log in {text}"),
        }
    };
    let quiet = between("QUIET");
    assert!(quiet.contains("/api/v1/search"), "the request is logged: {quiet}");
    assert!(!quiet.contains("zebracorn"), "{quiet}");
    let asked = between("ASKED");
    assert!(asked.contains("unicornfish"), "asked for: {asked}");
}

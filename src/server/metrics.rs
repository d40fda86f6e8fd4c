//! Prometheus metrics of the query server, in the text exposition format, served at `/metrics`.
//!
//! Counted here: HTTP requests by route template, method and status; request latency as a histogram per
//! route; sync runs by source and outcome. Read at render time from elsewhere: ACL cache hits and misses
//! (the search backend's counters) and the number of syncs running.
//!
//! Every label takes its value from a fixed set, so no caller can grow the series without bound: routes
//! by their template (`/api/v1/admin/sources/{name}/sync`), every path no route matches as `unmatched`;
//! methods as the standard ones, any other as `other`; statuses as numbers (at most 1,000 values). Sync
//! runs are labelled by configured source and by outcome.
//!
//! `/metrics` needs no credential unless `server.metrics_key_env` is set; then it takes that key as a
//! bearer token ([`super::auth::MetricsAccess`]).
//!
//! Hand-written rather than a metrics crate: a handful of counters and one histogram do not need a
//! registry, and the format is small and stable. This file does not serve anything itself.

use std::collections::BTreeMap;
use std::fmt::Write;
use std::sync::Mutex;
use std::time::Instant;

use axum::extract::{MatchedPath, Request, State};
use axum::middleware::Next;
use axum::response::Response;

use super::AppState;

/// Upper bounds of the latency buckets, in seconds.
const LATENCY_BUCKETS: [f64; 12] = [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0];

/// The label of requests no route matched.
const UNMATCHED: &str = "unmatched";

/// The method label: a standard method by its name, anything else as `other`.
fn method_label(method: &axum::http::Method) -> &'static str {
    use axum::http::Method as M;
    match *method {
        M::GET => "GET",
        M::HEAD => "HEAD",
        M::POST => "POST",
        M::PUT => "PUT",
        M::DELETE => "DELETE",
        M::PATCH => "PATCH",
        M::OPTIONS => "OPTIONS",
        M::CONNECT => "CONNECT",
        M::TRACE => "TRACE",
        _ => "other",
    }
}

/// Counters the server keeps. Locks are held only to bump a counter, never across an `.await`.
#[derive(Debug, Default)]
pub struct Metrics {
    requests: Mutex<BTreeMap<RequestKey, u64>>,
    latency: Mutex<BTreeMap<String, Histogram>>,
    syncs: Mutex<BTreeMap<(String, String), u64>>,
}

#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
struct RequestKey {
    route: String,
    method: String,
    status: u16,
}

#[derive(Debug, Clone, Default)]
struct Histogram {
    /// Observations at most each bound (not cumulative; summed when rendered).
    buckets: [u64; LATENCY_BUCKETS.len()],
    count: u64,
    sum: f64,
}

/// Values read from outside the server at render time.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ExternalGauges {
    pub acl_cache_hits: u64,
    pub acl_cache_misses: u64,
    pub syncs_running: u64,
    /// What is served of each source now (freshness and holdings).
    pub sources: Vec<super::search::ServedSource>,
    /// The moment the freshness gauges are computed for.
    pub now: chrono::DateTime<chrono::Utc>,
}

impl Metrics {
    pub fn record_request(&self, route: &str, method: &str, status: u16, seconds: f64) {
        let key = RequestKey { route: route.to_owned(), method: method.to_owned(), status };
        *lock(&self.requests).entry(key).or_default() += 1;
        let mut latency = lock(&self.latency);
        let histogram = latency.entry(route.to_owned()).or_default();
        if let Some(i) = LATENCY_BUCKETS.iter().position(|bound| seconds <= *bound) {
            histogram.buckets[i] += 1;
        }
        histogram.count += 1;
        histogram.sum += seconds;
    }

    /// One sync run of `source` ended with `outcome` (`completed`, `completed_with_failures`, `cancelled`,
    /// `aborted`, `error`).
    pub fn record_sync(&self, source: &str, outcome: &str) {
        *lock(&self.syncs).entry((source.to_owned(), outcome.to_owned())).or_default() += 1;
    }

    /// The exposition text.
    pub fn render(&self, external: ExternalGauges) -> String {
        let mut out = String::new();
        out.push_str("# HELP permdex_http_requests_total HTTP requests answered, by route template, method and status.\n");
        out.push_str("# TYPE permdex_http_requests_total counter\n");
        for (key, count) in lock(&self.requests).iter() {
            let _ = writeln!(
                out,
                "permdex_http_requests_total{{route=\"{}\",method=\"{}\",status=\"{}\"}} {count}",
                escape(&key.route),
                escape(&key.method),
                key.status
            );
        }
        out.push_str(
            "# HELP permdex_http_request_duration_seconds Time to answer a request, by route template.\n",
        );
        out.push_str("# TYPE permdex_http_request_duration_seconds histogram\n");
        for (route, histogram) in lock(&self.latency).iter() {
            let route = escape(route);
            let mut cumulative = 0;
            for (bound, count) in LATENCY_BUCKETS.iter().zip(histogram.buckets) {
                cumulative += count;
                let _ = writeln!(
                    out,
                    "permdex_http_request_duration_seconds_bucket{{route=\"{route}\",le=\"{bound}\"}} {cumulative}"
                );
            }
            let _ = writeln!(
                out,
                "permdex_http_request_duration_seconds_bucket{{route=\"{route}\",le=\"+Inf\"}} {}",
                histogram.count
            );
            let _ = writeln!(
                out,
                "permdex_http_request_duration_seconds_sum{{route=\"{route}\"}} {}",
                histogram.sum
            );
            let _ = writeln!(
                out,
                "permdex_http_request_duration_seconds_count{{route=\"{route}\"}} {}",
                histogram.count
            );
        }
        out.push_str(
            "# HELP permdex_syncs_total Sync runs started by the server that ended, by source and outcome.\n",
        );
        out.push_str("# TYPE permdex_syncs_total counter\n");
        for ((source, outcome), count) in lock(&self.syncs).iter() {
            let _ = writeln!(
                out,
                "permdex_syncs_total{{source=\"{}\",outcome=\"{}\"}} {count}",
                escape(source),
                escape(outcome)
            );
        }
        let gauges = [
            ("permdex_syncs_running", "gauge", "Sync runs in progress.", external.syncs_running),
            (
                "permdex_acl_cache_hits_total",
                "counter",
                "Searches whose caller's allowed documents were already cached.",
                external.acl_cache_hits,
            ),
            (
                "permdex_acl_cache_misses_total",
                "counter",
                "Searches that had to compute the caller's allowed documents.",
                external.acl_cache_misses,
            ),
        ];
        for (name, kind, help, value) in gauges {
            let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} {kind}\n{name} {value}");
        }
        render_sources(&mut out, &external);
        out
    }
}

/// Per-source gauges: permission freshness, whether documents are withheld, documents held per kind.
fn render_sources(out: &mut String, external: &ExternalGauges) {
    out.push_str(
        "# HELP permdex_source_permissions_refreshed_timestamp_seconds When the served commit's permissions were \
         last read in full (Unix time; absent when never).\n\
         # TYPE permdex_source_permissions_refreshed_timestamp_seconds gauge\n",
    );
    for s in &external.sources {
        if let Some(at) = s.permissions_refreshed {
            let _ = writeln!(
                out,
                "permdex_source_permissions_refreshed_timestamp_seconds{{source=\"{}\"}} {}",
                escape(&s.name),
                at.timestamp()
            );
        }
    }
    out.push_str(
        "# HELP permdex_source_permissions_age_seconds Age of the served commit's permissions.\n\
         # TYPE permdex_source_permissions_age_seconds gauge\n",
    );
    for s in &external.sources {
        if let Some(at) = s.permissions_refreshed {
            let age = (external.now - at).num_seconds().max(0);
            let _ = writeln!(
                out,
                "permdex_source_permissions_age_seconds{{source=\"{}\"}} {age}",
                escape(&s.name)
            );
        }
    }
    out.push_str(
        "# HELP permdex_source_withheld 1 when a source's documents are not served (stale permissions, no \
         index, integrity), else 0.\n# TYPE permdex_source_withheld gauge\n",
    );
    for s in &external.sources {
        let _ = writeln!(
            out,
            "permdex_source_withheld{{source=\"{}\"}} {}",
            escape(&s.name),
            u8::from(s.withheld.is_some())
        );
    }
    out.push_str(
        "# HELP permdex_source_documents Documents the served commit holds, by product and kind.\n\
         # TYPE permdex_source_documents gauge\n",
    );
    for s in &external.sources {
        for (kind, count) in &s.indexed.by_kind {
            let _ = writeln!(
                out,
                "permdex_source_documents{{source=\"{}\",kind=\"{}\"}} {count}",
                escape(&s.name),
                escape(kind)
            );
        }
    }
}

/// A poisoned lock only means another request panicked while bumping a counter; the counts are still
/// usable, so the guard is taken anyway.
fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// Escapes a label value (`\`, `"`, newline), as the exposition format requires.
fn escape(value: &str) -> String {
    value.replace('\\', "\\\\").replace('"', "\\\"").replace('\n', "\\n")
}

/// Middleware: counts and times every request under its route template.
pub async fn track(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let route = request.extensions().get::<MatchedPath>().map_or(UNMATCHED, MatchedPath::as_str).to_owned();
    let method = method_label(request.method());
    let started = Instant::now();
    let response = next.run(request).await;
    state.metrics.record_request(&route, method, response.status().as_u16(), started.elapsed().as_secs_f64());
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exposition_counts_and_buckets() {
        let metrics = Metrics::default();
        metrics.record_request("/api/v1/search", "GET", 200, 0.003);
        metrics.record_request("/api/v1/search", "GET", 200, 0.2);
        metrics.record_request("/api/v1/search", "GET", 400, 20.0);
        metrics.record_sync("acme", "completed");
        let text = metrics.render(ExternalGauges {
            acl_cache_hits: 7,
            acl_cache_misses: 2,
            syncs_running: 1,
            sources: vec![super::super::search::ServedSource {
                name: "acme".into(),
                generation: 3,
                permissions_refreshed: Some(chrono::DateTime::from_timestamp(1_000_000, 0).unwrap()),
                max_permission_age_secs: Some(86400),
                withheld: None,
                indexed: super::super::search::IndexedCounts {
                    total: 5,
                    by_kind: [("confluence:page".to_owned(), 5)].into(),
                    unreadable: 0,
                },
            }],
            now: chrono::DateTime::from_timestamp(1_000_090, 0).unwrap(),
        });
        let expected_lines = [
            "permdex_http_requests_total{route=\"/api/v1/search\",method=\"GET\",status=\"200\"} 2",
            "permdex_http_requests_total{route=\"/api/v1/search\",method=\"GET\",status=\"400\"} 1",
            // 0.003 is not ≤ 0.001, but is ≤ 0.005.
            "permdex_http_request_duration_seconds_bucket{route=\"/api/v1/search\",le=\"0.001\"} 0",
            "permdex_http_request_duration_seconds_bucket{route=\"/api/v1/search\",le=\"0.005\"} 1",
            "permdex_http_request_duration_seconds_bucket{route=\"/api/v1/search\",le=\"0.25\"} 2",
            // 20 s is above every bound: only in +Inf.
            "permdex_http_request_duration_seconds_bucket{route=\"/api/v1/search\",le=\"10\"} 2",
            "permdex_http_request_duration_seconds_bucket{route=\"/api/v1/search\",le=\"+Inf\"} 3",
            "permdex_http_request_duration_seconds_count{route=\"/api/v1/search\"} 3",
            "permdex_syncs_total{source=\"acme\",outcome=\"completed\"} 1",
            "permdex_syncs_running 1",
            "permdex_acl_cache_hits_total 7",
            "permdex_acl_cache_misses_total 2",
            "permdex_source_permissions_refreshed_timestamp_seconds{source=\"acme\"} 1000000",
            "permdex_source_permissions_age_seconds{source=\"acme\"} 90",
            "permdex_source_withheld{source=\"acme\"} 0",
            "permdex_source_documents{source=\"acme\",kind=\"confluence:page\"} 5",
        ];
        for line in expected_lines {
            assert!(text.lines().any(|l| l == line), "missing {line:?} in\n{text}");
        }
    }

    #[test]
    fn invented_methods_share_one_label() {
        let metrics = Metrics::default();
        for i in 0..500 {
            let method = axum::http::Method::from_bytes(format!("X{i}").as_bytes()).unwrap();
            metrics.record_request(UNMATCHED, method_label(&method), 405, 0.001);
        }
        metrics.record_request(UNMATCHED, method_label(&axum::http::Method::GET), 404, 0.001);
        let text = metrics.render(ExternalGauges::default());
        let series: Vec<&str> =
            text.lines().filter(|l| l.starts_with("permdex_http_requests_total{")).collect();
        assert_eq!(
            series,
            [
                "permdex_http_requests_total{route=\"unmatched\",method=\"GET\",status=\"404\"} 1",
                "permdex_http_requests_total{route=\"unmatched\",method=\"other\",status=\"405\"} 500",
            ]
        );
    }

    #[test]
    fn label_values_are_escaped() {
        assert_eq!(escape("a\"b\\c\nd"), "a\\\"b\\\\c\\nd");
    }
}

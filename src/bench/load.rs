//! A built-in HTTP load generator: `connections` clients, each sending its next request as soon as the last
//! one answered (closed loop), cycling through a list of paths for a fixed time (or number of requests),
//! with a bearer token.
//!
//! Each request's latency runs from sending it to reading the whole body. Any answer other than 2xx stops
//! the run with an error: a load test of failures measures nothing. No external tool is needed.
//!
//! This file knows nothing of search; it loads whatever paths it is given.

use std::sync::Arc;
use std::time::{Duration, Instant};

use super::report::Summary;
use super::Error;

/// One load run.
#[derive(Debug, Clone)]
pub struct Load {
    /// `http://127.0.0.1:8080`, no trailing slash.
    pub base: String,
    /// Sent as `Authorization: Bearer …`; never logged.
    pub token: String,
    /// Paths with their query strings, e.g. `/api/v1/search?q=kafka`.
    pub paths: Vec<String>,
    pub connections: usize,
    pub until: Until,
}

/// When a load run stops.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Until {
    /// After this long.
    Elapsed(Duration),
    /// After each connection sent this many requests.
    Requests(usize),
}

impl Load {
    /// Runs the load and summarises the latencies (with requests per second as the throughput).
    pub async fn run(&self) -> Result<Summary, Error> {
        if self.paths.is_empty() || self.connections == 0 {
            return Err(Error::Parameter("a load needs at least one path and one connection".into()));
        }
        let client = reqwest::Client::builder()
            .pool_max_idle_per_host(self.connections)
            .build()
            .map_err(|e| Error::Site(format!("http client: {e}")))?;
        let paths = Arc::new(self.paths.clone());
        let started = Instant::now();
        let until = self.until;
        let more = move |sent: usize| match until {
            Until::Elapsed(duration) => started.elapsed() < duration,
            Until::Requests(n) => sent < n,
        };
        let mut tasks = Vec::with_capacity(self.connections);
        for c in 0..self.connections {
            let (client, paths, base, token) =
                (client.clone(), paths.clone(), self.base.clone(), self.token.clone());
            // Connections start at different paths so they do not ask the same thing in lockstep.
            let first = c * paths.len() / self.connections;
            tasks.push(tokio::spawn(async move {
                let mut micros = Vec::new();
                let mut i = first;
                while more(micros.len()) {
                    let path = &paths[i % paths.len()];
                    i += 1;
                    let sent = Instant::now();
                    let response = client
                        .get(format!("{base}{path}"))
                        .bearer_auth(&token)
                        .send()
                        .await
                        .map_err(|e| Error::Site(format!("GET {path}: {e}")))?;
                    let status = response.status();
                    response.bytes().await.map_err(|e| Error::Site(format!("GET {path}: {e}")))?;
                    if !status.is_success() {
                        return Err(Error::Site(format!("GET {path} answered {status}")));
                    }
                    micros.push(sent.elapsed().as_secs_f64() * 1e6);
                }
                Ok(micros)
            }));
        }
        let mut all = Vec::new();
        for task in tasks {
            let micros = task.await.map_err(|e| Error::Site(format!("a load connection failed: {e}")))??;
            all.extend(micros);
        }
        Ok(Summary::of(all, started.elapsed().as_secs_f64()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn loads_a_server_and_stops_on_an_error() {
        use axum::routing::get;
        let app = axum::Router::new()
            .route("/ok", get(|| async { "fine" }))
            .route("/fail", get(|| async { (axum::http::StatusCode::INTERNAL_SERVER_ERROR, "no") }));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let base = format!("http://{}", listener.local_addr().expect("addr"));
        tokio::spawn(async move { axum::serve(listener, app).await });
        let load = Load {
            base: base.clone(),
            token: "t".into(),
            paths: vec!["/ok".into()],
            connections: 2,
            until: Until::Requests(20),
        };
        let summary = load.run().await.expect("load runs");
        assert_eq!(summary.samples, 40, "{summary:?}");
        assert!(summary.qps > 0.0);
        let failing = Load { paths: vec!["/fail".into()], ..load };
        let err = failing.run().await.expect_err("a 500 stops the run");
        assert!(err.to_string().contains("500"), "{err}");
    }
}

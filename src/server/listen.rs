//! The accept loop: HTTP/1.1 connections served with a cap on how many are open at once and a deadline
//! for each request's headers, which also ends a connection idle between requests. A client that opens a
//! connection and sends nothing, or sends headers a byte at a time, loses it at the deadline; at the cap,
//! new connections wait in the kernel's backlog (holding no descriptor of ours) until one closes.
//!
//! hyper's parser answers requests whose head exceeds [`MAX_HEAD_BYTES`] itself (a bare 431); smaller
//! heads reach the app, where `head.rs` answers a long URI or large headers with the API's JSON error.
//!
//! This file does not route or authenticate; it hands each connection to the [`axum::Router`].

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use hyper_util::service::TowerToHyperService;
use tokio::net::TcpListener;
use tokio::sync::Semaphore;

use super::Error;

/// The most header lines hyper parses; the app refuses more than `head::MAX_HEADERS` with JSON.
const MAX_PARSED_HEADERS: usize = 1024;

/// The largest request head hyper buffers (request line and headers).
pub const MAX_HEAD_BYTES: usize = 256 * 1024;

/// How long to wait before accepting again after an accept error (out of descriptors, say).
const ACCEPT_BACKOFF: Duration = Duration::from_millis(100);

/// Serves `app` on `listener`, at most `max_connections` at once, until `shutdown` resolves; then stops
/// accepting and waits for open connections to finish their requests.
pub async fn serve_connections(
    listener: TcpListener,
    app: axum::Router,
    header_read_timeout: Duration,
    max_connections: usize,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<(), Error> {
    let permits = Arc::new(Semaphore::new(max_connections));
    let graceful = GracefulShutdown::new();
    let mut http = hyper::server::conn::http1::Builder::new();
    http.timer(TokioTimer::new())
        .header_read_timeout(header_read_timeout)
        .max_headers(MAX_PARSED_HEADERS)
        .max_buf_size(MAX_HEAD_BYTES);
    tokio::pin!(shutdown);
    loop {
        let permit = tokio::select! {
            permit = permits.clone().acquire_owned() => permit.map_err(|e| Error::Serve(std::io::Error::other(e)))?,
            () = &mut shutdown => break,
        };
        let accepted = tokio::select! {
            accepted = listener.accept() => accepted,
            () = &mut shutdown => break,
        };
        let stream = match accepted {
            Ok((stream, _)) => stream,
            Err(e) => {
                tracing::warn!(error = %e, "accept failed");
                tokio::time::sleep(ACCEPT_BACKOFF).await;
                continue;
            }
        };
        if permits.available_permits() == 0 {
            tracing::debug!(max_connections, "connection cap reached: new connections wait");
        }
        let connection = http.serve_connection(TokioIo::new(stream), TowerToHyperService::new(app.clone()));
        let connection = graceful.watch(connection);
        tokio::spawn(async move {
            if let Err(e) = connection.await {
                tracing::debug!(error = %e, "connection ended with an error");
            }
            drop(permit);
        });
    }
    drop(listener);
    graceful.shutdown().await;
    Ok(())
}

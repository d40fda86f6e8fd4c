//! A simulator running in-process: generate (or take) a site, bind a listener, serve it in a
//! background task until told to stop.
//!
//! Tests start one per case on `127.0.0.1:0` and read [`RunningSim::url`]; the `permdex sim`
//! command starts one on the address it is given and stops it on Ctrl-C. This module decides
//! nothing about the site or the API: that is `generate.rs` and `http/`.

use std::future::Future;
use std::net::SocketAddr;

use tokio::sync::oneshot;
use tokio::task::JoinHandle;

use super::http::{self, Credentials, SimState};
use super::{generate, Error, SimConfig, Site, SiteFeatures, DEFAULT_FEATURES};

/// A simulator serving in a background task. Dropping it leaves the server running until the
/// runtime ends; call [`RunningSim::shutdown`] to stop it.
pub struct RunningSim {
    /// Base URL, e.g. `http://127.0.0.1:41235`: the crawler's site URL.
    pub url: String,
    pub addr: SocketAddr,
    /// The admin credential the API accepts.
    pub credentials: Credentials,
    /// The live state: the site (for mutations and the oracle) and the guard (faults, counters).
    pub state: SimState,
    stop: oneshot::Sender<()>,
    server: JoinHandle<std::io::Result<()>>,
}

/// Generates the site `config` describes (with the [`DEFAULT_FEATURES`]) and serves it on `addr` (port 0
/// picks a free port).
pub async fn start(config: SimConfig, addr: SocketAddr) -> Result<RunningSim, Error> {
    start_with_features(config, DEFAULT_FEATURES, addr).await
}

/// Like [`start`], with the given site features.
pub async fn start_with_features(
    config: SimConfig,
    features: SiteFeatures,
    addr: SocketAddr,
) -> Result<RunningSim, Error> {
    let generation = config.clone();
    // Generating a large site takes seconds of CPU: keep it off the async workers.
    let site = tokio::task::spawn_blocking(move || generate::generate_with(&generation, features))
        .await
        .map_err(|e| Error::Io(std::io::Error::other(format!("site generation failed: {e}"))))??;
    let credentials = generate::admin_credentials(&site);
    start_with_site(site, config, credentials, addr).await
}

/// Serves a given site (e.g. `fixture::tiny_site()`) with the given credential on `addr`.
pub async fn start_with_site(
    site: Site,
    config: SimConfig,
    credentials: Credentials,
    addr: SocketAddr,
) -> Result<RunningSim, Error> {
    let listener = tokio::net::TcpListener::bind(addr)
        .await
        .map_err(|e| Error::Io(std::io::Error::new(e.kind(), format!("cannot listen on {addr}: {e}"))))?;
    let addr = listener.local_addr()?;
    let state = SimState::new(site, config, credentials.clone());
    let (stop, stopped) = oneshot::channel::<()>();
    let server = tokio::spawn(http::serve(listener, state.clone(), async {
        // A dropped sender also means stop.
        let _ = stopped.await;
    }));
    Ok(RunningSim { url: format!("http://{addr}"), addr, credentials, state, stop, server })
}

impl RunningSim {
    /// Serves until `signal` resolves, then shuts down gracefully. Returns early with the error if
    /// the server fails on its own.
    pub async fn run_until(self, signal: impl Future<Output = ()>) -> Result<(), Error> {
        let RunningSim { stop, mut server, .. } = self;
        tokio::select! {
            () = signal => {
                // The server may already be gone, in which case the join below says why.
                let _ = stop.send(());
                joined(server.await)
            }
            result = &mut server => match joined(result) {
                Ok(()) => Err(Error::Io(std::io::Error::other("simulator server stopped unexpectedly"))),
                Err(e) => Err(e),
            },
        }
    }

    /// Stops accepting connections, lets open requests finish and waits for the server task.
    pub async fn shutdown(self) {
        let url = self.url.clone();
        if let Err(e) = self.run_until(std::future::ready(())).await {
            tracing::warn!(url, error = %e, "simulator did not shut down cleanly");
        }
    }
}

fn joined(result: Result<std::io::Result<()>, tokio::task::JoinError>) -> Result<(), Error> {
    match result {
        Ok(served) => Ok(served?),
        Err(e) => Err(Error::Io(std::io::Error::other(format!("simulator server task failed: {e}")))),
    }
}

//! Following the indexes: every source's committed generation is polled, and a source whose index has a
//! newer commit than the one served is reloaded, whoever made the commit — a sync the server ran, a
//! `permdex sync` from cron or a shell, a purge. Without this a revocation synced by another process would
//! never reach the searches of a running server.
//!
//! A poll of an unchanged index costs one small file read per source ([`SearchIndex::reload`] compares the
//! committed generation first); a reload moves the source's search service and its directory to the new
//! commit together, while searches in flight finish on the commit they started with.
//!
//! This file decides when to look, not how to reload: that is the [`SearchIndex`]'s.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use super::search::SearchIndex;

/// How often `permdex serve` looks for new commits by default.
pub const DEFAULT_POLL_INTERVAL: Duration = Duration::from_millis(250);

/// Polls the sources `sources` names at each tick (so a source added while the server runs is followed
/// from the next tick on) every `every`, reloading each whose index has a newer commit, until the task is
/// dropped. A failed reload is logged (once per distinct error) and retried at the next poll; searches go
/// on with the commit already served.
pub async fn follow_commits(
    index: Arc<dyn SearchIndex>,
    sources: impl Fn() -> Vec<String> + Send + 'static,
    every: Duration,
) {
    let mut ticks = tokio::time::interval(every);
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut last_errors: BTreeMap<String, String> = BTreeMap::new();
    loop {
        ticks.tick().await;
        let polled = index.clone();
        let names = sources();
        let results = tokio::task::spawn_blocking(move || {
            names
                .into_iter()
                .map(|name| {
                    let result = polled.reload(&name).map_err(|e| e.to_string());
                    (name, result)
                })
                .collect::<Vec<_>>()
        })
        .await;
        let Ok(results) = results else {
            tracing::error!("index poll task failed");
            continue;
        };
        for (name, result) in results {
            match result {
                Ok(()) => {
                    last_errors.remove(&name);
                }
                Err(e) if last_errors.get(&name) != Some(&e) => {
                    tracing::warn!(source = %name, error = %e, "cannot reload the index; still serving the commit before");
                    last_errors.insert(name, e);
                }
                Err(_) => {}
            }
        }
    }
}

//! The sync engine: one run of one source — full, incremental or permissions-only — from the site's REST
//! APIs into that source's index, checkpointed so a run that is stopped (cancelled, killed, crashed) is
//! resumed by the next one and ends in the same state as if it had never stopped.
//!
//! Every run, in order:
//! 1. opens the source's index and its committed [`SyncState`](super::state::SyncState) (`ledger.rs`); a
//!    state it cannot read, or an ACL store the index does not trust, starts over (every document dropped,
//!    then a full sync) and says so;
//! 2. drops documents the configured scope no longer covers (`scope.rs`); a changed scope turns an
//!    incremental run into a full one;
//! 3. reads the permission snapshot (`permissions.rs`): the directory, spaces in scope with their readers,
//!    the access listing, projects in scope with their browse holders, security levels and role actors;
//! 4. crawls content (`confluence.rs`, `jira.rs`; attachments through `attachments.rs`): [`Mode::Full`]
//!    walks every listing, [`Mode::Incremental`] fetches what changed, [`Mode::PermissionsOnly`] nothing;
//! 5. refreshes permissions (`permissions.rs`): every stored document's
//!    [`AclInput`](super::resolve::AclInput) is resolved again against the snapshot; clauses are rewritten
//!    in place and documents whose profile changed are re-pointed;
//! 6. deletes what a complete listing no longer shows, and commits.
//!
//! Failures: a site that cannot be synced at all fails the run at once, before anything is written: its
//! first call asks who the account is, and credentials refused (401), a host that does not resolve,
//! refuses the connection, fails TLS or does not answer as Atlassian Cloud each end the run with a
//! diagnosis telling them apart (`atlassian::diagnosis`); so does a permission source refused for good
//! (403 on a named call). One bad item is recorded (id and reason) and the run goes on. A listing that fails part-way is
//! recorded too (`listing.rs`), and then nothing of that product is deleted and its watermark does not
//! move: a short listing must not look like deletions. A permission source that cannot be read leaves that
//! product's clauses and profiles as last committed (never widened, never dropped). Attachments whose
//! download or extraction fails are indexed with their title and no text, so they can still be found by
//! name.
//!
//! Checkpoints: after each listing page, at most every [`SyncOptions::checkpoint_interval`], the engine
//! commits the index with the state (phase, cursor, items of the page already done). Upserts are
//! idempotent, so replaying part of a page after a crash is harmless. Attachments already indexed are not
//! downloaded again while their version is unchanged, even if their text could not be extracted last time;
//! a full sync into a fresh data dir retries them.
//!
//! Cancellation: [`Progress::should_stop`] is polled between items; on `true` the engine commits a
//! checkpoint and returns a record with [`RunOutcome::Cancelled`](super::RunOutcome::Cancelled). A killed
//! process loses at most what followed its last checkpoint.
//!
//! This file only puts the steps in order. The steps share the bookkeeping of `ledger.rs` and do not call
//! each other. Nothing here parses Atlassian JSON (the `atlassian` crawlers do), decides permission rules
//! (`resolve.rs`) or shapes documents (`docs.rs`).

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use chrono::Utc;
use tokio_util::sync::CancellationToken;

use super::attachments::AttachmentPipeline;
use super::confluence::ConfluenceCrawl;
use super::jira::JiraCrawl;
use super::ledger::{Halt, Ledger, Step};
use super::listing::Listing;
use super::permissions::{self, Permissions};
use super::progress::Progress;
use super::runs::{self, Mode, RunRecord};
use super::scope;
use super::Error;
use crate::atlassian::confluence::Confluence;
use crate::atlassian::diagnosis::{self, ProbeError};
use crate::atlassian::jira::Jira;
use crate::atlassian::{Client, ClientConfig};
use crate::config::{Config, Source};
use crate::extract::ExtractConfig;
use crate::index::Product;

/// Where the index of `source` lives inside the data dir. Each source has its own index, ACL store and
/// state: two sites' ids and permission objects never mix.
pub fn index_dir(data_dir: &Path, source: &str) -> PathBuf {
    data_dir.join("sources").join(source).join("index")
}

/// Knobs of a run that are not configuration: tests and tools set them, `permdex sync` uses the defaults.
#[derive(Debug, Clone)]
pub struct SyncOptions {
    /// Least time between two checkpoint commits (a listing page always ends before one is taken).
    pub checkpoint_interval: Duration,
    /// How far before the watermark an incremental run looks again, for clock skew and slow indexing.
    pub overlap: Duration,
    /// How attachment text is extracted.
    pub extract: ExtractConfig,
    /// Attachment extractions at once (each is a child process).
    pub extract_concurrency: usize,
    /// First wait before retrying a failed request when the site gives no `Retry-After`.
    pub retry_backoff: Duration,
    /// Retries per request after its first attempt.
    pub max_retries: u32,
    /// Cancelled to stop the run at once: every request and every wait of the run's clients (pacer,
    /// backoff, `Retry-After`) ends with a cancellation, and the run stops at its next stop point as when
    /// [`Progress::should_stop`] says so. `permdex sync` cancels it on Ctrl-C and SIGTERM.
    pub cancel: CancellationToken,
}

impl Default for SyncOptions {
    fn default() -> Self {
        SyncOptions {
            checkpoint_interval: Duration::from_secs(5),
            overlap: Duration::from_secs(10 * 60),
            extract: ExtractConfig::default(),
            extract_concurrency: std::thread::available_parallelism().map_or(2, |n| n.get()).min(4),
            retry_backoff: ClientConfig::DEFAULT_BACKOFF_BASE,
            max_retries: ClientConfig::DEFAULT_MAX_RETRIES,
            cancel: CancellationToken::new(),
        }
    }
}

/// Syncs `source` with the default [`SyncOptions`] and appends the run record.
pub async fn sync(
    config: &Config,
    source: &Source,
    mode: Mode,
    progress: &mut dyn Progress,
) -> Result<RunRecord, Error> {
    sync_with(config, source, mode, &SyncOptions::default(), progress).await
}

/// Syncs `source` and appends the run record to `{data_dir}/runs/{source}.jsonl`, holding the source's
/// lock throughout ([`Error::Busy`] when another run holds it).
///
/// `Ok` for every run that reached a consistent commit, failures or not (see [`RunRecord::failed`]); `Err`
/// only when the index itself cannot be opened or committed.
pub async fn sync_with(
    config: &Config,
    source: &Source,
    mode: Mode,
    options: &SyncOptions,
    progress: &mut dyn Progress,
) -> Result<RunRecord, Error> {
    let _lock = super::lock::SourceLock::acquire(config.data_dir(), source.name().as_str())?;
    let started = Utc::now();
    let dir = index_dir(config.data_dir(), source.name().as_str());
    super::datadir::create_private_dir(&dir).map_err(|e| Error::Io { path: dir.clone(), source: e })?;
    let mut ledger = Ledger::open(&dir, source, mode, options.checkpoint_interval, progress, started).await?;
    if let Some(killed) = ledger.interrupted.take() {
        if !runs::contains(config.data_dir(), &killed)? {
            runs::append(config.data_dir(), &killed)?;
        }
    }
    let mut run = Run::new(ledger, source, options)?;
    let result = match run.execute().await {
        // Stopped through the token (Ctrl-C, SIGTERM): a step that failed because its calls were cancelled
        // (the first calls, say) did not fail; the run is cancelled, and the next one resumes it.
        Err(Halt::Fatal(_)) if options.cancel.is_cancelled() => Err(Halt::Cancelled),
        // Stopped after its last stop point, with calls cut short: not complete, so not recorded as such.
        Ok(()) if options.cancel.is_cancelled() && run.ledger.record.total().interrupted > 0 => {
            Err(Halt::Cancelled)
        }
        other => other,
    };
    let mut record = run.finish(result).await?;
    record.ended = Utc::now();
    runs::append(config.data_dir(), &record)?;
    Ok(record)
}

/// One run of one source: the ledger, the permission snapshot, and a client per product synced.
struct Run<'a> {
    ledger: Ledger<'a>,
    permissions: Permissions,
    source: &'a Source,
    options: &'a SyncOptions,
    confluence: Option<Arc<Confluence>>,
    jira: Option<Arc<Jira>>,
    attachments: AttachmentPipeline,
}

impl<'a> Run<'a> {
    fn new(ledger: Ledger<'a>, source: &'a Source, options: &'a SyncOptions) -> Result<Run<'a>, Error> {
        let client_config = ClientConfig {
            backoff_base: options.retry_backoff,
            max_retries: options.max_retries,
            cancel: options.cancel.clone(),
            ..ClientConfig::for_source(source)?
        };
        let products = source.products();
        let confluence = if products.confluence {
            Some(Arc::new(Confluence::new(Client::new(client_config.clone())?)))
        } else {
            None
        };
        let jira = if products.jira { Some(Arc::new(Jira::new(Client::new(client_config)?))) } else { None };
        let attachments = AttachmentPipeline::new(
            &options.extract,
            options.extract_concurrency,
            source.limits().max_attachment_bytes,
        );
        Ok(Run {
            ledger,
            permissions: Permissions::default(),
            source,
            options,
            confluence,
            jira,
            attachments,
        })
    }

    /// The clients of the products synced.
    fn clients(&self) -> impl Iterator<Item = &Client> {
        let confluence = self.confluence.as_ref().map(|c| c.client());
        let jira = self.jira.as_ref().map(|j| j.client());
        confluence.into_iter().chain(jira)
    }

    /// The product progress reports name for run-wide phases.
    fn main_product(&self) -> Product {
        if self.confluence.is_some() {
            Product::Confluence
        } else {
            Product::Jira
        }
    }

    async fn execute(&mut self) -> Step {
        preflight(self.confluence.clone(), self.jira.clone()).await?;
        scope::drop_out_of_scope(&mut self.ledger, self.source)?;
        let snapshot_started = Utc::now();
        self.permissions = permissions::read(
            &mut self.ledger,
            self.source,
            self.confluence.as_deref(),
            self.jira.as_deref(),
        )
        .await;
        if !self.permissions.read_enough(self.source) {
            // A permission source refused for good (403 on a named call, 401) fails the run now, rather than
            // leaving the product uncrawled under a run that says "completed".
            if let Some(diagnosis) = self.clients().find_map(|client| client.permanent_failure()) {
                return Err(Halt::Fatal(ProbeError::Permanent(diagnosis).into()));
            }
        }
        self.ledger.stop_point()?;
        let mode = self.ledger.mode;
        // A product whose permissions could not be read is not crawled: what it holds stays as committed.
        let confluence_listing = match (&self.confluence, mode) {
            (None, _) | (_, Mode::PermissionsOnly) => None,
            (Some(_), _) if !self.permissions.confluence => Some(Listing::Incomplete),
            (Some(site), mode) => {
                let mut crawl = ConfluenceCrawl {
                    ledger: &mut self.ledger,
                    permissions: &self.permissions,
                    site,
                    source: self.source,
                    attachments: &self.attachments,
                    titles: Default::default(),
                };
                Some(if mode == Mode::Full { crawl.full().await? } else { crawl.incremental().await? })
            }
        };
        let jira_watermark = self.ledger.state.jira.watermark;
        let jira_listing = match (&self.jira, mode) {
            (None, _) | (_, Mode::PermissionsOnly) => None,
            (Some(_), _) if !self.permissions.jira => Some(Listing::Incomplete),
            (Some(site), mode) => {
                let mut crawl = JiraCrawl {
                    ledger: &mut self.ledger,
                    permissions: &mut self.permissions,
                    site,
                    attachments: &self.attachments,
                    overlap: self.options.overlap,
                    children: None,
                };
                Some(if mode == Mode::Full { crawl.full().await? } else { crawl.incremental().await? })
            }
        };
        if let (Some(jira), Mode::PermissionsOnly) = (&self.jira, mode) {
            permissions::reread_jira_inputs(&mut self.ledger, &mut self.permissions, jira).await;
        }
        let product = self.main_product();
        permissions::refresh(&mut self.ledger, &self.permissions, product)?;
        if self.permissions.complete(self.source) {
            self.ledger.state.permissions_refreshed = Some(snapshot_started);
        }
        if confluence_listing == Some(Listing::Complete) {
            self.ledger.complete(Product::Confluence);
        }
        if jira_listing == Some(Listing::Complete) {
            self.ledger.complete(Product::Jira);
            // Issues of a project that could not be read were not looked at: the next run must look from
            // where this one started.
            if !self.permissions.unreadable_projects.is_empty() {
                self.ledger.state.jira.watermark = jira_watermark;
            }
        }
        self.ledger.ending();
        self.ledger.commit().await?;
        Ok(())
    }

    /// Ends the run: the ledger's last commit or rollback, and the client counters.
    async fn finish(self, result: Step) -> Result<RunRecord, Error> {
        let clients: Vec<_> = self.clients().map(Client::stats).collect();
        let mut record = self.ledger.finish(result).await?;
        for stats in clients {
            record.api.add(stats);
        }
        Ok(record)
    }
}

/// The first calls of a run: does each product's site accept the credentials? A permanent failure
/// (credentials refused, host unreachable or not Atlassian Cloud) fails the run at once, with no retries
/// spent on it; so does a site that does not answer after the client's retries. (Owned handles: a run is
/// not `Sync`, so it is not borrowed across an await.)
async fn preflight(confluence: Option<Arc<Confluence>>, jira: Option<Arc<Jira>>) -> Step {
    // Both products asked side by side; Confluence's answer is reported first when both fail.
    let confluence = async {
        match confluence {
            Some(confluence) => diagnosis::probe_credentials(confluence.client(), false).await,
            None => Ok(()),
        }
    };
    let jira = async {
        match jira {
            Some(jira) => diagnosis::probe_credentials(jira.client(), true).await,
            None => Ok(()),
        }
    };
    let (confluence, jira) = tokio::join!(confluence, jira);
    confluence.map_err(Error::from)?;
    jira.map_err(Error::from)?;
    Ok(())
}

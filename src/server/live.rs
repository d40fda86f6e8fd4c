//! A source written to the configuration file while the server runs, served at once, without a restart.
//!
//! [`register`] reads the configuration file again through [`Config::load_for`], the loading a restart
//! does, and takes the new source from what it read: what runs is exactly what a restart would run. Then,
//! in this order:
//!
//! 1. the search index serves it ([`SearchIndex::add_source`](super::SearchIndex::add_source)): it has
//!    its own index and its own directory, so a caller is searched in it only when that directory knows
//!    them, with the principals it gives them; it has no documents until its first commit lands;
//! 2. the admin API lists it ([`Sources::add`](super::Sources::add)), and the commit follower, which asks
//!    for the sources' names at every poll, follows its index from the next poll on;
//! 3. its first full sync starts (unless the request said not to), and, when the server syncs on
//!    schedules, its schedule after that run has ended.
//!
//! The index comes first so that nothing lists, polls or syncs a source the index does not know. Each
//! part takes the source whole, in one step, so a search never sees half of it.
//!
//! Fails safe: when a step fails the file stays written, the source waits for a restart, and the caller
//! hears why. A source removed while the server runs is `remove.rs`'s; a source changed in the file by
//! hand is taken at the next restart, as is every other change to the file.

use std::path::Path;
use std::time::Duration;

use super::{admin, AppState};
use crate::config::{format_duration, Config, Schedule, Secrets};
use crate::sync::Mode;

/// Whether the new source's first sync starts now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum FirstSync {
    /// A full sync starts at once; the schedule follows it.
    Now,
    /// No sync now: the admin starts one, or the schedule's first run comes one interval from now.
    Later,
}

/// A source the running server took.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Registered {
    /// Whether its first full sync is running.
    pub sync_started: bool,
    /// What happens now, in a sentence.
    pub what_now: String,
}

/// Serves `name`, just written to `file`, from now on (see the module's header); `Err` says why the
/// server could not take it.
pub(super) async fn register(
    state: &AppState,
    file: &Path,
    name: &str,
    first: FirstSync,
) -> Result<Registered, String> {
    let reading = file.to_owned();
    // The new source's token is in its token file; tokens of other sources and the server's keys are not
    // needed here and may come from an environment this process was not started with.
    let config = tokio::task::spawn_blocking(move || Config::load_for(&reading, Secrets::NONE))
        .await
        .map_err(|e| format!("the configuration read task failed: {e}"))?
        .map_err(|e| format!("the configuration file does not load again: {e}"))?;
    let source = config
        .source(name)
        .cloned()
        .ok_or_else(|| format!("the configuration file read again has no source named {name}"))?;
    if source.token().is_err() {
        return Err(format!(
            "its token could not be read from its {}: it must exist, be readable by its owner only and hold \
             the token",
            source.token_origin()
        ));
    }
    let index = state.index.clone();
    let serving = source.clone();
    tokio::task::spawn_blocking(move || index.add_source(&config, &serving))
        .await
        .map_err(|e| format!("the task adding the source to the search index failed: {e}"))?
        .map_err(|e| format!("the search index cannot serve it: {e}"))?;
    state.sources.add(source.clone()).map_err(|e| format!("the admin API cannot list it: {e}"))?;
    tracing::info!(source = %name, "source added while serving");

    let schedule = *source.schedule();
    let (first_run, mut what_now) = match first {
        FirstSync::Now => match admin::spawn_run(state, name, Mode::Full) {
            Ok(run) => {
                (Some(run), "a full sync has started; it is searched as its first commit lands".to_owned())
            }
            Err(e) => {
                tracing::warn!(source = %name, error = %e, "first sync of an added source not started");
                (None, format!("its first sync did not start ({e})"))
            }
        },
        FirstSync::Later => (None, "no sync was started: start one with \"Sync now\"".to_owned()),
    };
    let sync_started = first_run.is_some();
    match &state.schedules {
        Some(schedules) => {
            // Without a first run, the schedule's first incremental run (due at once for a source never
            // synced) waits one interval, so that "not now" holds.
            let wait = match first {
                FirstSync::Later => schedule.incremental.unwrap_or(Duration::ZERO),
                FirstSync::Now => Duration::ZERO,
            };
            let before = async move {
                if let Some(run) = first_run {
                    // However the run ended, the schedule goes on.
                    let _ = run.await;
                }
                tokio::time::sleep(wait).await;
            };
            schedules.start(before, state.clone(), name.to_owned(), schedule);
            what_now.push_str(&format!("; then it is synced on its schedule ({})", describe(&schedule)));
        }
        None => what_now.push_str("; this server syncs it only when asked (it runs no schedules)"),
    }
    Ok(Registered { sync_started, what_now })
}

/// A schedule in words: `incremental every 15m, permissions every 5m, full off`.
pub(super) fn describe(schedule: &Schedule) -> String {
    let every = |what: &str, interval: Option<Duration>| match interval {
        Some(_) => format!("{what} every {}", format_duration(interval)),
        None => format!("{what} off"),
    };
    [
        every("incremental", schedule.incremental),
        every("permissions", schedule.permissions),
        every("full", schedule.full),
    ]
    .join(", ")
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;
    use std::sync::{Arc, Mutex};

    use chrono::Utc;

    use super::*;
    use crate::config::Source;
    use crate::server::admin::{RunFuture, RunSummary};
    use crate::server::search::{AclCacheStats, Readiness, SearchFailure};
    use crate::server::{
        Authenticator, BackendError, Caller, SearchIndex, SearchQuery, SearchResults, Sources, StaticCallers,
        SyncRunner,
    };

    /// An index that serves the sources it is given, or (`serves_more: false`) a fixed set.
    struct NamedIndex {
        serves_more: bool,
        added: Mutex<Vec<String>>,
    }

    impl SearchIndex for NamedIndex {
        fn search(&self, _: &Caller, _: &SearchQuery) -> Result<SearchResults, SearchFailure> {
            Ok(SearchResults { total: 0, hits: vec![], facets: None, next_cursor: None, withheld: vec![] })
        }
        fn document(
            &self,
            _: &Caller,
            _: &str,
            _: &str,
        ) -> Result<Option<crate::server::document::DocumentBody>, SearchFailure> {
            Ok(None)
        }
        fn readiness(&self) -> Readiness {
            Readiness::Ready
        }
        fn source_problems(&self) -> BTreeMap<String, String> {
            BTreeMap::new()
        }
        fn reload(&self, _: &str) -> Result<(), BackendError> {
            Ok(())
        }
        fn acl_cache(&self) -> AclCacheStats {
            AclCacheStats::default()
        }
        fn remove_source(&self, name: &str) {
            self.added.lock().unwrap().retain(|n| n != name);
        }
        fn add_source(&self, _: &Config, source: &Source) -> Result<(), BackendError> {
            if !self.serves_more {
                return Err(BackendError::NotAdded("a fixed set".into()));
            }
            self.added.lock().unwrap().push(source.name().as_str().to_owned());
            Ok(())
        }
    }

    /// Runs that end at once, completed, recorded by source with their mode.
    #[derive(Default)]
    struct Recorder {
        runs: Mutex<Vec<(String, RunSummary)>>,
    }

    impl SyncRunner for Recorder {
        fn sync(&self, source: Source, mode: Mode, _: tokio_util::sync::CancellationToken) -> RunFuture {
            let now = Utc::now();
            let run = RunSummary {
                run_id: format!("run-{}", self.runs.lock().unwrap().len()),
                mode: mode.as_str().to_owned(),
                started: now,
                ended: now,
                outcome: "completed".into(),
                outcome_reason: None,
                counts: BTreeMap::new(),
                api_calls: 0,
                throttled: 0,
                failure_count: 0,
                failures: vec![],
            };
            self.runs.lock().unwrap().push((source.name().as_str().to_owned(), run.clone()));
            Box::pin(async move { Ok(run) })
        }
        fn purge(&self, _: &Source) -> Result<(), BackendError> {
            Ok(())
        }
        fn forget(&self, _: &Source) -> Result<Vec<std::path::PathBuf>, BackendError> {
            Ok(vec![])
        }
        fn last_runs(&self, source: &str, _: usize) -> Result<Vec<RunSummary>, BackendError> {
            let runs = self.runs.lock().unwrap();
            Ok(runs.iter().filter(|(s, _)| s == source).map(|(_, r)| r.clone()).collect())
        }
    }

    impl Recorder {
        fn modes(&self, source: &str) -> Vec<String> {
            let runs = self.runs.lock().unwrap();
            runs.iter().filter(|(s, _)| s == source).map(|(_, r)| r.mode.clone()).collect()
        }
    }

    const FIRST: &str = "[[sources]]\nname = \"a\"\nurl = \"http://127.0.0.1:9\"\nemail = \"a@b.c\"\n\
                         token_env = \"PERMDEX_LIVE_TEST_UNSET\"\n";
    const ADDED: &str = "\n[[sources]]\nname = \"b\"\nurl = \"http://127.0.0.1:9\"\nemail = \"a@b.c\"\n\
                         token_file = \"b.token\"\ninterval = \"1m\"\npermissions_interval = \"off\"\n\
                         full_interval = \"off\"\n";

    /// A server started with source `a` whose file now holds `b` too (written as the edit writes it),
    /// syncing on schedules.
    fn server(dir: &Path, index: Arc<NamedIndex>, runner: Arc<Recorder>) -> (AppState, std::path::PathBuf) {
        let file = dir.join("permdex.toml");
        let data = format!("data_dir = {:?}\n", dir.join("data").display().to_string());
        let env = BTreeMap::from([("PERMDEX_LIVE_TEST_UNSET".to_owned(), "t0ken".to_owned())]);
        let config = Config::from_toml(&format!("{data}{FIRST}"), &file, &env).unwrap();
        std::fs::write(&file, format!("{data}{FIRST}{ADDED}")).unwrap();
        let token = dir.join("b.token");
        std::fs::write(&token, "b-t0ken").unwrap();
        std::fs::set_permissions(&token, std::os::unix::fs::PermissionsExt::from_mode(0o600)).unwrap();
        let state = AppState::new(
            Authenticator::from_config(config.server()).unwrap(),
            Arc::new(StaticCallers::default()),
            index,
            Sources::new(config.sources(), runner),
        )
        .with_schedules();
        (state, file)
    }

    /// Lets the paused clock run `secs` seconds while spawned tasks do their work.
    async fn run_for(secs: u64) {
        for _ in 0..secs * 10 {
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    #[tokio::test(start_paused = true)]
    async fn an_added_source_is_listed_synced_in_full_then_on_its_schedule() {
        let dir = tempfile::tempdir().unwrap();
        let index = Arc::new(NamedIndex { serves_more: true, added: Mutex::default() });
        let runner = Arc::new(Recorder::default());
        let (state, file) = server(dir.path(), index.clone(), runner.clone());

        let registered = register(&state, &file, "b", FirstSync::Now).await.expect("registered");
        assert!(registered.sync_started);
        assert!(
            registered.what_now.contains("incremental every 1m, permissions off, full off"),
            "{registered:?}"
        );
        assert_eq!(*index.added.lock().unwrap(), ["b"]);
        assert_eq!(state.sources.names(), ["a", "b"]);
        run_for(1).await;
        assert_eq!(runner.modes("b"), ["full"], "the first run, at once");
        run_for(70).await;
        assert_eq!(runner.modes("b"), ["full", "incremental"], "then its schedule");
        assert_eq!(runner.modes("a"), Vec::<String>::new(), "the server's own sources are its to start");
        state.schedules.as_ref().unwrap().stop();
    }

    #[tokio::test(start_paused = true)]
    async fn an_added_source_not_synced_now_waits_for_its_schedule() {
        let dir = tempfile::tempdir().unwrap();
        let index = Arc::new(NamedIndex { serves_more: true, added: Mutex::default() });
        let runner = Arc::new(Recorder::default());
        let (state, file) = server(dir.path(), index, runner.clone());

        let registered = register(&state, &file, "b", FirstSync::Later).await.expect("registered");
        assert!(!registered.sync_started);
        assert_eq!(state.sources.names(), ["a", "b"]);
        run_for(50).await;
        assert_eq!(runner.modes("b"), Vec::<String>::new(), "nothing before an interval");
        run_for(30).await;
        assert_eq!(runner.modes("b"), ["incremental"], "the schedule's first run");
        state.schedules.as_ref().unwrap().stop();
    }

    #[tokio::test(start_paused = true)]
    async fn a_schedule_started_again_replaces_the_one_before_and_a_stopped_one_runs_no_more() {
        let dir = tempfile::tempdir().unwrap();
        let index = Arc::new(NamedIndex { serves_more: true, added: Mutex::default() });
        let runner = Arc::new(Recorder::default());
        let (state, file) = server(dir.path(), index, runner.clone());
        register(&state, &file, "b", FirstSync::Later).await.expect("registered");
        let schedules = state.schedules.clone().unwrap();
        // Every 10 minutes instead of every minute, from now on: nothing at the old interval.
        let slower = Schedule { incremental: Some(Duration::from_secs(600)), permissions: None, full: None };
        schedules.start(std::future::ready(()), state.clone(), "b".into(), slower);
        run_for(1).await;
        assert_eq!(runner.modes("b"), ["incremental"], "never run: due at once on the new schedule");
        run_for(120).await;
        assert_eq!(runner.modes("b"), ["incremental"], "the one-minute schedule is gone");
        run_for(600).await;
        assert_eq!(runner.modes("b"), ["incremental", "incremental"], "the new interval");
        schedules.stop_source("b");
        run_for(1300).await;
        assert_eq!(runner.modes("b").len(), 2, "stopped: no run after");
        schedules.stop();
    }

    #[tokio::test]
    async fn a_source_the_server_cannot_take_is_neither_listed_nor_synced_and_says_why() {
        let dir = tempfile::tempdir().unwrap();
        let fixed = Arc::new(NamedIndex { serves_more: false, added: Mutex::default() });
        let runner = Arc::new(Recorder::default());
        let (state, file) = server(dir.path(), fixed, runner.clone());

        let why = register(&state, &file, "b", FirstSync::Now).await.expect_err("not taken");
        assert!(why.contains("a fixed set"), "{why}");
        // A name the file does not have, and a file that no longer loads.
        let why = register(&state, &file, "c", FirstSync::Now).await.expect_err("not in the file");
        assert!(why.contains("no source named c"), "{why}");
        std::fs::write(&file, "[[sources]\n").unwrap();
        let why = register(&state, &file, "b", FirstSync::Now).await.expect_err("broken file");
        assert!(why.contains("does not load again"), "{why}");
        // A token file that is gone.
        let index = Arc::new(NamedIndex { serves_more: true, added: Mutex::default() });
        let (state, file) = server(dir.path(), index.clone(), runner.clone());
        std::fs::remove_file(dir.path().join("b.token")).unwrap();
        let why = register(&state, &file, "b", FirstSync::Now).await.expect_err("no token");
        assert!(why.contains("token"), "{why}");
        assert!(index.added.lock().unwrap().is_empty());
        assert_eq!(state.sources.names(), ["a"]);
        assert!(runner.runs.lock().unwrap().is_empty(), "nothing ran");
    }
}

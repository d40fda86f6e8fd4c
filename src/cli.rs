//! Command-line interface: raw flags parsed by clap, validated into library configuration, and the
//! commands that run on it.
//!
//! Two stages, so that the library never sees a raw flag: clap turns argv into [`Cli`] (types it can
//! parse alone: numbers, addresses, [`Scale`], [`Corpus`]); `to_config` methods check what needs
//! several flags or a range (probabilities, `N/SECONDS`) and build the library's config types.
//! The binary (`main.rs`) only dispatches on [`Command`] and maps [`Error`] to an exit status.

use std::future::Future;
use std::io::Write;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use clap::{Args, Parser, Subcommand};

use crate::config::Config;
use crate::sim::{self, Corpus, FaultConfig, RateLimitConfig, Scale, SimConfig};
use crate::sync::{self as engine, Mode, Progress, ProgressEvent, RunOutcome, RunRecord};

/// permdex: permission-aware search for Confluence and Jira.
#[derive(Debug, Parser)]
#[command(name = "permdex", version, about)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

/// One variant per subcommand.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Write a commented starter permdex.toml for one site (never asks for or writes a token)
    Init(crate::config::init::InitArgs),
    /// Extract text from local files as the crawler would from attachments (isolated, bounded).
    Extract(crate::extract::cli::ExtractArgs),
    /// Internal: extract one file read from stdin (started by `extract` and the crawler, not by people).
    #[command(name = "extract-worker", hide = true)]
    ExtractWorker,
    /// Run the Atlassian Cloud simulator. Prints one JSON line `{"url", "email", "token"}` to stdout
    /// once it listens, then serves until Ctrl-C.
    Sim(SimArgs),
    /// Mint an HS256 bearer token for an account from the configured secret (for local use and tests).
    /// Prints the token to stdout; it is never logged.
    Token(TokenArgs),
    /// Run the query server (search and admin API, health, metrics) until Ctrl-C or SIGTERM.
    Serve(crate::server::backend::ServeArgs),
    /// Crawl the configured sources into the index: incremental by default, resuming an interrupted run.
    /// Exits non-zero when any item failed.
    Sync(SyncArgs),
    /// Show the last sync runs of each source.
    Status(StatusArgs),
    /// Search as an account: only what that account may read, exactly as the search API answers it.
    Search(crate::server::cli_search::SearchArgs),
    /// Try permdex with nothing to set up: simulate a site, sync it, and serve the search and
    /// integrations pages with demo users until Ctrl-C.
    Demo(crate::demo::DemoArgs),
}

/// Raw flags of `permdex sync`.
#[derive(Debug, Clone, Args)]
pub struct SyncArgs {
    /// The configuration file.
    #[arg(long, default_value = "permdex.toml")]
    pub config: PathBuf,
    /// Sync only this source (default: every source, one after the other).
    #[arg(long)]
    pub source: Option<String>,
    /// Re-read everything and delete what is gone, instead of only what changed.
    #[arg(long, conflicts_with = "permissions_only")]
    pub full: bool,
    /// Re-read only permissions and group membership; no page or issue bodies.
    #[arg(long)]
    pub permissions_only: bool,
    /// Least seconds between two checkpoint commits (a killed sync resumes from its last checkpoint).
    #[arg(long, default_value_t = 5.0, value_name = "SECS")]
    pub checkpoint_interval: f64,
}

impl SyncArgs {
    pub fn mode(&self) -> Mode {
        match (self.full, self.permissions_only) {
            (true, _) => Mode::Full,
            (_, true) => Mode::PermissionsOnly,
            _ => Mode::Incremental,
        }
    }
}

/// Raw flags of `permdex status`.
#[derive(Debug, Clone, Args)]
pub struct StatusArgs {
    /// The configuration file.
    #[arg(long, default_value = "permdex.toml")]
    pub config: PathBuf,
    /// Print JSON (one object with the runs of every source) instead of a table.
    #[arg(long)]
    pub json: bool,
    /// Runs shown per source.
    #[arg(long, default_value_t = 5)]
    pub last: usize,
}

/// Errors of the command line, by whose fault: a bad flag (usage) or the command failing.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("bad value for --{flag}: {reason}")]
    BadFlag { flag: &'static str, reason: String },
    #[error(transparent)]
    Sim(#[from] sim::Error),
    #[error(transparent)]
    Config(#[from] crate::config::Error),
    #[error(transparent)]
    Server(#[from] crate::server::Error),
    #[error("cannot write to stdout: {0}")]
    Stdout(#[source] std::io::Error),
    #[error(transparent)]
    Sync(#[from] crate::sync::Error),
    #[error("no source named {name:?} in {}", config.display())]
    UnknownSource { name: String, config: PathBuf },
}

impl Error {
    /// Whether the user asked for something invalid (exit status 2) rather than the command failing (1).
    pub fn is_usage(&self) -> bool {
        use crate::config::Error as ConfigError;
        match self {
            Error::BadFlag { .. } | Error::UnknownSource { .. } => true,
            Error::Config(e) => !matches!(e, ConfigError::Read { .. } | ConfigError::Write { .. }),
            Error::Server(e) => {
                matches!(e, crate::server::Error::NoJwtKey | crate::server::Error::CannotMint)
            }
            _ => false,
        }
    }
}

/// Raw flags of `permdex sim`.
#[derive(Debug, Clone, Args)]
pub struct SimArgs {
    /// Seed of the generated site: the same seed and scale give the same site.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Size of the site: tiny, small, medium or large.
    #[arg(long, default_value = "small")]
    pub scale: Scale,
    /// Address to listen on; port 0 picks a free port (the JSON line says which).
    #[arg(long, default_value = "127.0.0.1:8090")]
    pub listen: SocketAddr,
    /// Load an external corpus: cranfield:PATH or jira-csv:PATH.
    #[arg(long)]
    pub corpus: Option<Corpus>,
    /// Rate limit as REQUESTS/SECONDS, e.g. 100/1 (a token bucket over the whole API).
    #[arg(long, value_name = "N/SECONDS")]
    pub rate_limit: Option<String>,
    /// Probability that a 429 carries Retry-After.
    #[arg(long, default_value_t = 0.5, value_name = "P")]
    pub retry_after_probability: f64,
    /// Probability of every fault kind, unless set on its own below.
    #[arg(long, default_value_t = 0.0, value_name = "P")]
    pub fault_rate: f64,
    /// Probability of a 500/503 instead of the answer.
    #[arg(long, value_name = "P")]
    pub server_error: Option<f64>,
    /// Probability of a delayed answer.
    #[arg(long, value_name = "P")]
    pub slow: Option<f64>,
    /// Delay of a slow answer, in milliseconds.
    #[arg(long, default_value_t = 2_000, value_name = "MS")]
    pub slow_delay_ms: u64,
    /// Probability of a body cut short.
    #[arg(long, value_name = "P")]
    pub truncated: Option<f64>,
    /// Probability of a JSON body that does not parse.
    #[arg(long, value_name = "P")]
    pub malformed_json: Option<f64>,
    /// Probability of an extra, empty page after the last page of a listing.
    #[arg(long, value_name = "P")]
    pub empty_next: Option<f64>,
    /// Probability of `null` in fields the spec says are never null.
    #[arg(long, value_name = "P")]
    pub null_fields: Option<f64>,
    /// Seed of the fault dice (default: the site seed).
    #[arg(long)]
    pub fault_seed: Option<u64>,
}

fn probability(flag: &'static str, p: f64) -> Result<f64, Error> {
    if (0.0..=1.0).contains(&p) {
        Ok(p)
    } else {
        Err(Error::BadFlag { flag, reason: format!("{p} is not a probability in 0..=1") })
    }
}

/// Parses `N/SECONDS`: at least one request per a positive, finite number of seconds.
fn parse_rate_limit(spec: &str, retry_after_probability: f64) -> Result<RateLimitConfig, Error> {
    let bad = |reason: &str| Error::BadFlag { flag: "rate-limit", reason: format!("{spec:?}: {reason}") };
    let (n, secs) = spec.split_once('/').ok_or_else(|| bad("expected N/SECONDS, e.g. 100/1"))?;
    let capacity: u32 = n.trim().parse().map_err(|_| bad("N must be a whole number"))?;
    let secs: f64 = secs.trim().parse().map_err(|_| bad("SECONDS must be a number"))?;
    if capacity == 0 {
        return Err(bad("N must be at least 1"));
    }
    let window = Duration::try_from_secs_f64(secs)
        .ok()
        .filter(|w| !w.is_zero())
        .ok_or_else(|| bad("SECONDS must be positive"))?;
    Ok(RateLimitConfig { capacity, window, retry_after_probability })
}

impl SimArgs {
    /// The simulator configuration these flags describe.
    pub fn to_config(&self) -> Result<SimConfig, Error> {
        let all = probability("fault-rate", self.fault_rate)?;
        let each = |flag, value: Option<f64>| probability(flag, value.unwrap_or(all));
        let faults = FaultConfig {
            seed: self.fault_seed.unwrap_or(self.seed),
            server_error: each("server-error", self.server_error)?,
            slow: each("slow", self.slow)?,
            slow_delay: Duration::from_millis(self.slow_delay_ms),
            truncated: each("truncated", self.truncated)?,
            malformed_json: each("malformed-json", self.malformed_json)?,
            empty_next: each("empty-next", self.empty_next)?,
            null_fields: each("null-fields", self.null_fields)?,
        };
        let retry_after = probability("retry-after-probability", self.retry_after_probability)?;
        let rate_limit =
            self.rate_limit.as_deref().map(|spec| parse_rate_limit(spec, retry_after)).transpose()?;
        Ok(SimConfig { seed: self.seed, scale: self.scale, corpus: self.corpus.clone(), rate_limit, faults })
    }
}

/// `permdex sim`: starts the simulator, writes its URL and credential as one JSON line to `out`,
/// and serves until `shutdown` resolves.
///
/// The token printed is the simulator's own test credential, not a user secret; it is never logged.
pub async fn run_sim(
    args: &SimArgs,
    out: &mut impl Write,
    shutdown: impl Future<Output = ()>,
) -> Result<(), Error> {
    let config = args.to_config()?;
    let (seed, scale) = (config.seed, config.scale);
    let running = sim::run::start(config, args.listen).await?;
    let line = serde_json::json!({
        "url": running.url,
        "email": running.credentials.email,
        "token": running.credentials.token,
    });
    writeln!(out, "{line}").and_then(|()| out.flush()).map_err(Error::Stdout)?;
    tracing::info!(url = %running.url, seed, ?scale, "simulator listening");
    running.run_until(shutdown).await?;
    tracing::info!("simulator stopped");
    Ok(())
}

/// Raw flags of `permdex token`.
#[derive(Debug, Clone, Args)]
pub struct TokenArgs {
    /// Account id the token authenticates as (the JWT `sub`).
    #[arg(long = "user", value_name = "ACCOUNT_ID")]
    pub user: String,
    /// How long the token is valid: seconds, or a number with s, m, h or d (at most 365d).
    #[arg(long, default_value = "1h")]
    pub ttl: String,
    /// The config file whose `server.jwt_hs256_secret_env` holds the secret.
    #[arg(long, default_value = "permdex.toml")]
    pub config: std::path::PathBuf,
}

/// Longest TTL `permdex token` mints: a year.
const MAX_TOKEN_TTL: Duration = Duration::from_secs(365 * 24 * 3600);

/// Parses a TTL: `3600`, `90s`, `15m`, `1h`, `7d`; positive and at most [`MAX_TOKEN_TTL`].
fn parse_ttl(text: &str) -> Result<Duration, Error> {
    let bad = |reason: &str| Error::BadFlag { flag: "ttl", reason: format!("{text:?}: {reason}") };
    let text = text.trim();
    let (number, unit) = match text.char_indices().last() {
        Some((i, c)) if c.is_ascii_alphabetic() => (&text[..i], c),
        _ => (text, 's'),
    };
    let multiplier = match unit {
        's' => 1,
        'm' => 60,
        'h' => 3600,
        'd' => 24 * 3600,
        _ => return Err(bad("unit must be s, m, h or d")),
    };
    let n: u64 = number.parse().map_err(|_| bad("expected a whole number, like 30m or 1h"))?;
    let ttl = Duration::from_secs(n.saturating_mul(multiplier));
    if ttl.is_zero() || ttl > MAX_TOKEN_TTL {
        return Err(bad("must be more than 0 and at most 365d"));
    }
    Ok(ttl)
}

/// `permdex token`: writes a freshly minted token (one line) to `out`.
pub fn run_token(args: &TokenArgs, out: &mut impl Write) -> Result<(), Error> {
    let config = crate::config::Config::load(&args.config)?;
    let token = token_for(&config, args)?;
    writeln!(out, "{token}").and_then(|()| out.flush()).map_err(Error::Stdout)
}

/// The token `permdex token` prints, for `config`.
fn token_for(config: &crate::config::Config, args: &TokenArgs) -> Result<String, Error> {
    let account = crate::config::AccountId::parse(&args.user)
        .map_err(|e| Error::BadFlag { flag: "user", reason: e.to_string() })?;
    let ttl = parse_ttl(&args.ttl)?;
    let key = config.server().jwt().ok_or(crate::server::Error::NoJwtKey)?;
    Ok(crate::server::auth::mint_token(key, &account, ttl, chrono::Utc::now())?)
}

/// Progress of a sync on stderr: phases as they start, item counts at most once a second. Stops the run
/// (at its next checkpoint) once `stop` is set, e.g. by Ctrl-C.
pub struct StderrProgress {
    source: String,
    stop: Arc<AtomicBool>,
    last_print: Option<Instant>,
}

impl StderrProgress {
    pub fn new(source: &str, stop: Arc<AtomicBool>) -> Self {
        StderrProgress { source: source.to_string(), stop, last_print: None }
    }
}

impl Progress for StderrProgress {
    fn report(&mut self, event: &ProgressEvent<'_>) {
        match event {
            ProgressEvent::Phase { product, phase } => {
                eprintln!("{}: {} {phase}", self.source, product.as_str());
            }
            ProgressEvent::Items { product, kind, done } => {
                if self.last_print.is_none_or(|t| t.elapsed() >= Duration::from_secs(1)) {
                    eprintln!("{}:   {product}:{kind}: {done} on this page", self.source);
                    self.last_print = Some(Instant::now());
                }
            }
            ProgressEvent::Checkpoint { .. } => {}
        }
    }

    fn should_stop(&mut self) -> bool {
        self.stop.load(Ordering::Relaxed)
    }
}

/// `permdex sync`: syncs the chosen sources one after the other, printing progress and a summary per
/// source on stderr. Returns every run's record; the caller decides the exit status from their failures.
/// A stop request (`stop` set) ends the current run at a checkpoint and skips the remaining sources.
pub async fn run_sync(args: &SyncArgs, stop: Arc<AtomicBool>) -> Result<Vec<RunRecord>, Error> {
    let config = Config::load(&args.config)?;
    let sources: Vec<_> = match &args.source {
        Some(name) => vec![config
            .source(name)
            .ok_or_else(|| Error::UnknownSource { name: name.clone(), config: args.config.clone() })?
            .clone()],
        None => config.sources().to_vec(),
    };
    let checkpoint_interval =
        Duration::try_from_secs_f64(args.checkpoint_interval).map_err(|_| Error::BadFlag {
            flag: "checkpoint-interval",
            reason: format!("{} is not a number of seconds", args.checkpoint_interval),
        })?;
    let options = engine::SyncOptions { checkpoint_interval, ..engine::SyncOptions::default() };
    let mut records = Vec::new();
    for source in &sources {
        if stop.load(Ordering::Relaxed) {
            break;
        }
        let mut progress = StderrProgress::new(source.name().as_str(), stop.clone());
        let record = engine::sync_with(&config, source, args.mode(), &options, &mut progress).await?;
        eprint!("{}", summary(&record));
        records.push(record);
    }
    Ok(records)
}

/// A few lines on how a run went.
pub fn summary(record: &RunRecord) -> String {
    let t = record.total();
    let secs = (record.ended - record.started).num_milliseconds() as f64 / 1000.0;
    let mut out = format!(
        "{}: {} sync {} in {secs:.1}s: {} seen, {} added, {} updated, {} deleted, {} unchanged, {} re-pointed, \
         {} without readable permissions; {} api calls, {} throttled, {} retries\n",
        record.source,
        record.mode.as_str(),
        match &record.outcome {
            RunOutcome::Completed => "completed".to_string(),
            RunOutcome::Cancelled => "cancelled (the next sync resumes it)".to_string(),
            RunOutcome::Aborted(reason) => format!("aborted ({reason})"),
        },
        t.seen,
        t.added,
        t.updated,
        t.deleted,
        t.unchanged,
        t.repointed,
        t.acl_unknown,
        record.api.calls,
        record.api.throttled,
        record.api.retries,
    );
    for note in record.notes.iter().filter(|n| !n.starts_with("skipped ")) {
        out.push_str(&format!("{}: note: {note}\n", record.source));
    }
    if record.failed() > 0 {
        out.push_str(&format!("{}: {} failure(s):\n", record.source, record.failed()));
        for f in record.failures.iter().take(20) {
            out.push_str(&format!("  {}: {}\n", f.item, f.reason));
        }
        if record.failures.len() > 20 {
            out.push_str(&format!("  … {} more: see `permdex status --json`\n", record.failures.len() - 20));
        }
    }
    out
}

/// `permdex status`: the last runs of every configured source, as a table or as JSON.
pub fn run_status(args: &StatusArgs, out: &mut impl Write) -> Result<(), Error> {
    let config = Config::load(&args.config)?;
    let mut all = Vec::new();
    for source in config.sources() {
        all.extend(engine::runs::read_last(config.data_dir(), source.name().as_str(), args.last)?);
    }
    let text = if args.json {
        let value = serde_json::json!({ "runs": all });
        format!("{value:#}\n")
    } else if all.is_empty() {
        "no sync has run yet\n".to_string()
    } else {
        engine::runs::render_table(&all)
    };
    out.write_all(text.as_bytes()).map_err(Error::Stdout)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ttl_flag() {
        let cases: &[(&str, Option<u64>)] = &[
            ("3600", Some(3600)),
            ("90s", Some(90)),
            ("15m", Some(900)),
            ("1h", Some(3600)),
            ("7d", Some(7 * 86400)),
            ("365d", Some(365 * 86400)),
            ("366d", None),
            ("0", None),
            ("1w", None),
            ("h", None),
            ("-1h", None),
        ];
        for (text, want) in cases {
            assert_eq!(parse_ttl(text).ok().map(|d| d.as_secs()), *want, "{text:?}");
        }
    }

    #[test]
    fn token_command_mints_a_token_the_server_accepts() {
        let env = std::collections::BTreeMap::from([
            ("JWT".to_owned(), "a-secret-of-at-least-thirty-two-bytes!".to_owned()),
            ("TOK".to_owned(), "t0ken".to_owned()),
        ]);
        let source = "[[sources]]\nname = \"s\"\nurl = \"http://127.0.0.1:9\"\nemail = \"a@b.c\"\ntoken_env = \"TOK\"\n";
        let path = std::path::Path::new("permdex.toml");
        let with_secret = crate::config::Config::from_toml(
            &format!("{source}[server]\njwt_hs256_secret_env = \"JWT\"\n"),
            path,
            &env,
        )
        .unwrap();
        let args = TokenArgs { user: "557058:abc".into(), ttl: "2h".into(), config: path.into() };
        let token = token_for(&with_secret, &args).unwrap();
        let auth = crate::server::Authenticator::from_config(with_secret.server()).unwrap();
        let callers = crate::server::StaticCallers(std::collections::BTreeMap::from([(
            "557058:abc".to_owned(),
            crate::server::SourcePrincipals(std::collections::BTreeMap::from([("s".to_owned(), vec![])])),
        )]));
        let header = axum::http::HeaderValue::from_str(&format!("Bearer {token}")).unwrap();
        assert_eq!(auth.caller(Some(&header), &callers).unwrap().account_id.as_str(), "557058:abc");

        let bad_user = TokenArgs { user: "someone@example.com".into(), ..args.clone() };
        assert!(token_for(&with_secret, &bad_user).unwrap_err().is_usage());
        let without_secret = crate::config::Config::from_toml(source, path, &env).unwrap();
        assert!(token_for(&without_secret, &args).unwrap_err().is_usage());
    }

    fn sim_args(extra: &[&str]) -> Result<SimArgs, clap::Error> {
        let argv = ["permdex", "sim"].into_iter().chain(extra.iter().copied());
        Cli::try_parse_from(argv).map(|cli| match cli.command {
            Command::Sim(args) => args,
            other => panic!("parsed as {other:?}"),
        })
    }

    #[test]
    fn defaults_are_a_well_behaved_small_site() {
        let config = sim_args(&[]).unwrap().to_config().unwrap();
        assert_eq!(
            config,
            SimConfig {
                faults: FaultConfig { seed: 1, ..config.faults.clone() },
                ..SimConfig::new(1, Scale::Small)
            }
        );
        assert_eq!(config.faults.server_error + config.faults.truncated + config.faults.null_fields, 0.0);
    }

    #[test]
    fn fault_rate_applies_to_every_kind_unless_overridden() {
        let config = sim_args(&["--fault-rate", "0.2", "--truncated", "0", "--fault-seed", "9"])
            .unwrap()
            .to_config()
            .unwrap();
        let f = &config.faults;
        assert_eq!(
            (f.server_error, f.slow, f.malformed_json, f.empty_next, f.null_fields),
            (0.2, 0.2, 0.2, 0.2, 0.2)
        );
        assert_eq!((f.truncated, f.seed), (0.0, 9));
    }

    #[test]
    fn rate_limit_flag() {
        let cases: &[(&str, Option<(u32, Duration)>)] = &[
            ("100/1", Some((100, Duration::from_secs(1)))),
            ("5/0.5", Some((5, Duration::from_millis(500)))),
            (" 3 / 60 ", Some((3, Duration::from_secs(60)))),
            ("0/1", None),
            ("10/0", None),
            ("10/-1", None),
            ("10", None),
            ("ten/1", None),
            ("10/inf", None),
        ];
        for (spec, want) in cases {
            let got = parse_rate_limit(spec, 1.0).ok().map(|r| (r.capacity, r.window));
            assert_eq!(got, *want, "{spec:?}");
        }
    }

    #[test]
    fn bad_values_are_usage_errors() {
        for argv in [&["--fault-rate", "1.5"][..], &["--slow=-0.1"], &["--retry-after-probability", "2"]] {
            let error = sim_args(argv).unwrap().to_config().unwrap_err();
            assert!(error.is_usage(), "{argv:?}: {error}");
        }
        for argv in [&["--scale", "huge"][..], &["--listen", "nowhere"], &["--corpus", "trec:/x"]] {
            assert!(sim_args(argv).is_err(), "{argv:?}");
        }
        let corpus = sim_args(&["--corpus", "cranfield:/data/cran.all.1400", "--scale", "tiny"]).unwrap();
        assert_eq!(corpus.to_config().unwrap().corpus, Some(Corpus::Cranfield("/data/cran.all.1400".into())));
    }
}

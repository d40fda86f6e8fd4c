//! `permdex sim`: the simulator's flags, checked into a [`SimConfig`], and the command that serves it.
//!
//! Flags that clap cannot check alone (probabilities, `N/SECONDS`) are checked here; a bad value is a
//! usage error.

use std::future::Future;
use std::io::Write;
use std::net::SocketAddr;
use std::time::Duration;

use anyhow::Context;
use clap::Args;
use permdex::sim::{self, Corpus, FaultConfig, RateLimitConfig, Scale, SimConfig, SiteFeatures};

use super::Usage;

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
    /// Probability that an answer varies as real sites' do without changing its meaning (ids as numbers
    /// or text, optional fields left out, sentinels and unknown enum values where nothing depends on
    /// them, unknown fields). Not part of --fault-rate.
    #[arg(long, default_value_t = 0.0, value_name = "P")]
    pub variance: f64,
    /// Probability that each field a permission depends on is garbled (an unknown type, a `-1` or
    /// `null` id): a crawler must read it as granting nobody. Not part of --fault-rate.
    #[arg(long, default_value_t = 0.0, value_name = "P")]
    pub garbled_permissions: f64,
    /// Seed of the fault dice (default: the site seed).
    #[arg(long)]
    pub fault_seed: Option<u64>,
    /// A site feature beyond the default site; repeat the flag for several.
    #[arg(long = "feature", value_enum, value_name = "FEATURE")]
    pub features: Vec<Feature>,
}

/// The site features `--feature` turns on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Feature {
    /// Product access by group: accounts without Jira or Confluence, guests, application roles.
    ProductAccess,
    /// Inline comments (with replies, resolved threads included).
    InlineComments,
    /// Role-based space access (`ROLES_TRANSITION` mode, space roles and assignments).
    SpaceRoles,
    /// A Jira Service Management desk: portal-only customers, organisations, requests with participants
    /// and sharing, internal notes.
    ServiceManagement,
    /// Every feature above.
    All,
}

impl SimArgs {
    /// The site features: the default site's plus those asked for.
    pub fn site_features(&self) -> SiteFeatures {
        let mut features = sim::DEFAULT_FEATURES;
        for feature in &self.features {
            match feature {
                Feature::ProductAccess => features.product_access = true,
                Feature::InlineComments => features.inline_comments = true,
                Feature::SpaceRoles => features.space_roles = true,
                Feature::ServiceManagement => features.service_management = true,
                Feature::All => features = SiteFeatures::ALL,
            }
        }
        features
    }
}

fn probability(flag: &'static str, p: f64) -> Result<f64, Usage> {
    if (0.0..=1.0).contains(&p) {
        Ok(p)
    } else {
        Err(Usage::flag(flag, format!("{p} is not a probability in 0..=1")))
    }
}

/// Parses `N/SECONDS`: at least one request per a positive, finite number of seconds.
fn parse_rate_limit(spec: &str, retry_after_probability: f64) -> Result<RateLimitConfig, Usage> {
    let bad = |reason: &str| Usage::flag("rate-limit", format!("{spec:?}: {reason}"));
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
    pub fn to_config(&self) -> Result<SimConfig, Usage> {
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
            variance: probability("variance", self.variance)?,
            garbled_permissions: probability("garbled-permissions", self.garbled_permissions)?,
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
pub async fn run(
    args: &SimArgs,
    out: &mut impl Write,
    shutdown: impl Future<Output = ()>,
) -> anyhow::Result<()> {
    let config = args.to_config()?;
    let (seed, scale) = (config.seed, config.scale);
    let running = sim::run::start_with_features(config, args.site_features(), args.listen).await?;
    let line = serde_json::json!({
        "url": running.url,
        "email": running.credentials.email,
        "token": running.credentials.token,
    });
    writeln!(out, "{line}").and_then(|()| out.flush()).context("cannot write to stdout")?;
    tracing::info!(url = %running.url, seed, ?scale, "simulator listening");
    running.run_until(shutdown).await?;
    tracing::info!("simulator stopped");
    Ok(())
}

#[cfg(test)]
mod tests {
    use clap::Parser;

    use super::*;
    use crate::cli::{Cli, Command};

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
    fn features_add_to_the_default_site() {
        assert_eq!(sim_args(&[]).unwrap().site_features(), sim::DEFAULT_FEATURES);
        let some = sim_args(&["--feature", "inline-comments", "--feature", "space-roles"]).unwrap();
        let want = SiteFeatures { inline_comments: true, space_roles: true, ..sim::DEFAULT_FEATURES };
        assert_eq!(some.site_features(), want);
        assert_eq!(sim_args(&["--feature", "all"]).unwrap().site_features(), SiteFeatures::ALL);
        assert!(sim_args(&["--feature", "whiteboards"]).is_err());
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
            assert!(error.to_string().starts_with("bad value for --"), "{argv:?}: {error}");
        }
        for argv in [&["--scale", "huge"][..], &["--listen", "nowhere"], &["--corpus", "trec:/x"]] {
            assert!(sim_args(argv).is_err(), "{argv:?}");
        }
        let corpus = sim_args(&["--corpus", "cranfield:/data/cran.all.1400", "--scale", "tiny"]).unwrap();
        assert_eq!(corpus.to_config().unwrap().corpus, Some(Corpus::Cranfield("/data/cran.all.1400".into())));
    }
}

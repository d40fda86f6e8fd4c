//! `permdex demo`: its flags, a temporary data directory unless `--data` is given, and what it prints.
//! The demo itself (simulator, sync, server in demo mode) is `permdex::demo`.

use std::future::Future;
use std::io::Write;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::atomic::AtomicBool;
use std::sync::Arc;

use anyhow::Context;
use clap::Args;
use permdex::demo::{self, DemoOptions, RunningDemo, SOURCE};
use permdex::server::backend::ServeOptions;
use permdex::sim::{Scale, SimConfig};
use permdex::sync::StderrProgress;

/// Raw flags of `permdex demo`.
#[derive(Debug, Clone, Args)]
pub struct DemoArgs {
    /// Seed of the simulated site: the same seed and scale give the same site and demo users.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Size of the simulated site: tiny, small or medium.
    #[arg(long, default_value = "small")]
    pub scale: Scale,
    /// Address the server listens on (port 0 picks a free port).
    #[arg(long, default_value = "127.0.0.1:8080")]
    pub listen: SocketAddr,
    /// Keep the configuration, index and run records here (default: a temporary directory removed on exit).
    #[arg(long)]
    pub data: Option<PathBuf>,
}

/// `permdex demo`: [`demo::start`], print how to use it on `out`, serve until `shutdown` resolves, clean up.
pub async fn run(
    args: &DemoArgs,
    out: &mut dyn Write,
    shutdown: impl Future<Output = ()>,
) -> anyhow::Result<()> {
    let temporary = args.data.is_none();
    let data_dir = match &args.data {
        Some(dir) => dir.clone(),
        None => std::env::temp_dir().join(format!(
            "permdex-demo-{}-{:08x}",
            std::process::id(),
            rand::random::<u32>()
        )),
    };
    super::warn_if_exposed(&data_dir);
    let options = DemoOptions {
        sim: SimConfig::new(args.seed, args.scale),
        features: permdex::sim::SiteFeatures::ALL,
        listen: args.listen,
        data_dir: data_dir.clone(),
        serve: ServeOptions::default(),
    };
    eprintln!(
        "permdex demo: simulating a site (seed {}, scale {}) and syncing it into {}",
        args.seed,
        scale_name(args.scale),
        data_dir.display()
    );
    let mut progress = StderrProgress::new(SOURCE, Arc::new(AtomicBool::new(false)));
    let started = demo::start(options, &mut progress).await;
    let running = match started {
        Ok(running) => running,
        Err(e) => {
            remove_temporary(&data_dir, temporary);
            return Err(e.into());
        }
    };
    let printed = print_welcome(&running, out).context("cannot write to stdout");
    if printed.is_ok() {
        shutdown.await;
        eprintln!("permdex demo: stopping");
    }
    running.shutdown().await;
    remove_temporary(&data_dir, temporary);
    printed
}

fn scale_name(scale: Scale) -> &'static str {
    match scale {
        Scale::Tiny => "tiny",
        Scale::Small => "small",
        Scale::Medium => "medium",
        Scale::Large => "large",
    }
}

fn remove_temporary(dir: &Path, temporary: bool) {
    if temporary {
        if let Err(e) = std::fs::remove_dir_all(dir) {
            tracing::warn!(dir = %dir.display(), error = %e, "cannot remove the demo data directory");
        }
    }
}

fn print_welcome(demo: &RunningDemo, out: &mut dyn Write) -> std::io::Result<()> {
    writeln!(out, "\npermdex demo is serving at {}/", demo.url)?;
    writeln!(out, "  search page:       {}/   (pick a demo user at the top right)", demo.url)?;
    writeln!(out, "  integrations page: {}/integrations   admin key: {}", demo.url, demo.admin_key)?;
    writeln!(out, "  API description:   {}/api/v1/openapi.json", demo.url)?;
    writeln!(out, "\nDemo users (bearer tokens for the API):")?;
    for user in &demo.users {
        writeln!(out, "  {} ({}): {}", user.display_name, user.account_id, user.description)?;
        writeln!(
            out,
            "    curl -H 'Authorization: Bearer {}' '{}/api/v1/search?q={}'",
            user.token, demo.url, user.example
        )?;
    }
    writeln!(out, "\nPress Ctrl-C to stop.")?;
    out.flush()
}

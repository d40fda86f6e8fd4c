//! The permdex binary: parses the command line, calls the library, maps errors to exit codes. The flags,
//! the commands' printing and the exit statuses are in [`cli`]; everything else is the library.
//!
//! Logs go to stderr (`RUST_LOG` filters them); stdout carries only a command's output.

mod cli;

use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    bound_allocator_arenas();
    let args = cli::Cli::parse();
    init_tracing();
    cli::restrict_file_modes();
    match cli::run(args) {
        Ok(code) => code,
        Err(err) => {
            eprintln!("permdex: {}", cli::error_line(&err));
            cli::exit_code(&err)
        }
    }
}

/// Most glibc malloc arenas: each arena keeps what its threads freed for reuse, and the default of eight per
/// core let a server that syncs grow without end (threads of the blocking pool and the index writer come
/// and go, each leaving freed memory in its own arena). Measured with `permdex bench soak` (README,
/// "Load and soak"): resident memory that climbed with every sync stays flat with two arenas, at the same
/// throughput. `MALLOC_ARENA_MAX` or glibc's tunables, when set, win.
fn bound_allocator_arenas() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    {
        const MALLOC_ARENAS: libc::c_int = 2;
        let tuned = std::env::var_os("MALLOC_ARENA_MAX").is_some()
            || std::env::var("GLIBC_TUNABLES").is_ok_and(|t| t.contains("arena_max"));
        if !tuned {
            // SAFETY: mallopt only changes a malloc setting; called first thing in main, before any thread
            // that would take an arena exists.
            unsafe {
                libc::mallopt(libc::M_ARENA_MAX, MALLOC_ARENAS);
            }
        }
    }
}

fn init_tracing() {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr).init();
}

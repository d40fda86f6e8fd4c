//! Isolation for attachment extraction: every file is extracted by a fresh child process (the permdex binary
//! itself, started as `permdex extract-worker`), so a parser that panics, overflows its stack, loops or
//! allocates without bound takes down only that child.
//!
//! Protocol (one file per process): the parent writes one JSON line ([`WorkerRequest`]: hint, limits, input
//! length) and then the raw bytes to the child's stdin; the child answers with one JSON [`WorkerResponse`] on
//! its stdout and exits 0. The child starts with an empty environment ([`WORKER_ENVIRONMENT`] only), so no
//! secret of the parent's reaches code that parses hostile bytes. Before reading the bytes it caps its own
//! address space (`RLIMIT_AS`), CPU time (`RLIMIT_CPU`, a backstop should the parent die) and core dumps,
//! enters the sandbox (no file writes, no network: `sandbox.rs`), and points its file descriptor 1 at
//! stderr, so that a library printing to stdout cannot corrupt the answer.
//!
//! The parent ([`Extractor`]) kills the child when the time budget runs out and turns every way a child can
//! end (answer, signal, exit code, garbage) into an [`Outcome`] with a reason. It never returns an error and
//! never panics on a child's behaviour. One process per file rather than a pool of reusable workers: start-up
//! costs a few milliseconds, far less than fetching an attachment, and a fresh process is the only way each
//! file gets the full memory bound and no state left behind by the file before it.
//! Not here: choosing what to extract, retrying, or limiting how many extractions run at once.

use std::io::{BufRead, BufReader, Read, Write};
use std::os::unix::process::{CommandExt, ExitStatusExt};
use std::path::PathBuf;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};

use super::sandbox::Confinement;
use super::sniff::{sniff_magic, FileType, Hint};
use super::{extract_unisolated, Engines, Error, Extraction, Limits, Outcome, Settings};

/// The hidden subcommand that runs a worker.
pub const WORKER_SUBCOMMAND: &str = "extract-worker";

/// How the parent runs workers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExtractConfig {
    /// The permdex binary to start as a worker.
    pub worker_program: PathBuf,
    /// Wall-clock time one file may take, including worker start-up.
    pub time_budget: Duration,
    /// Address-space limit of the worker process.
    pub memory_limit_bytes: u64,
    /// Inputs larger than this are skipped without starting a worker.
    pub max_input_bytes: usize,
    /// Output and archive limits applied inside the worker.
    pub limits: Limits,
    /// Which engines the worker uses (PDF extractors, optional OCR).
    pub engines: Engines,
}

impl Default for ExtractConfig {
    /// The current executable as worker (right for the permdex binary; tests and other embedders must set
    /// `worker_program` to a permdex binary), 20 s, 512 MiB, 64 MiB of input.
    fn default() -> Self {
        Self {
            worker_program: std::env::current_exe().unwrap_or_else(|_| PathBuf::from("permdex")),
            time_budget: Duration::from_secs(20),
            memory_limit_bytes: 512 << 20,
            max_input_bytes: 64 << 20,
            limits: Limits::default(),
            engines: Engines::default(),
        }
    }
}

/// Extracts attachments in isolated worker processes. Cheap to clone; usable from any number of threads
/// and from `tokio::task::spawn_blocking` (each call blocks its thread until its worker ends).
#[derive(Debug, Clone)]
pub struct Extractor {
    config: ExtractConfig,
}

/// The first line a worker reads.
#[derive(Debug, Serialize, Deserialize)]
pub struct WorkerRequest {
    pub hint: Hint,
    pub settings: Settings,
    pub memory_limit_bytes: u64,
    pub cpu_limit_secs: u64,
    pub input_len: usize,
}

/// What a worker writes back.
#[derive(Debug, Serialize, Deserialize)]
pub struct WorkerResponse {
    pub detected: FileType,
    pub outcome: Outcome,
    /// What the sandbox enforced while the worker read the input.
    pub confinement: Confinement,
}

/// The whole environment of a worker: no backtraces on stderr, and helper programs (Tesseract's OpenMP)
/// kept to one thread so that the time budget means the same on every machine.
pub const WORKER_ENVIRONMENT: &[(&str, &str)] = &[("RUST_BACKTRACE", "0"), ("OMP_THREAD_LIMIT", "1")];

/// Longest request header line a worker accepts.
const MAX_HEADER_BYTES: u64 = 64 * 1024;
/// How long a worker that has answered may take to exit.
const EXIT_GRACE: Duration = Duration::from_secs(1);
/// How much of a worker's stderr is kept to explain a crash (the end, where the fatal message is).
const STDERR_TAIL_BYTES: usize = 8 * 1024;

impl Extractor {
    pub fn new(config: ExtractConfig) -> Self {
        Self { config }
    }

    pub fn config(&self) -> &ExtractConfig {
        &self.config
    }

    /// Extracts the text of one attachment in a fresh worker process.
    pub fn extract(&self, bytes: &[u8], hint: &Hint) -> Extraction {
        let started = Instant::now();
        if bytes.len() > self.config.max_input_bytes {
            return self.oversized(bytes, hint, Some(bytes.len() as u64));
        }
        let (detected, outcome, confinement) = match self.run_worker(bytes, hint) {
            Ok(response) => (response.detected, response.outcome, Some(response.confinement)),
            Err(reason) => (sniff_magic(bytes, hint), Outcome::Failed { reason }, None),
        };
        Extraction { detected, outcome, elapsed: started.elapsed(), confinement }
    }

    /// The outcome of an input over the size cap (of `len` bytes, when known), of which the caller read only
    /// `head` (enough to name its type): skipped, without starting a worker.
    pub fn oversized(&self, head: &[u8], hint: &Hint, len: Option<u64>) -> Extraction {
        let limit = self.config.max_input_bytes;
        let reason = match len {
            Some(len) => format!("input of {len} bytes exceeds the limit of {limit} bytes"),
            None => format!("input exceeds the limit of {limit} bytes"),
        };
        Extraction {
            detected: sniff_magic(head, hint),
            outcome: Outcome::Skipped { reason },
            elapsed: Duration::ZERO,
            confinement: None,
        }
    }

    /// Runs one worker to completion; `Err` carries the reason the file failed.
    fn run_worker(&self, bytes: &[u8], hint: &Hint) -> Result<WorkerResponse, String> {
        let budget = self.config.time_budget;
        let deadline = Instant::now() + budget;
        let request = WorkerRequest {
            hint: hint.clone(),
            settings: Settings { limits: self.config.limits, engines: self.config.engines.clone() },
            memory_limit_bytes: self.config.memory_limit_bytes,
            // A backstop for a worker whose parent died; the parent's own deadline normally acts first.
            cpu_limit_secs: budget.as_secs() + 2,
            input_len: bytes.len(),
        };
        let mut header =
            serde_json::to_vec(&request).map_err(|err| format!("cannot encode worker request: {err}"))?;
        header.push(b'\n');

        // The worker parses hostile bytes: it gets an empty environment (no token, key or secret of the
        // parent's can leak through it) plus only what it needs.
        let mut child = Command::new(&self.config.worker_program)
            .arg(WORKER_SUBCOMMAND)
            .env_clear()
            .envs(WORKER_ENVIRONMENT.iter().copied())
            // Its own process group, so that killing it also ends the helper programs it started.
            .process_group(0)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .map_err(|err| {
                format!("cannot start extraction worker {}: {err}", self.config.worker_program.display())
            })?;
        let (Some(mut stdin), Some(stdout), Some(stderr)) =
            (child.stdin.take(), child.stdout.take(), child.stderr.take())
        else {
            kill_and_reap(&mut child);
            return Err("extraction worker started without its pipes".to_owned());
        };
        // JSON escapes at most 6 bytes per byte of text; anything longer is not a valid answer.
        let answer_cap =
            (self.config.limits.max_output_bytes as u64).saturating_mul(6).saturating_add(64 * 1024);

        std::thread::scope(|scope| {
            scope.spawn(move || {
                // A worker that dies early closes its stdin: the broken pipe is expected, its exit status says why.
                let _ = stdin.write_all(&header).and_then(|()| stdin.write_all(bytes));
            });
            let (answer_tx, answer_rx) = mpsc::channel();
            scope.spawn(move || {
                let mut answer = Vec::new();
                let read = stdout.take(answer_cap + 1).read_to_end(&mut answer);
                let _ = answer_tx.send(read.map(|_| answer));
            });
            let stderr_tail = scope.spawn(move || read_tail(stderr, STDERR_TAIL_BYTES));

            let answer = answer_rx.recv_timeout(deadline.saturating_duration_since(Instant::now())).ok();
            // A worker that answered in time is exiting; a short grace keeps a finished file from counting as
            // a timeout because its exit landed just after the deadline.
            let status = match answer {
                Some(_) => wait_until(&mut child, deadline.max(Instant::now() + EXIT_GRACE)),
                None => None,
            };
            let Some(status) = status else {
                kill_and_reap(&mut child);
                return Err(format!("timed out after {}", format_duration(budget)));
            };
            let stderr_tail = stderr_tail.join().unwrap_or_default();
            interpret(status, answer, answer_cap, &stderr_tail, self.config.memory_limit_bytes)
        })
    }
}

/// Waits for the child to exit, up to the deadline.
fn wait_until(child: &mut Child, deadline: Instant) -> Option<ExitStatus> {
    // The child closed its stdout, so it is exiting: this loop normally ends on its first or second turn.
    let mut pause = Duration::from_micros(200);
    loop {
        match child.try_wait() {
            Ok(Some(status)) => return Some(status),
            Ok(None) if Instant::now() < deadline => {
                std::thread::sleep(pause);
                pause = (pause * 2).min(Duration::from_millis(20));
            }
            Ok(None) | Err(_) => return None,
        }
    }
}

fn kill_and_reap(child: &mut Child) {
    // The worker leads its own process group: the signal reaches the helpers it started too. It fails only
    // when the group is gone already; either way wait() reaps the worker.
    if let Ok(group) = libc::pid_t::try_from(child.id()) {
        // SAFETY: kill takes plain integers; a negative pid names the process group of the child we spawned.
        unsafe {
            libc::kill(-group, libc::SIGKILL);
        }
    }
    let _ = child.kill();
    let _ = child.wait();
}

fn read_tail(mut stream: impl Read, keep: usize) -> String {
    let mut tail = Vec::new();
    let mut chunk = [0u8; 4096];
    loop {
        match stream.read(&mut chunk) {
            Ok(0) | Err(_) => break,
            Ok(n) => {
                tail.extend_from_slice(&chunk[..n]);
                if tail.len() > keep * 2 {
                    tail.drain(..tail.len() - keep);
                }
            }
        }
    }
    let start = tail.len().saturating_sub(keep);
    String::from_utf8_lossy(&tail[start..]).into_owned()
}

fn interpret(
    status: ExitStatus,
    answer: Option<std::io::Result<Vec<u8>>>,
    answer_cap: u64,
    stderr_tail: &str,
    memory_limit_bytes: u64,
) -> Result<WorkerResponse, String> {
    if let Some(signal) = status.signal() {
        return Err(crash_reason(signal, stderr_tail, memory_limit_bytes));
    }
    if !status.success() {
        let code = status.code().unwrap_or(-1);
        return Err(format!("worker exited with status {code}: {}", last_line(stderr_tail)));
    }
    let answer = match answer {
        Some(Ok(answer)) => answer,
        Some(Err(err)) => return Err(format!("cannot read worker answer: {err}")),
        None => return Err("worker sent no answer".to_owned()),
    };
    if answer.len() as u64 > answer_cap {
        return Err(format!("worker answer exceeds {answer_cap} bytes"));
    }
    serde_json::from_slice(&answer).map_err(|err| format!("worker sent an unreadable answer: {err}"))
}

fn crash_reason(signal: i32, stderr_tail: &str, memory_limit_bytes: u64) -> String {
    if stderr_tail.contains("has overflowed its stack") {
        return format!("worker crashed: stack overflow ({})", signal_name(signal));
    }
    if stderr_tail.contains("memory allocation of") {
        return format!("memory limit exceeded ({} MiB)", memory_limit_bytes >> 20);
    }
    match signal {
        libc::SIGXCPU => "cpu time limit exceeded".to_owned(),
        libc::SIGKILL => "worker killed (SIGKILL), possibly by the out-of-memory killer".to_owned(),
        _ => {
            let detail = last_line(stderr_tail);
            if detail.is_empty() {
                format!("worker crashed: {}", signal_name(signal))
            } else {
                format!("worker crashed: {} ({detail})", signal_name(signal))
            }
        }
    }
}

fn signal_name(signal: i32) -> String {
    let name = match signal {
        libc::SIGSEGV => "SIGSEGV",
        libc::SIGABRT => "SIGABRT",
        libc::SIGBUS => "SIGBUS",
        libc::SIGILL => "SIGILL",
        libc::SIGFPE => "SIGFPE",
        libc::SIGKILL => "SIGKILL",
        libc::SIGTERM => "SIGTERM",
        libc::SIGXCPU => "SIGXCPU",
        _ => return format!("signal {signal}"),
    };
    name.to_owned()
}

fn last_line(text: &str) -> &str {
    text.lines().map(str::trim).rfind(|line| !line.is_empty()).unwrap_or("")
}

fn format_duration(duration: Duration) -> String {
    if duration.subsec_millis() == 0 {
        format!("{}s", duration.as_secs())
    } else {
        format!("{}ms", duration.as_millis())
    }
}

/// The worker side: reads one request from stdin, extracts, writes the answer. Called by
/// `permdex extract-worker`; returns an error only when the request itself cannot be read or answered.
pub fn serve_worker() -> Result<(), Error> {
    let mut answer_sink = redirect_stdout_to_stderr()?;
    let mut input = BufReader::new(std::io::stdin().lock());
    let mut header = Vec::new();
    (&mut input).take(MAX_HEADER_BYTES).read_until(b'\n', &mut header)?;
    let request: WorkerRequest = serde_json::from_slice(&header)
        .map_err(|err| Error::Protocol { reason: format!("unreadable request header: {err}") })?;
    limit_self(&request)?;
    let confinement = super::sandbox::confine();
    let mut bytes = vec![0u8; request.input_len];
    input.read_exact(&mut bytes)?;
    // Panics are caught and reported in the answer; the default hook would only add noise on stderr.
    std::panic::set_hook(Box::new(|_| {}));
    let (detected, outcome) = extract_unisolated(&bytes, &request.hint, &request.settings);
    drop(bytes);
    let response = WorkerResponse { detected, outcome, confinement };
    serde_json::to_writer(&mut answer_sink, &response)
        .map_err(|err| Error::Protocol { reason: format!("cannot write answer: {err}") })?;
    answer_sink.flush()?;
    Ok(())
}

/// Moves the real stdout to a new descriptor for the answer and points descriptor 1 at stderr.
fn redirect_stdout_to_stderr() -> Result<std::fs::File, Error> {
    use std::os::fd::FromRawFd;
    // SAFETY: dup and dup2 act on descriptors 1 and 2, which the process owns for its whole life; the
    // descriptor dup returns is new and owned by nothing else, so handing it to File is sound.
    unsafe {
        let answer_fd = libc::dup(libc::STDOUT_FILENO);
        if answer_fd < 0 || libc::dup2(libc::STDERR_FILENO, libc::STDOUT_FILENO) < 0 {
            return Err(Error::Io(std::io::Error::last_os_error()));
        }
        Ok(std::fs::File::from_raw_fd(answer_fd))
    }
}

fn limit_self(request: &WorkerRequest) -> Result<(), Error> {
    set_rlimit(libc::RLIMIT_CORE, 0, 0)?;
    set_rlimit(libc::RLIMIT_CPU, request.cpu_limit_secs, request.cpu_limit_secs + 1)?;
    set_rlimit(libc::RLIMIT_AS, request.memory_limit_bytes, request.memory_limit_bytes)?;
    Ok(())
}

#[cfg(target_os = "linux")]
type Resource = libc::__rlimit_resource_t;
#[cfg(not(target_os = "linux"))]
type Resource = libc::c_int;

fn set_rlimit(resource: Resource, soft: libc::rlim_t, hard: libc::rlim_t) -> Result<(), Error> {
    let mut current = libc::rlimit { rlim_cur: 0, rlim_max: 0 };
    // SAFETY: getrlimit/setrlimit only read and write the struct passed by reference.
    unsafe {
        if libc::getrlimit(resource, &mut current) != 0 {
            return Err(Error::Io(std::io::Error::last_os_error()));
        }
        // An unprivileged process may lower its hard limit but never raise it.
        let hard = hard.min(current.rlim_max);
        let limit = libc::rlimit { rlim_cur: soft.min(hard), rlim_max: hard };
        if libc::setrlimit(resource, &limit) != 0 {
            return Err(Error::Io(std::io::Error::last_os_error()));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn crash_reasons_name_the_cause() {
        let mib = 512 << 20;
        let cases = [
            (
                libc::SIGABRT,
                "\nthread 'main' has overflowed its stack\nfatal runtime error: stack overflow\n",
                "worker crashed: stack overflow (SIGABRT)",
            ),
            (
                libc::SIGABRT,
                "memory allocation of 1073741824 bytes failed\n",
                "memory limit exceeded (512 MiB)",
            ),
            (libc::SIGXCPU, "", "cpu time limit exceeded"),
            (libc::SIGSEGV, "", "worker crashed: SIGSEGV"),
            (
                libc::SIGABRT,
                "some library said\nfatal: bad thing\n\n",
                "worker crashed: SIGABRT (fatal: bad thing)",
            ),
            (64, "", "worker crashed: signal 64"),
        ];
        for (signal, stderr, expected) in cases {
            assert_eq!(crash_reason(signal, stderr, mib), expected);
        }
    }

    #[test]
    fn stderr_tail_keeps_the_end() {
        let text = format!("{}END", "x".repeat(100_000));
        let tail = read_tail(text.as_bytes(), 10);
        assert_eq!(tail, "xxxxxxxEND");
    }

    #[test]
    fn durations_read_naturally() {
        assert_eq!(format_duration(Duration::from_secs(20)), "20s");
        assert_eq!(format_duration(Duration::from_millis(1500)), "1500ms");
    }

    #[test]
    fn a_missing_worker_program_is_a_failed_outcome() {
        let extractor = Extractor::new(ExtractConfig {
            worker_program: PathBuf::from("/nonexistent/permdex"),
            ..ExtractConfig::default()
        });
        let extraction = extractor.extract(b"%PDF-1.4", &Hint::default());
        assert_eq!(extraction.detected, FileType::Pdf);
        assert!(
            matches!(&extraction.outcome, Outcome::Failed { reason } if reason.contains("cannot start extraction worker")),
            "{:?}",
            extraction.outcome
        );
    }

    #[test]
    fn oversized_input_is_skipped_without_a_worker() {
        let extractor = Extractor::new(ExtractConfig {
            worker_program: PathBuf::from("/nonexistent/permdex"),
            max_input_bytes: 4,
            ..ExtractConfig::default()
        });
        let extraction = extractor.extract(b"hello world", &Hint::default());
        assert_eq!(extraction.detected, FileType::Text);
        assert_eq!(
            extraction.outcome,
            Outcome::Skipped { reason: "input of 11 bytes exceeds the limit of 4 bytes".to_owned() }
        );
    }
}

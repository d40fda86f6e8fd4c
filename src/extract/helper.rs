//! Running an external program (poppler's `pdftotext` and `pdftoppm`, Tesseract) from inside the extraction
//! worker: input on its stdin, output read from its stdout up to a cap, stderr kept to explain a failure.
//!
//! The program inherits the worker's confinement (cleared environment, rlimits, sandbox: no file writes, no
//! network) and its process group, which the parent kills whole when the time budget runs out. Every
//! descriptor is a pipe (never `/dev/null`, which the sandbox would refuse to open for writing). Programs
//! are named by absolute path, found in the parent's `PATH` by [`find_program`].
//! Not here: what the programs are asked to do (`pdf.rs`, `ocr.rs`).

use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

/// Looks a program up in `PATH`, as the parent process sees it (the worker has no `PATH`).
pub fn find_program(name: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path).map(|dir| dir.join(name)).find(|candidate| is_executable(candidate))
}

fn is_executable(path: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    path.metadata().is_ok_and(|meta| meta.is_file() && meta.permissions().mode() & 0o111 != 0)
}

/// Runs `program args…` with `input` on its stdin and returns its stdout (at most `max_output` bytes).
/// `Err` carries a reason: the program could not start, exited with a failure, or said so on stderr.
pub fn run(program: &Path, args: &[&str], input: &[u8], max_output: usize) -> Result<Vec<u8>, String> {
    let shown = program
        .file_name()
        .map_or_else(|| program.display().to_string(), |n| n.to_string_lossy().into_owned());
    let mut child = Command::new(program)
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|err| format!("cannot start {shown}: {err}"))?;
    let (Some(mut stdin), Some(stdout), Some(stderr)) =
        (child.stdin.take(), child.stdout.take(), child.stderr.take())
    else {
        let _ = child.kill();
        let _ = child.wait();
        return Err(format!("{shown} started without its pipes"));
    };
    let (output, errors) = std::thread::scope(|scope| {
        // A program that stops reading early closes its stdin: its exit status says why.
        scope.spawn(move || {
            let _ = stdin.write_all(input);
        });
        let errors = scope.spawn(move || read_tail(stderr, 16 * 1024));
        let mut output = Vec::new();
        let read = stdout.take(max_output as u64).read_to_end(&mut output);
        // Output past the cap is not read: the program may be blocked writing it, or still reading its input.
        if output.len() >= max_output {
            let _ = child.kill();
        }
        (read.map(|_| output), errors.join().unwrap_or_default())
    });
    let status = child.wait().map_err(|err| format!("{shown}: {err}"))?;
    let output = output.map_err(|err| format!("cannot read {shown} output: {err}"))?;
    if !status.success() && output.len() < max_output {
        let detail = String::from_utf8_lossy(&errors);
        let detail = detail.lines().map(str::trim).rfind(|line| !line.is_empty()).unwrap_or("");
        return Err(format!(
            "{shown} failed ({status}){}",
            if detail.is_empty() { String::new() } else { format!(": {detail}") }
        ));
    }
    Ok(output)
}

/// Reads a stream to its end, keeping only its last `keep` bytes (so the writer never blocks on a full pipe).
fn read_tail(mut stream: impl Read, keep: usize) -> Vec<u8> {
    let mut tail = Vec::new();
    let mut chunk = [0u8; 4096];
    while let Ok(read @ 1..) = stream.read(&mut chunk) {
        tail.extend_from_slice(&chunk[..read]);
        if tail.len() > keep * 2 {
            tail.drain(..tail.len() - keep);
        }
    }
    let start = tail.len().saturating_sub(keep);
    tail.split_off(start)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn runs_with_stdin_and_reports_failures() {
        let cat = find_program("cat").expect("cat in PATH");
        assert_eq!(run(&cat, &[], b"hello", 1024).unwrap(), b"hello");
        assert_eq!(run(&cat, &[], &vec![b'x'; 10_000], 100).unwrap().len(), 100);
        let sh = find_program("sh").expect("sh in PATH");
        // A program that writes more to stdout than is read is stopped; more to stderr than is kept, read.
        let endless = run(&sh, &["-c", "exec yes output"], b"", 1000);
        assert_eq!(endless.map(|out| out.len()), Ok(1000));
        let noisy = run(&sh, &["-c", "head -c 200000 /dev/zero >&2; echo done"], b"", 1000);
        assert_eq!(noisy.as_deref(), Ok(&b"done\n"[..]));
        let err = run(&sh, &["-c", "echo broken input >&2; exit 3"], b"", 1024).unwrap_err();
        assert!(err.starts_with("sh failed (exit status: 3): broken input"), "{err}");
        let err = run(Path::new("/nonexistent/tool"), &[], b"", 10).unwrap_err();
        assert!(err.starts_with("cannot start tool"), "{err}");
        assert!(find_program("no-such-program-here").is_none());
    }
}

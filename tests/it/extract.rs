//! Extraction through the isolated worker: the real permdex binary as worker, the PDF robustness corpus,
//! crafted hostile PDFs (deep nesting, memory hog, slow), zip bombs, and the `permdex extract` command.

use std::collections::{BTreeMap, BTreeSet};
use std::io::{Cursor, Write};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use permdex::extract::worker::WORKER_ENVIRONMENT;
use permdex::extract::{ExtractConfig, Extraction, Extractor, FileType, Hint, Outcome};

pub const CORPUS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../shared/corpora/pdfs");

/// The permdex binary under test. `PERMDEX_TEST_BIN` overrides Cargo's path for build directories shared by
/// several checkouts, where `target/debug/permdex` may belong to another one.
fn permdex_bin() -> PathBuf {
    std::env::var_os("PERMDEX_TEST_BIN")
        .map_or_else(|| PathBuf::from(env!("CARGO_BIN_EXE_permdex")), PathBuf::from)
}

pub fn config() -> ExtractConfig {
    ExtractConfig { worker_program: permdex_bin(), ..ExtractConfig::default() }
}

fn extractor() -> Extractor {
    Extractor::new(config())
}

pub fn files_under(dir: &Path) -> Vec<PathBuf> {
    let mut files = Vec::new();
    let mut pending = vec![dir.to_path_buf()];
    while let Some(dir) = pending.pop() {
        for entry in std::fs::read_dir(&dir).expect("corpus directory readable") {
            let path = entry.expect("directory entry").path();
            if path.is_dir() {
                pending.push(path);
            } else {
                files.push(path);
            }
        }
    }
    files.sort();
    files
}

fn failed_reason(extraction: &Extraction) -> &str {
    match &extraction.outcome {
        Outcome::Failed { reason } => reason,
        other => panic!("expected a failure, got {other:?}"),
    }
}

/// Runs every corpus file (PDFs and the licences and metadata beside them) through worker processes, two at
/// a time, and checks what must hold whatever pdf-extract makes of each file.
#[test]
fn every_corpus_file_gets_an_outcome_with_a_reason() {
    let files = files_under(Path::new(CORPUS));
    assert!(files.len() >= 70, "corpus has {} files; is ../shared/corpora/pdfs present?", files.len());
    let extractor = extractor();
    let results: BTreeMap<String, Extraction> = std::thread::scope(|scope| {
        let halves: Vec<_> = files
            .chunks(files.len().div_ceil(2))
            .map(|chunk| {
                let extractor = &extractor;
                scope.spawn(move || {
                    chunk
                        .iter()
                        .map(|path| {
                            let bytes = std::fs::read(path).expect("corpus file readable");
                            let name = path.file_name().unwrap().to_string_lossy().into_owned();
                            (name.clone(), extractor.extract(&bytes, &Hint::from_filename(name)))
                        })
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        halves.into_iter().flat_map(|half| half.join().expect("extraction thread")).collect()
    });
    assert_eq!(results.len(), files.len(), "file names are unique across the corpus");

    for (name, extraction) in &results {
        if let Some(reason) = extraction.outcome.reason() {
            assert!(!reason.trim().is_empty(), "{name}: {:?} without a reason", extraction.outcome);
        }
        if name.ends_with(".pdf") {
            assert_eq!(extraction.detected, FileType::Pdf, "{name}");
        }
    }

    // Text verified by reading each file: a word or phrase that must come out.
    let known_text = [
        ("001-trivial_minimal-document.pdf", "Lorem ipsum dolor sit amet"),
        ("004-pdflatex-4-pages_pdflatex-4-pages.pdf", "Huardest gefburn"),
        ("016-libre-office-link_libre-office-link.pdf", "This is a link to an awesome blog."),
        ("021-pdfa_crazyones-pdfa.pdf", "The Crazy Ones"),
        ("015-arabic_habibi.pdf", "habibi"),
        ("tracemonkey.pdf", "Trace-based Just-in-Time Type Specialization"),
        ("franz.pdf", "Hello World"),
        ("simple4.pdf", "Text2"),
        ("013-reportlab-overlay_reportlab-overlay.pdf", "Fingerprint: asdfSa2123"),
        ("LICENSE.CC-BY-SA-4.0", "Attribution-ShareAlike 4.0"),
        // Files pdf-extract panics on, cannot parse, or reads as fragments or backwards, which the text
        // layer or pdf_oxide reads.
        ("90ms_rksj_h_sample.pdf", "日本語テスト"),
        ("issue1002.pdf", "The natural, unstoppable process of acquiring"),
        ("contrib_issue-625-identity-cmap.pdf", "Faktura nr FV 1/2021"),
        ("contrib_issue-791-non-unicode-cmap.pdf", "Peněžní prostředky na účtech"),
        ("011-google-doc-document_google-doc-document.pdf", "Beautiful is better than ugly."),
        ("zen_of_python_corrupted.pdf", "Readability counts."),
        ("simple1.pdf", "Hello World"),
        ("008-reportlab-inline-image_inline-image.pdf", "Test"),
        ("issue18099_reduced.pdf", "Hello world!"),
        ("asciihexdecode.pdf", "Hello world"),
        ("issue11915.pdf", "Courier New"),
        ("simple3.pdf", "World"),
        ("contrib_issue-1113-evil-xobjects.pdf", "Hello world"),
        ("issue6605.pdf", "Transfer high-rate balances and save!"),
        ("012-libreoffice-form_libreoffice-form.pdf", "Alice"),
        // Right-to-left lines in reading order, not in the visual order of their glyphs.
        ("issue10301.pdf", "אבג"),
        ("ArabicCIDTrueType.pdf", "\u{627}\u{fee7}\u{feee}\u{627}\u{639}"),
    ];
    for (name, needle) in known_text {
        let text =
            results[name].outcome.text().unwrap_or_else(|| panic!("{name}: {:?}", results[name].outcome));
        assert!(text.contains(needle), "{name}: {needle:?} not in {:?}", &text[..text.len().min(400)]);
    }
    assert_eq!(results["files.json"].detected, FileType::Json);

    // Files no engine can read: a failure with every engine's reason, never text.
    let known_failures = [
        ("005-libreoffice-writer-password_libreoffice-writer-password.pdf", "password"),
        ("REDHAT-1531897-0.pdf", "pdf_oxide:"),
        ("019-grayscale-image_grayscale-image.pdf", "pdf-extract:"),
    ];
    for (name, needle) in known_failures {
        let reason = failed_reason(&results[name]);
        assert!(reason.starts_with("pdf: ") && reason.contains(needle), "{name}: {reason}");
    }
}

/// A minimal one-page PDF with a correct cross-reference table; `page_extra` goes into the page dictionary.
fn build_pdf(content: &[u8], page_extra: &[u8]) -> Vec<u8> {
    let mut page = b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R ".to_vec();
    page.extend_from_slice(b"/Resources << /Font << /F1 5 0 R >> >> ");
    page.extend_from_slice(page_extra);
    page.extend_from_slice(b" >>");
    let mut stream = format!("<< /Length {} >>\nstream\n", content.len()).into_bytes();
    stream.extend_from_slice(content);
    stream.extend_from_slice(b"\nendstream");
    pdf_of_objects(&[page, stream, b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>".to_vec()])
}

/// A one-page PDF with a correct cross-reference table: the catalog (object 1) and page tree (2), then
/// `objects` from number 3 on, of which the first must be the page.
pub fn pdf_of_objects(objects: &[Vec<u8>]) -> Vec<u8> {
    let mut all = vec![
        b"<< /Type /Catalog /Pages 2 0 R >>".to_vec(),
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>".to_vec(),
    ];
    all.extend_from_slice(objects);
    let mut pdf = b"%PDF-1.4\n".to_vec();
    let mut offsets = Vec::new();
    for (number, body) in all.iter().enumerate() {
        offsets.push(pdf.len());
        pdf.extend_from_slice(format!("{} 0 obj\n", number + 1).as_bytes());
        pdf.extend_from_slice(body);
        pdf.extend_from_slice(b"\nendobj\n");
    }
    let xref = pdf.len();
    pdf.extend_from_slice(format!("xref\n0 {}\n0000000000 65535 f \n", all.len() + 1).as_bytes());
    for offset in offsets {
        pdf.extend_from_slice(format!("{offset:010} 00000 n \n").as_bytes());
    }
    pdf.extend_from_slice(
        format!("trailer\n<< /Size {} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n", all.len() + 1).as_bytes(),
    );
    pdf
}

/// A content stream showing `count` words, one text operator each.
fn many_words(count: usize) -> Vec<u8> {
    let mut content = b"BT /F1 12 Tf 72 700 Td ".to_vec();
    for _ in 0..count {
        content.extend_from_slice(b"(word) Tj 1 0 Td ");
    }
    content.extend_from_slice(b"ET");
    content
}

#[test]
fn crafted_pdf_extracts_through_the_worker() {
    let pdf = build_pdf(b"BT /F1 12 Tf 72 700 Td (crafted hello) Tj ET", b"");
    let extraction = extractor().extract(&pdf, &Hint::from_filename("hello.pdf"));
    assert_eq!(extraction.detected, FileType::Pdf);
    assert_eq!(extraction.outcome, Outcome::Ok { text: "crafted hello".to_owned(), truncated: false });
}

#[test]
fn stack_overflow_in_the_parser_fails_only_that_file() {
    // lopdf parses nested arrays recursively: a million levels overflow any stack.
    let depth = 1_000_000;
    let mut nested = b"/Nested ".to_vec();
    nested.extend(std::iter::repeat_n(b'[', depth));
    nested.extend(std::iter::repeat_n(b']', depth));
    let pdf = build_pdf(b"BT /F1 12 Tf (x) Tj ET", &nested);
    let extraction = extractor().extract(&pdf, &Hint::from_filename("nested.pdf"));
    assert_eq!(extraction.detected, FileType::Pdf);
    assert!(failed_reason(&extraction).contains("stack overflow"), "{:?}", extraction.outcome);
}

#[test]
fn memory_hog_hits_the_memory_limit() {
    // pdf-extract keeps about a kilobyte per text operator: 100k operators need far more than 64 MiB.
    let pdf = build_pdf(&many_words(100_000), b"");
    let extractor = Extractor::new(ExtractConfig { memory_limit_bytes: 64 << 20, ..config() });
    let extraction = extractor.extract(&pdf, &Hint::default());
    assert_eq!(failed_reason(&extraction), "memory limit exceeded (64 MiB)");
}

#[test]
fn slow_file_is_killed_at_the_time_budget() {
    // 300k operators take pdf-extract about a second; the budget is a small fraction of that.
    let pdf = build_pdf(&many_words(300_000), b"");
    let extractor = Extractor::new(ExtractConfig { time_budget: Duration::from_millis(50), ..config() });
    let extraction = extractor.extract(&pdf, &Hint::default());
    assert_eq!(failed_reason(&extraction), "timed out after 50ms");
    assert_eq!(extraction.detected, FileType::Pdf);
}

#[test]
fn output_cap_truncates_text() {
    let pdf = build_pdf(&many_words(200), b"");
    let mut config = config();
    config.limits.max_output_bytes = 100;
    let extraction = Extractor::new(config).extract(&pdf, &Hint::default());
    match extraction.outcome {
        Outcome::Ok { text, truncated } => {
            assert!(truncated);
            assert_eq!(text.len(), 100);
            assert!(text.starts_with("word"), "{text}");
        }
        other => panic!("{other:?}"),
    }
}

/// An archive of `entries` parts, each `part_size` zero bytes, compressed once and copied raw so that
/// building a many-gigabyte bomb costs only a few megabytes of work.
fn zip_bomb(
    first_part: &str,
    other_parts: impl Fn(usize) -> String,
    entries: usize,
    part_size: usize,
) -> Vec<u8> {
    let options = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated)
        .compression_level(Some(9));
    let mut seed = zip::ZipWriter::new(Cursor::new(Vec::new()));
    seed.start_file(first_part, options).unwrap();
    let zeros = vec![0u8; 1 << 20];
    for _ in 0..part_size / zeros.len() {
        seed.write_all(&zeros).unwrap();
    }
    let seed = seed.finish().unwrap().into_inner();
    let mut source = zip::ZipArchive::new(Cursor::new(seed)).unwrap();
    let mut bomb = zip::ZipWriter::new(Cursor::new(Vec::new()));
    bomb.raw_copy_file(source.by_index(0).unwrap()).unwrap();
    for index in 1..entries {
        bomb.raw_copy_file_rename(source.by_index(0).unwrap(), other_parts(index)).unwrap();
    }
    bomb.finish().unwrap().into_inner()
}

#[test]
fn zip_bombs_fail_with_a_reason() {
    // 512 sheets of 8 MiB of zeros: 4 GiB inflated from a few megabytes.
    let bomb =
        zip_bomb("xl/worksheets/sheet1.xml", |i| format!("xl/worksheets/sheet{}.xml", i + 1), 512, 8 << 20);
    assert!(bomb.len() < 8 << 20, "bomb is {} bytes", bomb.len());
    let extractor = extractor();
    let extraction = extractor.extract(&bomb, &Hint::from_filename("budget.xlsx"));
    assert_eq!(extraction.detected, FileType::Xlsx);
    let reason = failed_reason(&extraction);
    assert!(reason.contains("zip bomb") && reason.contains("xl/worksheets/sheet1.xml"), "{reason}");

    // With the ratio check out of the way, the total inflation budget stops it, still inside the memory bound.
    let mut config = config();
    config.limits.zip.max_ratio = u64::MAX;
    config.limits.zip.max_total_uncompressed = 32 << 20;
    let extraction = Extractor::new(config).extract(&bomb, &Hint::default());
    let reason = failed_reason(&extraction);
    assert!(reason.contains("inflates beyond the limit of 33554432 bytes"), "{reason}");

    let docx_bomb = zip_bomb("word/document.xml", |i| format!("word/media/image{i}.bin"), 2, 16 << 20);
    let extraction = extractor.extract(&docx_bomb, &Hint::default());
    assert_eq!(extraction.detected, FileType::Docx);
    assert!(
        failed_reason(&extraction).contains("word/document.xml inflates more than"),
        "{:?}",
        extraction.outcome
    );
}

#[test]
fn unsupported_and_oversized_inputs_are_skipped() {
    let extractor = Extractor::new(ExtractConfig { max_input_bytes: 1 << 20, ..config() });
    let png = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR".to_vec();
    let extraction = extractor.extract(&png, &Hint::from_filename("scan.pdf"));
    assert_eq!(extraction.detected, FileType::Image);
    assert!(
        matches!(&extraction.outcome, Outcome::Skipped { reason } if reason.contains("ocr")),
        "{:?}",
        extraction.outcome
    );

    let big = vec![b'a'; (1 << 20) + 1];
    let extraction = extractor.extract(&big, &Hint::default());
    assert!(
        matches!(&extraction.outcome, Outcome::Skipped { reason } if reason.contains("exceeds the limit")),
        "{:?}",
        extraction.outcome
    );
}

#[test]
fn callable_from_spawn_blocking_and_threads() {
    let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(2).build().unwrap();
    let extractor = extractor();
    let texts = runtime.block_on(async {
        let tasks: Vec<_> = (0..6)
            .map(|i| {
                let extractor = extractor.clone();
                tokio::task::spawn_blocking(move || {
                    let body = format!("<!doctype html><p>document number {i}</p>");
                    extractor.extract(body.as_bytes(), &Hint::default())
                })
            })
            .collect();
        let mut texts = Vec::new();
        for task in tasks {
            texts.push(task.await.expect("blocking task"));
        }
        texts
    });
    for (i, extraction) in texts.iter().enumerate() {
        assert_eq!(extraction.detected, FileType::Html);
        assert_eq!(extraction.outcome.text(), Some(format!("document number {i}").as_str()));
    }
}

#[test]
fn extract_command_reports_each_file_and_fails_when_one_fails() {
    let dir = tempfile::tempdir().unwrap();
    let good = dir.path().join("notes.md");
    std::fs::write(&good, "# Notes\n\nshipping on friday\n").unwrap();
    let bad = dir.path().join("broken.pdf");
    std::fs::write(&bad, b"%PDF-1.4\nthis is not a pdf").unwrap();
    let image = dir.path().join("photo.png");
    std::fs::write(&image, b"\x89PNG\r\n\x1a\n\0\0").unwrap();
    let missing = dir.path().join("missing.txt");

    let output = Command::new(permdex_bin())
        .arg("extract")
        .arg("--json")
        .args([&good, &bad, &image, &missing])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1), "stderr: {}", String::from_utf8_lossy(&output.stderr));
    let reports: Vec<serde_json::Value> = serde_json::from_slice(&output.stdout).unwrap();
    let summary: Vec<(&str, &str, &str)> = reports
        .iter()
        .map(|r| {
            let name = r["path"].as_str().unwrap().rsplit('/').next().unwrap();
            (name, r["detected"].as_str().unwrap_or("-"), r["status"].as_str().unwrap())
        })
        .collect();
    assert_eq!(
        summary,
        [
            ("notes.md", "markdown", "ok"),
            ("broken.pdf", "pdf", "failed"),
            ("photo.png", "image", "skipped"),
            ("missing.txt", "-", "failed")
        ]
    );
    assert_eq!(reports[0]["text"], "# Notes\n\nshipping on friday");
    assert!(reports[0]["elapsed_ms"].as_f64().unwrap() > 0.0);
    assert!(reports[1]["reason"].as_str().unwrap().starts_with("pdf:"), "{}", reports[1]);
    assert!(reports[3]["reason"].as_str().unwrap().contains("missing.txt"), "{}", reports[3]);

    let output = Command::new(permdex_bin()).arg("extract").arg(&good).output().unwrap();
    assert!(output.status.success());
    let text = String::from_utf8(output.stdout).unwrap();
    assert!(text.contains("(markdown, ok,") && text.contains("shipping on friday"), "{text}");
}

#[test]
fn worker_rejects_a_garbled_request() {
    let mut child = Command::new(permdex_bin())
        .arg("extract-worker")
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(b"not json\n").unwrap();
    let output = child.wait_with_output().unwrap();
    assert!(!output.status.success());
    assert!(output.stdout.is_empty());
    assert!(String::from_utf8_lossy(&output.stderr).contains("unreadable request header"));
}

#[test]
fn worker_environment_holds_no_secret() {
    // A stand-in worker that records the environment it was given, then reads its input like a worker.
    let dir = tempfile::tempdir().unwrap();
    let seen = dir.path().join("environment");
    let script = dir.path().join("recording-worker");
    std::fs::write(
        &script,
        format!("#!/bin/sh\n/usr/bin/env > '{}'\nexec /bin/cat > /dev/null\n", seen.display()),
    )
    .unwrap();
    std::fs::set_permissions(&script, std::os::unix::fs::PermissionsExt::from_mode(0o700)).unwrap();
    let extraction = Extractor::new(ExtractConfig { worker_program: script, ..config() })
        .extract(b"hello", &Hint::default());
    assert!(failed_reason(&extraction).contains("answer"), "{:?}", extraction.outcome);

    // This process has plenty to leak (PATH, HOME, Cargo's variables, whatever secrets CI holds).
    assert!(std::env::vars_os().count() > 3);
    let recorded = std::fs::read_to_string(&seen).expect("the stand-in worker ran");
    let mut names: BTreeSet<&str> =
        recorded.lines().filter_map(|line| line.split_once('=')).map(|(n, _)| n).collect();
    // What the shell running the stand-in adds on its own.
    for shell_variable in ["PWD", "OLDPWD", "SHLVL", "_"] {
        names.remove(shell_variable);
    }
    let allowed: BTreeSet<&str> = WORKER_ENVIRONMENT.iter().map(|(name, _)| *name).collect();
    assert_eq!(names, allowed, "the worker's whole environment:\n{recorded}");
}

/// Set for the child process in which `worker_sandbox_denies_writes_and_network` probes the sandbox.
const SANDBOX_PROBE: &str = "PERMDEX_TEST_SANDBOX_PROBE";

/// Confines this thread as a worker confines itself, then tries what a worker must not do; prints the results.
fn probe_sandbox(probe: &str) {
    let (dir, address) = probe.split_once('|').expect("directory|address");
    let dir = Path::new(dir);
    let confinement = permdex::extract::sandbox::confine();
    let read = std::fs::read_to_string(dir.join("readable.txt")).map(|_| "allowed").unwrap_or("denied");
    let create = std::fs::File::create(dir.join("created.txt")).map(|_| "allowed").unwrap_or("denied");
    let append = std::fs::OpenOptions::new()
        .append(true)
        .open(dir.join("readable.txt"))
        .map(|_| "allowed")
        .unwrap_or("denied");
    let remove = std::fs::remove_file(dir.join("readable.txt")).map(|_| "allowed").unwrap_or("denied");
    let connect = std::net::TcpStream::connect(address).map(|_| "allowed").unwrap_or("denied");
    let udp = std::net::UdpSocket::bind("127.0.0.1:0").map(|_| "allowed").unwrap_or("denied");
    println!(
        "probe: complete={} read={read} create={create} append={append} remove={remove} connect={connect} udp={udp}",
        confinement.is_complete()
    );
}

#[test]
fn worker_sandbox_denies_writes_and_network() {
    if let Ok(probe) = std::env::var(SANDBOX_PROBE) {
        probe_sandbox(&probe);
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("readable.txt"), "input").unwrap();
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let probe = format!("{}|{}", dir.path().display(), listener.local_addr().unwrap());
    let output = Command::new(std::env::current_exe().unwrap())
        .args([
            "--exact",
            "extract::worker_sandbox_denies_writes_and_network",
            "--nocapture",
            "--test-threads=1",
        ])
        .env(SANDBOX_PROBE, probe)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    let line = stdout
        .lines()
        .find_map(|line| line.find("probe: ").map(|at| &line[at..]))
        .unwrap_or_else(|| panic!("{stdout}"));
    assert_eq!(
        line,
        "probe: complete=true read=allowed create=denied append=denied remove=denied connect=denied udp=denied"
    );
    assert!(dir.path().join("readable.txt").exists() && !dir.path().join("created.txt").exists());

    // The real worker confines itself the same way before it reads a byte of input.
    let extraction = extractor().extract(b"<!doctype html><p>x</p>", &Hint::default());
    let confinement = extraction.confinement.expect("the worker answered");
    assert!(confinement.is_complete(), "{confinement}");
}

#[test]
fn extract_command_reads_no_more_than_the_size_cap() {
    // An endless input: a named pipe that a writer keeps filling until its reader goes away.
    let dir = tempfile::tempdir().unwrap();
    let endless = dir.path().join("endless.txt");
    let c_path = std::ffi::CString::new(endless.to_str().unwrap()).unwrap();
    // SAFETY: mkfifo reads a NUL-terminated path that outlives the call.
    assert_eq!(unsafe { libc::mkfifo(c_path.as_ptr(), 0o600) }, 0, "mkfifo");
    let writer_path = endless.clone();
    let writer = std::thread::spawn(move || {
        let mut pipe = std::fs::OpenOptions::new().write(true).open(writer_path).unwrap();
        let chunk = vec![b'a'; 64 * 1024];
        let mut written = 0usize;
        // Ends with a broken pipe once the command stops reading.
        while pipe.write_all(&chunk).is_ok() {
            written += chunk.len();
        }
        written
    });
    let mut child = Command::new(permdex_bin())
        .args(["extract", "--json", "--max-input", "1"])
        .arg(&endless)
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let started = std::time::Instant::now();
    while child.try_wait().unwrap().is_none() {
        if started.elapsed() > Duration::from_secs(60) {
            child.kill().unwrap();
            panic!("permdex extract kept reading an endless input");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let output = child.wait_with_output().unwrap();
    let written = writer.join().unwrap();
    let reports: Vec<serde_json::Value> = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(reports[0]["status"], "skipped", "{}", reports[0]);
    assert_eq!(reports[0]["reason"], "input exceeds the limit of 1048576 bytes");
    // What the pipe held when the reader stopped is bounded by the cap, not by the input.
    assert!(written < 8 << 20, "{written} bytes written before the command stopped reading");
}

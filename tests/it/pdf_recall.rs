//! Word recall of PDF extraction against poppler's `pdftotext`, file by file, reported per corpus.
//!
//! For every PDF under `../shared/corpora/pdfs`, the words `pdftotext` finds are the reference and the words
//! the isolated extractor returns are compared with them as sets: recall is the share of the reference's
//! words that our text also holds. A word is a maximal run of letters, digits and combining marks after
//! NFKC normalisation and lowercasing (so ligatures, full-width forms and Arabic presentation forms compare
//! as their plain letters), at least two characters long (single letters are mostly spacing artefacts:
//! "H e l l o" is the word "hello" to a reader), except that each CJK ideograph or kana is a word by
//! itself, since neither extractor can be trusted to space them. Files where `pdftotext` finds no word do
//! not count.
//!
//! The test asserts regression lines (corpus-wide mean recall and the share of files recovering at least
//! half of poppler's words), never a time. Run with `--nocapture` to see the table; set
//! `PERMDEX_RECALL_CORPUS=dir[:dir…]` to report on more PDFs as well (reported, not asserted), and
//! `PERMDEX_RECALL_COMPARE=1` to print the engine comparison of the README.
//! `pdftotext` (Debian `poppler-utils`) must be installed: `.ci/run` installs it.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use permdex::extract::{ExtractConfig, Extraction, Extractor, Hint, Outcome, PdfEngine};
use unicode_normalization::char::is_combining_mark;
use unicode_normalization::UnicodeNormalization;

use super::extract::{config, files_under, CORPUS};

/// Mean word recall over the corpus's files with text must not fall below this.
const MEAN_RECALL_FLOOR: f64 = 0.92;
/// The share of files with text that recover at least half of poppler's words must not fall below this.
const AT_HALF_FLOOR: f64 = 0.96;

/// The words of a text, normalised as the module header says.
pub fn words(text: &str) -> BTreeSet<String> {
    let mut words = BTreeSet::new();
    let mut current = String::new();
    for c in text.nfkc().flat_map(char::to_lowercase) {
        if is_cjk(c) {
            flush(&mut current, &mut words);
            words.insert(c.to_string());
        } else if c.is_alphanumeric() || (is_combining_mark(c) && !current.is_empty()) {
            current.push(c);
        } else {
            flush(&mut current, &mut words);
        }
    }
    flush(&mut current, &mut words);
    words
}

fn flush(current: &mut String, words: &mut BTreeSet<String>) {
    if current.chars().nth(1).is_some() {
        words.insert(std::mem::take(current));
    }
    current.clear();
}

fn is_cjk(c: char) -> bool {
    matches!(c as u32,
        0x3040..=0x30FF      // hiragana, katakana
        | 0x3400..=0x4DBF    // CJK extension A
        | 0x4E00..=0x9FFF    // CJK unified ideographs
        | 0xF900..=0xFAFF    // CJK compatibility ideographs
        | 0x20000..=0x3134F) // CJK extensions B–G
}

/// What `pdftotext` finds in a file; `None` when poppler is missing.
fn poppler_words(path: &Path) -> Option<BTreeSet<String>> {
    let output = Command::new("pdftotext").args(["-q", "-enc", "UTF-8"]).arg(path).arg("-").output().ok()?;
    Some(words(&String::from_utf8_lossy(&output.stdout)))
}

/// One file's comparison.
#[derive(Debug)]
struct FileResult {
    corpus: String,
    name: String,
    reference: usize,
    recall: Option<f64>,
    outcome: String,
    elapsed: Duration,
}

/// Totals for one corpus (or all of them).
#[derive(Debug, Default)]
struct Totals {
    files: usize,
    with_text: usize,
    at_half: usize,
    recall_sum: f64,
    failed: usize,
    elapsed: Duration,
    slowest: Duration,
}

impl Totals {
    fn add(&mut self, result: &FileResult) {
        self.files += 1;
        self.elapsed += result.elapsed;
        self.slowest = self.slowest.max(result.elapsed);
        if result.outcome != "ok" {
            self.failed += 1;
        }
        if let Some(recall) = result.recall {
            self.with_text += 1;
            self.recall_sum += recall;
            if recall >= 0.5 {
                self.at_half += 1;
            }
        }
    }

    fn mean_recall(&self) -> f64 {
        self.recall_sum / self.with_text.max(1) as f64
    }

    fn at_half_share(&self) -> f64 {
        self.at_half as f64 / self.with_text.max(1) as f64
    }

    fn line(&self, label: &str) -> String {
        format!(
            "{label:<22} {:>5} {:>9} {:>6} ({:>5.1}%) {:>11.3} {:>7} {:>9.1} {:>9.1}",
            self.files,
            self.with_text,
            self.at_half,
            100.0 * self.at_half_share(),
            self.mean_recall(),
            self.failed,
            self.elapsed.as_secs_f64() * 1000.0 / self.files.max(1) as f64,
            self.slowest.as_secs_f64() * 1000.0,
        )
    }
}

/// Extracts every PDF under the given corpora (each directory's sub-directories are corpora of their own)
/// two at a time, and compares each with poppler.
fn measure(extractor: &Extractor, roots: &[PathBuf]) -> Vec<FileResult> {
    let mut files = Vec::new();
    for root in roots {
        for path in files_under(root) {
            if path.extension().is_some_and(|ext| ext.eq_ignore_ascii_case("pdf")) {
                let corpus = path
                    .parent()
                    .filter(|parent| parent != root)
                    .and_then(Path::file_name)
                    .or_else(|| root.file_name())
                    .map_or_else(String::new, |name| name.to_string_lossy().into_owned());
                files.push((corpus, path));
            }
        }
    }
    std::thread::scope(|scope| {
        let halves: Vec<_> = files
            .chunks(files.len().div_ceil(2).max(1))
            .map(|chunk| {
                scope.spawn(move || chunk.iter().map(|(c, p)| compare(extractor, c, p)).collect::<Vec<_>>())
            })
            .collect();
        halves.into_iter().flat_map(|half| half.join().expect("measuring thread")).collect::<Vec<_>>()
    })
}

fn compare(extractor: &Extractor, corpus: &str, path: &Path) -> FileResult {
    let reference = poppler_words(path).expect("pdftotext runs (Debian package poppler-utils)");
    let bytes = std::fs::read(path).expect("corpus file readable");
    let name = path.file_name().unwrap().to_string_lossy().into_owned();
    let started = Instant::now();
    let extraction: Extraction = extractor.extract(&bytes, &Hint::from_filename(name.clone()));
    let elapsed = started.elapsed();
    let ours = extraction.outcome.text().map(words).unwrap_or_default();
    let recall = (!reference.is_empty())
        .then(|| reference.intersection(&ours).count() as f64 / reference.len() as f64);
    let outcome = match &extraction.outcome {
        Outcome::Ok { .. } => "ok".to_owned(),
        other => format!("{}: {}", other.label(), other.reason().unwrap_or_default()),
    };
    FileResult { corpus: corpus.to_owned(), name, reference: reference.len(), recall, outcome, elapsed }
}

/// The table the test prints: each file short of poppler's words (or not read), then per corpus and overall.
fn report(title: &str, results: &[FileResult]) -> Totals {
    let mut by_corpus: BTreeMap<&str, Totals> = BTreeMap::new();
    let mut all = Totals::default();
    println!("\n{title}");
    for result in results {
        by_corpus.entry(&result.corpus).or_default().add(result);
        all.add(result);
        if result.recall.is_some_and(|recall| recall < 0.99) || result.outcome != "ok" {
            let recall = result.recall.map_or_else(|| "-".to_owned(), |r| format!("{r:.2}"));
            println!(
                "  {:<50} words {:>5} recall {recall:>4} {}",
                result.name,
                result.reference,
                result.outcome.chars().take(90).collect::<String>()
            );
        }
    }
    println!(
        "{:<22} {:>5} {:>9} {:>15} {:>11} {:>7} {:>9} {:>9}",
        "corpus", "files", "with text", "≥ half", "mean recall", "failed", "ms/file", "slowest"
    );
    for (corpus, totals) in &by_corpus {
        println!("{}", totals.line(corpus));
    }
    println!("{}", all.line("all"));
    all
}

#[test]
fn pdf_word_recall_against_poppler_holds_its_line() {
    assert!(
        poppler_words(Path::new("/dev/null")).is_some(),
        "pdftotext is not installed (Debian package poppler-utils; .ci/run installs it)"
    );
    let extractor = Extractor::new(config());
    let results = measure(&extractor, &[PathBuf::from(CORPUS)]);
    let all = report("permdex (default engines) against pdftotext", &results);
    assert!(all.with_text >= 45, "only {} corpus PDFs with text; is ../shared present?", all.with_text);
    assert!(
        all.mean_recall() >= MEAN_RECALL_FLOOR,
        "mean word recall {:.3} fell below {MEAN_RECALL_FLOOR}",
        all.mean_recall()
    );
    assert!(
        all.at_half_share() >= AT_HALF_FLOOR,
        "{:.1}% of files recover half of poppler's words, below {:.0}%",
        100.0 * all.at_half_share(),
        100.0 * AT_HALF_FLOOR
    );

    if let Some(extra) = std::env::var_os("PERMDEX_RECALL_CORPUS") {
        let roots: Vec<PathBuf> = std::env::split_paths(&extra).collect();
        report("more corpora (reported, not asserted)", &measure(&extractor, &roots));
    }
    if std::env::var_os("PERMDEX_RECALL_COMPARE").is_some() {
        compare_engines(&[PathBuf::from(CORPUS)]);
    }
}

#[test]
fn word_sets_normalise_case_forms_and_scripts() {
    let cases: [(&str, &[&str]); 7] = [
        ("Hello, WORLD! hello", &["hello", "world"]),
        ("H e l l o 42 x", &["42"]),
        ("e\u{fb03}cient", &["efficient"]),
        ("ＦＵＬＬ width", &["full", "width"]),
        ("\u{202b}\u{fe8e}\u{fedf}\u{202c}", &["ال"]),
        ("日本語 text", &["日", "本", "語", "text"]),
        ("naïve café", &["café", "naïve"]),
    ];
    for (text, expected) in cases {
        let expected: BTreeSet<String> = expected.iter().map(|w| (*w).to_owned()).collect();
        assert_eq!(words(text), expected, "{text:?}");
    }
}

/// The comparison table of the README: each engine alone, the default chain, and poppler's own `pdftotext`
/// through the worker (which measures the worker around poppler, not poppler's recall).
fn compare_engines(roots: &[PathBuf]) {
    let mut chains = vec![
        ("pdf-extract alone", vec![PdfEngine::PdfExtract]),
        ("pdf_oxide alone", vec![PdfEngine::PdfOxide]),
        ("text layer alone", vec![PdfEngine::TextLayer]),
        ("default (pdf-extract, text layer, pdf_oxide)", PdfEngine::BUILT_IN.to_vec()),
        (
            "text layer first, then pdf-extract, then pdf_oxide",
            vec![PdfEngine::TextLayer, PdfEngine::PdfExtract, PdfEngine::PdfOxide],
        ),
    ];
    chains.extend(PdfEngine::pdftotext().map(|poppler| ("pdftotext through the worker", vec![poppler])));
    for (label, engines) in chains {
        let mut config: ExtractConfig = config();
        config.engines.pdf = engines;
        report(label, &measure(&Extractor::new(config), roots));
    }
}

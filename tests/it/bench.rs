//! `permdex bench` on tiny inputs: every strategy's every answer agrees with brute force (the run fails
//! otherwise), and every output file is written and reads back. Times are never asserted.

use std::path::Path;
use std::process::Command;

use permdex::bench::acl::{self, AclBench};
use permdex::bench::corpus::{CorpusParams, DocOrder};
use permdex::bench::load::Until;
use permdex::bench::queries::Shape;
use permdex::bench::report::BenchResult;
use permdex::bench::site::{self, SiteBench};
use permdex::bench::strategy::StrategyName;
use permdex::bench::Quiet;
use permdex::sim::Scale;
use permdex::sync::SyncOptions;

use crate::support;

/// A few thousand documents in two segments with deletes, some of them public, every strategy and shape.
fn tiny(out: &Path) -> AclBench {
    let mut bench = AclBench::new(4000, out.to_path_buf());
    bench.corpus = CorpusParams {
        public_share: 0.02,
        deletes: 0.05,
        segments: 2,
        order: DocOrder::Clustered,
        ..CorpusParams::sized(4000, 5)
    };
    bench.selectivities = vec![0.001, 0.01, 0.1, 0.6, 1.0];
    bench.per_shape = 3;
    bench.rounds = 1;
    bench.k = 10;
    bench.threads = vec![2];
    bench
}

#[test]
fn acl_bench_checks_every_answer_and_writes_every_file() {
    let out = tempfile::tempdir().expect("tempdir");
    let bench = tiny(out.path());
    let result = acl::run(&bench, &mut Quiet).expect("the benchmark runs and every answer is right");

    // Every strategy answered every (caller, query): once untimed, once per round, once in the throughput run.
    let callers = result.callers.len();
    assert!(callers >= 3, "callers found: {:?} (unreachable: {:?})", result.callers, result.unreachable);
    let queries = result.queries.len();
    assert_eq!(queries, Shape::ALL.len() * bench.per_shape);
    let per_strategy = (callers * queries * (1 + bench.rounds + 1)) as u64;
    assert_eq!(result.correctness.answers_checked, per_strategy * StrategyName::ALL.len() as u64);
    assert!(result.correctness.failures.is_empty(), "{:?}", result.correctness.failures);
    for caller in &result.callers {
        let ratio = caller.share / caller.target;
        assert!((0.8..=1.25).contains(&ratio), "{} reads {:.4}", caller.label, caller.share);
    }
    assert_eq!(result.corpus.segments.len(), 2);
    assert!(result.corpus.segments.iter().any(|s| s.alive < s.max_doc), "deletes stay in the segments");

    assert_eq!(result.latency.len(), StrategyName::ALL.len() * Shape::ALL.len() * callers);
    assert!(result.latency.iter().all(|c| c.latency.samples == bench.per_shape * bench.rounds));
    assert_eq!(result.throughput.len(), StrategyName::ALL.len() * callers);
    for shape in Shape::ALL {
        for caller in &result.callers {
            assert!(
                result.ratio(StrategyName::Permdex, shape, &caller.label).is_some(),
                "{shape:?} {}",
                caller.label
            );
        }
    }
    assert_eq!(result.cold.len(), callers * Shape::ALL.len());
    assert!(result.cold.iter().all(|c| c.cache_entries > 0), "a new caller's sets enter the cache");
    for cold in &result.cold {
        let parts = cold.parts.expect("a first query's parts");
        let each = [parts.profiles_us, parts.allowed_us, parts.search_us, parts.page_us];
        assert!(each.iter().all(|us| us.is_finite() && *us >= 0.0), "{cold:?}");
        assert!(cold.unfiltered_first_us.is_some_and(|us| us > 0.0), "{cold:?}");
        assert!(cold.first_wall_us.is_some_and(|us| us > 0.0), "{cold:?}");
        let warmer = cold.warmed_by.as_deref().expect("the caller that warmed the reader");
        assert_ne!(warmer, cold.caller, "a first query is not warmed by the caller itself");
        assert!(cold.profile_index_bytes.is_some_and(|b| b > 0), "segments have profile indexes");
    }
    assert_eq!(result.reloads.len(), 2);
    assert_eq!(result.reloads[1].segments_after, 1, "the merge leaves one segment");
    let changes: Vec<&str> = result.permission_changes.iter().map(|c| c.change.as_str()).collect();
    assert_eq!(changes.len(), 3, "{changes:?}");
    for change in &result.permission_changes {
        assert!(change.verified, "{} took effect as the brute-force answer says", change.change);
        assert!(change.documents_affected > 0, "{}", change.change);
    }
    assert_eq!(result.permission_changes[0].documents_rewritten, 0, "a membership change rewrites nothing");
    assert_eq!(result.permission_changes[1].documents_rewritten, 0, "a space grant rewrites nothing");
    assert!(!result.targets.is_empty());

    // The files: the JSON reads back whole, and the rest is drawn from it.
    let json = out.path().join("result.json");
    let read = BenchResult::read_json(&json).expect("result.json");
    let value = |r: &BenchResult| serde_json::to_value(r).expect("json");
    assert!(value(&read) == value(&result), "result.json reads back as written");
    let markdown = std::fs::read_to_string(out.path().join("result.md")).expect("result.md");
    for strategy in StrategyName::ALL {
        assert!(markdown.contains(&format!("| {} |", strategy.name())), "{} in the table", strategy.name());
    }
    assert!(markdown.contains("| profiles | allowed sets | search | page |"), "a first query's parts");
    let csv = std::fs::read_to_string(out.path().join("result.csv")).expect("result.csv");
    assert_eq!(csv.lines().count(), 1 + result.latency.len() + result.throughput.len());
    let expected = std::fs::read_to_string(out.path().join("expected.jsonl")).expect("expected.jsonl");
    assert_eq!(expected.lines().count(), callers * queries);
    for line in expected.lines() {
        let value: serde_json::Value = serde_json::from_str(line).expect("one JSON object per line");
        let top = value["top"].as_array().expect("top");
        assert!(top.len() as u64 <= value["total"].as_u64().expect("total").min(bench.k as u64));
    }
    for name in ["ratio-word.svg", "ratio-permdex.svg", "ratio-facets.svg"] {
        let svg = std::fs::read_to_string(out.path().join(name)).expect(name);
        assert!(svg.starts_with("<svg") && svg.contains("<polyline"), "{name}");
    }
    let cdfs = std::fs::read_dir(out.path())
        .expect("out dir")
        .filter(|e| e.as_ref().is_ok_and(|e| e.file_name().to_string_lossy().starts_with("cdf-")))
        .count();
    assert_eq!(cdfs, callers, "a latency CDF per caller");
    assert!(!out.path().join("index").exists(), "the index is removed unless kept");

    // `permdex bench plot` redraws the charts from the JSON alone.
    let charts = tempfile::tempdir().expect("tempdir");
    let output = Command::new(env!("CARGO_BIN_EXE_permdex"))
        .args(["bench", "plot"])
        .arg(&json)
        .arg("--out")
        .arg(charts.path())
        .output()
        .expect("permdex runs");
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    for name in ["ratio-word.svg", "ratio-permdex.svg"] {
        assert_eq!(
            std::fs::read(charts.path().join(name)).expect(name),
            std::fs::read(out.path().join(name)).expect(name),
            "{name} is the same drawn again"
        );
    }
}

#[test]
fn bad_flags_are_usage_errors() {
    let out = tempfile::tempdir().expect("tempdir");
    let cases: &[&[&str]] = &[
        &["--order", "sideways"],
        &["--strategies", "magic"],
        &["--queries", "fuzzy"],
        &["--public", "2"],
        &["--selectivity", "0"],
        &["--docs", "0"],
    ];
    for flags in cases {
        let output = Command::new(env!("CARGO_BIN_EXE_permdex"))
            .args(["bench", "acl", "--docs", "100", "--out"])
            .arg(out.path())
            .args(*flags)
            .output()
            .expect("permdex runs");
        assert_eq!(output.status.code(), Some(2), "{flags:?}: {}", String::from_utf8_lossy(&output.stderr));
    }
    assert!(!out.path().join("index").exists(), "nothing was built");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn site_bench_checks_totals_against_the_oracle_and_loads_the_server() {
    let out = tempfile::tempdir().expect("tempdir");
    let bench = SiteBench {
        seed: 2,
        scale: Scale::Tiny,
        per_shape: 2,
        rounds: 1,
        some_share: 0.3,
        load: Until::Requests(5),
        connections: vec![1, 2],
        out: out.path().to_path_buf(),
        sync: SyncOptions { extract: support::extract_config(), ..SyncOptions::default() },
    };
    let result = site::run(&bench, &mut Quiet).await.expect("the site bench runs");
    let accounts: Vec<_> = result.readers.iter().filter(|r| r.account.is_some()).collect();
    assert!(accounts.len() >= 2, "{:?}", result.readers);
    for reader in &accounts {
        assert_eq!(
            reader.oracle_visible,
            Some(reader.visible),
            "{}: the API's total is the oracle's",
            reader.who
        );
    }
    assert!(result.answers_checked > 0);
    assert_eq!(result.http.len(), accounts.len() * bench.connections.len());
    for cell in &result.http {
        assert_eq!(cell.latency.samples, 5 * cell.threads, "every request answered 2xx");
    }
    let written: serde_json::Value =
        serde_json::from_slice(&std::fs::read(out.path().join("site.json")).expect("site.json"))
            .expect("json");
    assert_eq!(written["documents"].as_u64(), Some(result.documents));
    assert!(std::fs::read_to_string(out.path().join("site.md")).expect("site.md").contains("| most |"));
}

/// The soak's short mode: a real `permdex serve` searched at 32 connections while it runs incremental syncs
/// and permission refreshes of a changing site. No request fails, and the report carries every figure.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn soak_searches_while_the_server_syncs_and_reports_its_memory() {
    use permdex::bench::soak::{self, SoakBench};
    use std::time::Duration;

    let out = tempfile::tempdir().expect("tempdir");
    let bench = SoakBench {
        seed: 3,
        scale: Scale::Tiny,
        duration: Duration::from_secs(2),
        connections: 32,
        readers: 4,
        // Refreshes between incremental syncs (an incremental sync counts as a refresh).
        sync_interval: Duration::from_secs(3),
        permissions_interval: Duration::from_secs(1),
        mutate_every: Duration::from_millis(200),
        mutations: 3,
        sample_every: Duration::from_millis(200),
        warm_up: Duration::from_millis(500),
        window: Duration::from_secs(1),
        binary: env!("CARGO_BIN_EXE_permdex").into(),
        out: out.path().to_path_buf(),
    };
    let result = soak::run(&bench, &mut Quiet).await.expect("the soak runs");
    assert_eq!(result.errors, 0, "{:?}", result.error_examples);
    assert!(result.requests > 0 && result.latency.samples as u64 == result.requests, "{:?}", result.latency);
    assert!(
        result.latency.p50_us > 0.0 && result.latency.p99_us >= result.latency.p50_us,
        "{:?}",
        result.latency
    );
    assert_eq!(result.connections, 32);
    assert_eq!(result.readers.len(), 4);
    assert!(result.incremental_syncs >= 1 && result.permission_refreshes >= 1, "{result:?}");
    assert_eq!(result.failed_syncs, 0);
    assert!(result.mutations_applied > 0);
    assert_eq!(result.final_totals.len(), 4);
    assert!(
        result.final_totals_match,
        "after the churn, the API's totals are the oracle's: {:?}",
        result.final_totals
    );
    assert_eq!(result.windows.iter().map(|w| w.requests).sum::<u64>(), result.requests);
    assert!(result.memory.len() >= 2, "{:?}", result.memory);
    assert!(
        result.memory.iter().all(|s| s.rss_bytes > 0 && s.anon_bytes > 0 && s.threads > 0),
        "{:?}",
        result.memory
    );
    let verdict = result.memory_verdict.as_ref().expect("samples after the warm-up are judged");
    assert!(verdict.first_half_peak_bytes > 0 && verdict.summary.contains("MiB"), "{verdict:?}");

    let written: serde_json::Value =
        serde_json::from_slice(&std::fs::read(out.path().join("soak.json")).expect("soak.json"))
            .expect("json");
    for field in [
        "requests",
        "errors",
        "latency",
        "memory",
        "memory_verdict",
        "incremental_syncs",
        "permission_refreshes",
    ] {
        assert!(!written[field].is_null(), "soak.json has {field}");
    }
    assert_eq!(written["errors"], 0);
    assert!(written["latency"]["p99_us"].as_f64().is_some());
    let markdown = std::fs::read_to_string(out.path().join("soak.md")).expect("soak.md");
    assert!(markdown.contains("| requests | errors |") && markdown.contains("Memory: "), "{markdown}");
    assert!(!out.path().join("soak-data").exists(), "the data directory is removed");
}

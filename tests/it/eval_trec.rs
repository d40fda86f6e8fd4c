//! `permdex::eval` metrics against trec_eval itself (pytrec-eval-terrier, which embeds trec_eval's C code):
//! many random qrels and runs, with score ties, unjudged and negatively judged documents, absent queries,
//! several relevance levels and judged-only scoring, agree to 4 decimals on every query and measure.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::process::Command;

use permdex::eval::{evaluate, Measure, Qrels, Run, ScoreOptions};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

const MEASURES: &str =
    "map,map_cut.5,map_cut.100,ndcg,ndcg_cut.1,ndcg_cut.10,P.1,P.5,P.20,recall.10,recall.100,\
                        recip_rank,Rprec,success.3,num_ret,num_rel,num_rel_ret";

/// A random collection: qrels with grades -1..=4 and runs with many ties (scores from a small set).
fn random_case(seed: u64) -> (String, String) {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut qrels = String::new();
    let mut run = String::new();
    for q in 0..rng.gen_range(1..12) {
        let docs = rng.gen_range(1..60);
        for d in 0..docs {
            if rng.gen_bool(0.5) {
                let rel = rng.gen_range(-1..=4);
                let _ = writeln!(qrels, "q{q} 0 d{d} {rel}");
            }
        }
        // Some queries have no run; the run has a query of its own that nobody judged.
        if rng.gen_bool(0.85) {
            let mut ids: Vec<usize> = (0..docs + 20).collect();
            for i in (1..ids.len()).rev() {
                ids.swap(i, rng.gen_range(0..=i));
            }
            for (rank, d) in ids.iter().take(rng.gen_range(0..docs + 20)).enumerate() {
                let score = f64::from(rng.gen_range(0..8)) / 4.0 - 0.5;
                let _ = writeln!(run, "q{q} Q0 d{d} {} {score} t", rank + 1);
            }
        }
    }
    let _ = writeln!(run, "unjudged Q0 d1 1 1 t");
    (qrels, run)
}

/// trec_eval's values per query through pytrec_eval, keyed as this crate names measures.
fn trec_eval(
    dir: &std::path::Path,
    qrels: &str,
    run: &str,
    level: i32,
    judged_only: bool,
) -> serde_json::Value {
    std::fs::write(dir.join("qrels"), qrels).unwrap();
    std::fs::write(dir.join("run"), run).unwrap();
    let script = r#"
import json, sys, pytrec_eval
d, level, judged, measures = sys.argv[1], int(sys.argv[2]), sys.argv[3] == "1", sys.argv[4].split(",")
qrels, run = {}, {}
for line in open(d + "/qrels"):
    q, _, doc, rel = line.split()
    qrels.setdefault(q, {})[doc] = int(rel)
for line in open(d + "/run"):
    q, _, doc, _, score, _ = line.split()
    run.setdefault(q, {})[doc] = float(score)
ev = pytrec_eval.RelevanceEvaluator(qrels, set(measures), relevance_level=level, judged_docs_only_flag=judged)
out = {q: {m: v[m.replace(".", "_")] for m in measures} for q, v in ev.evaluate(run).items()}
# recip_rank within the first 10 is trec_eval's recip_rank with -M 10: rank as trec_eval does, cut, score.
def ranked(docs):
    by_docno = sorted(docs.items(), key=lambda kv: kv[0].encode(), reverse=True)
    return sorted(by_docno, key=lambda kv: -kv[1])
cut = {q: dict(ranked(docs)[:10]) for q, docs in run.items()}
cut_ev = pytrec_eval.RelevanceEvaluator(qrels, {"recip_rank"}, relevance_level=level, judged_docs_only_flag=judged)
for q, v in cut_ev.evaluate(cut).items():
    out[q]["recip_rank_cut.10"] = v["recip_rank"]
print(json.dumps(out))
"#;
    let output = Command::new("python3")
        .arg("-c")
        .arg(script)
        .arg(dir)
        .arg(level.to_string())
        .arg(if judged_only { "1" } else { "0" })
        .arg(MEASURES)
        .output()
        .expect("python3 runs (install pytrec-eval-terrier: .ci/run does)");
    assert!(output.status.success(), "pytrec_eval failed: {}", String::from_utf8_lossy(&output.stderr));
    serde_json::from_slice(&output.stdout).expect("json from pytrec_eval")
}

#[test]
fn metrics_match_trec_eval_on_random_runs() {
    let dir = tempfile::tempdir().unwrap();
    let mut measures = Measure::parse_list(MEASURES).unwrap();
    measures.push(Measure::RecipRankCut(10));
    let mut compared = 0;
    for seed in 0..24u64 {
        let (qrels_text, run_text) = random_case(seed);
        let (level, judged_only) = (1 + (seed % 3) as i32, seed % 4 == 1);
        let expected = trec_eval(dir.path(), &qrels_text, &run_text, level, judged_only);
        let options = ScoreOptions { relevance_level: level, judged_only, complete: false };
        let ours = evaluate(
            &Qrels::parse(&qrels_text).unwrap(),
            &Run::parse(&run_text).unwrap(),
            &measures,
            options,
        );
        let expected = expected.as_object().unwrap();
        assert_eq!(
            ours.per_query.keys().collect::<Vec<_>>(),
            expected.keys().collect::<Vec<_>>(),
            "seed {seed}: the same queries are evaluated"
        );
        for (qid, values) in &ours.per_query {
            for (measure, value) in measures.iter().zip(values) {
                let theirs = expected[qid][measure.to_string()].as_f64().unwrap();
                assert!(
                    (value - theirs).abs() < 5e-5,
                    "seed {seed}, query {qid}, {measure}: ours {value:.4}, trec_eval {theirs:.4}"
                );
                compared += 1;
            }
        }
    }
    assert!(compared > 1000, "compared {compared} values");
}

#[test]
fn summary_is_the_mean_of_queries_and_counts_are_summed() {
    let (qrels_text, run_text) = random_case(7);
    let measures = vec![Measure::Map, Measure::NumRet];
    let e = evaluate(
        &Qrels::parse(&qrels_text).unwrap(),
        &Run::parse(&run_text).unwrap(),
        &measures,
        Default::default(),
    );
    let maps: BTreeMap<_, _> = e.column(Measure::Map).unwrap();
    let mean = maps.values().sum::<f64>() / maps.len() as f64;
    assert!((e.get(Measure::Map).unwrap() - mean).abs() < 1e-12);
    let rets: f64 = e.column(Measure::NumRet).unwrap().values().sum();
    assert_eq!(e.get(Measure::NumRet).unwrap(), rets);
}

fn permdex_eval(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_permdex")).arg("eval").args(args).output().expect("permdex runs")
}

#[test]
fn score_and_compare_from_the_command_line() {
    let dir = tempfile::tempdir().unwrap();
    let path = |name: &str| dir.path().join(name).to_string_lossy().into_owned();
    std::fs::write(path("qrels"), "1 0 a 2\n1 0 b 1\n2 0 c 1\n").unwrap();
    std::fs::write(path("base.txt"), "1 Q0 x 1 3 base\n1 Q0 a 2 2 base\n2 Q0 c 1 1 base\n").unwrap();
    std::fs::write(path("better.txt"), "1 Q0 a 1 3 better\n1 Q0 b 2 2 better\n2 Q0 c 1 1 better\n").unwrap();

    let scored = permdex_eval(&[
        "score",
        "--qrels",
        &path("qrels"),
        &path("base.txt"),
        "--metrics",
        "recip_rank,P.1",
        "--per-query",
    ]);
    assert!(scored.status.success(), "{}", String::from_utf8_lossy(&scored.stderr));
    let text = String::from_utf8(scored.stdout).unwrap();
    for line in [
        "recip_rank            \t1\t0.5000",
        "runid                 \tall\tbase",
        "recip_rank            \tall\t0.7500",
        "P.1                   \tall\t0.5000",
    ] {
        assert!(text.lines().any(|l| l == line), "{line:?} in\n{text}");
    }
    let json = permdex_eval(&["score", "--qrels", &path("qrels"), &path("better.txt"), "--json"]);
    let json: serde_json::Value = serde_json::from_slice(&json.stdout).expect("json");
    assert_eq!(json["all"]["recip_rank"], serde_json::json!(1.0));

    let compared = permdex_eval(&[
        "compare",
        "--qrels",
        &path("qrels"),
        &path("base.txt"),
        &path("better.txt"),
        "--metrics",
        "recip_rank",
        "--html",
        &path("report.html"),
    ]);
    assert!(compared.status.success(), "{}", String::from_utf8_lossy(&compared.stderr));
    let markdown = String::from_utf8(compared.stdout).unwrap();
    assert!(markdown.contains("| better.txt | 1.0000 | +0.2500 |"), "{markdown}");
    let html = std::fs::read_to_string(path("report.html")).unwrap();
    assert!(
        html.contains("<svg")
            && !html.contains("<script")
            && !html.contains("src=")
            && !html.contains("<link")
    );

    let bad = permdex_eval(&["score", "--qrels", &path("qrels"), &path("base.txt"), "--metrics", "mrr"]);
    assert!(!bad.status.success());
    assert!(String::from_utf8_lossy(&bad.stderr).contains("unknown measure"));
}

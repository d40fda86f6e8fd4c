//! Reports of `permdex eval collection` as Markdown: per-account results with their permission audits,
//! pipeline against direct indexing, coverage, ranking variants and time.

use std::fmt::Write as _;

use super::pipeline::CollectionReport;

fn number(v: f64) -> String {
    if v.fract() == 0.0 && v.abs() >= 1.0 {
        format!("{v}")
    } else {
        format!("{v:.4}")
    }
}

/// The collection report as Markdown.
pub fn collection_markdown(r: &CollectionReport) -> String {
    let mut s = String::new();
    let _ = writeln!(
        s,
        "# {}: {} documents, {} topics ({} judged); {} documents in the synced index\n",
        r.collection, r.documents, r.topics, r.judged_topics, r.indexed_documents
    );
    let measures: Vec<&str> = r.direct.iter().map(|(m, _)| m.as_str()).collect();
    let _ = writeln!(s, "## Through the pipeline, per account (judgements of the documents each may read)\n");
    let _ = writeln!(
        s,
        "| account | reads | scored topics | {} | rank differences (topics, positions) | leaks / ids checked | refused |",
        measures.join(" | ")
    );
    let _ = writeln!(s, "|---|---|---|{}---|---|---|", "---|".repeat(measures.len()));
    for a in &r.accounts {
        let values: Vec<String> = a.summary.iter().map(|(_, v)| number(*v)).collect();
        let _ = writeln!(
            s,
            "| {} | {} of {} | {} | {} | {}, {} | {} / {} | {} |",
            a.account,
            a.readable,
            r.documents,
            a.scored_topics,
            values.join(" | "),
            a.ranking.topics_differing,
            a.ranking.positions_differing,
            a.leaks.leaks,
            a.leaks.checked,
            a.refused.len()
        );
    }
    for a in &r.accounts {
        for (topic, rank, got, want) in &a.ranking.examples {
            let _ =
                writeln!(s, "\n{}: topic {topic} differs at rank {rank}: {got} instead of {want}", a.account);
        }
        for (topic, id) in &a.leaks.examples {
            let _ = writeln!(s, "\n{}: LEAK in topic {topic}: {id}", a.account);
        }
        for (topic, reason) in a.refused.iter().take(5) {
            let _ = writeln!(s, "\n{}: topic {topic} refused: {reason}", a.account);
        }
    }
    let _ = writeln!(
        s,
        "\n## Pipeline (the account reading everything) against the same text indexed directly\n"
    );
    let _ = writeln!(s, "| measure | pipeline | direct | pipeline − direct |\n|---|---|---|---|");
    if let Some(full) = r.full_reader() {
        for (((m, p), (_, d)), (_, diff)) in full.summary.iter().zip(&r.direct).zip(&r.pipeline_minus_direct)
        {
            let _ = writeln!(s, "| {m} | {} | {} | {diff:+.4} |", number(*p), number(*d));
        }
    } else {
        for (m, d) in &r.direct {
            let _ = writeln!(s, "| {m} | (no account reads everything) | {} | |", number(*d));
        }
    }
    let _ = writeln!(s, "\n## Coverage: every item the oracle lists\n");
    let _ = writeln!(s, "| kind | listed | indexed | with text | failed |\n|---|---|---|---|---|");
    for (kind, c) in &r.coverage.kinds {
        let _ =
            writeln!(s, "| {kind} | {} | {} | {} | {} |", c.listed, c.indexed, c.with_text, c.failed.len());
    }
    for (kind, c) in &r.coverage.kinds {
        for (id, reason) in c.failed.iter().take(5) {
            let _ = writeln!(s, "\n{kind}: {id} failed: {reason}");
        }
    }
    if !r.coverage.unexpected.is_empty() {
        let _ = writeln!(s, "\nIndexed but not listed by the oracle: {}", r.coverage.unexpected.join(", "));
    }
    if !r.variants.is_empty() {
        let _ = writeln!(s, "\n## Ranking variants on the direct index\n");
        let _ = writeln!(s, "| variant | {} |\n|---|{}", measures.join(" | "), "---|".repeat(measures.len()));
        for v in &r.variants {
            let values: Vec<String> = v.summary.iter().map(|(_, x)| number(*x)).collect();
            let _ = writeln!(s, "| {} | {} |", v.name, values.join(" | "));
        }
    }
    let times: Vec<String> = r.seconds.iter().map(|(k, v)| format!("{k} {v:.1} s")).collect();
    let _ = writeln!(s, "\nTime: {}", times.join(", "));
    s
}

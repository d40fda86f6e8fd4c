//! `permdex eval compare`: several runs against a baseline, per measure, with the tests of [`super::stats`]
//! (Holm-corrected across the runs compared), as Markdown, JSON, or an HTML page with SVG charts (mean per
//! run with its bootstrap interval, and each run's per-query differences) that opens from disk: no script,
//! no external asset.
//!
//! Every judged query counts in every run (a run without a query scores 0 there, trec_eval `-c`), so the
//! values are paired.

use std::fmt::Write as _;

use super::metrics::{evaluate, Measure, ScoreOptions};
use super::stats::{self, Paired};
use super::trec::{Qrels, Run};

/// One run's comparison with the baseline on one measure.
#[derive(Debug, Clone, serde::Serialize)]
pub struct RunComparison {
    pub run: String,
    #[serde(flatten)]
    pub paired: Paired,
    /// Holm-adjusted p-values across the runs compared on this measure.
    pub p_t_holm: f64,
    pub p_randomization_holm: f64,
    /// Per query (judged query order): this run's value minus the baseline's.
    pub differences: Vec<(String, f64)>,
}

/// All comparisons on one measure.
#[derive(Debug, Clone, serde::Serialize)]
pub struct MeasureComparison {
    pub measure: String,
    pub baseline: String,
    pub baseline_mean: f64,
    pub runs: Vec<RunComparison>,
}

/// Compares `runs[1..]` with `runs[0]` on each measure.
pub fn compare(
    qrels: &Qrels,
    runs: &[(String, Run)],
    measures: &[Measure],
    resamples: usize,
    seed: u64,
) -> Vec<MeasureComparison> {
    let options = ScoreOptions { complete: true, ..ScoreOptions::default() };
    let evaluations: Vec<_> = runs.iter().map(|(_, run)| evaluate(qrels, run, measures, options)).collect();
    let Some(((baseline_name, _), baseline)) = runs.first().zip(evaluations.first()) else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for (i, measure) in measures.iter().enumerate() {
        let before: Vec<f64> = baseline.per_query.values().map(|v| v[i]).collect();
        let queries: Vec<&String> = baseline.per_query.keys().collect();
        let mut comparisons: Vec<RunComparison> = runs
            .iter()
            .zip(&evaluations)
            .skip(1)
            .map(|((name, _), e)| {
                let after: Vec<f64> = e.per_query.values().map(|v| v[i]).collect();
                RunComparison {
                    run: name.clone(),
                    paired: stats::compare(&before, &after, resamples, seed),
                    p_t_holm: 1.0,
                    p_randomization_holm: 1.0,
                    differences: queries
                        .iter()
                        .zip(before.iter().zip(&after))
                        .map(|(q, (b, a))| ((*q).clone(), a - b))
                        .collect(),
                }
            })
            .collect();
        let p_t = stats::holm(&comparisons.iter().map(|c| c.paired.p_t).collect::<Vec<_>>());
        let p_r = stats::holm(&comparisons.iter().map(|c| c.paired.p_randomization).collect::<Vec<_>>());
        for (c, (t, r)) in comparisons.iter_mut().zip(p_t.into_iter().zip(p_r)) {
            c.p_t_holm = t;
            c.p_randomization_holm = r;
        }
        out.push(MeasureComparison {
            measure: measure.to_string(),
            baseline: baseline_name.clone(),
            baseline_mean: baseline.summary[i],
            runs: comparisons,
        });
    }
    out
}

/// The comparisons as Markdown tables.
pub fn markdown(comparisons: &[MeasureComparison]) -> String {
    let mut s = String::new();
    for m in comparisons {
        let _ = writeln!(s, "## {} (baseline {}: {:.4})\n", m.measure, m.baseline, m.baseline_mean);
        let _ = writeln!(
            s,
            "| run | mean | difference | 95% CI | t-test p (Holm) | randomization p (Holm) | win / tie / loss |\n|---|---|---|---|---|---|---|"
        );
        for r in &m.runs {
            let p = &r.paired;
            let _ = writeln!(
                s,
                "| {} | {:.4} | {:+.4} | [{:+.4}, {:+.4}] | {:.4} ({:.4}) | {:.4} ({:.4}) | {} / {} / {} |",
                r.run,
                p.mean_after,
                p.mean_difference,
                p.ci_low,
                p.ci_high,
                p.p_t,
                r.p_t_holm,
                p.p_randomization,
                r.p_randomization_holm,
                p.wins,
                p.ties,
                p.losses
            );
        }
        s.push('\n');
    }
    s
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;")
}

/// Mean per run (the baseline first) with its bootstrap interval, as horizontal bars.
fn means_svg(m: &MeasureComparison) -> String {
    let mut rows = vec![(m.baseline.clone(), m.baseline_mean, None)];
    rows.extend(m.runs.iter().map(|r| {
        let p = &r.paired;
        (r.run.clone(), p.mean_after, Some((p.mean_before + p.ci_low, p.mean_before + p.ci_high)))
    }));
    let max = rows
        .iter()
        .map(|(_, v, ci)| ci.map_or(*v, |c: (f64, f64)| c.1.max(*v)))
        .fold(0.0f64, f64::max)
        .max(1e-9);
    let (label_w, bar_w, row_h) = (220.0, 420.0, 26.0);
    let height = row_h * rows.len() as f64 + 10.0;
    let mut s = format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{}\" height=\"{height}\" role=\"img\" aria-label=\"mean {} per run\">",
        label_w + bar_w + 80.0,
        escape(&m.measure)
    );
    for (i, (name, value, ci)) in rows.iter().enumerate() {
        let y = 5.0 + row_h * i as f64;
        let w = bar_w * value / max;
        let colour = if i == 0 { "#8a8f98" } else { "#2f6fb0" };
        let _ = write!(
            s,
            "<text x=\"{}\" y=\"{}\" text-anchor=\"end\" font-size=\"12\">{}</text><rect x=\"{label_w}\" y=\"{y}\" width=\"{w:.1}\" height=\"{}\" fill=\"{colour}\"/><text x=\"{}\" y=\"{}\" font-size=\"12\">{value:.4}</text>",
            label_w - 6.0,
            y + 15.0,
            escape(name),
            row_h - 8.0,
            label_w + w + 4.0,
            y + 15.0
        );
        if let Some((lo, hi)) = ci {
            let (x1, x2) = (label_w + bar_w * lo.max(0.0) / max, label_w + bar_w * hi / max);
            let mid = y + (row_h - 8.0) / 2.0;
            let _ = write!(s, "<line x1=\"{x1:.1}\" x2=\"{x2:.1}\" y1=\"{mid}\" y2=\"{mid}\" stroke=\"#111\" stroke-width=\"2\"/>");
        }
    }
    s.push_str("</svg>");
    s
}

/// One run's per-query differences from the baseline, sorted, as vertical bars around a zero line.
fn differences_svg(run: &RunComparison) -> String {
    let mut values: Vec<f64> = run.differences.iter().map(|(_, d)| *d).collect();
    values.sort_by(|a, b| b.total_cmp(a));
    let (width, height) = (700.0, 160.0);
    let max = values.iter().map(|v| v.abs()).fold(0.0f64, f64::max).max(1e-9);
    let bar = width / values.len().max(1) as f64;
    let zero = height / 2.0;
    let mut s = format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{width}\" height=\"{height}\" role=\"img\" aria-label=\"per-query differences of {}\">",
        escape(&run.run)
    );
    for (i, v) in values.iter().enumerate() {
        let h = (zero - 4.0) * v.abs() / max;
        let y = if *v >= 0.0 { zero - h } else { zero };
        let colour = if *v >= 0.0 { "#2e8b57" } else { "#c0392b" };
        let _ = write!(
            s,
            "<rect x=\"{:.2}\" y=\"{y:.2}\" width=\"{:.2}\" height=\"{h:.2}\" fill=\"{colour}\"/>",
            bar * i as f64,
            bar.max(0.5)
        );
    }
    let _ = write!(s, "<line x1=\"0\" x2=\"{width}\" y1=\"{zero}\" y2=\"{zero}\" stroke=\"#444\"/>");
    let _ = write!(s, "<text x=\"4\" y=\"12\" font-size=\"11\">+{max:.3}</text><text x=\"4\" y=\"{}\" font-size=\"11\">−{max:.3}</text>", height - 4.0);
    s.push_str("</svg>");
    s
}

/// A self-contained HTML report: tables and inline SVG, inline CSS, nothing fetched.
pub fn html(comparisons: &[MeasureComparison]) -> String {
    let mut s = String::from(
        "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>permdex eval compare</title>\n<style>\
         body{font-family:system-ui,sans-serif;margin:2em;max-width:60em;color:#111}\
         table{border-collapse:collapse;margin:1em 0}td,th{border:1px solid #ccc;padding:.3em .6em;text-align:right}\
         th:first-child,td:first-child{text-align:left}h2{margin-top:2em}figure{margin:1em 0}figcaption{font-size:.9em;color:#444}\
         </style></head><body>\n<h1>Run comparison</h1>\n<p>Each run against the baseline on every judged query; p-values \
         two-sided, Holm-corrected across runs in parentheses; intervals are bootstrap 95% intervals of the mean difference.</p>\n",
    );
    for m in comparisons {
        let _ = writeln!(
            s,
            "<h2>{} <small>(baseline {}: {:.4})</small></h2>",
            escape(&m.measure),
            escape(&m.baseline),
            m.baseline_mean
        );
        let _ = writeln!(
            s,
            "<figure>{}<figcaption>Mean {} per run, with the 95% interval.</figcaption></figure>",
            means_svg(m),
            escape(&m.measure)
        );
        s.push_str("<table><tr><th>run</th><th>mean</th><th>difference</th><th>95% CI</th><th>t-test p (Holm)</th><th>randomization p (Holm)</th><th>win / tie / loss</th></tr>\n");
        for r in &m.runs {
            let p = &r.paired;
            let _ = writeln!(
                s,
                "<tr><td>{}</td><td>{:.4}</td><td>{:+.4}</td><td>[{:+.4}, {:+.4}]</td><td>{:.4} ({:.4})</td><td>{:.4} ({:.4})</td><td>{} / {} / {}</td></tr>",
                escape(&r.run), p.mean_after, p.mean_difference, p.ci_low, p.ci_high, p.p_t, r.p_t_holm, p.p_randomization, r.p_randomization_holm, p.wins, p.ties, p.losses
            );
        }
        s.push_str("</table>\n");
        for r in &m.runs {
            let _ = writeln!(
                s,
                "<figure>{}<figcaption>{}: per-query {} minus the baseline's, sorted (green: better, red: worse).</figcaption></figure>",
                differences_svg(r),
                escape(&r.run),
                escape(&m.measure)
            );
        }
    }
    s.push_str("</body></html>\n");
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn comparisons_are_paired_and_reported() {
        let qrels = Qrels::parse("1 0 a 1\n2 0 b 1\n3 0 c 1\n").unwrap();
        let base = Run::parse("1 Q0 x 1 2 r\n1 Q0 a 2 1 r\n2 Q0 b 1 1 r\n").unwrap();
        let better = Run::parse("1 Q0 a 1 2 s\n2 Q0 b 1 1 s\n3 Q0 c 1 1 s\n").unwrap();
        let runs = vec![("base".to_string(), base), ("better <b>".to_string(), better)];
        let c = compare(&qrels, &runs, &[Measure::RecipRank], 200, 1);
        assert_eq!(c.len(), 1);
        let r = &c[0].runs[0];
        assert_eq!(r.paired.queries, 3, "query 3 counts as 0 in the baseline");
        assert_eq!((r.paired.wins, r.paired.ties, r.paired.losses), (2, 1, 0));
        assert!((c[0].baseline_mean - 0.5).abs() < 1e-12);
        let md = markdown(&c);
        assert!(md.contains("| better <b> | 1.0000 | +0.5000 |"), "{md}");
        let page = html(&c);
        assert!(page.contains("<svg") && page.contains("better &lt;b&gt;") && !page.contains("better <b>"));
        assert!(!page.contains("<script") && !page.contains("src=") && !page.contains("href="));
    }
}

//! SVG charts of a `bench acl` result, drawn from its JSON alone (`permdex bench plot result.json`).
//!
//! - `ratio-{shape}.svg`: p50 latency over unfiltered against the share of documents the caller reads,
//!   both axes logarithmic, one line per strategy; a dashed line marks 1× (as fast as no filter at all).
//! - `ratio-permdex.svg`: the same for permdex alone, one line per query shape.
//! - `cdf-{caller}.svg`: the latency distribution of each strategy for one caller, all shapes mixed, at the
//!   fewest threads measured (from the throughput cells), latency on a logarithmic axis.
//!
//! Plain SVG written by hand: lines, axes with decade ticks, a legend. This file reads no index.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use super::queries::Shape;
use super::report::BenchResult;
use super::strategy::StrategyName;
use super::Error;

/// Writes every chart of `result` into `dir`; returns their paths.
pub fn write_all(result: &BenchResult, dir: &Path) -> Result<Vec<PathBuf>, Error> {
    let mut written = Vec::new();
    let mut save = |name: String, svg: String| -> Result<(), Error> {
        let path = dir.join(name);
        std::fs::write(&path, svg).map_err(Error::io(&path))?;
        written.push(path);
        Ok(())
    };
    for shape in result.shapes() {
        let series: Vec<Series> = result
            .strategy_names()
            .into_iter()
            .filter(|s| *s != StrategyName::Unfiltered)
            .map(|s| Series { name: s.name().to_string(), points: ratio_points(result, s, shape) })
            .filter(|s| !s.points.is_empty())
            .collect();
        let title = format!("{}: p50 latency over unfiltered (top-k + exact count)", shape.describe());
        save(format!("ratio-{}.svg", shape.name()), ratio_chart(&title, &series))?;
    }
    let series: Vec<Series> = result
        .shapes()
        .into_iter()
        .map(|shape| Series {
            name: shape.describe().to_string(),
            points: ratio_points(result, StrategyName::Permdex, shape),
        })
        .filter(|s| !s.points.is_empty())
        .collect();
    if !series.is_empty() {
        save(
            "ratio-permdex.svg".into(),
            ratio_chart("permdex: p50 latency over unfiltered, by query shape", &series),
        )?;
    }
    let fewest = result.throughput.iter().map(|c| c.threads).min().unwrap_or(1);
    for caller in &result.callers {
        let series: Vec<Series> = result
            .throughput
            .iter()
            .filter(|c| c.threads == fewest && c.caller == caller.label && c.latency.samples > 0)
            .map(|c| Series {
                name: c.strategy.name().to_string(),
                points: c
                    .latency
                    .percentiles_us
                    .iter()
                    .enumerate()
                    .map(|(p, us)| (us.max(1.0), p as f64))
                    .collect(),
            })
            .collect();
        if series.is_empty() {
            continue;
        }
        let title = format!(
            "Latency, caller reading {} ({:.3}%), all shapes, {fewest} thread{}",
            caller.label,
            caller.share * 100.0,
            if fewest == 1 { "" } else { "s" }
        );
        let chart = Chart {
            title,
            x: Axis { label: "latency (µs)".into(), scale: Scale::Log },
            y: Axis { label: "percent of searches at or below".into(), scale: Scale::Linear },
            reference: None,
        };
        let file = format!("cdf-{}.svg", caller.label.replace('%', "pct"));
        save(file, chart.draw(&series))?;
    }
    Ok(written)
}

/// (caller share, p50 ratio) of `strategy` for `shape`, by share.
fn ratio_points(result: &BenchResult, strategy: StrategyName, shape: Shape) -> Vec<(f64, f64)> {
    let mut points: Vec<(f64, f64)> = result
        .callers
        .iter()
        .filter_map(|c| {
            let (p50, _) = result.ratio(strategy, shape, &c.label)?;
            (p50.is_finite() && p50 > 0.0 && c.share > 0.0).then_some((c.share * 100.0, p50))
        })
        .collect();
    points.sort_by(|a, b| a.0.total_cmp(&b.0));
    points
}

fn ratio_chart(title: &str, series: &[Series]) -> String {
    Chart {
        title: title.to_string(),
        x: Axis { label: "share of documents the caller may read (%)".into(), scale: Scale::Log },
        y: Axis { label: "p50 latency / unfiltered p50".into(), scale: Scale::Log },
        reference: Some(1.0),
    }
    .draw(series)
}

struct Series {
    name: String,
    points: Vec<(f64, f64)>,
}

#[derive(Clone, Copy, PartialEq)]
enum Scale {
    Linear,
    Log,
}

struct Axis {
    label: String,
    scale: Scale,
}

struct Chart {
    title: String,
    x: Axis,
    y: Axis,
    /// A horizontal dashed line at this y.
    reference: Option<f64>,
}

const WIDTH: f64 = 860.0;
const HEIGHT: f64 = 500.0;
const LEFT: f64 = 80.0;
const RIGHT: f64 = 230.0;
const TOP: f64 = 50.0;
const BOTTOM: f64 = 60.0;
const COLORS: [&str; 10] = [
    "#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b", "#e377c2", "#17becf", "#7f7f7f",
    "#bcbd22",
];

/// A range of data values and how to place them.
struct Range {
    scale: Scale,
    lo: f64,
    hi: f64,
}

impl Range {
    fn of(scale: Scale, values: impl Iterator<Item = f64>) -> Range {
        let (mut lo, mut hi) = (f64::INFINITY, f64::NEG_INFINITY);
        for v in values.filter(|v| v.is_finite() && (scale == Scale::Linear || *v > 0.0)) {
            lo = lo.min(v);
            hi = hi.max(v);
        }
        if !lo.is_finite() {
            (lo, hi) = (1.0, 10.0);
        }
        match scale {
            // Whole decades, so ticks land on the edges.
            Scale::Log => {
                let (lo, hi) = (10f64.powf(lo.log10().floor()), 10f64.powf(hi.log10().ceil()));
                Range { scale, lo, hi: if hi <= lo { lo * 10.0 } else { hi } }
            }
            Scale::Linear => Range { scale, lo: lo.min(0.0), hi: if hi <= lo { lo + 1.0 } else { hi } },
        }
    }

    /// 0..1 across the range.
    fn fraction(&self, v: f64) -> f64 {
        match self.scale {
            Scale::Log => {
                (v.max(self.lo * 1e-3).log10() - self.lo.log10()) / (self.hi.log10() - self.lo.log10())
            }
            Scale::Linear => (v - self.lo) / (self.hi - self.lo),
        }
    }

    fn ticks(&self) -> Vec<f64> {
        match self.scale {
            Scale::Log => {
                let mut out = Vec::new();
                let mut t = self.lo;
                while t <= self.hi * 1.0001 {
                    out.push(t);
                    t *= 10.0;
                }
                out
            }
            Scale::Linear => (0..=5).map(|i| self.lo + (self.hi - self.lo) * f64::from(i) / 5.0).collect(),
        }
    }
}

fn tick_label(v: f64) -> String {
    if v >= 1000.0 || v == v.round() {
        format!("{v:.0}")
    } else {
        let text = format!("{v:.4}");
        text.trim_end_matches('0').trim_end_matches('.').to_string()
    }
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;")
}

impl Chart {
    fn draw(&self, series: &[Series]) -> String {
        let xs = Range::of(self.x.scale, series.iter().flat_map(|s| s.points.iter().map(|p| p.0)));
        let ys = Range::of(
            self.y.scale,
            series.iter().flat_map(|s| s.points.iter().map(|p| p.1)).chain(self.reference),
        );
        let plot_w = WIDTH - LEFT - RIGHT;
        let plot_h = HEIGHT - TOP - BOTTOM;
        let px = |v: f64| LEFT + xs.fraction(v).clamp(0.0, 1.0) * plot_w;
        let py = |v: f64| TOP + (1.0 - ys.fraction(v).clamp(0.0, 1.0)) * plot_h;
        let mut svg = String::new();
        let _ = writeln!(
            svg,
            r#"<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{HEIGHT}" viewBox="0 0 {WIDTH} {HEIGHT}" font-family="sans-serif" font-size="12">"#
        );
        let _ = writeln!(svg, r#"<rect width="100%" height="100%" fill="white"/>"#);
        let _ = writeln!(
            svg,
            r#"<text x="{}" y="28" font-size="15" text-anchor="middle">{}</text>"#,
            LEFT + plot_w / 2.0,
            escape(&self.title)
        );
        for t in xs.ticks() {
            let x = px(t);
            let _ = writeln!(
                svg,
                r##"<line x1="{x:.1}" y1="{TOP}" x2="{x:.1}" y2="{:.1}" stroke="#e5e5e5"/>"##,
                TOP + plot_h
            );
            let _ = writeln!(
                svg,
                r#"<text x="{x:.1}" y="{:.1}" text-anchor="middle">{}</text>"#,
                TOP + plot_h + 18.0,
                tick_label(t)
            );
        }
        for t in ys.ticks() {
            let y = py(t);
            let _ = writeln!(
                svg,
                r##"<line x1="{LEFT}" y1="{y:.1}" x2="{:.1}" y2="{y:.1}" stroke="#e5e5e5"/>"##,
                LEFT + plot_w
            );
            let _ = writeln!(
                svg,
                r#"<text x="{:.1}" y="{:.1}" text-anchor="end">{}</text>"#,
                LEFT - 6.0,
                y + 4.0,
                tick_label(t)
            );
        }
        let _ = writeln!(
            svg,
            r##"<rect x="{LEFT}" y="{TOP}" width="{plot_w}" height="{plot_h}" fill="none" stroke="#333"/>"##
        );
        let _ = writeln!(
            svg,
            r#"<text x="{:.1}" y="{:.1}" text-anchor="middle">{}</text>"#,
            LEFT + plot_w / 2.0,
            HEIGHT - 15.0,
            escape(&self.x.label)
        );
        let _ = writeln!(
            svg,
            r#"<text transform="translate(18 {:.1}) rotate(-90)" text-anchor="middle">{}</text>"#,
            TOP + plot_h / 2.0,
            escape(&self.y.label)
        );
        if let Some(reference) = self.reference {
            let y = py(reference);
            let _ = writeln!(
                svg,
                r##"<line x1="{LEFT}" y1="{y:.1}" x2="{:.1}" y2="{y:.1}" stroke="#333" stroke-dasharray="5 4"/>"##,
                LEFT + plot_w
            );
        }
        for (i, s) in series.iter().enumerate() {
            let color = COLORS[i % COLORS.len()];
            let points: Vec<String> =
                s.points.iter().map(|&(x, y)| format!("{:.1},{:.1}", px(x), py(y))).collect();
            let _ = writeln!(
                svg,
                r#"<polyline fill="none" stroke="{color}" stroke-width="2" points="{}"/>"#,
                points.join(" ")
            );
            if s.points.len() <= 12 {
                for &(x, y) in &s.points {
                    let _ = writeln!(
                        svg,
                        r#"<circle cx="{:.1}" cy="{:.1}" r="3" fill="{color}"/>"#,
                        px(x),
                        py(y)
                    );
                }
            }
            let ly = TOP + 10.0 + 20.0 * i as f64;
            let lx = LEFT + plot_w + 15.0;
            let _ = writeln!(
                svg,
                r#"<line x1="{lx}" y1="{ly}" x2="{}" y2="{ly}" stroke="{color}" stroke-width="3"/>"#,
                lx + 22.0
            );
            let _ = writeln!(svg, r#"<text x="{}" y="{}">{}</text>"#, lx + 28.0, ly + 4.0, escape(&s.name));
        }
        svg.push_str("</svg>\n");
        svg
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn log_ranges_snap_to_decades_and_place_values() {
        let r = Range::of(Scale::Log, [0.02, 3.0, 45.0].into_iter());
        assert_eq!((r.lo, r.hi), (0.01, 100.0));
        assert_eq!(r.ticks(), vec![0.01, 0.1, 1.0, 10.0, 100.0]);
        assert!((r.fraction(1.0) - 0.5).abs() < 1e-9);
        let flat = Range::of(Scale::Log, [5.0].into_iter());
        assert!(flat.hi > flat.lo);
        assert_eq!(tick_label(0.01), "0.01");
        assert_eq!(tick_label(1000.0), "1000");
    }

    #[test]
    fn charts_are_svg_with_a_line_per_series_and_escaped_text() {
        let chart = Chart {
            title: "a < b & c".into(),
            x: Axis { label: "x".into(), scale: Scale::Log },
            y: Axis { label: "y".into(), scale: Scale::Linear },
            reference: Some(1.0),
        };
        let series = [
            Series { name: "one".into(), points: vec![(1.0, 1.0), (10.0, 2.0)] },
            Series { name: "two".into(), points: vec![(1.0, 0.5), (100.0, 3.0)] },
        ];
        let svg = chart.draw(&series);
        assert!(svg.starts_with("<svg") && svg.trim_end().ends_with("</svg>"));
        assert_eq!(svg.matches("<polyline").count(), 2);
        assert!(svg.contains("a &lt; b &amp; c"));
    }
}

//! `cargo bench --bench search`: what permission filtering costs, on a simulated site synced end to end.
//!
//! 1. Starts the demo stack in-process (simulator at `--scale`, full sync into a real index on disk, query
//!    server on loopback).
//! 2. Ranks every active user by the share of documents they may read and picks three: the one who reads the
//!    most, the one closest to `--some-share`, and the one reading the most while still under 1%.
//! 3. Draws a query set from the index's own titles: single words, two-word OR, two-word AND, phrases.
//! 4. Library: each query as each user through `SearchService` (filtered), and the same queries through
//!    tantivy directly, unfiltered: top-k with an exact count (`TopDocs` + `Count`, the like-for-like
//!    baseline, since permdex always returns an exact total) and top-k alone (block-WAND, no count). The
//!    unfiltered runs live only here: neither the server nor the CLI can search without a caller.
//! 5. HTTP: `wrk` (if on PATH, else a built-in closed-loop client) against `GET /api/v1/search` as each user,
//!    at one connection (latency) and at `--connections` (throughput).
//!
//! Prints Markdown tables. Timings are wall-clock on whatever machine runs it; nothing here asserts them.

use std::collections::BTreeSet;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{bail, Context};
use clap::Parser;
use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use tantivy::collector::{Count, TopDocs};
use tantivy::schema::Value;
use tantivy::{DocAddress, Searcher, TantivyDocument};

use permdex::acl::Principal;
use permdex::config::AccountId;
use permdex::demo::{self, DemoOptions, RunningDemo, SOURCE};
use permdex::index::{Fields, IndexReader};
use permdex::search::query::{self, QueryBuilder};
use permdex::search::snippet::Highlighter;
use permdex::search::{hit_from_stored, PageRequest, SearchRequest, SearchService};
use permdex::server::auth::{mint_token, Callers};
use permdex::server::backend::{Indexes, ServeOptions};
use permdex::sim::{Scale, SimConfig};
use permdex::sync::{index_dir, Silent};

/// Hits per page in every measured search.
const PAGE: usize = 20;

#[derive(Debug, Parser)]
#[command(about = "Permission-filtered search against unfiltered tantivy, in the library and over HTTP")]
struct Args {
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// tiny, small, medium or large.
    #[arg(long, default_value = "large")]
    scale: Scale,
    /// Queries of each shape.
    #[arg(long, default_value_t = 50)]
    queries: usize,
    /// Timed rounds over the query set per user in the library (after one warm-up round).
    #[arg(long, default_value_t = 5)]
    rounds: usize,
    /// Share of documents the "some" user should read.
    #[arg(long, default_value_t = 0.10)]
    some_share: f64,
    /// Seconds of HTTP load per user and concurrency.
    #[arg(long, default_value_t = 10)]
    seconds: u64,
    /// Connections of the throughput run.
    #[arg(long, default_value_t = 16)]
    connections: usize,
    /// Where the index goes (default: a temporary directory removed at the end).
    #[arg(long)]
    data: Option<PathBuf>,
    /// Skip the HTTP part.
    #[arg(long)]
    no_http: bool,
    // `cargo bench` passes `--bench` to every bench target.
    #[arg(long, hide = true)]
    bench: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Shape {
    Word,
    Or,
    And,
    Phrase,
}

impl Shape {
    const ALL: [Shape; 4] = [Shape::Word, Shape::Or, Shape::And, Shape::Phrase];

    fn name(self) -> &'static str {
        match self {
            Shape::Word => "1 word",
            Shape::Or => "2-word OR",
            Shape::And => "2-word AND",
            Shape::Phrase => "phrase",
        }
    }
}

/// A caller the benchmark searches as.
#[derive(Clone)]
struct Reader {
    label: &'static str,
    /// Who this is, for the report.
    who: String,
    /// The simulated account, when the caller is one (only those can sign in over HTTP).
    account: Option<String>,
    principals: Vec<Principal>,
    visible: u64,
}

fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;
    runtime.block_on(run(args))
}

async fn run(args: Args) -> anyhow::Result<()> {
    let temporary = args.data.is_none();
    let data_dir = args.data.clone().unwrap_or_else(|| {
        std::env::temp_dir().join(format!(
            "permdex-bench-{}-{:08x}",
            std::process::id(),
            rand::random::<u32>()
        ))
    });
    let started = Instant::now();
    eprintln!(
        "simulating and syncing (seed {}, scale {:?}) into {}",
        args.seed,
        args.scale,
        data_dir.display()
    );
    let options = DemoOptions {
        sim: SimConfig::new(args.seed, args.scale),
        features: permdex::sim::DEFAULT_FEATURES,
        listen: SocketAddr::from(([127, 0, 0, 1], 0)),
        data_dir: data_dir.clone(),
        serve: ServeOptions::default(),
    };
    let demo = demo::start(options, &mut Silent).await.context("demo stack")?;
    eprintln!("synced and serving at {} after {:.1} s", demo.url, started.elapsed().as_secs_f64());

    let outcome = measure(&args, &demo).await;
    demo.shutdown().await;
    if temporary {
        let _ = std::fs::remove_dir_all(&data_dir);
    }
    outcome
}

async fn measure(args: &Args, demo: &RunningDemo) -> anyhow::Result<()> {
    let config = demo.config.clone();
    let reader = IndexReader::open(&index_dir(config.data_dir(), SOURCE))?;
    let searcher = reader.searcher().clone();
    let fields = *reader.fields();
    let index = reader.index().clone();
    let service = SearchService::new(reader);
    let indexes = Indexes::open(&config);
    let doc_count = searcher.num_docs();

    let accounts: Vec<String> = {
        let site = demo.sim.state.read();
        site.users.iter().filter(|u| u.active).map(|u| u.account_id.clone()).collect()
    };
    let visible = |principals: &[Principal]| -> anyhow::Result<u64> {
        let caller = service.acl().caller(principals.iter());
        let browse =
            SearchRequest { page: PageRequest::Offset { offset: 0, limit: 1 }, ..SearchRequest::new("") };
        Ok(service.search(&caller, &browse)?.total)
    };
    let mut users = Vec::new();
    for account in &accounts {
        let principals =
            indexes.principals(account).and_then(|p| p.0.get(SOURCE).cloned()).unwrap_or_default();
        let visible = visible(&principals)?;
        if visible > 0 {
            users.push(Reader {
                label: "",
                who: account.clone(),
                account: Some(account.clone()),
                principals,
                visible,
            });
        }
    }
    let mut readers = pick_readers(&users, doc_count, args.some_share)?;
    if !readers.iter().any(|r| r.label == "few") {
        // Every simulated account reads too much: measure the sparse path with one principal alone (a group,
        // or an account without its groups), the one reading the most under 1%: a caller the library can
        // search as but no account signs in as.
        let singles: BTreeSet<Principal> = users
            .iter()
            .flat_map(|u| {
                u.principals.iter().filter(|p| matches!(p, Principal::Group(_) | Principal::User(_))).cloned()
            })
            .collect();
        let mut best: Option<Reader> = None;
        for group in singles {
            let principals = vec![group.clone()];
            let n = visible(&principals)?;
            if n > 0 && (n as f64) < 0.01 * doc_count as f64 && best.as_ref().is_none_or(|b| n > b.visible) {
                let who = format!("{group:?} alone (no account)");
                best = Some(Reader { label: "few", who, account: None, principals, visible: n });
            }
        }
        readers.extend(best);
    }
    println!(
        "\n## Site: seed {}, scale {:?}: {} documents in {} segments, {} active users reading something\n",
        args.seed,
        args.scale,
        doc_count,
        searcher.segment_readers().len(),
        users.len()
    );
    for r in &readers {
        println!(
            "- {}: {} reads {} documents ({:.2}%)",
            r.label,
            r.who,
            r.visible,
            share(r.visible, doc_count)
        );
    }

    let queries = draw_queries(&searcher, fields.title, args.seed, args.queries)?;
    let builder = QueryBuilder::new(&index, fields)?;

    println!(
        "\n## Library, p50 / p99 µs per search (top {PAGE}, the page's hits built with highlighted titles)\n"
    );
    println!("| shape | unfiltered top-k | unfiltered top-k + count | {} |", readers_header(&readers));
    println!("|---|---|---|{}", "---|".repeat(readers.len()));
    for shape in Shape::ALL {
        let texts: Vec<&str> = queries.iter().filter(|(s, _)| *s == shape).map(|(_, q)| q.as_str()).collect();
        let top_only =
            time_rounds(args.rounds, &texts, |q| unfiltered(&searcher, &fields, &builder, q, false))?;
        let with_count =
            time_rounds(args.rounds, &texts, |q| unfiltered(&searcher, &fields, &builder, q, true))?;
        let mut cells = Vec::new();
        for r in &readers {
            let caller = service.acl().caller(r.principals.iter());
            let filtered = time_rounds(args.rounds, &texts, |q| {
                service.search(&caller, &SearchRequest::new(q)).map(|_| ()).map_err(anyhow::Error::from)
            })?;
            cells.push(format!(
                "{} ({:.2}×)",
                filtered.cell(),
                filtered.p50() as f64 / with_count.p50().max(1) as f64
            ));
        }
        println!(
            "| {} | {} | {} | {} |",
            shape.name(),
            top_only.cell(),
            with_count.cell(),
            cells.join(" | ")
        );
    }
    println!("\n(×: filtered p50 over unfiltered top-k + count p50)");

    if args.no_http {
        return Ok(());
    }
    let key = config.server().jwt().context("the demo configures a JWT key")?;
    let paths: Vec<String> = queries
        .iter()
        .map(|(_, q)| {
            format!("/api/v1/search?limit={PAGE}&q={}", percent_encoding::utf8_percent_encode(q, QUERY))
        })
        .collect();
    let tool = if which("wrk").is_some() { "wrk" } else { "built-in closed-loop client" };
    println!("\n## HTTP through `{tool}`, all shapes mixed: p50 / p99 µs, requests/s\n");
    println!("| user | 1 connection | {} connections |", args.connections);
    println!("|---|---|---|");
    for r in &readers {
        let Some(account) = &r.account else {
            println!("| {} ({:.2}%) | no account to sign in as | |", r.label, share(r.visible, doc_count));
            continue;
        };
        let token =
            mint_token(key, &AccountId::parse(account)?, Duration::from_secs(3600), chrono::Utc::now())?;
        check_paths(&demo.url, &token, &paths).await?;
        let mut cells = Vec::new();
        for connections in [1, args.connections] {
            let load =
                Load { url: &demo.url, token: &token, paths: &paths, connections, seconds: args.seconds };
            let result =
                if tool == "wrk" { load.wrk(demo.config.data_dir())? } else { load.built_in().await? };
            cells.push(format!("{} / {} µs, {:.0}/s", result.p50_us, result.p99_us, result.rps));
        }
        println!("| {} ({:.2}%) | {} |", r.label, share(r.visible, doc_count), cells.join(" | "));
    }
    Ok(())
}

/// Characters escaped in a query string value.
const QUERY: &percent_encoding::AsciiSet =
    &percent_encoding::NON_ALPHANUMERIC.remove(b'-').remove(b'_').remove(b'.').remove(b'~');

fn share(visible: u64, total: u64) -> f64 {
    100.0 * visible as f64 / total.max(1) as f64
}

fn readers_header(readers: &[Reader]) -> String {
    readers.iter().map(|r| format!("filtered, {} reader", r.label)).collect::<Vec<_>>().join(" | ")
}

/// The user reading the most, the one closest to `some` of the documents, and the one reading the most
/// while still under 1%, if there is one.
fn pick_readers(users: &[Reader], total: u64, some: f64) -> anyhow::Result<Vec<Reader>> {
    let Some(most) = users.iter().max_by_key(|r| (r.visible, std::cmp::Reverse(r.who.clone()))) else {
        bail!("no user may read anything");
    };
    let target = some * total as f64;
    let closest = users
        .iter()
        .min_by(|a, b| (a.visible as f64 - target).abs().total_cmp(&(b.visible as f64 - target).abs()))
        .unwrap_or(most);
    let few = users
        .iter()
        .filter(|r| (r.visible as f64) < 0.01 * total as f64)
        .max_by_key(|r| (r.visible, std::cmp::Reverse(r.who.clone())));
    let mut out = vec![Reader { label: "most", ..most.clone() }, Reader { label: "some", ..closest.clone() }];
    if let Some(few) = few {
        out.push(Reader { label: "few", ..few.clone() });
    }
    Ok(out)
}

/// Queries drawn from the titles of random documents, `per_shape` of each shape.
fn draw_queries(
    searcher: &Searcher,
    title: tantivy::schema::Field,
    seed: u64,
    per_shape: usize,
) -> anyhow::Result<Vec<(Shape, String)>> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed ^ 0x5eed);
    let segments = searcher.segment_readers();
    let mut out = Vec::new();
    let mut seen = BTreeSet::new();
    let mut attempts = 0;
    while out.len() < per_shape * Shape::ALL.len() {
        attempts += 1;
        if attempts > per_shape * 400 {
            bail!("the index has too few distinct titles to draw {per_shape} queries of each shape");
        }
        let ord = rng.gen_range(0..segments.len());
        let max = segments[ord].max_doc();
        if max == 0 {
            continue;
        }
        let address = DocAddress::new(ord as u32, rng.gen_range(0..max));
        let doc: TantivyDocument = searcher.doc(address)?;
        let Some(text) = doc.get_first(title).and_then(|v| v.as_str().map(str::to_owned)) else { continue };
        let words: Vec<String> = text
            .split(|c: char| !c.is_alphanumeric())
            .filter(|w| w.len() >= 4 && w.chars().all(char::is_alphabetic))
            .map(str::to_lowercase)
            .collect();
        if words.len() < 2 {
            continue;
        }
        let shape = Shape::ALL[out.len() % Shape::ALL.len()];
        let i = rng.gen_range(0..words.len() - 1);
        let query = match shape {
            Shape::Word => words[i].clone(),
            Shape::Or => {
                let other = words.choose(&mut rng).cloned().unwrap_or_default();
                format!("{} OR {}", words[i], other)
            }
            Shape::And => {
                let other = words.choose(&mut rng).cloned().unwrap_or_default();
                format!("{} AND {}", words[i], other)
            }
            Shape::Phrase => format!("\"{} {}\"", words[i], words[i + 1]),
        };
        if seen.insert(query.clone()) {
            out.push((shape, query));
        }
    }
    Ok(out)
}

/// The same query, no ACL: top-k by score (block-WAND), with or without an exact count, and the page's
/// hits built from the stored documents exactly as the filtered path builds them.
fn unfiltered(
    searcher: &Searcher,
    fields: &Fields,
    builder: &QueryBuilder,
    text: &str,
    count: bool,
) -> anyhow::Result<()> {
    let ast = query::read(text)?;
    let query = builder.build(&ast);
    let top = TopDocs::with_limit(PAGE).order_by_score();
    let page = if count {
        let (page, total) = searcher.search(query.as_ref(), &(top, Count))?;
        std::hint::black_box(total);
        page
    } else {
        searcher.search(query.as_ref(), &top)?
    };
    let mut highlighter = Highlighter::new(searcher, query.as_ref(), fields.title, fields.body)?;
    let mut hits = Vec::with_capacity(page.len());
    for (score, address) in page {
        let doc: TantivyDocument = searcher.doc(address)?;
        hits.push(hit_from_stored(fields, &doc, &mut highlighter, false, score));
    }
    std::hint::black_box(hits);
    Ok(())
}

struct Timings(Vec<u64>);

impl Timings {
    fn at(&self, q: f64) -> u64 {
        let i = ((self.0.len() as f64 - 1.0) * q).round() as usize;
        self.0.get(i).copied().unwrap_or(0)
    }

    fn p50(&self) -> u64 {
        self.at(0.5)
    }

    fn cell(&self) -> String {
        format!("{} / {}", self.p50(), self.at(0.99))
    }
}

/// One warm-up round, then `rounds` timed rounds over `queries`: µs per search, sorted.
fn time_rounds(
    rounds: usize,
    queries: &[&str],
    mut search: impl FnMut(&str) -> anyhow::Result<()>,
) -> anyhow::Result<Timings> {
    for q in queries {
        search(q)?;
    }
    let mut micros = Vec::with_capacity(rounds * queries.len());
    for _ in 0..rounds {
        for q in queries {
            let start = Instant::now();
            search(q)?;
            micros.push(start.elapsed().as_micros() as u64);
        }
    }
    micros.sort_unstable();
    Ok(Timings(micros))
}

/// Every path answers 200 for this user before any load is measured.
async fn check_paths(base: &str, token: &str, paths: &[String]) -> anyhow::Result<()> {
    let client = reqwest::Client::new();
    for path in paths {
        let response = client.get(format!("{base}{path}")).bearer_auth(token).send().await?;
        if !response.status().is_success() {
            bail!("{path} answered {}", response.status());
        }
    }
    Ok(())
}

struct Load<'a> {
    url: &'a str,
    token: &'a str,
    paths: &'a [String],
    connections: usize,
    seconds: u64,
}

struct LoadResult {
    p50_us: u64,
    p99_us: u64,
    rps: f64,
}

impl Load<'_> {
    /// Runs wrk with a script that cycles through the paths. The token goes into the script file (mode
    /// 0600), never onto wrk's command line.
    fn wrk(&self, dir: &Path) -> anyhow::Result<LoadResult> {
        let script = dir.join("bench-wrk.lua");
        let list: Vec<String> = self.paths.iter().map(|p| format!("  {p:?},")).collect();
        let text = format!(
            "local paths = {{\n{}\n}}\nlocal i = 0\nrequest = function()\n  i = i % #paths + 1\n  \
             return wrk.format(\"GET\", paths[i], {{ [\"Authorization\"] = \"Bearer {}\" }})\nend\n",
            list.join("\n"),
            self.token
        );
        demo::write_private(&script, &text)?;
        let threads = self.connections.min(2);
        let output = Command::new("wrk")
            .arg(format!("-t{threads}"))
            .arg(format!("-c{}", self.connections))
            .arg(format!("-d{}s", self.seconds))
            .arg("--latency")
            .arg("-s")
            .arg(&script)
            .arg(self.url)
            .output()
            .context("running wrk")?;
        let _ = std::fs::remove_file(&script);
        let text = String::from_utf8_lossy(&output.stdout);
        if !output.status.success() {
            bail!("wrk failed: {}", String::from_utf8_lossy(&output.stderr));
        }
        if let Some(line) = text.lines().find(|l| l.contains("Non-2xx")) {
            bail!("wrk saw failed requests: {}", line.trim());
        }
        let percentile = |p: &str| -> anyhow::Result<u64> {
            let line = text
                .lines()
                .find(|l| l.trim_start().starts_with(p))
                .with_context(|| format!("no {p} line in wrk's output:\n{text}"))?;
            parse_duration_us(line.split_whitespace().nth(1).unwrap_or(""))
        };
        let rps = text
            .lines()
            .find_map(|l| l.strip_prefix("Requests/sec:"))
            .and_then(|v| v.trim().parse::<f64>().ok())
            .with_context(|| format!("no Requests/sec in wrk's output:\n{text}"))?;
        Ok(LoadResult { p50_us: percentile("50%")?, p99_us: percentile("99%")?, rps })
    }

    /// `connections` tasks, each sending its next request as soon as the last one answered.
    async fn built_in(&self) -> anyhow::Result<LoadResult> {
        let client = reqwest::Client::new();
        let deadline = Instant::now() + Duration::from_secs(self.seconds);
        let paths: Arc<Vec<String>> = Arc::new(self.paths.to_vec());
        let mut tasks = Vec::new();
        for c in 0..self.connections {
            let (client, paths, url, token) =
                (client.clone(), paths.clone(), self.url.to_owned(), self.token.to_owned());
            tasks.push(tokio::spawn(async move {
                let mut micros = Vec::new();
                let mut i = c;
                while Instant::now() < deadline {
                    let path = &paths[i % paths.len()];
                    i += 1;
                    let start = Instant::now();
                    let response = client.get(format!("{url}{path}")).bearer_auth(&token).send().await?;
                    let status = response.status();
                    response.bytes().await?;
                    if !status.is_success() {
                        bail!("{path} answered {status}");
                    }
                    micros.push(start.elapsed().as_micros() as u64);
                }
                Ok(micros)
            }));
        }
        let started = Instant::now();
        let mut all = Vec::new();
        for task in tasks {
            all.extend(task.await??);
        }
        let elapsed = started.elapsed().as_secs_f64();
        all.sort_unstable();
        let timings = Timings(all);
        Ok(LoadResult {
            p50_us: timings.p50(),
            p99_us: timings.at(0.99),
            rps: timings.0.len() as f64 / elapsed,
        })
    }
}

/// wrk prints durations as `635.91us`, `1.01ms` or `2.00s`.
fn parse_duration_us(text: &str) -> anyhow::Result<u64> {
    let (number, scale) = if let Some(n) = text.strip_suffix("us") {
        (n, 1.0)
    } else if let Some(n) = text.strip_suffix("ms") {
        (n, 1e3)
    } else if let Some(n) = text.strip_suffix('s') {
        (n, 1e6)
    } else {
        bail!("unknown duration {text:?} in wrk's output");
    };
    Ok((number.parse::<f64>().with_context(|| format!("duration {text:?}"))? * scale).round() as u64)
}

fn which(program: &str) -> Option<PathBuf> {
    std::env::var_os("PATH")
        .and_then(|paths| std::env::split_paths(&paths).map(|d| d.join(program)).find(|p| p.is_file()))
}

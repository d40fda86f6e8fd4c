//! `permdex bench site`: the real pipeline under load. A simulated site is crawled into an index by a full
//! sync, served by the query server on loopback, and searched as three of its users: the one who reads the
//! most, the one closest to a chosen share, and one who reads under 1% (when no account does, a single
//! principal of one, searched in the library only: no account signs in as it).
//!
//! Correctness first: for every account measured, the search API's total for the empty query must equal
//! what the simulator's oracle lets that account read, and every hit of every timed library search must be
//! a document the oracle lets the caller read. Then the library: each query of each shape, as each reader,
//! through permdex's search service and through tantivy unfiltered (top-k with an exact count), in
//! interleaved rounds. Then HTTP: the built-in load generator ([`super::load`]) against
//! `GET /api/v1/search` with a signed token, at each connection count.
//!
//! Writes `site.json` and `site.md` to the output directory. Nothing here asserts a time.

use std::collections::{BTreeSet, HashSet};
use std::fmt::Write as _;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use tantivy::schema::Value;
use tantivy::{DocAddress, TantivyDocument};

use super::load::{Load, Until};
use super::queries::{BenchQuery, Shape};
use super::report::{load_average, run_line, Cell, Commit, Machine, Summary};
use super::strategy::{self, BenchCaller, StrategyName};
use super::{Error, Progress};
use crate::acl::Principal;
use crate::config::AccountId;
use crate::demo::{self, DemoOptions, RunningDemo, SOURCE};
use crate::index::IndexReader;
use crate::search::{PageRequest, SearchRequest, SearchService};
use crate::server::auth::{mint_token, Callers};
use crate::server::backend::Indexes;
use crate::server::backend::ServeOptions;
use crate::sim::oracle::{visible, Scope};
use crate::sim::{Scale, SimConfig};
use crate::sync::{index_dir, Silent, SyncOptions};

/// Hits per page.
const PAGE: usize = 20;
/// The shapes drawn from the site's titles.
const SHAPES: [Shape; 4] = [Shape::Word, Shape::Or, Shape::And, Shape::Phrase];

/// What to run.
#[derive(Debug, Clone)]
pub struct SiteBench {
    pub seed: u64,
    pub scale: Scale,
    pub per_shape: usize,
    pub rounds: usize,
    /// Share of documents the "some" reader should read.
    pub some_share: f64,
    /// How long each HTTP load runs.
    pub load: Until,
    pub connections: Vec<usize>,
    pub out: PathBuf,
    /// How the site is synced (the extraction worker, above all).
    pub sync: SyncOptions,
}

#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct SiteResult {
    pub tool: String,
    pub version: String,
    pub started: String,
    pub seconds: f64,
    pub machine: Machine,
    pub commit: Option<Commit>,
    pub seed: u64,
    pub scale: String,
    pub documents: u64,
    pub segments: usize,
    pub sync_seconds: f64,
    pub readers: Vec<Reader>,
    pub queries: Vec<BenchQuery>,
    /// Library searches checked against the oracle (no hit the caller may not read).
    pub answers_checked: u64,
    /// One thread, per strategy (unfiltered, permdex), shape and reader.
    pub library: Vec<Cell>,
    /// Over HTTP, all shapes mixed, per reader; `threads` is the number of connections.
    pub http: Vec<Cell>,
}

/// A caller of the site bench.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Reader {
    /// `most`, `some` or `few`.
    pub label: String,
    pub who: String,
    /// The account, when the reader is one (only accounts sign in over HTTP).
    pub account: Option<String>,
    pub visible: u64,
    pub share: f64,
    /// The oracle's count for the account, equal to the search API's total.
    pub oracle_visible: Option<u64>,
    #[serde(skip)]
    pub principals: Vec<Principal>,
}

pub async fn run(bench: &SiteBench, progress: &mut dyn Progress) -> Result<SiteResult, Error> {
    if bench.per_shape == 0 || bench.rounds == 0 || bench.connections.contains(&0) {
        return Err(Error::Parameter("queries, rounds and connections must be at least 1".into()));
    }
    std::fs::create_dir_all(&bench.out).map_err(Error::io(&bench.out))?;
    let data_dir = bench.out.join("site-data");
    if data_dir.exists() {
        return Err(Error::Parameter(format!(
            "{} exists (from an earlier run?): remove it or choose another --out",
            data_dir.display()
        )));
    }
    let started = Instant::now();
    let started_at = chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    let load_start = load_average();
    progress.stage("simulating and syncing the site", 1);
    let options = DemoOptions {
        sim: SimConfig::new(bench.seed, bench.scale),
        features: crate::sim::DEFAULT_FEATURES,
        listen: SocketAddr::from(([127, 0, 0, 1], 0)),
        data_dir: data_dir.clone(),
        serve: ServeOptions { sync: bench.sync.clone(), ..ServeOptions::default() },
    };
    let demo = demo::start(options, &mut Silent).await.map_err(|e| Error::Site(e.to_string()))?;
    let sync_seconds = started.elapsed().as_secs_f64();
    progress.advance(1);
    let outcome = measure(bench, &demo, sync_seconds, progress).await;
    demo.shutdown().await;
    // Best effort: a leftover data directory wastes disk but spoils nothing.
    let _ = std::fs::remove_dir_all(&data_dir);
    let mut result = outcome?;
    result.started = started_at;
    result.seconds = started.elapsed().as_secs_f64();
    result.machine.load_start = load_start;
    result.machine.load_end = load_average();
    let json_path = bench.out.join("site.json");
    let json = serde_json::to_string_pretty(&result)
        .map_err(|source| Error::Json { path: json_path.clone(), source })?;
    std::fs::write(&json_path, json).map_err(Error::io(&json_path))?;
    let md_path = bench.out.join("site.md");
    std::fs::write(&md_path, result.markdown()).map_err(Error::io(&md_path))?;
    Ok(result)
}

async fn measure(
    bench: &SiteBench,
    demo: &RunningDemo,
    sync_seconds: f64,
    progress: &mut dyn Progress,
) -> Result<SiteResult, Error> {
    let config = demo.config.clone();
    let dir = index_dir(config.data_dir(), SOURCE);
    let reader = IndexReader::open(&dir)?;
    let documents = reader.doc_count();
    let segments = reader.searcher().segment_readers().len();
    let service = SearchService::new(IndexReader::open(&dir)?);
    let visible_count = |principals: &[Principal]| -> Result<u64, Error> {
        let caller = service.acl().caller(principals.iter());
        let browse =
            SearchRequest { page: PageRequest::Offset { offset: 0, limit: 1 }, ..SearchRequest::new("") };
        Ok(service.search(&caller, &browse)?.total)
    };

    let accounts: Vec<String> = {
        let site = demo.sim.state.read();
        site.users.iter().filter(|u| u.active).map(|u| u.account_id.clone()).collect()
    };
    let indexes = Indexes::open(&config);
    let mut users = Vec::new();
    for account in &accounts {
        let principals =
            indexes.principals(account).and_then(|p| p.0.get(SOURCE).cloned()).unwrap_or_default();
        let visible = visible_count(&principals)?;
        if visible > 0 {
            users.push(Reader {
                label: String::new(),
                who: account.clone(),
                account: Some(account.clone()),
                visible,
                share: visible as f64 / documents.max(1) as f64,
                oracle_visible: None,
                principals,
            });
        }
    }
    let mut readers = pick_readers(&users, documents, bench.some_share)?;
    if !readers.iter().any(|r| r.label == "few") {
        // No account reads under 1%: one principal alone, the one reading the most under 1%.
        let singles: BTreeSet<Principal> = users
            .iter()
            .flat_map(|u| {
                u.principals.iter().filter(|p| matches!(p, Principal::Group(_) | Principal::User(_))).cloned()
            })
            .collect();
        let mut best: Option<Reader> = None;
        for principal in singles {
            let principals = vec![principal.clone()];
            let n = visible_count(&principals)?;
            if n > 0 && (n as f64) < 0.01 * documents as f64 && best.as_ref().is_none_or(|b| n > b.visible) {
                best = Some(Reader {
                    label: "few".into(),
                    who: format!("{principal:?} alone (no account)"),
                    account: None,
                    visible: n,
                    share: n as f64 / documents.max(1) as f64,
                    oracle_visible: None,
                    principals,
                });
            }
        }
        readers.extend(best);
    }

    // Correctness first: each account's total through the API is the oracle's count.
    let scope = Scope { include_archived: config.sources().first().is_some_and(|s| s.include_archived()) };
    let key = config.server().jwt().ok_or_else(|| Error::Site("the demo configures no JWT key".into()))?;
    let allowed: Vec<Option<HashSet<String>>> = {
        let site = demo.sim.state.read();
        readers
            .iter()
            .map(|r| {
                r.account.as_ref().map(|a| visible(&site, a, scope).iter().map(|d| d.to_string()).collect())
            })
            .collect()
    };
    let mut tokens: Vec<Option<String>> = Vec::new();
    let http = reqwest::Client::new();
    for (r, ids) in readers.iter_mut().zip(&allowed) {
        let (Some(account), Some(ids)) = (r.account.clone(), ids) else {
            tokens.push(None);
            continue;
        };
        let account_id =
            AccountId::parse(&account).map_err(|e| Error::Site(format!("account {account}: {e}")))?;
        let token = mint_token(key, &account_id, Duration::from_secs(3600), chrono::Utc::now())
            .map_err(|e| Error::Site(format!("token: {e}")))?;
        let total = api_total(&http, &demo.url, &token).await?;
        if total != ids.len() as u64 {
            return Err(Error::WrongAnswer(format!(
                "the search API lets {account} read {total} documents, the oracle {}",
                ids.len()
            )));
        }
        r.oracle_visible = Some(ids.len() as u64);
        tokens.push(Some(token));
    }

    let queries = draw_queries(&reader, bench.seed, bench.per_shape)?;
    let unfiltered = strategy::open(StrategyName::Unfiltered, &dir, 1)?;
    let permdex = strategy::open(StrategyName::Permdex, &dir, 1)?;
    let callers: Vec<BenchCaller> = readers
        .iter()
        .map(|r| BenchCaller { label: r.label.clone(), principals: r.principals.clone(), tokens: Vec::new() })
        .collect();
    progress.stage("library searches", (SHAPES.len() * (bench.rounds + 1)) as u64);
    let mut library = Vec::new();
    let mut answers_checked = 0u64;
    for shape in SHAPES {
        let texts: Vec<&BenchQuery> = queries.iter().filter(|q| q.shape == shape).collect();
        // [0]: unfiltered; [1 + r]: permdex as reader r.
        let mut samples: Vec<Vec<f64>> = vec![Vec::new(); 1 + readers.len()];
        let mut walls = vec![0.0f64; 1 + readers.len()];
        for round in 0..=bench.rounds {
            let timed = round > 0;
            let started = Instant::now();
            for query in &texts {
                let t = Instant::now();
                unfiltered.search(&callers[0], query, PAGE)?;
                if timed {
                    samples[0].push(t.elapsed().as_secs_f64() * 1e6);
                }
            }
            walls[0] += started.elapsed().as_secs_f64();
            for (r, caller) in callers.iter().enumerate() {
                let started = Instant::now();
                for query in &texts {
                    let t = Instant::now();
                    let answer = permdex.search(caller, query, PAGE)?;
                    let micros = t.elapsed().as_secs_f64() * 1e6;
                    if let Some(ids) = &allowed[r] {
                        if let Some(hit) = answer.hits.iter().find(|h| !ids.contains(&h.id)) {
                            return Err(Error::WrongAnswer(format!(
                                "{} may not read {}, found for {:?}",
                                readers[r].who, hit.id, query.text
                            )));
                        }
                        answers_checked += 1;
                    }
                    if timed {
                        samples[1 + r].push(micros);
                    }
                }
                walls[1 + r] += started.elapsed().as_secs_f64();
            }
            progress.advance(1);
        }
        for (i, micros) in samples.into_iter().enumerate() {
            let (strategy, reader) = if i == 0 {
                (StrategyName::Unfiltered, None)
            } else {
                (StrategyName::Permdex, Some(&readers[i - 1]))
            };
            library.push(Cell {
                strategy,
                shape: Some(shape),
                caller: reader.map_or_else(|| "any".to_string(), |r| r.label.clone()),
                share: reader.map_or(1.0, |r| r.share),
                threads: 1,
                latency: Summary::of(micros, walls[i]),
            });
        }
    }

    let paths: Vec<String> = queries
        .iter()
        .map(|q| {
            format!("/api/v1/search?limit={PAGE}&q={}", percent_encoding::utf8_percent_encode(&q.text, QUERY))
        })
        .collect();
    let measured: Vec<usize> = (0..readers.len()).filter(|&r| tokens[r].is_some()).collect();
    progress.stage("HTTP load", (measured.len() * bench.connections.len()) as u64);
    let mut http_cells = Vec::new();
    for r in measured {
        let Some(token) = tokens[r].clone() else { continue };
        for &connections in &bench.connections {
            let load = Load {
                base: demo.url.trim_end_matches('/').to_string(),
                token: token.clone(),
                paths: paths.clone(),
                connections,
                until: bench.load,
            };
            http_cells.push(Cell {
                strategy: StrategyName::Permdex,
                shape: None,
                caller: readers[r].label.clone(),
                share: readers[r].share,
                threads: connections,
                latency: load.run().await?,
            });
            progress.advance(1);
        }
    }

    Ok(SiteResult {
        tool: "permdex bench site".into(),
        version: env!("CARGO_PKG_VERSION").into(),
        started: String::new(),
        seconds: 0.0,
        machine: Machine::detect(),
        commit: Commit::detect(),
        seed: bench.seed,
        scale: format!("{:?}", bench.scale).to_lowercase(),
        documents,
        segments,
        sync_seconds,
        readers,
        queries,
        answers_checked,
        library,
        http: http_cells,
    })
}

/// The search API's total for the empty query.
pub(super) async fn api_total(http: &reqwest::Client, base: &str, token: &str) -> Result<u64, Error> {
    let url = format!("{}/api/v1/search?q=&limit=1", base.trim_end_matches('/'));
    let response =
        http.get(&url).bearer_auth(token).send().await.map_err(|e| Error::Site(format!("GET {url}: {e}")))?;
    if !response.status().is_success() {
        return Err(Error::Site(format!("GET {url} answered {}", response.status())));
    }
    let body: serde_json::Value =
        response.json().await.map_err(|e| Error::Site(format!("GET {url}: {e}")))?;
    body["total"].as_u64().ok_or_else(|| Error::Site(format!("GET {url}: no total in the answer")))
}

/// Characters escaped in a query string value.
pub(super) const QUERY: &percent_encoding::AsciiSet =
    &percent_encoding::NON_ALPHANUMERIC.remove(b'-').remove(b'_').remove(b'.').remove(b'~');

/// The user reading the most, the one closest to `some` of the documents, and the one reading the most
/// while under 1%, if there is one.
fn pick_readers(users: &[Reader], total: u64, some: f64) -> Result<Vec<Reader>, Error> {
    let Some(most) = users.iter().max_by_key(|r| (r.visible, std::cmp::Reverse(r.who.clone()))) else {
        return Err(Error::Site("no user may read anything".into()));
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
    let labelled = |label: &str, r: &Reader| Reader { label: label.into(), ..r.clone() };
    let mut out = vec![labelled("most", most), labelled("some", closest)];
    out.extend(few.map(|r| labelled("few", r)));
    Ok(out)
}

/// Queries drawn from the titles of random documents, `per_shape` of each shape.
pub(super) fn draw_queries(
    reader: &IndexReader,
    seed: u64,
    per_shape: usize,
) -> Result<Vec<BenchQuery>, Error> {
    let searcher = reader.searcher();
    let title = reader.fields().title;
    let mut rng = ChaCha8Rng::seed_from_u64(seed ^ 0x5eed);
    let segments = searcher.segment_readers();
    let mut out = Vec::new();
    let mut seen = BTreeSet::new();
    let mut attempts = 0;
    while out.len() < per_shape * SHAPES.len() {
        attempts += 1;
        if attempts > per_shape * 400 || segments.is_empty() {
            return Err(Error::Site(format!(
                "the index has too few distinct titles to draw {per_shape} queries of each shape"
            )));
        }
        let ord = rng.gen_range(0..segments.len());
        let max = segments[ord].max_doc();
        if max == 0 {
            continue;
        }
        let doc: TantivyDocument = searcher.doc(DocAddress::new(ord as u32, rng.gen_range(0..max)))?;
        let Some(text) = doc.get_first(title).and_then(|v| v.as_str().map(str::to_owned)) else { continue };
        let words: Vec<String> = text
            .split(|c: char| !c.is_alphanumeric())
            .filter(|w| w.len() >= 4 && w.chars().all(char::is_alphabetic))
            .map(str::to_lowercase)
            .collect();
        if words.len() < 2 {
            continue;
        }
        let shape = SHAPES[out.len() % SHAPES.len()];
        let i = rng.gen_range(0..words.len() - 1);
        let other = words.choose(&mut rng).cloned().unwrap_or_default();
        let text = match shape {
            Shape::Or => format!("{} OR {other}", words[i]),
            Shape::And => format!("{} AND {other}", words[i]),
            Shape::Phrase => format!("\"{} {}\"", words[i], words[i + 1]),
            _ => words[i].clone(),
        };
        if seen.insert(text.clone()) {
            out.push(BenchQuery { shape, text });
        }
    }
    Ok(out)
}

impl SiteResult {
    pub fn markdown(&self) -> String {
        let mut out = String::new();
        let _ = self.write_markdown(&mut out);
        out
    }

    fn write_markdown(&self, out: &mut String) -> std::fmt::Result {
        writeln!(out, "# permdex bench site\n")?;
        writeln!(out, "{}\n", run_line(&self.tool, &self.machine, &self.version, self.commit.as_ref()))?;
        writeln!(
            out,
            "Site: seed {}, scale {}: {} documents in {} segments, synced in {:.1} s. {} library answers checked against the simulator's oracle; each account's total through the API equals the oracle's count.\n",
            self.seed, self.scale, self.documents, self.segments, self.sync_seconds, self.answers_checked
        )?;
        for r in &self.readers {
            writeln!(
                out,
                "- {}: {} reads {} documents ({:.2}%)",
                r.label,
                r.who,
                r.visible,
                r.share * 100.0
            )?;
        }
        writeln!(out, "\n## Library, p50 / p99 µs (top {PAGE}, hits built with highlighted titles)\n")?;
        write!(out, "| shape | unfiltered top-k + count |")?;
        for r in &self.readers {
            write!(out, " {} ({:.2}%) |", r.label, r.share * 100.0)?;
        }
        writeln!(out, "\n|---|---|{}", "---|".repeat(self.readers.len()))?;
        for shape in SHAPES {
            let cell = |strategy: StrategyName, caller: &str| {
                self.library
                    .iter()
                    .find(|c| c.strategy == strategy && c.shape == Some(shape) && c.caller == caller)
            };
            let Some(base) = cell(StrategyName::Unfiltered, "any") else { continue };
            write!(
                out,
                "| {} | {:.0} / {:.0} |",
                shape.describe(),
                base.latency.p50_us,
                base.latency.p99_us
            )?;
            for r in &self.readers {
                match cell(StrategyName::Permdex, &r.label) {
                    Some(c) => write!(
                        out,
                        " {:.0} / {:.0} ({:.2}×) |",
                        c.latency.p50_us,
                        c.latency.p99_us,
                        c.latency.p50_us / base.latency.p50_us.max(1e-9)
                    )?,
                    None => write!(out, " |")?,
                }
            }
            writeln!(out)?;
        }
        writeln!(out, "\n## HTTP, all shapes mixed (built-in load generator): p50 / p99 µs, requests/s\n")?;
        writeln!(out, "| reader | connections | p50 / p99 µs | requests/s |")?;
        writeln!(out, "|---|---|---|---|")?;
        for c in &self.http {
            writeln!(
                out,
                "| {} | {} | {:.0} / {:.0} | {:.0} |",
                c.caller, c.threads, c.latency.p50_us, c.latency.p99_us, c.latency.qps
            )?;
        }
        Ok(())
    }
}

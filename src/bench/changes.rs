//! What changes cost permdex: the first query of a principal set it has not seen, reloads after the index
//! changed shape, and permission changes committed while other searches run.
//!
//! Every query measured here is checked against a brute-force answer computed for the index and the model
//! as they are at that moment (a rewrite or a merge changes BM25 statistics, a permission change changes
//! who reads what).
//!
//! Permission changes go through the product's path: the ACL store is updated as a sync's permission
//! refresh would, committed with the index ([`Built::commit`]), and the search service reloads. A caller's
//! groups come from a directory kept in the commit's state, as the server takes them from the directory
//! synced with the index, so a membership change too takes effect through a commit and a reload. The time
//! to effect runs from the start of the commit to the end of the first search that shows the change; other
//! callers' searches keep running on another thread meanwhile, and their latency before and during the
//! change is reported.
//!
//! This file writes no report; `acl.rs` gathers what it returns.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use super::build::Built;
use super::callers::Caller;
use super::clock::Clock;
use super::corpus::{CallerSet, Clause, Corpus, Who};
use super::oracle::{check, Oracle};
use super::queries::{BenchQuery, Shape};
use super::report::{Cold, FirstQuery, PermissionChange, Reload, Summary};
use super::strategy::{BenchCaller, Permdex, Strategy, StrategyName};
use super::{Error, Progress};
use crate::index::{IndexReader, Product};
use crate::search::SearchService;

/// Fresh services each first query is measured on; the median counts.
const COLD_REPEATS: usize = 3;

/// Documents a space permission change should cover.
const SPACE_CHANGE_DOCS: u64 = 100_000;

/// The benchmark's callers and queries, and the warm medians to compare with.
pub struct Context<'a> {
    pub dir: &'a Path,
    pub callers: &'a [Caller],
    pub queries: &'a [BenchQuery],
    pub k: usize,
    /// permdex's warm one-thread p50 for (caller label, shape).
    pub warm_p50: &'a dyn Fn(&str, Shape) -> f64,
    /// What first queries are timed in (time-to-effect is always wall time).
    pub clock: Clock,
}

impl Context<'_> {
    fn first_query(&self, shape: Shape) -> Option<&BenchQuery> {
        self.queries.iter().find(|q| q.shape == shape)
    }

    /// Searches as `who` through `service` and checks the answer against `model` and the index as it is.
    fn probe(
        &self,
        service: &SearchService,
        model: &Corpus,
        who: &[Who],
        query: &BenchQuery,
    ) -> Result<Probed, Error> {
        let permdex = Permdex::new(StrategyName::Permdex, service.clone());
        let caller = bench_caller("probe", who);
        let started = self.clock.start();
        let answer = permdex.search(&caller, query, self.k)?;
        let finished = Instant::now();
        let micros = started.micros();
        let reader = IndexReader::open(self.dir)?;
        let oracle = Oracle::new(model, &reader)?;
        let visible = model.visible_profiles(&CallerSet::new(model, who));
        let expected =
            oracle.expected(model, Some(&visible), &oracle.matches(query)?, self.k, query.shape.by_updated());
        let verdict = check(&expected, &answer, self.k, true, query.shape.facets());
        Ok(Probed { micros, finished, verdict })
    }
}

/// One probe search: how long it took, when it ended, and whether its answer was right.
struct Probed {
    micros: f64,
    finished: Instant,
    verdict: Result<(), String>,
}

pub fn bench_caller(label: &str, who: &[Who]) -> BenchCaller {
    BenchCaller {
        label: label.to_string(),
        principals: who.iter().map(|w| w.principal()).collect(),
        tokens: who.iter().map(|w| w.token()).collect(),
    }
}

/// For each caller and shape: a search service that has served someone else (so its columns and the page
/// cache are warm) answers the caller's first query; the median of `COLD_REPEATS` such services.
pub fn cold_queries(
    context: &Context,
    model: &Corpus,
    progress: &mut dyn Progress,
) -> Result<Vec<Cold>, Error> {
    let shapes: Vec<Shape> = Shape::ALL.into_iter().filter(|s| context.first_query(*s).is_some()).collect();
    progress.stage("first queries of new callers", (context.callers.len() * shapes.len()) as u64);
    let mut out = Vec::new();
    for caller in context.callers {
        for &shape in &shapes {
            let Some(query) = context.first_query(shape) else { continue };
            let mut times = Vec::with_capacity(COLD_REPEATS);
            let (mut bytes, mut entries) = (0, 0);
            for _ in 0..COLD_REPEATS {
                let service = SearchService::new(IndexReader::open(context.dir)?);
                context.probe(&service, model, &[Who::Anyone], query)?;
                let before = service.stats().acl_cache;
                let Probed { micros, verdict, .. } = context.probe(&service, model, &caller.who, query)?;
                verdict.map_err(|problem| wrong("a first query", &caller.label, query, &problem))?;
                let after = service.stats().acl_cache;
                (bytes, entries) =
                    (after.bytes.saturating_sub(before.bytes), after.entries.saturating_sub(before.entries));
                times.push(micros);
            }
            times.sort_by(f64::total_cmp);
            out.push(Cold {
                caller: caller.label.clone(),
                share: caller.share,
                shape,
                first_us: times[times.len() / 2],
                warm_p50_us: (context.warm_p50)(&caller.label, shape),
                cache_bytes: bytes,
                cache_entries: entries,
            });
            progress.advance(1);
        }
    }
    Ok(out)
}

fn wrong(what: &str, caller: &str, query: &BenchQuery, problem: &str) -> Error {
    Error::WrongAnswer(format!("{what} as {caller} for {:?}: {problem}", query.text))
}

/// A service that every caller has used, as a running server's would be.
fn warmed_service(context: &Context) -> Result<SearchService, Error> {
    let service = SearchService::new(IndexReader::open(context.dir)?);
    let permdex = Permdex::new(StrategyName::Permdex, service.clone());
    for caller in context.callers {
        let caller = bench_caller(&caller.label, &caller.who);
        for query in context.queries {
            permdex.search(&caller, query, context.k)?;
        }
    }
    Ok(service)
}

/// A commit that moves some documents to a new segment, then a merge of every segment into one; after
/// each, the reload and every caller's first query.
pub fn reloads(
    context: &Context,
    built: &mut Built,
    model: &Corpus,
    progress: &mut dyn Progress,
) -> Result<Vec<Reload>, Error> {
    progress.stage("reloads", 2);
    let service = warmed_service(context)?;
    let mut out = Vec::new();

    let rewritten = (model.alive_docs() / 100).clamp(1, 1000) as usize;
    let started = Instant::now();
    for n in (0..model.docs.len() as u32).filter(|n| !model.deleted[*n as usize]).take(rewritten) {
        built.rewrite(model, n)?;
    }
    built.commit(b"")?;
    out.push(reload_event(
        context,
        &service,
        model,
        format!("commit of {rewritten} rewritten documents (a new segment)"),
        started,
    )?);
    progress.advance(1);

    let started = Instant::now();
    let segments = built.writer.segment_ids()?;
    built.writer.merge(&segments)?;
    out.push(reload_event(
        context,
        &service,
        model,
        format!("merge of {} segments into one", segments.len()),
        started,
    )?);
    progress.advance(1);
    Ok(out)
}

fn reload_event(
    context: &Context,
    service: &SearchService,
    model: &Corpus,
    event: String,
    started: Instant,
) -> Result<Reload, Error> {
    let change_ms = started.elapsed().as_secs_f64() * 1e3;
    let reloading = Instant::now();
    service.reload()?;
    let reload_ms = reloading.elapsed().as_secs_f64() * 1e3;
    let segments_after = IndexReader::open(context.dir)?.searcher().segment_readers().len();
    let mut first_queries = Vec::new();
    if let Some(query) = context.first_query(Shape::Word) {
        for caller in context.callers {
            let Probed { micros, verdict, .. } = context.probe(service, model, &caller.who, query)?;
            verdict.map_err(|problem| {
                wrong(&format!("a first query after the {event}"), &caller.label, query, &problem)
            })?;
            first_queries.push(FirstQuery {
                caller: caller.label.clone(),
                micros,
                warm_p50_us: (context.warm_p50)(&caller.label, Shape::Word),
            });
        }
    }
    Ok(Reload { event, segments_after, change_ms, reload_ms, first_queries })
}

/// Other callers' searches, on a thread of their own, timed with the moment they ended.
struct Background {
    stop: Arc<AtomicBool>,
    samples: Arc<Mutex<Vec<(Instant, f64)>>>,
    handle: Option<std::thread::JoinHandle<Result<(), Error>>>,
}

impl Background {
    fn start(
        service: SearchService,
        callers: Vec<BenchCaller>,
        queries: Vec<BenchQuery>,
        k: usize,
    ) -> Background {
        let stop = Arc::new(AtomicBool::new(false));
        let samples = Arc::new(Mutex::new(Vec::new()));
        let handle = {
            let (stop, samples) = (stop.clone(), samples.clone());
            std::thread::spawn(move || {
                let permdex = Permdex::new(StrategyName::Permdex, service);
                let mut i = 0usize;
                while !stop.load(Ordering::Relaxed) && !callers.is_empty() && !queries.is_empty() {
                    let caller = &callers[i % callers.len()];
                    let query = &queries[(i / callers.len()) % queries.len()];
                    i += 1;
                    let started = Instant::now();
                    permdex.search(caller, query, k)?;
                    let micros = started.elapsed().as_secs_f64() * 1e6;
                    samples.lock().unwrap_or_else(|e| e.into_inner()).push((Instant::now(), micros));
                }
                Ok(())
            })
        };
        Background { stop, samples, handle: Some(handle) }
    }

    /// Waits until `n` searches have run (or a few seconds have passed).
    fn wait_for(&self, n: usize) {
        let deadline = Instant::now() + Duration::from_secs(5);
        while self.samples.lock().unwrap_or_else(|e| e.into_inner()).len() < n && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(5));
        }
    }

    /// Latencies of searches that ended in `[from, to]`.
    fn between(&self, from: Instant, to: Instant) -> Summary {
        let samples = self.samples.lock().unwrap_or_else(|e| e.into_inner());
        let micros: Vec<f64> =
            samples.iter().filter(|(at, _)| *at >= from && *at <= to).map(|(_, m)| *m).collect();
        Summary::of(micros, (to - from).as_secs_f64())
    }

    fn finish(mut self) -> Result<(), Error> {
        self.stop.store(true, Ordering::Relaxed);
        match self.handle.take().map(|h| h.join()) {
            Some(Ok(result)) => result,
            Some(Err(_)) => Err(Error::Parameter("the background search thread panicked".into())),
            None => Ok(()),
        }
    }
}

/// The directory kept in each commit's state: groups added to callers since the corpus was generated.
#[derive(Debug, Default, serde::Serialize, serde::Deserialize)]
struct Directory {
    added: BTreeMap<String, Vec<u32>>,
}

impl Directory {
    fn of(service: &SearchService) -> Directory {
        service.with_reader(|r| serde_json::from_slice(r.state()).unwrap_or_default())
    }

    fn principals(&self, caller: &Caller) -> Vec<Who> {
        let mut who = caller.who.clone();
        if let Some(groups) = self.added.get(&caller.label) {
            who.extend(groups.iter().map(|&g| Who::Group(g)));
        }
        who
    }

    fn bytes(&self) -> Vec<u8> {
        serde_json::to_vec(self).unwrap_or_default()
    }
}

/// A group membership change, a space permission change and one document re-pointed, in that order.
pub fn permission_changes(
    context: &Context,
    built: &mut Built,
    model: &mut Corpus,
    progress: &mut dyn Progress,
) -> Result<Vec<PermissionChange>, Error> {
    progress.stage("permission changes", 3);
    let Some(probe) = context.callers.iter().min_by(|a, b| a.share.total_cmp(&b.share)) else {
        return Ok(Vec::new());
    };
    let service = warmed_service(context)?;
    let others: Vec<BenchCaller> = context
        .callers
        .iter()
        .filter(|c| c.label != probe.label)
        .map(|c| bench_caller(&c.label, &c.who))
        .collect();
    let background_queries: Vec<BenchQuery> =
        context.queries.iter().filter(|q| q.shape != Shape::Browse).cloned().collect();
    let background = Background::start(service.clone(), others, background_queries, context.k);
    let browse = BenchQuery { shape: Shape::Browse, text: String::new() };
    let mut directory = Directory::default();
    let mut out = Vec::new();
    let result = (|| -> Result<(), Error> {
        // 1. The probe caller joins the smallest group that opens documents to it.
        let before = directory.principals(probe);
        let visible_before = visible_count(model, &before);
        let group = (0..model.params.groups)
            .filter(|g| !before.contains(&Who::Group(*g)))
            .map(|g| {
                let mut with = before.clone();
                with.push(Who::Group(g));
                (visible_count(model, &with), g)
            })
            .filter(|(n, _)| *n > visible_before)
            .min_by_key(|(n, g)| (*n, *g));
        if let Some((after, g)) = group {
            directory.added.entry(probe.label.clone()).or_default().push(g);
            let change = Change {
                name: format!("group membership: the {} caller joins group g{g}", probe.label),
                affected: after - visible_before,
                rewritten: 0,
                rival_rewrites: vec![(StrategyName::TermSet, 0), (StrategyName::ClauseSet, 0)],
            };
            out.push(apply(
                context,
                built,
                model,
                &service,
                &background,
                probe,
                &directory,
                &browse,
                change,
                |_, _| Ok(()),
            )?);
        }
        progress.advance(1);

        // 2. A group of the probe caller is granted the space closest to SPACE_CHANGE_DOCS documents it
        //    cannot read.
        let who = directory.principals(probe);
        let caller_set = CallerSet::new(model, &who);
        let alive = alive_per_container(model);
        let space = model
            .containers
            .iter()
            .enumerate()
            .filter(|(_, c)| c.product == Product::Confluence)
            .filter(|(_, c)| !model.clauses[c.clause as usize].members.iter().any(|w| caller_set.holds(*w)))
            .min_by_key(|(i, _)| alive[*i].abs_diff(SPACE_CHANGE_DOCS))
            .map(|(i, c)| (i, c.clause));
        let grantee = who
            .iter()
            .copied()
            .find(|w| matches!(w, Who::Group(_)))
            .or(who.iter().copied().find(|w| matches!(w, Who::User(_))));
        if let (Some((space, clause)), Some(grantee)) = (space, grantee) {
            let change = Change {
                name: format!(
                    "space permission: {} granted to {} ({} documents)",
                    model.containers[space].key,
                    grantee.token(),
                    alive[space]
                ),
                affected: alive[space],
                rewritten: 0,
                rival_rewrites: vec![(StrategyName::TermSet, alive[space]), (StrategyName::ClauseSet, 0)],
            };
            out.push(apply(
                context,
                built,
                model,
                &service,
                &background,
                probe,
                &directory,
                &browse,
                change,
                |built, model| {
                    model.clauses[clause as usize].members.push(grantee);
                    built.update_acl(model, &[clause]);
                    Ok(())
                },
            )?);
        }
        progress.advance(1);

        // 3. One document the probe caller reads gets a restriction that shuts it out.
        let who = directory.principals(probe);
        let caller_set = CallerSet::new(model, &who);
        let visible = model.visible_profiles(&caller_set);
        let target = (0..model.docs.len() as u32)
            .find(|&n| !model.deleted[n as usize] && visible[model.docs[n as usize].profile as usize]);
        let outsider = (0..model.params.groups).find(|g| !caller_set.holds(Who::Group(*g)));
        if let (Some(n), Some(outsider)) = (target, outsider) {
            let change = Change {
                name: format!("one document re-pointed: {} restricted to g{outsider}", model.doc_id(n)),
                affected: 1,
                rewritten: 1,
                rival_rewrites: vec![(StrategyName::TermSet, 1), (StrategyName::ClauseSet, 1)],
            };
            out.push(apply(
                context,
                built,
                model,
                &service,
                &background,
                probe,
                &directory,
                &browse,
                change,
                |built, model| {
                    model
                        .clauses
                        .push(Clause { key: format!("page:{n}:read"), members: vec![Who::Group(outsider)] });
                    let clause = model.clauses.len() as u32 - 1;
                    let mut profile = model.profiles[model.docs[n as usize].profile as usize].clone();
                    profile.push(clause);
                    model.profiles.push(profile);
                    model.docs[n as usize].profile = model.profiles.len() as u32 - 1;
                    built.update_acl(model, &[clause]);
                    built.rewrite(model, n)
                },
            )?);
        }
        progress.advance(1);
        Ok(())
    })();
    let stopped = background.finish();
    result?;
    stopped?;
    Ok(out)
}

struct Change {
    name: String,
    affected: u64,
    rewritten: u64,
    rival_rewrites: Vec<(StrategyName, u64)>,
}

/// Applies `edit` to the model and the index, commits with `directory`, reloads, and searches as the probe
/// caller until the answer shows the change (it must on the first search after the reload).
#[allow(clippy::too_many_arguments)]
fn apply(
    context: &Context,
    built: &mut Built,
    model: &mut Corpus,
    service: &SearchService,
    background: &Background,
    probe: &Caller,
    directory: &Directory,
    query: &BenchQuery,
    change: Change,
    edit: impl FnOnce(&mut Built, &mut Corpus) -> Result<(), Error>,
) -> Result<PermissionChange, Error> {
    let count = background.samples.lock().unwrap_or_else(|e| e.into_inner()).len();
    background.wait_for(count + 50);
    let window_start = Instant::now();
    let baseline_from = background
        .samples
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .get(count)
        .map_or(window_start, |(at, _)| *at);
    let background_before = background.between(baseline_from, window_start);

    let started = Instant::now();
    edit(built, model)?;
    built.commit(&directory.bytes())?;
    let commit_ms = started.elapsed().as_secs_f64() * 1e3;
    let reloading = Instant::now();
    service.reload()?;
    let reload_ms = reloading.elapsed().as_secs_f64() * 1e3;
    let mut verified = false;
    let mut effect = Instant::now();
    let deadline = Instant::now() + Duration::from_secs(10);
    while Instant::now() < deadline {
        // The caller's groups as the committed directory says.
        let who = Directory::of(service).principals(probe);
        let probed = context.probe(service, model, &who, query)?;
        effect = probed.finished;
        if probed.verdict.is_ok() {
            verified = true;
            break;
        }
    }
    let time_to_effect_ms = (effect - started).as_secs_f64() * 1e3;
    let background_during = background.between(started, effect);
    Ok(PermissionChange {
        change: change.name,
        documents_affected: change.affected,
        documents_rewritten: change.rewritten,
        rival_rewrites: change.rival_rewrites,
        commit_ms,
        reload_ms,
        time_to_effect_ms,
        verified,
        background_before,
        background_during,
    })
}

fn visible_count(model: &Corpus, who: &[Who]) -> u64 {
    let visible = model.visible_profiles(&CallerSet::new(model, who));
    model.alive_per_profile().iter().zip(&visible).filter(|(_, v)| **v).map(|(n, _)| n).sum()
}

fn alive_per_container(model: &Corpus) -> Vec<u64> {
    let mut out = vec![0u64; model.containers.len()];
    for (n, meta) in model.docs.iter().enumerate() {
        if !model.deleted[n] {
            out[meta.container as usize] += 1;
        }
    }
    out
}

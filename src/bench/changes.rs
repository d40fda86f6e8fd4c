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
use super::report::{Cold, ColdParts, FirstQuery, PermissionChange, Reload, Summary};
use super::strategy::{self, BenchCaller, Permdex, Strategy, StrategyName};
use super::{Error, Progress};
use crate::index::{IndexReader, Product};
use crate::search::{PageRequest, Plan, SearchRequest, SearchService};

/// Fresh services each first query (and its parts, and unfiltered search's) is measured on; the median
/// counts.
const COLD_REPEATS: usize = 3;

/// Documents a space permission change should cover.
const SPACE_CHANGE_DOCS: u64 = 100_000;

/// The benchmark's callers and queries, and the warm medians to compare with.
pub struct Context<'a> {
    pub dir: &'a Path,
    pub callers: &'a [Caller],
    pub queries: &'a [BenchQuery],
    pub k: usize,
    /// A strategy's warm one-thread p50 for (caller label, shape); NaN when not measured.
    pub warm_p50: &'a dyn Fn(StrategyName, &str, Shape) -> f64,
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
        let wall = Instant::now();
        let started = self.clock.start();
        let answer = permdex.search(&caller, query, self.k)?;
        let micros = started.micros();
        let finished = Instant::now();
        let wall_micros = (finished - wall).as_secs_f64() * 1e6;
        let reader = IndexReader::open(self.dir)?;
        let oracle = Oracle::new(model, &reader)?;
        let visible = model.visible_profiles(&CallerSet::new(model, who));
        let expected =
            oracle.expected(model, Some(&visible), &oracle.matches(query)?, self.k, query.shape.by_updated());
        let verdict = check(&expected, &answer, self.k, true, query.shape.facets());
        let ids = answer.hits.into_iter().map(|h| h.id).collect();
        Ok(Probed { micros, wall_micros, finished, verdict, ids })
    }
}

/// One probe search: how long it took (in the context's clock and in wall time), when it ended, whether
/// its answer was right, and the ids of its page.
struct Probed {
    micros: f64,
    wall_micros: f64,
    finished: Instant,
    verdict: Result<(), String>,
    ids: Vec<String>,
}

pub fn bench_caller(label: &str, who: &[Who]) -> BenchCaller {
    BenchCaller {
        label: label.to_string(),
        principals: who.iter().map(|w| w.principal()).collect(),
        tokens: who.iter().map(|w| w.token()).collect(),
    }
}

/// For each caller and shape, the caller's first query on a search service just opened on the index (a new
/// reader, as after a reload or a merge) that has then served the widest other caller one query of each
/// other shape, with texts other than the measured one, as a running server's reader would have: its
/// segment readers, columns and term dictionaries are open and the OS page cache is warm. What is not
/// warm is what belongs to this caller and this query: the caller's profiles and allowed sets, and the
/// stored-document blocks of its page (the doc store's block cache holds the other caller's pages).
///
/// Per (caller, shape), on fresh services each time, the median of `COLD_REPEATS` of: the whole first
/// query (checked against brute force; in the context's clock and in wall time), the same query's parts
/// taken one by one in the order a search takes them, and unfiltered search's first query on the same
/// kind of fresh reader (what any engine pays for a query after a reload).
pub fn cold_queries(
    context: &Context,
    model: &Corpus,
    progress: &mut dyn Progress,
) -> Result<Vec<Cold>, Error> {
    let shapes: Vec<Shape> = Shape::ALL.into_iter().filter(|s| context.first_query(*s).is_some()).collect();
    progress.stage("first queries of new callers", (context.callers.len() * shapes.len()) as u64);
    let mut out = Vec::new();
    for caller in context.callers {
        let Some(warmer) = widest_other(context.callers, caller) else { continue };
        let warmer_caller = bench_caller(&warmer.label, &warmer.who);
        for &shape in &shapes {
            let Some(query) = context.first_query(shape) else { continue };
            let warm_up = warm_up_queries(context.queries, query);
            let mut runs = Vec::with_capacity(COLD_REPEATS);
            for _ in 0..COLD_REPEATS {
                runs.push(cold_run(context, model, caller, &warmer_caller, &warm_up, query)?);
            }
            let median = |part: fn(&ColdRun) -> f64| median(runs.iter().map(part).collect());
            let last = runs.last().map_or((0, 0), |r| (r.cache_bytes, r.cache_entries));
            out.push(Cold {
                caller: caller.label.clone(),
                share: caller.share,
                shape,
                first_us: median(|r| r.first_us),
                warm_p50_us: (context.warm_p50)(StrategyName::Permdex, &caller.label, shape),
                first_wall_us: Some(median(|r| r.first_wall_us)),
                parts: Some(ColdParts {
                    profiles_us: median(|r| r.parts.profiles_us),
                    allowed_us: median(|r| r.parts.allowed_us),
                    search_us: median(|r| r.parts.search_us),
                    page_us: median(|r| r.parts.page_us),
                }),
                unfiltered_first_us: Some(median(|r| r.unfiltered_us)),
                unfiltered_warm_p50_us: Some((context.warm_p50)(
                    StrategyName::Unfiltered,
                    &caller.label,
                    shape,
                ))
                .filter(|p| p.is_finite()),
                warmed_by: Some(warmer.label.clone()),
                cache_bytes: last.0,
                cache_entries: last.1,
                profile_index_bytes: runs.last().map(|r| r.index_bytes),
            });
            progress.advance(1);
        }
    }
    Ok(out)
}

/// The caller reading most other than `caller` (the service is warmed with its queries).
fn widest_other<'c>(callers: &'c [Caller], caller: &Caller) -> Option<&'c Caller> {
    callers.iter().filter(|c| c.label != caller.label).max_by(|a, b| a.share.total_cmp(&b.share))
}

/// One query of each shape whose text differs from `measured`'s (browsing has one text only, so none of
/// browsing when browsing is measured).
fn warm_up_queries(queries: &[BenchQuery], measured: &BenchQuery) -> Vec<BenchQuery> {
    let mut out: Vec<BenchQuery> = Vec::new();
    for query in queries {
        if query.text != measured.text && !out.iter().any(|q| q.shape == query.shape) {
            out.push(query.clone());
        }
    }
    out
}

/// One repetition of a first query: fresh services, warmed, then the caller's query.
struct ColdRun {
    first_us: f64,
    first_wall_us: f64,
    parts: ColdParts,
    unfiltered_us: f64,
    cache_bytes: u64,
    cache_entries: u64,
    /// The service's segment profile indexes (shared by every caller), after the first query.
    index_bytes: u64,
}

fn cold_run(
    context: &Context,
    model: &Corpus,
    caller: &Caller,
    warmer: &BenchCaller,
    warm_up: &[BenchQuery],
    query: &BenchQuery,
) -> Result<ColdRun, Error> {
    let warmed = |service: &SearchService| -> Result<(), Error> {
        let permdex = Permdex::new(StrategyName::Permdex, service.clone());
        for q in warm_up {
            permdex.search(warmer, q, context.k)?;
        }
        Ok(())
    };
    // The whole first query, checked.
    let service = SearchService::new(IndexReader::open(context.dir)?);
    warmed(&service)?;
    let before = service.stats().acl_cache;
    let whole = context.probe(&service, model, &caller.who, query)?;
    whole.verdict.map_err(|problem| wrong("a first query", &caller.label, query, &problem))?;
    let after = service.stats().acl_cache;

    // The same query's parts, on another fresh service warmed the same way; its page must be the one the
    // whole query showed.
    let service = SearchService::new(IndexReader::open(context.dir)?);
    warmed(&service)?;
    let (parts, ids) = first_query_parts(context, &service, caller, query)?;
    if ids != whole.ids {
        return Err(wrong("a first query taken in parts", &caller.label, query, "its page differs"));
    }

    // Unfiltered search's first query on a fresh reader warmed with the same queries.
    let unfiltered = strategy::open(StrategyName::Unfiltered, context.dir, 1)?;
    for q in warm_up {
        unfiltered.search(warmer, q, context.k)?;
    }
    let started = context.clock.start();
    unfiltered.search(warmer, query, context.k)?;
    let unfiltered_us = started.micros();

    Ok(ColdRun {
        first_us: whole.micros,
        first_wall_us: whole.wall_micros,
        parts,
        unfiltered_us,
        cache_bytes: after.bytes.saturating_sub(before.bytes),
        cache_entries: after.entries.saturating_sub(before.entries),
        index_bytes: after.index_bytes,
    })
}

/// A first search of `caller` taken as the service takes it, each step timed: the principal set to
/// profiles, the allowed sets of every segment, the ranking (which then finds both cached), the page.
fn first_query_parts(
    context: &Context,
    service: &SearchService,
    caller: &Caller,
    query: &BenchQuery,
) -> Result<(ColdParts, Vec<String>), Error> {
    let principals: Vec<_> = caller.who.iter().map(|w| w.principal()).collect();
    let clock = context.clock;
    let started = clock.start();
    let held = service.acl().caller(principals.iter());
    let mask = service.caller_mask(&held);
    let profiles_us = started.micros();

    let started = clock.start();
    service.caller_sets(&mask)?;
    let allowed_us = started.micros();

    let started = clock.start();
    let request = SearchRequest {
        page: PageRequest::Offset { offset: 0, limit: context.k },
        facets: query.shape.facets(),
        ..SearchRequest::new(query.text.clone())
    };
    let plan = Plan::of(&request)?;
    let ranking = service.rank(&held, &plan, None, context.k + 1)?;
    let search_us = started.micros();

    let started = clock.start();
    let page: Vec<_> = ranking.top().iter().take(context.k).collect();
    let hits = ranking.hits(&page, request.snippets)?;
    let page_us = started.micros();
    let ids = hits.into_iter().map(|h| h.id).collect();
    Ok((ColdParts { profiles_us, allowed_us, search_us, page_us }, ids))
}

fn median(mut values: Vec<f64>) -> f64 {
    values.sort_by(f64::total_cmp);
    values.get(values.len() / 2).copied().unwrap_or(f64::NAN)
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
                warm_p50_us: (context.warm_p50)(StrategyName::Permdex, &caller.label, Shape::Word),
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

//! `permdex eval collection`: the whole loop for one test collection.
//!
//! 1. The collection's documents are loaded into a simulated site (people and groups generated from the
//!    seed, the generated organisation's own content taken out, so ranking statistics are the
//!    collection's), which is served on loopback and synced in full, exactly as a real site would be.
//! 2. Accounts (given, or chosen by the oracle: the one reading the most of the collection, one reading
//!    some, the one reading the least) run every topic through the production search path.
//! 3. Each account's run is scored on the judgements of the documents it may read, its rankings are
//!    compared with the unfiltered rankings restricted to its documents, and every returned id is checked
//!    against the oracle.
//! 4. The same text is indexed directly (no simulator, no crawler, no extraction) and searched the same
//!    way, to measure what the pipeline loses; with `sweep`, ranking variants are measured there too.
//! 5. Coverage: every item the oracle lists, indexed, with text, or failed with a reason.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Instant;

use super::audit::{self, LeakAudit, RankAudit};
use super::collection::Collection;
use super::coverage::{self, Coverage};
use super::metrics::{evaluate, Evaluation, Measure, ScoreOptions};
use super::run::{run_topics, ApiRanker, RunSpec, ServiceRanker, TopicRuns};
use super::Error;
use crate::acl::{AclStore, ClauseKey, Principal};
use crate::config::AccountId;
use crate::index::{IndexDoc, IndexReader, IndexWriter, Kind, Product};
use crate::search::query::QueryOptions;
use crate::search::{SearchOptions, SearchService};
use crate::server::auth::{Caller, Callers};
use crate::server::backend::Indexes;
use crate::sim::model::Site;
use crate::sim::oracle::{self, Scope};
use crate::sim::{Scale, SimConfig};
use crate::sync::{Mode, Progress, RunRecord, SyncOptions};

/// What `permdex eval collection` is asked to do.
#[derive(Debug, Clone)]
pub struct CollectionOptions {
    /// Seed of the simulated people, groups and the dealing of documents into parts.
    pub seed: u64,
    /// Hits per topic.
    pub depth: usize,
    /// Accounts to search as; empty: three chosen by the oracle.
    pub accounts: Vec<String>,
    pub measures: Vec<Measure>,
    /// Keep the configuration and index here (default: a temporary directory, removed afterwards).
    pub data_dir: Option<PathBuf>,
    /// Also measure ranking variants on the directly built index.
    pub sweep: bool,
}

/// One account's results through the pipeline.
#[derive(Debug, Clone, serde::Serialize)]
pub struct AccountReport {
    pub account: String,
    /// Collection documents this account may read, of all.
    pub readable: usize,
    /// Topics left with at least one readable relevant document (scored).
    pub scored_topics: usize,
    /// Mean (or summed) value per measure, in the options' order.
    pub summary: Vec<(String, f64)>,
    pub ranking: RankAudit,
    pub leaks: LeakAudit,
    /// Topics the search refused, with the reason.
    pub refused: Vec<(String, String)>,
    #[serde(skip)]
    pub evaluation: Evaluation,
    #[serde(skip)]
    pub runs: TopicRuns,
}

/// A ranking variant measured on the direct index.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Variant {
    pub name: String,
    pub summary: Vec<(String, f64)>,
}

/// Everything `permdex eval collection` found.
#[derive(Debug, Clone, serde::Serialize)]
pub struct CollectionReport {
    pub collection: String,
    pub seed: u64,
    pub depth: usize,
    pub documents: usize,
    pub topics: usize,
    pub judged_topics: usize,
    /// Documents in the synced index (the collection plus its containers: space home and section pages).
    pub indexed_documents: u64,
    pub accounts: Vec<AccountReport>,
    /// The collection indexed directly, searched by everyone.
    pub direct: Vec<(String, f64)>,
    /// The account reading everything: pipeline minus direct, per measure.
    pub pipeline_minus_direct: Vec<(String, f64)>,
    pub coverage: Coverage,
    pub variants: Vec<Variant>,
    /// Seconds per phase: load and sync, pipeline runs, direct index and runs.
    pub seconds: BTreeMap<String, f64>,
    #[serde(skip)]
    pub direct_evaluation: Evaluation,
    #[serde(skip)]
    pub direct_runs: TopicRuns,
}

impl CollectionReport {
    /// The account that reads every document of the collection, if one was measured.
    pub fn full_reader(&self) -> Option<&AccountReport> {
        self.accounts.iter().find(|a| a.readable == self.documents)
    }
}

fn summary(e: &Evaluation) -> Vec<(String, f64)> {
    e.measures.iter().zip(&e.summary).map(|(m, v)| (m.to_string(), *v)).collect()
}

/// Runs the whole loop for `collection`.
pub async fn evaluate_collection(
    collection: &Collection,
    options: &CollectionOptions,
    progress: &mut dyn Progress,
) -> Result<CollectionReport, Error> {
    let mut seconds = BTreeMap::new();
    let started = Instant::now();
    let temporary = options.data_dir.is_none();
    let data_dir = options.data_dir.clone().unwrap_or_else(|| {
        std::env::temp_dir().join(format!(
            "permdex-eval-{}-{:08x}",
            std::process::id(),
            rand::random::<u32>()
        ))
    });
    let result = async {
        let sim = start_corpus_site(collection, options.seed).await?;
        let config =
            crate::demo::write_config(&data_dir, &sim, SocketAddr::from(([127, 0, 0, 1], 0)), &random_key())
                .map_err(|e| Error::Format(e.to_string()))?;
        let source =
            config.source(crate::demo::SOURCE).cloned().ok_or_else(|| Error::Format("no source".into()))?;
        eprintln!(
            "permdex eval: syncing {} documents of {} through the simulator",
            collection.documents.len(),
            collection.name
        );
        let record =
            crate::sync::sync_with(&config, &source, Mode::Full, &SyncOptions::default(), progress).await?;
        seconds.insert("load_and_sync".to_string(), started.elapsed().as_secs_f64());
        let site = sim.state.read().clone();
        sim.shutdown().await;
        tokio::task::block_in_place(|| {
            measure(collection, options, &config, &site, &[record], &data_dir, seconds)
        })
    }
    .await;
    if temporary {
        let _ = std::fs::remove_dir_all(&data_dir);
    }
    result
}

/// The simulated site holding the collection alone, served on loopback.
async fn start_corpus_site(collection: &Collection, seed: u64) -> Result<crate::sim::run::RunningSim, Error> {
    let config = SimConfig { corpus: Some(collection.corpus.clone()), ..SimConfig::new(seed, Scale::Tiny) };
    let generation = config.clone();
    let site = tokio::task::spawn_blocking(move || -> Result<Site, crate::sim::Error> {
        let mut site = crate::sim::generate::generate(&generation)?;
        crate::sim::generate::corpus::keep_only_corpus(&mut site);
        Ok(site)
    })
    .await
    .map_err(|e| Error::Format(format!("site generation failed: {e}")))??;
    let credentials = crate::sim::generate::admin_credentials(&site);
    Ok(crate::sim::run::start_with_site(site, config, credentials, SocketAddr::from(([127, 0, 0, 1], 0)))
        .await?)
}

/// Everything after the sync: blocking work.
fn measure(
    collection: &Collection,
    options: &CollectionOptions,
    config: &crate::config::Config,
    site: &Site,
    records: &[RunRecord],
    data_dir: &Path,
    mut seconds: BTreeMap<String, f64>,
) -> Result<CollectionReport, Error> {
    let phase = Instant::now();
    let indexes = Indexes::open(config);
    let index_dir = crate::sync::index_dir(config.data_dir(), crate::demo::SOURCE);
    let reader = IndexReader::open(&index_dir)?;
    let docno_of = docnos(collection, site);
    let spec = RunSpec {
        depth: options.depth,
        docno: collection.docno.clone(),
        exclude_self: collection.exclude_self,
        tag: format!("permdex-{}", collection.name),
    };
    let topic_text: BTreeMap<String, String> =
        collection.topics.iter().map(|t| (t.id.clone(), t.text.clone())).collect();
    let accounts =
        if options.accounts.is_empty() { choose_accounts(site, &docno_of) } else { options.accounts.clone() };
    let unfiltered = audit::unfiltered_rankings(&reader, QueryOptions::default(), &topic_text)?;
    let mut reports = Vec::new();
    for account in &accounts {
        eprintln!("permdex eval: {} topics as {account}", collection.topics.len());
        let readable: HashSet<String> =
            oracle::visible(site, account, Scope::default()).into_iter().map(|d| d.0).collect();
        let readable_docnos: HashSet<&str> =
            docno_of.iter().filter(|(id, _)| readable.contains(*id)).map(|(_, d)| d.as_str()).collect();
        let account_id = AccountId::parse(account).map_err(|e| Error::Format(format!("{account:?}: {e}")))?;
        let principals = indexes.principals(account).ok_or_else(|| {
            Error::Format(format!("account {account} is not an active user of the synced site"))
        })?;
        let ranker = ApiRanker { indexes: &indexes, caller: Caller { account_id, principals } };
        let runs = run_topics(&ranker, &collection.topics, &spec);
        let qrels = collection.qrels.restricted(|docno| readable_docnos.contains(docno));
        let evaluation = evaluate(&qrels, &runs.run, &options.measures, ScoreOptions::default());
        let ranking = audit::compare_with_unfiltered(&unfiltered, &runs.ids, &readable);
        let leaks = audit::leaks(&runs.ids, &readable);
        reports.push(AccountReport {
            account: account.clone(),
            readable: readable_docnos.len(),
            scored_topics: qrels.by_query.values().filter(|j| j.values().any(|r| *r >= 1)).count(),
            summary: summary(&evaluation),
            ranking,
            leaks,
            refused: runs.failures.clone(),
            evaluation,
            runs,
        });
    }
    seconds.insert("pipeline_runs".to_string(), phase.elapsed().as_secs_f64());

    let phase = Instant::now();
    let direct_dir = data_dir.join("direct-index");
    let direct = build_direct_index(collection, &direct_dir)?;
    let anyone = direct.acl().caller(&[Principal::Anyone]);
    let direct_runs =
        run_topics(&ServiceRanker { service: &direct, caller: anyone.clone() }, &collection.topics, &spec);
    let direct_evaluation =
        evaluate(&collection.qrels, &direct_runs.run, &options.measures, ScoreOptions::default());
    let mut variants = Vec::new();
    if options.sweep {
        for (name, query) in sweep_variants() {
            eprintln!("permdex eval: variant {name}");
            let service = SearchService::with_options(
                IndexReader::open(&direct_dir)?,
                SearchOptions { query, ..SearchOptions::default() },
            );
            let runs = run_topics(
                &ServiceRanker { service: &service, caller: anyone.clone() },
                &collection.topics,
                &spec,
            );
            let e = evaluate(&collection.qrels, &runs.run, &options.measures, ScoreOptions::default());
            variants.push(Variant { name, summary: summary(&e) });
        }
    }
    seconds.insert("direct".to_string(), phase.elapsed().as_secs_f64());

    let listed: Vec<String> = oracle::all_docs(site, Scope::default()).into_iter().map(|d| d.0).collect();
    let coverage = coverage::coverage(&listed, &reader, records)?;
    let direct_summary = summary(&direct_evaluation);
    let full = reports.iter().find(|a| a.readable == collection.documents.len());
    let pipeline_minus_direct = full
        .map(|a| a.summary.iter().zip(&direct_summary).map(|((m, p), (_, d))| (m.clone(), p - d)).collect())
        .unwrap_or_default();
    Ok(CollectionReport {
        collection: collection.name.clone(),
        seed: options.seed,
        depth: options.depth,
        documents: collection.documents.len(),
        topics: collection.topics.len(),
        judged_topics: collection.qrels.by_query.len(),
        indexed_documents: reader.doc_count(),
        accounts: reports,
        direct: direct_summary,
        pipeline_minus_direct,
        coverage,
        variants,
        seconds,
        direct_evaluation,
        direct_runs,
    })
}

/// Index id → the collection's document number, from the site's labels.
fn docnos(collection: &Collection, site: &Site) -> HashMap<String, String> {
    let mut out = HashMap::new();
    for c in site.contents.values() {
        let id = crate::sim::DocId::confluence_content(c.kind, c.id).0;
        if let Some(docno) = collection.docno.of(&id, &c.labels) {
            out.insert(id, docno);
        }
    }
    for i in site.issues.values() {
        let id = crate::sim::DocId::jira_issue(i.id).0;
        if let Some(docno) = collection.docno.of(&id, &i.labels) {
            out.insert(id, docno);
        }
    }
    out
}

/// Three active accounts by how much of the collection they read: the most, one in between, the least
/// (that reads anything). Ties go to the first in the site's order.
fn choose_accounts(site: &Site, docno_of: &HashMap<String, String>) -> Vec<String> {
    let mut counted: Vec<(usize, &str)> = site
        .users
        .iter()
        .filter(|u| u.active)
        .map(|u| {
            let n = oracle::visible(site, &u.account_id, Scope::default())
                .iter()
                .filter(|d| docno_of.contains_key(&d.0))
                .count();
            (n, u.account_id.as_str())
        })
        .filter(|(n, _)| *n > 0)
        .collect();
    counted.sort_by_key(|c| std::cmp::Reverse(c.0));
    let mut chosen: Vec<String> = Vec::new();
    let distinct_counts: Vec<usize> = {
        let mut c: Vec<usize> = counted.iter().map(|(n, _)| *n).collect();
        c.dedup();
        c
    };
    let wanted = match distinct_counts.as_slice() {
        [] => vec![],
        [one] => vec![*one],
        [most, .., least] => vec![*most, distinct_counts[distinct_counts.len() / 2], *least],
    };
    for n in wanted {
        if let Some((_, account)) = counted.iter().find(|(c, a)| *c == n && !chosen.iter().any(|x| x == a)) {
            chosen.push(account.to_string());
        }
    }
    chosen.dedup();
    chosen
}

/// The collection's text indexed directly: one document per collection document, readable by anyone.
fn build_direct_index(collection: &Collection, dir: &Path) -> Result<SearchService, Error> {
    if dir.exists() {
        std::fs::remove_dir_all(dir).map_err(|e| Error::Format(format!("{}: {e}", dir.display())))?;
    }
    let mut acl = AclStore::default();
    let everyone = acl.set_clause(ClauseKey("everyone".into()), &[Principal::Anyone]);
    let profile = acl.profile(&[everyone]);
    let mut writer = IndexWriter::create(dir)?;
    let (source, kind, prefix) = match collection.kind {
        super::collection::Kind::Cranfield => (Product::Confluence, Kind::Page, "cran-"),
        super::collection::Kind::JiraCsv => (Product::Jira, Kind::Issue, "orig-"),
    };
    for doc in &collection.documents {
        let mut d = IndexDoc::new(format!("{}:{}", collection.name, doc.docno), source, kind, profile);
        d.title = doc.title.clone();
        d.body = doc.body.clone();
        d.labels = vec![format!("{prefix}{}", doc.docno)];
        writer.upsert(&d)?;
    }
    writer.commit(&acl, b"")?;
    writer.close()?;
    Ok(SearchService::new(IndexReader::open(dir)?))
}

/// Ranking variants measured by `--sweep`, each one change from the default.
fn sweep_variants() -> Vec<(String, QueryOptions)> {
    let base = QueryOptions::default();
    let mut out = vec![("default".to_string(), base)];
    for boost in [0.5, 1.0, 1.5, 2.0, 3.0].into_iter().filter(|b| *b != base.title_boost) {
        out.push((format!("title boost {boost}"), QueryOptions { title_boost: boost, ..base }));
    }
    out.push((
        "stop words kept".to_string(),
        QueryOptions { drop_stop_words: !base.drop_stop_words, ..base },
    ));
    for share in [0.2, 0.3, 0.5] {
        out.push((
            format!("min should match {share} of ≥ 3 words"),
            QueryOptions { min_should_match: Some((3, share)), ..base },
        ));
    }
    for bonus in [0.5, 1.0, 2.0] {
        out.push((format!("coordination bonus {bonus}"), QueryOptions { coordination: bonus, ..base }));
    }
    out
}

/// A fresh admin key for the configuration (nobody uses it: evaluation serves no API).
fn random_key() -> String {
    format!("{:032x}", rand::random::<u128>())
}

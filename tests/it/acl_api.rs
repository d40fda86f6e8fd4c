//! The permission consistency test, end to end through the search API: a simulated site synced into a real
//! index, served by the real query server on loopback, and searched by every simulated user with a few
//! hundred queries derived from the indexed data. Every answer is checked against the simulator's oracle
//! (`/_sim/oracle`), which decides who may read what from the site model alone:
//!
//! 1. no leak: every hit is a document the oracle lets that user read;
//! 2. `total` equals the number of distinct ids listed over all pages, and no id appears twice;
//! 3. facet counts equal the counts of the listed hits' own product, kind, space and project;
//! 4. no miss: a document some user found for a query is found by every other user the oracle lets read it;
//!    a document whose title words made the query is found by every user the oracle lets read it; a
//!    structural query (browse, filters, `space:`/`project:`/`kind:`) lists exactly the oracle's documents
//!    that match it, and the empty query lists exactly the oracle's documents;
//! 5. inactive and unknown accounts are refused (401).
//!
//! It runs at two scales, and again after random mutations (permission changes included), an incremental
//! sync and a reload of the server's indexes. It is not a ranking test: only membership, counts and facets
//! are compared, never order or scores.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use permdex::config::{AccountId, Config};
use permdex::extract::ExtractConfig;
use permdex::server::auth::mint_token;
use permdex::server::backend::{Engine, Indexes};
use permdex::server::search::{FacetCount, SearchResults};
use permdex::server::{AppState, Authenticator, SearchIndex, Sources};
use permdex::sim::model::Site;
use permdex::sim::mutate::{random_mutation, Mutation};
use permdex::sim::run::{start, RunningSim};
use permdex::sim::{Scale, SimConfig};
use permdex::sync::{sync_with, Mode, RunOutcome, Silent, SourceIndex, SyncOptions};
use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde_json::Value;

const TOKEN_ENV: &str = "PERMDEX_ACL_API_TOKEN";
const JWT_ENV: &str = "PERMDEX_ACL_API_JWT";
const JWT_SECRET: &str = "acl-api-jwt-secret-5e1d9c3b7a2f4e6d8c0b";
/// The configured source's name, as hits carry it in `source`.
const SOURCE: &str = "sim";
/// Requests in flight at once: enough to keep both cores busy, well under the server's concurrency limit.
const PARALLEL_REQUESTS: usize = 8;
/// A listing longer than this many pages is a paging bug (the largest site holds a few thousand documents).
const MAX_PAGES: usize = 500;

/// A simulated site, its index, and the real query server over that index.
struct World {
    sim: RunningSim,
    /// Holds the index directory for as long as the world lives.
    _data: tempfile::TempDir,
    config: Config,
    indexes: Arc<Indexes>,
    base: String,
    http: reqwest::Client,
}

fn sync_options() -> SyncOptions {
    SyncOptions {
        checkpoint_interval: Duration::ZERO,
        extract: ExtractConfig {
            worker_program: env!("CARGO_BIN_EXE_permdex").into(),
            ..ExtractConfig::default()
        },
        extract_concurrency: 2,
        retry_backoff: Duration::from_millis(5),
        ..SyncOptions::default()
    }
}

impl World {
    /// Starts the simulator, syncs it fully, and serves the index with the real backends.
    async fn start(sim_config: SimConfig) -> World {
        let sim = start(sim_config, "127.0.0.1:0".parse().expect("addr")).await.expect("simulator starts");
        let data = tempfile::tempdir().expect("tempdir");
        let text = format!(
            "data_dir = {data:?}\n[[sources]]\nname = \"{SOURCE}\"\nurl = {url:?}\nemail = {email:?}\n\
             token_env = \"{TOKEN_ENV}\"\nrequests_per_second = 2000.0\nconcurrency = 8\ntimeout_secs = 10\n\
             [server]\njwt_hs256_secret_env = \"{JWT_ENV}\"\n",
            data = data.path().display().to_string(),
            url = sim.url,
            email = sim.credentials.email,
        );
        let env = BTreeMap::from([
            (TOKEN_ENV.to_owned(), sim.credentials.token.clone()),
            (JWT_ENV.to_owned(), JWT_SECRET.to_owned()),
        ]);
        let config = Config::from_toml(&text, &data.path().join("permdex.toml"), &env).expect("config");
        let record = sync_with(&config, &config.sources()[0], Mode::Full, &sync_options(), &mut Silent)
            .await
            .expect("full sync runs");
        assert_eq!(record.outcome, RunOutcome::Completed, "full sync");

        let opening = config.clone();
        let indexes =
            Arc::new(tokio::task::spawn_blocking(move || Indexes::open(&opening)).await.expect("open"));
        let runner = Arc::new(Engine::new(config.clone(), indexes.clone()));
        let state = AppState::new(
            Authenticator::from_config(config.server()).expect("authenticator"),
            indexes.clone(),
            indexes.clone(),
            Sources::new(config.sources(), runner),
        );
        let base = super::support::serve(permdex::server::app(state)).await;
        World { sim, _data: data, config, indexes, base, http: reqwest::Client::new() }
    }

    fn sim_get(&self, path: &str) -> reqwest::RequestBuilder {
        self.http
            .get(format!("{}{path}", self.sim.url))
            .basic_auth(&self.sim.credentials.email, Some(&self.sim.credentials.token))
    }

    /// Every account of the site with its active flag, from `/_sim/users`.
    async fn users(&self) -> Vec<(String, bool)> {
        let body: Value =
            self.sim_get("/_sim/users").send().await.expect("users").json().await.expect("json");
        body["users"]
            .as_array()
            .expect("users list")
            .iter()
            .map(|u| {
                (
                    u["accountId"].as_str().expect("accountId").to_owned(),
                    u["active"].as_bool().expect("active"),
                )
            })
            .collect()
    }

    /// What the oracle lets `account` read, from `/_sim/oracle`.
    async fn oracle(&self, account: &str) -> BTreeSet<String> {
        let response = self
            .sim_get("/_sim/oracle")
            .query(&[("accountId", account)])
            .send()
            .await
            .expect("oracle answers");
        assert!(response.status().is_success(), "oracle for {account}: {}", response.status());
        let body: Value = response.json().await.expect("oracle json");
        body["visible"]
            .as_array()
            .expect("visible list")
            .iter()
            .map(|v| v.as_str().expect("id").to_owned())
            .collect()
    }

    /// Every document in the index with the fields queries are derived from (read from the index itself,
    /// so documents nobody may read are queried too).
    async fn catalogue(&self) -> Catalogue {
        let config = self.config.clone();
        tokio::task::spawn_blocking(move || {
            let index = SourceIndex::open(&config, &config.sources()[0]).expect("index opens");
            let mut docs = BTreeMap::new();
            for (id, _) in index.reader().all_ids().expect("ids") {
                let doc = index.reader().get(&id).expect("get").expect("stored document");
                docs.insert(
                    id.clone(),
                    Doc {
                        id,
                        product: doc.product.as_str().to_owned(),
                        kind: doc.kind.as_str().to_owned(),
                        space: doc.space.clone(),
                        project: doc.project.clone(),
                        keys: permdex::index::issue_keys(&doc.title).map(str::to_owned).collect(),
                        words: title_words(&doc.title),
                        content: title_words(&doc.title)
                            .into_iter()
                            .filter(|w| !permdex::search::query::is_sentence_word(w))
                            .collect(),
                    },
                );
            }
            Catalogue { docs }
        })
        .await
        .expect("catalogue task")
    }

    /// Applies `mutations` through `/_sim/mutate`, runs an incremental sync and reloads the server's index.
    async fn mutate_and_resync(&self, mutations: &[Mutation]) {
        super::support::post_mutations(&self.http, &self.sim, mutations).await;
        let record = sync_with(
            &self.config,
            &self.config.sources()[0],
            Mode::Incremental,
            &sync_options(),
            &mut Silent,
        )
        .await
        .expect("incremental sync runs");
        assert_eq!(record.outcome, RunOutcome::Completed, "incremental sync");
        let indexes = self.indexes.clone();
        tokio::task::spawn_blocking(move || indexes.reload(SOURCE))
            .await
            .expect("reload task")
            .expect("the server's index reloads");
    }

    fn site(&self) -> Site {
        self.sim.state.read().clone()
    }

    /// Runs `probe_count` queries derived from the index (the browse among them) for every active user,
    /// checks every answer against the oracle, and checks that the other accounts are refused.
    async fn check(&self, context: &str, seed: u64, probe_count: usize) -> Checked {
        let users = self.users().await;
        let mut oracles = BTreeMap::new();
        for (account, _) in &users {
            oracles.insert(account.clone(), self.oracle(account).await);
        }
        let catalogue = self.catalogue().await;
        let key = self.config.server().jwt().expect("a jwt key is configured");
        let token = |account: &str| {
            let account = AccountId::parse(account).expect("account id");
            mint_token(key, &account, Duration::from_secs(3600), chrono::Utc::now()).expect("token")
        };

        // Accounts that may not search at all.
        let mut problems = Vec::new();
        let refused: Vec<String> = users
            .iter()
            .filter(|(_, active)| !active)
            .map(|(id, _)| id.clone())
            .chain(["no-such-account-4711".to_owned()])
            .collect();
        for account in &refused {
            assert!(
                oracles.get(account).is_none_or(BTreeSet::is_empty),
                "{context}: oracle shows {account} something"
            );
            for q in ["", "comment", "space:ENG OR kind:issue"] {
                let status = self
                    .http
                    .get(format!("{}/api/v1/search", self.base))
                    .query(&[("q", q)])
                    .bearer_auth(token(account))
                    .send()
                    .await
                    .expect("search answers")
                    .status();
                if status.as_u16() != 401 {
                    problems.push(format!("{context}: account {account} (inactive or unknown), q={q:?}: status {status}, want 401"));
                }
            }
        }

        let active: Vec<String> = users.iter().filter(|(_, a)| *a).map(|(id, _)| id.clone()).collect();
        let readers = readers_per_doc(&catalogue, &active, &oracles);
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let probes = derive_probes(&catalogue, &readers, active.len(), &mut rng, probe_count);
        let tokens: BTreeMap<String, String> = active.iter().map(|a| (a.clone(), token(a))).collect();
        let mut stats = Stats { users: active.len(), probes: probes.len(), ..Stats::default() };
        let limiter = Arc::new(tokio::sync::Semaphore::new(PARALLEL_REQUESTS));
        for probe in &probes {
            let probe = Arc::new(probe.clone());
            let mut tasks = tokio::task::JoinSet::new();
            for account in &active {
                let (http, base, token) = (self.http.clone(), self.base.clone(), tokens[account].clone());
                let (probe, account, limiter) = (probe.clone(), account.clone(), limiter.clone());
                tasks.spawn(async move {
                    let _permit = limiter.acquire_owned().await.expect("semaphore open");
                    let listing = list_all(&http, &base, &token, &probe).await;
                    (account, listing)
                });
            }
            let mut listings = BTreeMap::new();
            while let Some(joined) = tasks.join_next().await {
                let (account, listing) = joined.expect("search task");
                match listing {
                    Ok(listing) => {
                        stats.requests += listing.pages;
                        listings.insert(account, listing);
                    }
                    Err(e) => problems.push(format!("{context}: user {account}, query {probe}: {e}")),
                }
            }
            check_probe(context, &probe, &listings, &oracles, &catalogue, &mut problems, &mut stats);
        }
        assert!(
            problems.is_empty(),
            "{context}: {} problem(s) over {} users x {} queries; first ones:\n{}",
            problems.len(),
            stats.users,
            stats.probes,
            problems.iter().take(25).cloned().collect::<Vec<_>>().join("\n")
        );
        Checked { stats, oracles }
    }
}

/// A document as queries see it.
#[derive(Debug, Clone)]
struct Doc {
    id: String,
    product: String,
    kind: String,
    space: Option<String>,
    project: Option<String>,
    /// Jira issue keys in the title.
    keys: Vec<String>,
    /// The title's words as the index's tokenizer splits them, lower-cased.
    words: Vec<String>,
    /// Those of `words` that find documents on their own: not stop words, question words or pronouns
    /// (a query of several words drops its stop words, and such words make it a sentence).
    content: Vec<String>,
}

struct Catalogue {
    docs: BTreeMap<String, Doc>,
}

/// Splits a title the way the `simple` tokenizer does (on anything not alphanumeric), lower-cased. Titles
/// with a token the index drops (40 bytes or longer) give no words, so no phrase spans a dropped token.
fn title_words(title: &str) -> Vec<String> {
    let words: Vec<String> = title
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(str::to_lowercase)
        .collect();
    if words.iter().any(|w| w.len() >= 40) {
        return Vec::new();
    }
    words
}

/// How many active users the oracle lets read each indexed document.
fn readers_per_doc(
    catalogue: &Catalogue,
    active: &[String],
    oracles: &BTreeMap<String, BTreeSet<String>>,
) -> BTreeMap<String, usize> {
    let mut readers: BTreeMap<String, usize> = catalogue.docs.keys().map(|id| (id.clone(), 0)).collect();
    for account in active {
        for id in &oracles[account] {
            if let Some(n) = readers.get_mut(id) {
                *n += 1;
            }
        }
    }
    readers
}

/// Values of the structural fields; an empty list admits every value.
#[derive(Debug, Clone, Default, PartialEq)]
struct Selector {
    products: Vec<String>,
    kinds: Vec<String>,
    spaces: Vec<String>,
    projects: Vec<String>,
}

impl Selector {
    fn admits(&self, doc: &Doc) -> bool {
        let one = |allowed: &[String], value: Option<&String>| {
            allowed.is_empty() || value.is_some_and(|v| allowed.contains(v))
        };
        one(&self.products, Some(&doc.product))
            && one(&self.kinds, Some(&doc.kind))
            && one(&self.spaces, doc.space.as_ref())
            && one(&self.projects, doc.project.as_ref())
    }

    fn params(&self) -> Vec<(&'static str, String)> {
        let mut params = Vec::new();
        for (name, values) in [
            ("product", &self.products),
            ("kind", &self.kinds),
            ("space", &self.spaces),
            ("project", &self.projects),
        ] {
            params.extend(values.iter().map(|v| (name, v.clone())));
        }
        params
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Paging {
    Cursor,
    Offset,
}

/// One search, and what is known about its matches without asking the index.
#[derive(Debug, Clone)]
struct Probe {
    q: String,
    filters: Selector,
    facets: bool,
    snippets: bool,
    sort_updated: bool,
    paging: Paging,
    limit: usize,
    /// Documents the query text matches by construction (it is made of their title words or keys): each
    /// must be listed for every user the oracle lets read it, unless the filters exclude it.
    must_find: Vec<String>,
    /// For a query text that only names structural values (or is empty): exactly the documents it matches.
    exact: Option<Selector>,
}

impl fmt::Display for Probe {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "q={:?}", self.q)?;
        for (name, value) in self.filters.params() {
            write!(f, " {name}={value}")?;
        }
        write!(
            f,
            " (facets={} snippets={} sort={} paging={:?} limit={})",
            self.facets,
            self.snippets,
            if self.sort_updated { "updated" } else { "relevance" },
            self.paging,
            self.limit
        )
    }
}

impl Probe {
    fn text(q: String, must_find: Vec<String>) -> Probe {
        Probe {
            q,
            filters: Selector::default(),
            facets: true,
            snippets: false,
            sort_updated: false,
            paging: Paging::Cursor,
            limit: 100,
            must_find,
            exact: None,
        }
    }

    fn structural(q: String, exact: Selector, filters: Selector) -> Probe {
        Probe { filters, exact: Some(exact), ..Probe::text(q, Vec::new()) }
    }
}

/// Picks from `pool`, which the caller guarantees is not empty.
fn pick<'a, T>(rng: &mut ChaCha8Rng, pool: &'a [T]) -> &'a T {
    pool.choose(rng).expect("pool is not empty")
}

/// Derives `n` queries from the indexed documents, deterministically from `rng`. About half of the
/// documents the text queries are built from are ones some active user may not read.
fn derive_probes(
    catalogue: &Catalogue,
    readers: &BTreeMap<String, usize>,
    active_users: usize,
    rng: &mut ChaCha8Rng,
    n: usize,
) -> Vec<Probe> {
    let worded: Vec<&Doc> = catalogue.docs.values().filter(|d| !d.content.is_empty()).collect();
    let restricted: Vec<&Doc> =
        worded.iter().copied().filter(|d| readers.get(&d.id).is_some_and(|r| *r < active_users)).collect();
    let keyed: Vec<&Doc> =
        catalogue.docs.values().filter(|d| d.kind == "issue" && !d.keys.is_empty()).collect();
    let distinct = |f: fn(&Doc) -> Option<String>| -> Vec<String> {
        catalogue.docs.values().filter_map(f).collect::<BTreeSet<_>>().into_iter().collect()
    };
    let products = distinct(|d| Some(d.product.clone()));
    let kinds = distinct(|d| Some(d.kind.clone()));
    let spaces = distinct(|d| d.space.clone());
    let projects = distinct(|d| d.project.clone());
    assert!(!worded.is_empty() && !spaces.is_empty() && !projects.is_empty(), "the site has titled content");

    let mut probes = vec![Probe::structural(String::new(), Selector::default(), Selector::default())];
    // Every exact-value term, ranked by relevance: all its matches tie on score, so only the id orders
    // them, and paging must still list each once (a pruning top-k pass that skipped tied blocks of
    // postings would repeat some and lose others).
    for (field, values) in [("kind", &kinds), ("product", &products)] {
        for value in values {
            let exact = match field {
                "kind" => Selector { kinds: vec![value.clone()], ..Selector::default() },
                _ => Selector { products: vec![value.clone()], ..Selector::default() },
            };
            for paging in [Paging::Offset, Paging::Cursor] {
                let probe = Probe::structural(format!("{field}:{value}"), exact.clone(), Selector::default());
                probes.push(Probe { paging, limit: 50, ..probe });
            }
        }
    }
    while probes.len() < n {
        let i = probes.len();
        let pool = if i % 2 == 0 && !restricted.is_empty() { &restricted } else { &worded };
        let d: &Doc = pick::<&Doc>(rng, pool);
        let word = |rng: &mut ChaCha8Rng, doc: &Doc| pick(rng, &doc.content).clone();
        let mut probe = match i % 12 {
            0 => Probe::text(word(rng, d), vec![d.id.clone()]),
            1 => {
                let (a, b) = (word(rng, d), word(rng, d));
                let q = if rng.gen_bool(0.5) { format!("{a} {b}") } else { format!("{a} AND {b}") };
                Probe::text(q, vec![d.id.clone()])
            }
            2 => {
                let e = *pick(rng, &worded);
                Probe::text(format!("{} OR {}", word(rng, d), word(rng, e)), vec![d.id.clone(), e.id.clone()])
            }
            3 => {
                let at = rng.gen_range(0..d.words.len());
                let q = match d.words.get(at + 1) {
                    Some(next) => format!("\"{} {next}\"", d.words[at]),
                    None => format!("\"{}\"", d.words[at]),
                };
                Probe::text(q, vec![d.id.clone()])
            }
            4 => Probe::text(format!("title:{}", word(rng, d)), vec![d.id.clone()]),
            5 => {
                let (q, exact) = match rng.gen_range(0..3) {
                    0 => {
                        let s = pick(rng, &spaces).clone();
                        (format!("space:{s}"), Selector { spaces: vec![s], ..Selector::default() })
                    }
                    1 => {
                        let p = pick(rng, &projects).clone();
                        (format!("project:{p}"), Selector { projects: vec![p], ..Selector::default() })
                    }
                    _ => {
                        let k = pick(rng, &kinds).clone();
                        (format!("kind:{k}"), Selector { kinds: vec![k], ..Selector::default() })
                    }
                };
                Probe::structural(q, exact, Selector::default())
            }
            6 => {
                let field = match (&d.space, &d.project) {
                    (Some(space), _) => format!("space:{space}"),
                    (None, Some(project)) => format!("project:{project}"),
                    (None, None) => format!("kind:{}", d.kind),
                };
                Probe::text(format!("{field} {}", word(rng, d)), vec![d.id.clone()])
            }
            7 if !keyed.is_empty() => {
                let restricted_issues: Vec<&Doc> = keyed
                    .iter()
                    .copied()
                    .filter(|d| readers.get(&d.id).is_some_and(|r| *r < active_users))
                    .collect();
                let issue = if i % 24 == 7 && !restricted_issues.is_empty() {
                    *pick(rng, &restricted_issues)
                } else {
                    *pick(rng, &keyed)
                };
                Probe::text(pick(rng, &issue.keys).clone(), vec![issue.id.clone()])
            }
            8 => {
                let filters = match rng.gen_range(0..4) {
                    0 => Selector { kinds: vec![pick(rng, &kinds).clone()], ..Selector::default() },
                    1 => Selector { spaces: vec![pick(rng, &spaces).clone()], ..Selector::default() },
                    2 => Selector {
                        projects: vec![pick(rng, &projects).clone(), pick(rng, &projects).clone()],
                        ..Selector::default()
                    },
                    _ => Selector {
                        products: vec![pick(rng, &products).clone()],
                        kinds: vec![pick(rng, &kinds).clone(), pick(rng, &kinds).clone()],
                        ..Selector::default()
                    },
                };
                Probe::structural(String::new(), Selector::default(), filters)
            }
            9 => {
                // A filter taken from the document itself (it must still be found) or another value.
                let filters = match rng.gen_range(0..3) {
                    0 => Selector { kinds: vec![d.kind.clone()], ..Selector::default() },
                    1 => Selector { products: vec![d.product.clone()], ..Selector::default() },
                    _ => Selector { spaces: vec![pick(rng, &spaces).clone()], ..Selector::default() },
                };
                Probe { filters, ..Probe::text(word(rng, d), vec![d.id.clone()]) }
            }
            10 => {
                let e = *pick(rng, &worded);
                Probe::text(format!("{} -{}", word(rng, d), word(rng, e)), Vec::new())
            }
            _ => {
                let e = *pick(rng, &worded);
                let kind = if rng.gen_bool(0.5) { d.kind.clone() } else { pick(rng, &kinds).clone() };
                let must_find = [d, e].iter().filter(|x| x.kind == kind).map(|x| x.id.clone()).collect();
                Probe::text(format!("kind:{kind} ({} OR {})", word(rng, d), word(rng, e)), must_find)
            }
        };
        probe.facets = rng.gen_ratio(3, 4);
        probe.snippets = rng.gen_ratio(1, 4);
        probe.sort_updated = rng.gen_ratio(1, 5);
        probe.paging = if rng.gen_ratio(1, 3) { Paging::Offset } else { Paging::Cursor };
        probe.limit = if rng.gen_ratio(1, 6) { 37 } else { 100 };
        probes.push(probe);
    }
    probes
}

/// A hit's own values of the facet fields.
#[derive(Debug)]
struct HitFields {
    product: String,
    kind: String,
    space: Option<String>,
    project: Option<String>,
}

/// What one user got for one probe, over all pages.
#[derive(Debug, Default)]
struct Listing {
    /// Ids in the order listed, repeats included.
    ids: Vec<String>,
    /// Per listed id: the facet fields as the hit carries them.
    fields: BTreeMap<String, HitFields>,
    /// `total` of each page.
    totals: Vec<u64>,
    /// Facets of each page (when asked for).
    facets: Vec<permdex::server::search::FacetsBody>,
    pages: usize,
}

/// Follows every page of `probe` as the holder of `token`. Errors name what went wrong with the answer.
async fn list_all(http: &reqwest::Client, base: &str, token: &str, probe: &Probe) -> Result<Listing, String> {
    let mut listing = Listing::default();
    let mut cursor: Option<String> = None;
    loop {
        let mut params: Vec<(&str, String)> =
            vec![("q", probe.q.clone()), ("limit", probe.limit.to_string())];
        params.extend(probe.filters.params());
        if probe.facets {
            params.push(("facets", "true".into()));
        }
        if probe.snippets {
            params.push(("snippets", "true".into()));
        }
        if probe.sort_updated {
            params.push(("sort", "updated".into()));
        }
        match (probe.paging, &cursor) {
            (Paging::Offset, _) => params.push(("offset", listing.ids.len().to_string())),
            (Paging::Cursor, Some(c)) => params.push(("cursor", c.clone())),
            (Paging::Cursor, None) => {}
        }
        let response = http
            .get(format!("{base}/api/v1/search"))
            .query(&params)
            .bearer_auth(token)
            .send()
            .await
            .map_err(|e| format!("request failed: {e}"))?;
        let status = response.status();
        let text = response.text().await.map_err(|e| format!("body unreadable: {e}"))?;
        if !status.is_success() {
            return Err(format!("status {status} on page {}: {text}", listing.pages + 1));
        }
        let page: SearchResults =
            serde_json::from_str(&text).map_err(|e| format!("bad json ({e}): {text}"))?;
        listing.pages += 1;
        listing.totals.push(page.total);
        match (probe.facets, page.facets) {
            (true, Some(facets)) => listing.facets.push(facets),
            (true, None) => return Err(format!("no facets on page {}", listing.pages)),
            (false, Some(_)) => return Err(format!("facets not asked for on page {}", listing.pages)),
            (false, None) => {}
        }
        let listed = page.hits.len();
        for hit in page.hits {
            if hit.source != SOURCE {
                return Err(format!("hit {} names source {}", hit.id, hit.source));
            }
            let fields =
                HitFields { product: hit.product, kind: hit.kind, space: hit.space, project: hit.project };
            listing.fields.insert(hit.id.clone(), fields);
            listing.ids.push(hit.id);
        }
        if listing.pages > MAX_PAGES {
            return Err(format!("more than {MAX_PAGES} pages"));
        }
        let done = match probe.paging {
            Paging::Cursor => {
                cursor = page.next_cursor;
                cursor.is_none()
            }
            Paging::Offset => listed == 0 || listing.ids.len() as u64 >= page.total,
        };
        if done {
            return Ok(listing);
        }
        if listed == 0 {
            return Err(format!("page {} is empty but names a next page", listing.pages));
        }
    }
}

/// What a check saw: its counters and the oracle it compared with.
struct Checked {
    stats: Stats,
    oracles: BTreeMap<String, BTreeSet<String>>,
}

/// (user, document) pairs whose readability differs between two oracles, over documents and users both
/// know.
fn access_changes(
    before: &BTreeMap<String, BTreeSet<String>>,
    after: &BTreeMap<String, BTreeSet<String>>,
) -> usize {
    let docs = |o: &BTreeMap<String, BTreeSet<String>>| -> BTreeSet<String> {
        o.values().flatten().cloned().collect()
    };
    let both: BTreeSet<String> = docs(before).intersection(&docs(after)).cloned().collect();
    before
        .iter()
        .filter_map(|(account, was)| after.get(account).map(|now| (was, now)))
        .map(|(was, now)| was.symmetric_difference(now).filter(|id| both.contains(*id)).count())
        .sum()
}

/// Counters for the report.
#[derive(Debug, Default)]
struct Stats {
    users: usize,
    probes: usize,
    requests: usize,
    /// (user, probe) pairs checked.
    listings: usize,
    hits: usize,
    /// (user, probe) pairs whose query matched documents (found by others) that this user may not read:
    /// each was a chance to leak.
    leak_chances: usize,
    /// (user, document) pairs checked by the "built from its title" rule.
    must_find_checks: usize,
    /// (user, probe) pairs compared with an exact expected set.
    exact_checks: usize,
}

fn facet_map(counts: &[FacetCount]) -> BTreeMap<String, u64> {
    counts.iter().map(|c| (c.value.clone(), c.count)).collect()
}

fn counted<'a>(values: impl Iterator<Item = &'a String>) -> BTreeMap<String, u64> {
    let mut counts = BTreeMap::new();
    for v in values {
        *counts.entry(v.clone()).or_default() += 1;
    }
    counts
}

/// Checks one probe's listings for every user, appending a line per problem.
fn check_probe(
    context: &str,
    probe: &Probe,
    listings: &BTreeMap<String, Listing>,
    oracles: &BTreeMap<String, BTreeSet<String>>,
    catalogue: &Catalogue,
    problems: &mut Vec<String>,
    stats: &mut Stats,
) {
    let mut found_by_anyone: BTreeSet<&String> = BTreeSet::new();
    for listing in listings.values() {
        found_by_anyone.extend(listing.fields.keys());
    }
    for (account, listing) in listings {
        let oracle = &oracles[account];
        let mut report =
            |what: String| problems.push(format!("{context}: user {account}, query {probe}: {what}"));
        stats.listings += 1;
        stats.hits += listing.fields.len();

        // (1) No leak, and the filters hold.
        for id in listing.fields.keys() {
            if !oracle.contains(id) {
                report(format!("leak: lists {id}, which the oracle does not let this user read"));
            }
            match catalogue.docs.get(id) {
                Some(doc) if !probe.filters.admits(doc) => report(format!("{id} does not pass the filters")),
                Some(_) => {}
                None => report(format!("lists {id}, which is not in the index")),
            }
        }
        // (2) Totals, repeats.
        if listing.ids.len() != listing.fields.len() {
            let mut seen = BTreeSet::new();
            let repeated: Vec<&String> = listing.ids.iter().filter(|id| !seen.insert(*id)).collect();
            report(format!("ids listed more than once across pages: {repeated:?}"));
        }
        for (page, total) in listing.totals.iter().enumerate() {
            if *total != listing.fields.len() as u64 {
                report(format!(
                    "page {} says total {total}, but {} distinct ids were listed",
                    page + 1,
                    listing.fields.len()
                ));
            }
        }
        // (3) Facets equal counts over the listed hits.
        let values =
            |pick: fn(&HitFields) -> Option<&String>| counted(listing.fields.values().filter_map(pick));
        let want = [
            ("product", values(|f| Some(&f.product))),
            ("kind", values(|f| Some(&f.kind))),
            ("space", values(|f| f.space.as_ref())),
            ("project", values(|f| f.project.as_ref())),
        ];
        for (page, facets) in listing.facets.iter().enumerate() {
            let got = [&facets.product, &facets.kind, &facets.space, &facets.project];
            for ((name, want), got) in want.iter().zip(got) {
                let got = facet_map(got);
                if &got != want {
                    let wrong: Vec<String> = got
                        .keys()
                        .chain(want.keys())
                        .collect::<BTreeSet<_>>()
                        .into_iter()
                        .filter(|v| got.get(*v) != want.get(*v))
                        .map(|v| format!("{v}: facet {:?}, hits {:?}", got.get(v), want.get(v)))
                        .collect();
                    report(format!("page {} facet {name} disagrees with the hits: {wrong:?}", page + 1));
                }
            }
        }
        // (4) No miss: what anyone found and this user may read; the documents the query was built from;
        // the exact set of a structural query.
        for id in &found_by_anyone {
            if oracle.contains(*id) && !listing.fields.contains_key(*id) {
                report(format!(
                    "miss: {id} is readable by this user and found by another user, but not listed"
                ));
            }
        }
        if found_by_anyone.iter().any(|id| !oracle.contains(*id)) {
            stats.leak_chances += 1;
        }
        for id in &probe.must_find {
            let admitted = catalogue.docs.get(id).is_some_and(|d| probe.filters.admits(d));
            if admitted && oracle.contains(id) {
                stats.must_find_checks += 1;
                if !listing.fields.contains_key(id) {
                    report(format!(
                        "miss: {id} is readable by this user and the query is built from it, but not listed"
                    ));
                }
            }
        }
        if let Some(exact) = &probe.exact {
            stats.exact_checks += 1;
            let want: BTreeSet<&String> = catalogue
                .docs
                .values()
                .filter(|d| exact.admits(d) && probe.filters.admits(d) && oracle.contains(&d.id))
                .map(|d| &d.id)
                .collect();
            let got: BTreeSet<&String> = listing.fields.keys().collect();
            for id in want.difference(&got) {
                report(format!("miss: {id} matches this structural query and is readable, but not listed"));
            }
            for id in got.difference(&want) {
                report(format!("{id} is listed but does not match this structural query for this user"));
            }
            // The browse lists exactly what the oracle shows, including anything missing from the index.
            if probe.q.is_empty() && probe.filters == Selector::default() {
                for id in oracle.iter().filter(|id| !listing.fields.contains_key(*id)) {
                    report(format!("miss: browse does not list {id}, which the oracle lets this user read"));
                }
            }
        }
    }
}

/// Whether a mutation changes who may read what: the permission-only ones, and the two that also touch
/// an issue's or a comment's version.
fn changes_access(m: &Mutation) -> bool {
    super::support::permission_only(m)
        || matches!(m, Mutation::SetIssueSecurityLevel { .. } | Mutation::SetCommentVisibility { .. })
}

/// `n` random mutations valid in order on `site`, at least `permission_changes` of them changing who may
/// read what.
fn random_mutations(site: &Site, rng: &mut ChaCha8Rng, n: usize, permission_changes: usize) -> Vec<Mutation> {
    let mut site = site.clone();
    let mut out = Vec::new();
    let mut draws = 0;
    while out.len() < n && draws < 100 * n {
        draws += 1;
        let m = random_mutation(&site, rng);
        let wanted = out.len() >= permission_changes || changes_access(&m);
        if wanted && permdex::sim::mutate::apply(&mut site, &m).is_ok() {
            out.push(m);
        }
    }
    assert_eq!(out.len(), n, "enough valid mutations were drawn");
    out
}

/// One scale: check, mutate and resync, check again against the fresh oracle.
async fn scale_round_trip(name: &str, sim: SimConfig, probes: usize, mutations: usize) {
    let started = std::time::Instant::now();
    let world = World::start(sim.clone()).await;
    let synced = started.elapsed();
    let before = world.check(&format!("{name} after the full sync"), sim.seed, probes).await;
    let mut rng = ChaCha8Rng::seed_from_u64(sim.seed);
    let changes = random_mutations(&world.site(), &mut rng, mutations, mutations / 2);
    world.mutate_and_resync(&changes).await;
    let after = world.check(&format!("{name} after {mutations} mutations"), sim.seed + 1, probes).await;
    eprintln!("acl_api {name}: full sync {synced:?}, everything {:?}", started.elapsed());
    let changed = access_changes(&before.oracles, &after.oracles);
    eprintln!("acl_api {name}: the mutations changed {changed} (user, document) permissions");
    assert!(changed > 0, "{name}: the mutations changed who may read some document");
    for (when, stats) in [("before", &before.stats), ("after", &after.stats)] {
        eprintln!("acl_api {name} {when} mutations: {stats:?}");
        assert!(
            stats.leak_chances > stats.probes,
            "{name} {when}: queries often match what some user may not read"
        );
        assert!(
            stats.must_find_checks > stats.probes,
            "{name} {when}: the built-from-title rule was exercised"
        );
        assert!(stats.exact_checks >= stats.users, "{name} {when}: structural queries were compared exactly");
    }
    world.sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tiny_site_every_user_and_query_agrees_with_the_oracle() {
    scale_round_trip("tiny", SimConfig::new(17, Scale::Tiny), 300, 30).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn small_site_every_user_and_query_agrees_with_the_oracle() {
    scale_round_trip("small", SimConfig::new(29, Scale::Small), 60, 40).await;
}

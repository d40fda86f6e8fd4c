//! The sync engine end to end against the simulator over loopback: after every kind of run, the index must
//! show each user exactly what the simulator's oracle says they may read (zero leaks, zero misses), and a
//! run that was disturbed (rate limits, faults, cancellation, a killed process) must end where a clean run
//! ends.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::time::Duration;

use permdex::config::Config;
use permdex::sim::model::{FileKind, Holder, Site, Visibility};
use permdex::sim::mutate::{random_mutation, Mutation};
use permdex::sim::oracle::{self, Scope};
use permdex::sim::run::{start_with_features, RunningSim};
use permdex::sim::{FaultConfig, Scale, SimConfig, SiteFeatures};
use permdex::sync::{Mode, Progress, ProgressEvent, RunOutcome, RunRecord, Silent, SourceIndex, SyncOptions};
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

use crate::support;

const TOKEN_ENV: &str = "PERMDEX_SIM_TOKEN";
/// The source's request timeout, on top of what `support::sim_config_text` writes.
const TIMEOUT: &str = "timeout_secs = 10";

pub(crate) struct Harness {
    pub(crate) sim: RunningSim,
    pub(crate) data: tempfile::TempDir,
    pub(crate) config: Config,
    http: reqwest::Client,
}

fn config_text(sim: &RunningSim, data_dir: &Path) -> String {
    support::sim_config_text(sim, data_dir, TOKEN_ENV, TIMEOUT)
}

fn write_config(sim: &RunningSim, data_dir: &Path) -> PathBuf {
    support::write_sim_config(sim, data_dir, TOKEN_ENV, TIMEOUT)
}

pub(crate) fn load_config(sim: &RunningSim, data_dir: &Path, extra: &str) -> Config {
    support::load_sim_config(sim, data_dir, TOKEN_ENV, &format!("{TIMEOUT}\n{extra}"))
}

async fn harness(config: SimConfig) -> Harness {
    let sim = support::start_generated(config).await;
    let data = tempfile::tempdir().expect("tempdir");
    let config = load_config(&sim, data.path(), "");
    Harness { sim, data, config, http: reqwest::Client::new() }
}

/// A harness on a site with `features`; where product access is enforced, the source's
/// `confluence_access_groups` names the site's Confluence access groups (licensed users and guests), and
/// where space roles are, `confluence_licensed_groups` names its licensed users' groups.
pub(crate) async fn harness_with(config: SimConfig, features: SiteFeatures) -> Harness {
    harness_configured(config, features, "").await
}

/// [`harness_with`], with `more` added to the source's configuration.
pub(crate) async fn harness_configured(config: SimConfig, features: SiteFeatures, more: &str) -> Harness {
    let sim =
        start_with_features(config, features, ([127, 0, 0, 1], 0).into()).await.expect("simulator starts");
    let data = tempfile::tempdir().expect("tempdir");
    // By id: group names are mutable, and the random mutations rename groups.
    let extra = permdex::demo::confluence_access_lines(&sim.state.read()) + more;
    let config = load_config(&sim, data.path(), &extra);
    Harness { sim, data, config, http: reqwest::Client::new() }
}

impl Harness {
    pub(crate) async fn sync(&self, mode: Mode) -> RunRecord {
        self.sync_watched(mode, &mut Silent).await
    }

    async fn sync_watched(&self, mode: Mode, progress: &mut dyn Progress) -> RunRecord {
        self.sync_with_options(mode, &support::quick_sync_options(), progress).await
    }

    pub(crate) async fn sync_with_options(
        &self,
        mode: Mode,
        options: &SyncOptions,
        progress: &mut dyn Progress,
    ) -> RunRecord {
        support::sync_first_source(&self.config, mode, options, progress).await
    }

    pub(crate) fn index(&self) -> SourceIndex {
        SourceIndex::open(&self.config, &self.config.sources()[0]).expect("index opens")
    }

    pub(crate) async fn oracle(&self, account_id: &str) -> Vec<String> {
        let mut ids = support::oracle_visible(&self.http, &self.sim, account_id).await;
        ids.sort();
        ids
    }

    pub(crate) async fn mutate(&self, mutations: &[Mutation]) {
        support::post_mutations(&self.http, &self.sim, mutations).await;
    }

    pub(crate) fn site(&self) -> Site {
        self.sim.state.read().clone()
    }

    /// For every account: the index shows exactly what the oracle shows. Returns how many (user, doc)
    /// pairs were compared.
    pub(crate) async fn assert_matches_oracle(&self, context: &str) -> usize {
        let index = self.index();
        assert_eq!(index.reader().integrity_problem(), None, "{context}");
        let accounts: Vec<String> = self.site().users.iter().map(|u| u.account_id.clone()).collect();
        let mut pairs = 0;
        for account in accounts {
            let want = self.oracle(&account).await;
            let got = index.visible_ids(&account).expect("visible ids");
            let leaks: Vec<&String> = got.iter().filter(|id| want.binary_search(id).is_err()).collect();
            let misses: Vec<&String> = want.iter().filter(|id| got.binary_search(id).is_err()).collect();
            assert!(
                leaks.is_empty() && misses.is_empty(),
                "{context}: account {account}: {} leak(s) {leaks:?}, {} miss(es) {misses:?}",
                leaks.len(),
                misses.len()
            );
            pairs += want.len();
        }
        pairs
    }

    /// Every in-scope item of the site is in the index, and the index holds nothing else.
    pub(crate) fn assert_complete(&self, context: &str) {
        let site = self.site();
        let want: BTreeSet<String> =
            oracle::all_docs(&site, Scope::default()).into_iter().map(|d| d.0).collect();
        let index = self.index();
        let got: BTreeSet<String> =
            index.reader().all_ids().expect("ids").into_iter().map(|(id, _)| id).collect();
        let missing: Vec<_> = want.difference(&got).collect();
        let extra: Vec<_> = got.difference(&want).collect();
        assert!(missing.is_empty() && extra.is_empty(), "{context}: missing {missing:?}, extra {extra:?}");
    }

    /// What the index holds, in a form two runs can be compared by: every document's stored fields except
    /// its profile number, and what every account sees.
    pub(crate) async fn fingerprint(&self) -> Fingerprint {
        let index = self.index();
        let mut docs = BTreeMap::new();
        for (id, _) in index.reader().all_ids().expect("ids") {
            let mut doc = index.reader().get(&id).expect("get").expect("stored");
            doc.acl_profile = permdex::acl::ProfileId(0);
            // Two simulators differ in their port, which every URL carries.
            docs.insert(id, format!("{doc:?}").replace(&self.sim.url, "SITE"));
        }
        let mut visible = BTreeMap::new();
        for user in self.site().users {
            visible.insert(user.account_id.clone(), index.visible_ids(&user.account_id).expect("visible"));
        }
        (docs, visible)
    }
}

pub(crate) type Fingerprint = (BTreeMap<String, String>, BTreeMap<String, Vec<String>>);

/// Asserts two fingerprints are equal, naming the first few documents and accounts that differ.
pub(crate) fn assert_same(got: &Fingerprint, want: &Fingerprint, context: &str) {
    let diff = |a: &BTreeMap<String, String>, b: &BTreeMap<String, String>| -> Vec<String> {
        let keys: BTreeSet<&String> = a.keys().chain(b.keys()).collect();
        keys.into_iter()
            .filter(|k| a.get(*k) != b.get(*k))
            .take(3)
            .map(|k| format!("{k}:\n  got  {:?}\n  want {:?}", a.get(k), b.get(k)))
            .collect()
    };
    let docs = diff(&got.0, &want.0);
    let as_text = |m: &BTreeMap<String, Vec<String>>| -> BTreeMap<String, String> {
        m.iter().map(|(k, v)| (k.clone(), v.join(" "))).collect()
    };
    let visible = diff(&as_text(&got.1), &as_text(&want.1));
    assert!(
        docs.is_empty() && visible.is_empty(),
        "{context}: {} vs {} docs; differing docs: {docs:#?}; differing visibility: {visible:#?}",
        got.0.len(),
        want.0.len()
    );
}

/// `n` random mutations, each valid on the site as left by the ones before it.
pub(crate) fn random_mutations(
    site: &Site,
    rng: &mut ChaCha8Rng,
    n: usize,
    keep: fn(&Mutation) -> bool,
) -> Vec<Mutation> {
    let mut site = site.clone();
    let mut out = Vec::new();
    let mut draws = 0;
    while out.len() < n && draws < 50 * n {
        draws += 1;
        let m = random_mutation(&site, rng);
        if keep(&m) && permdex::sim::mutate::apply(&mut site, &m).is_ok() {
            out.push(m);
        }
    }
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn full_sync_of_a_tiny_site_matches_the_oracle_and_records_bad_files() {
    let h = harness(SimConfig::new(11, Scale::Tiny)).await;
    let record = h.sync(Mode::Full).await;
    assert_eq!(record.outcome, RunOutcome::Completed);
    let pairs = h.assert_matches_oracle("tiny full").await;
    assert!(pairs > 0, "the oracle shows somebody something");
    h.assert_complete("tiny full");

    // Titles and extracted text are those of the site.
    let site = h.site();
    let index = h.index();
    for c in site.contents.values().filter(|c| c.status == permdex::sim::model::Status::Current).take(20) {
        let id = format!("confluence:{}:{}", c.kind.as_str(), c.id);
        let doc = index.reader().get(&id).expect("get").unwrap_or_else(|| panic!("{id} indexed"));
        assert_eq!(doc.title, c.title, "{id}");
    }
    let mut checked = 0;
    for a in site.attachments.values() {
        let id = format!("confluence:attachment:att{}", a.id);
        let Some(doc) = index.reader().get(&id).expect("get") else { continue };
        match a.file.kind {
            FileKind::CorruptPdf => {
                assert!(doc.body.is_empty(), "{id}: a corrupt pdf has no text");
                let failure = record.failures.iter().find(|f| f.item == id).expect("corrupt pdf recorded");
                assert!(!failure.reason.is_empty());
            }
            FileKind::Oversized => assert!(doc.body.is_empty(), "{id}: oversized files are not downloaded"),
            _ => {
                let word = a
                    .file
                    .text
                    .split_whitespace()
                    .find(|w| w.len() > 4 && w.chars().all(char::is_alphabetic));
                if let Some(word) = word {
                    assert!(
                        doc.body.contains(word),
                        "{id} ({:?}): {word:?} not in {:?}",
                        a.file.kind,
                        doc.body
                    );
                    checked += 1;
                }
            }
        }
    }
    assert!(checked > 0, "some attachment text was checked");
    assert!(record.failed() >= 1, "the corrupt pdf counts as a failure");

    // A second, unchanged incremental run costs few calls and changes nothing.
    let before = h.fingerprint().await;
    let again = h.sync(Mode::Incremental).await;
    assert_eq!(again.total().added + again.total().updated + again.total().deleted, 0, "{again:?}");
    // Each attachment's outcome is shown and stamped with the extractor's version: this extractor does not
    // try the corrupt file again (an older one's failures would be).
    assert!(record.total().extracted > 0, "{record:?}");
    let table = permdex::sync::runs::render_table(std::slice::from_ref(&record));
    assert!(
        table.contains("attachments extracted: ") && table.contains("failed confluence:attachment:att"),
        "{table}"
    );
    assert!(again.failures.iter().all(|f| !f.item.contains(":attachment:")), "{:?}", again.failures);
    assert_same(&h.fingerprint().await, &before, "after a no-change incremental sync");
    eprintln!(
        "no-change incremental: {} api calls vs {} for the full sync ({:.0}%)",
        again.api.calls,
        record.api.calls,
        100.0 * again.api.calls as f64 / record.api.calls.max(1) as f64
    );
    assert!(
        again.api.calls < record.api.calls,
        "incremental {} vs full {}",
        again.api.calls,
        record.api.calls
    );

    // Status reads the runs back.
    let runs = permdex::sync::runs::read_last(h.config.data_dir(), "sim", 10).expect("runs");
    assert_eq!(runs.len(), 2);
    assert_eq!(runs[0].mode, Mode::Full);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn small_site_full_and_incremental_match_the_oracle() {
    // With inline comments and role-based space access, which the tiny sites of `confluence_sync` also have.
    let features = SiteFeatures { inline_comments: true, space_roles: true, ..SiteFeatures::NONE };
    let h = harness_with(SimConfig::new(2, Scale::Small), features).await;
    let record = h.sync(Mode::Full).await;
    assert_eq!(record.outcome, RunOutcome::Completed);
    let pairs = h.assert_matches_oracle("small full").await;
    h.assert_complete("small full");
    let mut rng = ChaCha8Rng::seed_from_u64(2);
    let mutations = random_mutations(&h.site(), &mut rng, 20, |_| true);
    h.mutate(&mutations).await;
    let incremental = h.sync(Mode::Incremental).await;
    h.assert_matches_oracle("small incremental").await;
    h.assert_complete("small incremental");
    eprintln!(
        "small site: {} docs, {pairs} visible (user, doc) pairs checked; full sync {} api calls, incremental after \
         20 mutations {} api calls",
        record.total().seen,
        record.api.calls,
        incremental.api.calls
    );
}

/// Calls per route made between two snapshots of the simulator's counters.
fn calls_between(before: &BTreeMap<String, u64>, after: &BTreeMap<String, u64>) -> BTreeMap<String, u64> {
    after
        .iter()
        .map(|(route, n)| (route.clone(), n - before.get(route).copied().unwrap_or(0)))
        .filter(|(_, n)| *n > 0)
        .collect()
}

/// Routes a no-change incremental sync calls once per permission object (a group: once per page of its
/// members), for lack of any API that says the object is unchanged: a space's permissions, a group's
/// members, a project's permission scheme, a role's actors in a project.
const PER_PERMISSION_OBJECT: [&str; 4] = [
    "GET /wiki/api/v2/spaces/{id}/permissions",
    "GET /wiki/rest/api/group/{group_id}/membersByGroupId",
    "GET /rest/api/3/project/{project}/permissionscheme",
    "GET /rest/api/3/project/{project}/role/{role}",
];

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_no_change_incremental_sync_reads_permission_objects_and_listings_only() {
    // `PERMDEX_NO_CHANGE_SCALE=medium` measures a medium site (minutes in a debug build).
    let scale: Scale = std::env::var("PERMDEX_NO_CHANGE_SCALE")
        .ok()
        .map_or(Scale::Small, |s| s.parse().unwrap_or_else(|e| panic!("PERMDEX_NO_CHANGE_SCALE: {e}")));
    let h = harness(SimConfig::new(1, scale)).await;
    let guard = &h.sim.state.guard;
    let start = guard.requests_by_route();
    let full = h.sync(Mode::Full).await;
    assert_eq!(full.outcome, RunOutcome::Completed);
    let after_full = guard.requests_by_route();
    let incremental = h.sync(Mode::Incremental).await;
    assert_eq!(incremental.outcome, RunOutcome::Completed);
    assert_eq!(incremental.mode, Mode::Incremental);
    h.assert_matches_oracle("no-change incremental").await;
    let (full_routes, routes) =
        (calls_between(&start, &after_full), calls_between(&after_full, &guard.requests_by_route()));

    // Nothing is fetched item by item: no body, comment page, ancestor chain, restriction or file.
    let per_item = ["{issue}", "/pages/{id}", "/blogposts/{id}", "{attachment", "/content/{id}", "/_media/"];
    let fetched: Vec<&String> = routes.keys().filter(|r| per_item.iter().any(|p| r.contains(p))).collect();
    assert!(fetched.is_empty(), "a no-change run fetched items: {fetched:?}");

    // Each permission object is read once, as in the full sync: one call per space in scope and live
    // project, one per page of 200 members of each group, and one per role in use.
    let site = h.site();
    let objects = [
        site.spaces.values().filter(|s| s.status != permdex::sim::model::Status::Archived).count(),
        site.groups.iter().map(|g| g.members.len() / 200 + 1).sum(),
        site.projects.values().filter(|p| !p.archived).count(),
    ];
    for (route, objects) in PER_PERMISSION_OBJECT.iter().zip(objects) {
        assert_eq!(routes.get(*route).copied(), Some(objects as u64), "{route}: {routes:#?}");
    }
    let roles = PER_PERMISSION_OBJECT[3];
    assert_eq!(routes.get(roles), full_routes.get(roles), "{roles}");

    // The rest (credentials, the directory's and the products' listings, the security levels of every
    // project at once, the access listing, the comment and attachment listings, the issue id listings):
    // a handful per run plus one call per hundreds of items.
    let per_object: u64 = PER_PERMISSION_OBJECT.iter().filter_map(|r| routes.get(*r)).sum();
    let rest = incremental.api.calls - per_object;
    let share = |calls: u64| 100.0 * calls as f64 / full.api.calls as f64;
    eprintln!(
        "no-change incremental ({scale:?}): {} calls = {:.2}% of the full sync's {}; {per_object} read \
         permission objects, the other {rest} are {:.2}%",
        incremental.api.calls,
        share(incremental.api.calls),
        full.api.calls,
        share(rest)
    );
    for (route, calls) in &routes {
        eprintln!("{calls:>6}  {route}");
    }
    let routed: u64 = routes.iter().filter(|(r, _)| !r.contains("/_media/")).map(|(_, n)| n).sum();
    assert_eq!(routed, incremental.api.calls, "the client counts what the site served");
    assert!(
        rest * 1000 <= full.api.calls * 25,
        "beyond permission objects, a no-change incremental made {rest} calls, more than 2.5% of the full \
         sync's {}",
        full.api.calls
    );
    assert!(
        incremental.api.calls * 1000 <= full.api.calls * 85,
        "a no-change incremental made {} calls, more than 8.5% of the full sync's {}",
        incremental.api.calls,
        full.api.calls
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn incremental_syncs_follow_random_mutations() {
    // Seed 9 deletes a comment of an issue whose version does not move: found by a wider sweep.
    for seed in [3_u64, 4, 9] {
        let h = harness(SimConfig::new(seed, Scale::Tiny)).await;
        h.sync(Mode::Full).await;
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        for round in 0..3 {
            let mutations = random_mutations(&h.site(), &mut rng, 6, |_| true);
            h.mutate(&mutations).await;
            let record = h.sync(Mode::Incremental).await;
            assert_eq!(record.outcome, RunOutcome::Completed, "seed {seed} round {round}");
            let context = format!("seed {seed} round {round} after {mutations:?}");
            h.assert_matches_oracle(&context).await;
            h.assert_complete(&context);
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn permissions_only_syncs_follow_permission_changes() {
    let h = harness(SimConfig::new(5, Scale::Tiny)).await;
    h.sync(Mode::Full).await;
    let mut rng = ChaCha8Rng::seed_from_u64(5);
    for round in 0..3 {
        let mutations = random_mutations(&h.site(), &mut rng, 8, support::permission_only);
        h.mutate(&mutations).await;
        let record = h.sync(Mode::PermissionsOnly).await;
        assert_eq!(record.total().added + record.total().updated, 0, "no bodies in a permissions-only run");
        h.assert_matches_oracle(&format!("round {round} after {mutations:?}")).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rate_limited_and_faulty_runs_end_like_a_clean_run() {
    let clean = harness(SimConfig::new(21, Scale::Tiny)).await;
    clean.sync(Mode::Full).await;
    let want = clean.fingerprint().await;

    let mut disturbed = SimConfig::new(21, Scale::Tiny);
    // 80 requests a second: eight concurrent requests stay under it only if each takes over 100 ms.
    disturbed.rate_limit = Some(support::rate_limit(20, Duration::from_millis(250)));
    disturbed.faults = FaultConfig {
        seed: 7,
        server_error: 0.05,
        truncated: 0.03,
        malformed_json: 0.03,
        empty_next: 0.2,
        ..FaultConfig::default()
    };
    let h = harness(disturbed).await;
    let record = h.sync(Mode::Full).await;
    assert!(record.api.retries > 0, "faults were met and retried: {:?}", record.api);
    assert!(record.api.throttled > 0, "the rate limit was hit: {:?}", record.api);
    let unexpected: Vec<_> =
        record.failures.iter().filter(|f| !f.reason.contains("extraction")).collect::<Vec<_>>();
    assert!(unexpected.is_empty(), "only the corrupt file fails: {unexpected:?}");
    assert_same(&h.fingerprint().await, &want, "faulty run");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn persistent_faults_are_recorded_and_the_sync_goes_on() {
    let mut config = SimConfig::new(22, Scale::Tiny);
    config.faults = FaultConfig { seed: 3, malformed_json: 0.3, truncated: 0.1, ..FaultConfig::default() };
    let h = harness(config).await;
    // One retry only, so that some requests fail for good.
    let impatient = SyncOptions { max_retries: 1, ..support::quick_sync_options() };
    let record = h.sync_with_options(Mode::Full, &impatient, &mut Silent).await;
    assert_ne!(record.outcome, RunOutcome::Cancelled);
    assert!(record.failed() > 0, "{record:#?}");
    for failure in &record.failures {
        assert!(!failure.item.is_empty() && !failure.reason.is_empty(), "{failure:?}");
    }
    let reasons: String = record.failures.iter().map(|f| f.reason.as_str()).collect::<Vec<_>>().join("\n");
    assert!(reasons.contains("malformed") || reasons.contains("truncat"), "{reasons}");
    // Whatever was indexed is never visible to someone the oracle denies.
    let index = h.index();
    for user in h.site().users {
        let want = h.oracle(&user.account_id).await;
        for id in index.visible_ids(&user.account_id).expect("visible") {
            assert!(want.binary_search(&id).is_ok(), "{} sees {id}", user.account_id);
        }
    }
    // Once the site behaves, an incremental run repairs everything.
    let response = h
        .http
        .post(format!("{}/_sim/faults", h.sim.url))
        .basic_auth(&h.sim.credentials.email, Some(&h.sim.credentials.token))
        .json(&serde_json::json!({}))
        .send()
        .await
        .expect("faults answer");
    assert!(response.status().is_success());
    h.sync(Mode::Incremental).await;
    h.assert_matches_oracle("after repair").await;
    h.assert_complete("after repair");
}

/// The totals a run announces and the last count of each kind, by `product:kind`.
#[derive(Default)]
struct Tally {
    totals: BTreeMap<String, u64>,
    done: BTreeMap<String, u64>,
}

impl Progress for Tally {
    fn report(&mut self, event: &ProgressEvent<'_>) {
        match event {
            ProgressEvent::Total { product, kind, total } => {
                self.totals.insert(format!("{product}:{kind}"), *total);
            }
            ProgressEvent::Items { product, kind, done } => {
                self.done.insert(format!("{product}:{kind}"), *done);
            }
            ProgressEvent::Phase { .. } | ProgressEvent::Checkpoint { .. } => {}
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_full_sync_announces_the_totals_it_then_reads() {
    let h = harness(SimConfig::new(31, Scale::Tiny)).await;
    let mut full = Tally::default();
    let record = h.sync_watched(Mode::Full, &mut full).await;
    assert!(record.failures.iter().all(|f| f.reason.contains("extraction")), "{:?}", record.failures);
    for kind in ["confluence:page", "confluence:blogpost", "jira:issue"] {
        let total = full.totals.get(kind).copied();
        assert!(total.is_some_and(|t| t > 0), "{kind}: a total was announced: {:?}", full.totals);
        assert_eq!(total, full.done.get(kind).copied(), "{kind}: announced and read");
    }
    // Comments and attachments are listed site-wide without a count: no total is invented for them.
    assert!(!full.totals.contains_key("confluence:comment"), "{:?}", full.totals);

    // An incremental run announces the issues it will read again (the changed ones and the overlap
    // window's) and reads exactly those: a handful, not the site.
    let mut incremental = Tally::default();
    h.sync_watched(Mode::Incremental, &mut incremental).await;
    let expected = incremental.totals.get("jira:issue").copied();
    assert!(expected.is_some_and(|n| n < full.totals["jira:issue"]), "{:?}", incremental.totals);
    assert_eq!(incremental.done.get("jira:issue").copied().unwrap_or(0), expected.unwrap_or(0));
}

/// Lets a run go on for a number of stop checks (between items), then asks it to stop.
struct StopAfter {
    polls_left: usize,
}

impl Progress for StopAfter {
    fn report(&mut self, _: &ProgressEvent<'_>) {}

    fn should_stop(&mut self) -> bool {
        match self.polls_left.checked_sub(1) {
            Some(left) => {
                self.polls_left = left;
                false
            }
            None => true,
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cancelled_and_killed_runs_resume_to_the_clean_result() {
    let clean = harness(SimConfig::new(31, Scale::Tiny)).await;
    clean.sync(Mode::Full).await;
    let want = clean.fingerprint().await;

    // Cancelled through Progress, several times, each run resuming the last.
    let h = harness(SimConfig::new(31, Scale::Tiny)).await;
    let mut cancelled = 0;
    for stop_after in [3, 5, 8] {
        let record = h.sync_watched(Mode::Full, &mut StopAfter { polls_left: stop_after }).await;
        if record.outcome == RunOutcome::Cancelled {
            cancelled += 1;
        }
    }
    assert!(cancelled > 0, "a run was cancelled mid-way");
    let resumed = h.sync(Mode::Incremental).await;
    assert_eq!(resumed.mode, Mode::Full, "an interrupted full sync is continued, not replaced");
    assert!(resumed.resumed);
    assert_same(&h.fingerprint().await, &want, "cancelled runs");

    // Killed: a `permdex sync` child process is killed after its first checkpoints, then the sync is resumed.
    let k = harness(SimConfig::new(31, Scale::Tiny)).await;
    let config_path = write_config(&k.sim, k.data.path());
    let mut child = tokio::process::Command::new(env!("CARGO_BIN_EXE_permdex"))
        .args(["sync", "--full", "--checkpoint-interval", "0", "--config"])
        .arg(&config_path)
        .env(TOKEN_ENV, &k.sim.credentials.token)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .expect("permdex sync starts");
    let meta = permdex::sync::index_dir(k.data.path(), "sim").join("meta");
    let mut killed_mid_run = false;
    loop {
        let generations = std::fs::read_dir(&meta).map(|d| d.flatten().count()).unwrap_or(0);
        if generations >= 4 {
            killed_mid_run = child.try_wait().expect("child status").is_none();
            child.start_kill().expect("kill");
            break;
        }
        if child.try_wait().expect("child status").is_some() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    child.wait().await.expect("child ends");
    eprintln!("cancelled runs: {cancelled}; child killed mid-run: {killed_mid_run}");
    let record = k.sync(Mode::Full).await;
    assert_eq!(record.outcome, RunOutcome::Completed);
    assert!(!killed_mid_run || record.resumed, "a killed run is resumed");
    assert_same(&k.fingerprint().await, &want, "killed run");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn scope_changes_remove_what_falls_out() {
    let h = harness(SimConfig::new(41, Scale::Tiny)).await;
    h.sync(Mode::Full).await;
    let site = h.site();
    let space = site.spaces.values().next().expect("a space").key.clone();
    let project = site.projects.values().next().expect("a project").key.clone();
    let narrowed = load_config(
        &h.sim,
        h.data.path(),
        &format!("exclude_spaces = [{space:?}]\nexclude_projects = [{project:?}]"),
    );
    let record =
        support::sync_first_source(&narrowed, Mode::Incremental, &support::quick_sync_options(), &mut Silent)
            .await;
    assert!(record.total().deleted > 0);
    assert!(
        !record.notes.iter().any(|n| n.starts_with("scope:")),
        "known keys are not reported: {:?}",
        record.notes
    );
    let index = SourceIndex::open(&narrowed, &narrowed.sources()[0]).expect("index");
    for (id, _) in index.reader().all_ids().expect("ids") {
        let doc = index.reader().get(&id).expect("get").expect("doc");
        assert_ne!(doc.space.as_deref(), Some(space.as_str()), "{id}");
        assert_ne!(doc.project.as_deref(), Some(project.as_str()), "{id}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_sync_names_scope_keys_that_are_not_on_the_site() {
    let h = harness(SimConfig::new(42, Scale::Tiny)).await;
    let site = h.site();
    let space = site.spaces.values().find(|s| !s.key.starts_with('~')).expect("a space").key.clone();
    let config = load_config(
        &h.sim,
        h.data.path(),
        &format!("exclude_spaces = [{space:?}, \"NOSUCH\"]\nexclude_projects = [\"GONE\"]"),
    );
    for mode in [Mode::Full, Mode::Incremental] {
        let record =
            support::sync_first_source(&config, mode, &support::quick_sync_options(), &mut Silent).await;
        let scope: Vec<&String> = record.notes.iter().filter(|n| n.starts_with("scope:")).collect();
        assert_eq!(scope.len(), 2, "{mode:?}: {:?}", record.notes);
        assert!(scope.iter().any(|n| n.contains("space key \"NOSUCH\"")), "{scope:?}");
        assert!(scope.iter().any(|n| n.contains("project key \"GONE\"")), "{scope:?}");
    }
}

/// `permdex sync` stops at once on SIGTERM and on Ctrl-C (SIGINT) while it waits: on a 429 whose
/// `Retry-After` asks for ten minutes, and on a pacer that allows one request every 100 seconds. The run is
/// recorded as cancelled (exit status 130), and the next one completes it.
#[cfg(unix)]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cli_sync_stops_on_sigterm_and_ctrl_c_while_waiting_on_a_retry_after_or_the_pacer() {
    let refusal =
        permdex::sim::FirstCallRefusal { seed: 1, share: 1.0, retry_after: Duration::from_secs(600) };
    for (signal, name, wait) in [(libc::SIGTERM, "SIGTERM", "Retry-After"), (libc::SIGINT, "Ctrl-C", "pacer")]
    {
        let h = harness(SimConfig::new(13, Scale::Tiny)).await;
        let config_path = write_config(&h.sim, h.data.path());
        if wait == "pacer" {
            let text = std::fs::read_to_string(&config_path).expect("config");
            let slow = text.replace("requests_per_second = 2000.0", "requests_per_second = 0.01");
            std::fs::write(&config_path, slow).expect("config");
        } else {
            h.sim.state.guard.set_first_call_refusal(Some(refusal.clone()));
        }
        let mut child = tokio::process::Command::new(env!("CARGO_BIN_EXE_permdex"))
            .args(["sync", "--config"])
            .arg(&config_path)
            .env(TOKEN_ENV, &h.sim.credentials.token)
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .expect("permdex sync starts");
        // Waiting: the site refused a first call (Retry-After: 600), or answered the one call the pacer
        // let through at once (the next slot is 100 s away).
        let waiting = || {
            let stats = h.sim.state.guard.stats();
            if wait == "pacer" {
                stats.requests >= 1
            } else {
                stats.first_call_refusals >= 1
            }
        };
        while !waiting() {
            assert!(
                child.try_wait().expect("child status").is_none(),
                "{name}: the sync ended before waiting"
            );
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        let pid = child.id().expect("pid") as libc::pid_t;
        let signalled = std::time::Instant::now();
        // SAFETY: kill only sends a signal to the child this test started and still holds.
        assert_eq!(unsafe { libc::kill(pid, signal) }, 0, "{name} sent");
        // A generous bound, not a timing assertion: the wait alone would hold the run for minutes.
        let output = tokio::time::timeout(Duration::from_secs(30), child.wait_with_output())
            .await
            .unwrap_or_else(|_| panic!("{name} while waiting on the {wait}: the sync did not stop"))
            .expect("child ends");
        eprintln!("{name} while waiting on the {wait}: stopped {:?} after the signal", signalled.elapsed());
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(output.status.code(), Some(130), "{name} while waiting on the {wait}: {stderr}");
        assert!(stderr.contains("stopping now"), "{stderr}");

        h.sim.state.guard.set_first_call_refusal(None);
        let next = h.sync(Mode::Incremental).await;
        assert_eq!(next.outcome, RunOutcome::Completed, "{name}: {:?}", next.failures);
        h.assert_matches_oracle(&format!("after {name}")).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cli_sync_exits_non_zero_on_failures_and_status_shows_the_runs() {
    let h = harness(SimConfig::new(11, Scale::Tiny)).await;
    let config_path = write_config(&h.sim, h.data.path());
    let run = |args: &[&str]| {
        std::process::Command::new(env!("CARGO_BIN_EXE_permdex"))
            .args(args)
            .arg("--config")
            .arg(&config_path)
            .env(TOKEN_ENV, &h.sim.credentials.token)
            .output()
            .expect("permdex runs")
    };
    let sync = tokio::task::block_in_place(|| run(&["sync", "--full", "--checkpoint-interval", "0"]));
    let stderr = String::from_utf8_lossy(&sync.stderr);
    // The site's corrupt PDF fails extraction: the run says so and exits 1.
    assert_eq!(sync.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("failure(s)") && stderr.contains("confluence:attachment:att"), "{stderr}");
    assert!(!stderr.contains(&h.sim.credentials.token), "the token is never printed");

    let status = tokio::task::block_in_place(|| run(&["status", "--json"]));
    assert!(status.status.success());
    let json: serde_json::Value = serde_json::from_slice(&status.stdout).expect("status json");
    let runs = json["runs"].as_array().expect("runs");
    assert_eq!(runs.len(), 1);
    assert_eq!(runs[0]["mode"], "full");
    assert!(runs[0]["failures"].as_array().is_some_and(|f| !f.is_empty()));
    let table = tokio::task::block_in_place(|| run(&["status"]));
    let table = String::from_utf8_lossy(&table.stdout);
    assert!(table.contains("full") && table.contains("failure"), "{table}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unreadable_permissions_keep_the_last_good_acl_and_a_lost_state_starts_over() {
    let h = harness(SimConfig::new(51, Scale::Tiny)).await;
    h.sync(Mode::Full).await;
    let before = h.fingerprint().await;

    // The site refuses the token now: nothing can be read, so nothing may change.
    let env = support::token_environment(TOKEN_ENV, "not-the-token");
    let refused = Config::from_toml(&config_text(&h.sim, h.data.path()), &h.data.path().join("p.toml"), &env)
        .expect("config");
    for mode in [Mode::PermissionsOnly, Mode::Incremental] {
        let record =
            support::sync_first_source(&refused, mode, &support::quick_sync_options(), &mut Silent).await;
        assert!(record.failed() > 0, "{mode:?}: the refusals are recorded");
        assert_eq!(record.total().deleted, 0, "{mode:?}: a listing that failed deletes nothing");
        assert_same(&h.fingerprint().await, &before, &format!("{mode:?} with a refused token"));
    }

    // A state file that no longer matches its commit: the next run says so and rebuilds everything.
    let meta = permdex::sync::index_dir(h.data.path(), "sim").join("meta");
    let newest = std::fs::read_dir(&meta)
        .expect("meta dir")
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "state"))
        .max_by_key(|p| {
            let name = p.file_stem().and_then(|n| n.to_str()).unwrap_or_default().to_string();
            name.trim_start_matches("gen-").parse::<u64>().unwrap_or(0)
        })
        .expect("a state file");
    std::fs::write(&newest, b"{\"version\": 1, \"garbage\": true}").expect("overwrite state");
    let record = h.sync(Mode::Incremental).await;
    assert_eq!(record.mode, Mode::Full);
    assert!(record.notes.iter().any(|n| n.contains("starting over")), "{:?}", record.notes);
    h.assert_matches_oracle("after starting over").await;
    h.assert_complete("after starting over");
}

/// The roles a generated site's permission objects and comments name, over every project.
fn named_roles(site: &Site) -> BTreeSet<u64> {
    let role = |h: &Holder| match h {
        Holder::ProjectRole(id) => Some(*id),
        _ => None,
    };
    let grants = site.permission_schemes.values().flat_map(|s| &s.grants).filter_map(|g| role(&g.holder));
    let members = site
        .security_schemes
        .values()
        .flat_map(|s| &s.levels)
        .flat_map(|l| &l.members)
        .filter_map(|m| role(&m.holder));
    let comments = site.issue_comments.values().filter_map(|c| match &c.visibility {
        Some(Visibility::Role(id)) => Some(*id),
        _ => None,
    });
    grants.chain(members).chain(comments).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn roles_are_read_once_something_names_them_and_followed_after() {
    // Only the roles that grants, level members and comments name are read; one first named by a new
    // comment is read when the comment is, and from then on with the permissions, so a change of its
    // actors alone (no issue changes) is followed.
    let h = harness(SimConfig::new(6, Scale::Tiny)).await;
    assert_eq!(h.sync(Mode::Full).await.outcome, RunOutcome::Completed);
    let site = h.site();
    let named = named_roles(&site);
    let role = site.roles.iter().map(|r| r.id).find(|id| !named.contains(id)).expect("a role nothing names");
    // An issue without a level that some account can see, so that a comment on it is visible to somebody.
    let mut visible_issues = BTreeSet::new();
    for user in site.users.iter().filter(|u| u.active) {
        visible_issues
            .extend(h.oracle(&user.account_id).await.into_iter().filter(|d| d.starts_with("jira:issue:")));
    }
    let issue = site
        .issues
        .values()
        .find(|i| i.security_level_id.is_none() && visible_issues.contains(&format!("jira:issue:{}", i.id)))
        .expect("a visible issue without a level");
    let everyone: BTreeSet<String> =
        site.users.iter().filter(|u| u.active).map(|u| u.account_id.clone()).collect();
    let set_actors = |users: BTreeSet<String>| Mutation::SetRoleActors {
        project_id: issue.project_id,
        role_id: role,
        users,
        groups: BTreeSet::new(),
    };
    h.mutate(&[set_actors(everyone.clone())]).await;
    let unnamed = h.sync(Mode::PermissionsOnly).await;

    h.mutate(&[Mutation::AddIssueComment {
        issue_id: issue.id,
        body_text: "for the role nothing else names".into(),
        visibility: Some(Visibility::Role(role)),
    }])
    .await;
    let record = h.sync(Mode::Incremental).await;
    assert_eq!(record.outcome, RunOutcome::Completed, "{:?}", record.failures);
    h.assert_matches_oracle("a comment restricted to a role nothing else names").await;
    let comment = format!("jira:comment:{}", h.site().issue_comments.keys().max().expect("a comment"));
    let mut readers = 0;
    for account in &everyone {
        readers += usize::from(h.oracle(account).await.contains(&comment));
    }
    assert!(readers > 0, "{comment} is visible to somebody, so reading its role matters");

    let named_now = h.sync(Mode::PermissionsOnly).await;
    assert_eq!(
        named_now.api.calls,
        unnamed.api.calls + 1,
        "the role the stored comment names is read with the permissions, and nothing else is added"
    );

    // The role's actors change and no issue does: the next incremental run follows.
    let first = everyone.iter().next().cloned().into_iter().collect();
    h.mutate(&[set_actors(first)]).await;
    let record = h.sync(Mode::Incremental).await;
    assert_eq!(record.outcome, RunOutcome::Completed);
    h.assert_matches_oracle("the actors of a role only a comment names changed").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn product_access_is_a_precondition_across_syncs_and_permission_refreshes() {
    // Confluence-only accounts, accounts whose only Jira is Product Discovery, Jira-only accounts, guests,
    // and application-role grants by key and without one.
    let features = SiteFeatures { product_access: true, ..SiteFeatures::NONE };
    for seed in [2_u64, 7] {
        let h = harness_with(SimConfig::new(seed, Scale::Tiny), features).await;
        let record = h.sync(Mode::Full).await;
        assert_eq!(record.outcome, RunOutcome::Completed, "seed {seed}: {:?}", record.failures);
        h.assert_matches_oracle(&format!("seed {seed} full")).await;
        // Somebody is granted Jira by a group yet reads none of it for want of a Jira application.
        let site = h.site();
        let jira_groups: BTreeSet<&String> =
            site.product_access.jira.values().flat_map(|a| &a.groups).collect();
        let without_jira = site
            .users
            .iter()
            .filter(|u| u.active && !jira_groups.iter().any(|g| site.is_member(&u.account_id, g)))
            .count();
        assert!(without_jira > 0, "seed {seed}: the site has accounts without Jira");
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        for round in 0..2 {
            let mutations = random_mutations(&site, &mut rng, 6, |_| true);
            h.mutate(&mutations).await;
            h.sync(Mode::Incremental).await;
            h.assert_matches_oracle(&format!("seed {seed} round {round} after {mutations:?}")).await;
            let mutations = random_mutations(&h.site(), &mut rng, 6, support::permission_only);
            h.mutate(&mutations).await;
            h.sync(Mode::PermissionsOnly).await;
            h.assert_matches_oracle(&format!(
                "seed {seed} round {round} permissions only after {mutations:?}"
            ))
            .await;
        }
    }
}

/// Stops when the token is cancelled, as `permdex sync` does on Ctrl-C or SIGTERM.
struct StopOnCancel(tokio_util::sync::CancellationToken);

impl Progress for StopOnCancel {
    fn report(&mut self, _: &ProgressEvent<'_>) {}

    fn should_stop(&mut self) -> bool {
        self.0.is_cancelled()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cancelled_run_stops_while_waiting_on_the_pacer_and_resumes_to_the_clean_result() {
    let clean = harness(SimConfig::new(33, Scale::Tiny)).await;
    clean.sync(Mode::Full).await;
    let want = clean.fingerprint().await;

    // One request every 100 s: without cancellation the run would wait on the pacer for hours.
    let sim = support::start_generated(SimConfig::new(33, Scale::Tiny)).await;
    let data = tempfile::tempdir().expect("tempdir");
    let text =
        config_text(&sim, data.path()).replace("requests_per_second = 2000.0", "requests_per_second = 0.01");
    let environment = support::token_environment(TOKEN_ENV, &sim.credentials.token);
    let slow = Config::from_toml(&text, &support::config_path(data.path()), &environment).expect("config");
    let cancel = tokio_util::sync::CancellationToken::new();
    let options = SyncOptions { cancel: cancel.clone(), ..support::quick_sync_options() };
    let stopper = {
        let cancel = cancel.clone();
        tokio::spawn(async move {
            tokio::time::sleep(Duration::from_millis(300)).await;
            cancel.cancel();
        })
    };
    let mut progress = StopOnCancel(cancel);
    // A generous bound, not a timing assertion: the pacer alone would hold the run for hours.
    let record = tokio::time::timeout(
        Duration::from_secs(60),
        support::sync_first_source(&slow, Mode::Full, &options, &mut progress),
    )
    .await
    .expect("the cancelled run ends instead of waiting on the pacer");
    stopper.await.expect("stopper");
    assert_eq!(record.outcome, RunOutcome::Cancelled);
    assert!(record.api.calls < 10, "stopped early: {} calls", record.api.calls);

    // The next run (at full speed) resumes to where a clean run ends.
    let h = Harness { config: load_config(&sim, data.path(), ""), sim, data, http: reqwest::Client::new() };
    h.sync(Mode::Incremental).await;
    h.assert_matches_oracle("resumed after a cancellation").await;
    assert_same(&h.fingerprint().await, &want, "resumed after a cancellation");
}

/// Whether a request downloads an attachment (Jira's content URL, Confluence's download URL).
fn is_download(path: &str) -> bool {
    path.contains("/attachment/content/") || path.ends_with("/download")
}

/// Attachments whose download fails are indexed by name, recorded as failures that say they will be read
/// again, and the next run (an incremental one, which sees no change on the site) downloads and extracts
/// them: the index ends as a clean run's. A failed download is not a final answer about the file.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn attachments_whose_download_failed_are_downloaded_by_the_next_run() {
    let clean = harness(SimConfig::new(41, Scale::Tiny)).await;
    clean.sync(Mode::Full).await;
    let want = clean.fingerprint().await;

    let h = harness(SimConfig::new(41, Scale::Tiny)).await;
    h.sim
        .state
        .guard
        .set_broken(Some(std::sync::Arc::new(|path: &str, _: &[(String, String)]| is_download(path))));
    let first = h.sync(Mode::Full).await;
    let unread: Vec<&str> = first
        .failures
        .iter()
        .filter(|f| f.reason.contains("downloaded again by a later run"))
        .map(|f| f.item.as_str())
        .collect();
    assert!(
        unread.iter().any(|i| i.starts_with("jira:attachment:"))
            && unread.iter().any(|i| i.starts_with("confluence:attachment:")),
        "downloads of both products failed: {:?}",
        first.failures
    );
    h.assert_matches_oracle("downloads failing").await;
    assert_ne!(h.fingerprint().await, want, "the attachments' text is missing");

    h.sim.state.guard.set_broken(None);
    let next = h.sync(Mode::Incremental).await;
    assert!(
        next.failures.iter().all(|f| !f.reason.contains("download")),
        "every download succeeds now: {:?}",
        next.failures
    );
    h.assert_matches_oracle("downloads read again").await;
    assert_same(&h.fingerprint().await, &want, "downloads read again");
}

/// A run stopped (Ctrl-C, SIGTERM) while it downloads attachments and fetches comments does not record
/// the calls it cut short as failures of their items: they are counted as interrupted, and the run that
/// resumes it reads them, ending as a clean run does.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn calls_a_stopped_run_cut_short_are_interrupted_not_failed_and_read_when_it_resumes() {
    let clean = harness(SimConfig::new(42, Scale::Tiny)).await;
    clean.sync(Mode::Full).await;
    let want = clean.fingerprint().await;

    let h = harness(SimConfig::new(42, Scale::Tiny)).await;
    let cancel = tokio_util::sync::CancellationToken::new();
    // The stop comes as the first download is asked for; that call (and every other then on the way)
    // ends in a cancellation.
    let stop = cancel.clone();
    h.sim.state.guard.set_broken(Some(std::sync::Arc::new(move |path: &str, _: &[(String, String)]| {
        let download = is_download(path);
        if download {
            stop.cancel();
        }
        download
    })));
    let options = SyncOptions { cancel: cancel.clone(), ..support::quick_sync_options() };
    let stopped = h.sync_with_options(Mode::Full, &options, &mut StopOnCancel(cancel)).await;
    assert_eq!(stopped.outcome, RunOutcome::Cancelled, "{:?}", stopped.failures);
    assert!(stopped.total().interrupted >= 1, "the cut calls are counted: {:?}", stopped.counts);
    let cut: Vec<_> = stopped.failures.iter().filter(|f| f.reason.contains("cancelled")).collect();
    assert!(cut.is_empty(), "a call cut short by the stop is no failure of its item: {cut:?}");

    h.sim.state.guard.set_broken(None);
    let resumed = h.sync(Mode::Incremental).await;
    assert_eq!(resumed.outcome, RunOutcome::Completed, "{:?}", resumed.failures);
    h.assert_matches_oracle("resumed after a stop during downloads").await;
    assert_same(&h.fingerprint().await, &want, "resumed after a stop during downloads");
}

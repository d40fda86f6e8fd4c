//! The benchmark's generated corpus: documents with Zipf-distributed words and lengths, users in groups of
//! heavy-tailed sizes, and Atlassian-shaped permissions, all from one seed.
//!
//! The shape follows a Confluence and Jira site. Confluence documents live in spaces and Jira documents in
//! projects ([`Container`]s) whose sizes follow Zipf's law; some users also have a small personal space
//! (`~u12`) that only they read. Each other container has a read clause: `Anyone` for public spaces
//! (chosen until [`CorpusParams::public_share`] of the documents is public), otherwise a few groups, drawn
//! with Zipf's law over group ranks so that big groups are granted often, and a few users. In
//! a space, runs of consecutive documents (a page tree with its comments and attachments) are restricted by
//! one more clause, and some runs inside those by a second (a restricted page under a restricted page); in
//! a project, some issues carry a security level. A document's access is the conjunction of its clauses: its
//! *profile*. Every clause but a personal space's names at least one group, so a caller holding every group
//! reads everything but the personal spaces.
//!
//! Group sizes fall as `users / rank^group_exponent`, from everyone (group 0) down to one member; members
//! are drawn with weights that fall with the user's number, so groups per user are heavy-tailed too.
//!
//! Document text is not kept: [`Corpus::text`] regenerates a document's title and body from the seed and its
//! number, so a million documents cost a few bytes each in memory. [`CallerSet`] and
//! [`Corpus::visible_profiles`] answer who may read what from this model alone, sharing no code with the
//! ACL store or the search filter: the oracle and the choice of callers rely on them.
//!
//! This file writes no index; `build.rs` does.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution, Zipf};

use super::Error;
use crate::acl::Principal;
use crate::index::{DocId, IndexDoc, Kind, Product};

/// Everything the generator draws from.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct CorpusParams {
    pub seed: u64,
    pub docs: u32,
    /// Distinct words.
    pub vocabulary: u32,
    /// Zipf exponent of word ranks.
    pub word_exponent: f64,
    /// Body length bounds in words; lengths follow Zipf's law between them.
    pub min_words: u32,
    pub max_words: u32,
    pub length_exponent: f64,
    pub users: u32,
    pub groups: u32,
    /// Group `g` (0-based) has about `users / (g + 1)^group_exponent` members
    /// ([`CorpusParams::falling_to_one`] makes the last group a single member).
    pub group_exponent: f64,
    /// Confluence spaces and Jira projects.
    pub spaces: u32,
    pub projects: u32,
    /// Share of documents in Jira projects.
    pub jira_share: f64,
    /// Share of documents readable by anyone (whole public spaces).
    pub public_share: f64,
    /// Share of Confluence documents under a page restriction.
    pub restricted_share: f64,
    /// Share of Jira issues with a security level.
    pub level_share: f64,
    /// Share of users with a personal space (`~u12`, readable by its owner alone).
    pub personal_share: f64,
    pub order: DocOrder,
    /// Segments the index is written in.
    pub segments: u32,
    /// Share of documents deleted after indexing (they stay in their segments as deletes).
    pub deletes: f64,
}

impl CorpusParams {
    /// A site of `docs` documents with the other sizes scaled from it.
    /// The group exponent under which sizes fall from all `users` (group 0) to one member (the last group).
    pub fn falling_to_one(users: u32, groups: u32) -> f64 {
        if users < 2 || groups < 2 {
            return 1.0;
        }
        f64::from(users).ln() / f64::from(groups).ln()
    }

    pub fn sized(docs: u32, seed: u64) -> CorpusParams {
        let users = (docs / 100).clamp(50, 10_000);
        let groups = (docs / 1000).clamp(20, 1000);
        CorpusParams {
            seed,
            docs,
            vocabulary: 100_000.min(docs.max(1000)),
            word_exponent: 1.0,
            min_words: 8,
            max_words: 600,
            length_exponent: 1.0,
            users,
            groups,
            group_exponent: CorpusParams::falling_to_one(users, groups),
            spaces: (docs / 5000).clamp(8, 400),
            projects: (docs / 10_000).clamp(4, 200),
            jira_share: 0.3,
            public_share: 0.0,
            restricted_share: 0.15,
            level_share: 0.2,
            personal_share: 0.1,
            order: DocOrder::Random,
            segments: 1,
            deletes: 0.0,
        }
    }

    pub fn validate(&self) -> Result<(), Error> {
        let bad = |what: &str| Err(Error::Parameter(what.to_string()));
        if self.docs == 0 {
            return bad("docs must be at least 1");
        }
        if self.vocabulary < 100 {
            return bad("vocabulary must be at least 100 words");
        }
        if self.min_words == 0 || self.min_words > self.max_words {
            return bad("min_words must be between 1 and max_words");
        }
        if self.users == 0 || self.groups == 0 || self.spaces == 0 || self.projects == 0 {
            return bad("users, groups, spaces and projects must each be at least 1");
        }
        if self.segments == 0 || self.segments > self.docs {
            return bad("segments must be between 1 and the number of documents");
        }
        for (name, share) in [
            ("jira_share", self.jira_share),
            ("public_share", self.public_share),
            ("restricted_share", self.restricted_share),
            ("level_share", self.level_share),
            ("personal_share", self.personal_share),
            ("deletes", self.deletes),
        ] {
            if !(0.0..1.0).contains(&share) {
                return Err(Error::Parameter(format!("{name} must be in [0, 1), not {share}")));
            }
        }
        for (name, exponent) in [
            ("word_exponent", self.word_exponent),
            ("length_exponent", self.length_exponent),
            ("group_exponent", self.group_exponent),
        ] {
            if !(0.0..=4.0).contains(&exponent) {
                return Err(Error::Parameter(format!("{name} must be in [0, 4], not {exponent}")));
            }
        }
        Ok(())
    }
}

/// The order documents are written in, and so their ids within segments.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum DocOrder {
    /// A seeded shuffle: readers of one space are scattered over the whole id range.
    Random,
    /// Space by space, project by project: each container's documents are contiguous.
    Clustered,
}

/// A principal of the model.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Who {
    Anyone,
    User(u32),
    Group(u32),
}

impl Who {
    /// The principal the ACL store and the search API know.
    pub fn principal(self) -> Principal {
        match self {
            Who::Anyone => Principal::Anyone,
            Who::User(u) => Principal::User(format!("u{u}")),
            Who::Group(g) => Principal::Group(format!("g{g}")),
        }
    }

    /// A short token for indexed fields and result files: `a`, `u12`, `g3`.
    pub fn token(self) -> String {
        match self {
            Who::Anyone => "a".to_string(),
            Who::User(u) => format!("u{u}"),
            Who::Group(g) => format!("g{g}"),
        }
    }
}

/// A set of principals, one of which a caller must hold.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Clause {
    /// The permission object it comes from, e.g. `space:S3:read` or `page-tree:S3:120`.
    pub key: String,
    pub members: Vec<Who>,
}

/// A Confluence space or a Jira project.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Container {
    pub product: Product,
    /// `S12` or `P3`.
    pub key: String,
    /// Its read (or browse) clause.
    pub clause: u32,
    pub docs: u32,
}

/// What the model keeps per document; its text is regenerated on demand.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DocMeta {
    pub container: u32,
    pub kind: Kind,
    /// Index into [`Corpus::profiles`].
    pub profile: u32,
    pub updated_ms: i64,
}

/// The generated site.
#[derive(Debug, Clone)]
pub struct Corpus {
    pub params: CorpusParams,
    /// Per user, the groups they belong to, ascending.
    pub memberships: Vec<Vec<u32>>,
    pub group_sizes: Vec<u32>,
    pub clauses: Vec<Clause>,
    /// Conjunctions of clauses (indexes into `clauses`), the container's clause first.
    pub profiles: Vec<Vec<u32>>,
    pub containers: Vec<Container>,
    /// By document number.
    pub docs: Vec<DocMeta>,
    /// Document numbers in the order they are written.
    pub write_order: Vec<u32>,
    /// By document number: deleted after indexing.
    pub deleted: Vec<bool>,
    words: Vec<String>,
    word_ranks: Zipf<f64>,
    lengths: Zipf<f64>,
}

/// Most documents in a personal space.
const PERSONAL_SPACE_MAX: u32 = 300;

/// Salts that keep the seed's uses independent.
const STRUCTURE_SALT: u64 = 0x5eed_0001;
const TEXT_SALT: u64 = 0x5eed_0002;

/// The earliest `updated` time, and the span times are drawn from.
const EPOCH_MS: i64 = 1_640_995_200_000; // 2022-01-01
const SPAN_MS: i64 = 3 * 365 * 24 * 3600 * 1000;

impl Corpus {
    pub fn generate(params: &CorpusParams) -> Result<Corpus, Error> {
        params.validate()?;
        let mut rng = ChaCha8Rng::seed_from_u64(params.seed ^ STRUCTURE_SALT);
        let zipf = |n: u32, s: f64| {
            Zipf::new(u64::from(n.max(1)), s).map_err(|e| Error::Parameter(format!("zipf({n}, {s}): {e}")))
        };
        let (memberships, group_sizes) = groups(params, &mut rng);
        let group_ranks = zipf(params.groups, 1.0)?;
        let mut clauses = Vec::new();
        let mut containers = Vec::new();

        // Container sizes: Zipf shares of each product's documents, largest remainder to sum exactly.
        let jira_docs = (f64::from(params.docs) * params.jira_share).round() as u32;
        let confluence_docs = params.docs - jira_docs;
        // Personal spaces first (small, at most a fifth of Confluence), then team spaces share the rest.
        let personal_sizes = zipf(PERSONAL_SPACE_MAX, 1.0)?;
        let mut personal: Vec<(u32, u32)> = Vec::new();
        let mut personal_docs = 0u32;
        for u in 0..params.users {
            if rng.gen_bool(params.personal_share) {
                let size = personal_sizes.sample(&mut rng) as u32;
                if personal_docs + size > confluence_docs / 5 {
                    break;
                }
                personal.push((u, size));
                personal_docs += size;
            }
        }
        let space_sizes = zipf_split(confluence_docs - personal_docs, params.spaces);
        let project_sizes = zipf_split(jira_docs, params.projects);

        // Public spaces, in a seeded order, while they fit in the public share.
        let public_budget = (f64::from(params.docs) * params.public_share).round() as u64;
        let mut order: Vec<usize> = (0..space_sizes.len()).collect();
        order.shuffle(&mut rng);
        let mut public = vec![false; space_sizes.len()];
        let mut public_docs = 0u64;
        for i in order {
            if space_sizes[i] > 0 && public_docs + u64::from(space_sizes[i]) <= public_budget {
                public[i] = true;
                public_docs += u64::from(space_sizes[i]);
            }
        }

        // Grants on spaces and projects favour big groups; restrictions and levels name any group.
        let big_group = |rng: &mut ChaCha8Rng| group_ranks.sample(rng) as u32 - 1;
        let any_group = |rng: &mut ChaCha8Rng| rng.gen_range(0..params.groups);
        let mut grant = Grants { clauses: &mut clauses, users: params.users };
        for (i, &size) in space_sizes.iter().enumerate() {
            let key = format!("S{i}");
            let clause_key = format!("space:{key}:read");
            let clause = if public[i] {
                grant.push(clause_key, vec![Who::Anyone])
            } else {
                let (g, u) = (rng.gen_range(1..=3), rng.gen_range(0..=2));
                grant.draw(&mut rng, clause_key, g, u, &big_group)
            };
            containers.push(Container { product: Product::Confluence, key, clause, docs: size });
        }
        for &(u, size) in &personal {
            let key = format!("~u{u}");
            let clause = grant.push(format!("space:{key}:read"), vec![Who::User(u)]);
            containers.push(Container { product: Product::Confluence, key, clause, docs: size });
        }
        for (i, &size) in project_sizes.iter().enumerate() {
            let key = format!("P{i}");
            let (g, u) = (rng.gen_range(1..=3), rng.gen_range(0..=2));
            let clause = grant.draw(&mut rng, format!("project:{key}:browse"), g, u, &big_group);
            containers.push(Container { product: Product::Jira, key, clause, docs: size });
        }

        // Documents container by container: restricted runs in spaces, security levels in projects.
        let mut profiles: Vec<Vec<u32>> = Vec::new();
        let mut profile_ids: HashMap<Vec<u32>, u32> = HashMap::new();
        let mut intern = |list: Vec<u32>| -> u32 {
            *profile_ids.entry(list.clone()).or_insert_with(|| {
                profiles.push(list);
                profiles.len() as u32 - 1
            })
        };
        let run_lengths = zipf(200, 1.1)?;
        let mut docs = Vec::with_capacity(params.docs as usize);
        for (c, container) in containers.iter().enumerate() {
            let c = c as u32;
            match container.product {
                Product::Confluence => {
                    let mut left = container.docs;
                    // Mean restricted run, to size the open runs between them.
                    let mean_run = 25.0;
                    let open_mean =
                        mean_run * (1.0 - params.restricted_share) / params.restricted_share.max(1e-9);
                    let mut restricted_next = rng.gen_bool(params.restricted_share.clamp(0.0, 1.0));
                    while left > 0 {
                        if restricted_next {
                            let len = (run_lengths.sample(&mut rng) as u32).min(left);
                            let (g, u) = (rng.gen_range(1..=2), rng.gen_range(1..=5));
                            let key = format!("page-tree:{}:{}", container.key, docs.len());
                            let outer = grant.draw(&mut rng, key, g, u, &any_group);
                            // Some runs hold a restricted subtree of their own.
                            let inner = if len >= 4 && rng.gen_bool(0.3) {
                                let start = rng.gen_range(1..len);
                                let inner_len = rng.gen_range(1..=len - start);
                                let key =
                                    format!("page-tree:{}:{}", container.key, docs.len() + start as usize);
                                let (g, u) = (1, rng.gen_range(0..=3));
                                Some((start, start + inner_len, grant.draw(&mut rng, key, g, u, &any_group)))
                            } else {
                                None
                            };
                            let plain = intern(vec![container.clause, outer]);
                            for i in 0..len {
                                let profile = match inner {
                                    Some((from, to, clause)) if (from..to).contains(&i) => {
                                        intern(vec![container.clause, outer, clause])
                                    }
                                    _ => plain,
                                };
                                let kind = confluence_kind(&mut rng);
                                docs.push(doc_meta(&mut rng, c, kind, profile));
                            }
                            left -= len;
                        } else {
                            let len =
                                ((-open_mean * (1.0 - rng.gen::<f64>()).ln()).ceil() as u32).clamp(1, left);
                            let profile = intern(vec![container.clause]);
                            for _ in 0..len {
                                let kind = confluence_kind(&mut rng);
                                docs.push(doc_meta(&mut rng, c, kind, profile));
                            }
                            left -= len;
                        }
                        restricted_next = !restricted_next;
                    }
                }
                Product::Jira => {
                    let levels: Vec<u32> = (0..rng.gen_range(1..=3))
                        .map(|l| {
                            let key = format!("level:{}:{l}", container.key);
                            let u = rng.gen_range(0..=2);
                            grant.draw(&mut rng, key, 1, u, &any_group)
                        })
                        .collect();
                    let open = intern(vec![container.clause]);
                    for _ in 0..container.docs {
                        let profile = if rng.gen_bool(params.level_share.clamp(0.0, 1.0)) {
                            let level = levels[rng.gen_range(0..levels.len())];
                            intern(vec![container.clause, level])
                        } else {
                            open
                        };
                        let kind = if rng.gen_bool(0.6) { Kind::Issue } else { Kind::Comment };
                        docs.push(doc_meta(&mut rng, c, kind, profile));
                    }
                }
            }
        }

        let mut write_order: Vec<u32> = (0..params.docs).collect();
        if params.order == DocOrder::Random {
            write_order.shuffle(&mut rng);
        }
        let mut deleted = vec![false; params.docs as usize];
        let delete_count = (f64::from(params.docs) * params.deletes).round() as usize;
        for n in rand::seq::index::sample(&mut rng, params.docs as usize, delete_count) {
            deleted[n] = true;
        }
        Ok(Corpus {
            params: params.clone(),
            memberships,
            group_sizes,
            clauses,
            profiles,
            containers,
            docs,
            write_order,
            deleted,
            words: (0..params.vocabulary).map(word).collect(),
            word_ranks: zipf(params.vocabulary, params.word_exponent)?,
            lengths: zipf(params.max_words - params.min_words + 1, params.length_exponent)?,
        })
    }

    /// The most clauses any profile has.
    pub fn max_clauses(&self) -> usize {
        self.profiles.iter().map(Vec::len).max().unwrap_or(1)
    }

    /// The word of frequency rank `rank` (0 is the most frequent).
    pub fn word(&self, rank: u32) -> &str {
        &self.words[(rank as usize).min(self.words.len() - 1)]
    }

    /// Document `n`'s title and body, the same on every call.
    pub fn text(&self, n: u32) -> (String, String) {
        let mut rng = ChaCha8Rng::seed_from_u64(self.params.seed ^ TEXT_SALT);
        rng.set_stream(u64::from(n));
        let words = |rng: &mut ChaCha8Rng, count: u32| {
            let mut out = String::with_capacity(count as usize * 7);
            for i in 0..count {
                if i > 0 {
                    out.push(' ');
                }
                let rank = self.word_ranks.sample(rng) as u32 - 1;
                out.push_str(self.word(rank));
            }
            out
        };
        let title_words = rng.gen_range(3..=10);
        let title = words(&mut rng, title_words);
        let body_words = self.params.min_words + self.lengths.sample(&mut rng) as u32 - 1;
        let body = words(&mut rng, body_words);
        (title, body)
    }

    /// Document `n`'s id in the index, e.g. `confluence:page:17`.
    pub fn doc_id(&self, n: u32) -> String {
        let meta = &self.docs[n as usize];
        match self.containers[meta.container as usize].product {
            Product::Confluence => DocId::confluence(meta.kind, n.to_string()).to_string(),
            Product::Jira => DocId::jira(meta.kind, n.to_string()).to_string(),
        }
    }

    /// The document number in an id [`Corpus::doc_id`] made.
    pub fn doc_number(id: &str) -> Option<u32> {
        id.rsplit(':').next()?.parse().ok()
    }

    /// Document `n` as the index writes it, pointing at `profile` of the ACL store.
    pub fn index_doc(&self, n: u32, profile: crate::acl::ProfileId) -> IndexDoc {
        let meta = &self.docs[n as usize];
        let container = &self.containers[meta.container as usize];
        let (title, body) = self.text(n);
        let mut doc = IndexDoc::new(self.doc_id(n), container.product, meta.kind, profile);
        doc.title = title;
        doc.body = body;
        match container.product {
            Product::Confluence => doc.space = Some(container.key.clone()),
            Product::Jira => doc.project = Some(container.key.clone()),
        }
        let updated = DateTime::<Utc>::from_timestamp_millis(meta.updated_ms).unwrap_or_default();
        doc.updated = updated;
        doc.created = updated;
        doc.url = format!("https://bench.invalid/{}", doc.id);
        doc.version = 1;
        doc
    }

    /// Which profiles `caller` satisfies, by profile index: every clause of the profile names a principal
    /// the caller holds. Computed from the model alone.
    pub fn visible_profiles(&self, caller: &CallerSet) -> Vec<bool> {
        let satisfied: Vec<bool> =
            self.clauses.iter().map(|c| c.members.iter().any(|&w| caller.holds(w))).collect();
        self.profiles.iter().map(|p| p.iter().all(|&c| satisfied[c as usize])).collect()
    }

    /// Documents alive after the deletes, per profile.
    pub fn alive_per_profile(&self) -> Vec<u64> {
        let mut out = vec![0u64; self.profiles.len()];
        for (n, meta) in self.docs.iter().enumerate() {
            if !self.deleted[n] {
                out[meta.profile as usize] += 1;
            }
        }
        out
    }

    pub fn alive_docs(&self) -> u64 {
        self.deleted.iter().filter(|d| !**d).count() as u64
    }

    /// The principals of user `u` when signed in: anyone's, the account's own and its groups'.
    pub fn principals_of_user(&self, u: u32) -> Vec<Who> {
        let mut out = vec![Who::Anyone, Who::User(u)];
        out.extend(self.memberships[u as usize].iter().map(|&g| Who::Group(g)));
        out
    }
}

/// A caller's principals as the model sees them, for membership tests.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CallerSet {
    anyone: bool,
    users: Vec<u32>,
    groups: Vec<bool>,
}

impl CallerSet {
    pub fn new(corpus: &Corpus, principals: &[Who]) -> CallerSet {
        let mut set = CallerSet {
            anyone: false,
            users: Vec::new(),
            groups: vec![false; corpus.params.groups as usize],
        };
        for &w in principals {
            match w {
                Who::Anyone => set.anyone = true,
                Who::User(u) => set.users.push(u),
                Who::Group(g) => {
                    if let Some(slot) = set.groups.get_mut(g as usize) {
                        *slot = true;
                    }
                }
            }
        }
        set.users.sort_unstable();
        set
    }

    pub fn holds(&self, who: Who) -> bool {
        match who {
            Who::Anyone => self.anyone,
            Who::User(u) => self.users.binary_search(&u).is_ok(),
            Who::Group(g) => self.groups.get(g as usize).copied().unwrap_or(false),
        }
    }
}

/// Clauses as they are drawn.
struct Grants<'a> {
    clauses: &'a mut Vec<Clause>,
    users: u32,
}

impl Grants<'_> {
    fn push(&mut self, key: String, mut members: Vec<Who>) -> u32 {
        members.sort_unstable();
        members.dedup();
        self.clauses.push(Clause { key, members });
        self.clauses.len() as u32 - 1
    }

    /// A clause of `groups` groups (at least one) picked by `pick`, and `users` random users.
    fn draw(
        &mut self,
        rng: &mut ChaCha8Rng,
        key: String,
        groups: u32,
        users: u32,
        pick: &dyn Fn(&mut ChaCha8Rng) -> u32,
    ) -> u32 {
        let mut members: Vec<Who> = (0..groups.max(1)).map(|_| Who::Group(pick(rng))).collect();
        members.extend((0..users).map(|_| Who::User(rng.gen_range(0..self.users))));
        self.push(key, members)
    }
}

/// Group sizes and members (see the module docs).
fn groups(params: &CorpusParams, rng: &mut ChaCha8Rng) -> (Vec<Vec<u32>>, Vec<u32>) {
    let users = params.users as usize;
    // Users with low numbers join more groups: weight 1/sqrt(u + 1).
    let weights: Vec<f64> = (0..users).map(|u| 1.0 / ((u + 1) as f64).sqrt()).collect();
    let mut memberships = vec![Vec::new(); users];
    let mut sizes = Vec::with_capacity(params.groups as usize);
    let mut keys: Vec<(f64, u32)> = Vec::with_capacity(users);
    for g in 0..params.groups {
        let size = ((users as f64) / f64::from(g + 1).powf(params.group_exponent))
            .round()
            .clamp(1.0, users as f64) as usize;
        sizes.push(size as u32);
        // Weighted sampling without replacement (Efraimidis–Spirakis): the `size` largest u^(1/w).
        keys.clear();
        keys.extend((0..users).map(|u| (rng.gen::<f64>().powf(1.0 / weights[u]), u as u32)));
        if size < users {
            keys.select_nth_unstable_by(size, |a, b| b.0.total_cmp(&a.0));
        }
        for &(_, u) in &keys[..size] {
            memberships[u as usize].push(g);
        }
    }
    (memberships, sizes)
}

/// `total` split over `parts` with Zipf shares (exponent 1), largest remainder, summing exactly.
fn zipf_split(total: u32, parts: u32) -> Vec<u32> {
    let weights: Vec<f64> = (0..parts).map(|i| 1.0 / f64::from(i + 1)).collect();
    let sum: f64 = weights.iter().sum();
    let exact: Vec<f64> = weights.iter().map(|w| f64::from(total) * w / sum).collect();
    let mut out: Vec<u32> = exact.iter().map(|x| x.floor() as u32).collect();
    let mut left = total - out.iter().sum::<u32>();
    let mut by_remainder: Vec<usize> = (0..out.len()).collect();
    by_remainder.sort_by(|&a, &b| (exact[b] - exact[b].floor()).total_cmp(&(exact[a] - exact[a].floor())));
    for i in by_remainder {
        if left == 0 {
            break;
        }
        out[i] += 1;
        left -= 1;
    }
    out
}

fn confluence_kind(rng: &mut ChaCha8Rng) -> Kind {
    match rng.gen_range(0..100) {
        0..40 => Kind::Page,
        40..45 => Kind::Blogpost,
        45..80 => Kind::Comment,
        _ => Kind::Attachment,
    }
}

fn doc_meta(rng: &mut ChaCha8Rng, container: u32, kind: Kind, profile: u32) -> DocMeta {
    DocMeta { container, kind, profile, updated_ms: EPOCH_MS + rng.gen_range(0..SPAN_MS) }
}

/// A pronounceable word for rank `rank`, distinct per rank: syllables of a consonant and a vowel, at least
/// two. The vowels avoid `e` and the consonants `s`, `y`, so the English stemmer leaves nearly every word
/// whole.
fn word(rank: u32) -> String {
    const CONSONANTS: &[u8] = b"bdfgklmnprtvz";
    const VOWELS: &[u8] = b"aiou";
    let base = (CONSONANTS.len() * VOWELS.len()) as u32;
    let mut n = rank;
    let mut out = String::new();
    let mut syllables = 0;
    while n > 0 || syllables < 2 {
        let digit = (n % base) as usize;
        out.push(CONSONANTS[digit / VOWELS.len()] as char);
        out.push(VOWELS[digit % VOWELS.len()] as char);
        n /= base;
        syllables += 1;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tiny() -> CorpusParams {
        CorpusParams { docs: 3000, ..CorpusParams::sized(3000, 7) }
    }

    #[test]
    fn words_are_distinct() {
        let words: std::collections::HashSet<String> = (0..20_000).map(word).collect();
        assert_eq!(words.len(), 20_000);
        assert_eq!(word(0), "baba");
    }

    #[test]
    fn zipf_split_sums_exactly_and_falls() {
        for (total, parts) in [(1000, 7), (3, 10), (0, 4), (123_457, 200)] {
            let split = zipf_split(total, parts);
            assert_eq!(split.iter().sum::<u32>(), total, "{total} over {parts}");
            assert!(split.windows(2).all(|w| w[0] + 1 >= w[1]), "{split:?}");
        }
    }

    #[test]
    fn the_same_seed_gives_the_same_corpus() {
        let a = Corpus::generate(&tiny()).expect("corpus");
        let b = Corpus::generate(&tiny()).expect("corpus");
        assert_eq!(a.docs, b.docs);
        assert_eq!(a.clauses, b.clauses);
        assert_eq!(a.write_order, b.write_order);
        assert_eq!(a.text(17), b.text(17));
        assert_ne!(a.text(17), a.text(18));
        let other = Corpus::generate(&CorpusParams { seed: 8, ..tiny() }).expect("corpus");
        assert_ne!(a.text(17), other.text(17));
    }

    #[test]
    fn shape_follows_the_parameters() {
        let params = CorpusParams { public_share: 0.2, deletes: 0.1, ..tiny() };
        let corpus = Corpus::generate(&params).expect("corpus");
        assert_eq!(corpus.docs.len(), 3000);
        assert_eq!(corpus.deleted.iter().filter(|d| **d).count(), 300);
        assert_eq!(corpus.group_sizes[0], params.users, "group 0 is everyone");
        assert!(corpus.group_sizes.contains(&1), "the smallest groups have one member");
        assert!(corpus.max_clauses() <= 3);
        let count = |who: &[Who]| -> u64 {
            let visible = corpus.visible_profiles(&CallerSet::new(&corpus, who));
            corpus.alive_per_profile().iter().zip(&visible).filter(|(_, v)| **v).map(|(n, _)| n).sum()
        };
        // Every clause but a personal space's names a group or anyone: a signed-in caller (who holds
        // anyone) in every group reads all but those.
        let groups: Vec<Who> =
            std::iter::once(Who::Anyone).chain((0..params.groups).map(Who::Group)).collect();
        let personal: u64 = corpus
            .containers
            .iter()
            .enumerate()
            .filter(|(_, c)| c.key.starts_with('~'))
            .map(|(i, _)| {
                corpus
                    .docs
                    .iter()
                    .enumerate()
                    .filter(|(n, d)| d.container == i as u32 && !corpus.deleted[*n])
                    .count() as u64
            })
            .sum();
        assert!(personal > 0, "some users have personal spaces");
        assert_eq!(count(&groups), corpus.alive_docs() - personal);
        let mut everyone = groups.clone();
        everyone.extend((0..params.users).map(Who::User));
        assert_eq!(count(&everyone), corpus.alive_docs());
        // A personal space is its owner's alone.
        let owner: u32 = corpus
            .containers
            .iter()
            .find_map(|c| c.key.strip_prefix("~u"))
            .and_then(|u| u.parse().ok())
            .expect("a personal space");
        assert!(count(&[Who::User(owner)]) > 0);
        let public = count(&[Who::Anyone]) as f64 / corpus.alive_docs() as f64;
        assert!((0.1..=0.21).contains(&public), "public share {public}");
        let kinds: std::collections::HashSet<Kind> = corpus.docs.iter().map(|d| d.kind).collect();
        assert!(kinds.contains(&Kind::Issue) && kinds.contains(&Kind::Page));
        let (title, body) = corpus.text(5);
        let words = body.split(' ').count() as u32;
        assert!((params.min_words..=params.max_words).contains(&words));
        assert!((3..=10).contains(&title.split(' ').count()));
        assert_eq!(Corpus::doc_number(&corpus.doc_id(42)), Some(42));
    }

    #[test]
    fn bad_parameters_are_refused() {
        let cases = [
            CorpusParams { docs: 0, ..tiny() },
            CorpusParams { min_words: 10, max_words: 5, ..tiny() },
            CorpusParams { public_share: 1.5, ..tiny() },
            CorpusParams { segments: 0, ..tiny() },
        ];
        for params in cases {
            assert!(params.validate().is_err(), "{params:?}");
        }
    }
}

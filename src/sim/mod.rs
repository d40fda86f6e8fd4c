//! A deterministic Atlassian Cloud simulator: the site every test and the demo crawl.
//!
//! - [`model`]: the organisation as plain data ([`Site`]).
//! - [`generate`]: builds a [`Site`] from a seed and a [`Scale`], or from an external corpus.
//! - [`files`]: renders attachment bytes (PDF, DOCX, XLSX, text) from their model description.
//! - [`oracle`]: who may read what, computed from the model by Atlassian's rules, independently of any crawler.
//! - [`mutate`]: the changes a site undergoes between syncs (edits, moves, permission changes, …).
//! - [`http`]: the REST API (Confluence v1/v2, Jira v3) with auth, rate limits and fault injection,
//!   plus the `/_sim/` admin routes.
//!
//! The simulator is a test double for Atlassian, not part of the crawl path: nothing outside `sim/`
//! depends on it except the CLI, the demo and the tests.

pub mod files;
pub mod fixture;
pub mod generate;
pub mod http;
pub mod model;
pub mod mutate;
pub mod oracle;
pub mod run;

pub use model::Site;

use std::time::Duration;

/// Errors of the simulator.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("unknown scale {0:?}: expected small, medium or large")]
    UnknownScale(String),
    #[error("bad corpus spec {0:?}: expected cranfield:PATH or jira-csv:PATH")]
    BadCorpusSpec(String),
    #[error("cannot read corpus {path}: {reason}")]
    Corpus { path: String, reason: String },
    #[error("no such {kind} {id}")]
    NotFound { kind: &'static str, id: String },
    #[error("invalid mutation: {0}")]
    InvalidMutation(String),
    #[error("simulator i/o: {0}")]
    Io(#[from] std::io::Error),
}

/// How big a generated site is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Scale {
    /// A few hundred items: unit and integration tests.
    Tiny,
    /// About two thousand items: the demo and most integration tests.
    Small,
    /// About twenty thousand items.
    Medium,
    /// At least a hundred thousand items: benchmarks.
    Large,
}

impl std::str::FromStr for Scale {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self, Error> {
        match s {
            "tiny" => Ok(Scale::Tiny),
            "small" => Ok(Scale::Small),
            "medium" => Ok(Scale::Medium),
            "large" => Ok(Scale::Large),
            other => Err(Error::UnknownScale(other.to_string())),
        }
    }
}

/// An external document collection loaded into the site instead of (or beside) generated text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Corpus {
    /// The Cranfield collection (`cran.all.1400`), as Confluence pages in space `CRAN`, each labelled `cran-{n}`.
    Cranfield(std::path::PathBuf),
    /// A Jira issue export as CSV (the GitBugs format), as Jira issues keeping their original ids.
    JiraCsv(std::path::PathBuf),
}

impl std::str::FromStr for Corpus {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self, Error> {
        match s.split_once(':') {
            Some(("cranfield", p)) if !p.is_empty() => Ok(Corpus::Cranfield(p.into())),
            Some(("jira-csv", p)) if !p.is_empty() => Ok(Corpus::JiraCsv(p.into())),
            _ => Err(Error::BadCorpusSpec(s.to_string())),
        }
    }
}

/// Parts of real Atlassian sites a generated site can hold beyond the original simulator's. Each adds to
/// the site (and so to what the oracle answers), with its own random stream, so turning one on leaves
/// everything else of the site as it was.
///
/// - `product_access`: several Jira applications with site-suffixed access groups (`jira-software-users-…`,
///   `jira-servicedesk-users-…`, `jira-product-discovery-users-…`), accounts without Jira access
///   (Confluence-only users) and without Confluence access, Confluence guests, and `applicationRole` grants
///   by key and without one. Without it, every active account uses every product.
/// - `inline_comments`: inline comments with replies, some resolved, on pages and blog posts.
/// - `space_roles`: role-based space access: the site in `ROLES_TRANSITION` mode, the four system roles
///   and a custom one, role assignments to users, groups and access classes on most spaces.
/// - `service_management`: a Jira Service Management desk (it implies `product_access`): a service project
///   whose scheme grants `sd.customer.portal.only`, portal-only customer accounts, customer organisations,
///   requests with participants, some shared with organisations, some at levels that admit customers,
///   public replies and internal notes.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SiteFeatures {
    pub product_access: bool,
    pub inline_comments: bool,
    pub space_roles: bool,
    pub service_management: bool,
}

impl SiteFeatures {
    pub const NONE: SiteFeatures = SiteFeatures {
        product_access: false,
        inline_comments: false,
        space_roles: false,
        service_management: false,
    };
    pub const ALL: SiteFeatures = SiteFeatures {
        product_access: true,
        inline_comments: true,
        space_roles: true,
        service_management: true,
    };
}

/// The features every site generated from a [`SimConfig`] alone holds: the demo's, `permdex sim`'s and the
/// tests' that do not ask for others ([`generate::generate_with`] and [`run::start_with_features`] take
/// them explicitly). This is the one place to turn a feature on everywhere, once the crawler reads it.
pub const DEFAULT_FEATURES: SiteFeatures = SiteFeatures::NONE;

/// Rate limiting: a token bucket shared by all routes of the Atlassian API.
#[derive(Debug, Clone, PartialEq)]
pub struct RateLimitConfig {
    /// Requests allowed per window.
    pub capacity: u32,
    pub window: Duration,
    /// Probability that a 429 carries a `Retry-After` header (real sites often omit it).
    pub retry_after_probability: f64,
}

/// Fault injection probabilities, each per request in `0.0..=1.0`. All zero means a well-behaved site.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct FaultConfig {
    /// Seed of the fault dice, so a faulty run can be replayed.
    pub seed: u64,
    /// Answer 500 or 503 instead of the real response.
    pub server_error: f64,
    /// Delay the response by `slow_delay`.
    pub slow: f64,
    pub slow_delay: Duration,
    /// Cut the body short after the headers promised more.
    pub truncated: f64,
    /// Serve a body that is not valid JSON.
    pub malformed_json: f64,
    /// On the last page of a cursor listing, add a `next` link that yields an empty page.
    pub empty_next: f64,
    /// Put `null` into fields the spec says are never null.
    pub null_fields: f64,
    /// Vary the answer as real sites do without changing its meaning: ids as numbers or text, counts
    /// as text, optional fields left out, `null` or `-1` in ids nothing reads, unknown enum values
    /// where nothing depends on them, unknown fields (`http::variance::vary`). A crawler must read such
    /// an answer exactly as the plain one.
    pub variance: f64,
    /// Garble fields a permission depends on (holder and principal types, the ids a grant, member,
    /// restriction, actor or visibility names, an issue's security level), each field of a chosen answer
    /// with this probability too (`http::variance::garble`). A crawler must read a garbled field as
    /// granting nobody.
    pub garbled_permissions: f64,
}

/// A burst limiter that greets a crawler opening many endpoints at once: the first call of a share of all
/// request targets (method, path and query) is refused once with a 429, `RateLimit-Reason:
/// …-burst-based` and `Retry-After`; the call after it passes. Which targets are refused depends only on
/// the seed and the target, not on the order requests arrive in, so runs are comparable.
///
/// Kept apart from [`FaultConfig`] (set with `Guard::set_first_call_refusal` or `POST /_sim/faults`).
#[derive(Debug, Clone, PartialEq)]
pub struct FirstCallRefusal {
    pub seed: u64,
    /// Share of targets whose first call is refused, in `0.0..=1.0`.
    pub share: f64,
    /// Sent as `Retry-After`, in whole seconds (rounded up).
    pub retry_after: Duration,
}

/// Which requests the site answers with a 500 every time, as a site does when one item's data breaks its
/// handlers (one space's permissions, one space's pages): a predicate over the request's path and its
/// percent-decoded query pairs. Faults answer some of the time; this answers always, so a test can make one
/// space's reads fail and watch that only that space is affected.
///
/// Set with `Guard::set_broken`; like every fault, never applied to `/_sim/` routes.
pub type BrokenTarget = std::sync::Arc<dyn Fn(&str, &[(String, String)]) -> bool + Send + Sync>;

/// Everything needed to run a simulated site.
#[derive(Debug, Clone, PartialEq)]
pub struct SimConfig {
    pub seed: u64,
    pub scale: Scale,
    pub corpus: Option<Corpus>,
    pub rate_limit: Option<RateLimitConfig>,
    pub faults: FaultConfig,
}

impl SimConfig {
    /// A well-behaved site of the given seed and scale.
    pub fn new(seed: u64, scale: Scale) -> Self {
        SimConfig { seed, scale, corpus: None, rate_limit: None, faults: FaultConfig::default() }
    }
}

/// A content item's id as the index and the oracle spell it: `{source}:{kind}:{id as the API serves it}`,
/// e.g. `confluence:page:65537`, `confluence:attachment:att65600`, `jira:issue:10001`, `jira:comment:10020`.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct DocId(pub String);

impl DocId {
    pub fn confluence_content(kind: model::ContentKind, id: u64) -> Self {
        DocId(format!("confluence:{}:{id}", kind.as_str()))
    }
    pub fn confluence_comment(id: u64) -> Self {
        DocId(format!("confluence:comment:{id}"))
    }
    pub fn confluence_attachment(id: u64) -> Self {
        DocId(format!("confluence:attachment:att{id}"))
    }
    pub fn jira_issue(id: u64) -> Self {
        DocId(format!("jira:issue:{id}"))
    }
    pub fn jira_comment(id: u64) -> Self {
        DocId(format!("jira:comment:{id}"))
    }
    pub fn jira_attachment(id: u64) -> Self {
        DocId(format!("jira:attachment:{id}"))
    }
}

impl std::fmt::Display for DocId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

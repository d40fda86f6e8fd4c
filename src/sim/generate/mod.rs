//! Builds a whole simulated organisation from a seed and a scale, optionally around an external corpus.
//!
//! [`generate`] is deterministic: the same [`SimConfig`] seed, scale and corpus give the same [`Site`],
//! field for field, because every choice comes from seeded ChaCha streams (one per phase, so a change in
//! how Jira is generated does not reshuffle Confluence), every map is ordered, and time stamps are drawn
//! between 2024-01-01 and 2026-06-01 instead of read from a clock.
//!
//! The phases, each in its own file:
//! - `people.rs`: users (one admin, some inactive, some with hidden emails) and groups;
//! - `confluence.rs`: spaces with their permissions, page trees, restrictions, blog posts, comments, attachments;
//! - `jira.rs`: roles, permission schemes, issue security schemes, projects, issues, comments, attachments;
//! - `corpus.rs`: Cranfield documents as pages, a GitBugs CSV as issues;
//! - `inline.rs`: inline comments (a feature);
//! - `roles.rs`: role-based space access (a feature);
//! - `service_desk.rs`: a Jira Service Management desk with customers, organisations and requests (a feature);
//! - `access.rs`: product access: who uses Jira and Confluence, through which groups (and, with the
//!   product-access feature, accounts without one of them, guests, application-role grants);
//! - `topics.rs` and `text.rs`: the vocabulary and the writing.
//!
//! This module does not decide who may see what (that is the oracle's reading of the model) and does not
//! render attachment bytes (`files.rs`).

mod access;
mod confluence;
pub mod corpus;
mod inline;
mod jira;
mod people;
mod roles;
mod service_desk;
mod text;
mod topics;

use std::collections::BTreeMap;

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use sha2::{Digest, Sha256};

use super::http::Credentials;
use super::model::{IdSequences, Millis, Site, SiteIndex};
use super::{Error, Scale, SimConfig, SiteFeatures, DEFAULT_FEATURES};

/// How big each part of a site is at a given scale.
#[derive(Debug, Clone, Copy)]
struct Plan {
    /// Departments in use (a prefix of `topics::TOPICS`).
    topics: usize,
    users: usize,
    groups: usize,
    /// Pages + blog posts + Confluence comments and attachments + issues + issue comments and attachments.
    items: usize,
    personal_spaces: usize,
    archived_spaces: usize,
    /// Departments that get a second global space.
    second_spaces: usize,
    /// Departments that get a second project.
    second_projects: usize,
    archived_projects: usize,
}

impl Plan {
    fn for_scale(scale: Scale) -> Plan {
        match scale {
            Scale::Tiny => Plan {
                topics: 5,
                users: 12,
                groups: 5,
                items: 300,
                personal_spaces: 2,
                archived_spaces: 1,
                second_spaces: 0,
                second_projects: 0,
                archived_projects: 0,
            },
            Scale::Small => Plan {
                topics: 10,
                users: 60,
                groups: 10,
                items: 2_500,
                personal_spaces: 6,
                archived_spaces: 1,
                second_spaces: 3,
                second_projects: 0,
                archived_projects: 1,
            },
            Scale::Medium => Plan {
                topics: 10,
                users: 300,
                groups: 25,
                items: 20_000,
                personal_spaces: 30,
                archived_spaces: 2,
                second_spaces: 10,
                second_projects: 5,
                archived_projects: 1,
            },
            Scale::Large => Plan {
                topics: 10,
                users: 2_000,
                groups: 80,
                items: 110_000,
                personal_spaces: 150,
                archived_spaces: 3,
                second_spaces: 10,
                second_projects: 10,
                archived_projects: 2,
            },
        }
    }

    /// The share of `items` that one kind of item gets, at least `min`.
    fn share(&self, fraction: f64, min: usize) -> usize {
        ((self.items as f64 * fraction).round() as usize).max(min)
    }
}

/// Independent random streams, one per phase, all from the site's seed.
fn phase_rng(seed: u64, phase: u64) -> ChaCha8Rng {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    rng.set_stream(phase);
    rng
}

/// A version-4 UUID from the generator's random stream.
fn uuid<R: Rng>(rng: &mut R) -> String {
    let a: u32 = rng.gen();
    let b: u16 = rng.gen();
    let c: u16 = (rng.gen::<u16>() & 0x0fff) | 0x4000;
    let d: u16 = (rng.gen::<u16>() & 0x3fff) | 0x8000;
    let e: u64 = rng.gen::<u64>() & 0xffff_ffff_ffff;
    format!("{a:08x}-{b:04x}-{c:04x}-{d:04x}-{e:012x}")
}

/// A moment after `t`, at most `max_gap` later and never after the end of generated time.
fn later<R: Rng>(rng: &mut R, t: Millis, max_gap: Millis) -> Millis {
    let room = (text::END - t).min(max_gap);
    if room <= 60_000 {
        return t.clamp(text::START, text::END);
    }
    t + rng.gen_range(60_000..=room)
}

const DAY: Millis = 86_400_000;

/// Builds the site described by `config` with the [`DEFAULT_FEATURES`]: the organisation at
/// `config.scale`, plus the corpus if one is given. Fails only when the corpus cannot be read.
pub fn generate(config: &SimConfig) -> Result<Site, Error> {
    generate_with(config, DEFAULT_FEATURES)
}

/// Like [`generate`], with the given [`SiteFeatures`]. Each feature is added after the original site,
/// from its own random stream, so the rest of the site is the same with it or without it.
pub fn generate_with(config: &SimConfig, features: SiteFeatures) -> Result<Site, Error> {
    let features =
        SiteFeatures { product_access: features.product_access || features.service_management, ..features };
    // Read the corpus first: a bad path should fail before any work is done.
    let corpus = config.corpus.as_ref().map(corpus::read).transpose()?;
    let plan = Plan::for_scale(config.scale);
    let mut rng = phase_rng(config.seed, 0);
    let site_name = text::pick(&mut rng, topics::SITE_NAMES).to_string();
    let admin_utc_offset_minutes = *text::pick(&mut rng, &[-480, -300, 0, 60, 330, 600]);
    let people =
        people::people(&mut phase_rng(config.seed, 1), &site_name, plan.topics, plan.users, plan.groups);

    let mut site = Site {
        seed: config.seed,
        name: site_name,
        admin_account_id: people.admin.clone(),
        admin_utc_offset_minutes,
        clock: text::START,
        users: Vec::new(),
        groups: Vec::new(),
        spaces: BTreeMap::new(),
        contents: BTreeMap::new(),
        comments: BTreeMap::new(),
        attachments: BTreeMap::new(),
        roles: Vec::new(),
        permission_schemes: BTreeMap::new(),
        security_schemes: BTreeMap::new(),
        projects: BTreeMap::new(),
        issues: BTreeMap::new(),
        issue_comments: BTreeMap::new(),
        jira_attachments: BTreeMap::new(),
        features,
        product_access: Default::default(),
        inline_comments: BTreeMap::new(),
        space_roles: Default::default(),
        service_desks: BTreeMap::new(),
        organisations: BTreeMap::new(),
        requests: BTreeMap::new(),
        ids: IdSequences::default(),
        index: SiteIndex::default(),
    };
    confluence::generate(&mut phase_rng(config.seed, 2), &mut site, &people, &plan);
    jira::generate(&mut phase_rng(config.seed, 3), &mut site, &people, &plan);
    if let Some(corpus) = corpus {
        corpus::add(&mut phase_rng(config.seed, 4), &mut site, &people, corpus)?;
    }
    site.product_access = access::product_access(&people);
    site.users = people.users;
    site.groups = people.groups;
    if features.product_access {
        access::add(&mut phase_rng(config.seed, 5), &mut site, plan.users);
    }
    if features.inline_comments {
        inline::add(&mut phase_rng(config.seed, 6), &mut site);
    }
    if features.space_roles {
        roles::add(&mut phase_rng(config.seed, 7), &mut site);
    }
    if features.service_management {
        service_desk::add(&mut phase_rng(config.seed, 8), &mut site, plan.users);
    }
    site.clock = latest_time(&site);
    site.reindex();
    Ok(site)
}

/// The latest time stamp anywhere in the site, so mutations start after it.
fn latest_time(site: &Site) -> Millis {
    let mut latest = text::START;
    latest = latest.max(site.spaces.values().map(|s| s.created).max().unwrap_or(0));
    latest = latest.max(site.contents.values().map(|c| c.updated.max(c.created)).max().unwrap_or(0));
    latest = latest.max(site.comments.values().map(|c| c.updated).max().unwrap_or(0));
    latest = latest.max(site.attachments.values().map(|a| a.updated).max().unwrap_or(0));
    latest = latest.max(site.projects.values().map(|p| p.created).max().unwrap_or(0));
    latest = latest.max(site.issues.values().map(|i| i.updated).max().unwrap_or(0));
    latest = latest.max(site.issue_comments.values().map(|c| c.updated).max().unwrap_or(0));
    latest.max(site.jira_attachments.values().map(|a| a.created).max().unwrap_or(0))
}

/// The credential the simulated site accepts: the admin's email and an API token derived from the seed.
pub fn admin_credentials(site: &Site) -> Credentials {
    let email = site
        .user(&site.admin_account_id)
        .or_else(|| site.users.iter().find(|u| u.account_id == site.admin_account_id))
        .map(|u| u.email.clone())
        .unwrap_or_else(|| format!("admin@{}.example.com", site.name));
    let digest = Sha256::digest(format!("permdex-sim-api-token:{}:{}", site.seed, site.name).as_bytes());
    let hex: String = digest.iter().map(|b| format!("{b:02x}")).collect();
    Credentials { email, token: format!("ATATT3xFfGF0{}", hex.to_uppercase()) }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uuids_are_version_4_and_distinct() {
        let mut rng = phase_rng(7, 0);
        let a = uuid(&mut rng);
        let b = uuid(&mut rng);
        assert_ne!(a, b);
        for u in [&a, &b] {
            let parts: Vec<&str> = u.split('-').collect();
            assert_eq!(parts.iter().map(|p| p.len()).collect::<Vec<_>>(), [8, 4, 4, 4, 12], "{u}");
            assert!(parts[2].starts_with('4'), "{u}");
            assert!(matches!(parts[3].as_bytes()[0], b'8' | b'9' | b'a' | b'b'), "{u}");
        }
    }

    #[test]
    fn later_stays_inside_generated_time() {
        let mut rng = phase_rng(1, 0);
        for t in [text::START, text::START + 400 * DAY, text::END - 1_000, text::END] {
            for _ in 0..100 {
                let l = later(&mut rng, t, 30 * DAY);
                assert!(l >= t && l <= text::END, "{t} -> {l}");
            }
        }
    }

    #[test]
    fn phases_draw_from_independent_streams() {
        let a: Vec<u32> = (0..4).map(|_| phase_rng(5, 1).gen()).collect();
        let b: u32 = phase_rng(5, 2).gen();
        assert_eq!(a[0], a[1], "same phase, same numbers");
        assert_ne!(a[0], b, "different phase, different numbers");
    }

    #[test]
    fn item_budgets_grow_with_scale() {
        let items: Vec<usize> = [Scale::Tiny, Scale::Small, Scale::Medium, Scale::Large]
            .iter()
            .map(|s| Plan::for_scale(*s).items)
            .collect();
        assert!(items.windows(2).all(|w| w[0] * 5 < w[1]), "{items:?}");
        assert!(items[3] >= 100_000);
    }
}

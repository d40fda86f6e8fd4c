//! Callers who read a chosen share of the corpus (its *selectivity*), found among the corpus's users or,
//! when none is close, assembled from groups.
//!
//! For each target share the closest user (by ratio) is taken when within [`USER_TOLERANCE`]; otherwise a
//! caller is assembled: an account alone (reading its personal space and the restrictions naming it) that
//! reads at most the target, or an account named nowhere, plus groups added largest first while the share
//! stays under the target (with [`SYNTHETIC_TOLERANCE`] to spare), until it comes within that tolerance. A target below what everyone reads (public documents) cannot be met and is reported as such.
//! Shares are computed from the corpus model ([`Corpus::visible_profiles`]), never from the index.
//!
//! This file searches nothing.

use rand::seq::SliceRandom;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

use super::corpus::{CallerSet, Corpus, Who};

/// A user is taken when their share is within this factor of the target.
pub const USER_TOLERANCE: f64 = 1.25;
/// A synthetic caller stops within this factor of the target.
pub const SYNTHETIC_TOLERANCE: f64 = 1.1;
/// Users whose share is computed (a seeded sample when there are more).
const USERS_SAMPLED: usize = 2000;

/// One caller of the benchmark.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Caller {
    /// The target as a percentage, e.g. `0.1%`.
    pub label: String,
    pub target: f64,
    /// Alive documents the caller may read, and their share of all alive documents.
    pub visible: u64,
    pub share: f64,
    /// `user` (an account with its groups), `account without groups` or `account with chosen groups`.
    pub origin: String,
    /// Principal tokens (`a`, `u12`, `g3`).
    pub principals: Vec<String>,
    #[serde(skip)]
    pub who: Vec<Who>,
}

/// The callers found, and the targets that could not be met with the reason.
#[derive(Debug, Clone, Default)]
pub struct Picked {
    pub callers: Vec<Caller>,
    pub unreachable: Vec<(f64, String)>,
}

/// `0.0001` → `0.01%`, `0.5` → `50%`.
pub fn percent_label(share: f64) -> String {
    let percent = share * 100.0;
    let text = format!("{percent:.4}");
    let text = text.trim_end_matches('0').trim_end_matches('.');
    format!("{text}%")
}

/// Visible-document counts from the model.
struct Visibility<'a> {
    corpus: &'a Corpus,
    alive: Vec<u64>,
    total: u64,
}

impl Visibility<'_> {
    fn count(&self, who: &[Who]) -> u64 {
        let visible = self.corpus.visible_profiles(&CallerSet::new(self.corpus, who));
        self.alive.iter().zip(&visible).filter(|(_, v)| **v).map(|(n, _)| n).sum()
    }

    fn share(&self, count: u64) -> f64 {
        count as f64 / self.total.max(1) as f64
    }
}

pub fn pick(corpus: &Corpus, targets: &[f64]) -> Picked {
    let visibility = Visibility { corpus, alive: corpus.alive_per_profile(), total: corpus.alive_docs() };
    let mut users: Vec<u32> = (0..corpus.params.users).collect();
    if users.len() > USERS_SAMPLED {
        let mut rng = ChaCha8Rng::seed_from_u64(corpus.params.seed ^ 0xca11e7);
        users.shuffle(&mut rng);
        users.truncate(USERS_SAMPLED);
        users.sort_unstable();
    }
    let user_counts: Vec<(u32, u64)> =
        users.iter().map(|&u| (u, visibility.count(&corpus.principals_of_user(u)))).collect();
    let public = visibility.count(&[Who::Anyone]);
    // Each sampled account's reach without its groups.
    let alone: Vec<(u32, u64)> =
        users.iter().map(|&u| (u, visibility.count(&[Who::Anyone, Who::User(u)]))).collect();

    let mut groups: Vec<u32> = (0..corpus.params.groups).collect();
    groups.sort_by_key(|&g| (std::cmp::Reverse(corpus.group_sizes[g as usize]), g));

    let mut picked = Picked::default();
    for (i, &target) in targets.iter().enumerate() {
        let label = percent_label(target);
        if visibility.share(public) > target * USER_TOLERANCE {
            picked.unreachable.push((
                target,
                format!(
                    "every caller reads the public {}, more than {label}",
                    percent_label(visibility.share(public))
                ),
            ));
            continue;
        }
        let distance = |count: u64| (visibility.share(count).max(1e-12) / target).ln().abs();
        let best =
            user_counts.iter().filter(|(_, c)| *c > 0).min_by(|a, b| distance(a.1).total_cmp(&distance(b.1)));
        if let Some(&(u, count)) = best.filter(|(_, c)| distance(*c) <= USER_TOLERANCE.ln()) {
            let who = corpus.principals_of_user(u);
            picked.callers.push(caller(label, target, count, &visibility, "user", who));
            continue;
        }
        // Start from an account alone (its personal space and restrictions naming it) that reads at most
        // the target, or from an account named nowhere; then add groups.
        let ceiling = target * SYNTHETIC_TOLERANCE;
        let fresh = (vec![Who::Anyone, Who::User(corpus.params.users + i as u32)], public);
        let (mut who, mut count) = alone
            .iter()
            .filter(|(_, c)| visibility.share(*c) <= ceiling)
            .max_by_key(|(u, c)| (*c, std::cmp::Reverse(*u)))
            .map(|&(u, c)| (vec![Who::Anyone, Who::User(u)], c))
            .unwrap_or(fresh);
        for &g in &groups {
            if visibility.share(count) >= target / SYNTHETIC_TOLERANCE {
                break;
            }
            who.push(Who::Group(g));
            let with = visibility.count(&who);
            if visibility.share(with) <= ceiling {
                count = with;
            } else {
                who.pop();
            }
        }
        let ratio = visibility.share(count) / target;
        if !(1.0 / USER_TOLERANCE..=USER_TOLERANCE).contains(&ratio) {
            picked.unreachable.push((
                target,
                format!(
                    "the closest caller found reads {} ({count} documents)",
                    percent_label(visibility.share(count))
                ),
            ));
            continue;
        }
        let origin = if who.len() == 2 { "account without groups" } else { "account with chosen groups" };
        picked.callers.push(caller(label, target, count, &visibility, origin, who));
    }
    picked
}

fn caller(label: String, target: f64, visible: u64, v: &Visibility, origin: &str, who: Vec<Who>) -> Caller {
    Caller {
        label,
        target,
        visible,
        share: v.share(visible),
        origin: origin.to_string(),
        principals: who.iter().map(|w| w.token()).collect(),
        who,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bench::corpus::CorpusParams;

    #[test]
    fn labels() {
        let cases =
            [(0.0001, "0.01%"), (0.001, "0.1%"), (0.01, "1%"), (0.1, "10%"), (0.5, "50%"), (1.0, "100%")];
        for (share, want) in cases {
            assert_eq!(percent_label(share), want);
        }
    }

    #[test]
    fn callers_come_close_to_their_targets() {
        let corpus = Corpus::generate(&CorpusParams::sized(100_000, 3)).expect("corpus");
        let targets = [0.001, 0.01, 0.1, 0.5, 1.0];
        let picked = pick(&corpus, &targets);
        assert!(picked.unreachable.is_empty(), "{:?}", picked.unreachable);
        assert_eq!(picked.callers.len(), targets.len());
        for c in &picked.callers {
            let ratio = c.share / c.target;
            assert!((1.0 / USER_TOLERANCE..=USER_TOLERANCE).contains(&ratio), "{c:?}");
        }
        let public = Corpus::generate(&CorpusParams { public_share: 0.3, ..CorpusParams::sized(20_000, 3) })
            .expect("corpus");
        let picked = pick(&public, &[0.01, 0.5]);
        assert_eq!(picked.unreachable.len(), 1, "1% is below the public 30%");
    }
}

//! [`Reach`]: which profiles a caller may read, worked out from the caller's principals outward.
//!
//! [`AclStore::allowed_profiles`] tests every clause of the store against the caller, which costs the same
//! for a caller holding two principals as for one holding hundreds. A `Reach` is built once per store (per
//! commit) and holds the two inverted lists that answer the same question in time proportional to what the
//! caller reaches: principal → the clauses naming it, and clause → the profiles using it. A profile is
//! allowed when every one of its clauses is satisfied, i.e. when the number of its satisfied clauses equals
//! its number of clauses (a profile's clause list has no duplicates).
//!
//! It answers exactly as [`AclStore::allowed_profiles`] does (a test compares them on random stores); it
//! knows nothing of documents or of tantivy.

use roaring::RoaringBitmap;

use super::store::{AclStore, CallerPrincipals, ProfileId};

/// The inverted lists of one [`AclStore`]; stale as soon as that store changes, so keep it with the store
/// it was built from.
#[derive(Debug, Clone, Default)]
pub struct Reach {
    /// By principal id: the clauses naming that principal.
    clauses_of: Vec<Vec<u32>>,
    /// By clause id: the profiles using that clause.
    profiles_of: Vec<Vec<u32>>,
    /// By profile id: how many clauses the profile has.
    clause_counts: Vec<u32>,
}

impl Reach {
    pub fn of(store: &AclStore) -> Reach {
        let mut clauses_of = vec![Vec::new(); store.principals().len()];
        for clause in 0..store.clause_count() as u32 {
            for principal in store.clause(super::ClauseId(clause)).into_iter().flatten() {
                if let Some(list) = clauses_of.get_mut(principal as usize) {
                    list.push(clause);
                }
            }
        }
        let mut profiles_of = vec![Vec::new(); store.clause_count()];
        let mut clause_counts = Vec::with_capacity(store.profile_count());
        for profile in 0..store.profile_count() as u32 {
            let clauses = store.profile_clauses(ProfileId(profile)).unwrap_or_default();
            for clause in clauses {
                profiles_of[clause.0 as usize].push(profile);
            }
            clause_counts.push(clauses.len() as u32);
        }
        Reach { clauses_of, profiles_of, clause_counts }
    }

    /// Every profile the caller satisfies: what [`AclStore::allowed_profiles`] answers for the store this
    /// was built from.
    pub fn allowed_profiles(&self, caller: &CallerPrincipals) -> RoaringBitmap {
        let mut satisfied = vec![0u64; self.profiles_of.len().div_ceil(64)];
        let mut reached: Vec<u32> = Vec::new();
        for principal in &caller.0 {
            for &clause in self.clauses_of.get(principal as usize).into_iter().flatten() {
                let (word, bit) = (clause as usize / 64, 1u64 << (clause % 64));
                if satisfied[word] & bit == 0 {
                    satisfied[word] |= bit;
                    reached.push(clause);
                }
            }
        }
        let mut met = vec![0u32; self.clause_counts.len()];
        // Each profile is met once; inserted out of order one by one, a bitmap would move its entries
        // on every insertion, so they are sorted first and handed over at once.
        let mut allowed = Vec::new();
        for clause in reached {
            for &profile in &self.profiles_of[clause as usize] {
                met[profile as usize] += 1;
                if met[profile as usize] == self.clause_counts[profile as usize] {
                    allowed.push(profile);
                }
            }
        }
        allowed.sort_unstable();
        RoaringBitmap::from_sorted_iter(allowed).unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::acl::{ClauseKey, Principal};

    /// A small deterministic generator, so that a failure names its seed.
    struct Rng(u64);
    impl Rng {
        fn below(&mut self, n: u64) -> u64 {
            self.0 ^= self.0 << 13;
            self.0 ^= self.0 >> 7;
            self.0 ^= self.0 << 17;
            self.0 % n
        }
    }

    fn principal(n: u64) -> Principal {
        match n % 3 {
            0 => Principal::Anyone,
            1 => Principal::Group(format!("g{n}")),
            _ => Principal::User(format!("u{n}")),
        }
    }

    #[test]
    fn answers_as_the_store_does_on_random_stores() {
        for seed in 1..40u64 {
            let mut rng = Rng(seed.wrapping_mul(0x9e37_79b9_7f4a_7c15));
            let mut store = AclStore::default();
            let clauses: Vec<_> = (0..1 + rng.below(30))
                .map(|c| {
                    let members: Vec<Principal> =
                        (0..rng.below(6)).map(|_| principal(rng.below(40))).collect();
                    store.set_clause(ClauseKey(format!("c{c}")), &members)
                })
                .collect();
            for _ in 0..rng.below(40) {
                let list: Vec<_> = (0..1 + rng.below(3))
                    .map(|_| clauses[rng.below(clauses.len() as u64) as usize])
                    .collect();
                store.profile(&list);
            }
            // A clause rewritten after profiles use it: the reach of the rewritten store must follow.
            let rewritten = clauses[rng.below(clauses.len() as u64) as usize];
            let key = ClauseKey(format!("c{}", rewritten.0));
            store.set_clause(key, &[principal(rng.below(40)), principal(rng.below(40))]);
            let reach = Reach::of(&store);
            for _ in 0..20 {
                let held: Vec<Principal> = (0..rng.below(8)).map(|_| principal(rng.below(45))).collect();
                let caller = store.caller(held.iter());
                assert_eq!(
                    reach.allowed_profiles(&caller),
                    store.allowed_profiles(&caller),
                    "seed {seed}, caller {held:?}"
                );
            }
        }
    }

    #[test]
    fn nobody_and_unknown_principals_reach_nothing() {
        let mut store = AclStore::default();
        let open = store.set_clause(ClauseKey("open".into()), &[Principal::Anyone]);
        let open_profile = store.profile(&[open]);
        let reach = Reach::of(&store);
        let anyone = reach.allowed_profiles(&store.caller(&[Principal::Anyone]));
        assert_eq!(anyone.iter().collect::<Vec<_>>(), vec![open_profile.0]);
        assert!(!anyone.contains(AclStore::NOBODY.0));
        let stranger = store.caller(&[Principal::User("never-seen".into())]);
        assert!(reach.allowed_profiles(&stranger).is_empty());
        // A principal interned after the reach was built is beyond its lists: it reaches nothing.
        let mut grown = store.clone();
        let late = grown.intern(&Principal::Group("late".into()));
        let caller = CallerPrincipals(std::iter::once(late.0).collect());
        assert!(reach.allowed_profiles(&caller).is_empty());
    }
}

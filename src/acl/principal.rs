//! Principals — who a permission can name — and their interning to dense `u32` ids.
//!
//! A caller is a set of principals; a clause is a set of principals. Interning lets both be roaring bitmaps.
//! The table only grows: an id, once given, names the same principal forever, so stored clauses stay valid.
//! A principal that is not (yet) a known user or group is interned like any other, so a restriction naming
//! an unknown account stays a restriction.

use std::collections::HashMap;

use foldhash::fast::RandomState;
use serde::{Deserialize, Serialize};

/// Something a permission can be granted to.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(tag = "type", content = "id", rename_all = "snake_case")]
pub enum Principal {
    /// Anonymous access: everyone, signed in or not.
    Anyone,
    /// Any signed-in user of the site.
    Authenticated,
    /// An Atlassian account, by accountId.
    User(String),
    /// A group, by its immutable group id.
    Group(String),
}

/// Dense id of an interned [`Principal`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct PrincipalId(pub u32);

/// The interning table: principal ⇄ id.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PrincipalTable {
    by_id: Vec<Principal>,
    /// Looked up for each principal of every search's caller: hashed with foldhash (seeded per process),
    /// several times faster than the standard SipHash on short ids.
    ids: HashMap<Principal, PrincipalId, RandomState>,
}

impl PrincipalTable {
    /// The id of `principal`, interning it if new.
    pub fn intern(&mut self, principal: &Principal) -> PrincipalId {
        if let Some(&id) = self.ids.get(principal) {
            return id;
        }
        let id = PrincipalId(self.by_id.len() as u32);
        self.by_id.push(principal.clone());
        self.ids.insert(principal.clone(), id);
        id
    }

    /// The id of `principal` if it was ever interned.
    pub fn get(&self, principal: &Principal) -> Option<PrincipalId> {
        self.ids.get(principal).copied()
    }

    pub fn principal(&self, id: PrincipalId) -> Option<&Principal> {
        self.by_id.get(id.0 as usize)
    }

    pub fn len(&self) -> usize {
        self.by_id.len()
    }

    pub fn is_empty(&self) -> bool {
        self.by_id.is_empty()
    }

    /// Principals in id order, for persistence.
    pub fn as_slice(&self) -> &[Principal] {
        &self.by_id
    }

    /// Rebuilds a table from principals in id order (as written by [`PrincipalTable::as_slice`]).
    /// Duplicates would make two ids name one principal, so they are refused.
    pub fn from_vec(by_id: Vec<Principal>) -> Result<Self, super::Error> {
        let mut ids = HashMap::with_capacity_and_hasher(by_id.len(), RandomState::default());
        for (i, p) in by_id.iter().enumerate() {
            if ids.insert(p.clone(), PrincipalId(i as u32)).is_some() {
                return Err(super::Error::Corrupt(format!("principal {p:?} interned twice")));
            }
        }
        Ok(PrincipalTable { by_id, ids })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn interning_is_stable_and_dense() {
        let mut t = PrincipalTable::default();
        let a = t.intern(&Principal::User("alice".into()));
        let g = t.intern(&Principal::Group("g-1".into()));
        assert_eq!(t.intern(&Principal::User("alice".into())), a);
        assert_eq!((a.0, g.0), (0, 1));
        assert_eq!(t.principal(g), Some(&Principal::Group("g-1".into())));
        assert_eq!(t.get(&Principal::Anyone), None);
    }

    #[test]
    fn round_trip_and_duplicates_refused() {
        let mut t = PrincipalTable::default();
        for p in [Principal::Anyone, Principal::Authenticated, Principal::User("u".into())] {
            t.intern(&p);
        }
        let back = PrincipalTable::from_vec(t.as_slice().to_vec()).expect("valid table");
        assert_eq!(back, t);
        assert!(PrincipalTable::from_vec(vec![Principal::Anyone, Principal::Anyone]).is_err());
    }
}

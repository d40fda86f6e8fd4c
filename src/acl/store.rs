//! The ACL store: principals, clauses and profiles, and the question "which profiles may this caller read?".
//!
//! A document's access is a conjunction of clauses; a clause is a set of principals (a roaring bitmap) and is
//! satisfied when the caller holds at least one of them. A *profile* is a sorted list of clause ids; documents
//! point at a profile. Clauses are keyed by the permission object they come from ([`ClauseKey`]), so when that
//! object changes the clause is rewritten in place and every document pointing at a profile that uses it
//! follows, without touching the documents. Identical clause lists share one profile.
//!
//! Fail closed: profile 0 ([`AclStore::NOBODY`]) holds one clause that no caller can satisfy; a profile id the
//! store does not know is never allowed. The store knows nothing of tantivy or of Atlassian.

use std::collections::HashMap;

use roaring::RoaringBitmap;
use serde::{Deserialize, Serialize};

use super::principal::{Principal, PrincipalId, PrincipalTable};
use super::Error;

/// The permission object a clause comes from, e.g. `confluence:space:123:read` or `jira:level:5001`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct ClauseKey(pub String);

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct ClauseId(pub u32);

/// What a document's `acl_profile` field holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct ProfileId(pub u32);

/// The principals a caller holds, as interned ids. Build it with [`AclStore::caller`].
#[derive(Debug, Clone, Default, PartialEq)]
pub struct CallerPrincipals(pub RoaringBitmap);

#[derive(Debug, Clone, PartialEq)]
pub struct AclStore {
    principals: PrincipalTable,
    clause_keys: Vec<ClauseKey>,
    clause_ids: HashMap<ClauseKey, ClauseId>,
    clauses: Vec<RoaringBitmap>,
    profiles: Vec<Vec<ClauseId>>,
    profile_ids: HashMap<Vec<ClauseId>, ProfileId>,
}

const NOBODY_KEY: &str = "permdex:nobody";

impl Default for AclStore {
    fn default() -> Self {
        let mut store = AclStore {
            principals: PrincipalTable::default(),
            clause_keys: Vec::new(),
            clause_ids: HashMap::new(),
            clauses: Vec::new(),
            profiles: Vec::new(),
            profile_ids: HashMap::new(),
        };
        let nobody = store.set_clause(ClauseKey(NOBODY_KEY.into()), std::iter::empty());
        store.profiles.push(vec![nobody]);
        store.profile_ids.insert(vec![nobody], AclStore::NOBODY);
        store
    }
}

impl AclStore {
    /// The profile nobody can read: for documents whose permissions could not be resolved.
    pub const NOBODY: ProfileId = ProfileId(0);

    pub fn principals(&self) -> &PrincipalTable {
        &self.principals
    }

    pub fn intern(&mut self, principal: &Principal) -> PrincipalId {
        self.principals.intern(principal)
    }

    /// Sets the clause named `key` to exactly `principals`, creating it if new. Returns its (stable) id.
    pub fn set_clause<'a>(
        &mut self,
        key: ClauseKey,
        principals: impl IntoIterator<Item = &'a Principal>,
    ) -> ClauseId {
        let bitmap: RoaringBitmap = principals.into_iter().map(|p| self.principals.intern(p).0).collect();
        match self.clause_ids.get(&key) {
            Some(&id) => {
                self.clauses[id.0 as usize] = bitmap;
                id
            }
            None => {
                let id = ClauseId(self.clauses.len() as u32);
                self.clauses.push(bitmap);
                self.clause_keys.push(key.clone());
                self.clause_ids.insert(key, id);
                id
            }
        }
    }

    pub fn clause_id(&self, key: &ClauseKey) -> Option<ClauseId> {
        self.clause_ids.get(key).copied()
    }

    pub fn clause(&self, id: ClauseId) -> Option<&RoaringBitmap> {
        self.clauses.get(id.0 as usize)
    }

    /// The profile for a conjunction of clauses, interning it if new. Order and duplicates do not matter.
    /// An empty list would mean "no condition at all"; that never comes from a resolved Atlassian permission,
    /// so it is treated as a resolution failure and gets [`AclStore::NOBODY`].
    pub fn profile(&mut self, clauses: &[ClauseId]) -> ProfileId {
        let mut list = clauses.to_vec();
        list.sort_unstable();
        list.dedup();
        if list.is_empty() || list.iter().any(|c| c.0 as usize >= self.clauses.len()) {
            return AclStore::NOBODY;
        }
        if let Some(&id) = self.profile_ids.get(&list) {
            return id;
        }
        let id = ProfileId(self.profiles.len() as u32);
        self.profiles.push(list.clone());
        self.profile_ids.insert(list, id);
        id
    }

    pub fn profile_clauses(&self, id: ProfileId) -> Option<&[ClauseId]> {
        self.profiles.get(id.0 as usize).map(Vec::as_slice)
    }

    pub fn profile_count(&self) -> usize {
        self.profiles.len()
    }

    pub fn clause_count(&self) -> usize {
        self.clauses.len()
    }

    /// The interned ids of the given principals. Principals never interned name nothing any clause holds,
    /// so they are left out.
    pub fn caller<'a>(&self, principals: impl IntoIterator<Item = &'a Principal>) -> CallerPrincipals {
        // Sorted first: a bitmap is built from sorted ids in one pass instead of one insert per id.
        let mut ids: Vec<u32> =
            principals.into_iter().filter_map(|p| self.principals.get(p)).map(|id| id.0).collect();
        ids.sort_unstable();
        ids.dedup();
        CallerPrincipals(RoaringBitmap::from_sorted_iter(ids).unwrap_or_default())
    }

    /// Every profile the caller satisfies: each of its clauses shares at least one principal with the caller.
    pub fn allowed_profiles(&self, caller: &CallerPrincipals) -> RoaringBitmap {
        let satisfied: Vec<bool> = self.clauses.iter().map(|c| !c.is_disjoint(&caller.0)).collect();
        self.profiles
            .iter()
            .enumerate()
            .filter(|(_, clauses)| clauses.iter().all(|c| satisfied[c.0 as usize]))
            .map(|(i, _)| i as u32)
            .collect()
    }

    /// Serialises the store (versioned; see [`AclStore::from_bytes`]).
    pub fn to_bytes(&self) -> Vec<u8> {
        let header = Header {
            version: FORMAT_VERSION,
            principals: self.principals.as_slice().to_vec(),
            clause_keys: self.clause_keys.clone(),
            profiles: self.profiles.iter().map(|p| p.iter().map(|c| c.0).collect()).collect(),
        };
        // Serialising plain data to a Vec cannot fail.
        let json = serde_json::to_vec(&header).unwrap_or_default();
        let mut out = Vec::with_capacity(json.len() + 16 * self.clauses.len());
        out.extend_from_slice(MAGIC);
        out.extend_from_slice(&(json.len() as u64).to_le_bytes());
        out.extend_from_slice(&json);
        for clause in &self.clauses {
            out.extend_from_slice(&(clause.serialized_size() as u64).to_le_bytes());
            // Writing into a Vec cannot fail.
            let _ = clause.serialize_into(&mut out);
        }
        out
    }

    /// Reads a store written by [`AclStore::to_bytes`]; anything inconsistent is an error, never a guess.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, Error> {
        let mut rest = bytes.strip_prefix(MAGIC).ok_or_else(|| Error::Corrupt("bad magic".into()))?;
        let json = take_chunk(&mut rest)?;
        let header: Header =
            serde_json::from_slice(json).map_err(|e| Error::Corrupt(format!("bad header: {e}")))?;
        if header.version != FORMAT_VERSION {
            return Err(Error::Corrupt(format!("unsupported acl store version {}", header.version)));
        }
        let principals = PrincipalTable::from_vec(header.principals)?;
        let mut clauses = Vec::with_capacity(header.clause_keys.len());
        for key in &header.clause_keys {
            let chunk = take_chunk(&mut rest)?;
            let bitmap = RoaringBitmap::deserialize_from(chunk)
                .map_err(|e| Error::Corrupt(format!("clause {}: {e}", key.0)))?;
            clauses.push(bitmap);
        }
        if !rest.is_empty() {
            return Err(Error::Corrupt("trailing bytes".into()));
        }
        let clause_ids: HashMap<ClauseKey, ClauseId> =
            header.clause_keys.iter().enumerate().map(|(i, k)| (k.clone(), ClauseId(i as u32))).collect();
        if clause_ids.len() != header.clause_keys.len() {
            return Err(Error::Corrupt("duplicate clause key".into()));
        }
        let mut profiles = Vec::with_capacity(header.profiles.len());
        let mut profile_ids = HashMap::with_capacity(header.profiles.len());
        for (i, p) in header.profiles.into_iter().enumerate() {
            let list: Vec<ClauseId> = p.into_iter().map(ClauseId).collect();
            if list.is_empty() || list.iter().any(|c| c.0 as usize >= clauses.len()) {
                return Err(Error::Corrupt(format!("profile {i} names an unknown clause")));
            }
            profile_ids.insert(list.clone(), ProfileId(i as u32));
            profiles.push(list);
        }
        let store = AclStore {
            principals,
            clause_keys: header.clause_keys,
            clause_ids,
            clauses,
            profiles,
            profile_ids,
        };
        if store.clause_id(&ClauseKey(NOBODY_KEY.into())).and_then(|c| store.clause(c)).map(|c| c.is_empty())
            != Some(true)
        {
            return Err(Error::Corrupt("the nobody clause is missing or not empty".into()));
        }
        Ok(store)
    }
}

const MAGIC: &[u8] = b"PERMDEX-ACL\n";
const FORMAT_VERSION: u32 = 1;

#[derive(Serialize, Deserialize)]
struct Header {
    version: u32,
    principals: Vec<Principal>,
    clause_keys: Vec<ClauseKey>,
    profiles: Vec<Vec<u32>>,
}

fn take_chunk<'a>(rest: &mut &'a [u8]) -> Result<&'a [u8], Error> {
    let (len, tail) =
        rest.split_first_chunk::<8>().ok_or_else(|| Error::Corrupt("truncated length".into()))?;
    let len =
        usize::try_from(u64::from_le_bytes(*len)).map_err(|_| Error::Corrupt("length overflow".into()))?;
    if tail.len() < len {
        return Err(Error::Corrupt("truncated chunk".into()));
    }
    let (chunk, tail) = tail.split_at(len);
    *rest = tail;
    Ok(chunk)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn user(s: &str) -> Principal {
        Principal::User(s.into())
    }
    fn group(s: &str) -> Principal {
        Principal::Group(s.into())
    }

    /// A space readable by group eng, a page restricted to alice or group mgr, a public space.
    fn store() -> (AclStore, ProfileId, ProfileId, ProfileId) {
        let mut s = AclStore::default();
        let space = s.set_clause(ClauseKey("space:1".into()), &[group("eng")]);
        let restr = s.set_clause(ClauseKey("page:7".into()), &[user("alice"), group("mgr")]);
        let public = s.set_clause(ClauseKey("space:2".into()), &[Principal::Anyone]);
        let in_space = s.profile(&[space]);
        let restricted = s.profile(&[restr, space]);
        let open = s.profile(&[public]);
        (s, in_space, restricted, open)
    }

    #[test]
    fn allowed_profiles_by_caller() {
        let (s, in_space, restricted, open) = store();
        let cases: &[(&[Principal], &[ProfileId])] = &[
            (&[user("alice"), group("eng"), Principal::Anyone], &[in_space, restricted, open]),
            (&[user("bob"), group("eng"), Principal::Anyone], &[in_space, open]),
            (&[user("carol"), group("mgr"), Principal::Anyone], &[open]),
            (&[user("alice")], &[]),
            (&[], &[]),
        ];
        for (principals, expected) in cases {
            let allowed = s.allowed_profiles(&s.caller(principals.iter()));
            let want: RoaringBitmap = expected.iter().map(|p| p.0).collect();
            assert_eq!(allowed, want, "caller {principals:?}");
            assert!(!allowed.contains(AclStore::NOBODY.0));
        }
    }

    #[test]
    fn caller_holds_the_ids_of_its_known_principals_whatever_their_order() {
        let (s, _, _, _) = store();
        let id = |p: &Principal| s.principals.get(p).expect("interned").0;
        let known = [group("mgr"), Principal::Anyone, user("alice"), group("eng")];
        let mut asked: Vec<Principal> = known.iter().rev().cloned().collect();
        asked.extend([user("nobody-knows"), group("eng"), Principal::Authenticated, user("alice")]);
        let caller = s.caller(asked.iter());
        let want: RoaringBitmap = known.iter().map(id).collect();
        assert_eq!(caller.0, want, "duplicates and unknown principals add nothing");
        assert!(s.caller(std::iter::empty()).0.is_empty());
    }

    #[test]
    fn profiles_are_shared_and_order_free() {
        let (mut s, _, restricted, _) = store();
        let space = s.clause_id(&ClauseKey("space:1".into())).expect("clause");
        let restr = s.clause_id(&ClauseKey("page:7".into())).expect("clause");
        assert_eq!(s.profile(&[space, restr, space]), restricted);
        assert_eq!(s.profile(&[]), AclStore::NOBODY);
        assert_eq!(s.profile(&[ClauseId(999)]), AclStore::NOBODY);
    }

    #[test]
    fn rewriting_a_clause_moves_every_profile_using_it() {
        let (mut s, in_space, restricted, _) = store();
        let bob = [user("bob"), group("eng")];
        assert!(s.allowed_profiles(&s.caller(bob.iter())).contains(in_space.0));
        s.set_clause(ClauseKey("space:1".into()), &[group("ops")]);
        let allowed = s.allowed_profiles(&s.caller(bob.iter()));
        assert!(!allowed.contains(in_space.0) && !allowed.contains(restricted.0));
    }

    #[test]
    fn bytes_round_trip_and_corruption_is_refused() {
        let (s, ..) = store();
        let bytes = s.to_bytes();
        assert_eq!(AclStore::from_bytes(&bytes).expect("round trip"), s);
        assert!(AclStore::from_bytes(&bytes[..bytes.len() - 3]).is_err());
        assert!(AclStore::from_bytes(b"nonsense").is_err());
        let mut extra = bytes.clone();
        extra.push(0);
        assert!(AclStore::from_bytes(&extra).is_err());
    }
}

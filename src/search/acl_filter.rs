//! The ACL filter's data: which profiles a caller may read ([`ProfileMask`]), which documents of a segment
//! that allows ([`AllowedDocs`]), and the bounded caches of both ([`AclCache`]).
//!
//! A segment's allowed set is built once per (segment, deletes, profile mask) by scanning the `acl_profile`
//! fast column, with deleted documents left out, so a single membership test answers "alive and readable".
//! It is cached by the *mask*, not by the caller: two callers whose principals open the same profiles share
//! every segment set, and a commit that only rewrites clauses keeps the sets whose mask did not change.
//! Sets of segments that disappear (merges, new commits) are dropped on reload; the cache is an LRU bounded
//! in bytes.
//!
//! This file decides nothing about iteration order or ranking; `collect.rs` uses these sets.

use std::collections::HashMap;
use std::hash::{Hash, Hasher};
use std::sync::Arc;

use tantivy::columnar::ColumnIndex;
use tantivy::index::SegmentId;
use tantivy::{DocId, SegmentReader};

use crate::acl::{AclStore, CallerPrincipals};
use crate::index::schema::field;

/// The profiles one caller may read under one ACL store, as a dense bitset over profile ids.
/// Profile ids beyond the store (unknown to it) are never set: such documents stay invisible.
#[derive(Debug)]
pub struct ProfileMask {
    words: Vec<u64>,
    allowed: u64,
    fingerprint: u64,
}

impl ProfileMask {
    pub fn for_caller(acl: &AclStore, caller: &CallerPrincipals) -> ProfileMask {
        let allowed = acl.allowed_profiles(caller);
        let len = acl.profile_count().div_ceil(64);
        let mut words = vec![0u64; len];
        for profile in &allowed {
            // `allowed_profiles` only yields ids of profiles in the store, all below profile_count.
            if let Some(word) = words.get_mut(profile as usize / 64) {
                *word |= 1 << (profile % 64);
            }
        }
        let mut hasher = std::collections::hash_map::DefaultHasher::new();
        words.hash(&mut hasher);
        ProfileMask { allowed: allowed.len(), fingerprint: hasher.finish(), words }
    }

    pub fn contains(&self, profile: u64) -> bool {
        usize::try_from(profile / 64)
            .ok()
            .and_then(|i| self.words.get(i))
            .is_some_and(|word| word & (1 << (profile % 64)) != 0)
    }

    pub fn is_empty(&self) -> bool {
        self.allowed == 0
    }

    fn same_as(&self, other: &ProfileMask) -> bool {
        self.fingerprint == other.fingerprint && self.words == other.words
    }
}

/// The documents of one segment a caller may read: alive and pointing at an allowed profile.
#[derive(Debug)]
pub struct AllowedDocs {
    max_doc: DocId,
    count: u32,
    repr: Repr,
}

/// A sorted id list when that is smaller than a bitset (under one allowed document in 32), else a bitset.
#[derive(Debug)]
enum Repr {
    Bits(Vec<u64>),
    Ids(Vec<DocId>),
}

impl AllowedDocs {
    /// Scans the segment's `acl_profile` column once.
    pub fn build(segment: &SegmentReader, mask: &ProfileMask) -> tantivy::Result<AllowedDocs> {
        let max_doc = segment.max_doc();
        let mut words = vec![0u64; (max_doc as usize).div_ceil(64)];
        let mut count = 0u32;
        if !mask.is_empty() {
            let column = segment.fast_fields().u64(field::ACL_PROFILE)?;
            let alive = segment.alive_bitset();
            let mut mark = |doc: DocId, profile: u64| {
                if mask.contains(profile) && alive.is_none_or(|a| a.is_alive(doc)) {
                    words[doc as usize / 64] |= 1 << (doc % 64);
                    count += 1;
                }
            };
            if matches!(column.index, ColumnIndex::Full) {
                // Every document has exactly one value: read them in blocks instead of one call per doc.
                const BLOCK: u32 = 1024;
                let mut buffer = vec![0u64; BLOCK as usize];
                let mut start = 0u32;
                while start < max_doc {
                    let len = BLOCK.min(max_doc - start);
                    let out = &mut buffer[..len as usize];
                    column.values.get_range(u64::from(start), out);
                    for (i, &profile) in out.iter().enumerate() {
                        mark(start + i as u32, profile);
                    }
                    start += len;
                }
            } else {
                // A document without a profile matches no mask bit: invisible.
                for doc in 0..max_doc {
                    if let Some(profile) = column.first(doc) {
                        mark(doc, profile);
                    }
                }
            }
        }
        let repr = if (count as usize) * 32 < max_doc as usize {
            Repr::Ids(iter_bits(&words).collect())
        } else {
            Repr::Bits(words)
        };
        Ok(AllowedDocs { max_doc, count, repr })
    }

    pub fn count(&self) -> u32 {
        self.count
    }

    pub fn max_doc(&self) -> DocId {
        self.max_doc
    }

    #[inline]
    pub fn contains(&self, doc: DocId) -> bool {
        match &self.repr {
            Repr::Bits(words) => words.get(doc as usize / 64).is_some_and(|w| w & (1 << (doc % 64)) != 0),
            Repr::Ids(ids) => ids.binary_search(&doc).is_ok(),
        }
    }

    /// Allowed doc ids in increasing order.
    pub fn iter(&self) -> Box<dyn Iterator<Item = DocId> + '_> {
        match &self.repr {
            Repr::Bits(words) => Box::new(iter_bits(words)),
            Repr::Ids(ids) => Box::new(ids.iter().copied()),
        }
    }

    /// Approximate heap size, for the cache budget.
    pub fn bytes(&self) -> usize {
        std::mem::size_of::<Self>()
            + match &self.repr {
                Repr::Bits(w) => w.len() * 8,
                Repr::Ids(ids) => ids.len() * 4,
            }
    }
}

fn iter_bits(words: &[u64]) -> impl Iterator<Item = DocId> + '_ {
    words.iter().enumerate().flat_map(|(i, &word)| {
        let mut rest = word;
        std::iter::from_fn(move || {
            if rest == 0 {
                return None;
            }
            let bit = rest.trailing_zeros();
            rest &= rest - 1;
            Some(i as u32 * 64 + bit)
        })
    })
}

/// A segment as it is at one point: its deletes change its alive set without changing its id.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct SegmentVersion {
    pub id: SegmentId,
    pub deletes: Option<u64>,
}

impl SegmentVersion {
    pub fn of(segment: &SegmentReader) -> SegmentVersion {
        SegmentVersion { id: segment.segment_id(), deletes: segment.delete_opstamp() }
    }
}

/// Key of a mask: its fingerprint for hashing, its content for equality (a fingerprint collision must never
/// hand one caller another caller's set).
#[derive(Debug, Clone)]
struct MaskKey(Arc<ProfileMask>);

impl PartialEq for MaskKey {
    fn eq(&self, other: &Self) -> bool {
        Arc::ptr_eq(&self.0, &other.0) || self.0.same_as(&other.0)
    }
}
impl Eq for MaskKey {}
impl Hash for MaskKey {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.0.fingerprint.hash(state);
    }
}

/// Counters for `/metrics`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct CacheStats {
    pub mask_hits: u64,
    pub mask_misses: u64,
    pub segment_hits: u64,
    pub segment_misses: u64,
    pub evictions: u64,
    pub entries: u64,
    pub bytes: u64,
}

struct Entry {
    docs: Arc<AllowedDocs>,
    last_used: u64,
}

/// Most caller masks kept (each is a few bytes per profile).
const MAX_MASKS: usize = 4096;

/// Both caches. Not synchronised itself: the service wraps it in a mutex and builds sets outside the lock.
pub struct AclCache {
    budget_bytes: usize,
    tick: u64,
    /// (commit generation, principal set) → mask. The generation is part of the key so that a search still
    /// running on an older commit can never file its mask under the newer commit's ACL store.
    masks: HashMap<(u64, Vec<u32>), (Arc<ProfileMask>, u64)>,
    segments: HashMap<(SegmentVersion, MaskKey), Entry>,
    bytes: usize,
    stats: CacheStats,
}

impl AclCache {
    pub fn new(budget_bytes: usize) -> AclCache {
        AclCache {
            budget_bytes,
            tick: 0,
            masks: HashMap::new(),
            segments: HashMap::new(),
            bytes: 0,
            stats: CacheStats::default(),
        }
    }

    pub fn mask(
        &mut self,
        generation: u64,
        principals: Vec<u32>,
    ) -> Result<Arc<ProfileMask>, (u64, Vec<u32>)> {
        self.tick += 1;
        let tick = self.tick;
        let key = (generation, principals);
        match self.masks.get_mut(&key) {
            Some((mask, used)) => {
                *used = tick;
                self.stats.mask_hits += 1;
                Ok(mask.clone())
            }
            None => {
                self.stats.mask_misses += 1;
                Err(key)
            }
        }
    }

    /// Files `mask` under the key [`AclCache::mask`] missed with.
    pub fn insert_mask(&mut self, key: (u64, Vec<u32>), mask: Arc<ProfileMask>) -> Arc<ProfileMask> {
        if self.masks.len() >= MAX_MASKS {
            if let Some(oldest) = self.masks.iter().min_by_key(|(_, (_, used))| *used).map(|(k, _)| k.clone())
            {
                self.masks.remove(&oldest);
            }
        }
        // Share one Arc per distinct mask content so segment keys compare by pointer in the common case.
        let shared = self
            .segments
            .keys()
            .find(|(_, key)| key.0.same_as(&mask))
            .map(|(_, key)| key.0.clone())
            .unwrap_or(mask);
        self.masks.insert(key, (shared.clone(), self.tick));
        shared
    }

    pub fn allowed(&mut self, segment: SegmentVersion, mask: &Arc<ProfileMask>) -> Option<Arc<AllowedDocs>> {
        self.tick += 1;
        let tick = self.tick;
        match self.segments.get_mut(&(segment, MaskKey(mask.clone()))) {
            Some(entry) => {
                entry.last_used = tick;
                self.stats.segment_hits += 1;
                Some(entry.docs.clone())
            }
            None => {
                self.stats.segment_misses += 1;
                None
            }
        }
    }

    pub fn insert_allowed(
        &mut self,
        segment: SegmentVersion,
        mask: &Arc<ProfileMask>,
        docs: Arc<AllowedDocs>,
    ) {
        self.tick += 1;
        let bytes = docs.bytes();
        let previous =
            self.segments.insert((segment, MaskKey(mask.clone())), Entry { docs, last_used: self.tick });
        self.bytes += bytes;
        if let Some(previous) = previous {
            self.bytes -= previous.docs.bytes();
        }
        while self.bytes > self.budget_bytes && self.segments.len() > 1 {
            let Some(oldest) = self.segments.iter().min_by_key(|(_, e)| e.last_used).map(|(k, _)| k.clone())
            else {
                break;
            };
            if let Some(entry) = self.segments.remove(&oldest) {
                self.bytes -= entry.docs.bytes();
                self.stats.evictions += 1;
            }
        }
    }

    /// After a reload to `generation`: forget sets of segments the new searcher does not hold, and masks of
    /// other generations. Returns the masks most recently used (newest first, at most `keep_warm`).
    pub fn retain_segments(
        &mut self,
        live: &[SegmentVersion],
        generation: u64,
        keep_warm: usize,
    ) -> Vec<Arc<ProfileMask>> {
        let mut recent: Vec<(u64, MaskKey)> = Vec::new();
        for ((_, key), entry) in &self.segments {
            match recent.iter_mut().find(|(_, k)| k == key) {
                Some((used, _)) => *used = (*used).max(entry.last_used),
                None => recent.push((entry.last_used, key.clone())),
            }
        }
        let mut freed = 0;
        self.segments.retain(|(segment, _), entry| {
            let keep = live.contains(segment);
            if !keep {
                freed += entry.docs.bytes();
            }
            keep
        });
        self.bytes -= freed;
        self.masks.retain(|(g, _), _| *g == generation);
        recent.sort_by_key(|(used, _)| std::cmp::Reverse(*used));
        recent.into_iter().take(keep_warm).map(|(_, key)| key.0).collect()
    }

    pub fn stats(&self) -> CacheStats {
        CacheStats { entries: self.segments.len() as u64, bytes: self.bytes as u64, ..self.stats }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bits_iterate_in_order() {
        let words = vec![0b1011u64, 0, 1 << 63];
        assert_eq!(iter_bits(&words).collect::<Vec<_>>(), vec![0, 1, 3, 191]);
    }

    #[test]
    fn mask_contains_only_allowed_known_profiles() {
        use crate::acl::{ClauseKey, Principal};
        let mut acl = AclStore::default();
        let open = acl.set_clause(ClauseKey("open".into()), &[Principal::Anyone]);
        let closed = acl.set_clause(ClauseKey("closed".into()), &[Principal::User("x".into())]);
        let p_open = acl.profile(&[open]);
        let p_closed = acl.profile(&[closed]);
        let mask = ProfileMask::for_caller(&acl, &acl.caller(&[Principal::Anyone]));
        let cases = [
            (u64::from(p_open.0), true),
            (u64::from(p_closed.0), false),
            (u64::from(AclStore::NOBODY.0), false),
            (1000, false),
            (u64::MAX, false),
        ];
        for (profile, want) in cases {
            assert_eq!(mask.contains(profile), want, "profile {profile}");
        }
    }
}

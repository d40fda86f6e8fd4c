//! The ACL filter's data: which profiles a caller may read ([`ProfileMask`]), which documents of a segment
//! that allows ([`AllowedDocs`]), each segment's documents grouped by profile ([`ProfileIndex`]), and the
//! bounded caches of all three ([`AclCache`]).
//!
//! A segment's allowed set is built once per (segment, deletes, profile mask), with deleted documents left
//! out, so a single membership test answers "alive and readable". It is read from the postings of the
//! caller's profiles when they are few, else from the segment's profile index: the alive documents
//! grouped by profile, built once per segment version when the service opens or reloads (or by the first
//! caller who needs it, should that have failed) and shared by all,
//! so that a new caller's set costs what the caller reads (or, reading more than half, what it does not)
//! instead of a pass over the segment's profile column. A column whose profile ids are too large to group
//! by (none permdex writes) is scanned instead.
//!
//! Sets are cached by the *mask*, not by the caller: two callers whose principals open the same profiles
//! share every segment set, and a commit that only rewrites clauses keeps the sets whose mask did not
//! change. Sets and indexes of segments that disappear (merges, new commits, new deletes) are dropped on
//! reload; the sets are an LRU bounded in bytes, the indexes one per live segment version (about four
//! bytes per document).
//!
//! This file decides nothing about iteration order or ranking; `collect.rs` uses these sets.

use std::collections::HashMap;
use std::hash::{Hash, Hasher};
use std::sync::Arc;

use tantivy::columnar::ColumnIndex;
use tantivy::index::SegmentId;
use tantivy::schema::IndexRecordOption;
use tantivy::{DocId, DocSet, SegmentReader, Term};

use roaring::RoaringBitmap;

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
        ProfileMask::of(acl.profile_count(), &acl.allowed_profiles(caller))
    }

    /// The mask of `allowed` (profile ids of a store with `profile_count` profiles; larger ids are left
    /// out).
    pub fn of(profile_count: usize, allowed: &RoaringBitmap) -> ProfileMask {
        let mut words = vec![0u64; profile_count.div_ceil(64)];
        let mut count = 0;
        for profile in allowed {
            if (profile as usize) < profile_count {
                words[profile as usize / 64] |= 1 << (profile % 64);
                count += 1;
            }
        }
        let mut hasher = std::collections::hash_map::DefaultHasher::new();
        words.hash(&mut hasher);
        ProfileMask { allowed: count, fingerprint: hasher.finish(), words }
    }

    /// The allowed profile ids, in increasing order.
    pub fn profiles(&self) -> impl Iterator<Item = u64> + '_ {
        iter_bits(&self.words).map(u64::from)
    }

    /// How many profiles are allowed.
    pub fn len(&self) -> u64 {
        self.allowed
    }

    pub fn contains(&self, profile: u64) -> bool {
        self.bit(profile) != 0
    }

    /// 1 when `profile` is allowed, else 0: for loops that must not branch on it.
    #[inline]
    pub fn bit(&self, profile: u64) -> u64 {
        usize::try_from(profile / 64)
            .ok()
            .and_then(|i| self.words.get(i))
            .map_or(0, |w| (w >> (profile % 64)) & 1)
    }

    pub fn is_empty(&self) -> bool {
        self.allowed == 0
    }

    fn same_as(&self, other: &ProfileMask) -> bool {
        self.fingerprint == other.fingerprint && self.words == other.words
    }
}

/// A segment's allowed set is read from the postings of the allowed profiles when there is at most one
/// allowed profile per this many documents (a term lookup costs about as much as scanning this many
/// column values), else from a scan of the profile column.
const POSTINGS_PER_PROFILE: u64 = 2048;

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
    /// Whether reading the allowed profiles' postings costs less than one pass over the segment.
    fn postings_are_cheaper(segment: &SegmentReader, mask: &ProfileMask) -> bool {
        mask.len() * POSTINGS_PER_PROFILE <= u64::from(segment.max_doc())
    }

    /// Scans the segment's `acl_profile` column once. The scan has no data-dependent branch, so a caller
    /// who may read half of the documents costs no more than one who may read all of them.
    fn from_column(segment: &SegmentReader, mask: &ProfileMask) -> tantivy::Result<AllowedDocs> {
        let max_doc = segment.max_doc();
        let mut words = vec![0u64; (max_doc as usize).div_ceil(64)];
        if !mask.is_empty() {
            let column = segment.fast_fields().u64(field::ACL_PROFILE)?;
            if matches!(column.index, ColumnIndex::Full) {
                // Every document has exactly one value: read them 64 at a time, one word of the set each.
                let mut profiles = [0u64; 64];
                for (i, word) in words.iter_mut().enumerate() {
                    let start = i as u32 * 64;
                    let out = &mut profiles[..(max_doc - start).min(64) as usize];
                    column.values.get_range(u64::from(start), out);
                    *word = out.iter().enumerate().fold(0, |w, (bit, &p)| w | (mask.bit(p) << bit));
                }
            } else {
                // A document without a profile matches no mask bit: invisible.
                for doc in 0..max_doc {
                    if let Some(profile) = column.first(doc) {
                        words[doc as usize / 64] |= mask.bit(profile) << (doc % 64);
                    }
                }
            }
            if let Some(alive) = segment.alive_bitset() {
                for (i, word) in words.iter_mut().enumerate() {
                    let start = i as u32 * 64;
                    let alive_word = (start..max_doc.min(start + 64))
                        .fold(0u64, |w, doc| w | (u64::from(alive.is_alive(doc)) << (doc - start)));
                    *word &= alive_word;
                }
            }
        }
        Ok(AllowedDocs::from_words(max_doc, words))
    }

    /// Reads the postings of the allowed profiles in the segment's `acl_profile` index: the cost follows the
    /// caller's documents and profiles, not the segment's size. A document has one profile, so the lists
    /// are disjoint.
    fn from_postings(segment: &SegmentReader, mask: &ProfileMask) -> tantivy::Result<AllowedDocs> {
        let max_doc = segment.max_doc();
        let field = segment.schema().get_field(field::ACL_PROFILE)?;
        let index = segment.inverted_index(field)?;
        let alive = segment.alive_bitset();
        let mut ids: Vec<DocId> = Vec::new();
        let mut buffer = [0 as DocId; tantivy::COLLECT_BLOCK_BUFFER_LEN];
        for profile in mask.profiles() {
            let term = Term::from_field_u64(field, profile);
            let Some(mut postings) = index.read_postings(&term, IndexRecordOption::Basic)? else { continue };
            loop {
                let n = postings.fill_buffer(&mut buffer);
                ids.extend(buffer[..n].iter().filter(|&&d| alive.is_none_or(|a| a.is_alive(d))));
                if n < buffer.len() {
                    break;
                }
            }
        }
        let count = ids.len() as u32;
        if Self::ids_are_smaller(count, max_doc) {
            ids.sort_unstable();
            return Ok(AllowedDocs { max_doc, count, repr: Repr::Ids(ids) });
        }
        let mut words = vec![0u64; (max_doc as usize).div_ceil(64)];
        for doc in ids {
            words[doc as usize / 64] |= 1 << (doc % 64);
        }
        Ok(AllowedDocs { max_doc, count, repr: Repr::Bits(words) })
    }

    /// The set of `words` (bit `d` set: document `d` allowed), in the smaller representation.
    fn from_words(max_doc: DocId, words: Vec<u64>) -> AllowedDocs {
        let count = words.iter().map(|w| w.count_ones()).sum::<u32>();
        let repr = if Self::ids_are_smaller(count, max_doc) {
            Repr::Ids(iter_bits(&words).collect())
        } else {
            Repr::Bits(words)
        };
        AllowedDocs { max_doc, count, repr }
    }

    /// Ids take 32 bits each, a bitset one bit per document; below one allowed document in 64 the ids win
    /// by half, and every segment the dense path reads (more than [`super::SearchOptions`]'
    /// `sparse_fraction`, 2%, by default) has a bitset to probe.
    fn ids_are_smaller(count: u32, max_doc: DocId) -> bool {
        u64::from(count) * 64 < u64::from(max_doc)
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
            Repr::Bits(words) => bit_of(words, doc) != 0,
            Repr::Ids(ids) => ids.binary_search(&doc).is_ok(),
        }
    }

    /// The bitset (bit `d` of word `d / 64` set when document `d` is allowed), when the set is held as one.
    pub fn words(&self) -> Option<&[u64]> {
        match &self.repr {
            Repr::Bits(words) => Some(words),
            Repr::Ids(_) => None,
        }
    }

    /// Calls `each` with the allowed ids in increasing order, up to 64 at a time.
    pub fn for_each_block(&self, mut each: impl FnMut(&[DocId])) {
        match &self.repr {
            Repr::Ids(ids) => ids.chunks(64).for_each(each),
            Repr::Bits(words) => {
                let mut block = [0 as DocId; 64];
                for (i, &word) in words.iter().enumerate() {
                    let mut rest = word;
                    let mut len = 0;
                    while rest != 0 {
                        block[len] = i as u32 * 64 + rest.trailing_zeros();
                        rest &= rest - 1;
                        len += 1;
                    }
                    if len > 0 {
                        each(&block[..len]);
                    }
                }
            }
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

/// A segment's alive documents grouped by profile, built once per segment version (one pass over the
/// profile column): from it any caller's allowed set costs what the caller reads, or for a caller reading
/// more than half what it does not, plus one step per profile, never the segment's size and never a term
/// lookup. It depends on no ACL store: a profile id no store knows yet is a group like any other, left out
/// by every mask that does not hold it.
#[derive(Debug)]
pub struct ProfileIndex {
    max_doc: DocId,
    /// `docs[starts[v]..starts[v + 1]]` are the alive documents whose profile is `v`, increasing; the last
    /// group holds alive documents without a profile (allowed to no one).
    starts: Vec<u32>,
    docs: Vec<DocId>,
    /// The alive documents as a bitset, which complements start from.
    alive: Vec<u64>,
}

/// Profile ids an index groups by, at most this many plus four per document: a column holding larger ids
/// (none permdex writes) gets no index, and its sets come from the column scan.
const INDEX_SPARE_GROUPS: u64 = 65_536;

impl ProfileIndex {
    /// The index of `segment` as it is (its deletes included), or `None` when its profile ids are too
    /// large to group by.
    pub fn build(segment: &SegmentReader) -> tantivy::Result<Option<ProfileIndex>> {
        let max_doc = segment.max_doc();
        let column = segment.fast_fields().u64(field::ACL_PROFILE)?;
        let max_value = column.max_value();
        if max_value >= u64::from(max_doc) * 4 + INDEX_SPARE_GROUPS {
            return Ok(None);
        }
        // Group `none` holds the documents without a profile; ids fit in u32 by the check above.
        let none = max_value as u32 + 1;
        let mut profile_of = vec![none; max_doc as usize];
        if matches!(column.index, ColumnIndex::Full) {
            let mut buffer = [0u64; 1024];
            for (chunk, profiles) in profile_of.chunks_mut(buffer.len()).enumerate() {
                let out = &mut buffer[..profiles.len()];
                column.values.get_range(chunk as u64 * 1024, out);
                for (profile, &value) in profiles.iter_mut().zip(out.iter()) {
                    *profile = value as u32;
                }
            }
        } else {
            for (doc, profile) in profile_of.iter_mut().enumerate() {
                if let Some(value) = column.first(doc as DocId) {
                    *profile = value as u32;
                }
            }
        }
        let alive_bitset = segment.alive_bitset();
        let mut alive = vec![0u64; (max_doc as usize).div_ceil(64)];
        let mut starts = vec![0u32; none as usize + 2];
        for doc in 0..max_doc {
            if alive_bitset.is_none_or(|a| a.is_alive(doc)) {
                alive[doc as usize / 64] |= 1 << (doc % 64);
                starts[profile_of[doc as usize] as usize + 1] += 1;
            }
        }
        for g in 1..starts.len() {
            starts[g] += starts[g - 1];
        }
        let mut next = starts.clone();
        let mut docs = vec![0 as DocId; starts[starts.len() - 1] as usize];
        for doc in iter_bits(&alive) {
            let group = &mut next[profile_of[doc as usize] as usize];
            docs[*group as usize] = doc;
            *group += 1;
        }
        Ok(Some(ProfileIndex { max_doc, starts, docs, alive }))
    }

    /// Alive documents of profile `profile` (none beyond the grouped ids).
    fn group(&self, profile: u64) -> &[DocId] {
        // The last group (no profile) is never a profile's.
        match usize::try_from(profile) {
            Ok(g) if g + 2 < self.starts.len() => {
                &self.docs[self.starts[g] as usize..self.starts[g + 1] as usize]
            }
            _ => &[],
        }
    }

    /// Approximate heap size.
    pub fn bytes(&self) -> usize {
        std::mem::size_of::<Self>() + self.starts.len() * 4 + self.docs.len() * 4 + self.alive.len() * 8
    }
}

impl AllowedDocs {
    /// The set of `mask` from the segment's profile index: the allowed profiles' documents gathered when
    /// they are at most half of the alive documents, else the alive set with every other group's documents
    /// (unknown profiles and documents without one included) taken out.
    pub fn from_index(index: &ProfileIndex, mask: &ProfileMask) -> AllowedDocs {
        let max_doc = index.max_doc;
        let count: usize = mask.profiles().map(|p| index.group(p).len()).sum();
        if Self::ids_are_smaller(count as u32, max_doc) {
            let mut ids = Vec::with_capacity(count);
            for profile in mask.profiles() {
                ids.extend_from_slice(index.group(profile));
            }
            ids.sort_unstable();
            return AllowedDocs { max_doc, count: count as u32, repr: Repr::Ids(ids) };
        }
        let words = if count * 2 <= index.docs.len() {
            let mut words = vec![0u64; index.alive.len()];
            for profile in mask.profiles() {
                for &doc in index.group(profile) {
                    words[doc as usize / 64] |= 1 << (doc % 64);
                }
            }
            words
        } else {
            let mut words = index.alive.clone();
            for group in 0..index.starts.len() - 1 {
                if group + 2 < index.starts.len() && mask.contains(group as u64) {
                    continue;
                }
                for &doc in &index.docs[index.starts[group] as usize..index.starts[group + 1] as usize] {
                    words[doc as usize / 64] &= !(1 << (doc % 64));
                }
            }
            words
        };
        AllowedDocs { max_doc, count: count as u32, repr: Repr::Bits(words) }
    }
}

/// 1 when bit `doc` of `words` is set, else 0 (0 beyond the words).
#[inline]
pub fn bit_of(words: &[u64], doc: DocId) -> u64 {
    words.get(doc as usize / 64).map_or(0, |w| (w >> (doc % 64)) & 1)
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
    /// Segments' profile indexes, and their bytes (outside `bytes`).
    pub indexes: u64,
    pub index_bytes: u64,
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
    /// Each live segment version's profile index (`None`: it cannot have one). Not in the LRU budget: one
    /// per live segment, about four bytes per document.
    indexes: HashMap<SegmentVersion, Option<Arc<ProfileIndex>>>,
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
            indexes: HashMap::new(),
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

    /// The profile index of `segment`: `Some(None)` when it cannot have one, `None` when not built yet.
    pub fn profile_index(&self, segment: SegmentVersion) -> Option<Option<Arc<ProfileIndex>>> {
        self.indexes.get(&segment).cloned()
    }

    pub fn insert_profile_index(&mut self, segment: SegmentVersion, index: Option<Arc<ProfileIndex>>) {
        self.indexes.insert(segment, index);
    }

    /// After a reload to `generation`: forget sets and profile indexes of segments the new searcher does
    /// not hold, and masks of other generations. Returns the masks most recently used (newest first, at
    /// most `keep_warm`).
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
        self.indexes.retain(|segment, _| live.contains(segment));
        self.masks.retain(|(g, _), _| *g == generation);
        recent.sort_by_key(|(used, _)| std::cmp::Reverse(*used));
        recent.into_iter().take(keep_warm).map(|(_, key)| key.0).collect()
    }

    pub fn stats(&self) -> CacheStats {
        let indexes: Vec<&Arc<ProfileIndex>> = self.indexes.values().flatten().collect();
        CacheStats {
            entries: self.segments.len() as u64,
            bytes: self.bytes as u64,
            indexes: indexes.len() as u64,
            index_bytes: indexes.iter().map(|i| i.bytes() as u64).sum(),
            ..self.stats
        }
    }
}

/// A caller's first search, step by step, as [`super::SearchService::search`] takes the steps: for the
/// benchmark's split of a first query's cost into its parts. Nothing here is a way around the filter: the
/// ranking still goes through the service's `rank`, which reads every set from the cache or builds it.
impl super::SearchService {
    /// The caller's allowed profiles under the current commit (cached, as a search caches them).
    pub(crate) fn caller_mask(&self, caller: &CallerPrincipals) -> Arc<ProfileMask> {
        self.mask_for(&self.view(), caller)
    }

    /// Builds the profile index of each of `segments` that has none yet, off any search's path (the
    /// service calls it when it opens and when it reloads). A segment whose index fails to build is left
    /// without one: its first search builds its set another way, or reports the error.
    pub(super) fn prepare_profile_indexes(&self, segments: &[SegmentReader]) {
        for segment in segments {
            let version = SegmentVersion::of(segment);
            if self.cache().profile_index(version).is_none() {
                if let Ok(built) = ProfileIndex::build(segment) {
                    self.cache().insert_profile_index(version, built.map(Arc::new));
                }
            }
        }
    }

    /// A segment's allowed set for `mask`, built: from the segment's profile index when it has one (built
    /// when the service opened or reloaded, or by the first caller whose profiles are too many for their
    /// postings, then kept for the segment version), from the profile postings when the caller's profiles
    /// are few, else from a scan of the profile column (a column whose profile ids are too large to group
    /// by).
    pub(super) fn build_allowed(
        &self,
        segment: &SegmentReader,
        mask: &ProfileMask,
    ) -> Result<AllowedDocs, super::Error> {
        let version = SegmentVersion::of(segment);
        // The cache's lock is let go before anything is built.
        let cached = self.cache().profile_index(version);
        let index = match cached {
            Some(index) => index,
            None if AllowedDocs::postings_are_cheaper(segment, mask) => {
                return Ok(AllowedDocs::from_postings(segment, mask)?);
            }
            None => {
                // Built outside the lock; two searches may both build it, the second copy replaces the first.
                let built = ProfileIndex::build(segment)?.map(Arc::new);
                self.cache().insert_profile_index(version, built.clone());
                built
            }
        };
        Ok(match index {
            Some(index) => AllowedDocs::from_index(&index, mask),
            None => AllowedDocs::from_column(segment, mask)?,
        })
    }

    /// Builds (or finds cached) the allowed set of `mask` in every segment of the current commit.
    pub(crate) fn caller_sets(&self, mask: &Arc<ProfileMask>) -> Result<(), super::Error> {
        for segment in self.view().searcher.segment_readers() {
            self.allowed_docs(segment, mask)?;
        }
        Ok(())
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

    /// Every way of building a segment's set (the profile postings, the profile column, the profile index:
    /// gathered, complemented, as ids) gives exactly the documents that are alive and point at an allowed
    /// profile, in both representations, with deletes and with documents of a profile no store knows.
    #[test]
    fn postings_and_column_give_the_same_alive_allowed_documents() {
        use crate::acl::{ClauseKey, Principal};
        use crate::index::{IndexDoc, IndexReader, IndexWriter, Kind, Product};
        let dir = tempfile::tempdir().expect("tempdir");
        let mut acl = AclStore::default();
        let profiles: Vec<_> = (0..5)
            .map(|n| {
                let clause = acl.set_clause(ClauseKey(format!("c{n}")), &[Principal::Group(format!("g{n}"))]);
                acl.profile(&[clause])
            })
            .collect();
        let mut writer = IndexWriter::create(dir.path()).expect("create");
        // Profile 0 rare (1 in 97), the others by turns; an unknown profile id too.
        let profile_of = |n: u32| match n {
            n if n % 97 == 0 => profiles[0],
            n if n % 89 == 0 => crate::acl::ProfileId(9_999),
            n => profiles[1 + (n as usize % 4)],
        };
        for n in 0..3000u32 {
            writer
                .upsert(&IndexDoc::new(format!("d:{n}"), Product::Confluence, Kind::Page, profile_of(n)))
                .expect("upsert");
        }
        writer.commit(&acl, b"").expect("commit");
        for n in (0..3000u32).filter(|n| n % 7 == 0) {
            writer.delete(&format!("d:{n}"));
        }
        writer.commit(&acl, b"").expect("commit");
        writer.close().expect("close");
        let reader = IndexReader::open(dir.path()).expect("reader");
        let searcher = reader.searcher();
        let segment = &searcher.segment_readers()[0];
        assert!(segment.alive_bitset().is_some(), "the segment has deletes");
        let column = segment.fast_fields().u64(field::ACL_PROFILE).expect("column");
        let ids = segment.fast_fields().str(field::ID).expect("ids").expect("id column");
        let index = ProfileIndex::build(segment).expect("index").expect("profile ids small enough to group");
        let alive = (0..segment.max_doc()).filter(|&d| !segment.is_deleted(d)).count();
        assert_eq!(index.docs.len(), alive, "the index holds the alive documents only");
        for groups in
            [vec![0], vec![1], vec![0, 2], vec![1, 2, 3], vec![1, 2, 3, 4], vec![0, 1, 2, 3, 4], vec![]]
        {
            let held: Vec<Principal> = groups.iter().map(|g| Principal::Group(format!("g{g}"))).collect();
            let mask = ProfileMask::for_caller(&acl, &acl.caller(held.iter()));
            let want: Vec<DocId> = (0..segment.max_doc())
                .filter(|&d| !segment.is_deleted(d) && column.first(d).is_some_and(|p| mask.contains(p)))
                .collect();
            for docs in [
                AllowedDocs::from_postings(segment, &mask).expect("postings"),
                AllowedDocs::from_column(segment, &mask).expect("column"),
                AllowedDocs::from_index(&index, &mask),
            ] {
                let got: Vec<DocId> = docs.iter().collect();
                assert_eq!(got, want, "groups {groups:?}");
                assert_eq!(docs.count() as usize, want.len());
                let mut blocks = Vec::new();
                docs.for_each_block(|block| blocks.extend_from_slice(block));
                assert_eq!(blocks, want);
                for d in 0..segment.max_doc() + 70 {
                    assert_eq!(docs.contains(d), want.binary_search(&d).is_ok(), "doc {d}");
                }
                // The documents really are the ones named d:n with an allowed profile.
                let mut id = String::new();
                for &d in want.iter().take(5) {
                    let ord = ids.ords().first(d).expect("ord");
                    ids.ord_to_str(ord, &mut id).expect("id");
                    let n: u32 = id.trim_start_matches("d:").parse().expect("number");
                    assert!(!n.is_multiple_of(7) && mask.contains(u64::from(profile_of(n).0)), "{id}");
                }
            }
        }
        // A profile id this store does not know, known to a later one: the index groups it like any other.
        let later: RoaringBitmap = [9_999, profiles[1].0].into_iter().collect();
        let mask = ProfileMask::of(10_000, &later);
        let want: Vec<DocId> = (0..segment.max_doc())
            .filter(|&d| !segment.is_deleted(d) && column.first(d).is_some_and(|p| mask.contains(p)))
            .collect();
        assert!(want.iter().any(|&d| column.first(d) == Some(9_999)));
        assert_eq!(AllowedDocs::from_index(&index, &mask).iter().collect::<Vec<_>>(), want);
        assert_eq!(
            AllowedDocs::from_column(segment, &mask).expect("column").iter().collect::<Vec<_>>(),
            want
        );
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

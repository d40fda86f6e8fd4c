//! Writes a [`Corpus`] as a real permdex index: the product's fields and ACL store through
//! [`IndexWriter`], plus the extra fields the rival designs read, in the same documents and segments.
//!
//! - [`PRINCIPALS`]: for each clause slot `i` of the document's profile, the tokens `i:{principal}` of that
//!   clause's members, and `i:*` for slots the profile does not use. A caller may read the document when,
//!   for every slot, it holds one of that slot's tokens (or the slot is unused): a conjunction of term sets,
//!   which is how an indexed principal field can express "space clause ∧ restriction clause" exactly.
//! - [`CLAUSES`] and [`CLAUSE_COUNT`]: the document's clause ids and how many there are, the encoding an
//!   OpenSearch `terms_set` query with `minimum_should_match_field` reads.
//!
//! Documents are written by one indexing thread in the corpus's write order, in `segments` chunks; each
//! chunk is committed and its segments merged into one, so the index has exactly that many segments and
//! documents keep their order inside them. Deletes come last, as deletes in those segments.
//!
//! This file measures nothing.

use std::path::{Path, PathBuf};
use std::time::Instant;

use tantivy::schema::Field;

use super::corpus::Corpus;
use super::{Error, Progress};
use crate::acl::{AclStore, ClauseId, ClauseKey, ProfileId};
use crate::index::{ExtraField, ExtraKind, ExtraValue, IndexWriter, WriterOptions};

/// Principal tokens per clause slot (see the module docs).
pub const PRINCIPALS: &str = "bench_principals";
/// Clause ids, as decimal tokens.
pub const CLAUSES: &str = "bench_clauses";
/// How many clauses the document's profile has.
pub const CLAUSE_COUNT: &str = "bench_clause_count";

/// The token an unused clause slot holds.
pub fn unused_slot(slot: usize) -> String {
    format!("{slot}:*")
}

/// The token of `principal` in clause slot `slot`.
pub fn slot_token(slot: usize, principal: &str) -> String {
    format!("{slot}:{principal}")
}

pub fn extra_fields() -> Vec<ExtraField> {
    vec![
        ExtraField { name: PRINCIPALS.into(), kind: ExtraKind::Tokens },
        ExtraField { name: CLAUSES.into(), kind: ExtraKind::Tokens },
        ExtraField { name: CLAUSE_COUNT.into(), kind: ExtraKind::FastU64 },
    ]
}

/// Memory tantivy may buffer before it writes a segment (merged afterwards, so this only bounds memory).
const INDEXING_MEMORY: usize = 768 * 1024 * 1024;

/// The written index, and the writer kept open for later changes.
pub struct Built {
    pub dir: PathBuf,
    pub acl: AclStore,
    /// The store's profile of each corpus profile.
    pub profiles: Vec<ProfileId>,
    /// The store's clause of each corpus clause.
    pub clauses: Vec<ClauseId>,
    pub writer: IndexWriter,
    pub seconds: f64,
}

impl Built {
    /// Writes `corpus` into the empty directory `dir`.
    pub fn write(corpus: &Corpus, dir: &Path, progress: &mut dyn Progress) -> Result<Built, Error> {
        let started = Instant::now();
        let (acl, clauses, profiles) = acl_store(corpus);
        let options =
            WriterOptions { threads: Some(1), memory_bytes: INDEXING_MEMORY, background_merges: false };
        let mut writer = IndexWriter::create_with(dir, &extra_fields(), &options)?;
        let extras = Extras::of(&writer, corpus.max_clauses())?;

        progress.stage("indexing", corpus.write_order.len() as u64);
        let chunk = corpus.write_order.len().div_ceil(corpus.params.segments as usize);
        for part in corpus.write_order.chunks(chunk) {
            let before = writer.segment_ids()?;
            for (i, &n) in part.iter().enumerate() {
                let doc = corpus.index_doc(n, profiles[corpus.docs[n as usize].profile as usize]);
                writer.add_new(&doc, &extras.values(&extras.tokens(corpus, n, &clauses)))?;
                if i % 1000 == 999 {
                    progress.advance(1000);
                }
            }
            progress.advance(part.len() as u64 % 1000);
            writer.commit(&acl, b"")?;
            let created: Vec<_> = writer.segment_ids()?.into_iter().filter(|s| !before.contains(s)).collect();
            writer.merge(&created)?;
        }
        if corpus.deleted.iter().any(|d| *d) {
            for (n, _) in corpus.deleted.iter().enumerate().filter(|(_, d)| **d) {
                writer.delete(&corpus.doc_id(n as u32));
            }
            writer.commit(&acl, b"")?;
        }
        Ok(Built {
            dir: dir.to_path_buf(),
            acl,
            profiles,
            clauses,
            writer,
            seconds: started.elapsed().as_secs_f64(),
        })
    }

    /// Writes document `n` of `corpus` again, replacing the indexed copy: its profile and tokens as the
    /// corpus now says (a permission change, or a rewrite that only moves it to a new segment).
    pub fn rewrite(&mut self, corpus: &Corpus, n: u32) -> Result<(), Error> {
        let extras = Extras::of(&self.writer, corpus.max_clauses())?;
        let doc = corpus.index_doc(n, self.profiles[corpus.docs[n as usize].profile as usize]);
        let tokens = extras.tokens(corpus, n, &self.clauses);
        self.writer.upsert_with_extra(&doc, &extras.values(&tokens))?;
        Ok(())
    }
}

impl Built {
    /// Brings the ACL store in line with `corpus` after its clauses `changed` (existing or new) and any new
    /// profiles: what a sync's permission refresh does, touching no document.
    pub fn update_acl(&mut self, corpus: &Corpus, changed: &[u32]) {
        for &c in changed {
            let clause = &corpus.clauses[c as usize];
            let members: Vec<_> = clause.members.iter().map(|w| w.principal()).collect();
            let id = self.acl.set_clause(ClauseKey(clause.key.clone()), &members);
            match self.clauses.get_mut(c as usize) {
                Some(slot) => *slot = id,
                None => self.clauses.push(id),
            }
        }
        for p in self.profiles.len()..corpus.profiles.len() {
            let list: Vec<ClauseId> = corpus.profiles[p].iter().map(|&c| self.clauses[c as usize]).collect();
            self.profiles.push(self.acl.profile(&list));
        }
    }

    /// Commits what was written since the last commit, with the ACL store and `state`.
    pub fn commit(&mut self, state: &[u8]) -> Result<(), Error> {
        self.writer.commit(&self.acl, state)?;
        Ok(())
    }
}

/// The extra fields' handles, and how many clause slots documents have.
struct Extras {
    principals: Field,
    clauses: Field,
    count: Field,
    slots: usize,
}

impl Extras {
    fn of(writer: &IndexWriter, slots: usize) -> Result<Extras, Error> {
        let schema = writer.schema();
        let field = |name: &str| {
            schema.extra_field(name).ok_or_else(|| Error::Parameter(format!("index lacks the {name} field")))
        };
        Ok(Extras {
            principals: field(PRINCIPALS)?,
            clauses: field(CLAUSES)?,
            count: field(CLAUSE_COUNT)?,
            slots,
        })
    }

    /// Document `n`'s tokens: principals per clause slot, clause ids (see the module docs).
    fn tokens(&self, corpus: &Corpus, n: u32, clauses: &[ClauseId]) -> DocTokens {
        let list = &corpus.profiles[corpus.docs[n as usize].profile as usize];
        let mut principals = Vec::new();
        for slot in 0..self.slots.max(list.len()) {
            match list.get(slot) {
                Some(&clause) => principals.extend(
                    corpus.clauses[clause as usize].members.iter().map(|w| slot_token(slot, &w.token())),
                ),
                None => principals.push(unused_slot(slot)),
            }
        }
        let clause_ids = list.iter().map(|&c| clauses[c as usize].0.to_string()).collect();
        DocTokens { principals, clauses: clause_ids }
    }

    fn values<'t>(&self, tokens: &'t DocTokens) -> Vec<(Field, ExtraValue<'t>)> {
        let mut out = Vec::with_capacity(tokens.principals.len() + tokens.clauses.len() + 1);
        out.extend(tokens.principals.iter().map(|t| (self.principals, ExtraValue::Token(t))));
        out.extend(tokens.clauses.iter().map(|t| (self.clauses, ExtraValue::Token(t))));
        out.push((self.count, ExtraValue::U64(tokens.clauses.len() as u64)));
        out
    }
}

/// A document's extra-field tokens.
struct DocTokens {
    principals: Vec<String>,
    clauses: Vec<String>,
}

/// The ACL store of `corpus`: its clauses under their keys, its profiles.
pub fn acl_store(corpus: &Corpus) -> (AclStore, Vec<ClauseId>, Vec<ProfileId>) {
    let mut acl = AclStore::default();
    let clauses: Vec<ClauseId> = corpus
        .clauses
        .iter()
        .map(|c| {
            let members: Vec<_> = c.members.iter().map(|w| w.principal()).collect();
            acl.set_clause(ClauseKey(c.key.clone()), &members)
        })
        .collect();
    let profiles = corpus
        .profiles
        .iter()
        .map(|p| acl.profile(&p.iter().map(|&c| clauses[c as usize]).collect::<Vec<_>>()))
        .collect();
    (acl, clauses, profiles)
}

/// Bytes under `dir`, recursively.
pub fn dir_bytes(dir: &Path) -> u64 {
    let Ok(entries) = std::fs::read_dir(dir) else { return 0 };
    entries
        .flatten()
        .map(|e| match e.metadata() {
            Ok(m) if m.is_dir() => dir_bytes(&e.path()),
            Ok(m) => m.len(),
            Err(_) => 0,
        })
        .sum()
}

//! [`CoveringQuery`]: documents that hold at least as many of a set of terms as a per-document number
//! says — what OpenSearch's `terms_set` query with `minimum_should_match_field` does (Lucene's
//! `CoveringQuery`). tantivy has no such query, so the benchmark's clause-id strategy brings its own.
//!
//! The scorer walks the terms' posting lists together, document at a time (a min-heap on each list's
//! current document), counts how many lists stand on each document and keeps it when the count reaches the
//! document's number in a fast column. A document whose number is missing or zero matches nothing. Every
//! match scores 1; the benchmark wraps the query in a zero constant score.
//!
//! This file knows nothing about permissions: which terms to ask for is the caller's business.

use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::sync::Arc;

use tantivy::columnar::Column;
use tantivy::postings::SegmentPostings;
use tantivy::query::{EnableScoring, Explanation, Query, Scorer, Weight};
use tantivy::schema::{Field, IndexRecordOption};
use tantivy::{DocId, DocSet, Score, SegmentReader, Term, TERMINATED};

#[derive(Debug, Clone)]
pub struct CoveringQuery {
    field: Field,
    terms: Arc<Vec<Term>>,
    count_field: String,
}

impl CoveringQuery {
    /// Matches documents holding at least `count_field` of `terms` (all in `field`).
    pub fn new(field: Field, terms: Arc<Vec<Term>>, count_field: &str) -> CoveringQuery {
        CoveringQuery { field, terms, count_field: count_field.to_string() }
    }
}

impl Query for CoveringQuery {
    fn weight(&self, _scoring: EnableScoring<'_>) -> tantivy::Result<Box<dyn Weight>> {
        Ok(Box::new(CoveringWeight { query: self.clone() }))
    }
}

struct CoveringWeight {
    query: CoveringQuery,
}

impl Weight for CoveringWeight {
    fn scorer(&self, reader: &SegmentReader, _boost: Score) -> tantivy::Result<Box<dyn Scorer>> {
        let inverted = reader.inverted_index(self.query.field)?;
        let mut postings = Vec::new();
        for term in self.query.terms.iter() {
            if let Some(list) = inverted.read_postings(term, IndexRecordOption::Basic)? {
                postings.push(list);
            }
        }
        let counts = reader.fast_fields().u64(&self.query.count_field)?;
        Ok(Box::new(CoveringScorer::new(postings, counts, reader.max_doc())))
    }

    fn explain(&self, reader: &SegmentReader, doc: DocId) -> tantivy::Result<Explanation> {
        let mut scorer = self.scorer(reader, 1.0)?;
        if scorer.seek(doc) == doc {
            Ok(Explanation::new("covering", 1.0))
        } else {
            Err(tantivy::TantivyError::InvalidArgument(format!("document {doc} does not match")))
        }
    }
}

struct CoveringScorer {
    postings: Vec<SegmentPostings>,
    /// (current document, list index) of every list not yet exhausted.
    heap: BinaryHeap<Reverse<(DocId, usize)>>,
    counts: Column<u64>,
    doc: DocId,
    size_hint: u32,
}

impl CoveringScorer {
    fn new(postings: Vec<SegmentPostings>, counts: Column<u64>, max_doc: DocId) -> CoveringScorer {
        let heap = postings
            .iter()
            .enumerate()
            .filter(|(_, p)| p.doc() != TERMINATED)
            .map(|(i, p)| Reverse((p.doc(), i)))
            .collect();
        let size_hint =
            postings.iter().map(|p| u64::from(p.size_hint())).sum::<u64>().min(u64::from(max_doc));
        let mut scorer = CoveringScorer { postings, heap, counts, doc: 0, size_hint: size_hint as u32 };
        scorer.next_match();
        scorer
    }

    /// Moves to the first matching document among those the lists stand on.
    fn next_match(&mut self) -> DocId {
        loop {
            let Some(&Reverse((doc, _))) = self.heap.peek() else {
                self.doc = TERMINATED;
                return TERMINATED;
            };
            let mut held = 0u64;
            while let Some(&Reverse((at, i))) = self.heap.peek() {
                if at != doc {
                    break;
                }
                self.heap.pop();
                held += 1;
                let next = self.postings[i].advance();
                if next != TERMINATED {
                    self.heap.push(Reverse((next, i)));
                }
            }
            let needed = self.counts.first(doc).unwrap_or(0);
            if needed > 0 && held >= needed {
                self.doc = doc;
                return doc;
            }
        }
    }
}

impl DocSet for CoveringScorer {
    fn advance(&mut self) -> DocId {
        if self.doc == TERMINATED {
            return TERMINATED;
        }
        self.next_match()
    }

    fn seek(&mut self, target: DocId) -> DocId {
        if self.doc >= target {
            return self.doc;
        }
        while let Some(&Reverse((at, i))) = self.heap.peek() {
            if at >= target {
                break;
            }
            self.heap.pop();
            let next = self.postings[i].seek(target);
            if next != TERMINATED {
                self.heap.push(Reverse((next, i)));
            }
        }
        self.next_match()
    }

    fn doc(&self) -> DocId {
        self.doc
    }

    fn size_hint(&self) -> u32 {
        self.size_hint
    }
}

impl Scorer for CoveringScorer {
    fn score(&mut self) -> Score {
        1.0
    }
}

#[cfg(test)]
mod tests {
    use tantivy::collector::DocSetCollector;
    use tantivy::schema::{Schema, FAST, STRING};
    use tantivy::{doc, Index};

    use super::*;

    #[test]
    fn matches_documents_holding_enough_of_the_terms() {
        let mut builder = Schema::builder();
        let tags = builder.add_text_field("tags", STRING);
        let need = builder.add_u64_field("need", FAST);
        let index = Index::create_in_ram(builder.build());
        let mut writer = index.writer_with_num_threads(1, 15_000_000).expect("writer");
        // (tags, needed): the query below asks for a, b and c.
        let docs: &[(&[&str], u64)] = &[
            (&["a"], 1),           // 0: yes
            (&["a", "x"], 2),      // 1: no, x is not asked for
            (&["a", "b"], 2),      // 2: yes
            (&["x"], 1),           // 3: no
            (&["b", "c", "x"], 2), // 4: yes
            (&["c"], 0),           // 5: no, a zero count matches nothing
            (&["a", "b", "c"], 3), // 6: yes
        ];
        for (terms, n) in docs {
            let mut d = doc!(need => *n);
            for t in *terms {
                d.add_text(tags, t);
            }
            writer.add_document(d).expect("add");
        }
        writer.commit().expect("commit");
        let searcher = index.reader().expect("reader").searcher();
        let terms = Arc::new(["a", "b", "c"].iter().map(|t| Term::from_field_text(tags, t)).collect());
        let query = CoveringQuery::new(tags, terms, "need");
        let found: Vec<DocId> = searcher
            .search(&query, &DocSetCollector)
            .expect("search")
            .into_iter()
            .map(|a| a.doc_id)
            .collect();
        let mut found = found;
        found.sort_unstable();
        assert_eq!(found, vec![0, 2, 4, 6]);

        let segment = &searcher.segment_readers()[0];
        let weight = query.weight(EnableScoring::disabled_from_searcher(&searcher)).expect("weight");
        let mut scorer = weight.scorer(segment, 1.0).expect("scorer");
        assert_eq!(scorer.seek(3), 4);
        assert_eq!(scorer.seek(4), 4);
        assert_eq!(scorer.advance(), 6);
        assert_eq!(scorer.advance(), TERMINATED);
    }
}

//! Topics through search, into a TREC run: [`run_topics`] asks a [`Ranker`] for each topic's ranking and
//! maps hits to the collection's document numbers.
//!
//! Two rankers: [`ApiRanker`], the production path (`permdex search --as` and the search API: every
//! configured source's index, the account's principals from the synced directory, pages of at most 100
//! hits), and [`ServiceRanker`], one [`SearchService`] searched as given principals (a directly built
//! index). Both go through the ACL filter; nothing here searches unfiltered.

use std::collections::BTreeMap;

use super::collection::Docno;
use super::trec::{Run, Scored, Topic};
use crate::acl::CallerPrincipals;
use crate::search::{PageRequest, SearchRequest, SearchService, MAX_LIMIT};
use crate::server::auth::Caller;
use crate::server::backend::Indexes;
use crate::server::search::{Page, SearchFailure, SearchIndex, SearchQuery};

/// Hits asked for beyond the depth, for those that are not collection documents.
const CONTAINER_MARGIN: usize = 8;

/// One hit of a ranking: what the run and the audits need.
#[derive(Debug, Clone, PartialEq)]
pub struct RankedHit {
    pub id: String,
    pub labels: Vec<String>,
    pub score: f32,
}

/// Answers a query text with the first `depth` hits, best first.
pub trait Ranker {
    fn rank(&self, text: &str, depth: usize) -> Result<Vec<RankedHit>, String>;
}

/// The production search path as one account.
pub struct ApiRanker<'a> {
    pub indexes: &'a Indexes,
    pub caller: Caller,
}

impl Ranker for ApiRanker<'_> {
    fn rank(&self, text: &str, depth: usize) -> Result<Vec<RankedHit>, String> {
        pages(depth, |offset, limit| {
            let query = SearchQuery {
                q: text.to_string(),
                page: Page::Offset { offset, limit },
                ..SearchQuery::default()
            };
            let results = self.indexes.search(&self.caller, &query).map_err(|f| match f {
                SearchFailure::BadQuery(m) | SearchFailure::BadRequest(m) | SearchFailure::Internal(m) => m,
            })?;
            let hits =
                results.hits.into_iter().map(|h| RankedHit { id: h.id, labels: h.labels, score: h.score });
            Ok((hits.collect(), results.total))
        })
    }
}

/// One search service as given principals.
pub struct ServiceRanker<'a> {
    pub service: &'a SearchService,
    pub caller: CallerPrincipals,
}

impl Ranker for ServiceRanker<'_> {
    fn rank(&self, text: &str, depth: usize) -> Result<Vec<RankedHit>, String> {
        pages(depth, |offset, limit| {
            let mut request = SearchRequest::new(text);
            request.page = PageRequest::Offset { offset, limit };
            let response = self.service.search(&self.caller, &request).map_err(|e| e.to_string())?;
            let hits =
                response.hits.into_iter().map(|h| RankedHit { id: h.id, labels: h.labels, score: h.score });
            Ok((hits.collect(), response.total))
        })
    }
}

/// The first `depth` hits, fetched in pages of at most [`MAX_LIMIT`] by `page(offset, limit)`, which
/// answers with a page of hits and the total.
fn pages(
    depth: usize,
    mut page: impl FnMut(usize, usize) -> Result<(Vec<RankedHit>, u64), String>,
) -> Result<Vec<RankedHit>, String> {
    let mut out: Vec<RankedHit> = Vec::new();
    while out.len() < depth {
        let limit = (depth - out.len()).min(MAX_LIMIT);
        let (hits, total) = page(out.len(), limit)?;
        let got = hits.len();
        out.extend(hits);
        if got < limit || out.len() as u64 >= total {
            break;
        }
    }
    Ok(out)
}

/// What running a set of topics gave.
#[derive(Debug, Clone, Default)]
pub struct TopicRuns {
    /// The TREC run: per topic, the collection's documents in rank order.
    pub run: Run,
    /// Per topic, the index ids as ranked (collection documents or not), for audits.
    pub ids: BTreeMap<String, Vec<String>>,
    /// Topics the search refused or failed, with the reason.
    pub failures: Vec<(String, String)>,
}

/// How topics become a run.
#[derive(Debug, Clone)]
pub struct RunSpec {
    /// Hits per topic.
    pub depth: usize,
    pub docno: Docno,
    /// Leave a topic's own document out of its ranking.
    pub exclude_self: bool,
    /// The run tag.
    pub tag: String,
}

/// Runs every topic through `ranker`.
pub fn run_topics(ranker: &dyn Ranker, topics: &[Topic], spec: &RunSpec) -> TopicRuns {
    let mut out =
        TopicRuns { run: Run { by_query: BTreeMap::new(), tag: spec.tag.clone() }, ..TopicRuns::default() };
    // A little more than the depth, so that taking out the topic's own document and the few hits that are
    // not documents of the collection (its space's home and section pages) still leaves `depth`.
    let depth = spec.depth + usize::from(spec.exclude_self) + CONTAINER_MARGIN;
    for topic in topics {
        let hits = match ranker.rank(&topic.text, depth) {
            Ok(hits) => hits,
            Err(reason) => {
                out.failures.push((topic.id.clone(), reason));
                out.run.by_query.insert(topic.id.clone(), Vec::new());
                continue;
            }
        };
        let mut docs = Vec::new();
        for hit in &hits {
            let Some(docno) = spec.docno.of(&hit.id, &hit.labels) else { continue };
            if spec.exclude_self && docno == topic.id {
                continue;
            }
            docs.push(Scored { docno, score: f64::from(hit.score) });
        }
        docs.truncate(spec.depth);
        out.ids.insert(topic.id.clone(), hits.into_iter().map(|h| h.id).collect());
        out.run.by_query.insert(topic.id.clone(), docs);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Fixed(Vec<RankedHit>);

    impl Ranker for Fixed {
        fn rank(&self, text: &str, depth: usize) -> Result<Vec<RankedHit>, String> {
            if text == "refused" {
                return Err("too long".into());
            }
            Ok(self.0.iter().take(depth).cloned().collect())
        }
    }

    fn hit(id: &str, label: &str, score: f32) -> RankedHit {
        RankedHit { id: id.into(), labels: vec![label.into()], score }
    }

    #[test]
    fn hits_become_docnos_without_the_topic_itself() {
        let ranker = Fixed(vec![
            hit("p:1", "orig-7", 3.0),
            hit("home", "x", 2.5),
            hit("p:2", "orig-8", 2.0),
            hit("p:3", "orig-9", 1.0),
        ]);
        let topics = vec![
            Topic { id: "7".into(), text: "q".into() },
            Topic { id: "8".into(), text: "refused".into() },
        ];
        let spec = RunSpec {
            depth: 2,
            docno: Docno::LabelPrefix("orig-".into()),
            exclude_self: true,
            tag: "t".into(),
        };
        let runs = run_topics(&ranker, &topics, &spec);
        let docnos: Vec<&str> = runs.run.by_query["7"].iter().map(|d| d.docno.as_str()).collect();
        assert_eq!(docnos, ["8", "9"], "the topic's own issue and non-collection hits are left out");
        assert_eq!(runs.ids["7"], ["p:1", "home", "p:2", "p:3"]);
        assert_eq!(runs.failures, vec![("8".to_string(), "too long".to_string())]);
        assert!(runs.run.by_query["8"].is_empty());
    }
}

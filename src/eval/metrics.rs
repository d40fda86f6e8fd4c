//! Retrieval metrics with trec_eval's definitions, per query and averaged.
//!
//! Each query's retrieved documents are ordered as trec_eval orders them: score descending, then docno
//! descending (byte order); the rank column of a run file plays no part. A document is relevant when its
//! judgement is at least the relevance level (trec_eval `-l`, default 1); unjudged documents are not
//! relevant. nDCG takes each judgement as its gain (judgements ≤ 0 gain nothing), whatever the relevance
//! level, and its ideal ranking from all judged documents of the query; the discount of rank `r` is
//! `log2(r + 1)`.
//!
//! Measures, named as trec_eval names them: `map`, `map_cut.k`, `ndcg`, `ndcg_cut.k`, `P.k`, `recall.k`,
//! `recip_rank`, `Rprec`, `success.k`, `num_ret`, `num_rel`, `num_rel_ret`; and `recip_rank_cut.k`, the
//! reciprocal rank within the first `k` (trec_eval's `recip_rank` with `-M k`), for MRR@k. Averages are
//! over the queries that have judgements and appear in the run (`complete`: every judged query, an absent
//! one scoring 0, trec_eval `-c`); the `num_*` counts are summed instead. `judged_only` drops unjudged
//! documents, and those judged below 0, from each ranking first (trec_eval `-J`).
//!
//! This file does no I/O and knows nothing of search.

use std::cmp::Ordering;
use std::collections::BTreeMap;
use std::fmt;
use std::str::FromStr;

use super::trec::{Qrels, Run, Scored};
use super::Error;

/// The measures `permdex eval` reports when none are asked for.
pub const DEFAULT_MEASURES: &str = "ndcg_cut.10,map,recip_rank,recip_rank_cut.10,P.10,recall.100,recall.1000";

/// One measure.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Measure {
    Map,
    MapCut(usize),
    Ndcg,
    NdcgCut(usize),
    P(usize),
    Recall(usize),
    RecipRank,
    RecipRankCut(usize),
    Rprec,
    Success(usize),
    NumRet,
    NumRel,
    NumRelRet,
}

impl Measure {
    /// Whether the summary adds the per-query values up (counts) instead of averaging them.
    pub fn is_count(self) -> bool {
        matches!(self, Measure::NumRet | Measure::NumRel | Measure::NumRelRet)
    }

    /// Parses a comma-separated list such as `ndcg_cut.10,map,P.10`.
    pub fn parse_list(list: &str) -> Result<Vec<Measure>, Error> {
        let mut out: Vec<Measure> = Vec::new();
        for name in list.split(',').map(str::trim).filter(|s| !s.is_empty()) {
            let measure: Measure = name.parse()?;
            if !out.contains(&measure) {
                out.push(measure);
            }
        }
        if out.is_empty() {
            return Err(Error::BadMeasure(list.to_string()));
        }
        Ok(out)
    }
}

impl FromStr for Measure {
    type Err = Error;
    fn from_str(s: &str) -> Result<Measure, Error> {
        let bad = || Error::BadMeasure(s.to_string());
        let (name, cut) = match s.split_once('.') {
            Some((name, k)) => {
                let k: usize = k.parse().map_err(|_| bad())?;
                if k == 0 {
                    return Err(bad());
                }
                (name, Some(k))
            }
            None => (s, None),
        };
        Ok(match (name, cut) {
            ("map", None) => Measure::Map,
            ("map_cut", Some(k)) => Measure::MapCut(k),
            ("ndcg", None) => Measure::Ndcg,
            ("ndcg_cut", Some(k)) => Measure::NdcgCut(k),
            ("P", Some(k)) => Measure::P(k),
            ("recall", Some(k)) => Measure::Recall(k),
            ("recip_rank", None) => Measure::RecipRank,
            ("recip_rank_cut", Some(k)) => Measure::RecipRankCut(k),
            ("Rprec", None) => Measure::Rprec,
            ("success", Some(k)) => Measure::Success(k),
            ("num_ret", None) => Measure::NumRet,
            ("num_rel", None) => Measure::NumRel,
            ("num_rel_ret", None) => Measure::NumRelRet,
            _ => return Err(bad()),
        })
    }
}

impl fmt::Display for Measure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Measure::Map => write!(f, "map"),
            Measure::MapCut(k) => write!(f, "map_cut.{k}"),
            Measure::Ndcg => write!(f, "ndcg"),
            Measure::NdcgCut(k) => write!(f, "ndcg_cut.{k}"),
            Measure::P(k) => write!(f, "P.{k}"),
            Measure::Recall(k) => write!(f, "recall.{k}"),
            Measure::RecipRank => write!(f, "recip_rank"),
            Measure::RecipRankCut(k) => write!(f, "recip_rank_cut.{k}"),
            Measure::Rprec => write!(f, "Rprec"),
            Measure::Success(k) => write!(f, "success.{k}"),
            Measure::NumRet => write!(f, "num_ret"),
            Measure::NumRel => write!(f, "num_rel"),
            Measure::NumRelRet => write!(f, "num_rel_ret"),
        }
    }
}

/// trec_eval's options that change what is counted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ScoreOptions {
    /// Least judgement that counts as relevant (`-l`).
    pub relevance_level: i32,
    /// Drop unjudged documents from rankings before measuring (`-J`).
    pub judged_only: bool,
    /// Average over every judged query, absent ones scoring 0 (`-c`).
    pub complete: bool,
}

impl Default for ScoreOptions {
    fn default() -> Self {
        ScoreOptions { relevance_level: 1, judged_only: false, complete: false }
    }
}

/// Per-query values and their summary, for a list of measures.
#[derive(Debug, Clone, PartialEq)]
pub struct Evaluation {
    pub measures: Vec<Measure>,
    /// Per query, one value per measure (in `measures` order).
    pub per_query: BTreeMap<String, Vec<f64>>,
    /// Mean (or, for counts, sum) per measure over `per_query`.
    pub summary: Vec<f64>,
}

impl Evaluation {
    pub fn get(&self, measure: Measure) -> Option<f64> {
        self.measures.iter().position(|m| *m == measure).map(|i| self.summary[i])
    }

    /// One measure's values by query.
    pub fn column(&self, measure: Measure) -> Option<BTreeMap<&str, f64>> {
        let i = self.measures.iter().position(|m| *m == measure)?;
        Some(self.per_query.iter().map(|(q, v)| (q.as_str(), v[i])).collect())
    }
}

/// trec_eval's order: score descending, then docno descending.
pub fn trec_order(a: &Scored, b: &Scored) -> Ordering {
    b.score.partial_cmp(&a.score).unwrap_or(Ordering::Equal).then_with(|| b.docno.cmp(&a.docno))
}

/// Evaluates `run` against `qrels`.
pub fn evaluate(qrels: &Qrels, run: &Run, measures: &[Measure], options: ScoreOptions) -> Evaluation {
    let empty = Vec::new();
    let mut per_query = BTreeMap::new();
    for (qid, judged) in &qrels.by_query {
        let retrieved = match run.by_query.get(qid) {
            Some(docs) => docs,
            None if options.complete => &empty,
            None => continue,
        };
        let mut ranked: Vec<&Scored> = retrieved.iter().collect();
        ranked.sort_by(|a, b| trec_order(a, b));
        // The judgement of each retrieved document, `None` when unjudged.
        let rels: Vec<Option<i32>> = ranked.iter().map(|d| judged.get(&d.docno).copied()).collect();
        let query = QueryRels::new(&rels, judged.values().copied(), options);
        let values = measures
            .iter()
            .map(|m| match *m {
                // `-M k` cuts the ranking before `-J` drops unjudged documents from it.
                Measure::RecipRankCut(k) => {
                    let first = rels.iter().take(k).copied().collect::<Vec<_>>();
                    QueryRels::new(&first, judged.values().copied(), options).reciprocal_rank(usize::MAX)
                }
                other => query.value(other),
            })
            .collect::<Vec<f64>>();
        per_query.insert(qid.clone(), values);
    }
    let summary = measures
        .iter()
        .enumerate()
        .map(|(i, m)| {
            let sum: f64 = per_query.values().map(|v: &Vec<f64>| v[i]).sum();
            if m.is_count() || per_query.is_empty() {
                sum
            } else {
                sum / per_query.len() as f64
            }
        })
        .collect();
    Evaluation { measures: measures.to_vec(), per_query, summary }
}

/// One query's ranking as judgements, and what its measures need.
struct QueryRels {
    /// Judgement of each retrieved document in rank order (`None`: unjudged).
    rels: Vec<Option<i32>>,
    /// Whether each retrieved document is relevant.
    relevant: Vec<bool>,
    num_rel: usize,
    /// All positive judgements of the query, best first: the ideal ranking's gains.
    ideal: Vec<f64>,
}

impl QueryRels {
    fn new(rels: &[Option<i32>], judgements: impl Iterator<Item = i32>, options: ScoreOptions) -> QueryRels {
        let level = options.relevance_level;
        let mut rels = rels.to_vec();
        if options.judged_only {
            // trec_eval reads a negative judgement as "not in the pool": `-J` drops it like an unjudged one.
            rels.retain(|r| r.is_some_and(|r| r >= 0));
        }
        let mut num_rel = 0;
        let mut ideal = Vec::new();
        for rel in judgements {
            if rel >= level {
                num_rel += 1;
            }
            if rel > 0 {
                ideal.push(f64::from(rel));
            }
        }
        ideal.sort_by(|a, b| b.total_cmp(a));
        let relevant = rels.iter().map(|r| r.is_some_and(|r| r >= level)).collect();
        QueryRels { rels, relevant, num_rel, ideal }
    }

    fn rel_in_first(&self, k: usize) -> usize {
        self.relevant.iter().take(k).filter(|r| **r).count()
    }

    fn average_precision(&self, k: usize) -> f64 {
        if self.num_rel == 0 {
            return 0.0;
        }
        let mut found = 0;
        let mut sum = 0.0;
        for (i, rel) in self.relevant.iter().take(k).enumerate() {
            if *rel {
                found += 1;
                sum += found as f64 / (i + 1) as f64;
            }
        }
        sum / self.num_rel as f64
    }

    fn ndcg(&self, k: usize) -> f64 {
        let dcg = |gains: &mut dyn Iterator<Item = f64>| -> f64 {
            gains
                .take(k)
                .enumerate()
                .map(|(i, g)| if g > 0.0 { g / ((i + 2) as f64).log2() } else { 0.0 })
                .sum()
        };
        let ideal = dcg(&mut self.ideal.iter().copied());
        if ideal == 0.0 {
            return 0.0;
        }
        dcg(&mut self.rels.iter().map(|r| r.map_or(0.0, f64::from))) / ideal
    }

    fn reciprocal_rank(&self, k: usize) -> f64 {
        self.relevant.iter().take(k).position(|r| *r).map_or(0.0, |i| 1.0 / (i + 1) as f64)
    }

    fn value(&self, measure: Measure) -> f64 {
        let all = usize::MAX;
        let ratio = |a: usize, b: usize| if b == 0 { 0.0 } else { a as f64 / b as f64 };
        match measure {
            Measure::Map => self.average_precision(all),
            Measure::MapCut(k) => self.average_precision(k),
            Measure::Ndcg => self.ndcg(all),
            Measure::NdcgCut(k) => self.ndcg(k),
            Measure::P(k) => ratio(self.rel_in_first(k), k),
            Measure::Recall(k) => ratio(self.rel_in_first(k), self.num_rel),
            Measure::RecipRank => self.reciprocal_rank(all),
            Measure::RecipRankCut(k) => self.reciprocal_rank(k),
            Measure::Rprec => ratio(self.rel_in_first(self.num_rel), self.num_rel),
            Measure::Success(k) => f64::from(u8::from(self.rel_in_first(k) > 0)),
            Measure::NumRet => self.rels.len() as f64,
            Measure::NumRel => self.num_rel as f64,
            Measure::NumRelRet => self.rel_in_first(all) as f64,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(lines: &str) -> Run {
        Run::parse(lines).unwrap()
    }

    #[test]
    fn measures_parse_and_print_alike() {
        for name in ["map", "map_cut.100", "ndcg", "ndcg_cut.10", "P.5", "recall.1000", "recip_rank", "Rprec"]
        {
            assert_eq!(name.parse::<Measure>().unwrap().to_string(), name);
        }
        for bad in ["", "P", "P.0", "P.x", "ndcg_cut", "mrr", "map.5"] {
            assert!(bad.parse::<Measure>().is_err(), "{bad:?}");
        }
        assert_eq!(Measure::parse_list("map, P.10,map").unwrap(), vec![Measure::Map, Measure::P(10)]);
    }

    #[test]
    fn worked_example() {
        // Judged: a=2, b=0, c=1, e=3 (relevant: a, c, e). Ranked by score: a b d c; d is unjudged.
        let qrels = Qrels::parse("q 0 a 2\nq 0 b 0\nq 0 c 1\nq 0 e 3\n").unwrap();
        let r = run("q Q0 c 4 1 x\nq Q0 a 1 9 x\nq Q0 d 3 2 x\nq Q0 b 2 5 x\n");
        let measures =
            Measure::parse_list("map,P.2,recall.4,recip_rank,Rprec,ndcg_cut.2,num_rel_ret").unwrap();
        let e = evaluate(&qrels, &r, &measures, ScoreOptions::default());
        let v = &e.per_query["q"];
        let ap = (1.0 + 2.0 / 4.0) / 3.0;
        assert!((v[0] - ap).abs() < 1e-12, "map {}", v[0]);
        assert_eq!(v[1], 0.5);
        assert!((v[2] - 2.0 / 3.0).abs() < 1e-12);
        assert_eq!(v[3], 1.0);
        assert!((v[4] - 1.0 / 3.0).abs() < 1e-12);
        let ndcg = 2.0 / (3.0 + 2.0 / 3f64.log2());
        assert!((v[5] - ndcg).abs() < 1e-12, "ndcg {}", v[5]);
        assert_eq!(v[6], 2.0);
        // Judged only: d disappears, so c moves to rank 3.
        let j =
            evaluate(&qrels, &r, &[Measure::Map], ScoreOptions { judged_only: true, ..Default::default() });
        assert!((j.per_query["q"][0] - (1.0 + 2.0 / 3.0) / 3.0).abs() < 1e-12);
    }

    #[test]
    fn ties_break_by_docno_descending() {
        let qrels = Qrels::parse("q 0 a 1\n").unwrap();
        let e =
            evaluate(&qrels, &run("q Q0 a 1 1 x\nq Q0 b 2 1 x\n"), &[Measure::RecipRank], Default::default());
        assert_eq!(e.per_query["q"][0], 0.5, "b sorts before a at equal scores");
    }

    #[test]
    fn averages_follow_trec_eval() {
        let qrels = Qrels::parse("1 0 a 1\n2 0 b 1\n3 0 c 0\n").unwrap();
        let r = run("1 Q0 a 1 1 x\n3 Q0 c 1 1 x\n9 Q0 z 1 1 x\n");
        let e = evaluate(&qrels, &r, &[Measure::RecipRank, Measure::NumRet], Default::default());
        assert_eq!(e.per_query.keys().collect::<Vec<_>>(), ["1", "3"], "unjudged and absent queries skipped");
        assert_eq!(e.summary, vec![0.5, 2.0]);
        let c = evaluate(
            &qrels,
            &r,
            &[Measure::RecipRank],
            ScoreOptions { complete: true, ..Default::default() },
        );
        assert_eq!(c.per_query.len(), 3);
        assert!((c.summary[0] - 1.0 / 3.0).abs() < 1e-12);
    }
}

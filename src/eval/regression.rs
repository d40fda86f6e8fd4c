//! Regression files: the numbers a collection is expected to give (every measure of the account reading
//! everything and of the direct index, to 4 decimals, and index statistics), so that ranking changes are
//! deliberate: a change that moves them must update the file in the same commit.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::pipeline::CollectionReport;
use super::Error;

/// The expected numbers of one collection.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Expected {
    pub collection: String,
    /// The seed and depth the numbers were measured with.
    pub seed: u64,
    pub depth: usize,
    pub documents: usize,
    pub topics: usize,
    pub indexed_documents: u64,
    /// Measure → value, through the pipeline as the account reading everything.
    pub pipeline: BTreeMap<String, f64>,
    /// Measure → value, on the direct index.
    pub direct: BTreeMap<String, f64>,
    /// Topics the search refused.
    pub refused_topics: usize,
}

fn rounded(values: &[(String, f64)]) -> BTreeMap<String, f64> {
    values.iter().map(|(m, v)| (m.clone(), (v * 10_000.0).round() / 10_000.0)).collect()
}

impl Expected {
    pub fn of(report: &CollectionReport) -> Expected {
        let full = report.full_reader();
        Expected {
            collection: report.collection.clone(),
            seed: report.seed,
            depth: report.depth,
            documents: report.documents,
            topics: report.topics,
            indexed_documents: report.indexed_documents,
            pipeline: full.map(|a| rounded(&a.summary)).unwrap_or_default(),
            direct: rounded(&report.direct),
            refused_topics: full.map_or(0, |a| a.refused.len()),
        }
    }

    pub fn parse(text: &str) -> Result<Expected, Error> {
        serde_json::from_str(text).map_err(|e| Error::Format(format!("bad regression file: {e}")))
    }

    pub fn to_json(&self) -> String {
        format!("{}\n", serde_json::to_string_pretty(self).unwrap_or_default())
    }

    /// What differs between these expectations and `report`, one line each.
    pub fn check(&self, report: &CollectionReport) -> Vec<String> {
        let got = Expected::of(report);
        let mut problems = Vec::new();
        let mut same = |what: &str, want: String, have: String| {
            if want != have {
                problems.push(format!("{what}: expected {want}, measured {have}"));
            }
        };
        same("collection", self.collection.clone(), got.collection.clone());
        same("seed", self.seed.to_string(), got.seed.to_string());
        same("depth", self.depth.to_string(), got.depth.to_string());
        same("documents", self.documents.to_string(), got.documents.to_string());
        same("topics", self.topics.to_string(), got.topics.to_string());
        same("indexed documents", self.indexed_documents.to_string(), got.indexed_documents.to_string());
        same("refused topics", self.refused_topics.to_string(), got.refused_topics.to_string());
        for (part, want, have) in
            [("pipeline", &self.pipeline, &got.pipeline), ("direct", &self.direct, &got.direct)]
        {
            for (measure, value) in want {
                let measured = have.get(measure).map_or("not measured".to_string(), |v| format!("{v:.4}"));
                same(&format!("{part} {measure}"), format!("{value:.4}"), measured);
            }
        }
        problems
    }
}

//! Test collections as evaluation sees them: the documents (as a simulator corpus), the topics, the
//! judgements, and how a search hit maps to the collection's document number.
//!
//! - `cranfield`: a SMART-format collection (`cran.all.1400`), its queries in SMART format (`cran.qry`,
//!   numbered 1.. in file order, as `cranqrel` numbers them) and `cranqrel` (`qid docno code`). Cleverdon's
//!   codes 1 (complete answer) … 4 (minimum interest) become grades 4 … 1, and −1 stays −1 (not relevant),
//!   as ir_datasets grades them.
//! - `jira-csv`: a Jira CSV export (GitBugs) and a duplicate-pairs CSV (`Issue id,Duplicate id`). Every
//!   issue named in a pair is a topic whose query is its summary and description; its relevant documents
//!   are the issues it is paired with (either way round), and the issue itself is taken out of its own
//!   ranking.
//!
//! A topics or qrels file in TREC format may replace the defaults. This file reads files and parses; it does
//! not search.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::{Path, PathBuf};

use super::trec::{parse_topics, Qrels, Topic};
use super::Error;
use crate::sim::generate::corpus::{parse_csv, parse_smart};
use crate::sim::Corpus;

/// The kinds of collection `permdex eval collection` loads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Cranfield,
    JiraCsv,
}

impl std::str::FromStr for Kind {
    type Err = Error;
    fn from_str(s: &str) -> Result<Kind, Error> {
        match s {
            "cranfield" | "smart" => Ok(Kind::Cranfield),
            "jira-csv" | "gitbugs" => Ok(Kind::JiraCsv),
            other => Err(Error::Format(format!(
                "unknown collection kind {other:?}: expected cranfield or jira-csv"
            ))),
        }
    }
}

/// How a hit becomes a document number of the collection: the value of its label with this prefix (hits
/// without one are not part of the collection and are left out of runs).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Docno {
    /// The index id itself (`confluence:page:65540`).
    Id,
    /// The label starting with this prefix, without it (`cran-12` → `12`).
    LabelPrefix(String),
}

impl Docno {
    pub fn of(&self, id: &str, labels: &[String]) -> Option<String> {
        match self {
            Docno::Id => Some(id.to_string()),
            Docno::LabelPrefix(prefix) => {
                labels.iter().find_map(|l| l.strip_prefix(prefix.as_str()).map(str::to_string))
            }
        }
    }
}

impl std::str::FromStr for Docno {
    type Err = Error;
    fn from_str(s: &str) -> Result<Docno, Error> {
        match s.split_once(':') {
            None if s == "id" => Ok(Docno::Id),
            Some(("label", prefix)) if !prefix.is_empty() => Ok(Docno::LabelPrefix(prefix.to_string())),
            _ => Err(Error::Format(format!("bad docno rule {s:?}: expected id or label:PREFIX"))),
        }
    }
}

/// A loaded collection.
#[derive(Debug, Clone)]
pub struct Collection {
    /// Short name, for reports and regression files (`cranfield`, `hadoop_bugs`).
    pub name: String,
    pub kind: Kind,
    /// The documents, as the simulator loads them.
    pub corpus: Corpus,
    /// The documents as plain text, for indexing them directly.
    pub documents: Vec<PlainDoc>,
    pub topics: Vec<Topic>,
    pub qrels: Qrels,
    pub docno: Docno,
    /// Take a topic's own document out of its ranking (a duplicate search must not find the query itself).
    pub exclude_self: bool,
}

/// One document's text as the collection gives it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlainDoc {
    pub docno: String,
    pub title: String,
    pub body: String,
}

fn read(path: &Path) -> Result<String, Error> {
    let bytes =
        std::fs::read(path).map_err(|e| Error::Format(format!("cannot read {}: {e}", path.display())))?;
    Ok(String::from_utf8_lossy(&bytes).into_owned())
}

fn in_file(path: &Path, error: String) -> Error {
    Error::Format(format!("{}: {error}", path.display()))
}

/// Loads a collection from its documents file; topics and judgements come from the given files or, when
/// not given, from the files beside it (`cran.qry` and `cranqrel`; `{stem}-combined.csv`).
pub fn load(
    kind: Kind,
    path: &Path,
    topics: Option<&Path>,
    qrels: Option<&Path>,
) -> Result<Collection, Error> {
    let beside = |name: String| path.parent().unwrap_or(Path::new(".")).join(name);
    let stem = path.file_stem().map(|s| s.to_string_lossy().into_owned()).unwrap_or_default();
    match kind {
        Kind::Cranfield => {
            let text = read(path)?;
            let docs = parse_smart(&text).map_err(|e| in_file(path, e))?;
            let documents = docs
                .iter()
                .map(|d| PlainDoc {
                    docno: d.number.to_string(),
                    title: d.title.clone(),
                    body: [d.text.as_str(), d.keywords.as_str()]
                        .iter()
                        .filter(|t| !t.is_empty())
                        .copied()
                        .collect::<Vec<_>>()
                        .join("\n\n"),
                })
                .collect();
            let topics_path = topics.map(Path::to_path_buf).unwrap_or_else(|| beside("cran.qry".into()));
            let qrels_path = qrels.map(Path::to_path_buf).unwrap_or_else(|| beside("cranqrel".into()));
            let topics = smart_or_trec_topics(&topics_path)?;
            let qrels = cranfield_or_trec_qrels(&qrels_path)?;
            Ok(Collection {
                name: if stem.starts_with("cran.") { "cranfield".into() } else { stem },
                kind,
                corpus: Corpus::Cranfield(path.to_path_buf()),
                documents,
                topics,
                qrels,
                docno: Docno::LabelPrefix("cran-".into()),
                exclude_self: false,
            })
        }
        Kind::JiraCsv => {
            let text = read(path)?;
            let issues = read_issues(&text).map_err(|e| in_file(path, e))?;
            let pairs_path =
                qrels.map(Path::to_path_buf).unwrap_or_else(|| beside(format!("{stem}-combined.csv")));
            let pairs_text = read(&pairs_path)?;
            let (topics_from_pairs, qrels) = if pairs_text.trim_start().starts_with("Issue id") {
                duplicate_topics(&pairs_text, &issues).map_err(|e| in_file(&pairs_path, e))?
            } else {
                let qrels = Qrels::parse(&pairs_text).map_err(|e| in_file(&pairs_path, e.to_string()))?;
                let topics = qrels
                    .by_query
                    .keys()
                    .filter_map(|q| issues.get(q).map(|i| Topic { id: q.clone(), text: i.query() }))
                    .collect();
                (topics, qrels)
            };
            let topics = match topics {
                Some(p) => parse_topics(&read(p)?).map_err(|e| in_file(p, e.to_string()))?,
                None => topics_from_pairs,
            };
            let documents = issues
                .values()
                .map(|i| PlainDoc {
                    docno: i.id.clone(),
                    title: i.summary.clone(),
                    body: i.description.clone(),
                })
                .collect();
            Ok(Collection {
                name: stem,
                kind,
                corpus: Corpus::JiraCsv(path.to_path_buf()),
                documents,
                topics,
                qrels,
                docno: Docno::LabelPrefix("orig-".into()),
                exclude_self: true,
            })
        }
    }
}

/// Topics in SMART format (`.I`/`.W`, numbered 1.. in file order), or TREC/tab topics.
fn smart_or_trec_topics(path: &Path) -> Result<Vec<Topic>, Error> {
    let text = read(path)?;
    if !text.trim_start().starts_with(".I") {
        return parse_topics(&text).map_err(|e| in_file(path, e.to_string()));
    }
    let records = parse_smart(&text).map_err(|e| in_file(path, e))?;
    Ok(records
        .into_iter()
        .enumerate()
        .map(|(n, r)| Topic {
            id: (n + 1).to_string(),
            text: r.text.split_whitespace().collect::<Vec<_>>().join(" "),
        })
        .collect())
}

/// `cranqrel` (`qid docno code`, three columns) with Cleverdon's codes turned into grades, or TREC qrels.
fn cranfield_or_trec_qrels(path: &Path) -> Result<Qrels, Error> {
    let text = read(path)?;
    let three_columns =
        text.lines().find(|l| !l.trim().is_empty()).is_some_and(|l| l.split_whitespace().count() == 3);
    if !three_columns {
        return Qrels::parse(&text).map_err(|e| in_file(path, e.to_string()));
    }
    let mut by_query: BTreeMap<String, HashMap<String, i32>> = BTreeMap::new();
    for (n, line) in text.lines().enumerate() {
        let cols: Vec<&str> = line.split_whitespace().collect();
        if cols.is_empty() {
            continue;
        }
        let [qid, docno, code] = cols[..] else {
            return Err(in_file(path, format!("line {}: expected qid docno code", n + 1)));
        };
        let grade = match code {
            "1" => 4,
            "2" => 3,
            "3" => 2,
            "4" => 1,
            "-1" | "5" => -1,
            other => return Err(in_file(path, format!("line {}: unknown relevance code {other}", n + 1))),
        };
        by_query.entry(qid.to_string()).or_default().insert(docno.to_string(), grade);
    }
    Ok(Qrels { by_query })
}

/// One issue of a Jira CSV, as far as evaluation needs it.
#[derive(Debug, Clone)]
struct CsvIssue {
    id: String,
    summary: String,
    description: String,
}

impl CsvIssue {
    /// What a person looking for duplicates would paste: the summary, then the description.
    fn query(&self) -> String {
        format!("{}\n{}", self.summary, self.description)
    }
}

fn read_issues(text: &str) -> Result<BTreeMap<String, CsvIssue>, String> {
    let rows = parse_csv(text)?;
    let (header, body) = rows.split_first().ok_or("empty file")?;
    let column = |name: &str| {
        header
            .iter()
            .position(|h| h.trim_start_matches('\u{feff}').trim() == name)
            .ok_or(format!("no {name:?} column"))
    };
    let (id, summary, description) = (column("Issue id")?, column("Summary")?, column("Description")?);
    let mut out = BTreeMap::new();
    for row in body {
        let get = |i: usize| row.get(i).cloned().unwrap_or_default();
        let issue =
            CsvIssue { id: get(id).trim().to_string(), summary: get(summary), description: get(description) };
        out.insert(issue.id.clone(), issue);
    }
    Ok(out)
}

/// Topics and judgements from duplicate pairs: both issues of a pair are topics, each relevant to the other.
/// Pairs naming an issue the export does not hold are skipped.
fn duplicate_topics(text: &str, issues: &BTreeMap<String, CsvIssue>) -> Result<(Vec<Topic>, Qrels), String> {
    let rows = parse_csv(text)?;
    let mut duplicates: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for (n, row) in rows.iter().enumerate().skip(1) {
        let [a, b] = &row[..] else {
            return Err(format!("row {}: expected Issue id,Duplicate id", n + 1));
        };
        let (a, b) = (a.trim().to_string(), b.trim().to_string());
        if a == b || !issues.contains_key(&a) || !issues.contains_key(&b) {
            continue;
        }
        duplicates.entry(a.clone()).or_default().insert(b.clone());
        duplicates.entry(b).or_default().insert(a);
    }
    let topics = duplicates.keys().map(|q| Topic { id: q.clone(), text: issues[q].query() }).collect();
    let by_query =
        duplicates.into_iter().map(|(q, dups)| (q, dups.into_iter().map(|d| (d, 1)).collect())).collect();
    Ok((topics, Qrels { by_query }))
}

/// The default location of a collection's documents under a datasets folder, for tests and the README.
pub fn dataset_path(datasets: &Path, kind: Kind) -> PathBuf {
    match kind {
        Kind::Cranfield => datasets.join("cranfield/cran.all.1400"),
        Kind::JiraCsv => datasets.join("gitbugs-hadoop/hadoop_bugs.csv"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cranfield_codes_become_grades() {
        let dir = std::env::temp_dir().join(format!("permdex-eval-qrels-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("cranqrel");
        std::fs::write(&path, "1 184 2 \n1 29 1\n1 12 4\n1 486 -1\n").unwrap();
        let q = cranfield_or_trec_qrels(&path).unwrap();
        assert_eq!(q.by_query["1"]["29"], 4);
        assert_eq!(q.by_query["1"]["184"], 3);
        assert_eq!(q.by_query["1"]["12"], 1);
        assert_eq!(q.by_query["1"]["486"], -1);
        std::fs::write(&path, "1 0 d 1\n").unwrap();
        assert_eq!(cranfield_or_trec_qrels(&path).unwrap().by_query["1"]["d"], 1, "TREC qrels pass through");
        std::fs::write(&path, "1 7 9\n").unwrap();
        assert!(cranfield_or_trec_qrels(&path).is_err());
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn duplicate_pairs_judge_both_ways() {
        let issues: BTreeMap<String, CsvIssue> = ["1", "2", "3"]
            .iter()
            .map(|id| {
                (
                    id.to_string(),
                    CsvIssue { id: id.to_string(), summary: format!("s{id}"), description: "d".into() },
                )
            })
            .collect();
        let (topics, qrels) = duplicate_topics("Issue id,Duplicate id\n1,2\n2,3\n9,1\n", &issues).unwrap();
        assert_eq!(topics.iter().map(|t| t.id.as_str()).collect::<Vec<_>>(), ["1", "2", "3"]);
        assert_eq!(topics[0].text, "s1\nd");
        assert_eq!(qrels.by_query["2"].len(), 2);
        assert_eq!(qrels.by_query["1"].keys().collect::<Vec<_>>(), ["2"]);
    }

    #[test]
    fn docno_rules() {
        let labels = vec!["x".to_string(), "cran-12".to_string()];
        assert_eq!(Docno::LabelPrefix("cran-".into()).of("id", &labels), Some("12".into()));
        assert_eq!(Docno::LabelPrefix("orig-".into()).of("id", &labels), None);
        assert_eq!(Docno::Id.of("id", &labels), Some("id".into()));
        assert_eq!("label:cran-".parse::<Docno>().unwrap(), Docno::LabelPrefix("cran-".into()));
        assert!("label:".parse::<Docno>().is_err());
    }
}

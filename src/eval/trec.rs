//! TREC file formats: qrels (`qid iter docno rel`), runs (`qid Q0 docno rank score tag`) and topics
//! (`qid<TAB>text` lines, or TREC `<top>` blocks whose `<title>` is the query).
//!
//! Parsing is strict about shape (a line with the wrong number of columns, a score that is not a number,
//! a document listed twice for one query: each is an error naming the line) and lenient about spacing
//! (any run of blanks separates columns, as trec_eval reads them). This file knows nothing of metrics or
//! of search.

use std::collections::{BTreeMap, HashMap};
use std::fmt::Write as _;

use super::Error;

/// Relevance judgements: per query, per document, a graded relevance (≥ the relevance level means
/// relevant; 0 and negative values are judged non-relevant).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Qrels {
    pub by_query: BTreeMap<String, HashMap<String, i32>>,
}

/// A ranked list per query, as a run file holds it: documents with scores, in file order.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Run {
    pub by_query: BTreeMap<String, Vec<Scored>>,
    /// The run tag (last column), from the first line; `permdex` when written here without one.
    pub tag: String,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Scored {
    pub docno: String,
    pub score: f64,
}

/// One query to run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Topic {
    pub id: String,
    pub text: String,
}

fn bad(what: &str, line: usize, reason: impl std::fmt::Display) -> Error {
    Error::Format(format!("{what} line {line}: {reason}"))
}

impl Qrels {
    /// Parses `qid iter docno rel` lines; blank lines are skipped. A document judged twice for one query is
    /// an error.
    pub fn parse(text: &str) -> Result<Qrels, Error> {
        let mut by_query: BTreeMap<String, HashMap<String, i32>> = BTreeMap::new();
        for (n, line) in text.lines().enumerate() {
            let cols: Vec<&str> = line.split_whitespace().collect();
            if cols.is_empty() {
                continue;
            }
            let [qid, _iter, docno, rel] = cols[..] else {
                return Err(bad("qrels", n + 1, format!("expected 4 columns, found {}", cols.len())));
            };
            let rel: i32 = rel.parse().map_err(|_| bad("qrels", n + 1, format!("bad relevance {rel:?}")))?;
            let judged = by_query.entry(qid.to_string()).or_default();
            if judged.insert(docno.to_string(), rel).is_some() {
                return Err(bad("qrels", n + 1, format!("document {docno} judged twice for query {qid}")));
            }
        }
        Ok(Qrels { by_query })
    }

    pub fn to_trec(&self) -> String {
        let mut out = String::new();
        for (qid, judged) in &self.by_query {
            let mut docs: Vec<(&String, &i32)> = judged.iter().collect();
            docs.sort();
            for (docno, rel) in docs {
                let _ = writeln!(out, "{qid} 0 {docno} {rel}");
            }
        }
        out
    }

    /// Judgements of the documents `keep` accepts only; queries left without any judgement disappear.
    pub fn restricted(&self, keep: impl Fn(&str) -> bool) -> Qrels {
        let by_query = self
            .by_query
            .iter()
            .map(|(q, judged)| {
                let kept: HashMap<String, i32> =
                    judged.iter().filter(|(d, _)| keep(d)).map(|(d, r)| (d.clone(), *r)).collect();
                (q.clone(), kept)
            })
            .filter(|(_, judged)| !judged.is_empty())
            .collect();
        Qrels { by_query }
    }
}

impl Run {
    /// Parses `qid Q0 docno rank score tag` lines (the rank column is read but, as in trec_eval, the order
    /// comes from the scores). A document listed twice for one query is an error.
    pub fn parse(text: &str) -> Result<Run, Error> {
        let mut by_query: BTreeMap<String, Vec<Scored>> = BTreeMap::new();
        let mut seen: HashMap<&str, std::collections::HashSet<&str>> = HashMap::new();
        let mut tag = None;
        for (n, line) in text.lines().enumerate() {
            let mut cols = line.split_whitespace();
            let Some(qid) = cols.next() else { continue };
            let (Some(_q0), Some(docno), Some(_rank), Some(score), Some(run_tag), None) =
                (cols.next(), cols.next(), cols.next(), cols.next(), cols.next(), cols.next())
            else {
                return Err(bad("run", n + 1, "expected 6 columns: qid Q0 docno rank score tag"));
            };
            let score: f64 = score.parse().map_err(|_| bad("run", n + 1, format!("bad score {score:?}")))?;
            if !score.is_finite() {
                return Err(bad("run", n + 1, format!("score {score} is not finite")));
            }
            if !seen.entry(qid).or_default().insert(docno) {
                return Err(bad("run", n + 1, format!("document {docno} listed twice for query {qid}")));
            }
            tag.get_or_insert(run_tag);
            by_query.entry(qid.to_string()).or_default().push(Scored { docno: docno.to_string(), score });
        }
        Ok(Run { by_query, tag: tag.unwrap_or("permdex").to_string() })
    }

    /// The run in TREC format, each query's documents ranked 1.. in the order held.
    pub fn to_trec(&self) -> String {
        let mut out = String::new();
        for (qid, docs) in &self.by_query {
            for (rank, doc) in docs.iter().enumerate() {
                let _ = writeln!(out, "{qid} Q0 {} {} {} {}", doc.docno, rank + 1, doc.score, self.tag);
            }
        }
        out
    }
}

/// Parses topics: TREC `<top>` blocks when the text has any, else `qid<TAB>text` lines (blank lines and
/// lines starting with `#` skipped). A query id given twice is an error.
pub fn parse_topics(text: &str) -> Result<Vec<Topic>, Error> {
    let topics = if text.contains("<top>") { parse_trec_topics(text)? } else { parse_tab_topics(text)? };
    let mut ids = std::collections::HashSet::new();
    for topic in &topics {
        if !ids.insert(topic.id.as_str()) {
            return Err(Error::Format(format!("topics: query {} appears twice", topic.id)));
        }
    }
    Ok(topics)
}

fn parse_tab_topics(text: &str) -> Result<Vec<Topic>, Error> {
    let mut out = Vec::new();
    for (n, line) in text.lines().enumerate() {
        let line = line.trim_end_matches('\r');
        if line.trim().is_empty() || line.starts_with('#') {
            continue;
        }
        let Some((id, query)) = line.split_once('\t') else {
            return Err(bad("topics", n + 1, "expected qid<TAB>text"));
        };
        let id = id.trim();
        if id.is_empty() || id.contains(char::is_whitespace) {
            return Err(bad("topics", n + 1, format!("bad query id {id:?}")));
        }
        out.push(Topic { id: id.to_string(), text: query.trim().to_string() });
    }
    Ok(out)
}

/// TREC topic files: `<num> Number: 401` and `<title> text` (the title may run over several lines, up to
/// the next tag). Tags other than `<num>` and `<title>` are skipped.
fn parse_trec_topics(text: &str) -> Result<Vec<Topic>, Error> {
    let mut out = Vec::new();
    for (k, block) in text.split("<top>").skip(1).enumerate() {
        let block = block.split("</top>").next().unwrap_or("");
        let field = |tag: &str| -> Option<String> {
            let start = block.find(tag)? + tag.len();
            let rest = &block[start..];
            let end = rest.find('<').unwrap_or(rest.len());
            Some(rest[..end].split_whitespace().collect::<Vec<_>>().join(" "))
        };
        let number =
            field("<num>").ok_or_else(|| Error::Format(format!("topics: block {} has no <num>", k + 1)))?;
        let id = number.trim_start_matches("Number:").trim().to_string();
        if id.is_empty() || id.contains(char::is_whitespace) {
            return Err(Error::Format(format!("topics: block {}: bad number {number:?}", k + 1)));
        }
        let title =
            field("<title>").ok_or_else(|| Error::Format(format!("topics: query {id} has no <title>")))?;
        let title = title.strip_prefix("Topic:").map(str::trim).unwrap_or(&title).to_string();
        out.push(Topic { id, text: title });
    }
    Ok(out)
}

/// Topics as `qid<TAB>text` lines; tabs and line breaks inside a query become spaces.
pub fn topics_to_tsv(topics: &[Topic]) -> String {
    let mut out = String::new();
    for t in topics {
        let text: String =
            t.text.chars().map(|c| if c == '\t' || c == '\n' || c == '\r' { ' ' } else { c }).collect();
        let _ = writeln!(out, "{}\t{}", t.id, text);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn qrels_parse_and_reject() {
        let q = Qrels::parse("1 0 d1 2\n\n1 0 d2 -1\n2  0\td3 0\n").unwrap();
        assert_eq!(q.by_query["1"]["d1"], 2);
        assert_eq!(q.by_query["1"]["d2"], -1);
        assert_eq!(q.by_query["2"]["d3"], 0);
        assert_eq!(Qrels::parse(&q.to_trec()).unwrap(), q);
        for bad in ["1 0 d1\n", "1 0 d1 x\n", "1 0 d1 1\n1 0 d1 2\n", "1 0 d1 1 extra\n"] {
            assert!(Qrels::parse(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn runs_parse_and_reject() {
        let r = Run::parse("1 Q0 a 1 2.5 t\n1 Q0 b 2 1e-3 t\n2 Q0 a 1 -4 t\n").unwrap();
        assert_eq!(r.tag, "t");
        assert_eq!(r.by_query["1"][1], Scored { docno: "b".into(), score: 0.001 });
        assert_eq!(Run::parse(&r.to_trec()).unwrap(), r);
        for bad in ["1 Q0 a 1 x t\n", "1 Q0 a 1 t\n", "1 Q0 a 1 1 t\n1 Q0 a 2 0 t\n", "1 Q0 a 1 NaN t\n"] {
            assert!(Run::parse(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn topics_in_both_formats() {
        let tsv = parse_topics("# comment\n1\twhat is lift ?\n\n002\t  heat  \n").unwrap();
        assert_eq!(
            tsv,
            vec![
                Topic { id: "1".into(), text: "what is lift ?".into() },
                Topic { id: "002".into(), text: "heat".into() }
            ]
        );
        let trec = "<top>\n<num> Number: 401\n<title> Topic: foreign\nminorities\n<desc> Description:\nlong text\n</top>\n<top><num>7</num><title>x</title></top>";
        let topics = parse_topics(trec).unwrap();
        assert_eq!(
            topics,
            vec![
                Topic { id: "401".into(), text: "foreign minorities".into() },
                Topic { id: "7".into(), text: "x".into() }
            ]
        );
        for bad in ["1 no tab\n", "1\ta\n1\tb\n", "<top><title>x</title></top>", "<top><num>1</num></top>"] {
            assert!(parse_topics(bad).is_err(), "{bad:?}");
        }
        let round =
            parse_topics(&topics_to_tsv(&[Topic { id: "q".into(), text: "a\tb\nc".into() }])).unwrap();
        assert_eq!(round[0].text, "a b c");
    }
}

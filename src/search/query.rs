//! An [`Ast`] (see [`crate::search::parse`], which reads what people type) turned into a tantivy [`Query`].
//!
//! Bare words become one BM25 disjunction over the title (weighted by [`QueryOptions::title_boost`]) and
//! the body, each word counted once, stop words dropped unless nothing else is left; a word shaped like a
//! Jira issue key also matches the `keys` field whole. Syntax (`+`, `AND`, `OR`, `NOT`, phrases, field
//! prefixes) becomes boolean clauses that must or must not match; field prefixes on exact fields become
//! term queries on their raw values.
//!
//! This file knows nothing of permissions: the ACL filter applies to whatever query comes out of it.

use std::collections::HashSet;

use tantivy::query::{
    AllQuery, BooleanQuery, BoostQuery, ConstScoreQuery, EmptyQuery, Occur, PhraseQuery, Query, TermQuery,
};
use tantivy::schema::{Field, IndexRecordOption, Term};
use tantivy::tokenizer::TextAnalyzer;

use super::Error;
use crate::index::{issue_keys, Fields};

pub use super::parse::{
    is_sentence_word, is_stop_word, parse, read, Ast, FieldSel, MAX_DEPTH, MAX_QUERY_CHARS, MAX_TERMS,
};

/// A clause of a boolean query.
type Clause = (Occur, Box<dyn Query>);

/// Ranking choices for bare words, measured with `permdex eval` (see the README's evaluation section).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct QueryOptions {
    /// Multiplier of the title field's BM25 score (the body's is 1).
    pub title_boost: f32,
    /// Drop stop words from bare words (unless nothing else is left).
    pub drop_stop_words: bool,
    /// A bag of at least `.0` bare words needs `.1` of them (a fraction, rounded down) to match; `None`:
    /// any one is enough.
    pub min_should_match: Option<(usize, f32)>,
    /// Score added for each bare word a document holds, on top of BM25 (0: none).
    pub coordination: f32,
}

impl Default for QueryOptions {
    fn default() -> Self {
        // Measured with `permdex eval collection … --sweep` (README, "Evaluation"): a title weighs 1.5 times the
        // body (GitBugs gains 0.020 nDCG@10, Cranfield, whose abstracts repeat their titles, loses 0.006 and
        // stays above its target; 2.0 would take it below); stop words dropped; no minimum-should-match and
        // no coordination bonus (both lost on GitBugs, neither gained on Cranfield beyond 0.002).
        QueryOptions { title_boost: 1.5, drop_stop_words: true, min_should_match: None, coordination: 0.0 }
    }
}

/// What turning an [`Ast`] into a tantivy query needs: field handles, the fields' analyzers and the
/// ranking options.
pub struct QueryBuilder {
    fields: Fields,
    text: TextAnalyzer,
    name: TextAnalyzer,
    key: TextAnalyzer,
    options: QueryOptions,
}

impl QueryBuilder {
    pub fn new(index: &tantivy::Index, fields: Fields) -> Result<QueryBuilder, Error> {
        QueryBuilder::with_options(index, fields, QueryOptions::default())
    }

    pub fn with_options(
        index: &tantivy::Index,
        fields: Fields,
        options: QueryOptions,
    ) -> Result<QueryBuilder, Error> {
        let analyzer = |f: Field| index.tokenizer_for_field(f).map_err(Error::from);
        Ok(QueryBuilder {
            text: analyzer(fields.body)?,
            name: analyzer(fields.author_name)?,
            key: analyzer(fields.keys)?,
            fields,
            options,
        })
    }

    /// The tantivy query for `ast`. Words that analyse to no token at all (punctuation) are dropped; a query
    /// left with nothing matches nothing.
    pub fn build(&self, ast: &Ast) -> Box<dyn Query> {
        self.node(ast).unwrap_or_else(|| Box::new(EmptyQuery))
    }

    fn node(&self, ast: &Ast) -> Option<Box<dyn Query>> {
        match ast {
            Ast::All => Some(Box::new(AllQuery)),
            // A word that analyses to several tokens ("well-known") is a phrase too, so both build alike.
            Ast::Word { field, text } | Ast::Phrase { field, text } => self.leaf(*field, text),
            Ast::Must(inner) => self.node(inner),
            Ast::Not(inner) => {
                let inner = self.node(inner)?;
                Some(Box::new(BooleanQuery::new(vec![
                    (Occur::Must, Box::new(AllQuery)),
                    (Occur::MustNot, inner),
                ])))
            }
            Ast::And(parts) => {
                let mut clauses: Vec<(Occur, Box<dyn Query>)> = Vec::new();
                for part in parts {
                    match part {
                        Ast::Not(inner) => clauses.extend(self.node(inner).map(|q| (Occur::MustNot, q))),
                        other => clauses.extend(self.node(other).map(|q| (Occur::Must, q))),
                    }
                }
                with_all_if_only_negative(clauses)
            }
            Ast::Or(parts) => {
                let should = self.or_clauses(parts);
                if should.is_empty() {
                    return None;
                }
                Some(Box::new(BooleanQuery::new(should)))
            }
            Ast::Bag(parts) => {
                let mut clauses: Vec<(Occur, Box<dyn Query>)> = Vec::new();
                for part in parts {
                    match part {
                        Ast::Must(inner) => clauses.extend(self.node(inner).map(|q| (Occur::Must, q))),
                        Ast::Not(inner) => clauses.extend(self.node(inner).map(|q| (Occur::MustNot, q))),
                        _ => {}
                    }
                }
                let (should, words) = self.bare_clauses(parts);
                let required = clauses.iter().any(|(o, _)| *o == Occur::Must);
                clauses.extend(should);
                let minimum = match self.options.min_should_match {
                    Some((from, share)) if !required && words >= from => {
                        ((words as f32 * share) as usize).max(1)
                    }
                    _ => 0,
                };
                if minimum > 1 {
                    return Some(Box::new(BooleanQuery::with_minimum_required_clauses(clauses, minimum)));
                }
                with_all_if_only_negative(clauses)
            }
        }
    }

    /// The Should clauses of a bag's bare parts, and how many distinct bare words they stand for: stop words
    /// dropped (unless nothing else is left), each word once, a word of several tokens as those words.
    fn bare_clauses(&self, parts: &[Ast]) -> (Vec<Clause>, usize) {
        let bare: Vec<&Ast> = parts.iter().filter(|p| !matches!(p, Ast::Must(_) | Ast::Not(_))).collect();
        let content = |p: &&Ast| match p {
            Ast::Word { field: FieldSel::Text, text } => !is_stop_word(text),
            _ => true,
        };
        let keep_stop = !self.options.drop_stop_words || !bare.iter().any(content);
        let mut seen: HashSet<(FieldSel, String)> = HashSet::new();
        let mut out = Vec::new();
        let mut words = 0;
        for part in bare {
            if !keep_stop && !content(&part) {
                continue;
            }
            match part {
                Ast::Word { field: FieldSel::Text, text }
                    if issue_keys(text).next() == Some(text.as_str()) =>
                {
                    // A Jira key stays whole: the key itself, or its words side by side.
                    if seen.insert((FieldSel::Text, text.to_lowercase())) {
                        let clauses: Vec<Box<dyn Query>> =
                            self.leaf_clauses(FieldSel::Text, text).into_iter().map(|(_, q)| q).collect();
                        words += 1;
                        out.extend(self.with_coordination(clauses));
                    }
                }
                Ast::Word { field: FieldSel::Text, text } => {
                    // Each alphanumeric run is a word of its own: "free-flight" ranks as "free" and "flight".
                    for sub in text.split(|c: char| !c.is_alphanumeric()).filter(|w| !w.is_empty()) {
                        if !keep_stop && is_stop_word(sub) {
                            continue;
                        }
                        for token in tokens(&self.text, sub) {
                            if seen.insert((FieldSel::Text, token.clone())) {
                                words += 1;
                                out.extend(self.with_coordination(self.text_clauses(&token)));
                            }
                        }
                    }
                }
                Ast::Word { field, text } | Ast::Phrase { field, text } => {
                    if seen.insert((*field, format!("\"{}\"", text.to_lowercase()))) {
                        let clauses: Vec<Box<dyn Query>> =
                            self.leaf_clauses(*field, text).into_iter().map(|(_, q)| q).collect();
                        if !clauses.is_empty() {
                            words += 1;
                            out.extend(self.with_coordination(clauses));
                        }
                    }
                }
                other => {
                    if let Some(q) = self.node(other) {
                        words += 1;
                        out.push((Occur::Should, q));
                    }
                }
            }
        }
        (out, words)
    }

    /// One bare word's alternatives as Should clauses, plus its coordination bonus when there is one.
    fn with_coordination(&self, alternatives: Vec<Box<dyn Query>>) -> Vec<(Occur, Box<dyn Query>)> {
        let mut out: Vec<(Occur, Box<dyn Query>)> = Vec::new();
        if self.options.coordination > 0.0 {
            let any: Vec<(Occur, Box<dyn Query>)> =
                alternatives.iter().map(|q| (Occur::Should, q.box_clone())).collect();
            out.push((
                Occur::Should,
                Box::new(ConstScoreQuery::new(Box::new(BooleanQuery::new(any)), self.options.coordination)),
            ));
        }
        out.extend(alternatives.into_iter().map(|q| (Occur::Should, q)));
        out
    }

    /// An OR flattened into one list of Should clauses where possible, so a plain union of words stays one
    /// flat union of term scorers (cheaper to iterate than nested unions, and what the sparse strategy follows
    /// alternative by alternative).
    fn or_clauses(&self, parts: &[Ast]) -> Vec<(Occur, Box<dyn Query>)> {
        let mut should: Vec<(Occur, Box<dyn Query>)> = Vec::new();
        for part in parts {
            match part {
                Ast::Word { field, text } | Ast::Phrase { field, text } => {
                    should.extend(self.leaf_clauses(*field, text));
                }
                other => {
                    if let Some(q) = self.node(other) {
                        should.push((Occur::Should, q));
                    }
                }
            }
        }
        should
    }

    /// The alternatives of a top-level union (a bag of bare words, an OR, or a word searched in several
    /// fields), each its own query: a document matches the union when it matches one of them, and scores
    /// their sum. Empty for any other shape. Lets a sparse caller's few documents be looked up in each
    /// alternative separately instead of through tantivy's buffered union, which is slow to seek.
    pub fn union_alternatives(&self, ast: &Ast) -> Vec<Box<dyn Query>> {
        let clauses = match ast {
            Ast::Word { field, text } | Ast::Phrase { field, text } => self.leaf_clauses(*field, text),
            Ast::Or(parts) => self.or_clauses(parts),
            Ast::Bag(parts) if parts.iter().all(|p| !matches!(p, Ast::Must(_) | Ast::Not(_))) => {
                let (clauses, words) = self.bare_clauses(parts);
                if matches!(self.options.min_should_match, Some((from, share)) if words >= from && (words as f32 * share) as usize > 1)
                {
                    return Vec::new();
                }
                clauses
            }
            _ => Vec::new(),
        };
        if clauses.len() < 2 {
            return Vec::new();
        }
        clauses.into_iter().map(|(_, q)| q).collect()
    }

    fn leaf(&self, field: FieldSel, text: &str) -> Option<Box<dyn Query>> {
        let mut clauses = self.leaf_clauses(field, text);
        match clauses.len() {
            0 => None,
            1 => clauses.pop().map(|(_, q)| q),
            _ => Some(Box::new(BooleanQuery::new(clauses))),
        }
    }

    /// One analysed token searched in the title (boosted) and the body.
    fn text_clauses(&self, token: &str) -> Vec<Box<dyn Query>> {
        let f = &self.fields;
        let term = |field| {
            Box::new(TermQuery::new(Term::from_field_text(field, token), IndexRecordOption::WithFreqs))
        };
        vec![self.boost_title(term(f.title)), term(f.body)]
    }

    fn boost_title(&self, query: Box<dyn Query>) -> Box<dyn Query> {
        if self.options.title_boost == 1.0 {
            query
        } else {
            Box::new(BoostQuery::new(query, self.options.title_boost))
        }
    }

    /// The alternatives one word or phrase matches, as Should clauses.
    fn leaf_clauses(&self, field: FieldSel, text: &str) -> Vec<(Occur, Box<dyn Query>)> {
        let f = &self.fields;
        let mut out: Vec<Box<dyn Query>> = Vec::new();
        match field {
            FieldSel::Text => {
                if issue_keys(text).next() == Some(text) {
                    out.extend(analysed(&self.key, f.keys, text));
                }
                out.extend(analysed(&self.text, f.title, text).map(|q| self.boost_title(q)));
                out.extend(analysed(&self.text, f.body, text));
            }
            FieldSel::Title => out.extend(analysed(&self.text, f.title, text)),
            FieldSel::Author => {
                out.push(exact(f.author, text));
                out.extend(analysed(&self.name, f.author_name, text));
            }
            FieldSel::Space => out.push(exact(f.space, text)),
            FieldSel::Project => out.push(exact(f.project, text)),
            FieldSel::Kind => out.push(exact(f.kind, text)),
            FieldSel::Label => out.push(exact(f.labels, text)),
            FieldSel::Product => out.push(exact(f.source, text)),
            FieldSel::Type => out.extend(analysed(&self.key, f.issue_type, text)),
            FieldSel::Status => out.extend(analysed(&self.key, f.status, text)),
            FieldSel::Assignee => {
                out.push(exact(f.assignee, text));
                out.extend(analysed(&self.name, f.assignee_name, text));
            }
        }
        out.into_iter().map(|q| (Occur::Should, q)).collect()
    }
}

/// A conjunction of clauses; one with only negative clauses gets everything as its positive part.
fn with_all_if_only_negative(mut clauses: Vec<(Occur, Box<dyn Query>)>) -> Option<Box<dyn Query>> {
    if clauses.is_empty() {
        return None;
    }
    if clauses.iter().all(|(o, _)| *o == Occur::MustNot) {
        clauses.push((Occur::Must, Box::new(AllQuery)));
    }
    Some(Box::new(BooleanQuery::new(clauses)))
}

/// A raw field's exact value.
fn exact(field: Field, text: &str) -> Box<dyn Query> {
    Box::new(TermQuery::new(Term::from_field_text(field, text), IndexRecordOption::Basic))
}

/// The tokens `text` analyses to.
fn tokens(analyzer: &TextAnalyzer, text: &str) -> Vec<String> {
    let mut analyzer = analyzer.clone();
    let mut stream = analyzer.token_stream(text);
    let mut out = Vec::new();
    while stream.advance() {
        out.push(stream.token().text.clone());
    }
    out
}

/// `text` analysed for `field`: one token is a term query, several a phrase, none nothing.
fn analysed(analyzer: &TextAnalyzer, field: Field, text: &str) -> Option<Box<dyn Query>> {
    let mut analyzer = analyzer.clone();
    let mut stream = analyzer.token_stream(text);
    let mut terms: Vec<(usize, Term)> = Vec::new();
    while stream.advance() {
        let token = stream.token();
        terms.push((token.position, Term::from_field_text(field, &token.text)));
    }
    match terms.len() {
        0 => None,
        1 => terms
            .pop()
            .map(|(_, t)| Box::new(TermQuery::new(t, IndexRecordOption::WithFreqs)) as Box<dyn Query>),
        _ => {
            // Positions are relative to the first token.
            let first = terms[0].0;
            let terms = terms.into_iter().map(|(p, t)| (p - first, t)).collect();
            Some(Box::new(PhraseQuery::new_with_offset(terms)))
        }
    }
}

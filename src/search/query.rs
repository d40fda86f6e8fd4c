//! permdex's query language, parsed by hand into an [`Ast`] and turned into a tantivy [`Query`].
//!
//! A query is read the way people type it. Bare words are a bag of words: a document matches when it holds
//! any of them, and BM25 ranks it, so documents holding more of the words, and rarer ones, come first.
//! Everything written as syntax must match exactly:
//!
//! ```text
//! query   := bag
//! bag     := or+                                 juxtaposed: bare words rank, syntax filters
//! or      := and ( "OR" and )*                   an OR group must match one of its sides
//! and     := unary ( "AND" unary )*              every side must match
//! unary   := ("NOT" | "-") unary | "+" unary | primary
//! primary := "(" bag ")" | FIELD ":" (word | "phrase" | "(" bag ")") | word | "phrase"
//! FIELD   := title | space | project | kind | label | author | product
//! ```
//! In a bag, a bare word is optional; `+word`, a quoted phrase, a field prefix, a parenthesised group, an
//! `AND` or an `OR` must match; `-x` and `NOT x` must not. Operators are upper case (`and`, `or`, `not` are
//! ordinary words). A word of another `name:` form is searched as text, so pasted URLs work. Words and
//! phrases without a field search the title and the body; a word shaped like a Jira issue key
//! (`HADOOP-1234`) also matches the `keys` field whole. `space:`, `project:`, `kind:`, `product:` and
//! `label:` match exact values; `author:` matches an accountId or the author's name.
//!
//! **Sentences.** A query with an English stop word, question word or pronoun among its bare words ("how
//! do I restore backup snapshots?"; the lists are data: `stopwords-en.txt`, `sentence-words-en.txt`) is read
//! as text: there, field prefixes still filter and quotes still mark phrases (which
//! rank, but do not filter), while `AND`, `OR`, `NOT`, `+`, `-` and parentheses are punctuation — a dash in
//! "methods -dash exact or approximate" is never a NOT.
//!
//! **Bare words** lose their stop words (the list is data: `stopwords-en.txt`) unless nothing else is left,
//! count once however often they are repeated, and a word that analyses to several tokens (`free-flight`)
//! ranks as those words. See [`QueryOptions`] for the measured ranking choices.
//!
//! Syntax that does not parse (an unclosed quote, a stray parenthesis, `title:` with nothing after it) is
//! never an error: the query is searched as plain words instead. [`read`] refuses only what is too big: more
//! than [`MAX_QUERY_CHARS`] characters or [`MAX_TERMS`] distinct words. [`parse`] is the strict reader,
//! whose [`Error::BadQuery`] names the character position of the problem; neither ever panics, and both
//! bound nesting, so no input can exhaust the stack or memory.
//!
//! This file knows nothing of permissions: the ACL filter applies to whatever query comes out of it.

use std::collections::HashSet;
use std::sync::OnceLock;

use tantivy::query::{
    AllQuery, BooleanQuery, BoostQuery, ConstScoreQuery, EmptyQuery, Occur, PhraseQuery, Query, TermQuery,
};
use tantivy::schema::{Field, IndexRecordOption, Term};
use tantivy::tokenizer::TextAnalyzer;

use super::Error;
use crate::index::{issue_keys, Fields};

/// Longest query accepted, in characters.
pub const MAX_QUERY_CHARS: usize = 20_000;
/// Deepest parenthesis / negation nesting the strict reader accepts.
pub const MAX_DEPTH: usize = 32;
/// Most distinct words and phrases in one query.
pub const MAX_TERMS: usize = 1024;

/// English stop words, one per line: dropped from a query's bare words.
const STOP_WORDS: &str = include_str!("stopwords-en.txt");
/// More words that show a query is a sentence (question words, pronouns, auxiliaries).
const SENTENCE_WORDS: &str = include_str!("sentence-words-en.txt");

fn word_list(text: &'static str) -> HashSet<&'static str> {
    text.lines().map(str::trim).filter(|w| !w.is_empty() && !w.starts_with('#')).collect()
}

/// `word` lower-cased, without surrounding punctuation ("It." is "it").
fn bare(word: &str) -> String {
    word.to_lowercase().trim_matches(|c: char| !c.is_alphanumeric()).to_string()
}

/// Whether `word` (as typed) is an English stop word.
pub fn is_stop_word(word: &str) -> bool {
    static WORDS: OnceLock<HashSet<&'static str>> = OnceLock::new();
    WORDS.get_or_init(|| word_list(STOP_WORDS)).contains(bare(word).as_str())
}

/// Whether `word` (as typed) shows that a query is a sentence: a stop word, a question word, a pronoun.
pub fn is_sentence_word(word: &str) -> bool {
    static WORDS: OnceLock<HashSet<&'static str>> = OnceLock::new();
    is_stop_word(word) || WORDS.get_or_init(|| word_list(SENTENCE_WORDS)).contains(bare(word).as_str())
}

/// Which field a word or phrase is restricted to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum FieldSel {
    /// Title and body (and the issue-key field for key-shaped words).
    Text,
    Title,
    Space,
    Project,
    Kind,
    Label,
    Author,
    Product,
}

impl FieldSel {
    fn from_prefix(name: &str) -> Option<FieldSel> {
        Some(match name {
            "title" => FieldSel::Title,
            "space" => FieldSel::Space,
            "project" => FieldSel::Project,
            "kind" => FieldSel::Kind,
            "label" => FieldSel::Label,
            "author" => FieldSel::Author,
            "product" => FieldSel::Product,
            _ => return None,
        })
    }
}

/// A parsed query.
#[derive(Debug, Clone, PartialEq)]
pub enum Ast {
    /// The empty query: everything (the caller may see).
    All,
    Word {
        field: FieldSel,
        text: String,
    },
    Phrase {
        field: FieldSel,
        text: String,
    },
    /// Juxtaposed parts: [`Ast::Must`] parts must match, [`Ast::Not`] parts must not, and the others rank
    /// (a document must match one of them when nothing is required).
    Bag(Vec<Ast>),
    And(Vec<Ast>),
    Or(Vec<Ast>),
    Not(Box<Ast>),
    /// A part of a bag that must match.
    Must(Box<Ast>),
}

#[derive(Debug, Clone, PartialEq)]
enum Tok {
    Word(String),
    Phrase(String),
    /// `name:` directly followed by a value.
    Field(FieldSel),
    Open,
    Close,
    And,
    Or,
    Not,
    /// `-` directly before a word, phrase or group.
    Minus,
    /// `+` directly before a word, phrase or group.
    Plus,
}

fn bad(message: impl Into<String>, position: usize) -> Error {
    Error::BadQuery { message: message.into(), position: Some(position) }
}

fn lex(input: &str) -> Result<Vec<(Tok, usize)>, Error> {
    let chars: Vec<char> = input.chars().collect();
    let mut out = Vec::new();
    let mut i = 0;
    let is_break = |c: char| c.is_whitespace() || c == '(' || c == ')' || c == '"';
    let is_sign_target =
        |n: Option<&char>| n.is_some_and(|&n| !n.is_whitespace() && n != ')' && n != '-' && n != '+');
    while i < chars.len() {
        let c = chars[i];
        let start = i;
        if c.is_whitespace() {
            i += 1;
        } else if c == '(' {
            out.push((Tok::Open, start));
            i += 1;
        } else if c == ')' {
            out.push((Tok::Close, start));
            i += 1;
        } else if c == '"' {
            let end = chars[i + 1..].iter().position(|&c| c == '"').map(|p| p + i + 1);
            let Some(end) = end else {
                return Err(bad("unclosed quote", start));
            };
            out.push((Tok::Phrase(chars[i + 1..end].iter().collect()), start));
            i = end + 1;
        } else if c == '-' && is_sign_target(chars.get(i + 1)) {
            out.push((Tok::Minus, start));
            i += 1;
        } else if c == '+' && is_sign_target(chars.get(i + 1)) {
            out.push((Tok::Plus, start));
            i += 1;
        } else {
            while i < chars.len() && !is_break(chars[i]) {
                i += 1;
            }
            let word: String = chars[start..i].iter().collect();
            let field = word.strip_suffix(':').and_then(FieldSel::from_prefix);
            let (prefix, rest) = word.split_once(':').unwrap_or((&word, ""));
            match (field, FieldSel::from_prefix(prefix)) {
                (Some(field), _) => {
                    // `title:` must be glued to a phrase or a group.
                    if !matches!(chars.get(i), Some('"') | Some('(')) {
                        return Err(bad(format!("{prefix}: needs a value"), start));
                    }
                    out.push((Tok::Field(field), start));
                }
                (None, Some(field)) if !rest.is_empty() => {
                    out.push((Tok::Field(field), start));
                    out.push((Tok::Word(rest.to_string()), start + prefix.chars().count() + 1));
                }
                _ => {
                    let tok = match word.as_str() {
                        "AND" => Tok::And,
                        "OR" => Tok::Or,
                        "NOT" => Tok::Not,
                        _ => Tok::Word(word),
                    };
                    out.push((tok, start));
                }
            }
        }
    }
    Ok(out)
}

/// Whether the tokens read as a sentence: some bare word (not a field's value, not inside a field's
/// group) is a stop word, a question word or a pronoun.
fn is_sentence(tokens: &[(Tok, usize)]) -> bool {
    // Depth of parentheses, and the depth at which a field's group opened (words inside it are values).
    let mut depth = 0usize;
    let mut field_group: Option<usize> = None;
    for (i, (tok, _)) in tokens.iter().enumerate() {
        let after_field = matches!(i.checked_sub(1).map(|p| &tokens[p].0), Some(Tok::Field(_)));
        match tok {
            Tok::Open => {
                if after_field && field_group.is_none() {
                    field_group = Some(depth);
                }
                depth += 1;
            }
            Tok::Close => {
                depth = depth.saturating_sub(1);
                if field_group == Some(depth) {
                    field_group = None;
                }
            }
            Tok::Word(w) if !after_field && field_group.is_none() && is_sentence_word(w) => return true,
            _ => {}
        }
    }
    false
}

/// A sentence's tokens as text: operators become the words they spell, signs and parentheses go.
fn as_text(tokens: Vec<(Tok, usize)>) -> Vec<(Tok, usize)> {
    tokens
        .into_iter()
        .filter_map(|(tok, pos)| match tok {
            Tok::And => Some((Tok::Word("AND".into()), pos)),
            Tok::Or => Some((Tok::Word("OR".into()), pos)),
            Tok::Not => Some((Tok::Word("NOT".into()), pos)),
            Tok::Minus | Tok::Plus | Tok::Open | Tok::Close => None,
            other => Some((other, pos)),
        })
        .collect()
}

/// Which reading of the query is used.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Mode {
    /// Search syntax: quotes, groups, AND and OR filter.
    Keywords,
    /// Text: only field prefixes filter.
    Sentence,
}

fn check_length(input: &str) -> Result<usize, Error> {
    let length = input.chars().count();
    if length > MAX_QUERY_CHARS {
        return Err(Error::BadQuery {
            message: format!("query is too long ({length} characters, at most {MAX_QUERY_CHARS})"),
            position: None,
        });
    }
    Ok(length)
}

/// Parses `input` strictly: syntax errors are errors, with their position. An empty or blank query is
/// [`Ast::All`].
pub fn parse(input: &str) -> Result<Ast, Error> {
    let length = check_length(input)?;
    let tokens = lex(input)?;
    if tokens.is_empty() {
        return Ok(Ast::All);
    }
    let (tokens, mode) =
        if is_sentence(&tokens) { (as_text(tokens), Mode::Sentence) } else { (tokens, Mode::Keywords) };
    let mut parser = Parser { tokens, at: 0, end: length, mode };
    let ast = parser.bag(0, FieldSel::Text)?;
    if let Some((_, pos)) = parser.tokens.get(parser.at) {
        return Err(bad("unexpected ')'", *pos));
    }
    check_terms(&ast)?;
    Ok(ast)
}

/// Reads `input` as people type it: [`parse`], or, when its syntax does not parse, its plain words. Fails
/// only on a query over the size limits.
pub fn read(input: &str) -> Result<Ast, Error> {
    match parse(input) {
        Ok(ast) => Ok(ast),
        Err(Error::BadQuery { position: Some(position), message }) => {
            tracing::debug!(position, %message, "query syntax does not parse: searching its plain words");
            let words: Vec<Ast> = input
                .split(|c: char| c.is_whitespace() || c == '"' || c == '(' || c == ')')
                .map(|w| w.trim_start_matches(['-', '+']))
                .filter(|w| !w.is_empty())
                .map(|w| Ast::Word { field: FieldSel::Text, text: w.to_string() })
                .collect();
            let ast = match words.len() {
                0 => Ast::All,
                1 => words.into_iter().next().unwrap_or(Ast::All),
                _ => Ast::Bag(words),
            };
            check_terms(&ast)?;
            Ok(ast)
        }
        Err(other) => Err(other),
    }
}

/// Refuses a query of more than [`MAX_TERMS`] distinct words and phrases.
fn check_terms(ast: &Ast) -> Result<(), Error> {
    fn collect(ast: &Ast, seen: &mut HashSet<(u8, String)>) {
        match ast {
            Ast::All => {}
            Ast::Word { field, text } => {
                seen.insert((*field as u8, text.to_lowercase()));
            }
            Ast::Phrase { field, text } => {
                seen.insert((*field as u8 + 100, text.to_lowercase()));
            }
            Ast::Bag(parts) | Ast::And(parts) | Ast::Or(parts) => parts.iter().for_each(|p| collect(p, seen)),
            Ast::Not(inner) | Ast::Must(inner) => collect(inner, seen),
        }
    }
    let mut seen = HashSet::new();
    collect(ast, &mut seen);
    if seen.len() > MAX_TERMS {
        return Err(Error::BadQuery {
            message: format!("query has too many distinct words ({}, at most {MAX_TERMS})", seen.len()),
            position: None,
        });
    }
    Ok(())
}

struct Parser {
    tokens: Vec<(Tok, usize)>,
    at: usize,
    end: usize,
    mode: Mode,
}

impl Parser {
    fn peek(&self) -> Option<&Tok> {
        self.tokens.get(self.at).map(|(t, _)| t)
    }

    fn pos(&self) -> usize {
        self.tokens.get(self.at).map_or(self.end, |(_, p)| *p)
    }

    /// Juxtaposed parts up to the end or a closing parenthesis.
    fn bag(&mut self, depth: usize, field: FieldSel) -> Result<Ast, Error> {
        let mut parts = Vec::new();
        while !matches!(self.peek(), None | Some(Tok::Close)) {
            let part = self.or(depth, field)?;
            parts.push(self.in_bag(part, field));
        }
        match parts.len() {
            0 if self.peek() == Some(&Tok::Close) => Err(bad("unexpected ')'", self.pos())),
            0 => Err(bad("query ends where a term was expected", self.pos())),
            1 => Ok(match parts.remove(0) {
                // Alone, a required part is simply the query.
                Ast::Must(inner) => *inner,
                other => other,
            }),
            _ => Ok(Ast::Bag(parts)),
        }
    }

    /// How a part takes part in a bag searching `field`: bare words rank; syntax must match (in a sentence,
    /// only fields do).
    fn in_bag(&self, part: Ast, field: FieldSel) -> Ast {
        let required = match (&part, self.mode) {
            (Ast::Not(_) | Ast::Must(_), _) => false,
            (Ast::Word { field: f, .. }, _) if *f == field => false,
            (Ast::Phrase { field: f, .. }, Mode::Sentence) if *f == field => false,
            _ => true,
        };
        if required {
            Ast::Must(Box::new(part))
        } else {
            part
        }
    }

    fn or(&mut self, depth: usize, field: FieldSel) -> Result<Ast, Error> {
        let mut parts = vec![self.and(depth, field)?];
        while self.peek() == Some(&Tok::Or) {
            self.at += 1;
            parts.push(self.and(depth, field)?);
        }
        Ok(if parts.len() == 1 { parts.remove(0) } else { Ast::Or(parts) })
    }

    fn and(&mut self, depth: usize, field: FieldSel) -> Result<Ast, Error> {
        let mut parts = vec![self.unary(depth, field)?];
        while self.peek() == Some(&Tok::And) {
            self.at += 1;
            parts.push(self.unary(depth, field)?);
        }
        Ok(if parts.len() == 1 { parts.remove(0) } else { Ast::And(parts) })
    }

    fn unary(&mut self, depth: usize, field: FieldSel) -> Result<Ast, Error> {
        if depth >= MAX_DEPTH {
            return Err(bad(format!("query is nested too deeply (at most {MAX_DEPTH} levels)"), self.pos()));
        }
        match self.peek() {
            Some(Tok::Not) | Some(Tok::Minus) => {
                self.at += 1;
                Ok(Ast::Not(Box::new(self.unary(depth + 1, field)?)))
            }
            Some(Tok::Plus) => {
                self.at += 1;
                let inner = self.unary(depth + 1, field)?;
                Ok(match inner {
                    must @ Ast::Must(_) => must,
                    other => Ast::Must(Box::new(other)),
                })
            }
            _ => self.primary(depth, field),
        }
    }

    fn primary(&mut self, depth: usize, field: FieldSel) -> Result<Ast, Error> {
        let pos = self.pos();
        let Some((tok, _)) = self.tokens.get(self.at).cloned() else {
            return Err(bad("query ends where a term was expected", pos));
        };
        self.at += 1;
        match tok {
            Tok::Word(text) => Ok(Ast::Word { field, text }),
            Tok::Phrase(text) => Ok(Ast::Phrase { field, text }),
            Tok::Open => {
                if self.peek() == Some(&Tok::Close) {
                    return Err(bad("empty parentheses", pos));
                }
                let inner = self.bag(depth + 1, field)?;
                if self.peek() != Some(&Tok::Close) {
                    return Err(bad("unclosed '('", pos));
                }
                self.at += 1;
                Ok(inner)
            }
            Tok::Field(inner_field) => {
                if field != FieldSel::Text && field != inner_field {
                    return Err(bad("a field prefix inside another field's group", pos));
                }
                match self.peek() {
                    Some(Tok::Word(_)) | Some(Tok::Phrase(_)) | Some(Tok::Open) => {
                        self.primary(depth + 1, inner_field)
                    }
                    _ => Err(bad("field prefix needs a value", pos)),
                }
            }
            Tok::Close => Err(bad("unexpected ')'", pos)),
            Tok::And => Err(bad("AND needs a term on its left", pos)),
            Tok::Or => Err(bad("OR needs a term on its left", pos)),
            Tok::Not | Tok::Minus | Tok::Plus => Err(bad("misplaced operator", pos)),
        }
    }
}

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

#[cfg(test)]
mod tests {
    use super::*;

    fn w(text: &str) -> Ast {
        Ast::Word { field: FieldSel::Text, text: text.into() }
    }
    fn wf(field: FieldSel, text: &str) -> Ast {
        Ast::Word { field, text: text.into() }
    }
    fn p(text: &str) -> Ast {
        Ast::Phrase { field: FieldSel::Text, text: text.into() }
    }
    fn not(a: Ast) -> Ast {
        Ast::Not(Box::new(a))
    }
    fn must(a: Ast) -> Ast {
        Ast::Must(Box::new(a))
    }
    fn bag(parts: Vec<Ast>) -> Ast {
        Ast::Bag(parts)
    }

    #[test]
    fn parses_the_language() {
        let cases: Vec<(&str, Ast)> = vec![
            ("", Ast::All),
            ("   ", Ast::All),
            ("kafka", w("kafka")),
            ("kafka broker", bag(vec![w("kafka"), w("broker")])),
            ("kafka AND broker", Ast::And(vec![w("kafka"), w("broker")])),
            ("kafka OR broker", Ast::Or(vec![w("kafka"), w("broker")])),
            ("x b OR c", bag(vec![w("x"), must(Ast::Or(vec![w("b"), w("c")]))])),
            ("x AND b c", bag(vec![must(Ast::And(vec![w("x"), w("b")])), w("c")])),
            ("x (b OR c)", bag(vec![w("x"), must(Ast::Or(vec![w("b"), w("c")]))])),
            ("x (b c)", bag(vec![w("x"), must(bag(vec![w("b"), w("c")]))])),
            ("+kafka broker", bag(vec![must(w("kafka")), w("broker")])),
            ("+kafka", w("kafka")),
            ("\"disk full\"", p("disk full")),
            ("\"disk full\" error", bag(vec![must(p("disk full")), w("error")])),
            ("NOT x", not(w("x"))),
            ("x -b", bag(vec![w("x"), not(w("b"))])),
            ("x NOT -b", bag(vec![w("x"), not(not(w("b")))])),
            ("x - b", bag(vec![w("x"), w("-"), w("b")])),
            ("c++ x", bag(vec![w("c++"), w("x")])),
            ("well-known", w("well-known")),
            ("title:kafka", wf(FieldSel::Title, "kafka")),
            ("space:ENG", wf(FieldSel::Space, "ENG")),
            ("space:ENG kafka", bag(vec![must(wf(FieldSel::Space, "ENG")), w("kafka")])),
            ("project:HADOOP", wf(FieldSel::Project, "HADOOP")),
            ("kind:page", wf(FieldSel::Kind, "page")),
            ("label:needs-triage", wf(FieldSel::Label, "needs-triage")),
            ("author:alice", wf(FieldSel::Author, "alice")),
            ("product:jira", wf(FieldSel::Product, "jira")),
            ("title:\"disk full\"", Ast::Phrase { field: FieldSel::Title, text: "disk full".into() }),
            ("title:(x OR y)", Ast::Or(vec![wf(FieldSel::Title, "x"), wf(FieldSel::Title, "y")])),
            ("title:(x y)", bag(vec![wf(FieldSel::Title, "x"), wf(FieldSel::Title, "y")])),
            ("-space:ENG", not(wf(FieldSel::Space, "ENG"))),
            ("https://x.org/a", w("https://x.org/a")),
            ("HADOOP-1234", w("HADOOP-1234")),
            ("space:a:b", wf(FieldSel::Space, "a:b")),
            // Sentences: a stop word among the bare words makes operators, signs and parentheses text.
            ("what methods -dash exact", bag(vec![w("what"), w("methods"), w("dash"), w("exact")])),
            ("how (made using) models", bag(vec![w("how"), w("made"), w("using"), w("models")])),
            ("is it NOT x AND y", bag(vec![w("is"), w("it"), w("NOT"), w("x"), w("AND"), w("y")])),
            ("fix the \"disk full\" error", bag(vec![w("fix"), w("the"), p("disk full"), w("error")])),
            ("the kafka space:ENG", bag(vec![w("the"), w("kafka"), must(wf(FieldSel::Space, "ENG"))])),
            ("and or not", bag(vec![w("and"), w("or"), w("not")])),
            // A stop word inside a field's group is that field's value, not a sign of a sentence.
            (
                "title:(the x) -y",
                bag(vec![must(bag(vec![wf(FieldSel::Title, "the"), wf(FieldSel::Title, "x")])), not(w("y"))]),
            ),
        ];
        for (input, want) in cases {
            assert_eq!(parse(input).expect(input), want, "query {input:?}");
        }
    }

    #[test]
    fn bad_syntax_names_the_position() {
        let cases: &[(&str, usize, &str)] = &[
            ("\"open", 0, "unclosed quote"),
            ("x (b", 2, "unclosed '('"),
            ("x b)", 3, "unexpected ')'"),
            (")", 0, "unexpected ')'"),
            ("()", 0, "empty parentheses"),
            ("x AND", 5, "query ends"),
            ("OR x", 0, "OR needs a term"),
            ("x OR OR b", 5, "OR needs a term"),
            ("AND", 0, "AND needs a term"),
            ("NOT", 3, "query ends"),
            ("title: x", 0, "needs a value"),
            ("title:", 0, "needs a value"),
            ("title:(space:x)", 7, "inside another field"),
            ("é \"x", 2, "unclosed quote"),
        ];
        for (input, position, message) in cases {
            match parse(input) {
                Err(Error::BadQuery { message: m, position: p }) => {
                    assert_eq!(p, Some(*position), "query {input:?}: {m}");
                    assert!(m.contains(message), "query {input:?}: {m:?} lacks {message:?}");
                }
                other => panic!("query {input:?} gave {other:?}"),
            }
        }
    }

    #[test]
    fn syntax_that_does_not_parse_is_searched_as_plain_words() {
        let cases: Vec<(&str, Ast)> = vec![
            ("\"open", w("open")),
            ("x (b", bag(vec![w("x"), w("b")])),
            ("x AND", bag(vec![w("x"), w("AND")])),
            ("title: x", bag(vec![w("title:"), w("x")])),
            ("()", Ast::All),
            ("-(", Ast::All),
        ];
        for (input, want) in cases {
            assert!(parse(input).is_err(), "{input:?} is bad syntax");
            assert_eq!(read(input).expect(input), want, "query {input:?}");
        }
        assert_eq!(read("kafka -zookeeper").unwrap(), parse("kafka -zookeeper").unwrap());
    }

    #[test]
    fn limits_are_generous_and_enforced() {
        let deep = format!("{}x{}", "(".repeat(MAX_DEPTH + 1), ")".repeat(MAX_DEPTH + 1));
        let nots = "NOT ".repeat(MAX_DEPTH + 1) + "x";
        assert!(parse(&deep).is_err() && parse(&nots).is_err(), "the strict reader bounds nesting");
        assert_eq!(read(&deep).unwrap(), w("x"), "and the lenient one reads the words");
        let distinct: Vec<String> = (0..=MAX_TERMS).map(|i| format!("w{i}")).collect();
        let long = "x".repeat(MAX_QUERY_CHARS + 1);
        for input in [distinct.join(" "), long] {
            assert!(matches!(read(&input), Err(Error::BadQuery { position: None, .. })), "{}", &input[..20]);
        }
        assert!(read(&distinct[..MAX_TERMS].join(" ")).is_ok());
        // Repeated words count once.
        assert!(read(&vec!["same"; MAX_TERMS * 3].join(" ")).is_ok());
    }

    #[test]
    fn stop_words_are_data() {
        for word in ["the", "The", "of", "with", "it."] {
            assert!(is_stop_word(word), "{word}");
        }
        for word in ["kafka", "what", "them"] {
            assert!(!is_stop_word(word), "{word}");
        }
    }

    proptest::proptest! {
        #[test]
        fn never_panics(input in "[ a-zA-Z0-9()\":\\-+ÄéANDORNOTthe]{0,60}") {
            let _ = parse(&input);
            proptest::prop_assert!(read(&input).is_ok());
        }

        #[test]
        fn never_panics_on_any_string(input in proptest::prelude::any::<String>()) {
            if let Err(Error::BadQuery { position: Some(p), .. }) = parse(&input) {
                proptest::prop_assert!(p <= input.chars().count());
            }
            proptest::prop_assert!(read(&input).is_ok());
        }
    }
}

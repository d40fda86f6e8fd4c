//! permdex's query language, parsed by hand into an [`Ast`] and turned into a tantivy [`Query`].
//!
//! ```text
//! query   := or
//! or      := and ( "OR" and )*
//! and     := unary ( ["AND"] unary )*          juxtaposition means AND
//! unary   := ("NOT" | "-") unary | primary
//! primary := "(" or ")" | FIELD ":" (word | "phrase" | "(" or ")") | word | "phrase"
//! FIELD   := title | space | project | kind | label | author | product
//! ```
//! Operators are upper case (`and`, `or`, `not` are ordinary words). A word of another `name:` form is
//! searched as text, so pasted URLs work. Words and phrases without a field search the title and the body;
//! a word shaped like a Jira issue key (`HADOOP-1234`) also matches the `keys` field whole. `space:`,
//! `project:`, `kind:`, `product:` and `label:` match exact values; `author:` matches an accountId or the
//! author's name.
//!
//! Bad syntax is an [`Error::BadQuery`] with the character position; the parser never panics, and bounds
//! length, nesting and clause count so no input can exhaust the stack or memory.
//!
//! This file knows nothing of permissions: the ACL filter applies to whatever query comes out of it.

use tantivy::query::{AllQuery, BooleanQuery, EmptyQuery, Occur, PhraseQuery, Query, TermQuery};
use tantivy::schema::{Field, IndexRecordOption, Term};
use tantivy::tokenizer::TextAnalyzer;

use super::Error;
use crate::index::{issue_keys, Fields};

/// Longest query accepted, in characters.
pub const MAX_QUERY_CHARS: usize = 2000;
/// Deepest parenthesis / negation nesting accepted.
pub const MAX_DEPTH: usize = 32;
/// Most words and phrases in one query.
pub const MAX_CLAUSES: usize = 128;

/// Which field a word or phrase is restricted to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
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
    And(Vec<Ast>),
    Or(Vec<Ast>),
    Not(Box<Ast>),
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
}

fn bad(message: impl Into<String>, position: usize) -> Error {
    Error::BadQuery { message: message.into(), position: Some(position) }
}

fn lex(input: &str) -> Result<Vec<(Tok, usize)>, Error> {
    let chars: Vec<char> = input.chars().collect();
    let mut out = Vec::new();
    let mut i = 0;
    let is_break = |c: char| c.is_whitespace() || c == '(' || c == ')' || c == '"';
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
        } else if c == '-' && chars.get(i + 1).is_some_and(|&n| !n.is_whitespace() && n != ')' && n != '-') {
            out.push((Tok::Minus, start));
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

/// Parses `input`. An empty or blank query is [`Ast::All`].
pub fn parse(input: &str) -> Result<Ast, Error> {
    let length = input.chars().count();
    if length > MAX_QUERY_CHARS {
        return Err(Error::BadQuery {
            message: format!("query is too long ({length} characters, at most {MAX_QUERY_CHARS})"),
            position: None,
        });
    }
    let tokens = lex(input)?;
    if tokens.is_empty() {
        return Ok(Ast::All);
    }
    let mut parser = Parser { tokens, at: 0, end: length, clauses: 0 };
    let ast = parser.or(0, FieldSel::Text)?;
    if let Some((_, pos)) = parser.tokens.get(parser.at) {
        return Err(bad("unexpected ')'", *pos));
    }
    Ok(ast)
}

struct Parser {
    tokens: Vec<(Tok, usize)>,
    at: usize,
    end: usize,
    clauses: usize,
}

impl Parser {
    fn peek(&self) -> Option<&Tok> {
        self.tokens.get(self.at).map(|(t, _)| t)
    }

    fn pos(&self) -> usize {
        self.tokens.get(self.at).map_or(self.end, |(_, p)| *p)
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
        loop {
            match self.peek() {
                None | Some(Tok::Or) | Some(Tok::Close) => break,
                Some(Tok::And) => {
                    self.at += 1;
                }
                _ => {}
            }
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
            Tok::Word(text) => self.leaf(Ast::Word { field, text }, pos),
            Tok::Phrase(text) => self.leaf(Ast::Phrase { field, text }, pos),
            Tok::Open => {
                if self.peek() == Some(&Tok::Close) {
                    return Err(bad("empty parentheses", pos));
                }
                let inner = self.or(depth + 1, field)?;
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
            Tok::Not | Tok::Minus => Err(bad("misplaced negation", pos)),
        }
    }

    fn leaf(&mut self, ast: Ast, pos: usize) -> Result<Ast, Error> {
        self.clauses += 1;
        if self.clauses > MAX_CLAUSES {
            return Err(bad(format!("query has too many terms (at most {MAX_CLAUSES})"), pos));
        }
        Ok(ast)
    }
}

/// What turning an [`Ast`] into a tantivy query needs: field handles and the fields' analyzers.
pub struct QueryBuilder {
    fields: Fields,
    text: TextAnalyzer,
    name: TextAnalyzer,
    key: TextAnalyzer,
}

impl QueryBuilder {
    pub fn new(index: &tantivy::Index, fields: Fields) -> Result<QueryBuilder, Error> {
        let analyzer = |f: Field| index.tokenizer_for_field(f).map_err(Error::from);
        Ok(QueryBuilder {
            text: analyzer(fields.body)?,
            name: analyzer(fields.author_name)?,
            key: analyzer(fields.keys)?,
            fields,
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
                        Ast::Not(inner) => {
                            if let Some(q) = self.node(inner) {
                                clauses.push((Occur::MustNot, q));
                            }
                        }
                        other => {
                            if let Some(q) = self.node(other) {
                                clauses.push((Occur::Must, q));
                            }
                        }
                    }
                }
                if clauses.iter().all(|(o, _)| *o == Occur::MustNot) {
                    if clauses.is_empty() {
                        return None;
                    }
                    clauses.push((Occur::Must, Box::new(AllQuery)));
                }
                Some(Box::new(BooleanQuery::new(clauses)))
            }
            Ast::Or(parts) => {
                let should = self.or_clauses(parts);
                if should.is_empty() {
                    return None;
                }
                Some(Box::new(BooleanQuery::new(should)))
            }
        }
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

    /// The alternatives of a top-level union (an OR, or a word searched in several fields), each its own
    /// query: a document matches the union when it matches one of them, and scores their sum. Empty for
    /// any other shape. Lets a sparse caller's few documents be looked up in each alternative separately
    /// instead of through tantivy's buffered union, which is slow to seek.
    pub fn union_alternatives(&self, ast: &Ast) -> Vec<Box<dyn Query>> {
        let clauses = match ast {
            Ast::Word { field, text } | Ast::Phrase { field, text } => self.leaf_clauses(*field, text),
            Ast::Or(parts) => self.or_clauses(parts),
            Ast::All | Ast::And(_) | Ast::Not(_) => Vec::new(),
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

    /// The alternatives one word or phrase matches, as Should clauses.
    fn leaf_clauses(&self, field: FieldSel, text: &str) -> Vec<(Occur, Box<dyn Query>)> {
        let f = &self.fields;
        let mut out: Vec<Box<dyn Query>> = Vec::new();
        match field {
            FieldSel::Text => {
                if issue_keys(text).next() == Some(text) {
                    out.extend(analysed(&self.key, f.keys, text));
                }
                out.extend(analysed(&self.text, f.title, text));
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

/// A raw field's exact value.
fn exact(field: Field, text: &str) -> Box<dyn Query> {
    Box::new(TermQuery::new(Term::from_field_text(field, text), IndexRecordOption::Basic))
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

    #[test]
    fn parses_the_language() {
        let cases: Vec<(&str, Ast)> = vec![
            ("", Ast::All),
            ("   ", Ast::All),
            ("kafka", w("kafka")),
            ("kafka broker", Ast::And(vec![w("kafka"), w("broker")])),
            ("kafka AND broker", Ast::And(vec![w("kafka"), w("broker")])),
            ("kafka OR broker", Ast::Or(vec![w("kafka"), w("broker")])),
            ("a b OR c", Ast::Or(vec![Ast::And(vec![w("a"), w("b")]), w("c")])),
            ("a (b OR c)", Ast::And(vec![w("a"), Ast::Or(vec![w("b"), w("c")])])),
            ("\"disk full\"", p("disk full")),
            ("NOT a", not(w("a"))),
            ("a -b", Ast::And(vec![w("a"), not(w("b"))])),
            ("a NOT -b", Ast::And(vec![w("a"), not(not(w("b")))])),
            ("a - b", Ast::And(vec![w("a"), w("-"), w("b")])),
            ("well-known", w("well-known")),
            ("and or not", Ast::And(vec![w("and"), w("or"), w("not")])),
            ("title:kafka", wf(FieldSel::Title, "kafka")),
            ("space:ENG", wf(FieldSel::Space, "ENG")),
            ("project:HADOOP", wf(FieldSel::Project, "HADOOP")),
            ("kind:page", wf(FieldSel::Kind, "page")),
            ("label:needs-triage", wf(FieldSel::Label, "needs-triage")),
            ("author:alice", wf(FieldSel::Author, "alice")),
            ("product:jira", wf(FieldSel::Product, "jira")),
            ("title:\"disk full\"", Ast::Phrase { field: FieldSel::Title, text: "disk full".into() }),
            ("title:(a OR b)", Ast::Or(vec![wf(FieldSel::Title, "a"), wf(FieldSel::Title, "b")])),
            ("-space:ENG", not(wf(FieldSel::Space, "ENG"))),
            ("https://x.org/a", w("https://x.org/a")),
            ("HADOOP-1234", w("HADOOP-1234")),
            ("space:a:b", wf(FieldSel::Space, "a:b")),
        ];
        for (input, want) in cases {
            assert_eq!(parse(input).expect(input), want, "query {input:?}");
        }
    }

    #[test]
    fn bad_syntax_names_the_position() {
        let cases: &[(&str, usize, &str)] = &[
            ("\"open", 0, "unclosed quote"),
            ("a (b", 2, "unclosed '('"),
            ("a b)", 3, "unexpected ')'"),
            (")", 0, "unexpected ')'"),
            ("()", 0, "empty parentheses"),
            ("a AND", 5, "query ends"),
            ("OR a", 0, "OR needs a term"),
            ("a OR OR b", 5, "OR needs a term"),
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
    fn limits_are_enforced() {
        let deep = format!("{}a{}", "(".repeat(MAX_DEPTH + 1), ")".repeat(MAX_DEPTH + 1));
        let nots = "NOT ".repeat(MAX_DEPTH + 1) + "a";
        let many = vec!["w"; MAX_CLAUSES + 1].join(" ");
        let long = "x".repeat(MAX_QUERY_CHARS + 1);
        for input in [deep, nots, many, long] {
            assert!(matches!(parse(&input), Err(Error::BadQuery { .. })), "{}", &input[..20]);
        }
        assert!(parse(&vec!["w"; MAX_CLAUSES].join(" ")).is_ok());
    }

    proptest::proptest! {
        #[test]
        fn never_panics(input in "[ a-zA-Z0-9()\":\\-ÄéANDORNOT]{0,60}") {
            let _ = parse(&input);
        }

        #[test]
        fn never_panics_on_any_string(input in proptest::prelude::any::<String>()) {
            if let Err(Error::BadQuery { position: Some(p), .. }) = parse(&input) {
                proptest::prop_assert!(p <= input.chars().count());
            }
        }
    }
}

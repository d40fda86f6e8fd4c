//! permdex's query language, parsed by hand into an [`Ast`].
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
//! FIELD   := title | space | project | kind | label | author | product | type | status | assignee
//! ```
//! In a bag, a bare word is optional; `+word`, a quoted phrase, a field prefix, a parenthesised group, an
//! `AND` or an `OR` must match; `-x` and `NOT x` must not. Operators are upper case (`and`, `or`, `not` are
//! ordinary words). A word of another `name:` form is searched as text, so pasted URLs work. Words and
//! phrases without a field search the title and the body; a word shaped like a Jira issue key
//! (`HADOOP-1234`) also matches the `keys` field whole. `space:`, `project:`, `kind:`, `product:` and
//! `label:` match exact values; `author:` matches an accountId or the author's name. `type:` and `status:`
//! match a Jira issue's type and status whole, in any case (`status:"in progress"`); `assignee:` matches
//! an accountId or the assignee's name.
//!
//! **Sentences.** A query with an English stop word, question word or pronoun among its bare words ("how
//! do I restore backup snapshots?"; the lists are data: `stopwords-en.txt`, `sentence-words-en.txt`) is read
//! as text: there, field prefixes still filter and quotes still mark phrases (which
//! rank, but do not filter), while `AND`, `OR`, `NOT`, `+`, `-` and parentheses are punctuation — a dash in
//! "methods -dash exact or approximate" is never a NOT.
//!
//! **Bare words** lose their stop words (the list is data: `stopwords-en.txt`) unless nothing else is left,
//! count once however often they are repeated, and a word that analyses to several tokens (`free-flight`)
//! ranks as those words. See [`crate::search::query::QueryOptions`] for the measured ranking choices.
//!
//! Syntax that does not parse (an unclosed quote, a stray parenthesis, `title:` with nothing after it) is
//! never an error: the query is searched as plain words instead. [`read`] refuses only what is too big: more
//! than [`MAX_QUERY_CHARS`] characters or [`MAX_TERMS`] distinct words. [`parse`] is the strict reader,
//! whose [`Error::BadQuery`] names the character position of the problem; neither ever panics, and both
//! bound nesting, so no input can exhaust the stack or memory.
//!
//! [`crate::search::query`] turns the [`Ast`] into a tantivy query. This file knows nothing of tantivy or of
//! permissions.

use std::collections::HashSet;
use std::sync::OnceLock;

use super::Error;

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
    /// A Jira issue's type.
    Type,
    /// A Jira issue's status.
    Status,
    /// A Jira issue's assignee.
    Assignee,
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
            "type" => FieldSel::Type,
            "status" => FieldSel::Status,
            "assignee" => FieldSel::Assignee,
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
        // The message may quote the query, and search terms stay out of logs.
        Err(Error::BadQuery { position: Some(position), message: _ }) => {
            tracing::debug!(position, "query syntax does not parse: searching its plain words");
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
            ("type:Bug", wf(FieldSel::Type, "Bug")),
            ("status:\"In Progress\"", Ast::Phrase { field: FieldSel::Status, text: "In Progress".into() }),
            ("assignee:ana", wf(FieldSel::Assignee, "ana")),
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

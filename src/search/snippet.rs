//! Highlighting: which parts of a title or body match the query, rendered as HTML-escaped text with
//! `<mark>…</mark>` around the matches.
//!
//! Titles are shown whole: each token the title field's analyser makes of them is marked when the query
//! searches the title for that term. Bodies are long, so tantivy's [`SnippetGenerator`] picks the best
//! fragment. The HTML is written here so that escaping is ours and the same everywhere. Only documents the
//! ACL filter already let through ever reach this file.

use std::collections::HashSet;
use std::ops::Range;

use tantivy::query::Query;
use tantivy::schema::Field;
use tantivy::snippet::SnippetGenerator;
use tantivy::tokenizer::TextAnalyzer;
use tantivy::Searcher;

/// Longest body snippet, in characters of text.
pub const SNIPPET_CHARS: usize = 200;

/// Highlighters for one query: titles whole, bodies as the best fragment.
pub struct Highlighter {
    /// The title field's analyser, made once per query (making one builds its stemmer).
    title_analyzer: TextAnalyzer,
    /// The terms the query searches the title for, as the analyser writes them.
    title_terms: HashSet<String>,
    body: SnippetGenerator,
}

impl Highlighter {
    pub fn new(searcher: &Searcher, query: &dyn Query, title: Field, body: Field) -> tantivy::Result<Self> {
        let title_analyzer = searcher.index().tokenizer_for_field(title)?;
        let mut title_terms = HashSet::new();
        query.query_terms(&mut |term, _| {
            if term.field() == title {
                if let Some(text) = term.value().as_str() {
                    title_terms.insert(text.to_owned());
                }
            }
        });
        let mut body = SnippetGenerator::create(searcher, query, body)?;
        body.set_max_num_chars(SNIPPET_CHARS);
        Ok(Highlighter { title_analyzer, title_terms, body })
    }

    /// The whole title, escaped, with its matches marked.
    pub fn title_html(&mut self, title: &str) -> String {
        if self.title_terms.is_empty() {
            return mark(title, &[]);
        }
        let mut ranges: Vec<Range<usize>> = Vec::new();
        let mut stream = self.title_analyzer.token_stream(title);
        while let Some(token) = stream.next() {
            if self.title_terms.contains(&token.text) {
                ranges.push(token.offset_from..token.offset_to);
            }
        }
        mark(title, &ranges)
    }

    /// The body's best fragment, escaped, with its matches marked; the body's start, cut at a word
    /// boundary, when nothing matches. "…" says the body goes on before or after the fragment.
    pub fn body_html(&self, body: &str) -> String {
        let snippet = self.body.snippet(body);
        if snippet.highlighted().is_empty() {
            let end = word_end(body, SNIPPET_CHARS);
            return with_ellipses(body, 0..end, mark(body[..end].trim_end(), &[]));
        }
        let fragment = snippet.fragment();
        // The fragment is a slice of tokens of the body; where it sits tells whether text precedes or follows.
        let at = body.find(fragment).map_or(0..body.len(), |start| start..start + fragment.len());
        with_ellipses(body, at, mark(fragment, snippet.highlighted()))
    }
}

/// The byte offset where `text`'s first `max_chars` characters end, moved back to the last whitespace
/// so no word is cut (unless one word is longer than the whole snippet).
pub fn word_end(text: &str, max_chars: usize) -> usize {
    let Some((cut, _)) = text.char_indices().nth(max_chars) else {
        return text.len();
    };
    match text[..cut].rfind(char::is_whitespace) {
        Some(space) if space > 0 => space,
        _ => cut,
    }
}

/// `html` (the escaped `body[range]`) with "…" before it when body text precedes the range and after it
/// when body text follows.
fn with_ellipses(body: &str, range: Range<usize>, html: String) -> String {
    let before = !body[..range.start].trim().is_empty();
    let after = !body[range.end..].trim().is_empty();
    let mut out = String::with_capacity(html.len() + 8);
    if before {
        out.push('…');
    }
    out.push_str(&html);
    if after {
        out.push('…');
    }
    out
}

/// `text` HTML-escaped, with `<mark>` around each of `ranges` (byte ranges, sorted; overlaps merged).
pub fn mark(text: &str, ranges: &[Range<usize>]) -> String {
    let mut out = String::with_capacity(text.len() + 16 * ranges.len());
    let mut at = 0;
    for range in ranges {
        let start = range.start.max(at).min(text.len());
        let end = range.end.min(text.len());
        if start >= end || !text.is_char_boundary(start) || !text.is_char_boundary(end) {
            continue;
        }
        escape_into(&text[at..start], &mut out);
        out.push_str("<mark>");
        escape_into(&text[start..end], &mut out);
        out.push_str("</mark>");
        at = end;
    }
    escape_into(&text[at..], &mut out);
    out
}

/// Escapes text for HTML, with the one escaper the codebase uses (quick-xml's: `& < > " '`).
pub fn escape_into(text: &str, out: &mut String) {
    out.push_str(&quick_xml::escape::escape(text));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn marks_and_escapes() {
        type Case = (&'static str, &'static [(usize, usize)], &'static str);
        let cases: &[Case] = &[
            ("plain", &[], "plain"),
            ("a <b> & 'c'", &[], "a &lt;b&gt; &amp; &apos;c&apos;"),
            ("disk full", &[(0, 4)], "<mark>disk</mark> full"),
            ("x<y> z", &[(0, 4), (5, 6)], "<mark>x&lt;y&gt;</mark> <mark>z</mark>"),
            ("overlap", &[(0, 4), (2, 7)], "<mark>over</mark><mark>lap</mark>"),
            ("short", &[(3, 99)], "sho<mark>rt</mark>"),
            ("é!", &[(1, 2)], "é!"),
        ];
        for (text, ranges, want) in cases {
            let ranges: Vec<Range<usize>> = ranges.iter().map(|&(a, b)| a..b).collect();
            assert_eq!(mark(text, &ranges), *want, "text {text:?}");
        }
    }

    #[test]
    fn snippets_end_at_words_and_say_when_text_goes_on() {
        // (text, max chars, expected end)
        let ends =
            [("short text", 50, 10), ("alpha beta gamma", 12, 10), ("alphabetagamma", 5, 5), ("", 5, 0)];
        for (text, max, want) in ends {
            assert_eq!(word_end(text, max), want, "{text:?} at {max}");
        }
        let body = "one two three four";
        let cases = [
            (0..7, "one two…"),
            (4..13, "…two three…"),
            (8..18, "…three four"),
            (0..18, "one two three four"),
        ];
        for (range, want) in cases {
            let html = mark(&body[range.clone()], &[]);
            assert_eq!(with_ellipses(body, range.clone(), html), want, "{range:?}");
        }
    }
}

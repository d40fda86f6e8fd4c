//! HTML to text through the html2text crate (an html5ever parse, so real-world tag soup reads as a browser
//! reads it): HTML attachments, `.htm` pages and the HTML parts of e-mail.
//!
//! The trivial renderer: no Markdown marks around emphasis, links, headings or list items, no link
//! footnotes, no table borders; lines are wrapped at a width wide enough that wrapping never splits what a reader sees as one
//! line of a paragraph into many short ones. Scripts, styles and `<head>` metadata other than the title
//! are not text. Not here: Confluence storage format (`storage.rs`, which knows its macros) and markup
//! inside other formats.

use super::text::plain_to_text;

/// Lines longer than this are wrapped (between words).
const WRAP_WIDTH: usize = 400;

/// Converts an HTML document or fragment to text. Never fails: input html2text cannot lay out (which a
/// parse that always succeeds makes rare) falls back to the document with its tags stripped.
pub fn html_to_text(html: &str) -> String {
    let rendered = html2text::config::with_decorator(html2text::render::TrivialDecorator::new())
        .link_footnotes(false)
        .no_table_borders()
        .allow_width_overflow()
        .string_from_read(html.as_bytes(), WRAP_WIDTH);
    match rendered {
        Ok(text) => plain_to_text(&text.replace('\u{a0}', " ")),
        Err(_) => super::text::strip_markup(html),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn html_reads_as_text() {
        let cases = [
            ("<p>one</p><p>two</p>", "one\n\ntwo"),
            ("<b>bold</b> and <i>it</i>", "bold and it"),
            ("<script>var x = '<p>';</script><p>shown</p>", "shown"),
            ("<style>p { color: red }</style>visible", "visible"),
            ("a<br>b<br/>c", "a\nb\nc"),
            ("<!-- hidden --><p title='x > y'>kept</p>", "kept"),
            ("1 &lt; 2 &amp;&amp; caf&eacute;&nbsp;ok", "1 < 2 && café ok"),
            ("<p>unclosed <b>bold", "unclosed bold"),
            ("<a href=\"https://example.com/x\">the link text</a>", "the link text"),
            ("<ul><li>first</li><li>second</li></ul>", "first\nsecond"),
            ("<h1>Title</h1><blockquote>quoted</blockquote>", "Title\n\nquoted"),
            ("", ""),
        ];
        for (input, expected) in cases {
            assert_eq!(html_to_text(input), expected, "input {input:?}");
        }
    }

    #[test]
    fn tables_keep_every_cell() {
        let text = html_to_text(
            "<table><tr><th>Name</th><th>City</th></tr><tr><td>Ana</td><td>Porto</td></tr></table>",
        );
        for word in ["Name", "City", "Ana", "Porto"] {
            assert!(text.contains(word), "{word} missing from {text:?}");
        }
    }

    #[test]
    fn deep_nesting_does_not_crash() {
        let html = format!("{}deep{}", "<div>".repeat(5000), "</div>".repeat(5000));
        assert!(html_to_text(&html).contains("deep"));
    }
}

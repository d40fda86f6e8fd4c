//! Confluence storage format (the XHTML with `ac:` macros and `ri:` resource identifiers that the API returns
//! for `body-format=storage`) to clean text.
//!
//! What a reader sees is kept: paragraph, heading, list and table text, link texts, user mentions (as display
//! names, through [`UserNames`]), code block bodies (CDATA in `ac:plain-text-body`), the bodies and titles of
//! expand/panel/info-style macros, dates. What is configuration is dropped: macro parameters, task ids and
//! statuses, editor placeholders, ADF attributes and the duplicate fallback markup of ADF extensions.
//!
//! Storage format is not strictly XML: a body is a fragment without one root and uses HTML named entities
//! (`&nbsp;`, `&rsquo;`) that XML lacks. The reader here is quick-xml with end-name checks off and entities
//! decoded leniently; input it still cannot read falls back to tag stripping. It never panics and never fails.
//! It does not render anything: no macro is executed, no page is fetched.

use quick_xml::events::{BytesStart, Event};
use quick_xml::Reader;

use super::text::{decode_entities, layout_of, strip_markup, Gap, Layout, TextSink};

/// Resolves an Atlassian account id to the display name shown for a mention.
pub trait UserNames {
    fn display_name(&self, account_id: &str) -> Option<String>;
}

impl<F> UserNames for F
where
    F: Fn(&str) -> Option<String>,
{
    fn display_name(&self, account_id: &str) -> Option<String> {
        self(account_id)
    }
}

/// A directory that knows nobody: every mention is dropped.
#[derive(Debug, Clone, Copy, Default)]
pub struct NoUserNames;

impl UserNames for NoUserNames {
    fn display_name(&self, _account_id: &str) -> Option<String> {
        None
    }
}

/// Macros whose `title` parameter is shown to readers (the label of an expand, the heading of a panel).
const TITLED_MACROS: &[&str] =
    &["expand", "panel", "info", "note", "tip", "warning", "code", "noformat", "details", "ui-expand"];

/// Elements whose whole subtree is configuration or editor furniture, not content.
const HIDDEN: &[&str] = &[
    "script",
    "style",
    "ac:placeholder",
    "ac:task-id",
    "ac:task-uuid",
    "ac:task-status",
    "ac:adf-attribute",
    // An ADF extension carries its content twice: in `ac:adf-content` and as rendered fallback markup.
    "ac:adf-fallback",
];

/// Elements that never have content, even when written `<br>` without a closing tag.
const VOID: &[&str] = &["br", "hr", "img", "col", "meta", "link", "input", "area", "base", "wbr", "source"];

/// Structural elements of the storage format that end a block of text.
const STORAGE_BLOCKS: &[&str] = &[
    "ac:layout",
    "ac:layout-section",
    "ac:layout-cell",
    "ac:rich-text-body",
    "ac:task-list",
    "ac:task",
    "ac:adf-node",
    "ac:adf-content",
    "ac:caption",
];

/// Converts a storage-format body to text, naming mentioned users through `users` (a mention of an account
/// `users` does not know is dropped: a bare account id means nothing to someone searching).
pub fn storage_to_text(storage: &str, users: &dyn UserNames) -> String {
    match walk(storage, users) {
        Some(text) => text,
        None => strip_markup(storage),
    }
}

#[derive(Debug)]
enum Role {
    Layout(Layout),
    Hidden,
    Macro { name: String },
    Link { fallback: Option<String>, body_seen: bool },
    Verbatim,
}

#[derive(Debug)]
struct Frame {
    name: String,
    role: Role,
}

struct Walker<'u> {
    users: &'u dyn UserNames,
    sink: TextSink,
    stack: Vec<Frame>,
    hidden: usize,
    cells: usize,
    verbatim: usize,
}

/// Returns `None` when the input is too broken for the XML reader.
fn walk(storage: &str, users: &dyn UserNames) -> Option<String> {
    let mut reader = Reader::from_str(storage);
    let config = reader.config_mut();
    config.check_end_names = false;
    config.allow_unmatched_ends = true;
    config.trim_text(false);
    let mut walker =
        Walker { users, sink: TextSink::new(), stack: Vec::new(), hidden: 0, cells: 0, verbatim: 0 };
    loop {
        match reader.read_event().ok()? {
            Event::Start(start) | Event::Empty(start) if !is_plausible_name(&element_name(&start)) => {
                // "a < b" reads as a tag named "" or " b": the text is not markup after all.
                return None;
            }
            Event::Start(start) => walker.open(&start),
            Event::Empty(start) => {
                walker.open(&start);
                // `open` does not push void elements; everything else it pushed closes at once.
                if !is_void(&element_name(&start)) {
                    walker.close_top();
                }
            }
            Event::End(end) => {
                let name = String::from_utf8_lossy(end.name().as_ref()).into_owned();
                walker.close_named(&name);
            }
            Event::Text(text) => {
                let raw = String::from_utf8_lossy(text.as_ref()).into_owned();
                walker.text(&decode_entities(&raw));
            }
            Event::CData(cdata) => {
                let raw = String::from_utf8_lossy(cdata.as_ref()).into_owned();
                walker.text(&raw);
            }
            Event::Comment(_) | Event::Decl(_) | Event::PI(_) | Event::DocType(_) => {}
            Event::Eof => break,
        }
    }
    while !walker.stack.is_empty() {
        walker.close_top();
    }
    Some(walker.sink.finish())
}

fn element_name(start: &BytesStart<'_>) -> String {
    String::from_utf8_lossy(start.name().as_ref()).into_owned()
}

fn is_plausible_name(name: &str) -> bool {
    name.chars().next().is_some_and(|c| c.is_alphabetic() || c == '_')
        && !name.contains(|c: char| c.is_whitespace() || c == '<')
}

fn is_void(name: &str) -> bool {
    VOID.iter().any(|v| name.eq_ignore_ascii_case(v))
}

/// The value of attribute `key`, entities decoded; malformed attributes are ignored.
fn attribute(start: &BytesStart<'_>, key: &str) -> Option<String> {
    start.attributes().with_checks(false).flatten().find(|a| a.key.as_ref() == key.as_bytes()).map(|a| {
        let raw = String::from_utf8_lossy(&a.value).into_owned();
        decode_entities(&raw).into_owned()
    })
}

impl Walker<'_> {
    fn block_gap(&self) -> Gap {
        // Inside a table cell a paragraph break would split the row; a space keeps the row on one line.
        if self.cells > 0 {
            Gap::Space
        } else {
            Gap::Line
        }
    }

    fn open(&mut self, start: &BytesStart<'_>) {
        let name = element_name(start);
        if self.hidden > 0 {
            if !is_void(&name) {
                self.push(name, Role::Hidden);
            }
            return;
        }
        if is_void(&name) {
            if layout_of(&name) == Layout::Block {
                self.sink.gap(self.block_gap());
            }
            return;
        }
        let role = self.role_of(&name, start);
        match &role {
            Role::Layout(Layout::Block) | Role::Macro { .. } | Role::Verbatim => {
                self.sink.gap(self.block_gap())
            }
            Role::Layout(Layout::Cell) => {
                self.sink.gap(Gap::Cell);
                self.cells += 1;
            }
            Role::Layout(Layout::Inline) | Role::Hidden | Role::Link { .. } => {}
        }
        self.push(name, role);
    }

    fn push(&mut self, name: String, role: Role) {
        match role {
            Role::Hidden => self.hidden += 1,
            Role::Verbatim => self.verbatim += 1,
            _ => {}
        }
        self.stack.push(Frame { name, role });
    }

    fn role_of(&mut self, name: &str, start: &BytesStart<'_>) -> Role {
        if HIDDEN.iter().any(|h| name.eq_ignore_ascii_case(h)) {
            return Role::Hidden;
        }
        match name {
            "ac:structured-macro" | "ac:macro" => {
                Role::Macro { name: attribute(start, "ac:name").unwrap_or_default().to_ascii_lowercase() }
            }
            "ac:parameter" => {
                let in_titled_macro = matches!(
                    self.stack.last(),
                    Some(Frame { role: Role::Macro { name }, .. }) if TITLED_MACROS.contains(&name.as_str())
                );
                if in_titled_macro && attribute(start, "ac:name").as_deref() == Some("title") {
                    Role::Layout(Layout::Block)
                } else {
                    Role::Hidden
                }
            }
            "ac:link" => Role::Link { fallback: None, body_seen: false },
            "ac:plain-text-body" | "pre" => Role::Verbatim,
            "ac:emoticon" => {
                if let Some(shortname) = attribute(start, "ac:emoji-shortname") {
                    self.text(&shortname);
                }
                Role::Layout(Layout::Inline)
            }
            "time" => {
                if let Some(datetime) = attribute(start, "datetime") {
                    self.text(&datetime);
                }
                Role::Layout(Layout::Inline)
            }
            "ri:user" | "ri:page" | "ri:blog-post" | "ri:attachment" | "ri:url" | "ri:space" => {
                let target = match name {
                    "ri:user" => attribute(start, "ri:account-id")
                        .filter(|id| !id.is_empty())
                        .and_then(|id| self.users.display_name(&id)),
                    "ri:page" | "ri:blog-post" => attribute(start, "ri:content-title"),
                    "ri:attachment" => attribute(start, "ri:filename"),
                    "ri:url" => attribute(start, "ri:value"),
                    _ => attribute(start, "ri:space-key"),
                };
                // Only a link shows its target; the same identifiers inside images or parameters are plumbing.
                if let Some(Frame { role: Role::Link { fallback, .. }, .. }) = self.stack.last_mut() {
                    if fallback.is_none() {
                        *fallback = target;
                    }
                }
                Role::Layout(Layout::Inline)
            }
            _ if STORAGE_BLOCKS.contains(&name) => Role::Layout(Layout::Block),
            _ => Role::Layout(layout_of(name)),
        }
    }

    fn text(&mut self, text: &str) {
        if self.hidden > 0 {
            return;
        }
        if !text.trim().is_empty() {
            if let Some(Role::Link { body_seen, .. }) =
                self.stack.iter_mut().rev().map(|f| &mut f.role).find(|r| matches!(r, Role::Link { .. }))
            {
                *body_seen = true;
            }
        }
        if self.verbatim > 0 {
            self.sink.verbatim(text);
        } else {
            self.sink.text(text);
        }
    }

    /// Closes the innermost open element called `name` and everything opened inside it; an end tag that
    /// matches nothing open is ignored.
    fn close_named(&mut self, name: &str) {
        if let Some(index) = self.stack.iter().rposition(|f| f.name == name) {
            while self.stack.len() > index {
                self.close_top();
            }
        }
    }

    fn close_top(&mut self) {
        let Some(frame) = self.stack.pop() else {
            return;
        };
        match frame.role {
            Role::Hidden => self.hidden -= 1,
            Role::Verbatim => {
                self.verbatim -= 1;
                self.sink.gap(self.block_gap());
            }
            Role::Layout(Layout::Block) | Role::Macro { .. } => self.sink.gap(self.block_gap()),
            Role::Layout(Layout::Cell) => {
                self.cells -= 1;
                self.sink.gap(Gap::Cell);
            }
            Role::Layout(Layout::Inline) => {}
            Role::Link { fallback, body_seen } => {
                if let (false, Some(fallback)) = (body_seen, fallback) {
                    self.sink.text(&fallback);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn directory(account_id: &str) -> Option<String> {
        match account_id {
            "557058:alice" => Some("Alice Martin".to_owned()),
            "712020:bob" => Some("Bob Chen".to_owned()),
            _ => None,
        }
    }

    #[test]
    fn storage_to_text_cases() {
        let cases = [
            ("paragraphs and headings", "<h1>Title</h1><p>First para.</p><p>Second</p>", "Title\nFirst para.\nSecond"),
            ("inline markup joins words", "<p>foo<strong>bar</strong> <em>baz</em></p>", "foobar baz"),
            ("lists", "<ul><li><p>one</p></li><li>two<ol><li>two.a</li></ol></li></ul>", "one\ntwo\ntwo.a"),
            (
                "table rows and cells",
                "<table><tbody><tr><th>Name</th><th>Role</th></tr><tr><td><p>Ann</p><p>Lee</p></td><td>Admin</td></tr></tbody></table><p>after</p>",
                "Name\tRole\nAnn Lee\tAdmin\nafter",
            ),
            (
                "code macro keeps CDATA verbatim and drops parameters",
                "<p>Run:</p><ac:structured-macro ac:name=\"code\" ac:schema-version=\"1\"><ac:parameter ac:name=\"language\">bash</ac:parameter><ac:plain-text-body><![CDATA[cargo build --release\nif [ $x < 3 ]; then echo &amp; ; fi]]></ac:plain-text-body></ac:structured-macro><p>done</p>",
                "Run:\ncargo build --release\nif [ $x < 3 ]; then echo &amp; ; fi\ndone",
            ),
            (
                "expand title and body kept",
                "<ac:structured-macro ac:name=\"expand\"><ac:parameter ac:name=\"title\">Show details</ac:parameter><ac:rich-text-body><p>Hidden <b>text</b></p></ac:rich-text-body></ac:structured-macro>",
                "Show details\nHidden text",
            ),
            (
                "info panel body kept, icon parameter dropped",
                "<ac:structured-macro ac:name=\"info\"><ac:parameter ac:name=\"icon\">false</ac:parameter><ac:rich-text-body><p>Heads up</p></ac:rich-text-body></ac:structured-macro>",
                "Heads up",
            ),
            (
                "settings-only macros vanish",
                "<p>a</p><ac:structured-macro ac:name=\"toc\"><ac:parameter ac:name=\"maxLevel\">3</ac:parameter></ac:structured-macro><ac:structured-macro ac:name=\"jira\"><ac:parameter ac:name=\"key\">PROJ-1</ac:parameter><ac:parameter ac:name=\"title\">not shown</ac:parameter></ac:structured-macro><p>b</p>",
                "a\nb",
            ),
            (
                "known mention becomes display name",
                "<p>Ask <ac:link><ri:user ri:account-id=\"557058:alice\" /></ac:link> or <ac:link><ri:user ri:account-id=\"712020:bob\"/></ac:link>.</p>",
                "Ask Alice Martin or Bob Chen.",
            ),
            ("unknown mention is dropped", "<p>cc <ac:link><ri:user ri:account-id=\"999:ghost\" /></ac:link> thanks</p>", "cc thanks"),
            (
                "link body wins over target",
                "<ac:link><ri:page ri:content-title=\"Runbook\" /><ac:plain-text-link-body><![CDATA[the runbook]]></ac:plain-text-link-body></ac:link>",
                "the runbook",
            ),
            ("page link without body shows title", "<p>See <ac:link><ri:page ri:content-title=\"Release &amp; Deploy\" /></ac:link></p>", "See Release & Deploy"),
            (
                "empty body falls back to target",
                "<ac:link><ri:attachment ri:filename=\"spec.pdf\"/><ac:plain-text-link-body><![CDATA[]]></ac:plain-text-link-body></ac:link>",
                "spec.pdf",
            ),
            ("rich link body", "<ac:link><ri:page ri:content-title=\"X\"/><ac:link-body>rich <b>text</b></ac:link-body></ac:link>", "rich text"),
            ("html link text", "<p><a href=\"https://example.com\">Example site</a></p>", "Example site"),
            ("image identifiers are not text", "<ac:image ac:alt=\"x\"><ri:attachment ri:filename=\"diagram.png\" /></ac:image><p>text</p>", "text"),
            (
                "entities HTML has and XML lacks",
                "<p>It&rsquo;s&nbsp;done &mdash; 5&nbsp;&euro; &amp; &lt;ok&gt; &#169; &hellip;</p>",
                "It\u{2019}s done \u{2014} 5 \u{20ac} & <ok> \u{a9} \u{2026}",
            ),
            ("unknown entity kept literally", "<p>R&D &bogus; ok</p>", "R&D &bogus; ok"),
            ("unrooted fragment with top-level text", "intro <p>para</p> tail", "intro\npara\ntail"),
            ("tasks keep bodies, drop ids and status", "<ac:task-list><ac:task><ac:task-id>1</ac:task-id><ac:task-status>incomplete</ac:task-status><ac:task-body>Write tests</ac:task-body></ac:task><ac:task><ac:task-id>2</ac:task-id><ac:task-status>complete</ac:task-status><ac:task-body>Ship</ac:task-body></ac:task></ac:task-list>", "Write tests\nShip"),
            ("time element", "<p>Due <time datetime=\"2024-03-01\" /></p>", "Due 2024-03-01"),
            ("emoticon shortname", "<p>great <ac:emoticon ac:name=\"smile\" ac:emoji-shortname=\":slight_smile:\" ac:emoji-id=\"1f642\" /></p>", "great :slight_smile:"),
            ("placeholder dropped", "<p><ac:placeholder>Type here</ac:placeholder>Real</p>", "Real"),
            (
                "adf extension content once",
                "<ac:adf-extension><ac:adf-node type=\"panel\"><ac:adf-attribute key=\"panel-type\">note</ac:adf-attribute><ac:adf-content><p>Panel text</p></ac:adf-content></ac:adf-node><ac:adf-fallback><div class=\"panel\"><p>Panel text</p></div></ac:adf-fallback></ac:adf-extension>",
                "Panel text",
            ),
            ("layouts", "<ac:layout><ac:layout-section ac:type=\"two_equal\"><ac:layout-cell><p>left</p></ac:layout-cell><ac:layout-cell><p>right</p></ac:layout-cell></ac:layout-section></ac:layout>", "left\nright"),
            ("br and hr", "<p>a<br/>b<br>c</p><hr/><p>d</p>", "a\nb\nc\nd"),
            ("unclosed elements at the end", "<p>one<p>two<b>bold</p><ac:link><ri:page ri:content-title=\"Open link\"/>", "one\ntwobold\nOpen link"),
            ("stray end tags ignored", "<p>a</b></i></p><p>b</p>", "a\nb"),
            ("mismatched nesting", "<p><b>x</p>y</b>", "x\ny"),
            ("empty", "", ""),
            ("whitespace only", " \n\t ", ""),
            ("malformed tag falls back to stripping", "<p>kept</p><p a=\"unterminated>", "kept"),
            ("lone less-than falls back", "<p>1 < 2</p><p>next</p>", "1 < 2\nnext"),
            ("script dropped", "<p>x</p><script>alert('no')</script>", "x"),
        ];
        for (name, input, expected) in cases {
            assert_eq!(storage_to_text(input, &directory), expected, "case {name}");
        }
    }

    #[test]
    fn real_capture_from_fixtures() {
        // Shape of a body captured from Confluence Cloud (meeting notes template, see atlassian fixtures).
        let body = "<h2><ac:emoticon ac:name=\"blue-star\" />&nbsp;Date</h2><p><time datetime=\"2024-01-01\" /></p><h2><ac:emoticon ac:name=\"blue-star\" />&nbsp;Participants</h2><ul><li><p><ac:link><ri:user ri:account-id=\"557058:alice\" /></ac:link></p></li></ul><h2><ac:emoticon ac:name=\"blue-star\" />&nbsp;Goals</h2><ul><li><p>Example goal</p></li></ul><p><ac:structured-macro ac:name=\"profile\"><ac:parameter ac:name=\"user\"><ri:user ri:account-id=\"557058:alice\" /></ac:parameter></ac:structured-macro></p>";
        assert_eq!(
            storage_to_text(body, &directory),
            "Date\n2024-01-01\nParticipants\nAlice Martin\nGoals\nExample goal"
        );
        assert_eq!(
            storage_to_text(body, &NoUserNames),
            "Date\n2024-01-01\nParticipants\nGoals\nExample goal"
        );
    }

    #[test]
    fn hostile_nesting_does_not_overflow() {
        let depth = 200_000;
        let body = format!("{}deep{}", "<div><span>".repeat(depth), "</span></div>".repeat(depth));
        assert_eq!(storage_to_text(&body, &NoUserNames), "deep");
        let unclosed =
            format!("{}x", "<ac:structured-macro ac:name=\"expand\"><ac:rich-text-body>".repeat(depth));
        assert_eq!(storage_to_text(&unclosed, &NoUserNames), "x");
    }

    proptest::proptest! {
        #[test]
        fn never_panics_on_arbitrary_input(input in ".{0,300}") {
            let _ = storage_to_text(&input, &NoUserNames);
        }

        #[test]
        fn never_panics_on_tag_soup(parts in proptest::collection::vec(
            proptest::sample::select(vec!["<p>", "</p>", "<ac:link>", "</ac:link>", "<ri:user ri:account-id=\"557058:alice\"/>",
                "<![CDATA[x]]>", "<ac:plain-text-body>", "</ac:plain-text-body>", "&nbsp;", "&", "<", ">", "text", " ",
                "<td>", "</td>", "<ac:parameter ac:name=\"title\">", "</ac:parameter>", "<br>", "</br>", "<!--", "-->"]),
            0..60,
        )) {
            let _ = storage_to_text(&parts.concat(), &directory);
        }
    }
}

//! Atlassian Document Format (the JSON tree Jira v3 uses for descriptions and comments, and Confluence for
//! `atlas_doc_format` bodies) to clean text.
//!
//! Kept: text nodes, hard breaks, mentions (`attrs.text`), emoji (`attrs.shortName`), inline/block/embed
//! cards (`attrs.url`), statuses, dates (`attrs.timestamp` as yyyy-mm-dd, UTC), code blocks verbatim, tables
//! (cells tab-separated, rows on lines), lists, panels, expands with their titles, headings, blockquotes,
//! media alt text. Unknown node types are walked into, so new node kinds still yield their text.
//! Dropped: marks, extension parameters, placeholders.
//!
//! The walk uses an explicit stack, never recursion: a hostile document nested a million levels deep
//! costs memory proportional to its size and cannot overflow the stack. This is not a validator: it
//! reads whatever tree it is given.

use serde_json::Value;

use super::text::{Gap, TextSink};

/// Converts an ADF document (or any ADF node) to text.
pub fn adf_to_text(doc: &Value) -> String {
    let mut walker = Walker { sink: TextSink::new(), cells: 0 };
    let mut stack = vec![Step::Enter(doc)];
    while let Some(step) = stack.pop() {
        match step {
            Step::Enter(node) => walker.enter(node, &mut stack),
            Step::Leave(leave) => walker.leave(leave),
        }
    }
    walker.sink.finish()
}

enum Step<'a> {
    Enter(&'a Value),
    Leave(Leave),
}

#[derive(Clone, Copy)]
enum Leave {
    Block,
    Cell,
}

struct Walker {
    sink: TextSink,
    cells: usize,
}

/// Node types that stand on lines of their own.
const BLOCKS: &[&str] = &[
    "doc",
    "paragraph",
    "heading",
    "blockquote",
    "bulletList",
    "orderedList",
    "listItem",
    "panel",
    "table",
    "tableRow",
    "rule",
    "decisionList",
    "decisionItem",
    "taskList",
    "taskItem",
    "layoutSection",
    "layoutColumn",
    "bodiedExtension",
    "mediaSingle",
    "mediaGroup",
    "blockCard",
    "embedCard",
    "expand",
    "nestedExpand",
    "multiBodiedExtension",
    "extensionFrame",
];

fn attr<'a>(node: &'a Value, key: &str) -> Option<&'a str> {
    node.get("attrs")?.get(key)?.as_str().filter(|s| !s.trim().is_empty())
}

/// `attrs.timestamp` is milliseconds since the epoch, as a string (the spec) or a number (seen in the wild).
fn date_of(node: &Value) -> Option<String> {
    let timestamp = node.get("attrs")?.get("timestamp")?;
    let millis = match timestamp {
        Value::String(s) => s.trim().parse::<i64>().ok()?,
        Value::Number(n) => n.as_i64()?,
        _ => return None,
    };
    let date = chrono::DateTime::from_timestamp_millis(millis)?;
    Some(date.format("%Y-%m-%d").to_string())
}

impl Walker {
    fn block_gap(&self) -> Gap {
        if self.cells > 0 {
            Gap::Space
        } else {
            Gap::Line
        }
    }

    fn enter<'a>(&mut self, node: &'a Value, stack: &mut Vec<Step<'a>>) {
        let kind = node.get("type").and_then(Value::as_str).unwrap_or("");
        match kind {
            "text" => {
                if let Some(text) = node.get("text").and_then(Value::as_str) {
                    self.sink.text(text);
                }
                return;
            }
            "hardBreak" => {
                self.sink.gap(self.block_gap());
                return;
            }
            "mention" | "status" => {
                if let Some(text) = attr(node, "text") {
                    self.sink.text(text);
                }
                return;
            }
            "emoji" => {
                if let Some(text) = attr(node, "shortName").or_else(|| attr(node, "text")) {
                    self.sink.text(text);
                }
                return;
            }
            "date" => {
                if let Some(date) = date_of(node) {
                    self.sink.text(&date);
                }
                return;
            }
            "inlineCard" => {
                if let Some(url) = attr(node, "url") {
                    self.sink.text(url);
                }
                return;
            }
            "media" | "mediaInline" => {
                if let Some(alt) = attr(node, "alt") {
                    self.sink.text(alt);
                }
                return;
            }
            "codeBlock" => {
                let code: String =
                    children(node).filter_map(|child| child.get("text").and_then(Value::as_str)).collect();
                self.sink.gap(self.block_gap());
                self.sink.verbatim(&code);
                self.sink.gap(self.block_gap());
                return;
            }
            "placeholder" | "extension" | "inlineExtension" => return,
            "tableCell" | "tableHeader" => {
                self.sink.gap(Gap::Cell);
                self.cells += 1;
                stack.push(Step::Leave(Leave::Cell));
            }
            _ if BLOCKS.contains(&kind) => {
                self.sink.gap(self.block_gap());
                stack.push(Step::Leave(Leave::Block));
            }
            _ => {}
        }
        match kind {
            "blockCard" | "embedCard" => {
                if let Some(url) = attr(node, "url") {
                    self.sink.text(url);
                }
            }
            "expand" | "nestedExpand" => {
                if let Some(title) = attr(node, "title") {
                    self.sink.text(title);
                    self.sink.gap(self.block_gap());
                }
            }
            _ => {}
        }
        let first_child_on_top = stack.len();
        stack.extend(children(node).map(Step::Enter));
        stack[first_child_on_top..].reverse();
    }

    fn leave(&mut self, leave: Leave) {
        match leave {
            Leave::Block => self.sink.gap(self.block_gap()),
            Leave::Cell => {
                self.cells -= 1;
                self.sink.gap(Gap::Cell);
            }
        }
    }
}

fn children(node: &Value) -> impl Iterator<Item = &Value> {
    node.get("content").and_then(Value::as_array).into_iter().flatten()
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn text(t: &str) -> Value {
        json!({"type": "text", "text": t})
    }

    fn para(content: Vec<Value>) -> Value {
        json!({"type": "paragraph", "content": content})
    }

    fn doc(content: Vec<Value>) -> Value {
        json!({"type": "doc", "version": 1, "content": content})
    }

    #[test]
    fn node_types() {
        let cases: Vec<(&str, Value, &str)> = vec![
            (
                "text and marks",
                doc(vec![para(vec![
                    text("plain "),
                    json!({"type":"text","text":"bold","marks":[{"type":"strong"}]}),
                ])]),
                "plain bold",
            ),
            (
                "hardBreak",
                doc(vec![para(vec![text("line one"), json!({"type":"hardBreak"}), text("line two")])]),
                "line one\nline two",
            ),
            (
                "mention",
                doc(vec![para(vec![
                    text("ping "),
                    json!({"type":"mention","attrs":{"id":"557058:abc","text":"@Alice Martin","accessLevel":""}}),
                ])]),
                "ping @Alice Martin",
            ),
            (
                "mention without text drops the id",
                doc(vec![para(vec![json!({"type":"mention","attrs":{"id":"557058:abc"}}), text("x")])]),
                "x",
            ),
            (
                "emoji shortName",
                doc(vec![para(vec![
                    text("nice"),
                    json!({"type":"emoji","attrs":{"shortName":":grinning:","id":"1f600","text":"😀"}}),
                ])]),
                "nice:grinning:",
            ),
            (
                "emoji text fallback",
                doc(vec![para(vec![json!({"type":"emoji","attrs":{"text":"😀"}})])]),
                "😀",
            ),
            (
                "inlineCard",
                doc(vec![para(vec![
                    text("see "),
                    json!({"type":"inlineCard","attrs":{"url":"https://example.com/a"}}),
                ])]),
                "see https://example.com/a",
            ),
            (
                "blockCard and embedCard",
                doc(vec![
                    json!({"type":"blockCard","attrs":{"url":"https://example.com/b"}}),
                    json!({"type":"embedCard","attrs":{"url":"https://example.com/c","layout":"wide"}}),
                ]),
                "https://example.com/b\nhttps://example.com/c",
            ),
            (
                "status",
                doc(vec![para(vec![
                    text("state: "),
                    json!({"type":"status","attrs":{"text":"In progress","color":"blue"}}),
                ])]),
                "state: In progress",
            ),
            (
                "date string millis",
                doc(vec![para(vec![
                    text("due "),
                    json!({"type":"date","attrs":{"timestamp":"1582152559000"}}),
                ])]),
                "due 2020-02-19",
            ),
            (
                "date numeric millis",
                doc(vec![para(vec![json!({"type":"date","attrs":{"timestamp":0}})])]),
                "1970-01-01",
            ),
            (
                "date garbage",
                doc(vec![para(vec![json!({"type":"date","attrs":{"timestamp":"soon"}}), text("x")])]),
                "x",
            ),
            (
                "codeBlock verbatim",
                doc(vec![
                    para(vec![text("run")]),
                    json!({"type":"codeBlock","attrs":{"language":"rust"},"content":[text("fn main() {\n    go();\n}")]}),
                    para(vec![text("end")]),
                ]),
                "run\nfn main() {\n    go();\n}\nend",
            ),
            (
                "table",
                doc(vec![
                    json!({"type":"table","content":[
                        {"type":"tableRow","content":[{"type":"tableHeader","content":[para(vec![text("Key")])]},{"type":"tableHeader","content":[para(vec![text("Value")])]}]},
                        {"type":"tableRow","content":[{"type":"tableCell","content":[para(vec![text("a")]), para(vec![text("b")])]},{"type":"tableCell","content":[para(vec![text("1")])]}]}
                    ]}),
                    para(vec![text("after")]),
                ]),
                "Key\tValue\na b\t1\nafter",
            ),
            (
                "bullet and ordered lists",
                doc(vec![
                    json!({"type":"bulletList","content":[{"type":"listItem","content":[para(vec![text("one")])]},{"type":"listItem","content":[para(vec![text("two")]),{"type":"orderedList","attrs":{"order":1},"content":[{"type":"listItem","content":[para(vec![text("two.1")])]}]}]}]}),
                ]),
                "one\ntwo\ntwo.1",
            ),
            (
                "panel",
                doc(vec![
                    json!({"type":"panel","attrs":{"panelType":"info"},"content":[para(vec![text("Note this")])]}),
                    para(vec![text("x")]),
                ]),
                "Note this\nx",
            ),
            (
                "expand and nestedExpand titles",
                doc(vec![
                    json!({"type":"expand","attrs":{"title":"More"},"content":[para(vec![text("inside")]),{"type":"nestedExpand","attrs":{"title":"Deeper"},"content":[para(vec![text("deepest")])]}]}),
                ]),
                "More\ninside\nDeeper\ndeepest",
            ),
            (
                "heading",
                doc(vec![
                    json!({"type":"heading","attrs":{"level":2},"content":[text("Title")]}),
                    para(vec![text("body")]),
                ]),
                "Title\nbody",
            ),
            (
                "blockquote",
                doc(vec![
                    json!({"type":"blockquote","content":[para(vec![text("quoted")])]}),
                    para(vec![text("reply")]),
                ]),
                "quoted\nreply",
            ),
            (
                "rule",
                doc(vec![para(vec![text("above")]), json!({"type":"rule"}), para(vec![text("below")])]),
                "above\nbelow",
            ),
            (
                "media alt",
                doc(vec![
                    json!({"type":"mediaSingle","content":[{"type":"media","attrs":{"id":"x","type":"file","collection":"c","alt":"diagram.png"}}]}),
                ]),
                "diagram.png",
            ),
            (
                "unknown nodes are walked into",
                doc(vec![
                    json!({"type":"someFutureNode","attrs":{"x":1},"content":[para(vec![text("still here")])]}),
                ]),
                "still here",
            ),
            (
                "extension parameters dropped",
                doc(vec![
                    json!({"type":"extension","attrs":{"extensionKey":"toc","parameters":{"x":"secret"}}}),
                    para(vec![text("y")]),
                ]),
                "y",
            ),
            (
                "tasks and decisions",
                doc(vec![
                    json!({"type":"taskList","content":[{"type":"taskItem","attrs":{"state":"TODO"},"content":[text("do it")]}]}),
                    json!({"type":"decisionList","content":[{"type":"decisionItem","content":[text("decided")]}]}),
                ]),
                "do it\ndecided",
            ),
            ("not an object", json!("just a string"), ""),
            ("content not an array", json!({"type":"doc","content":{"type":"text","text":"x"}}), ""),
            ("empty doc", doc(vec![]), ""),
        ];
        for (name, input, expected) in cases {
            assert_eq!(adf_to_text(&input), expected, "case {name}");
        }
    }

    #[test]
    fn jira_fixture_description() {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../shared/atlassian/fixtures/jira/issue_GET.json");
        let issue: Value = serde_json::from_str(&std::fs::read_to_string(path).expect("fixture readable"))
            .expect("fixture parses");
        let description = &issue["fields"]["description"];
        assert_eq!(adf_to_text(description), "Main order flow broken");
    }

    #[test]
    fn hostile_nesting_does_not_overflow() {
        let depth = 200_000;
        let mut node = para(vec![text("bottom")]);
        for _ in 0..depth {
            // Built by hand: `json!` would serialise the inner value recursively.
            let mut quote = serde_json::Map::new();
            quote.insert("type".to_owned(), Value::from("blockquote"));
            quote.insert("content".to_owned(), Value::Array(vec![node]));
            node = Value::Object(quote);
        }
        assert_eq!(adf_to_text(&node), "bottom");
        dismantle(node);
    }

    /// Drops a deep tree one level at a time: serde_json's own drop recurses and would overflow the stack.
    fn dismantle(mut node: Value) {
        loop {
            let next =
                node.get_mut("content").and_then(Value::as_array_mut).and_then(|content| content.pop());
            match next {
                Some(child) => node = child,
                None => break,
            }
        }
    }
}

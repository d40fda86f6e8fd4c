//! Text worth searching: titles, Confluence storage bodies, Jira ADF documents and attachment contents,
//! written from a department's vocabulary (see `topics.rs`).
//!
//! Everything here is a pure function of a random number generator and its arguments, so the same seed
//! writes the same words. Storage bodies use real Confluence markup (headings, code and panel macros,
//! tables, user mentions, page links, entities); ADF documents use the node types Jira serves
//! (paragraph, mention, codeBlock, table, lists, panel, emoji, inlineCard, status, date). This module
//! does not decide where text goes or who may read it.

use rand::Rng;
use serde_json::{json, Value};

use super::topics::Topic;
use crate::sim::model::{FileKind, IssueType, Millis};

/// Someone text can mention: account id for markup, display name for prose.
#[derive(Debug, Clone, Copy)]
pub struct Mention<'a> {
    pub account_id: &'a str,
    pub display_name: &'a str,
}

/// The first instant generated content may carry: 2024-01-01T00:00:00Z.
pub const START: Millis = 1_704_067_200_000;
/// The last instant generated content may carry: 2026-06-01T00:00:00Z.
pub const END: Millis = 1_780_272_000_000;

const MONTHS: &[&str] = &[
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
];
const INTERVALS: &[&str] = &["week", "sprint", "month", "quarter", "ninety days", "release"];

/// Sentences any department writes, with slots for its vocabulary.
const SENTENCES: &[&str] = &[
    "The {system} is owned by the {team}, who answer questions in {channel}.",
    "{action} {object} takes about {n} minutes and needs a second pair of eyes from the {team}.",
    "We saw {problem} in the {system} after the last release, which pushed {metric} above the agreed threshold.",
    "Before {action} {object}, check the {metric} dashboard and make sure nobody else is mid-change.",
    "The {system} depends on {object}, so any change there is reviewed by two people.",
    "Our target for {metric} this quarter is {pct}%, up from {pct2}% last quarter.",
    "If you spot {problem}, open a ticket in {project} and link it from this page.",
    "This page replaces the older notes on {object}; the history is kept in the archive.",
    "{action} {object} used to be manual; since {month} {year} the {system} does most of it.",
    "Ask the {team} before touching {object}: several downstream jobs read it directly.",
    "The main risk is {problem}, which we reduce by {action} {object} every {interval}.",
    "Questions about {object} come up during onboarding, so keep this section short and current.",
    "Numbers below come from the {system} and were last refreshed on {date}.",
    "We agreed to revisit {object} at the next planning session, together with {metric}.",
    "During the incident on {date}, {problem} affected the {system} for {n} minutes.",
    "The {team} reviews {metric} every {interval} and publishes the results here.",
    "Access to the {system} is granted per request; include the reason and the ticket number.",
    "For background on {object}, see the architecture overview and the decision log.",
    "The cost of {action} {object} is small compared with the cost of {problem}.",
    "Next steps: finish {action} {object}, then watch {metric} for two weeks.",
    "Most {problem} we investigated traced back to {object} that nobody owned.",
    "The {system} keeps an audit trail, so every change to {object} can be traced to a person.",
    "Automating {object} in the {system} saved the {team} roughly {n} hours a month.",
    "When {metric} drops below {pct}%, the {team} is paged and this runbook applies.",
];

const HEADINGS: &[&str] = &[
    "Overview",
    "Background",
    "Context",
    "Details",
    "Steps",
    "Risks",
    "Open questions",
    "Next steps",
    "Rollback",
    "Decision",
    "Results",
    "Contacts",
    "Prerequisites",
    "Known issues",
];

/// Page titles, each with the label it earns.
const PAGE_TITLES: &[(&str, &str)] = &[
    ("Runbook: {action} {object} for the {system}", "runbook"),
    ("{System} on-call handbook", "on-call"),
    ("Postmortem: {problem} in the {system} ({month} {year})", "postmortem"),
    ("Design doc: {object} in the {system}", "design"),
    ("ADR-{num}: {action} {object}", "adr"),
    ("{quarter} {year} hiring plan for the {team}", "planning"),
    ("{quarter} {year} roadmap for the {system}", "roadmap"),
    ("Meeting notes {date}: {object}", "meeting-notes"),
    ("How-to: {action} {object}", "how-to"),
    ("FAQ: {object} and the {system}", "faq"),
    ("Troubleshooting {problem} in the {system}", "troubleshooting"),
    ("Architecture overview: {system}", "architecture"),
    ("Checklist for {action} {object}", "checklist"),
    ("Proposal: {action} {object} across the {team}", "proposal"),
    ("{Metric} review for {month} {year}", "report"),
    ("Retrospective: {action} {object}", "retrospective"),
    ("Onboarding guide: the {system} for new joiners", "onboarding"),
    ("Decision log: {object}", "decision"),
    ("Status report: {system}, week {week} of {year}", "status"),
    ("Policy: {object}", "policy"),
];

const BLOG_TITLES: &[&str] = &[
    "What we learned from {action} {object}",
    "{Team} update for {month} {year}",
    "Announcing the new {system}",
    "A short guide to {object}",
    "Why {metric} matters more than you think",
    "Farewell to the old {system}",
    "{quarter} {year} highlights from the {team}",
    "How the {team} cut {problem} in half",
];

const EPIC_SUMMARIES: &[&str] =
    &["{Action} {object}", "{System} improvements for {quarter} {year}", "Reduce {problem} in the {system}"];
const STORY_SUMMARIES: &[&str] = &[
    "Support {object} in the {system}",
    "Show {metric} on the {system} dashboard",
    "As an operator I want {action} {object} to be self-service",
    "Let the {team} manage {object} without a ticket",
];
const TASK_SUMMARIES: &[&str] = &[
    "Update the runbook for {action} {object}",
    "Schedule {action} {object} in {month}",
    "Review {object} access for the {team}",
    "Clean up {object} left over from the {system} migration",
];
const BUG_SUMMARIES: &[&str] = &[
    "{System}: {problem} after {action} {object}",
    "{Problem} when {action} {object} in the {system}",
    "{Metric} regression in the {system}",
    "{System} reports wrong {metric} for some {object}",
];
const SUBTASK_SUMMARIES: &[&str] = &[
    "Write tests for {object}",
    "Document {action} {object}",
    "Deploy the {system} change to staging",
    "Verify {metric} after the rollout",
    "Pair review of {object}",
];

const COMMENT_SENTENCES: &[&str] = &[
    "Thanks, this matches what we saw in the {system} last week.",
    "Could we add a section on {object}? New joiners keep asking about it.",
    "I tried {action} {object} on staging and it worked as described.",
    "Is this still accurate after the {system} upgrade in {month}?",
    "We should link the {problem} postmortem here.",
    "Updated the numbers: {metric} is now {pct}%.",
    "+1, the {team} agreed on this in the last review.",
    "Looks good to me. One nit: the step about {object} needs the ticket number.",
    "Reproduced on my side; {problem} shows up roughly every {n} runs.",
    "Fixed in the latest build, please verify and close.",
];

const EMOJI: &[(&str, &str, &str)] = &[
    (":white_check_mark:", "2705", "\u{2705}"),
    (":warning:", "26a0", "\u{26a0}\u{fe0f}"),
    (":thumbsup:", "1f44d", "\u{1f44d}"),
    (":rocket:", "1f680", "\u{1f680}"),
    (":eyes:", "1f440", "\u{1f440}"),
];

const STATUSES: &[(&str, &str)] =
    &[("IN PROGRESS", "blue"), ("BLOCKED", "red"), ("DONE", "green"), ("NEEDS REVIEW", "yellow")];

/// Picks one element. Every vocabulary list is non-empty (checked by the topics tests), so indexing is safe.
pub fn pick<'t, T, R: Rng>(rng: &mut R, items: &'t [T]) -> &'t T {
    &items[rng.gen_range(0..items.len())]
}

/// Picks one word of a vocabulary list.
pub fn word<R: Rng>(rng: &mut R, words: &[&'static str]) -> &'static str {
    words[rng.gen_range(0..words.len())]
}

/// `2025-03-14` for a time stamp.
pub fn iso_date(at: Millis) -> String {
    chrono::DateTime::from_timestamp_millis(at).map(|d| d.format("%Y-%m-%d").to_string()).unwrap_or_default()
}

fn capitalise(text: &str) -> String {
    let mut chars = text.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}

/// A lowercase, dash-separated file name stem.
pub fn slug(text: &str) -> String {
    let mut out = String::new();
    for c in text.chars() {
        if c.is_ascii_alphanumeric() {
            out.push(c.to_ascii_lowercase());
        } else if !out.ends_with('-') && !out.is_empty() {
            out.push('-');
        }
    }
    while out.ends_with('-') {
        out.pop();
    }
    out
}

/// Fills `{slot}`s of a template from the topic; a slot written with a capital (`{System}`) is capitalised.
pub fn fill<R: Rng>(rng: &mut R, topic: &Topic, template: &str) -> String {
    let mut out = String::with_capacity(template.len() + 32);
    let mut rest = template;
    while let Some(open) = rest.find('{') {
        out.push_str(&rest[..open]);
        let Some(close) = rest[open..].find('}') else {
            out.push_str(&rest[open..]);
            return out;
        };
        let slot = &rest[open + 1..open + close];
        let value: String = match slot.to_ascii_lowercase().as_str() {
            "system" => pick(rng, topic.systems).to_string(),
            "object" => pick(rng, topic.objects).to_string(),
            "action" => pick(rng, topic.actions).to_string(),
            "problem" => pick(rng, topic.problems).to_string(),
            "metric" => pick(rng, topic.metrics).to_string(),
            "team" => topic.team.to_string(),
            "channel" => topic.channel.to_string(),
            "project" => topic.projects[0].0.to_string(),
            "interval" => pick(rng, INTERVALS).to_string(),
            "month" => pick(rng, MONTHS).to_string(),
            "year" => rng.gen_range(2024..=2026).to_string(),
            "quarter" => format!("Q{}", rng.gen_range(1..=4)),
            "week" => rng.gen_range(1..=52).to_string(),
            "num" => format!("{:03}", rng.gen_range(1..=240)),
            "n" => rng.gen_range(5..=90).to_string(),
            "pct" => rng.gen_range(60..=99).to_string(),
            "pct2" => rng.gen_range(40..=95).to_string(),
            "date" => iso_date(rng.gen_range(START..END)),
            _ => slot.to_string(),
        };
        if slot.starts_with(|c: char| c.is_ascii_uppercase()) {
            out.push_str(&capitalise(&value));
        } else {
            out.push_str(&value);
        }
        rest = &rest[open + close + 1..];
    }
    out.push_str(rest);
    out
}

/// One sentence: mostly a filled template, sometimes one of the department's own facts.
pub fn sentence<R: Rng>(rng: &mut R, topic: &Topic) -> String {
    if rng.gen_bool(0.3) {
        pick(rng, topic.facts).to_string()
    } else {
        {
            let template = *pick(rng, SENTENCES);
            capitalise(&fill(rng, topic, template))
        }
    }
}

/// A paragraph of `min..=max` sentences.
pub fn paragraph<R: Rng>(rng: &mut R, topic: &Topic, min: usize, max: usize) -> String {
    let n = rng.gen_range(min..=max);
    let mut out = String::new();
    for i in 0..n {
        if i > 0 {
            out.push(' ');
        }
        out.push_str(&sentence(rng, topic));
    }
    out
}

/// A page title and the label its kind earns.
pub fn page_title<R: Rng>(rng: &mut R, topic: &Topic) -> (String, &'static str) {
    let (template, label) = *pick(rng, PAGE_TITLES);
    (capitalise(&fill(rng, topic, template)), label)
}

pub fn blog_title<R: Rng>(rng: &mut R, topic: &Topic) -> String {
    {
        let template = *pick(rng, BLOG_TITLES);
        capitalise(&fill(rng, topic, template))
    }
}

pub fn issue_summary<R: Rng>(rng: &mut R, topic: &Topic, kind: IssueType) -> String {
    let templates = match kind {
        IssueType::Epic => EPIC_SUMMARIES,
        IssueType::Story => STORY_SUMMARIES,
        IssueType::Task => TASK_SUMMARIES,
        IssueType::Bug => BUG_SUMMARIES,
        IssueType::Subtask => SUBTASK_SUMMARIES,
    };
    {
        let template = *pick(rng, templates);
        capitalise(&fill(rng, topic, template))
    }
}

/// A sentence a reviewer or teammate leaves in a comment.
pub fn comment_sentence<R: Rng>(rng: &mut R, topic: &Topic) -> String {
    {
        let template = *pick(rng, COMMENT_SENTENCES);
        capitalise(&fill(rng, topic, template))
    }
}

// ---------------------------------------------------------------------------------------------------------
// Confluence storage format

/// Escapes text for storage XHTML, writing `&` as `&amp;` and so on (quick-xml's escaper, the one the
/// codebase uses).
pub fn xml_escape(text: &str) -> String {
    quick_xml::escape::escape(text).into_owned()
}

fn storage_mention(out: &mut String, who: &Mention) {
    out.push_str("<ac:link><ri:user ri:account-id=\"");
    out.push_str(&xml_escape(who.account_id));
    out.push_str("\" /></ac:link>");
}

fn macro_id<R: Rng>(rng: &mut R) -> String {
    format!(
        "{:08x}-{:04x}-4{:03x}-a{:03x}-{:012x}",
        rng.gen::<u32>(),
        rng.gen::<u16>(),
        rng.gen_range(0..0x1000),
        rng.gen_range(0..0x1000),
        rng.gen::<u64>() & 0xffff_ffff_ffff
    )
}

/// What a page body may refer to besides its own words.
pub struct PageContext<'a> {
    pub topic: &'a Topic,
    /// People of the department, for owners and mentions; never empty.
    pub people: &'a [Mention<'a>],
    /// Titles of pages in the same space, for page links.
    pub related_titles: &'a [String],
    pub site_name: &'a str,
}

/// A storage-format page or blog body: paragraphs under headings, and a selection of macros, a table,
/// mentions and links.
pub fn storage_page_body<R: Rng>(rng: &mut R, ctx: &PageContext) -> String {
    let topic = ctx.topic;
    let mut out = String::with_capacity(3_000);
    out.push_str("<p>");
    out.push_str(&xml_escape(&paragraph(rng, topic, 2, 4)));
    out.push_str("</p>");
    if rng.gen_bool(0.3) {
        let kind = if rng.gen_bool(0.7) { "info" } else { "note" };
        out.push_str(&format!(
            "<ac:structured-macro ac:name=\"{kind}\" ac:schema-version=\"1\" ac:macro-id=\"{}\"><ac:rich-text-body><p>",
            macro_id(rng)
        ));
        out.push_str(&xml_escape(&sentence(rng, topic)));
        out.push_str("</p></ac:rich-text-body></ac:structured-macro>");
    }
    let sections = rng.gen_range(1..=3);
    for _ in 0..sections {
        out.push_str("<h2>");
        out.push_str(word(rng, HEADINGS));
        out.push_str("</h2><p>");
        out.push_str(&xml_escape(&paragraph(rng, topic, 2, 5)));
        out.push_str("</p>");
        match rng.gen_range(0..6) {
            0 => {
                out.push_str("<ol>");
                for _ in 0..rng.gen_range(3..=5) {
                    out.push_str("<li><p>");
                    out.push_str(&xml_escape(&capitalise(&fill(
                        rng,
                        topic,
                        "{action} {object} in the {system}.",
                    ))));
                    out.push_str("</p></li>");
                }
                out.push_str("</ol>");
            }
            1 => {
                let (language, code) = *pick(rng, topic.snippets);
                out.push_str(&format!(
                    "<ac:structured-macro ac:name=\"code\" ac:schema-version=\"1\" ac:macro-id=\"{}\">\
                     <ac:parameter ac:name=\"language\">{language}</ac:parameter>\
                     <ac:plain-text-body><![CDATA[{code}]]></ac:plain-text-body></ac:structured-macro>",
                    macro_id(rng)
                ));
            }
            2 => {
                let metric = *pick(rng, topic.metrics);
                out.push_str("<table><tbody><tr><th><p>System</p></th><th><p>Owner</p></th><th><p>");
                out.push_str(&xml_escape(&capitalise(metric)));
                out.push_str("</p></th></tr>");
                for _ in 0..rng.gen_range(2..=4) {
                    out.push_str("<tr><td><p>");
                    out.push_str(&xml_escape(word(rng, topic.systems)));
                    out.push_str("</p></td><td><p>");
                    storage_mention(&mut out, pick(rng, ctx.people));
                    out.push_str(&format!("</p></td><td><p>{}&nbsp;%</p></td></tr>", rng.gen_range(40..=99)));
                }
                out.push_str("</tbody></table>");
            }
            3 => {
                out.push_str("<ul>");
                for _ in 0..rng.gen_range(2..=4) {
                    out.push_str("<li>");
                    out.push_str(&xml_escape(&capitalise(word(rng, topic.objects))));
                    out.push_str(" &amp; ");
                    out.push_str(&xml_escape(word(rng, topic.problems)));
                    out.push_str("</li>");
                }
                out.push_str("</ul>");
            }
            _ => {}
        }
    }
    if rng.gen_bool(0.15) {
        out.push_str(&format!(
            "<ac:structured-macro ac:name=\"warning\" ac:schema-version=\"1\" ac:macro-id=\"{}\"><ac:rich-text-body><p>",
            macro_id(rng)
        ));
        out.push_str(&xml_escape(&capitalise(&fill(
            rng,
            topic,
            "Do not start {action} {object} during a release freeze.",
        ))));
        out.push_str("</p></ac:rich-text-body></ac:structured-macro>");
    }
    out.push_str("<p>Owner:&nbsp;");
    storage_mention(&mut out, pick(rng, ctx.people));
    if !ctx.related_titles.is_empty() && rng.gen_bool(0.6) {
        out.push_str(". See also <ac:link><ri:page ri:content-title=\"");
        out.push_str(&xml_escape(pick(rng, ctx.related_titles).as_str()));
        out.push_str("\" /></ac:link>");
    }
    if rng.gen_bool(0.4) {
        let system = *pick(rng, topic.systems);
        out.push_str(&format!(
            " and the <a href=\"https://{}.example.com/docs/{}\">{} documentation</a>",
            ctx.site_name,
            slug(system),
            xml_escape(system)
        ));
    }
    out.push_str(".</p>");
    out
}

/// A storage-format footer comment: a sentence or two, sometimes addressed to someone.
pub fn storage_comment_body<R: Rng>(rng: &mut R, topic: &Topic, people: &[Mention]) -> String {
    let mut out = String::from("<p>");
    if rng.gen_bool(0.3) {
        storage_mention(&mut out, pick(rng, people));
        out.push(' ');
    }
    out.push_str(&xml_escape(&comment_sentence(rng, topic)));
    if rng.gen_bool(0.4) {
        out.push(' ');
        out.push_str(&xml_escape(&sentence(rng, topic)));
    }
    out.push_str("</p>");
    out
}

// ---------------------------------------------------------------------------------------------------------
// Atlassian Document Format

fn text_node(text: &str) -> Value {
    json!({"type": "text", "text": text})
}

fn adf_paragraph(content: Vec<Value>) -> Value {
    json!({"type": "paragraph", "content": content})
}

fn adf_mention(who: &Mention) -> Value {
    json!({"type": "mention", "attrs": {"id": who.account_id, "text": format!("@{}", who.display_name), "accessLevel": ""}})
}

fn adf_doc(content: Vec<Value>) -> String {
    json!({"type": "doc", "version": 1, "content": content}).to_string()
}

fn local_id<R: Rng>(rng: &mut R) -> String {
    macro_id(rng)
}

/// A paragraph with inline extras: sometimes a mention, an emoji, a status lozenge, a date or a link card.
fn rich_paragraph<R: Rng>(rng: &mut R, topic: &Topic, people: &[Mention], site_name: &str) -> Value {
    let mut content = vec![text_node(&paragraph(rng, topic, 1, 3))];
    match rng.gen_range(0..6) {
        0 => {
            content.push(text_node(" Owner: "));
            content.push(adf_mention(pick(rng, people)));
        }
        1 => {
            let (short, id, text) = *pick(rng, EMOJI);
            content.push(text_node(" "));
            content.push(json!({"type": "emoji", "attrs": {"shortName": short, "id": id, "text": text}}));
        }
        2 => {
            let (text, color) = *pick(rng, STATUSES);
            content.push(text_node(" Status: "));
            content.push(
                json!({"type": "status", "attrs": {"text": text, "color": color, "localId": local_id(rng)}}),
            );
        }
        3 => {
            content.push(text_node(" Due "));
            content
                .push(json!({"type": "date", "attrs": {"timestamp": rng.gen_range(START..END).to_string()}}));
        }
        4 => {
            content.push(text_node(" See "));
            content.push(json!({"type": "inlineCard", "attrs": {"url": format!("https://{site_name}.example.com/docs/{}", slug(word(rng, topic.systems)))}}));
        }
        _ => {}
    }
    adf_paragraph(content)
}

fn adf_list<R: Rng>(rng: &mut R, topic: &Topic, ordered: bool) -> Value {
    let items: Vec<Value> = (0..rng.gen_range(2..=4))
        .map(|_| {
            let line = capitalise(&fill(rng, topic, "{action} {object} in the {system}"));
            json!({"type": "listItem", "content": [adf_paragraph(vec![text_node(&line)])]})
        })
        .collect();
    if ordered {
        json!({"type": "orderedList", "attrs": {"order": 1}, "content": items})
    } else {
        json!({"type": "bulletList", "content": items})
    }
}

fn adf_code<R: Rng>(rng: &mut R, topic: &Topic) -> Value {
    let (language, code) = *pick(rng, topic.snippets);
    json!({"type": "codeBlock", "attrs": {"language": language}, "content": [text_node(code)]})
}

fn adf_table<R: Rng>(rng: &mut R, topic: &Topic, people: &[Mention]) -> Value {
    let cell = |kind: &str, content: Value| json!({"type": kind, "attrs": {}, "content": [adf_paragraph(vec![content])]});
    let metric = capitalise(word(rng, topic.metrics));
    let mut rows = vec![json!({"type": "tableRow", "content": [
        cell("tableHeader", text_node("System")),
        cell("tableHeader", text_node("Owner")),
        cell("tableHeader", text_node(&metric)),
    ]})];
    for _ in 0..rng.gen_range(2..=3) {
        let system = *pick(rng, topic.systems);
        let owner = adf_mention(pick(rng, people));
        let value = format!("{}%", rng.gen_range(40..=99));
        rows.push(json!({"type": "tableRow", "content": [
            cell("tableCell", text_node(system)),
            cell("tableCell", owner),
            cell("tableCell", text_node(&value)),
        ]}));
    }
    json!({"type": "table", "attrs": {"isNumberColumnEnabled": false, "layout": "default"}, "content": rows})
}

/// An issue description as serialised ADF: paragraphs plus the blocks that kind of issue tends to carry.
pub fn adf_description<R: Rng>(
    rng: &mut R,
    topic: &Topic,
    kind: IssueType,
    people: &[Mention],
    site_name: &str,
) -> String {
    let mut content = vec![rich_paragraph(rng, topic, people, site_name)];
    match kind {
        IssueType::Bug => {
            content.push(json!({"type": "heading", "attrs": {"level": 3}, "content": [text_node("Steps to reproduce")]}));
            content.push(adf_list(rng, topic, true));
            if rng.gen_bool(0.5) {
                content.push(adf_code(rng, topic));
            }
            content.push(adf_paragraph(vec![text_node(&format!(
                "Expected: no {}.",
                pick(rng, topic.problems)
            ))]));
        }
        IssueType::Epic | IssueType::Story => {
            content.push(adf_list(rng, topic, false));
            if rng.gen_bool(0.3) {
                content.push(adf_table(rng, topic, people));
            }
        }
        IssueType::Task | IssueType::Subtask => {
            if rng.gen_bool(0.3) {
                content.push(adf_code(rng, topic));
            }
        }
    }
    if rng.gen_bool(0.25) {
        let panel_type = *pick(rng, &["info", "note", "warning", "success"]);
        content.push(json!({"type": "panel", "attrs": {"panelType": panel_type},
            "content": [adf_paragraph(vec![text_node(&sentence(rng, topic))])]}));
    }
    if rng.gen_bool(0.5) {
        content.push(rich_paragraph(rng, topic, people, site_name));
    }
    adf_doc(content)
}

/// An issue comment as serialised ADF.
pub fn adf_comment<R: Rng>(rng: &mut R, topic: &Topic, people: &[Mention], site_name: &str) -> String {
    let mut first = vec![];
    if rng.gen_bool(0.3) {
        first.push(adf_mention(pick(rng, people)));
        first.push(text_node(" "));
    }
    first.push(text_node(&comment_sentence(rng, topic)));
    let mut content = vec![adf_paragraph(first)];
    match rng.gen_range(0..5) {
        0 => content.push(adf_code(rng, topic)),
        1 => content.push(rich_paragraph(rng, topic, people, site_name)),
        _ => {}
    }
    adf_doc(content)
}

/// A document's text as serialised ADF, keeping its paragraphs (blank-line separated) and line breaks.
pub fn adf_from_plain_text(text: &str) -> String {
    let mut blocks = Vec::new();
    for para in text.split("\n\n").map(str::trim).filter(|p| !p.is_empty()) {
        let mut inline = Vec::new();
        for (i, line) in para.lines().enumerate() {
            if i > 0 {
                inline.push(json!({"type": "hardBreak"}));
            }
            if !line.is_empty() {
                inline.push(text_node(line));
            }
        }
        blocks.push(adf_paragraph(inline));
    }
    adf_doc(blocks)
}

// ---------------------------------------------------------------------------------------------------------
// Attachments

/// What an attachment carries: a file name (without uniqueness suffix) and its text.
pub fn attachment_text<R: Rng>(rng: &mut R, topic: &Topic, kind: FileKind, about: &str) -> (String, String) {
    let stem = {
        let s = slug(about);
        let cut = s.char_indices().filter(|(_, c)| *c == '-').nth(5).map_or(s.len(), |(i, _)| i);
        s[..cut].to_string()
    };
    match kind {
        FileKind::Pdf | FileKind::CorruptPdf => {
            // One PDF in six is long enough to span several pages.
            let paragraphs =
                if rng.gen_bool(1.0 / 6.0) { rng.gen_range(14..=24) } else { rng.gen_range(2..=5) };
            let mut text = format!("{about}\n\n");
            for _ in 0..paragraphs {
                text.push_str(&paragraph(rng, topic, 3, 6));
                text.push_str("\n\n");
            }
            (format!("{stem}.pdf"), text.trim_end().to_string())
        }
        FileKind::Docx => {
            let mut text = format!("{about}\n\n");
            for _ in 0..rng.gen_range(2..=4) {
                text.push_str(&paragraph(rng, topic, 2, 4));
                text.push_str("\n\n");
            }
            text.push_str("Action items\n");
            for _ in 0..rng.gen_range(2..=4) {
                text.push_str(&capitalise(&fill(rng, topic, "{action} {object} by {date}")));
                text.push('\n');
            }
            (format!("{stem}.docx"), text.trim_end().to_string())
        }
        FileKind::Xlsx | FileKind::Csv => {
            let metric = capitalise(word(rng, topic.metrics));
            let separator = if kind == FileKind::Xlsx { "\t" } else { "," };
            let mut text = ["Month", "System", &metric, "Target"].join(separator);
            text.push('\n');
            for _ in 0..rng.gen_range(4..=16) {
                let month = iso_date(rng.gen_range(START..END));
                let row = [
                    month[..7].to_string(),
                    pick(rng, topic.systems).to_string(),
                    format!("{}.{}", rng.gen_range(40..=99), rng.gen_range(0..=9)),
                    rng.gen_range(80..=99).to_string(),
                ];
                text.push_str(&row.join(separator));
                text.push('\n');
            }
            let ext = if kind == FileKind::Xlsx { "xlsx" } else { "csv" };
            (format!("{stem}-metrics.{ext}"), text)
        }
        FileKind::Text => {
            let mut text = String::new();
            let mut at = rng.gen_range(START..END - 86_400_000);
            for _ in 0..rng.gen_range(6..=14) {
                at += rng.gen_range(1_000..600_000);
                let level = *pick(rng, &["INFO", "WARN", "ERROR"]);
                let when = chrono::DateTime::from_timestamp_millis(at)
                    .map(|d| d.format("%Y-%m-%dT%H:%M:%SZ").to_string())
                    .unwrap_or_default();
                text.push_str(&format!(
                    "{when} {level} {}: {} (request {:08x})\n",
                    slug(word(rng, topic.systems)),
                    fill(rng, topic, "{problem} while {action} {object}"),
                    rng.gen::<u32>()
                ));
            }
            (format!("{stem}.log.txt"), text)
        }
        FileKind::Markdown => {
            let (language, code) = *pick(rng, topic.snippets);
            let text = format!(
                "# {about}\n\n{}\n\n## {}\n\n- {}\n- {}\n\n```{language}\n{code}\n```\n",
                paragraph(rng, topic, 2, 4),
                pick(rng, HEADINGS),
                capitalise(&fill(rng, topic, "{action} {object}")),
                capitalise(&fill(rng, topic, "watch {metric} in the {system}")),
            );
            (format!("{stem}.md"), text)
        }
        FileKind::Oversized => {
            let header = "row_id,account_ref,amount_cents,region_code,product_code,units,score,batch_ref";
            let text = format!("{header}\n");
            (format!("{stem}-full-export.csv"), text)
        }
    }
}

#[cfg(test)]
mod tests {
    use rand::SeedableRng;
    use rand_chacha::ChaCha8Rng;

    use super::*;
    use crate::sim::generate::topics::TOPICS;

    fn people() -> Vec<Mention<'static>> {
        vec![
            Mention { account_id: "557058:aaaa", display_name: "Ada Abara" },
            Mention { account_id: "712020:bbbb", display_name: "Bilal Bauer" },
        ]
    }

    #[test]
    fn fill_replaces_every_slot_and_capitalises_on_request() {
        let mut rng = ChaCha8Rng::seed_from_u64(1);
        let topic = &TOPICS[1];
        for template in SENTENCES.iter().chain(PAGE_TITLES.iter().map(|(t, _)| t)).chain(BLOG_TITLES) {
            let text = fill(&mut rng, topic, template);
            assert!(!text.contains('{') && !text.contains('}'), "{template} -> {text}");
        }
        let text = fill(&mut rng, topic, "{System}");
        assert!(text.starts_with(|c: char| c.is_uppercase()), "{text}");
    }

    #[test]
    fn titles_vary_and_use_the_topic_vocabulary() {
        let mut rng = ChaCha8Rng::seed_from_u64(2);
        for topic in TOPICS {
            let titles: std::collections::BTreeSet<String> =
                (0..200).map(|_| page_title(&mut rng, topic).0).collect();
            assert!(titles.len() > 150, "{}: only {} distinct titles", topic.name, titles.len());
            let vocabulary: Vec<&str> = topic
                .systems
                .iter()
                .chain(topic.objects)
                .chain(topic.problems)
                .chain(topic.metrics)
                .copied()
                .collect();
            let with_vocabulary = titles
                .iter()
                .filter(|t| vocabulary.iter().any(|w| t.to_lowercase().contains(&w.to_lowercase())))
                .count();
            assert!(with_vocabulary * 10 >= titles.len() * 9, "{}: {with_vocabulary}", topic.name);
        }
    }

    #[test]
    fn storage_bodies_are_well_formed_xml_with_confluence_markup() {
        let mut rng = ChaCha8Rng::seed_from_u64(3);
        let people = people();
        let related = vec!["Runbook: R&D budget".to_string()];
        let mut seen_code = false;
        let mut seen_mention = false;
        for topic in TOPICS {
            for _ in 0..20 {
                let ctx = PageContext { topic, people: &people, related_titles: &related, site_name: "acme" };
                let body = storage_page_body(&mut rng, &ctx);
                seen_code |= body.contains("<ac:plain-text-body><![CDATA[");
                seen_mention |= body.contains("<ri:user ri:account-id=\"557058:aaaa\"")
                    || body.contains("<ri:user ri:account-id=\"712020:bbbb\"");
                // &nbsp; is an HTML entity Confluence accepts; declare it so a strict XML reader can check the rest.
                let doc = format!(
                    "<!DOCTYPE r [<!ENTITY nbsp \"&#160;\">]><r xmlns:ac=\"a\" xmlns:ri=\"r\">{body}</r>"
                );
                let mut reader = quick_xml::Reader::from_str(&doc);
                loop {
                    match reader.read_event() {
                        Ok(quick_xml::events::Event::Eof) => break,
                        Ok(_) => {}
                        Err(e) => panic!("{e}: {body}"),
                    }
                }
            }
        }
        assert!(seen_code && seen_mention);
    }

    #[test]
    fn adf_documents_parse_and_carry_mentions_with_names() {
        let mut rng = ChaCha8Rng::seed_from_u64(4);
        let people = people();
        let mut node_types = std::collections::BTreeSet::new();
        fn walk(v: &Value, types: &mut std::collections::BTreeSet<String>) {
            if let Some(t) = v.get("type").and_then(Value::as_str) {
                types.insert(t.to_string());
                if t == "mention" {
                    assert!(v["attrs"]["text"].as_str().is_some_and(|s| s.starts_with('@')));
                    assert!(v["attrs"]["id"].as_str().is_some());
                }
            }
            for child in v.get("content").and_then(Value::as_array).into_iter().flatten() {
                walk(child, types);
            }
        }
        for topic in TOPICS {
            for kind in
                [IssueType::Epic, IssueType::Story, IssueType::Task, IssueType::Bug, IssueType::Subtask]
            {
                for _ in 0..10 {
                    let doc: Value =
                        serde_json::from_str(&adf_description(&mut rng, topic, kind, &people, "acme"))
                            .unwrap();
                    assert_eq!(doc["type"], "doc");
                    walk(&doc, &mut node_types);
                    let comment: Value =
                        serde_json::from_str(&adf_comment(&mut rng, topic, &people, "acme")).unwrap();
                    walk(&comment, &mut node_types);
                }
            }
        }
        for expected in [
            "paragraph",
            "text",
            "mention",
            "codeBlock",
            "table",
            "bulletList",
            "orderedList",
            "panel",
            "emoji",
            "inlineCard",
            "status",
            "date",
            "heading",
        ] {
            assert!(node_types.contains(expected), "{expected} missing from {node_types:?}");
        }
    }

    #[test]
    fn plain_text_becomes_paragraphs_with_hard_breaks() {
        let doc: Value = serde_json::from_str(&adf_from_plain_text("one\ntwo\n\n\nthree")).unwrap();
        let blocks = doc["content"].as_array().unwrap();
        assert_eq!(blocks.len(), 2);
        assert_eq!(blocks[0]["content"][1]["type"], "hardBreak");
        assert_eq!(blocks[1]["content"][0]["text"], "three");
        let empty: Value = serde_json::from_str(&adf_from_plain_text("")).unwrap();
        assert_eq!(empty["content"].as_array().map(Vec::len), Some(0));
    }

    #[test]
    fn slugs_are_lowercase_dashed() {
        for (input, expected) in [
            ("Runbook: rotating TLS certificates", "runbook-rotating-tls-certificates"),
            ("  --A/B  tests--", "a-b-tests"),
        ] {
            assert_eq!(slug(input), expected);
        }
    }
}

//! External corpora loaded into the site beside the generated organisation.
//!
//! - A SMART-format collection such as Cranfield (`cran.all.1400`): one page per document in a space `CRAN`
//!   that every user reads through a group holding everyone; each page is labelled `cran-{n}` with `n` the
//!   `.I` number, titled from `.T`, its body the `.W` abstract (and `.K` keywords, when there are any).
//! - GitBugs CSV (`Summary,Issue id,Status,…,Description`): one bug per row in a project `HADOOP` that
//!   every user may browse; the CSV's `Issue id` becomes the Jira issue id and the label `orig-{id}`.
//!
//! So that evaluation can measure search as accounts that read different parts of a collection, the
//! documents are dealt (by the seed) into three parts: about 60% open to everyone, about 25% for the
//! Engineering group and about 15% for the Confidential group; one active account, the collection's
//! librarian, is named in both restricted parts and reads everything. Pages get this through the read
//! restriction of the section page they sit under (inherited, as on Confluence); issues through the levels
//! of an issue security scheme.
//!
//! [`read`] parses a file without touching the site, so a bad path or a malformed file fails before the
//! organisation is generated; [`add`] puts the documents in. This module does not evaluate anything:
//! relevance judgements stay with `eval`.

use std::collections::BTreeSet;
use std::path::Path;

use rand::Rng;

use super::people::{People, Purpose};
use super::text::{self, xml_escape};
use super::{later, DAY};
use crate::sim::model::*;
use crate::sim::{Corpus, Error};

/// One Cranfield document.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CranfieldDoc {
    /// The `.I` number.
    pub number: u32,
    pub title: String,
    pub authors: String,
    pub bibliography: String,
    /// The abstract, paragraphs separated by blank lines.
    pub text: String,
    /// The `.K` keywords, if the collection has them.
    pub keywords: String,
}

/// One row of a GitBugs CSV.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BugRow {
    pub id: u64,
    pub summary: String,
    pub status: String,
    pub priority: String,
    pub resolution: String,
    pub created: Millis,
    pub resolved: Option<Millis>,
    pub affects_versions: String,
    pub description: String,
}

/// A corpus read from disk, not yet in the site.
#[derive(Debug)]
pub enum Loaded {
    Cranfield(Vec<CranfieldDoc>),
    Bugs { path: std::path::PathBuf, rows: Vec<BugRow> },
}

fn corpus_error(path: &Path, reason: impl Into<String>) -> Error {
    Error::Corpus { path: path.display().to_string(), reason: reason.into() }
}

/// Reads and parses a corpus file.
pub fn read(corpus: &Corpus) -> Result<Loaded, Error> {
    match corpus {
        Corpus::Cranfield(path) => {
            let raw = std::fs::read(path).map_err(|e| corpus_error(path, e.to_string()))?;
            let text = String::from_utf8_lossy(&raw);
            parse_smart(&text).map(Loaded::Cranfield).map_err(|reason| corpus_error(path, reason))
        }
        Corpus::JiraCsv(path) => {
            let raw = std::fs::read(path).map_err(|e| corpus_error(path, e.to_string()))?;
            let text =
                std::str::from_utf8(&raw).map_err(|e| corpus_error(path, format!("not utf-8: {e}")))?;
            let rows = parse_bugs(text).map_err(|reason| corpus_error(path, reason))?;
            Ok(Loaded::Bugs { path: path.clone(), rows })
        }
    }
}

/// Parses the SMART format: `.I n` starts a record, and `.T` (title), `.A` (authors), `.B` (bibliography),
/// `.W` (text), `.K` (keywords), `.X` (cross-references), `.C` (categories) and `.N` (entry) start its
/// fields; `.X`, `.C` and `.N` are read and left out. Lines may be padded with blanks and end in CRLF.
///
/// Some copies of `cran.all.1400` repeat field markers inside an abstract (documents 240, 576 and 578);
/// once `.W` has begun, a marker the record already had is skipped and the text after it stays in the
/// abstract, so none of it is lost.
pub fn parse_smart(text: &str) -> Result<Vec<CranfieldDoc>, String> {
    #[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
    enum Field {
        Title,
        Authors,
        Bibliography,
        Words,
        Keywords,
        Ignored(char),
    }
    let mut docs: Vec<CranfieldDoc> = Vec::new();
    let mut field: Option<Field> = None;
    let mut had: BTreeSet<Field> = BTreeSet::new();
    let mut numbers = BTreeSet::new();
    for (n, line) in text.lines().enumerate() {
        let line = line.trim_end();
        let line_no = n + 1;
        if let Some(rest) =
            line.strip_prefix(".I").filter(|r| r.is_empty() || r.starts_with(char::is_whitespace))
        {
            let number: u32 =
                rest.trim().parse().map_err(|_| format!("line {line_no}: bad document number {rest:?}"))?;
            if !numbers.insert(number) {
                return Err(format!("line {line_no}: document {number} appears twice"));
            }
            docs.push(CranfieldDoc {
                number,
                title: String::new(),
                authors: String::new(),
                bibliography: String::new(),
                text: String::new(),
                keywords: String::new(),
            });
            field = None;
            had.clear();
            continue;
        }
        let marker = match line {
            ".T" => Some(Field::Title),
            ".A" => Some(Field::Authors),
            ".B" => Some(Field::Bibliography),
            ".W" => Some(Field::Words),
            ".K" => Some(Field::Keywords),
            ".X" | ".C" | ".N" => Some(Field::Ignored(line.as_bytes()[1] as char)),
            _ if line.starts_with('.') && line.len() == 2 && line.as_bytes()[1].is_ascii_uppercase() => {
                return Err(format!("line {line_no}: unknown field marker {line}"));
            }
            _ => None,
        };
        let Some(doc) = docs.last_mut() else {
            if line.trim().is_empty() {
                continue;
            }
            return Err(format!("line {line_no}: text before the first .I"));
        };
        if let Some(marker) = marker {
            let repeated_in_text = field == Some(Field::Words) && had.contains(&marker);
            if !repeated_in_text {
                field = Some(marker);
                had.insert(marker);
            }
            continue;
        }
        let target = match field {
            Some(Field::Title) => &mut doc.title,
            Some(Field::Authors) => &mut doc.authors,
            Some(Field::Bibliography) => &mut doc.bibliography,
            Some(Field::Words) => &mut doc.text,
            Some(Field::Keywords) => &mut doc.keywords,
            Some(Field::Ignored(_)) => continue,
            None if line.trim().is_empty() => continue,
            None => return Err(format!("line {line_no}: text of document {} outside any field", doc.number)),
        };
        target.push_str(line);
        target.push('\n');
    }
    if docs.is_empty() {
        return Err("no documents (expected .I lines)".into());
    }
    for doc in &mut docs {
        doc.title = doc.title.split_whitespace().collect::<Vec<_>>().join(" ");
        doc.authors = doc.authors.trim().to_string();
        doc.bibliography = doc.bibliography.trim().to_string();
        doc.keywords = doc.keywords.split_whitespace().collect::<Vec<_>>().join(" ");
        doc.text = abstract_paragraphs(&doc.text);
    }
    Ok(docs)
}

/// Joins the lines of an abstract into paragraphs: an indented line starts a new paragraph.
fn abstract_paragraphs(raw: &str) -> String {
    let mut paragraphs: Vec<String> = Vec::new();
    for line in raw.lines() {
        let starts_paragraph = line.starts_with("  ") || paragraphs.is_empty();
        let words = line.split_whitespace().collect::<Vec<_>>().join(" ");
        if words.is_empty() {
            continue;
        }
        match paragraphs.last_mut() {
            Some(p) if !starts_paragraph => {
                p.push(' ');
                p.push_str(&words);
            }
            _ => paragraphs.push(words),
        }
    }
    paragraphs.join("\n\n")
}

/// Parses CSV text (RFC 4180: quoted fields may hold commas, newlines and doubled quotes) into rows.
pub fn parse_csv(text: &str) -> Result<Vec<Vec<String>>, String> {
    let mut rows = Vec::new();
    let mut row: Vec<String> = Vec::new();
    let mut field = String::new();
    let mut chars = text.chars().peekable();
    let mut line = 1usize;
    // Whether the current field was quoted, and whether we are inside the quotes.
    let mut quoted = false;
    let mut in_quotes = false;
    let mut row_has_content = false;
    while let Some(c) = chars.next() {
        if in_quotes {
            match c {
                '"' if chars.peek() == Some(&'"') => {
                    chars.next();
                    field.push('"');
                }
                '"' => in_quotes = false,
                _ => {
                    if c == '\n' {
                        line += 1;
                    }
                    field.push(c);
                }
            }
            continue;
        }
        match c {
            '"' if field.is_empty() && !quoted => {
                quoted = true;
                in_quotes = true;
                row_has_content = true;
            }
            '"' => return Err(format!("line {line}: stray quote inside an unquoted field")),
            ',' => {
                row.push(std::mem::take(&mut field));
                quoted = false;
                row_has_content = true;
            }
            '\r' | '\n' => {
                if c == '\r' && chars.peek() == Some(&'\n') {
                    chars.next();
                }
                if row_has_content || !field.is_empty() {
                    row.push(std::mem::take(&mut field));
                    rows.push(std::mem::take(&mut row));
                }
                quoted = false;
                row_has_content = false;
                line += 1;
            }
            _ if quoted => return Err(format!("line {line}: text after a closing quote")),
            _ => {
                field.push(c);
                row_has_content = true;
            }
        }
    }
    if in_quotes {
        return Err(format!("line {line}: quoted field never closed"));
    }
    if row_has_content || !field.is_empty() {
        row.push(field);
        rows.push(row);
    }
    Ok(rows)
}

/// Parses a Jira export time such as `30/Sep/21 17:20` (UTC).
fn parse_jira_time(s: &str) -> Option<Millis> {
    chrono::NaiveDateTime::parse_from_str(s.trim(), "%d/%b/%y %H:%M")
        .ok()
        .map(|t| t.and_utc().timestamp_millis())
}

fn parse_bugs(text: &str) -> Result<Vec<BugRow>, String> {
    let rows = parse_csv(text)?;
    let Some((header, body)) = rows.split_first() else {
        return Err("empty file".into());
    };
    let column = |name: &str| {
        header
            .iter()
            .position(|h| h.trim_start_matches('\u{feff}').trim() == name)
            .ok_or(format!("no {name:?} column"))
    };
    let summary = column("Summary")?;
    let id = column("Issue id")?;
    let status = column("Status")?;
    let priority = column("Priority")?;
    let resolution = column("Resolution")?;
    let created = column("Created")?;
    let resolved = column("Resolved")?;
    let affects = column("Affects Version/s")?;
    let description = column("Description")?;
    let mut seen = BTreeSet::new();
    let mut bugs = Vec::with_capacity(body.len());
    for (n, row) in body.iter().enumerate() {
        let row_no = n + 2;
        if row.len() != header.len() {
            return Err(format!("row {row_no} has {} fields, the header has {}", row.len(), header.len()));
        }
        let issue_id: u64 =
            row[id].trim().parse().map_err(|_| format!("row {row_no}: bad issue id {:?}", row[id]))?;
        if !seen.insert(issue_id) {
            return Err(format!("row {row_no}: issue id {issue_id} appears twice"));
        }
        let created_at = parse_jira_time(&row[created])
            .ok_or_else(|| format!("row {row_no}: bad created time {:?}", row[created]))?;
        let resolved_at = if row[resolved].trim().is_empty() {
            None
        } else {
            Some(
                parse_jira_time(&row[resolved])
                    .ok_or_else(|| format!("row {row_no}: bad resolved time {:?}", row[resolved]))?,
            )
        };
        bugs.push(BugRow {
            id: issue_id,
            summary: row[summary].clone(),
            status: row[status].clone(),
            priority: row[priority].clone(),
            resolution: row[resolution].clone(),
            created: created_at,
            resolved: resolved_at,
            affects_versions: row[affects].clone(),
            description: row[description].clone(),
        });
    }
    if bugs.is_empty() {
        return Err("no rows after the header".into());
    }
    Ok(bugs)
}

/// The key of the space a SMART collection is loaded into.
pub const CORPUS_SPACE: &str = "CRAN";
/// The key of the project a Jira CSV is loaded into.
pub const CORPUS_PROJECT: &str = "HADOOP";

/// Takes the generated organisation's content out of `site`, keeping its people, groups and schemes and
/// the corpus: the space [`CORPUS_SPACE`] with its pages and the project [`CORPUS_PROJECT`] with its
/// issues. Evaluation searches such a site, so that ranking statistics (document frequencies, lengths) are
/// the collection's own, as when it is indexed directly.
pub fn keep_only_corpus(site: &mut Site) {
    site.spaces.retain(|_, space| space.key == CORPUS_SPACE);
    let spaces: BTreeSet<u64> = site.spaces.keys().copied().collect();
    site.contents.retain(|_, c| spaces.contains(&c.space_id));
    let contents: BTreeSet<u64> = site.contents.keys().copied().collect();
    site.comments.retain(|_, c| contents.contains(&c.container_id));
    site.attachments.retain(|_, a| contents.contains(&a.container_id));
    site.projects.retain(|_, p| p.key == CORPUS_PROJECT);
    let projects: BTreeSet<u64> = site.projects.keys().copied().collect();
    site.issues.retain(|_, i| projects.contains(&i.project_id));
    let issues: BTreeSet<u64> = site.issues.keys().copied().collect();
    site.issue_comments.retain(|_, c| issues.contains(&c.issue_id));
    site.jira_attachments.retain(|_, a| issues.contains(&a.issue_id));
    site.reindex();
}

/// Which part of a collection a document is dealt into (see the module docs); in [`Part::ALL`] order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Part {
    Open,
    Engineering,
    Confidential,
}

impl Part {
    const ALL: [Part; 3] = [Part::Open, Part::Engineering, Part::Confidential];

    fn deal<R: Rng>(rng: &mut R) -> Part {
        match rng.gen_range(0..100) {
            0..60 => Part::Open,
            60..85 => Part::Engineering,
            _ => Part::Confidential,
        }
    }

    fn name(self) -> &'static str {
        match self {
            Part::Open => "Open",
            Part::Engineering => "Engineering",
            Part::Confidential => "Confidential",
        }
    }

    /// The group a restricted part is for.
    fn group(self, people: &People) -> Option<String> {
        match self {
            Part::Open => None,
            Part::Engineering => Some(people.group(Purpose::Engineering).to_string()),
            Part::Confidential => Some(people.group(Purpose::Confidential).to_string()),
        }
    }
}

/// Puts a read corpus into the site.
pub fn add<R: Rng>(rng: &mut R, site: &mut Site, people: &People, loaded: Loaded) -> Result<(), Error> {
    match loaded {
        Loaded::Cranfield(docs) => {
            add_cranfield(rng, site, people, docs);
            Ok(())
        }
        Loaded::Bugs { path, rows } => {
            add_bugs(rng, site, people, rows).map_err(|reason| corpus_error(&path, reason))
        }
    }
}

fn add_cranfield<R: Rng>(rng: &mut R, site: &mut Site, people: &People, docs: Vec<CranfieldDoc>) {
    let space_id = IdSequences::take(&mut site.ids.space);
    let everyone = SpacePrincipal::Group(people.group(Purpose::ConfluenceUsers).to_string());
    let permissions = [(everyone.clone(), "read", "space"), (everyone, "create", "comment")]
        .into_iter()
        .map(|(principal, operation, target)| SpacePermission {
            id: IdSequences::take(&mut site.ids.space_permission),
            principal,
            operation: operation.into(),
            target: target.into(),
        })
        .collect();
    let created = text::START + DAY;
    let home_id = IdSequences::take(&mut site.ids.content);
    site.spaces.insert(
        space_id,
        Space {
            id: space_id,
            key: CORPUS_SPACE.into(),
            name: "Cranfield Collection".into(),
            description: "The Cranfield test collection, one page per document.".into(),
            kind: SpaceKind::Global,
            status: Status::Current,
            created,
            author: people.admin.clone(),
            homepage_id: Some(home_id),
            topic: 0,
            permissions,
        },
    );
    let page = |id: u64,
                parent: Option<u64>,
                title: String,
                body: String,
                labels: Vec<String>,
                at: Millis,
                position: i32| Content {
        id,
        kind: ContentKind::Page,
        space_id,
        parent_id: parent,
        title,
        body,
        status: Status::Current,
        version: 1,
        created: at,
        updated: at,
        author: people.admin.clone(),
        last_editor: people.admin.clone(),
        read_restriction: Restriction::default(),
        update_restriction: Restriction::default(),
        labels,
        position,
    };
    site.contents.insert(
        home_id,
        page(
            home_id,
            None,
            "Cranfield Collection Home".into(),
            "<p>The documents of the collection, one page each, labelled with its number, in three sections.</p>"
                .into(),
            vec![],
            created,
            0,
        ),
    );
    // One section page per part; its read restriction is inherited by every document under it.
    let librarian = text::pick(rng, &people.active).clone();
    let mut sections = Vec::new();
    for (position, part) in Part::ALL.into_iter().enumerate() {
        let id = IdSequences::take(&mut site.ids.content);
        let mut section = page(
            id,
            Some(home_id),
            format!("{} documents", part.name()),
            format!("<p>Documents of the collection readable by the {} part.</p>", part.name()),
            vec![],
            created,
            position as i32,
        );
        if let Some(group) = part.group(people) {
            section.read_restriction.groups.insert(group);
            section.read_restriction.users.insert(librarian.clone());
        }
        site.contents.insert(id, section);
        sections.push(id);
    }
    // Titles are unique per space in Confluence; the collection has a few repeated and two empty titles,
    // which get the document number appended.
    let mut titles = BTreeSet::new();
    let step = (text::END - 30 * DAY - created) / docs.len().max(1) as i64;
    for (k, doc) in docs.into_iter().enumerate() {
        let id = IdSequences::take(&mut site.ids.content);
        let label = format!("cran-{}", doc.number);
        let title = if doc.title.is_empty() {
            label.clone()
        } else if titles.contains(&doc.title) {
            format!("{} ({label})", doc.title)
        } else {
            doc.title.clone()
        };
        titles.insert(title.clone());
        let mut body: String =
            doc.text.split("\n\n").map(|p| format!("<p>{}</p>", xml_escape(p))).collect::<Vec<_>>().join("");
        if !doc.keywords.is_empty() {
            body.push_str(&format!("<p>{}</p>", xml_escape(&doc.keywords)));
        }
        let at = later(rng, created + step * k as i64, step.max(60_001));
        let section = sections[Part::deal(rng) as usize];
        let mut content = page(id, Some(section), title, body, vec![label], at, k as i32);
        content.author = text::pick(rng, &people.active).clone();
        content.last_editor = content.author.clone();
        site.contents.insert(id, content);
    }
}

fn add_bugs<R: Rng>(
    rng: &mut R,
    site: &mut Site,
    people: &People,
    mut rows: Vec<BugRow>,
) -> Result<(), String> {
    if let Some(clash) = rows.iter().find(|r| site.issues.contains_key(&r.id)) {
        return Err(format!("issue id {} collides with a generated issue", clash.id));
    }
    // Keys follow the original ids' order; times keep their order too, squeezed into the site's lifetime.
    rows.sort_by_key(|r| r.id);
    let first = rows.iter().map(|r| r.created).min().unwrap_or(0);
    let last = rows.iter().map(|r| r.resolved.unwrap_or(r.created).max(r.created)).max().unwrap_or(0);
    let (window_start, window_end) = (text::START + 30 * DAY, text::END - DAY);
    let squeeze = |t: Millis| -> Millis {
        let span = (last - first).max(1) as i128;
        let offset = (t - first).max(0) as i128 * (window_end - window_start) as i128 / span;
        (window_start as i128 + offset) as Millis
    };

    let scheme_id = site.permission_schemes.keys().next_back().map_or(10000, |k| k + 1);
    let jira_users = Holder::Group(people.group(Purpose::JiraUsers).to_string());
    let grants = [("BROWSE_PROJECTS", jira_users.clone()), ("CREATE_ISSUES", jira_users)]
        .into_iter()
        .map(|(permission, holder)| PermissionGrant {
            id: IdSequences::take(&mut site.ids.grant),
            permission: permission.into(),
            holder,
        })
        .collect();
    site.permission_schemes.insert(
        scheme_id,
        PermissionScheme {
            id: scheme_id,
            name: "Open source mirror scheme".into(),
            description: "Every Jira user may browse".into(),
            grants,
        },
    );
    // An issue security scheme with one level per restricted part, each naming the librarian too.
    let librarian = text::pick(rng, &people.active).clone();
    let security_scheme_id = site.security_schemes.keys().next_back().map_or(10000, |k| k + 1);
    let first_level =
        site.security_schemes.values().flat_map(|s| &s.levels).map(|l| l.id).max().map_or(10000, |m| m + 1);
    let mut levels = Vec::new();
    let mut level_of = Vec::new();
    for part in Part::ALL {
        let Some(group) = part.group(people) else {
            level_of.push(None);
            continue;
        };
        let id = first_level + levels.len() as u64;
        let members = [Holder::Group(group), Holder::User(librarian.clone())]
            .into_iter()
            .map(|holder| LevelMember { id: IdSequences::take(&mut site.ids.level_member), holder })
            .collect();
        levels.push(SecurityLevel {
            id,
            name: format!("{} only", part.name()),
            description: format!("Imported bugs readable by the {} part", part.name()),
            members,
        });
        level_of.push(Some(id));
    }
    site.security_schemes.insert(
        security_scheme_id,
        SecurityScheme {
            id: security_scheme_id,
            name: "Open source mirror levels".into(),
            description: "Parts of the imported bugs for restricted readers".into(),
            default_level_id: None,
            levels,
        },
    );
    let project_id = site.projects.keys().next_back().map_or(10000, |k| k + 1);
    let lead = text::pick(rng, people.colleagues(0)).clone();
    let mut roles = std::collections::BTreeMap::new();
    let mut admins = RoleActors::default();
    admins.users.insert(lead.clone());
    roles.insert(super::jira::ROLE_ADMINISTRATORS, admins);
    site.projects.insert(
        project_id,
        Project {
            id: project_id,
            key: CORPUS_PROJECT.into(),
            name: "Apache Hadoop (mirror)".into(),
            description: "Bug reports imported from the Apache Hadoop issue tracker.".into(),
            lead,
            permission_scheme_id: scheme_id,
            security_scheme_id: Some(security_scheme_id),
            roles,
            topic: 0,
            archived: false,
            created: window_start - DAY,
        },
    );
    let mut max_id = 0;
    for (n, row) in rows.into_iter().enumerate() {
        max_id = max_id.max(row.id);
        let created = squeeze(row.created);
        let updated = row.resolved.map_or(created, |r| squeeze(r).max(created));
        let issue = Issue {
            id: row.id,
            key: format!("HADOOP-{}", n + 1),
            project_id,
            issue_type: IssueType::Bug,
            parent_id: None,
            summary: row.summary,
            description: text::adf_from_plain_text(&row.description),
            reporter: Some(text::pick(rng, &people.active).clone()),
            assignee: if rng.gen_bool(0.3) { None } else { Some(text::pick(rng, &people.active).clone()) },
            security_level_id: level_of[Part::deal(rng) as usize],
            status: row.status,
            priority: row.priority,
            labels: vec![format!("orig-{}", row.id)],
            created,
            updated,
            archived: false,
        };
        site.issues.insert(issue.id, issue);
    }
    // New issues must never reuse an imported id.
    site.ids.issue = site.ids.issue.max(max_id + 1);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_parser_handles_quotes_newlines_and_line_endings() {
        let cases: &[(&str, &[&[&str]])] = &[
            ("a,b\n1,2\n", &[&["a", "b"], &["1", "2"]]),
            ("a,b\r\n1,2", &[&["a", "b"], &["1", "2"]]),
            ("\"x, y\",\"say \"\"hi\"\"\"\n", &[&["x, y", "say \"hi\""]]),
            ("\"multi\nline\",z\n", &[&["multi\nline", "z"]]),
            ("a,,c\n", &[&["a", "", "c"]]),
            ("a,\"\"\n", &[&["a", ""]]),
            ("\n\na\n\n", &[&["a"]]),
        ];
        for (input, expected) in cases {
            let got = parse_csv(input).unwrap();
            let expected: Vec<Vec<String>> =
                expected.iter().map(|r| r.iter().map(|s| s.to_string()).collect()).collect();
            assert_eq!(got, expected, "{input:?}");
        }
    }

    #[test]
    fn csv_parser_rejects_malformed_input() {
        for input in ["\"never closed\n", "a\"b,c\n", "\"done\"x,y\n"] {
            assert!(parse_csv(input).is_err(), "{input:?}");
        }
    }

    #[test]
    fn jira_times_parse_as_utc() {
        assert_eq!(parse_jira_time("30/Sep/21 17:20"), Some(1_633_022_400_000));
        assert_eq!(parse_jira_time("31/Feb/21 10:00"), None);
        assert_eq!(parse_jira_time("yesterday"), None);
    }

    #[test]
    fn bug_rows_need_every_column_and_sane_values() {
        let header =
            "Summary,Issue id,Status,Priority,Resolution,Created,Resolved,Affects Version/s,Description\n";
        let good = format!("{header}Crash,42,Open,Major,,01/Jan/22 10:00,,3.3.0,\"Boom, then\nsilence\"\n");
        let bugs = parse_bugs(&good).unwrap();
        assert_eq!(bugs.len(), 1);
        assert_eq!(bugs[0].id, 42);
        assert_eq!(bugs[0].description, "Boom, then\nsilence");
        assert_eq!(bugs[0].resolved, None);
        for bad in [
            String::new(),
            header.to_string(),
            "Summary,Status\nx,y\n".to_string(),
            format!("{header}Crash,forty-two,Open,Major,,01/Jan/22 10:00,,3.3.0,x\n"),
            format!("{header}Crash,42,Open,Major,,someday,,3.3.0,x\n"),
            format!("{header}Crash,42,Open\n"),
            format!("{header}A,1,Open,Major,,01/Jan/22 10:00,,,x\nB,1,Open,Major,,01/Jan/22 10:00,,,y\n"),
        ] {
            assert!(parse_bugs(&bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn cranfield_parser_reads_fields_and_keeps_repeated_markers_in_the_abstract() {
        let text = ".I 1\r\n.T\r\nwing\r\nflow .\r\n.A\r\nsmith\r\n.B\r\nj. ae. 1958\r\n.W\r\nwing flow .\r\n  a study\r\nof lift .\r\n.A\r\nmore text\r\n.I 7\n.T\n.A\n.B\n.W\nsecond\n";
        let docs = parse_smart(text).unwrap();
        assert_eq!(docs.len(), 2);
        assert_eq!(docs[0].number, 1);
        assert_eq!(docs[0].title, "wing flow .");
        assert_eq!(docs[0].authors, "smith");
        assert_eq!(docs[0].text, "wing flow .\n\na study of lift . more text");
        assert_eq!(docs[1].number, 7);
        assert_eq!(docs[1].title, "");
        assert_eq!(docs[1].text, "second");
    }

    #[test]
    fn smart_parser_reads_every_marker_and_blank_padded_lines() {
        let text = ".I 3   \n.T  \nPreliminary   report\n.W\nsome text\n.B \nCACM December, 1958\n.A\nPerlis, A. J.\n.N\nCA581203 JB March 22, 1978\n.X\n100\t5\t3\n.K\nalgebraic, languages\n.C\n4.22\n";
        let docs = parse_smart(text).unwrap();
        assert_eq!(docs.len(), 1);
        let d = &docs[0];
        assert_eq!((d.number, d.title.as_str(), d.text.as_str()), (3, "Preliminary report", "some text"));
        assert_eq!((d.authors.as_str(), d.bibliography.as_str()), ("Perlis, A. J.", "CACM December, 1958"));
        assert_eq!(d.keywords, "algebraic, languages");
    }

    #[test]
    fn cranfield_parser_rejects_malformed_input() {
        for bad in [
            "",
            "stray text\n.I 1\n.W\nx\n",
            ".I one\n.W\nx\n",
            ".I 1\n.Z\nx\n",
            ".I 1\n.W\nx\n.I 1\n.W\ny\n",
            ".I 1\nloose\n",
        ] {
            assert!(parse_smart(bad).is_err(), "{bad:?}");
        }
    }
}

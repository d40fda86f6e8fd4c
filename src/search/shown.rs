//! What a caller is shown of a stored document: a hit's or a preview's fields ([`Hit`], [`Document`]), and
//! the breadcrumb of the pages above it.
//!
//! A document stores the ids of the documents above it (its `ancestors`), not their titles. A breadcrumb is
//! read at query time from those documents themselves, each through the caller's allowed set: a title is
//! shown only when the caller may read that document now, and an ancestor the caller may not read, or that
//! the index does not hold (archived and not indexed, deleted, a folder), is left out. So a title is as
//! current as the ancestor's own document, and a restricted ancestor's title never reaches a caller who
//! cannot read it.
//!
//! Where each named document is and what it is called is kept per commit for every caller (`Titles`);
//! whether this caller may see it is asked of the caller's allowed set every time.
//!
//! This file does not rank, filter or highlight (the highlighter is passed in).

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use chrono::{DateTime, Utc};
use tantivy::schema::{IndexRecordOption, Value};
use tantivy::{DocAddress, DocSet, Searcher, SegmentReader, TantivyDocument, Term};

use super::acl_filter::AllowedDocs;
use super::{snippet, Error};
use crate::index::Fields;

#[derive(Debug, Clone, PartialEq)]
pub struct Hit {
    pub id: String,
    /// The product: `confluence` or `jira`.
    pub product: String,
    pub kind: String,
    pub title: String,
    /// The title HTML-escaped, matches in `<mark>`.
    pub title_html: String,
    /// The best body fragment HTML-escaped, matches in `<mark>`; only when snippets were asked for.
    pub snippet_html: Option<String>,
    pub space: Option<String>,
    pub space_name: Option<String>,
    /// The pages above the document that the caller may read, root first (see the module docs).
    pub breadcrumb: Vec<Crumb>,
    pub project: Option<String>,
    pub container: Option<String>,
    pub labels: Vec<String>,
    pub author_name: Option<String>,
    pub issue: Option<IssueFacts>,
    pub url: String,
    pub updated: Option<DateTime<Utc>>,
    /// Relevance score (0 when sorting by `updated`).
    pub score: f32,
}

/// One step of a breadcrumb: a document above the one shown, which the caller may read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Crumb {
    pub id: String,
    pub title: String,
}

/// What a Jira document shows of its issue: the key for every Jira document; the rest for issues.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct IssueFacts {
    pub key: Option<String>,
    /// The issue type as the site names it (`Bug`).
    pub issue_type: Option<String>,
    pub status: Option<String>,
    /// The status's category: `new`, `indeterminate`, `done` (or another a site adds).
    pub status_category: Option<String>,
    pub assignee: Assignee,
}

/// Who an issue is assigned to.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum Assignee {
    /// Not an issue (a comment or attachment shows its issue's key only).
    #[default]
    NotApplicable,
    Unassigned,
    /// Assigned to an account whose name is not known.
    Unnamed,
    Named(String),
}

/// A document as a caller may read it ([`super::SearchService::document`]): its fields and its whole
/// indexed text.
#[derive(Debug, Clone, PartialEq)]
pub struct Document {
    pub id: String,
    /// The product: `confluence` or `jira`.
    pub product: String,
    pub kind: String,
    pub title: String,
    pub body: String,
    pub space: Option<String>,
    pub space_name: Option<String>,
    /// The pages above the document that the caller may read, root first.
    pub breadcrumb: Vec<Crumb>,
    pub project: Option<String>,
    pub container: Option<String>,
    pub labels: Vec<String>,
    pub author_name: Option<String>,
    pub issue: Option<IssueFacts>,
    pub url: String,
    pub created: Option<DateTime<Utc>>,
    pub updated: Option<DateTime<Utc>>,
}

/// A stored document's fields; its breadcrumb is empty until [`Breadcrumbs`] fills it.
pub(super) fn document_from_stored(fields: &Fields, doc: &TantivyDocument) -> Document {
    let text = |f| doc.get_first(f).and_then(|v| v.as_str().map(str::to_string));
    let texts = |f| doc.get_all(f).filter_map(|v| v.as_str().map(str::to_string)).collect::<Vec<_>>();
    let time = |f| {
        doc.get_first(f)
            .and_then(|v| v.as_datetime())
            .and_then(|d| DateTime::<Utc>::from_timestamp_millis(d.into_timestamp_millis()))
    };
    let product = text(fields.source).unwrap_or_default();
    let kind = text(fields.kind).unwrap_or_default();
    let issue = (product == "jira").then(|| IssueFacts {
        key: text(fields.issue_key),
        issue_type: text(fields.issue_type),
        status: text(fields.status),
        status_category: text(fields.status_category),
        assignee: match (kind == "issue", text(fields.assignee), text(fields.assignee_name)) {
            (false, ..) => Assignee::NotApplicable,
            (true, None, _) => Assignee::Unassigned,
            (true, Some(_), None) => Assignee::Unnamed,
            (true, Some(_), Some(name)) => Assignee::Named(name),
        },
    });
    Document {
        id: text(fields.id).unwrap_or_default(),
        product,
        kind,
        title: text(fields.display_title).or_else(|| text(fields.title)).unwrap_or_default(),
        body: text(fields.body).unwrap_or_default(),
        space: text(fields.space),
        space_name: text(fields.space_name),
        breadcrumb: Vec::new(),
        project: text(fields.project),
        container: text(fields.container),
        labels: texts(fields.labels),
        author_name: text(fields.author_name),
        issue,
        url: text(fields.url).unwrap_or_default(),
        created: time(fields.created),
        updated: time(fields.updated),
    }
}

/// The ids of the documents above a stored document, root first.
pub(super) fn ancestors_of(fields: &Fields, doc: &TantivyDocument) -> Vec<String> {
    doc.get_all(fields.ancestors).filter_map(|v| v.as_str().map(str::to_string)).collect()
}

/// A stored document as a hit: its fields, its title highlighted, and its best body fragment when
/// `snippets`; its breadcrumb is empty until a search fills it. Public so that tools measuring
/// search build pages exactly as searches do.
pub fn hit_from_stored(
    fields: &Fields,
    doc: &TantivyDocument,
    highlighter: &mut snippet::Highlighter,
    snippets: bool,
    score: f32,
) -> Hit {
    let document = document_from_stored(fields, doc);
    Hit {
        title_html: highlighter.title_html(&document.title),
        snippet_html: snippets.then(|| highlighter.body_html(&document.body)),
        id: document.id,
        product: document.product,
        kind: document.kind,
        title: document.title,
        space: document.space,
        space_name: document.space_name,
        breadcrumb: Vec::new(),
        project: document.project,
        container: document.container,
        labels: document.labels,
        author_name: document.author_name,
        issue: document.issue,
        url: document.url,
        updated: document.updated,
        score,
    }
}

/// The documents a caller may read: each segment's allowed set, asked for when a segment holds the id;
/// `None` allows nothing.
pub(super) trait Allowed {
    fn in_segment(&mut self, ord: usize, segment: &SegmentReader) -> Result<Option<Arc<AllowedDocs>>, Error>;
}

/// The allowed sets a ranking used, by segment ordinal.
impl Allowed for &[Arc<AllowedDocs>] {
    fn in_segment(&mut self, ord: usize, _: &SegmentReader) -> Result<Option<Arc<AllowedDocs>>, Error> {
        Ok(self.get(ord).cloned())
    }
}

/// The address of the document `id` if the caller may read it; `None` when it does not exist or is not
/// allowed, which callers must not tell apart.
pub(super) fn find_allowed(
    searcher: &Searcher,
    fields: &Fields,
    id: &str,
    allowed: &mut impl Allowed,
) -> Result<Option<DocAddress>, Error> {
    let term = Term::from_field_text(fields.id, id);
    for (ord, segment) in searcher.segment_readers().iter().enumerate() {
        let index = segment.inverted_index(fields.id)?;
        let Some(mut postings) =
            index.read_postings(&term, IndexRecordOption::Basic).map_err(tantivy::TantivyError::from)?
        else {
            continue;
        };
        let Some(allowed) = allowed.in_segment(ord, segment)? else { continue };
        while postings.doc() != tantivy::TERMINATED {
            if allowed.contains(postings.doc()) {
                return Ok(Some(DocAddress::new(ord as u32, postings.doc())));
            }
            postings.advance();
        }
    }
    Ok(None)
}

/// Most ids [`Titles`] keeps for one commit; past it, it starts over.
const MAX_TITLES: usize = 65_536;

/// Where each document a breadcrumb named is in one commit, and its title, whoever asked: kept with the
/// commit's view, so the pages near the top of a space, which most breadcrumbs name, are read from the
/// store once. Whether a caller may see an entry is decided for each caller, each time, from its allowed
/// set; an entry itself is never shown.
#[derive(Default)]
pub(super) struct Titles {
    entries: Mutex<HashMap<String, Option<(DocAddress, String)>>>,
}

impl Titles {
    /// The live document `id` and its title, read from the store on the first ask.
    fn get(
        &self,
        searcher: &Searcher,
        fields: &Fields,
        id: &str,
    ) -> Result<Option<(DocAddress, String)>, Error> {
        if let Some(known) = self.lock().get(id) {
            return Ok(known.clone());
        }
        let found = match find_live(searcher, fields, id)? {
            Some(address) => {
                let stored: TantivyDocument = searcher.doc(address)?;
                let text = |f| stored.get_first(f).and_then(|v| v.as_str().map(str::to_string));
                text(fields.display_title).or_else(|| text(fields.title)).map(|title| (address, title))
            }
            None => None,
        };
        let mut entries = self.lock();
        if entries.len() >= MAX_TITLES {
            entries.clear();
        }
        entries.insert(id.to_owned(), found.clone());
        Ok(found)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, Option<(DocAddress, String)>>> {
        // Entries are inserted whole: a poisoned map is still consistent.
        self.entries.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

/// The live (not deleted) document `id`, for any caller: only [`Titles`] uses it, and what it finds is
/// shown only through a caller's allowed set.
fn find_live(searcher: &Searcher, fields: &Fields, id: &str) -> Result<Option<DocAddress>, Error> {
    let term = Term::from_field_text(fields.id, id);
    for (ord, segment) in searcher.segment_readers().iter().enumerate() {
        let index = segment.inverted_index(fields.id)?;
        let Some(mut postings) =
            index.read_postings(&term, IndexRecordOption::Basic).map_err(tantivy::TantivyError::from)?
        else {
            continue;
        };
        while postings.doc() != tantivy::TERMINATED {
            if !segment.is_deleted(postings.doc()) {
                return Ok(Some(DocAddress::new(ord as u32, postings.doc())));
            }
            postings.advance();
        }
    }
    Ok(None)
}

/// Titles of ancestors as one caller may read them, looked up once each per page of hits.
pub(super) struct Breadcrumbs<'s, A> {
    searcher: &'s Searcher,
    fields: &'s Fields,
    known: &'s Titles,
    allowed: A,
    titles: HashMap<String, Option<String>>,
}

impl<'s, A: Allowed> Breadcrumbs<'s, A> {
    pub(super) fn new(searcher: &'s Searcher, fields: &'s Fields, known: &'s Titles, allowed: A) -> Self {
        Breadcrumbs { searcher, fields, known, allowed, titles: HashMap::new() }
    }

    /// The crumbs of `ancestors` (ids, root first) that the caller may read.
    pub(super) fn of(&mut self, ancestors: &[String]) -> Result<Vec<Crumb>, Error> {
        let mut crumbs = Vec::with_capacity(ancestors.len());
        for id in ancestors {
            if !self.titles.contains_key(id) {
                let title = self.title(id)?;
                self.titles.insert(id.clone(), title);
            }
            if let Some(Some(title)) = self.titles.get(id) {
                crumbs.push(Crumb { id: id.clone(), title: title.clone() });
            }
        }
        Ok(crumbs)
    }

    /// The title of `id` when this caller may read it.
    fn title(&mut self, id: &str) -> Result<Option<String>, Error> {
        let Some((address, title)) = self.known.get(self.searcher, self.fields, id)? else { return Ok(None) };
        let ord = address.segment_ord as usize;
        let Some(segment) = self.searcher.segment_readers().get(ord) else { return Ok(None) };
        let allowed = self.allowed.in_segment(ord, segment)?;
        Ok(allowed.filter(|a| a.contains(address.doc_id)).map(|_| title))
    }
}

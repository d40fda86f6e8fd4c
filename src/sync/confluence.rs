//! The Confluence crawl of a run: pages, blog posts, footer and inline comments and attachments of the
//! spaces in scope, into the [`Ledger`].
//!
//! A full run walks the five listings in order, checkpointing after each page of a listing (and within a
//! page, between chunks of items), so an interrupted run resumes at the page and item it stopped at. An
//! incremental run does not ask CQL `lastmodified` what changed: the access listing, read for permissions
//! anyway, carries every page's and blog post's version and space, so comparing versions finds every edit,
//! move and new page without a time-zone-dependent query; the site-wide comment, inline comment and
//! attachment listings (metadata plus versions) find new, edited and deleted ones.
//!
//! Inline comments are indexed as comments, resolved threads included, with their container's access;
//! their labels say they are inline and what their thread's status is (`docs.rs`). Resolving a thread
//! changes no version on the site, so the status is part of what an incremental run compares.
//!
//! Content the access listing did not show is skipped: its permissions are unknown to this run (created
//! after the listing was read, or out of scope), so it waits for the next one.
//!
//! Isolation: the documents of a space whose permissions could not be read this run are kept as last
//! committed. A page or blog post listing asks for many spaces at once; when it fails, a full run lists
//! those spaces one at a time, and a space whose own listing fails keeps its pages and blog posts as last
//! indexed while the others are listed in full.
//!
//! This file does not read permissions (`permissions.rs`), shape documents (`docs.rs`) or extract text
//! (`attachments.rs`).

use std::collections::{BTreeSet, HashMap};
use std::sync::Arc;

use tokio::task::JoinSet;

use super::attachments::{AttachmentPipeline, Fetch};
use super::docs;
use super::ledger::{Ledger, Placement, Step};
use super::listing::{Listing, Walk};
use super::permissions::Permissions;
use super::progress::ProgressEvent;
use super::resolve::AclInput;
use super::runs::Counted;
use super::runs::Mode;
use super::state::Phase;
use super::Error;
use crate::acl::ProfileId;
use crate::atlassian::confluence::Confluence;
use crate::atlassian::model::{Attachment, Comment, Content, ContentKind, Directory, InlineComment, Space};
use crate::config::Source;
use crate::index::IndexDoc;
use crate::index::{DocId, Kind, Product};

/// Items of a listing page processed between two stop points and checkpoints.
const CHUNK: usize = 20;

/// The Confluence side of one run; the engine runs it only when Confluence's permissions were read.
pub(super) struct ConfluenceCrawl<'r, 'p> {
    pub(super) ledger: &'r mut Ledger<'p>,
    pub(super) permissions: &'r Permissions,
    pub(super) site: &'r Arc<Confluence>,
    pub(super) source: &'r Source,
    pub(super) attachments: &'r AttachmentPipeline,
    /// Titles of pages and blog posts, which their comments are titled after.
    pub(super) titles: HashMap<String, String>,
}

/// The phases of a full run, in order.
const PHASES: [Phase; 5] =
    [Phase::Pages, Phase::BlogPosts, Phase::Comments, Phase::InlineComments, Phase::Attachments];

/// A listing page's items.
enum Batch {
    Contents(Vec<Content>),
    Comments(Vec<Comment>),
    InlineComments(Vec<InlineComment>),
    Attachments(Vec<Attachment>),
}

impl Batch {
    fn len(&self) -> usize {
        match self {
            Batch::Contents(v) => v.len(),
            Batch::Comments(v) => v.len(),
            Batch::InlineComments(v) => v.len(),
            Batch::Attachments(v) => v.len(),
        }
    }

    /// The batch without its first `n` items (done before a checkpoint).
    fn skip(self, n: usize) -> Batch {
        fn tail<T>(mut v: Vec<T>, n: usize) -> Vec<T> {
            v.drain(..n.min(v.len()));
            v
        }
        match self {
            Batch::Contents(v) => Batch::Contents(tail(v, n)),
            Batch::Comments(v) => Batch::Comments(tail(v, n)),
            Batch::InlineComments(v) => Batch::InlineComments(tail(v, n)),
            Batch::Attachments(v) => Batch::Attachments(tail(v, n)),
        }
    }
}

/// One page of the listing of a full sync's `phase`.
async fn list(
    site: &Confluence,
    phase: Phase,
    space_ids: &[String],
    include_archived: bool,
    cursor: Option<String>,
) -> Result<(Batch, Option<String>), crate::atlassian::Error> {
    let cursor = cursor.as_deref();
    Ok(match phase {
        Phase::Pages | Phase::BlogPosts => {
            let kind = if phase == Phase::Pages { ContentKind::Page } else { ContentKind::BlogPost };
            let page = site.contents(kind, space_ids, include_archived, cursor).await?;
            (Batch::Contents(page.items), page.next)
        }
        Phase::Comments => {
            let page = site.comments(cursor).await?;
            (Batch::Comments(page.items), page.next)
        }
        Phase::InlineComments => {
            let page = site.inline_comments(cursor).await?;
            (Batch::InlineComments(page.items), page.next)
        }
        Phase::Attachments | Phase::Issues => {
            let page = site.attachments(cursor).await?;
            (Batch::Attachments(page.items), page.next)
        }
    })
}

impl ConfluenceCrawl<'_, '_> {
    /// Every listing, resuming an interrupted full sync at its checkpoint.
    pub(super) async fn full(&mut self) -> Step<Listing> {
        let site = self.site;
        self.keep_unreadable_spaces();
        let space_ids: Vec<String> = self.permissions.snapshot.spaces.keys().cloned().collect();
        let space_ids = space_ids.as_slice();
        let archived = self.source.include_archived();
        let permissions = self.permissions;
        let resume = self.ledger.resume_point(
            Product::Confluence,
            |space| permissions.snapshot.spaces.contains_key(space),
            &permissions.unreadable_spaces,
        );
        let start_phase = resume.as_ref().map_or(Phase::Pages, |c| c.phase);
        // The access listing already counted the pages and blog posts this run will read.
        for kind in [ContentKind::Page, ContentKind::BlogPost] {
            let listed = self
                .permissions
                .listed_content
                .iter()
                .filter(|id| self.permissions.snapshot.access.get(*id).is_some_and(|a| a.kind == kind));
            let total = listed.count() as u64;
            let kind = if kind == ContentKind::Page { Kind::Page } else { Kind::Blogpost };
            self.ledger.report(&ProgressEvent::Total { product: Product::Confluence, kind, total });
        }
        for phase in PHASES {
            if phase < start_phase {
                continue;
            }
            let (cursor, mut offset) = match &resume {
                Some(c) if c.phase == phase => (c.cursor.clone(), c.offset),
                _ => (None, 0),
            };
            self.ledger
                .report(&ProgressEvent::Phase { product: Product::Confluence, phase: phase_name(phase) });
            let counted = Counted::Docs(Product::Confluence, phase_kind(phase));
            let item = format!("listing {}", phase_name(phase));
            let mut walk = Walk::resume(cursor, counted, item.clone());
            let mut failure = None;
            while walk.has_more() {
                self.ledger.set_checkpoint(Product::Confluence, phase, walk.cursor(), offset);
                let batch = match walk.try_next(|cursor| list(site, phase, space_ids, archived, cursor)).await
                {
                    Ok(Some(batch)) => batch,
                    Ok(None) => break,
                    Err(e) => {
                        failure = Some(e);
                        break;
                    }
                };
                self.process_batch(phase, batch, &mut offset, walk.page_cursor()).await?;
                if walk.has_more() {
                    offset = 0;
                    self.ledger.set_checkpoint(Product::Confluence, phase, walk.cursor(), 0);
                    self.ledger.checkpoint_due().await?;
                }
            }
            let Some(error) = failure else { continue };
            match content_kind_of(phase) {
                // A listing of several spaces' content: list them one at a time, so that a space whose
                // own listing fails costs that space only.
                Some(kind) if space_ids.len() > 1 && !error.is_cancelled() => {
                    self.ledger.record.notes.push(format!(
                        "{item} of {} spaces at once failed ({error}): listed one space at a time",
                        space_ids.len()
                    ));
                    self.list_one_space_at_a_time(kind, space_ids).await?;
                }
                _ => {
                    self.ledger.record.fail_call(counted, item, &error, error.to_string());
                    return Ok(Listing::Incomplete);
                }
            }
        }
        Ok(Listing::Complete)
    }

    /// Lists the pages or blog posts of each space on its own (no checkpoints: an interrupted run lists
    /// again from where the failed listing stopped). A space whose listing fails is recorded, and its
    /// stored pages or blog posts are kept as last indexed.
    async fn list_one_space_at_a_time(&mut self, kind: ContentKind, space_ids: &[String]) -> Step {
        let site = self.site;
        let archived = self.source.include_archived();
        let doc_kind = docs::content_kind(kind);
        for space_id in space_ids {
            let key = self.permissions.space(space_id).map(|s| s.key).unwrap_or_default();
            let counted = Counted::Docs(Product::Confluence, doc_kind);
            let mut walk = Walk::new(counted, format!("space {key}: listing {}", phase_name(phase_of(kind))));
            while walk.has_more() {
                self.ledger.stop_point()?;
                let one = std::slice::from_ref(space_id);
                let listed = walk
                    .next(&mut self.ledger.record, |cursor| async move {
                        site.contents(kind, one, archived, cursor.as_deref()).await
                    })
                    .await;
                let Some(page) = listed else { break };
                // What the failed listing indexed already is not indexed twice.
                for content in page {
                    if !self.ledger.touched(&docs::content_id(content.kind, &content.id)) {
                        self.put_content(&content)?;
                    }
                }
            }
            if walk.listing() == Listing::Incomplete {
                self.keep_where(|id, input| {
                    id.kind == doc_kind && input.space_id() == Some(space_id.as_str())
                });
            }
        }
        Ok(())
    }

    /// Keeps every stored document of a space whose permissions could not be read: it is not listed this
    /// run, and must stay as last committed rather than be taken for deleted.
    fn keep_unreadable_spaces(&mut self) {
        let unreadable = &self.permissions.unreadable_spaces;
        if unreadable.is_empty() {
            return;
        }
        let unreadable: BTreeSet<String> = unreadable.clone();
        self.keep_where(|_, input| input.space_id().is_some_and(|s| unreadable.contains(s)));
    }

    /// Marks the stored Confluence documents `wanted` accepts as seen, unless this run wrote them.
    fn keep_where(&mut self, wanted: impl Fn(&DocId, &AclInput) -> bool) {
        let kept: Vec<DocId> = self
            .ledger
            .state
            .docs
            .iter()
            .filter(|(id, doc)| id.product == Product::Confluence && wanted(id, &doc.acl))
            .map(|(id, _)| id.clone())
            .filter(|id| !self.ledger.touched(id))
            .collect();
        for id in kept {
            self.ledger.keep(&id);
        }
    }

    /// Indexes one listing page's items from `offset` on, checkpointing (with the offset) and stopping on
    /// request between chunks.
    async fn process_batch(
        &mut self,
        phase: Phase,
        batch: Batch,
        offset: &mut usize,
        cursor: Option<String>,
    ) -> Step {
        let len = batch.len();
        let mut batch = batch.skip(*offset);
        while *offset < len {
            self.ledger.stop_point()?;
            let take = CHUNK.min(len - *offset);
            match &mut batch {
                Batch::Contents(items) => {
                    for c in items.drain(..take) {
                        self.put_content(&c)?;
                    }
                }
                Batch::Comments(items) => {
                    for c in items.drain(..take) {
                        self.put_comment(&c)?;
                    }
                }
                Batch::InlineComments(items) => {
                    for c in items.drain(..take) {
                        self.put_inline_comment(&c)?;
                    }
                }
                Batch::Attachments(items) => {
                    let chunk: Vec<Attachment> = items.drain(..take).collect();
                    self.put_attachments(chunk).await?;
                }
            }
            *offset += take;
            let (product, kind) = (Product::Confluence, phase_kind(phase));
            self.ledger.report(&ProgressEvent::Items { product, kind, done: *offset as u64 });
            self.ledger.set_checkpoint(Product::Confluence, phase, cursor.clone(), *offset);
            self.ledger.checkpoint_due().await?;
        }
        Ok(())
    }

    /// What changed since the last run: version diffs against the access listing, then the comment and
    /// attachment listings.
    pub(super) async fn incremental(&mut self) -> Step<Listing> {
        let site = self.site;
        let permissions = self.permissions;
        self.keep_unreadable_spaces();
        self.ledger.report(&ProgressEvent::Phase { product: Product::Confluence, phase: "changed content" });
        // The access listing holds every page's and blog post's version: fetch what is new or changed.
        let mut changed: Vec<(ContentKind, String)> = Vec::new();
        let mut unchanged: Vec<DocId> = Vec::new();
        for access in
            permissions.snapshot.access.values().filter(|a| permissions.listed_content.contains(&a.id))
        {
            let id = docs::content_id(access.kind, &access.id);
            let same = self.ledger.state.docs.get(&id).is_some_and(|doc| {
                doc.version == access.version
                    && matches!(&doc.acl, AclInput::Confluence { space_id, .. } if *space_id == access.space_id)
            });
            if same {
                unchanged.push(id);
            } else {
                changed.push((access.kind, access.id.clone()));
            }
        }
        for id in unchanged {
            self.ledger.keep(&id);
        }
        let concurrency = self.source.limits().concurrency.get();
        for chunk in changed.chunks(concurrency.max(1)) {
            self.ledger.stop_point()?;
            let mut tasks = JoinSet::new();
            for (kind, id) in chunk.iter().cloned() {
                let site = site.clone();
                tasks.spawn(async move { (id.clone(), kind, site.content(kind, &id).await) });
            }
            while let Some(joined) = tasks.join_next().await {
                let (id, kind, fetched) = joined.map_err(|e| Error::Task(e.to_string()))?;
                let doc_id = docs::content_id(kind, &id);
                match fetched {
                    Ok(Some(content)) => self.put_content(&content)?,
                    // Gone since the access listing was read: reconciliation deletes it.
                    Ok(None) => {}
                    Err(e) => {
                        self.ledger.record.fail_call(&doc_id, doc_id.to_string(), &e, e.to_string());
                        // Keep the old copy rather than delete something that merely failed to load.
                        self.ledger.keep(&doc_id);
                    }
                }
            }
        }
        self.ledger.report(&ProgressEvent::Phase { product: Product::Confluence, phase: "comments" });
        let mut comments = Walk::new(Counted::Docs(Product::Confluence, Kind::Comment), "listing comments");
        while comments.has_more() {
            self.ledger.stop_point()?;
            let listed =
                comments.next(&mut self.ledger.record, |c| async move { site.comments(c.as_deref()).await });
            let Some(page) = listed.await else { break };
            for c in &page {
                self.put_comment(c)?;
            }
        }
        self.ledger.report(&ProgressEvent::Phase { product: Product::Confluence, phase: "inline comments" });
        let mut inline =
            Walk::new(Counted::Docs(Product::Confluence, Kind::Comment), "listing inline comments");
        while inline.has_more() {
            self.ledger.stop_point()?;
            let listed = inline
                .next(&mut self.ledger.record, |c| async move { site.inline_comments(c.as_deref()).await });
            let Some(page) = listed.await else { break };
            for c in &page {
                self.put_inline_comment(c)?;
            }
        }
        self.ledger.report(&ProgressEvent::Phase { product: Product::Confluence, phase: "attachments" });
        let attachments_of = Counted::Docs(Product::Confluence, Kind::Attachment);
        let mut attachments = Walk::new(attachments_of, "listing attachments");
        while attachments.has_more() {
            self.ledger.stop_point()?;
            let listed = attachments
                .next(&mut self.ledger.record, |c| async move { site.attachments(c.as_deref()).await });
            let Some(page) = listed.await else { break };
            self.put_attachments(page).await?;
        }
        let complete = [comments.listing(), inline.listing(), attachments.listing()]
            .iter()
            .all(|l| *l == Listing::Complete);
        Ok(if complete { Listing::Complete } else { Listing::Incomplete })
    }

    fn put_content(&mut self, content: &Content) -> Result<(), Error> {
        let Some(space) = self.permissions.space(&content.space_id) else { return Ok(()) };
        if !self.permissions.listed_content.contains(&content.id) {
            // Not in the access listing: out of scope (archived) or created after it was read. Its
            // permissions are unknown to this run, so it waits for the next one.
            return Ok(());
        }
        let input = AclInput::Confluence { space_id: space.id.clone(), content_id: content.id.clone() };
        let id = docs::content_id(content.kind, &content.id);
        self.ledger.record.counts_mut(&id).seen += 1;
        let profile = self.ledger.resolve(&self.permissions.snapshot, &id, &input);
        let mut doc = docs::page_doc(content, &space, &self.permissions.snapshot.directory, profile);
        self.locate(&mut doc, &id, &space, &content.id);
        self.titles.insert(content.id.clone(), content.title.clone());
        self.ledger.bump_watermark(Product::Confluence, content.updated);
        self.ledger.put(doc, input, Placement::space(&space, None))
    }

    /// Writes where `doc` sits (its space's name, the pages above it) as the snapshot says; `holder` is the
    /// page or blog post its permissions come from.
    fn locate(&self, doc: &mut IndexDoc, id: &DocId, space: &Space, holder: &str) {
        docs::Location::of(id, space, holder, &self.permissions.snapshot.access).apply(doc);
    }

    /// The title of a page or blog post, from this run or the index.
    fn container_title(&mut self, kind: ContentKind, id: &str) -> Result<String, Error> {
        if let Some(title) = self.titles.get(id) {
            return Ok(title.clone());
        }
        let title = self.ledger.stored(&docs::content_id(kind, id))?.map(|d| d.title).unwrap_or_default();
        self.titles.insert(id.to_string(), title.clone());
        Ok(title)
    }

    fn put_comment(&mut self, comment: &Comment) -> Result<(), Error> {
        self.put_comment_as(comment, comment.version, |comment, title, space, directory, profile| {
            docs::comment_doc(comment, title, space, directory, profile)
        })
    }

    fn put_inline_comment(&mut self, inline: &InlineComment) -> Result<(), Error> {
        self.put_comment_as(
            &inline.comment,
            docs::inline_version(inline),
            |_, title, space, directory, profile| {
                docs::inline_comment_doc(inline, title, space, directory, profile)
            },
        )
    }

    /// Indexes a comment whose container is in scope, as `make` shapes it, unless an incremental run
    /// holds it at `version` already.
    fn put_comment_as(
        &mut self,
        comment: &Comment,
        version: u64,
        make: impl FnOnce(&Comment, &str, &Space, &Directory, ProfileId) -> IndexDoc,
    ) -> Result<(), Error> {
        let Some(space) = self.permissions.container_space(&comment.container_id) else { return Ok(()) };
        let id = DocId::confluence(Kind::Comment, &comment.id);
        self.ledger.record.counts_mut(&id).seen += 1;
        let same = self.ledger.state.docs.get(&id).is_some_and(|d| d.version == version);
        if same && self.ledger.mode != Mode::Full {
            self.ledger.keep(&id);
            return Ok(());
        }
        let input =
            AclInput::Confluence { space_id: space.id.clone(), content_id: comment.container_id.clone() };
        let profile = self.ledger.resolve(&self.permissions.snapshot, &id, &input);
        let title = self.container_title(comment.container_kind, &comment.container_id)?;
        let mut doc = make(comment, &title, &space, &self.permissions.snapshot.directory, profile);
        self.locate(&mut doc, &id, &space, &comment.container_id);
        self.ledger.bump_watermark(Product::Confluence, comment.updated);
        self.ledger.put(doc, input, Placement::space(&space, Some(comment.container_id.clone())))
    }

    /// Downloads and extracts new or changed attachments, then indexes each (with its text, or with its
    /// title alone when the bytes could not be had).
    async fn put_attachments(&mut self, attachments: Vec<Attachment>) -> Step {
        let mut pending = Vec::new();
        for attachment in attachments {
            let Some(space) = self.permissions.container_space(&attachment.container_id) else { continue };
            let id = DocId::confluence(Kind::Attachment, &attachment.id);
            self.ledger.record.counts_mut(&id).seen += 1;
            let stored = self.ledger.state.docs.get(&id);
            if stored.is_some_and(|d| d.version == attachment.version && !d.extraction_outdated()) {
                self.ledger.keep(&id);
                continue;
            }
            pending.push((attachment, space));
        }
        let cap = self.attachments.max_bytes();
        let fetches = pending
            .iter()
            .map(|(a, _)| {
                let (site, attachment) = (self.site.clone(), a.clone());
                let download = async move { site.download(&attachment, cap).await };
                Fetch::new(a.size, &a.title, &a.media_type, download)
            })
            .collect();
        let texts = self.attachments.run(fetches).await?;
        for ((attachment, space), text) in pending.into_iter().zip(texts) {
            let id = DocId::confluence(Kind::Attachment, &attachment.id);
            let (text, stamp) = text.into_text(&mut self.ledger.record, &id);
            let input = AclInput::Confluence {
                space_id: space.id.clone(),
                content_id: attachment.container_id.clone(),
            };
            let profile = self.ledger.resolve(&self.permissions.snapshot, &id, &input);
            let mut doc = docs::attachment_doc(
                &attachment,
                text,
                &space,
                &self.permissions.snapshot.directory,
                profile,
            );
            self.locate(&mut doc, &id, &space, &attachment.container_id);
            self.ledger.bump_watermark(Product::Confluence, attachment.updated);
            self.ledger.put(doc, input, Placement::space(&space, Some(attachment.container_id.clone())))?;
            self.ledger.stamp(&id, stamp);
        }
        Ok(())
    }
}

fn phase_name(phase: Phase) -> &'static str {
    match phase {
        Phase::Pages => "pages",
        Phase::BlogPosts => "blog posts",
        Phase::Comments => "comments",
        Phase::InlineComments => "inline comments",
        Phase::Attachments => "attachments",
        Phase::Issues => "issues",
    }
}

/// The kind of document a Confluence listing phase lists.
fn phase_kind(phase: Phase) -> Kind {
    match phase {
        Phase::Pages => Kind::Page,
        Phase::BlogPosts => Kind::Blogpost,
        Phase::Comments | Phase::InlineComments => Kind::Comment,
        Phase::Attachments | Phase::Issues => Kind::Attachment,
    }
}

/// The kind of content a listing phase lists, for the phases that list pages or blog posts.
fn content_kind_of(phase: Phase) -> Option<ContentKind> {
    match phase {
        Phase::Pages => Some(ContentKind::Page),
        Phase::BlogPosts => Some(ContentKind::BlogPost),
        Phase::Comments | Phase::InlineComments | Phase::Attachments | Phase::Issues => None,
    }
}

/// The phase that lists a content kind.
fn phase_of(kind: ContentKind) -> Phase {
    match kind {
        ContentKind::Page => Phase::Pages,
        ContentKind::BlogPost => Phase::BlogPosts,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn batches_resume_after_their_offset() {
        let batch = Batch::Comments(Vec::new());
        assert_eq!(batch.skip(3).len(), 0);
    }
}

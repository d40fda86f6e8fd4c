//! The Jira crawl of a run: issues of the projects in scope, with their comments and attachments, into
//! the [`Ledger`].
//!
//! A full run walks the ids of every issue (checkpointing by page token and offset) and fetches them 100 at
//! a time. Jira has no listing of versions, so an incremental run takes changed issues from
//! `updated >= watermark − overlap` (epoch millis), deletions from the ids-only listing, and deleted
//! comments from the comment-existence check; a changed issue's sub-tasks are fetched again because they
//! show their parent's security level. A changed issue's comments are read again; its attachments never
//! change in Jira, so one already indexed is only re-pointed.
//!
//! An issue is in the state's `reread` set from when it is indexed until its comments have been read, and
//! so is one whose bulk fetch fails or one of whose attachments could not be downloaded: a comment listing
//! that fails, or a run stopped in between, leaves it there. The watermark moves past it with the rest of the run, so the next run reads it and its comments
//! again whatever its version says.
//!
//! This file does not read the permission snapshot (`permissions.rs`, except the actors of a role a new
//! comment names), shape documents (`docs.rs`) or extract text (`attachments.rs`).

use std::collections::{BTreeSet, HashMap, HashSet};
use std::sync::Arc;
use std::time::Duration;

use futures_util::future::join_all;

use super::attachments::{AttachmentPipeline, AttachmentText, Fetch};
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
use crate::atlassian::jira::Jira;
use crate::atlassian::model::{Issue, IssueAttachment, IssueComment, PortalRequest, Project};
use crate::index::{DocId, Kind, Product};

const ISSUES: Counted = Counted::Docs(Product::Jira, Kind::Issue);

/// Issues fetched per call (Jira's bulk fetch limit).
const ISSUES_PER_FETCH: usize = 100;
/// Stored comments asked about per existence check.
const COMMENTS_PER_CHECK: usize = 1000;

/// The Jira side of one run; the engine runs it only when Jira's projects and permissions were read.
pub(super) struct JiraCrawl<'r, 'p> {
    pub(super) ledger: &'r mut Ledger<'p>,
    /// Mutable: the actors of a role a fetched comment is restricted to are read when it is met.
    pub(super) permissions: &'r mut Permissions,
    pub(super) site: &'r Arc<Jira>,
    pub(super) attachments: &'r AttachmentPipeline,
    /// How far before the watermark an incremental run looks again.
    pub(super) overlap: Duration,
    /// Stored Jira comments and attachments by issue id, built when first needed.
    pub(super) children: Option<HashMap<String, Vec<DocId>>>,
}

impl JiraCrawl<'_, '_> {
    fn project_keys(&self) -> Vec<String> {
        self.permissions.snapshot.projects.values().map(|p| p.key.clone()).collect()
    }

    /// Keeps every stored document of a project whose permissions could not be read: it is not listed this
    /// run, and must stay as last committed rather than be taken for deleted.
    fn keep_unreadable_projects(&mut self) {
        if self.permissions.unreadable_projects.is_empty() {
            return;
        }
        let kept: Vec<DocId> = self
            .ledger
            .state
            .docs
            .iter()
            .filter(|(id, doc)| {
                id.product == Product::Jira
                    && doc.acl.project_id().is_some_and(|p| self.permissions.unreadable_projects.contains(p))
            })
            .map(|(id, _)| id.clone())
            .collect();
        for id in kept {
            self.ledger.keep(&id);
        }
    }

    /// Every issue of the projects in scope, resuming an interrupted full sync at its checkpoint.
    pub(super) async fn full(&mut self) -> Step<Listing> {
        let site = self.site;
        self.keep_unreadable_projects();
        let keys = self.project_keys();
        let keys = keys.as_slice();
        let projects = &self.permissions.snapshot.projects;
        let resume = self.ledger.resume_point(
            Product::Jira,
            |project| projects.contains_key(project),
            &self.permissions.unreadable_projects,
        );
        let (token, mut offset) = resume.map_or((None, 0), |c| (c.cursor, c.offset));
        self.ledger.report(&ProgressEvent::Phase { product: Product::Jira, phase: "issues" });
        if keys.is_empty() {
            return Ok(Listing::Complete);
        }
        // For progress only: a site that cannot count (an old or restricted API) just shows no total.
        match site.approximate_issue_count(keys).await {
            Ok(Some(total)) => {
                self.ledger.report(&ProgressEvent::Total { product: Product::Jira, kind: Kind::Issue, total })
            }
            Ok(None) => {}
            Err(e) => tracing::debug!(error = %e, "no approximate issue count; progress shows no total"),
        }
        let mut walk = Walk::resume(token, ISSUES, "listing issues");
        while walk.has_more() {
            self.ledger.set_checkpoint(Product::Jira, Phase::Issues, walk.cursor(), offset);
            let listed = walk.next(&mut self.ledger.record, |token| async move {
                site.issue_ids(keys, None, token.as_deref()).await
            });
            let Some(ids) = listed.await else { break };
            while offset < ids.len() {
                let end = (offset + ISSUES_PER_FETCH).min(ids.len());
                self.fetch_issues(&ids[offset..end]).await?;
                offset = end;
                let (product, kind) = (Product::Jira, Kind::Issue);
                self.ledger.report(&ProgressEvent::Items { product, kind, done: offset as u64 });
                self.ledger.set_checkpoint(Product::Jira, Phase::Issues, walk.page_cursor(), offset);
                self.ledger.checkpoint_due().await?;
            }
            if walk.has_more() {
                offset = 0;
            }
        }
        Ok(walk.listing())
    }

    /// Issues changed since the watermark (minus the overlap), issues never indexed, deleted issues and
    /// deleted comments.
    pub(super) async fn incremental(&mut self) -> Step<Listing> {
        let site = self.site;
        self.keep_unreadable_projects();
        let keys = self.project_keys();
        let keys = keys.as_slice();
        self.ledger.report(&ProgressEvent::Phase { product: Product::Jira, phase: "changed issues" });
        // Every live issue id (ids only, cheap): what is not listed was deleted or archived.
        let mut live = BTreeSet::new();
        let mut walk = Walk::new(ISSUES, "listing issues");
        while let Some(ids) = walk
            .next(&mut self.ledger.record, |token| async move {
                site.issue_ids(keys, None, token.as_deref()).await
            })
            .await
        {
            live.extend(ids);
        }
        if walk.listing() == Listing::Incomplete {
            return Ok(Listing::Incomplete);
        }
        let overlap = chrono::Duration::from_std(self.overlap).unwrap_or(chrono::Duration::zero());
        let since = self.ledger.state.jira.watermark.map(|w| w - overlap);
        let mut changed: BTreeSet<String> = BTreeSet::new();
        if let Some(since) = since {
            let mut walk = Walk::new(ISSUES, "listing changed issues");
            while let Some(ids) = walk
                .next(&mut self.ledger.record, |token| async move {
                    site.issue_ids(keys, Some(since), token.as_deref()).await
                })
                .await
            {
                changed.extend(ids);
            }
            if walk.listing() == Listing::Incomplete {
                return Ok(Listing::Incomplete);
            }
        }
        // Issues listed but never indexed (a failure last time, a project newly in scope) count as changed;
        // without a watermark (a full sync that saw no issue) every issue does.
        for id in &live {
            if since.is_none() || !self.ledger.state.docs.contains_key(&DocId::jira(Kind::Issue, id)) {
                changed.insert(id.clone());
            }
        }
        // Issues a run could not read in full; deleted ones are forgotten.
        let reread = &mut self.ledger.state.jira.reread;
        reread.retain(|id| live.contains(id));
        changed.extend(reread.iter().cloned());
        for id in live.iter().filter(|id| !changed.contains(*id)) {
            self.ledger.keep(&DocId::jira(Kind::Issue, id));
            self.keep_children(id);
        }
        let changed: Vec<String> = changed.into_iter().filter(|id| live.contains(id)).collect();
        let (product, kind) = (Product::Jira, Kind::Issue);
        self.ledger.report(&ProgressEvent::Total { product, kind, total: changed.len() as u64 });
        for chunk in changed.chunks(ISSUES_PER_FETCH) {
            self.ledger.stop_point()?;
            self.fetch_issues(chunk).await?;
            self.ledger.report(&ProgressEvent::Items { product, kind, done: 0 });
        }
        // Comments deleted from issues whose comments were not read again (unchanged issues, and issues in
        // the overlap window whose version had not moved): ask which of the stored ones still exist.
        let stored_comments: Vec<String> = self
            .ledger
            .state
            .docs
            .keys()
            .filter(|id| id.product == Product::Jira && id.kind == Kind::Comment && !self.ledger.touched(id))
            .map(|id| id.native.clone())
            .collect();
        for chunk in stored_comments.chunks(COMMENTS_PER_CHECK) {
            match site.existing_comments(chunk).await {
                Ok(existing) => {
                    for id in chunk.iter().filter(|id| !existing.contains(*id)) {
                        if let Some(doc) = self.ledger.state.docs.get_mut(&DocId::jira(Kind::Comment, id)) {
                            // Not seen: reconciliation deletes it.
                            doc.seen_in.clear();
                        }
                    }
                }
                Err(e) => {
                    self.ledger.record.fail_call(
                        Counted::Docs(Product::Jira, Kind::Comment),
                        "checking comments",
                        &e,
                        e.to_string(),
                    );
                    return Ok(Listing::Incomplete);
                }
            }
        }
        Ok(Listing::Complete)
    }

    /// Fetches issues (≤100 per call) and indexes them, recording ids Jira could not return.
    async fn fetch_issues(&mut self, ids: &[String]) -> Step {
        let site = self.site;
        for chunk in ids.chunks(ISSUES_PER_FETCH) {
            self.ledger.stop_point()?;
            match site.issues(chunk).await {
                Ok((issues, errors)) => {
                    for (id, message) in errors {
                        self.ledger.record.fail(ISSUES, DocId::jira(Kind::Issue, id).to_string(), message);
                    }
                    // A changed parent's sub-tasks show its security level: fetch them again too.
                    let known: HashSet<&str> = chunk.iter().map(String::as_str).collect();
                    let subtasks: Vec<String> = issues
                        .iter()
                        .flat_map(|i| i.subtask_ids.iter())
                        .filter(|id| !known.contains(id.as_str()))
                        .cloned()
                        .collect();
                    self.put_issues(issues).await?;
                    if !subtasks.is_empty() && self.ledger.mode != Mode::Full {
                        Box::pin(self.fetch_issues(&subtasks)).await?;
                    }
                }
                Err(e) => {
                    for id in chunk {
                        let doc = DocId::jira(Kind::Issue, id);
                        self.ledger.record.fail_call(&doc, doc.to_string(), &e, format!("bulk fetch: {e}"));
                        self.ledger.keep(&doc);
                        self.keep_children(id);
                        self.ledger.state.jira.reread.insert(id.clone());
                    }
                }
            }
        }
        Ok(())
    }

    /// Indexes a batch of fetched issues: the issue, its comments (re-read when the issue changed) and its
    /// attachments (downloaded when new).
    async fn put_issues(&mut self, issues: Vec<Issue>) -> Step {
        let site = self.site;
        let mut changed = Vec::new();
        for issue in issues {
            let Some(project) = self.permissions.snapshot.projects.get(&issue.project_id).cloned() else {
                continue;
            };
            let id = DocId::jira(Kind::Issue, &issue.id);
            self.ledger.record.counts_mut(&id).seen += 1;
            if let PortalRequest::Unreadable(reason) = &issue.portal {
                self.ledger.record.notes.push(format!("{id}: {reason}: readable by its agents only"));
            }
            let version = issue.updated.map_or(0, |t| t.timestamp_millis().max(0) as u64);
            let input = AclInput::of_issue(&issue);
            let same =
                self.ledger.state.docs.get(&id).is_some_and(|d| d.version == version && d.acl == input)
                    && !self.ledger.state.jira.reread.contains(&issue.id);
            if same && self.ledger.mode != Mode::Full {
                self.ledger.keep(&id);
                self.keep_children(&issue.id);
                continue;
            }
            let profile = self.ledger.resolve(&self.permissions.snapshot, &id, &input);
            let doc = docs::issue_doc(&issue, &project, &self.permissions.snapshot.directory, profile);
            self.ledger.bump_watermark(Product::Jira, issue.updated);
            self.ledger.put(doc, input, Placement::project(&project, None))?;
            // Until its comments are read: a run stopped before then must not take the issue as done.
            self.ledger.state.jira.reread.insert(issue.id.clone());
            changed.push((issue, project));
        }
        if changed.is_empty() {
            return Ok(());
        }
        // The comments and the attachments of every changed issue are fetched at once: the client keeps
        // them within the site's limits, and a request the site asks to wait holds up only itself, not a
        // group of others.
        self.ledger.stop_point()?;
        let attachments: Vec<(IssueAttachment, Issue, Project)> = changed
            .iter()
            .flat_map(|(issue, project)| {
                issue.attachments.iter().map(move |a| (a.clone(), issue.clone(), project.clone()))
            })
            .collect();
        let pending = self.pending_issue_attachments(attachments)?;
        let cap = self.attachments.max_bytes();
        let fetches = pending
            .iter()
            .map(|(a, _, _)| {
                let (site, attachment) = (site.clone(), a.clone());
                let download = async move { site.download(&attachment, cap).await };
                Fetch::new(a.size, &a.filename, &a.media_type, download)
            })
            .collect();
        let pipeline = self.attachments;
        let (results, texts) = tokio::join!(
            join_all(changed.iter().map(|(issue, _)| site.comments(&issue.id, &issue.project_id))),
            pipeline.run(fetches)
        );
        let fetched: Vec<(String, &[IssueComment])> = changed
            .iter()
            .zip(&results)
            .filter_map(|((issue, _), r)| r.as_ref().ok().map(|c| (issue.project_id.clone(), c.as_slice())))
            .collect();
        self.permissions.read_comment_roles(self.ledger, site, &fetched).await;
        for ((issue, project), comments) in changed.iter().zip(results) {
            self.ledger.stop_point()?;
            match comments {
                Ok(comments) => {
                    for comment in comments {
                        self.put_issue_comment(&comment, issue, project)?;
                    }
                    self.ledger.state.jira.reread.remove(&issue.id);
                }
                Err(e) => {
                    let issue_doc = DocId::jira(Kind::Issue, &issue.id);
                    self.ledger.record.fail_call(
                        Counted::Docs(Product::Jira, Kind::Comment),
                        format!("comments of {issue_doc}"),
                        &e,
                        e.to_string(),
                    );
                    self.keep_comments(&issue.id);
                }
            }
        }
        self.index_issue_attachments(pending, texts?)
    }

    fn put_issue_comment(
        &mut self,
        comment: &IssueComment,
        issue: &Issue,
        project: &Project,
    ) -> Result<(), Error> {
        let id = DocId::jira(Kind::Comment, &comment.id);
        self.ledger.record.counts_mut(&id).seen += 1;
        let input = AclInput::of_issue_comment(issue, comment);
        let profile = self.ledger.resolve(&self.permissions.snapshot, &id, &input);
        let doc =
            docs::issue_comment_doc(comment, issue, project, &self.permissions.snapshot.directory, profile);
        self.ledger.put(doc, input, Placement::project(project, Some(issue.id.clone())))
    }

    /// The attachments to download: those not indexed yet (or whose text a newer extractor may read).
    /// One already indexed is re-pointed to its issue's access, if need be, without a download.
    fn pending_issue_attachments(
        &mut self,
        attachments: Vec<(IssueAttachment, Issue, Project)>,
    ) -> Result<Vec<(IssueAttachment, Issue, Project)>, Error> {
        let mut pending = Vec::new();
        for (attachment, issue, project) in attachments {
            let id = DocId::jira(Kind::Attachment, &attachment.id);
            self.ledger.record.counts_mut(&id).seen += 1;
            let input = AclInput::of_issue_attachment(&issue);
            // Jira attachments never change: one already indexed is re-pointed if need be, and downloaded again
            // only when a newer extractor may read what an older one could not.
            if self.ledger.state.docs.get(&id).is_some_and(|d| !d.extraction_outdated()) {
                if let Some(mut stored) = self.ledger.stored(&id)? {
                    stored.acl_profile = self.ledger.resolve(&self.permissions.snapshot, &id, &input);
                    self.ledger.put(stored, input, Placement::project(&project, Some(issue.id.clone())))?;
                    continue;
                }
            }
            pending.push((attachment, issue, project));
        }
        Ok(pending)
    }

    /// Indexes downloaded attachments with their text (or their name alone, when there is none).
    fn index_issue_attachments(
        &mut self,
        pending: Vec<(IssueAttachment, Issue, Project)>,
        texts: Vec<AttachmentText>,
    ) -> Step {
        for ((attachment, issue, project), text) in pending.into_iter().zip(texts) {
            let id = DocId::jira(Kind::Attachment, &attachment.id);
            if matches!(text, AttachmentText::Unread(_)) {
                // Jira lists an issue's attachments only when the issue is read again.
                self.ledger.state.jira.reread.insert(issue.id.clone());
            }
            let (text, stamp) = text.into_text(&mut self.ledger.record, &id);
            let input = AclInput::of_issue_attachment(&issue);
            let profile = self.ledger.resolve(&self.permissions.snapshot, &id, &input);
            let doc = docs::issue_attachment_doc(
                &attachment,
                text,
                &issue,
                &project,
                &self.permissions.snapshot.directory,
                profile,
            );
            self.ledger.put(doc, input, Placement::project(&project, Some(issue.id.clone())))?;
            self.ledger.stamp(&id, stamp);
        }
        Ok(())
    }

    /// Marks the stored comments and attachments of an unchanged issue as seen.
    fn keep_children(&mut self, issue_id: &str) {
        self.keep_children_where(issue_id, |_| true);
    }

    /// Marks the stored comments of an issue as seen (when they could not be read again).
    fn keep_comments(&mut self, issue_id: &str) {
        self.keep_children_where(issue_id, |id| id.kind == Kind::Comment);
    }

    fn keep_children_where(&mut self, issue_id: &str, wanted: impl Fn(&DocId) -> bool) {
        let state = &self.ledger.state;
        let children = self.children.get_or_insert_with(|| {
            // Built once per run: looking children up by scanning every document per issue is quadratic.
            let mut children: HashMap<String, Vec<DocId>> = HashMap::new();
            for (id, doc) in state.docs.iter().filter(|(id, _)| id.product == Product::Jira) {
                if let Some(container) = &doc.container {
                    children.entry(container.clone()).or_default().push(id.clone());
                }
            }
            children
        });
        let children: Vec<DocId> = children
            .get(issue_id)
            .map(|ids| ids.iter().filter(|id| wanted(id)).cloned().collect())
            .unwrap_or_default();
        for id in children {
            self.ledger.keep(&id);
        }
    }
}

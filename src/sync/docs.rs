//! Crawled Confluence and Jira items → [`IndexDoc`]s: ids, titles, text, metadata.
//!
//! Each converter is a pure function of the item, what it sits in (space, container, issue, project), the
//! [`Directory`] (author and mention display names) and the ACL profile [`super::resolve`] gave it.
//! Documents are named by [`DocId`]s, `{product}:{kind}:{id as the API serves it}`: `confluence:page:123`,
//! `confluence:blogpost:123`, `confluence:comment:123`, `confluence:attachment:att123`, `jira:issue:10042`,
//! `jira:comment:10042`, `jira:attachment:10042`. Bodies become text here (storage XHTML with mentions named,
//! ADF); attachment text is extracted by the caller, which runs the isolated extractor, and passed in.
//!
//! Nothing here fetches, extracts files or decides permissions.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};

use crate::acl::ProfileId;
use crate::atlassian::model::{
    Attachment, Comment, Content, ContentAccess, ContentKind, Directory, InlineComment, InlineResolution,
    Issue, IssueAttachment, IssueComment, Project, Space,
};
use crate::extract::{adf_to_text, storage_to_text, UserNames};
use crate::index::{DocId, IndexDoc, Kind, Product};

/// The id of a page's or blog post's document.
pub fn content_id(kind: ContentKind, id: &str) -> DocId {
    DocId::confluence(content_kind(kind), id)
}

/// The title an issue's document is shown with, `KEY: summary`; its comments are shown titled after it.
pub fn issue_title(issue: &Issue) -> String {
    format!("{}: {}", issue.key, issue.summary)
}

/// A page or blog post. Its container is its parent page, if any.
pub fn page_doc(content: &Content, space: &Space, directory: &Directory, profile: ProfileId) -> IndexDoc {
    let mut doc = IndexDoc::named(&content_id(content.kind, &content.id), profile);
    doc.title = content.title.clone();
    doc.body = storage_to_text(&content.body, &Names(directory));
    doc.space = Some(space.key.clone());
    doc.container = content.parent_id.as_deref().map(|p| DocId::confluence(Kind::Page, p).to_string());
    doc.labels = content.labels.clone();
    set_author(&mut doc, content.author.as_deref(), directory);
    set_times(&mut doc, content.created, content.updated);
    doc.url = content.url.clone();
    doc.version = content.version;
    doc
}

/// A footer comment (or reply) on a page or blog post, titled after its container.
pub fn comment_doc(
    comment: &Comment,
    container_title: &str,
    space: &Space,
    directory: &Directory,
    profile: ProfileId,
) -> IndexDoc {
    let mut doc = IndexDoc::named(&DocId::confluence(Kind::Comment, &comment.id), profile);
    doc.title = format!("Comment on {container_title}");
    doc.body = storage_to_text(&comment.body, &Names(directory));
    doc.space = Some(space.key.clone());
    doc.container = Some(content_id(comment.container_kind, &comment.container_id).to_string());
    set_author(&mut doc, comment.author.as_deref(), directory);
    set_times(&mut doc, comment.created, comment.updated);
    doc.url = comment.url.clone();
    doc.version = comment.version;
    doc
}

/// An inline comment: a comment (titled after its container, read as it) whose labels say it is inline
/// and what its thread's status is: `inline-comment` and `inline-comment:resolved` (or `:open`,
/// `:reopened`, `:dangling`; none for a status the site did not say). A colon cannot be part of a
/// Confluence label, so these never meet a label someone wrote.
pub fn inline_comment_doc(
    inline: &InlineComment,
    container_title: &str,
    space: &Space,
    directory: &Directory,
    profile: ProfileId,
) -> IndexDoc {
    let mut doc = comment_doc(&inline.comment, container_title, space, directory, profile);
    doc.title = format!("Inline comment on {container_title}");
    doc.labels.push(INLINE_LABEL.to_owned());
    if let Some(status) = resolution_name(&inline.resolution) {
        doc.labels.push(format!("{INLINE_LABEL}:{status}"));
    }
    doc.version = inline_version(inline);
    doc
}

/// The label every inline comment's document carries.
pub const INLINE_LABEL: &str = "inline-comment";

/// The version an inline comment's document is stored with: the site's version, times 8, plus its
/// thread's status. Resolving or reopening a thread changes no version on the site, and the status is
/// shown, so a change of status must read as a change.
pub fn inline_version(inline: &InlineComment) -> u64 {
    let status = match inline.resolution {
        InlineResolution::Open => 1,
        InlineResolution::Reopened => 2,
        InlineResolution::Resolved => 3,
        InlineResolution::Dangling => 4,
        InlineResolution::Unknown(_) => 0,
    };
    inline.comment.version.saturating_mul(8).saturating_add(status)
}

fn resolution_name(resolution: &InlineResolution) -> Option<&'static str> {
    match resolution {
        InlineResolution::Open => Some("open"),
        InlineResolution::Reopened => Some("reopened"),
        InlineResolution::Resolved => Some("resolved"),
        InlineResolution::Dangling => Some("dangling"),
        InlineResolution::Unknown(_) => None,
    }
}

/// A Confluence attachment with the text extracted from its bytes (empty when extraction failed).
pub fn attachment_doc(
    attachment: &Attachment,
    text: String,
    space: &Space,
    directory: &Directory,
    profile: ProfileId,
) -> IndexDoc {
    let mut doc = IndexDoc::named(&DocId::confluence(Kind::Attachment, &attachment.id), profile);
    doc.title = attachment.title.clone();
    doc.body = text;
    doc.space = Some(space.key.clone());
    doc.container = Some(content_id(attachment.container_kind, &attachment.container_id).to_string());
    set_author(&mut doc, attachment.author.as_deref(), directory);
    set_times(&mut doc, attachment.created, attachment.updated);
    doc.url = attachment.url.clone();
    doc.version = attachment.version;
    doc
}

/// A Jira issue, searched by its summary and shown as `KEY: summary`, with its description as text. Its container is its parent issue,
/// if any. Jira issues have no version number; the update time (epoch millis) stands in for it.
pub fn issue_doc(issue: &Issue, project: &Project, directory: &Directory, profile: ProfileId) -> IndexDoc {
    let mut doc = IndexDoc::named(&DocId::jira(Kind::Issue, &issue.id), profile);
    doc.title = issue.summary.clone();
    doc.display_title = Some(issue_title(issue));
    doc.body = adf_to_text(&issue.description);
    doc.project = Some(project.key.clone());
    doc.container = issue.parent_id.as_deref().map(|p| DocId::jira(Kind::Issue, p).to_string());
    doc.labels = issue.labels.clone();
    set_author(&mut doc, issue.reporter.as_deref(), directory);
    set_times(&mut doc, issue.created, issue.updated);
    doc.issue_key = issue_key(issue);
    doc.issue_type = Some(issue.issue_type.clone()).filter(|t| !t.is_empty());
    doc.status.clone_from(&issue.status);
    doc.status_category.clone_from(&issue.status_category);
    doc.assignee.clone_from(&issue.assignee);
    // The directory's name first, as for authors; the issue's own when the directory lacks the account.
    doc.assignee_name = issue.assignee.as_deref().and_then(|a| {
        directory.users.get(a).map(|u| u.display_name.clone()).or_else(|| issue.assignee_name.clone())
    });
    doc.url = issue.url.clone();
    doc.version = millis_version(issue.updated);
    doc
}

/// A comment on a Jira issue, titled after the issue and linked to it with the comment focused.
pub fn issue_comment_doc(
    comment: &IssueComment,
    issue: &Issue,
    project: &Project,
    directory: &Directory,
    profile: ProfileId,
) -> IndexDoc {
    let mut doc = IndexDoc::named(&DocId::jira(Kind::Comment, &comment.id), profile);
    doc.title = format!("Comment on {}", issue.summary);
    doc.display_title = Some(format!("Comment on {}", issue_title(issue)));
    doc.body = adf_to_text(&comment.body);
    doc.project = Some(project.key.clone());
    doc.container = Some(DocId::jira(Kind::Issue, &issue.id).to_string());
    doc.issue_key = issue_key(issue);
    set_author(&mut doc, comment.author.as_deref(), directory);
    set_times(&mut doc, comment.created, comment.updated);
    doc.url = focused_comment_url(&issue.url, &comment.id);
    doc.version = millis_version(comment.updated.or(comment.created));
    doc
}

/// An attachment of a Jira issue with the text extracted from its bytes. Jira attachments never change, so
/// the creation time stands in for a version; the link is the issue's (the attachment shows there).
pub fn issue_attachment_doc(
    attachment: &IssueAttachment,
    text: String,
    issue: &Issue,
    project: &Project,
    directory: &Directory,
    profile: ProfileId,
) -> IndexDoc {
    let mut doc = IndexDoc::named(&DocId::jira(Kind::Attachment, &attachment.id), profile);
    doc.title = attachment.filename.clone();
    doc.body = text;
    doc.project = Some(project.key.clone());
    doc.container = Some(DocId::jira(Kind::Issue, &issue.id).to_string());
    doc.issue_key = issue_key(issue);
    set_author(&mut doc, attachment.author.as_deref(), directory);
    set_times(&mut doc, attachment.created, attachment.created);
    doc.url = issue.url.clone();
    doc.version = millis_version(attachment.created);
    doc
}

/// An issue's key, when the site gave one.
fn issue_key(issue: &Issue) -> Option<String> {
    Some(issue.key.clone()).filter(|k| !k.is_empty())
}

/// Where a Confluence document sits, as it is shown: its space's name and the documents above it (see
/// [`IndexDoc::ancestors`]). It comes from the permission snapshot rather than from the item, and changes
/// without the item's version (a space renamed, a page above moved or deleted), so the permission refresh
/// works it out for every stored document and rewrites those whose [`Location::fingerprint`] differs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Location {
    pub space_name: String,
    /// Document ids, root first.
    pub ancestors: Vec<String>,
}

impl Location {
    /// The location of the Confluence document `id` in `space`, whose permissions come from `holder`
    /// (the page or blog post itself, or a comment's or attachment's container): the container's ancestor
    /// pages as the access listing gives them, and then the container, when `id` is not the container.
    /// Ancestors that are not pages (folders, whiteboards) name no document and are shown by nobody.
    pub fn of(id: &DocId, space: &Space, holder: &str, access: &BTreeMap<String, ContentAccess>) -> Location {
        let container = access.get(holder);
        let mut ancestors: Vec<String> = container
            .into_iter()
            .flat_map(|a| &a.ancestors)
            .map(|a| DocId::confluence(Kind::Page, a).to_string())
            .collect();
        if !matches!(id.kind, Kind::Page | Kind::Blogpost) {
            let kind = container.map_or(ContentKind::Page, |a| a.kind);
            ancestors.push(content_id(kind, holder).to_string());
        }
        Location { space_name: space.name.clone(), ancestors }
    }

    /// The location written into a stored document; `None` for Jira documents.
    pub fn of_doc(doc: &IndexDoc) -> Option<Location> {
        (doc.product == Product::Confluence).then(|| Location {
            space_name: doc.space_name.clone().unwrap_or_default(),
            ancestors: doc.ancestors.clone(),
        })
    }

    pub fn apply(self, doc: &mut IndexDoc) {
        doc.space_name = Some(self.space_name).filter(|n| !n.is_empty());
        doc.ancestors = self.ancestors;
    }

    /// What the sync state keeps to tell a changed location: a hash of the name and the ids.
    pub fn fingerprint(&self) -> u64 {
        let text = serde_json::json!([self.space_name, self.ancestors]).to_string();
        crate::index::id_hash(&text)
    }
}

/// The kind of a page's or blog post's document.
pub fn content_kind(kind: ContentKind) -> Kind {
    match kind {
        ContentKind::Page => Kind::Page,
        ContentKind::BlogPost => Kind::Blogpost,
    }
}

/// Mentions are shown by display name, as Confluence renders them; accounts the directory does not know
/// are dropped by the extractor.
struct Names<'a>(&'a Directory);

impl UserNames for Names<'_> {
    fn display_name(&self, account_id: &str) -> Option<String> {
        self.0.users.get(account_id).map(|u| u.display_name.clone())
    }
}

fn set_author(doc: &mut IndexDoc, author: Option<&str>, directory: &Directory) {
    doc.author = author.map(str::to_owned);
    doc.author_name = author.and_then(|a| directory.users.get(a)).map(|u| u.display_name.clone());
}

/// Missing times fall back to each other, then to the epoch (the index needs a value).
fn set_times(doc: &mut IndexDoc, created: Option<DateTime<Utc>>, updated: Option<DateTime<Utc>>) {
    doc.created = created.or(updated).unwrap_or(DateTime::<Utc>::UNIX_EPOCH);
    doc.updated = updated.or(created).unwrap_or(DateTime::<Utc>::UNIX_EPOCH);
}

/// A time as a version number: epoch millis, 0 when unknown or before the epoch.
fn millis_version(time: Option<DateTime<Utc>>) -> u64 {
    time.and_then(|t| u64::try_from(t.timestamp_millis()).ok()).unwrap_or(0)
}

fn focused_comment_url(issue_url: &str, comment_id: &str) -> String {
    let separator = if issue_url.contains('?') { '&' } else { '?' };
    format!("{issue_url}{separator}focusedCommentId={comment_id}")
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;
    use serde_json::json;

    use super::*;
    use crate::atlassian::model::{DirectoryUser, SpaceKind};
    use crate::index::Product;

    fn at(secs: i64) -> Option<DateTime<Utc>> {
        Utc.timestamp_opt(secs, 0).single()
    }

    fn directory() -> Directory {
        let mut d = Directory::default();
        d.users.insert(
            "557058:aaaa".into(),
            DirectoryUser { display_name: "Alice Liddell".into(), active: true, email: None },
        );
        d.users.insert(
            "bob".into(),
            DirectoryUser { display_name: "Bob Dylan".into(), active: false, email: None },
        );
        d
    }

    fn space() -> Space {
        Space {
            id: "32769".into(),
            key: "ENG".into(),
            name: "Engineering".into(),
            kind: SpaceKind::Global,
            archived: false,
            readers: vec![],
            role_viewers: Vec::new(),
            url: "https://acme.atlassian.net/wiki/spaces/ENG".into(),
        }
    }

    fn content(kind: ContentKind, parent: Option<&str>) -> Content {
        Content {
            id: "65601".into(),
            kind,
            space_id: "32769".into(),
            title: "Design".into(),
            body: "<p>Ask <ac:link><ri:user ri:account-id=\"557058:aaaa\" /></ac:link> or \
                   <ac:link><ri:user ri:account-id=\"gone\" /></ac:link> about &amp; rotas.</p>"
                .into(),
            version: 7,
            archived: false,
            created: at(1_000),
            updated: at(2_000),
            author: Some("557058:aaaa".into()),
            parent_id: parent.map(str::to_string),
            labels: vec!["arch".into()],
            url: "https://acme.atlassian.net/wiki/spaces/ENG/pages/65601".into(),
        }
    }

    fn issue() -> Issue {
        Issue {
            id: "10042".into(),
            key: "APP-7".into(),
            project_id: "10000".into(),
            summary: "Crash on save".into(),
            description: json!({"type": "doc", "version": 1, "content": [
                {"type": "paragraph", "content": [{"type": "text", "text": "Saving crashes."}]}
            ]}),
            issue_type: "Bug".into(),
            parent_id: Some("10040".into()),
            subtask_ids: vec![],
            status: Some("To Do".into()),
            status_category: Some("new".into()),
            labels: vec!["crash".into()],
            reporter: Some("bob".into()),
            assignee: None,
            assignee_name: None,
            security_level_id: None,
            created: at(1_000),
            updated: at(5_000),
            attachments: vec![],
            url: "https://acme.atlassian.net/browse/APP-7".into(),
            portal: Default::default(),
        }
    }

    fn project() -> Project {
        Project {
            id: "10000".into(),
            key: "APP".into(),
            name: "App".into(),
            lead: None,
            browse: vec![],
            roles: BTreeMap::new(),
            security_levels: BTreeMap::new(),
            url: String::new(),
            service_desk: None,
        }
    }

    #[test]
    fn confluence_docs() {
        let (dir, space, p) = (directory(), space(), ProfileId(3));
        let page = page_doc(&content(ContentKind::Page, Some("65600")), &space, &dir, p);
        assert_eq!(
            (page.id.as_str(), page.kind, page.product, page.title.as_str()),
            ("confluence:page:65601", Kind::Page, Product::Confluence, "Design")
        );
        assert_eq!(page.body, "Ask Alice Liddell or about & rotas.");
        assert_eq!(page.space.as_deref(), Some("ENG"));
        assert_eq!(page.container.as_deref(), Some("confluence:page:65600"));
        assert_eq!(
            (page.author.as_deref(), page.author_name.as_deref()),
            (Some("557058:aaaa"), Some("Alice Liddell"))
        );
        assert_eq!((page.created, page.updated), (at(1_000).expect("t"), at(2_000).expect("t")));
        assert_eq!((page.version, page.acl_profile, page.labels.clone()), (7, p, vec!["arch".to_string()]));
        assert_eq!(page.url, "https://acme.atlassian.net/wiki/spaces/ENG/pages/65601");

        let blog = page_doc(&content(ContentKind::BlogPost, None), &space, &dir, p);
        assert_eq!(
            (blog.id.as_str(), blog.kind, blog.container),
            ("confluence:blogpost:65601", Kind::Blogpost, None)
        );

        let comment = Comment {
            id: "65700".into(),
            container_id: "65601".into(),
            container_kind: ContentKind::BlogPost,
            parent_comment_id: Some("65699".into()),
            body: "<p>Agreed, <ac:link><ri:user ri:account-id=\"bob\" /></ac:link>.</p>".into(),
            version: 2,
            created: None,
            updated: at(9_000),
            author: Some("stranger".into()),
            url: "https://acme.atlassian.net/wiki/x#comment-65700".into(),
        };
        let c = comment_doc(&comment, "Design", &space, &dir, p);
        assert_eq!(
            (c.id.as_str(), c.kind, c.title.as_str()),
            ("confluence:comment:65700", Kind::Comment, "Comment on Design")
        );
        assert_eq!(c.body, "Agreed, Bob Dylan.", "an inactive account is still named");
        assert_eq!(c.container.as_deref(), Some("confluence:blogpost:65601"));
        assert_eq!((c.author.as_deref(), c.author_name), (Some("stranger"), None));
        assert_eq!((c.created, c.updated, c.version), (at(9_000).expect("t"), at(9_000).expect("t"), 2));

        // An inline comment: a comment of its container, marked with its thread's status, whose version
        // moves when only the status does.
        let cases = [
            (InlineResolution::Open, Some("inline-comment:open")),
            (InlineResolution::Reopened, Some("inline-comment:reopened")),
            (InlineResolution::Resolved, Some("inline-comment:resolved")),
            (InlineResolution::Dangling, Some("inline-comment:dangling")),
            (InlineResolution::Unknown("new".into()), None),
        ];
        let mut versions = std::collections::BTreeSet::new();
        for (resolution, status) in cases {
            let inline = InlineComment { comment: comment.clone(), resolution, selection: Some("x".into()) };
            let d = inline_comment_doc(&inline, "Design", &space, &dir, p);
            let want: Vec<&str> = std::iter::once("inline-comment").chain(status).collect();
            assert_eq!(d.labels, want);
            assert_eq!(
                (d.title.as_str(), d.container.as_deref()),
                ("Inline comment on Design", c.container.as_deref())
            );
            assert_eq!((d.body.as_str(), d.acl_profile), (c.body.as_str(), p));
            assert_eq!(d.version, inline_version(&inline));
            versions.insert(d.version);
        }
        assert_eq!(versions.len(), 5, "each status is a version of its own");

        let attachment = Attachment {
            id: "att65800".into(),
            container_id: "65601".into(),
            container_kind: ContentKind::Page,
            title: "design.pdf".into(),
            media_type: Some("application/pdf".into()),
            size: Some(10),
            version: 3,
            created: None,
            updated: None,
            author: None,
            download_path: "/wiki/download".into(),
            url: "https://acme.atlassian.net/wiki/att".into(),
        };
        let a = attachment_doc(&attachment, "pdf words".into(), &space, &dir, p);
        assert_eq!(
            (a.id.as_str(), a.kind, a.title.as_str(), a.body.as_str()),
            ("confluence:attachment:att65800", Kind::Attachment, "design.pdf", "pdf words")
        );
        assert_eq!(
            (a.container.as_deref(), a.version, a.created),
            (Some("confluence:page:65601"), 3, DateTime::<Utc>::UNIX_EPOCH)
        );
    }

    #[test]
    fn jira_docs() {
        let (dir, issue, project, p) = (directory(), issue(), project(), ProfileId(9));
        let i = issue_doc(&issue, &project, &dir, p);
        assert_eq!(
            (i.id.as_str(), i.kind, i.product, i.title.as_str(), i.display_title.as_deref()),
            ("jira:issue:10042", Kind::Issue, Product::Jira, "Crash on save", Some("APP-7: Crash on save"))
        );
        assert!(i.issue_keys().contains("APP-7"), "an issue's own key stays findable");
        assert_eq!(
            (i.body.as_str(), i.project.as_deref(), i.container.as_deref()),
            ("Saving crashes.", Some("APP"), Some("jira:issue:10040"))
        );
        assert_eq!((i.author.as_deref(), i.author_name.as_deref()), (Some("bob"), Some("Bob Dylan")));
        assert_eq!(
            (i.version, i.labels.clone(), i.space.clone()),
            (5_000_000, vec!["crash".to_string()], None)
        );
        assert_eq!(
            (
                i.issue_key.as_deref(),
                i.issue_type.as_deref(),
                i.status.as_deref(),
                i.status_category.as_deref()
            ),
            (Some("APP-7"), Some("Bug"), Some("To Do"), Some("new"))
        );
        assert_eq!((i.assignee, i.assignee_name), (None, None), "unassigned");
        assert!(i.space_name.is_none() && i.ancestors.is_empty());

        let comment = IssueComment {
            id: "10200".into(),
            issue_id: "10042".into(),
            author: Some("557058:aaaa".into()),
            body: json!({"type": "doc", "version": 1, "content": [{"type": "paragraph", "content": [
                {"type": "mention", "attrs": {"id": "bob", "text": "@Bob"}},
                {"type": "text", "text": " please look"}
            ]}]}),
            created: at(6_000),
            updated: at(7_000),
            visibility: None,
            internal: false,
        };
        let c = issue_comment_doc(&comment, &issue, &project, &dir, p);
        assert_eq!(
            (c.id.as_str(), c.kind, c.title.as_str(), c.display_title.as_deref()),
            (
                "jira:comment:10200",
                Kind::Comment,
                "Comment on Crash on save",
                Some("Comment on APP-7: Crash on save")
            )
        );
        assert_eq!((c.body.as_str(), c.container.as_deref()), ("@Bob please look", Some("jira:issue:10042")));
        assert_eq!(c.url, "https://acme.atlassian.net/browse/APP-7?focusedCommentId=10200");
        assert_eq!((c.version, c.author_name.as_deref()), (7_000_000, Some("Alice Liddell")));
        assert_eq!(c.issue_key.as_deref(), Some("APP-7"), "a comment shows its issue's key");
        assert_eq!((c.status, c.issue_type, c.assignee), (None, None, None), "and none of its state");

        let attachment = IssueAttachment {
            id: "10300".into(),
            issue_id: "10042".into(),
            filename: "crash.csv".into(),
            media_type: None,
            size: None,
            created: at(8_000),
            author: None,
            download_path: "/rest/api/3/attachment/content/10300".into(),
        };
        let a = issue_attachment_doc(&attachment, "when\twhat".into(), &issue, &project, &dir, p);
        assert_eq!(
            (a.id.as_str(), a.kind, a.title.as_str(), a.body.as_str()),
            ("jira:attachment:10300", Kind::Attachment, "crash.csv", "when\twhat")
        );
        assert_eq!(
            (a.container.as_deref(), a.version, a.url.as_str()),
            (Some("jira:issue:10042"), 8_000_000, "https://acme.atlassian.net/browse/APP-7")
        );

        let no_description = Issue { description: serde_json::Value::Null, updated: None, ..issue.clone() };
        let d = issue_doc(&no_description, &project, &dir, p);
        assert_eq!((d.body.as_str(), d.version, d.updated), ("", 0, at(1_000).expect("t")));
    }

    /// The assignee's name comes from the directory, then from the issue; an issue without a type or a
    /// status category says nothing of them.
    #[test]
    fn issue_assignees_and_missing_facts() {
        let (dir, project, p) = (directory(), project(), ProfileId(9));
        let mut issue = issue();
        issue.assignee = Some("557058:aaaa".into());
        issue.assignee_name = Some("Alice (as the issue says)".into());
        let i = issue_doc(&issue, &project, &dir, p);
        assert_eq!(
            (i.assignee.as_deref(), i.assignee_name.as_deref()),
            (Some("557058:aaaa"), Some("Alice Liddell"))
        );
        issue.assignee = Some("app:bot".into());
        issue.assignee_name = Some("Release Bot".into());
        let i = issue_doc(&issue, &project, &dir, p);
        assert_eq!(i.assignee_name.as_deref(), Some("Release Bot"), "an account the directory lacks");
        issue.assignee_name = None;
        let i = issue_doc(&issue, &project, &dir, p);
        assert_eq!(
            (i.assignee.as_deref(), i.assignee_name),
            (Some("app:bot"), None),
            "assigned, name unknown"
        );
        issue.issue_type = String::new();
        issue.status_category = None;
        let i = issue_doc(&issue, &project, &dir, p);
        assert_eq!((i.issue_type, i.status_category), (None, None));
    }

    fn access(id: &str, kind: ContentKind, ancestors: &[&str]) -> (String, ContentAccess) {
        let access = ContentAccess {
            id: id.into(),
            kind,
            space_id: "32769".into(),
            version: 1,
            archived: false,
            ancestors: ancestors.iter().map(|a| a.to_string()).collect(),
            restriction: None,
        };
        (id.to_string(), access)
    }

    /// A page sits under its ancestors; a comment or attachment under its container's ancestors and then
    /// the container itself. The fingerprint moves with the space's name and with every id.
    #[test]
    fn locations_of_pages_comments_and_attachments() {
        let access: BTreeMap<String, ContentAccess> =
            [access("3", ContentKind::Page, &["1", "2"]), access("9", ContentKind::BlogPost, &[])]
                .into_iter()
                .collect();
        let space = space();
        let page = Location::of(&DocId::confluence(Kind::Page, "3"), &space, "3", &access);
        assert_eq!(page.space_name, "Engineering");
        assert_eq!(page.ancestors, vec!["confluence:page:1", "confluence:page:2"]);
        let comment = Location::of(&DocId::confluence(Kind::Comment, "c1"), &space, "3", &access);
        assert_eq!(comment.ancestors, vec!["confluence:page:1", "confluence:page:2", "confluence:page:3"]);
        let attachment = Location::of(&DocId::confluence(Kind::Attachment, "att1"), &space, "9", &access);
        assert_eq!(attachment.ancestors, vec!["confluence:blogpost:9"]);
        let post = Location::of(&DocId::confluence(Kind::Blogpost, "9"), &space, "9", &access);
        assert!(post.ancestors.is_empty());

        let mut doc = IndexDoc::named(&DocId::confluence(Kind::Page, "3"), ProfileId(1));
        page.clone().apply(&mut doc);
        assert_eq!(Location::of_doc(&doc).as_ref(), Some(&page), "what is written reads back");
        let jira = IndexDoc::named(&DocId::jira(Kind::Issue, "1"), ProfileId(1));
        assert_eq!(Location::of_doc(&jira), None);

        let mut renamed = page.clone();
        renamed.space_name = "Engineering Handbook".into();
        let mut moved = page.clone();
        moved.ancestors.remove(0);
        let fingerprints: std::collections::BTreeSet<u64> =
            [&page, &renamed, &moved, &comment].iter().map(|l| l.fingerprint()).collect();
        assert_eq!(fingerprints.len(), 4);
        assert_eq!(page.fingerprint(), page.clone().fingerprint());
    }

    #[test]
    fn doc_ids() {
        let cases = [
            (content_id(ContentKind::Page, "65537").to_string(), "confluence:page:65537"),
            (content_id(ContentKind::BlogPost, "65538").to_string(), "confluence:blogpost:65538"),
        ];
        for (got, want) in cases {
            assert_eq!(got, want);
        }
        assert_eq!(
            focused_comment_url("https://x/browse/A-1?a=b", "5"),
            "https://x/browse/A-1?a=b&focusedCommentId=5"
        );
    }
}

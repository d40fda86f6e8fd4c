//! Footer and inline comments of pages and blog posts, replies included: site-wide listings (one page per
//! call) and the threads of one page or blog post.
//!
//! Inline comments carry their thread's resolution status and highlighted text; who may read them is
//! their container's business, as for footer comments. Comments on attachments or custom content are
//! left out.

use std::collections::BTreeSet;

use super::{
    chunked_page, collect_cursor, collection, id_order, is_id, parse_time, storage_of, Confluence, V2_LIMIT,
};
use crate::atlassian::model::{Comment, ContentKind, InlineComment, InlineResolution};
use crate::atlassian::path::segment;
use crate::atlassian::wire::confluence::v2;
use crate::atlassian::{Error, Page};

impl Confluence {
    /// Every footer comment of the site, replies included, one page per call.
    pub async fn comments(&self, cursor: Option<&str>) -> Result<Page<Comment>, Error> {
        let first = [format!("/wiki/api/v2/footer-comments?body-format=storage&limit={V2_LIMIT}")];
        let page = chunked_page::<v2::MultiEntityResult<v2::Comment>>(&self.client, &first, cursor).await?;
        Ok(Page {
            items: page.items.iter().filter_map(|c| self.comment_model(c, None)).collect(),
            next: page.next,
        })
    }

    /// Footer comments of one page or blog post and their replies, recursively.
    pub async fn comments_of(&self, kind: ContentKind, container_id: &str) -> Result<Vec<Comment>, Error> {
        let container = Some((kind, container_id));
        let path = format!(
            "/wiki/api/v2/{}/{}/footer-comments?body-format=storage&limit={V2_LIMIT}",
            collection(kind),
            segment(container_id)
        );
        let mut pending = collect_cursor::<v2::MultiEntityResult<v2::Comment>>(&self.client, path).await?;
        let mut comments = Vec::new();
        let mut seen = BTreeSet::new();
        while let Some(comment) = pending.pop() {
            if !seen.insert(comment.id.clone()) {
                continue;
            }
            let path = format!(
                "/wiki/api/v2/footer-comments/{}/children?body-format=storage&limit={V2_LIMIT}",
                segment(&comment.id)
            );
            pending.extend(collect_cursor::<v2::MultiEntityResult<v2::Comment>>(&self.client, path).await?);
            comments.extend(self.comment_model(&comment, container));
        }
        comments.sort_by(|a, b| id_order(&a.id, &b.id));
        Ok(comments)
    }

    /// Every inline comment of the site, replies included, one page per call.
    pub async fn inline_comments(&self, cursor: Option<&str>) -> Result<Page<InlineComment>, Error> {
        let first = [format!("/wiki/api/v2/inline-comments?body-format=storage&limit={V2_LIMIT}")];
        let page = chunked_page::<v2::MultiEntityResult<v2::Comment>>(&self.client, &first, cursor).await?;
        Ok(Page {
            items: page.items.iter().filter_map(|c| self.inline_model(c, None)).collect(),
            next: page.next,
        })
    }

    /// Inline comments of one page or blog post (`/pages/{id}/inline-comments`, every resolution status)
    /// and their replies (`/inline-comments/{id}/children`), in id order.
    pub async fn inline_comments_of(
        &self,
        kind: ContentKind,
        container_id: &str,
    ) -> Result<Vec<InlineComment>, Error> {
        let container = Some((kind, container_id));
        let path = format!(
            "/wiki/api/v2/{}/{}/inline-comments?body-format=storage&limit={V2_LIMIT}",
            collection(kind),
            segment(container_id)
        );
        let mut pending = collect_cursor::<v2::MultiEntityResult<v2::Comment>>(&self.client, path).await?;
        let mut comments = Vec::new();
        let mut seen = BTreeSet::new();
        while let Some(comment) = pending.pop() {
            if !seen.insert(comment.id.clone()) {
                continue;
            }
            let path = format!(
                "/wiki/api/v2/inline-comments/{}/children?body-format=storage&limit={V2_LIMIT}",
                segment(&comment.id)
            );
            let mut replies =
                collect_cursor::<v2::MultiEntityResult<v2::Comment>>(&self.client, path).await?;
            // A reply may leave its parent out; the thread it was listed under is its parent.
            for reply in &mut replies {
                reply.parent_comment_id.get_or_insert_with(|| comment.id.clone());
            }
            pending.extend(replies);
            comments.extend(self.inline_model(&comment, container));
        }
        comments.sort_by(|a, b| id_order(&a.comment.id, &b.comment.id));
        Ok(comments)
    }

    fn inline_model(&self, c: &v2::Comment, container: Option<(ContentKind, &str)>) -> Option<InlineComment> {
        let comment = self.comment_model(c, container)?;
        let resolution = match c.resolution_status.as_deref().unwrap_or_default() {
            "open" => InlineResolution::Open,
            "reopened" => InlineResolution::Reopened,
            "resolved" => InlineResolution::Resolved,
            "dangling" => InlineResolution::Dangling,
            other => InlineResolution::Unknown(other.to_owned()),
        };
        let selection = c
            .properties
            .as_ref()
            .and_then(|p| p.inline_original_selection.clone())
            .or_else(|| c.inline_comment_properties.as_ref().and_then(|p| p.text_selection.clone()))
            .filter(|s| !s.is_empty());
        Some(InlineComment { comment, resolution, selection })
    }

    /// A comment in the model; `None` for one not on a page or blog post (on an attachment or custom
    /// content). `container` fills in what a reply may leave out.
    fn comment_model(&self, c: &v2::Comment, container: Option<(ContentKind, &str)>) -> Option<Comment> {
        if !is_id(&c.id) {
            return None;
        }
        let usable = |id: &Option<String>| id.clone().filter(|id| is_id(id));
        let (container_kind, container_id) = match (usable(&c.page_id), usable(&c.blog_post_id), container) {
            (Some(page), _, _) => (ContentKind::Page, page),
            (None, Some(post), _) => (ContentKind::BlogPost, post),
            (None, None, Some((kind, id))) => (kind, id.to_owned()),
            (None, None, None) => {
                tracing::debug!(comment = c.id, "footer comment without a page or blog post skipped");
                return None;
            }
        };
        let url = match c.links.webui.as_deref() {
            Some(webui) => self.web_url(webui),
            None => self.web_url(&format!(
                "/pages/viewpage.action?pageId={}&focusedCommentId={}",
                segment(&container_id),
                segment(&c.id)
            )),
        };
        let version = c.version.as_ref();
        Some(Comment {
            id: c.id.clone(),
            container_id,
            container_kind,
            parent_comment_id: c.parent_comment_id.clone(),
            body: storage_of(c.body.as_ref()),
            version: version.map_or(0, |v| u64::from(v.number)),
            // v2 comments carry no creation time of their own; the first version's is not worth a call.
            created: None,
            updated: version.and_then(|v| v.created_at.as_deref()).and_then(parse_time),
            author: version.and_then(|v| v.author_id.clone()),
            url,
        })
    }
}

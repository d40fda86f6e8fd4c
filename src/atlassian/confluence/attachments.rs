//! Attachments of pages and blog posts: metadata from v2 (site-wide, one page per call, or per
//! container) and bytes from the v1 download route, which API tokens may use.
//!
//! This file extracts no text.

use super::{chunked_page, collect_cursor, collection, is_id, parse_time, Confluence, V2_LIMIT};
use crate::atlassian::model::{Attachment, ContentKind};
use crate::atlassian::path::segment;
use crate::atlassian::wire::confluence::v2;
use crate::atlassian::{Error, Page};

impl Confluence {
    /// Every attachment of the site, one page per call.
    pub async fn attachments(&self, cursor: Option<&str>) -> Result<Page<Attachment>, Error> {
        let first = [format!("/wiki/api/v2/attachments?limit={V2_LIMIT}")];
        let page =
            chunked_page::<v2::MultiEntityResult<v2::Attachment>>(&self.client, &first, cursor).await?;
        Ok(Page {
            items: page.items.iter().filter_map(|a| self.attachment_model(a)).collect(),
            next: page.next,
        })
    }

    /// Attachments of one page or blog post.
    pub async fn attachments_of(
        &self,
        kind: ContentKind,
        container_id: &str,
    ) -> Result<Vec<Attachment>, Error> {
        let path = format!(
            "/wiki/api/v2/{}/{}/attachments?limit={V2_LIMIT}",
            collection(kind),
            segment(container_id)
        );
        let listed = collect_cursor::<v2::MultiEntityResult<v2::Attachment>>(&self.client, path).await?;
        Ok(listed.iter().filter_map(|a| self.attachment_model(a)).collect())
    }

    /// An attachment in the model; `None` for one not on a page or blog post.
    fn attachment_model(&self, a: &v2::Attachment) -> Option<Attachment> {
        if !is_id(&a.id) {
            return None;
        }
        let usable = |id: &Option<String>| id.clone().filter(|id| is_id(id));
        let (container_kind, container_id) = match (usable(&a.page_id), usable(&a.blog_post_id)) {
            (Some(page), _) => (ContentKind::Page, page),
            (None, Some(post)) => (ContentKind::BlogPost, post),
            (None, None) => {
                tracing::debug!(attachment = a.id, "attachment without a page or blog post skipped");
                return None;
            }
        };
        let version = a.version.as_ref();
        let url = match a.webui_link.as_deref().or(a.links.webui.as_deref()) {
            Some(webui) => self.web_url(webui),
            None => {
                self.web_url(&format!("/pages/viewpageattachments.action?pageId={}", segment(&container_id)))
            }
        };
        Some(Attachment {
            download_path: format!(
                "/wiki/rest/api/content/{}/child/attachment/{}/download",
                segment(&container_id),
                segment(&a.id)
            ),
            id: a.id.clone(),
            container_id,
            container_kind,
            title: a.title.clone(),
            media_type: a.media_type.clone().filter(|m| !m.is_empty()),
            size: a.file_size,
            version: version.map_or(0, |v| u64::from(v.number)),
            created: a.created_at.as_deref().and_then(parse_time),
            updated: version.and_then(|v| v.created_at.as_deref()).and_then(parse_time),
            author: version.and_then(|v| v.author_id.clone()),
            url,
        })
    }

    /// The bytes of an attachment, following the redirect to the media host (without credentials);
    /// larger than `max_bytes` is [`Error::TooLarge`].
    pub async fn download(&self, attachment: &Attachment, max_bytes: u64) -> Result<Vec<u8>, Error> {
        Ok(self.client.download(&attachment.download_path, max_bytes).await?.bytes)
    }
}

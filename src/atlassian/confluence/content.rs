//! Pages and blog posts with their storage bodies and labels: the v2 bulk listings (one page of results
//! per call, several spaces per query) and the single gets an incremental sync uses.
//!
//! Labels: v2 bulk listings cannot include them, so each page of contents costs one more CQL search per
//! 200 items (`id in (…)`, `expand=metadata.labels`). This file reads no permission.

use super::{
    chunked_page, collect_cursor, collection, cql_list, is_full, is_id, is_live, not_found_as_none,
    parse_time, search_path, storage_of, Confluence, SEARCH_LIMIT, SPACE_IDS_PER_CALL, V2_LIMIT,
};
use crate::atlassian::model::{Content, ContentKind};
use crate::atlassian::path::segment;
use crate::atlassian::wire::confluence::{v1, v2};
use crate::atlassian::{Error, Page};

impl Confluence {
    /// Pages or blog posts of the given spaces with storage bodies and labels, one page per call.
    pub async fn contents(
        &self,
        kind: ContentKind,
        space_ids: &[String],
        include_archived: bool,
        cursor: Option<&str>,
    ) -> Result<Page<Content>, Error> {
        let collection = collection(kind);
        // Blog posts cannot be archived, and their listing does not accept the status.
        let statuses: &[&str] = match (kind, include_archived) {
            (ContentKind::Page, true) => &["current", "archived"],
            _ => &["current"],
        };
        let firsts: Vec<String> = space_ids
            .chunks(SPACE_IDS_PER_CALL)
            .map(|chunk| {
                let mut query = url::form_urlencoded::Serializer::new(String::new());
                query.append_pair("space-id", &chunk.join(","));
                for status in statuses {
                    query.append_pair("status", status);
                }
                query.append_pair("body-format", "storage");
                query.append_pair("limit", &V2_LIMIT.to_string());
                format!("/wiki/api/v2/{collection}?{}", query.finish())
            })
            .collect();
        let mut page = match kind {
            ContentKind::Page => {
                let page =
                    chunked_page::<v2::MultiEntityResult<v2::Page>>(&self.client, &firsts, cursor).await?;
                Page { items: page.items.iter().map(|p| self.page_model(p)).collect(), next: page.next }
            }
            ContentKind::BlogPost => {
                let page = chunked_page::<v2::MultiEntityResult<v2::BlogPost>>(&self.client, &firsts, cursor)
                    .await?;
                Page { items: page.items.iter().map(|b| self.blogpost_model(b)).collect(), next: page.next }
            }
        };
        // An item without a usable id cannot be fetched, indexed or deleted by id: it is left out.
        page.items.retain(|c| is_id(&c.id));
        self.fill_labels(kind, &mut page.items).await?;
        Ok(page)
    }

    /// Labels of listed contents, which v2 bulk listings cannot include: one CQL content search per
    /// [`SEARCH_LIMIT`] ids with `expand=metadata.labels`; an item with more labels than the expansion
    /// holds has them listed on their own.
    async fn fill_labels(&self, kind: ContentKind, items: &mut [Content]) -> Result<(), Error> {
        for chunk in items.chunks_mut(SEARCH_LIMIT as usize) {
            let ids: Vec<&str> = chunk.iter().map(|c| c.id.as_str()).collect();
            let cql = format!("id in ({})", cql_list(&ids));
            let path = search_path(&cql, "metadata.labels", true);
            let found = collect_cursor::<v1::ContentArray>(&self.client, path).await?;
            let mut labels: std::collections::HashMap<String, Option<v1::LabelArray>> =
                found.into_iter().map(|c| (c.id, c.metadata.and_then(|m| m.labels))).collect();
            for content in chunk.iter_mut() {
                content.labels = match labels.remove(&content.id).flatten() {
                    Some(array) if !is_full(array.results.len(), array.limit) => {
                        array.results.into_iter().map(|l| l.name).collect()
                    }
                    // Cut at the expansion's limit, or not returned at all (gone since it was listed):
                    // the labels endpoint says which, a 404 meaning gone.
                    _ => self.labels_of(kind, &content.id).await?,
                };
            }
        }
        Ok(())
    }

    /// Every label of one page or blog post; none for one that no longer exists.
    async fn labels_of(&self, kind: ContentKind, id: &str) -> Result<Vec<String>, Error> {
        let path = format!("/wiki/api/v2/{}/{}/labels?limit={V2_LIMIT}", collection(kind), segment(id));
        let labels =
            not_found_as_none(collect_cursor::<v2::MultiEntityResult<v2::Label>>(&self.client, path).await)?;
        Ok(labels.unwrap_or_default().into_iter().map(|l| l.name).collect())
    }

    /// One page or blog post with its body and labels; `Ok(None)` when it no longer exists (404, or
    /// trashed, deleted or a draft).
    pub async fn content(&self, kind: ContentKind, id: &str) -> Result<Option<Content>, Error> {
        let path = format!(
            "/wiki/api/v2/{}/{}?body-format=storage&include-labels=true",
            collection(kind),
            segment(id)
        );
        let (content, labels) = match kind {
            ContentKind::Page => match not_found_as_none(self.client.get_json::<v2::Page>(&path).await)? {
                Some(p) if is_live(&p.status) => (self.page_model(&p), p.labels),
                _ => return Ok(None),
            },
            ContentKind::BlogPost => {
                match not_found_as_none(self.client.get_json::<v2::BlogPost>(&path).await)? {
                    Some(b) if is_live(&b.status) => (self.blogpost_model(&b), b.labels),
                    _ => return Ok(None),
                }
            }
        };
        let labels = match labels {
            Some(field) if !field.meta.as_ref().is_some_and(|m| m.has_more) => {
                field.results.into_iter().map(|l| l.name).collect()
            }
            // More labels than the single get includes, or none included: read them all.
            _ => self.labels_of(kind, id).await?,
        };
        Ok(Some(Content { labels, ..content }))
    }

    pub(super) fn page_model(&self, p: &v2::Page) -> Content {
        Content {
            id: p.id.clone(),
            kind: ContentKind::Page,
            space_id: p.space_id.clone(),
            title: p.title.clone(),
            body: storage_of(p.body.as_ref()),
            version: p.version.as_ref().map_or(0, |v| u64::from(v.number)),
            archived: p.status == "archived",
            created: p.created_at.as_deref().and_then(parse_time),
            updated: p.version.as_ref().and_then(|v| v.created_at.as_deref()).and_then(parse_time),
            author: p.author_id.clone(),
            parent_id: p.parent_id.clone(),
            labels: labels_of(p.labels.as_ref()),
            url: self.content_url(p.links.webui.as_deref(), &p.id),
        }
    }

    pub(super) fn blogpost_model(&self, b: &v2::BlogPost) -> Content {
        Content {
            id: b.id.clone(),
            kind: ContentKind::BlogPost,
            space_id: b.space_id.clone(),
            title: b.title.clone(),
            body: storage_of(b.body.as_ref()),
            version: b.version.as_ref().map_or(0, |v| u64::from(v.number)),
            archived: b.status == "archived",
            created: b.created_at.as_deref().and_then(parse_time),
            updated: b.version.as_ref().and_then(|v| v.created_at.as_deref()).and_then(parse_time),
            author: b.author_id.clone(),
            parent_id: None,
            labels: labels_of(b.labels.as_ref()),
            url: self.content_url(b.links.webui.as_deref(), &b.id),
        }
    }
}

fn labels_of(labels: Option<&v2::OptionalField<v2::Label>>) -> Vec<String> {
    labels.map(|l| l.results.iter().map(|l| l.name.clone()).collect()).unwrap_or_default()
}

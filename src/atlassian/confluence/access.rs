//! What decides who may read a page or blog post beyond its space: its ancestors and its read
//! restriction, many items per call from the CQL content search with the restriction expansion, completed
//! item by item where the expansion is cut short.
//!
//! An item whose ancestors or restriction cannot be read has `restriction: None` (readable by nobody);
//! only a listing page that cannot be fetched is an error.

use super::{
    account_of, chunked_page, collection, content_kind, cql_list, is_full, is_id, is_live, malformed,
    not_found_as_none, search_path, Confluence, MAX_ANCESTOR_CALLS, MAX_RESTRICTION_PAGES, RESTRICTION_LIMIT,
    SPACE_KEYS_PER_QUERY, V2_LIMIT,
};
use crate::atlassian::model::{ContentAccess, ContentKind, Restriction};
use crate::atlassian::path::segment;
use crate::atlassian::wire::confluence::{v1, v2};
use crate::atlassian::{Error, Page};

impl Confluence {
    /// Ancestors and own read restriction of every page and blog post in the given spaces, one page per
    /// call, from the CQL content search with the restriction expansion. A restriction longer than the
    /// expansion holds is completed from `restriction/byOperation/read`; one that cannot be read leaves
    /// that item's `restriction` at `None`.
    pub async fn access(
        &self,
        space_keys: &[String],
        include_archived: bool,
        cursor: Option<&str>,
    ) -> Result<Page<ContentAccess>, Error> {
        let expand = "ancestors,version,space,restrictions.read.restrictions.user,restrictions.read.restrictions.group";
        let firsts: Vec<String> = space_keys
            .chunks(SPACE_KEYS_PER_QUERY)
            .map(|chunk| {
                let cql = format!("type in (page, blogpost) and space in ({})", cql_list(chunk));
                search_path(&cql, expand, include_archived)
            })
            .collect();
        let page = chunked_page::<v1::ContentArray>(&self.client, &firsts, cursor).await?;
        let mut items = Vec::with_capacity(page.items.len());
        for content in page.items.iter().filter(|c| is_id(&c.id)) {
            let Some(kind) = content_kind(&content.kind) else { continue };
            items.push(self.access_model(kind, content).await);
        }
        Ok(Page { items, next: page.next })
    }

    async fn access_model(&self, kind: ContentKind, content: &v1::Content) -> ContentAccess {
        let ancestors = match (&content.ancestors, kind) {
            (_, ContentKind::BlogPost) => Some(Vec::new()),
            (Some(chain), ContentKind::Page) if chain.iter().all(|a| is_id(&a.id)) => {
                Some(chain.iter().map(|a| a.id.clone()).collect())
            }
            // Some sites send `null`, or an ancestor without a usable id: read them from v2.
            (_, ContentKind::Page) => {
                self.ancestors(&content.id).await.map_err(|e| unknown(&content.id, &e)).ok()
            }
        };
        let expanded =
            content.restrictions.as_ref().and_then(|r| r.read.as_ref()).and_then(expanded_restriction);
        let restriction = match expanded {
            Some(Expansion::Complete(restriction)) => Some(restriction),
            Some(Expansion::Partial) | None => {
                self.read_restriction(&content.id).await.map_err(|e| unknown(&content.id, &e)).ok()
            }
        };
        ContentAccess {
            id: content.id.clone(),
            kind,
            // A missing space id names no space, whose readers are nobody.
            space_id: content.space.as_ref().and_then(|s| s.id).map(|id| id.to_string()).unwrap_or_default(),
            version: content.version.as_ref().map_or(0, |v| u64::from(v.number)),
            archived: content.status == "archived",
            // Unreadable ancestors leave the item readable by nobody, like an unreadable restriction.
            restriction: restriction.filter(|_| ancestors.is_some()),
            ancestors: ancestors.unwrap_or_default(),
        }
    }

    /// Access of one page or blog post (for new or changed items): its version and space from v2, its
    /// ancestors, its read restriction. `Ok(None)` when it no longer exists.
    pub async fn access_of(&self, kind: ContentKind, id: &str) -> Result<Option<ContentAccess>, Error> {
        let path = format!("/wiki/api/v2/{}/{}", collection(kind), segment(id));
        let content = match kind {
            ContentKind::Page => not_found_as_none(self.client.get_json::<v2::Page>(&path).await)?
                .filter(|p| is_live(&p.status))
                .map(|p| self.page_model(&p)),
            ContentKind::BlogPost => not_found_as_none(self.client.get_json::<v2::BlogPost>(&path).await)?
                .filter(|b| is_live(&b.status))
                .map(|b| self.blogpost_model(&b)),
        };
        let Some(content) = content else { return Ok(None) };
        let ancestors = match kind {
            ContentKind::Page => self.ancestors(id).await?,
            ContentKind::BlogPost => Vec::new(),
        };
        let restriction = self.read_restriction(id).await.map_err(|e| unknown(id, &e)).ok();
        Ok(Some(ContentAccess {
            id: content.id,
            kind,
            space_id: content.space_id,
            version: content.version,
            archived: content.archived,
            ancestors,
            restriction,
        }))
    }

    /// Ancestor ids of a page, root first, from v2 `/pages/{id}/ancestors`, which gives the nearest
    /// `limit` ancestors: a full answer means the chain goes on above its first entry.
    async fn ancestors(&self, id: &str) -> Result<Vec<String>, Error> {
        let mut chain: Vec<String> = Vec::new();
        let mut from = id.to_owned();
        for _ in 0..MAX_ANCESTOR_CALLS {
            let path = format!("/wiki/api/v2/pages/{}/ancestors?limit={V2_LIMIT}", segment(&from));
            let listed = self.client.get_json::<v2::MultiEntityResult<v2::Ancestor>>(&path).await?;
            let full = listed.results.len() >= V2_LIMIT as usize;
            if listed.results.iter().any(|a| !is_id(&a.id)) {
                // An ancestor that cannot be named could be restricted: the page's access is unknown.
                return Err(malformed(&path, "an ancestor without an id"));
            }
            let mut above: Vec<String> = listed.results.into_iter().map(|a| a.id).collect();
            let top = above.first().cloned();
            above.append(&mut chain);
            chain = above;
            match top {
                Some(top) if full && top != from => from = top,
                _ => return Ok(chain),
            }
        }
        Err(Error::InvalidRequest {
            path: format!("/wiki/api/v2/pages/{id}/ancestors"),
            reason: format!("more than {MAX_ANCESTOR_CALLS} calls to read the ancestors"),
        })
    }

    /// The whole read restriction of one item, paged from `restriction/byOperation/read`.
    async fn read_restriction(&self, id: &str) -> Result<Restriction, Error> {
        let mut restriction = Restriction::default();
        for page in 0..MAX_RESTRICTION_PAGES {
            let start = u64::from(page) * u64::from(RESTRICTION_LIMIT);
            let path = format!(
                "/wiki/rest/api/content/{}/restriction/byOperation/read?expand=restrictions.user,restrictions.group&start={start}&limit={RESTRICTION_LIMIT}",
                segment(id)
            );
            let read: v1::ContentRestriction = self.client.get_json(&path).await?;
            let restrictions = read.restrictions.unwrap_or_default();
            let (Some(users), Some(groups)) = (restrictions.user, restrictions.group) else {
                return Err(malformed(&path, "the restriction lists no users or groups"));
            };
            let more =
                is_full(users.results.len(), users.limit) || is_full(groups.results.len(), groups.limit);
            for user in users.results {
                restriction.users.insert(
                    account_of(&user).ok_or_else(|| malformed(&path, "a user without an account id"))?,
                );
            }
            for group in groups.results {
                if !is_id(&group.id) {
                    return Err(malformed(&path, "a group without an id"));
                }
                restriction.groups.insert(group.id);
            }
            if !more {
                return Ok(restriction);
            }
        }
        Err(malformed(
            &format!("/wiki/rest/api/content/{id}/restriction/byOperation/read"),
            "too many restriction pages",
        ))
    }
}

/// What the restriction expansion of one item says.
pub(in crate::atlassian) enum Expansion {
    /// Every user and group of the restriction.
    Complete(Restriction),
    /// Cut at the expansion's limit, or not readable as it is: read the restriction on its own.
    Partial,
}

pub(in crate::atlassian) fn expanded_restriction(read: &v1::ContentRestriction) -> Option<Expansion> {
    let restrictions = read.restrictions.as_ref()?;
    let (Some(users), Some(groups)) = (&restrictions.user, &restrictions.group) else {
        return Some(Expansion::Partial);
    };
    if is_full(users.results.len(), users.limit) || is_full(groups.results.len(), groups.limit) {
        return Some(Expansion::Partial);
    }
    let mut restriction = Restriction::default();
    for user in &users.results {
        let Some(account) = account_of(user) else { return Some(Expansion::Partial) };
        restriction.users.insert(account);
    }
    for group in &groups.results {
        if !is_id(&group.id) {
            return Some(Expansion::Partial);
        }
        restriction.groups.insert(group.id.clone());
    }
    Some(Expansion::Complete(restriction))
}

/// Logs why an item's access could not be read; the item then stays readable by nobody.
fn unknown(id: &str, error: &Error) {
    tracing::warn!(content = id, %error, "access of this item is unknown: readable by nobody");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn restriction_expansions_are_complete_only_below_their_limit() {
        let users = |n: usize| v1::UserArray {
            results: (0..n)
                .map(|i| v1::User { account_id: Some(format!("u{i}")), ..Default::default() })
                .collect(),
            start: Some(0),
            limit: Some(100),
            size: Some(n as u32),
            total_size: None,
            links: None,
        };
        let groups = v1::GroupArray {
            results: vec![],
            start: Some(0),
            limit: Some(100),
            size: Some(0),
            total_size: None,
            links: None,
        };
        let read = |n: usize| v1::ContentRestriction {
            restrictions: Some(v1::Restrictions {
                user: Some(users(n)),
                group: Some(groups.clone()),
                expandable: None,
            }),
            ..Default::default()
        };
        assert!(matches!(expanded_restriction(&read(3)), Some(Expansion::Complete(r)) if r.users.len() == 3));
        assert!(matches!(expanded_restriction(&read(100)), Some(Expansion::Partial)));
        let no_groups = v1::ContentRestriction {
            restrictions: Some(v1::Restrictions { user: Some(users(1)), group: None, expandable: None }),
            ..Default::default()
        };
        assert!(matches!(expanded_restriction(&no_groups), Some(Expansion::Partial)));
        let mut nameless = read(1);
        if let Some(u) = nameless.restrictions.as_mut().and_then(|r| r.user.as_mut()) {
            u.results[0].account_id = None;
        }
        assert!(matches!(expanded_restriction(&nameless), Some(Expansion::Partial)));
    }
}

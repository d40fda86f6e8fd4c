//! Pagination walkers over Atlassian listings, one per style, none of which can loop:
//!
//! - [`CursorPager`]: Confluence cursor listings (v2 `_links.next` or the `Link` header; v1 CQL search).
//!   A next link already followed, or an empty page that still has a next link, ends the walk and is
//!   reported as a [`CursorAnomaly`] instead of being followed again.
//! - [`TokenPager`]: Jira `nextPageToken` listings (`POST /rest/api/3/search/jql`). Ends when the token is
//!   absent or `isLast` is true; a token that repeats is [`Error::RepeatedPageToken`].
//! - [`OffsetPager`]: offset listings, Jira `startAt`/`maxResults` (`PageBean`, comments) and Confluence
//!   v1 `start`/`limit`. The offset only ever grows by the number of items received.
//!
//! Each pager is pulled page by page with `next_page`, so the caller can store a checkpoint (the next
//! link, token or offset) after every page and resume from it later. `collect_all` walks to the end for
//! small listings. The envelope types are the wire types; the traits here only say where their items and
//! next markers are.
//!
//! Pagers do not retry: the [`Client`] already did. After an error the pager still points at the page that
//! failed, so calling `next_page` again retries exactly that page.

use std::collections::HashSet;
use std::marker::PhantomData;

use serde::de::DeserializeOwned;
use serde::Serialize;

use super::client::Client;
use super::wire::confluence::{v1, v2};
use super::wire::jira;
use super::Error;

/// A cursor-paginated response envelope.
pub trait CursorPage: DeserializeOwned {
    type Item;
    /// The items, and the next link as the body gives it (resolved to a path relative to the site's base
    /// URL, or an absolute URL of the same site).
    fn into_parts(self) -> (Vec<Self::Item>, Option<String>);
}

impl<T: DeserializeOwned + Default> CursorPage for v2::MultiEntityResult<T> {
    type Item = T;
    fn into_parts(self) -> (Vec<T>, Option<String>) {
        (self.results, self.links.next.filter(|next| !next.is_empty()))
    }
}

/// v1's next link (`/rest/api/content/search?cursor=…`) is relative to the `context` (`/wiki`).
impl<T: DeserializeOwned + Default> CursorPage for v1::ResultArray<T> {
    type Item = T;
    fn into_parts(self) -> (Vec<T>, Option<String>) {
        let links = self.links.unwrap_or_default();
        let next = links.next.filter(|next| !next.is_empty()).map(|next| {
            if next.starts_with("/wiki/") || next.starts_with("http://") || next.starts_with("https://") {
                next
            } else {
                format!("{}{next}", links.context.as_deref().unwrap_or("/wiki").trim_end_matches('/'))
            }
        });
        (self.results, next)
    }
}

/// Why a cursor walk ended before the listing said it was over.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CursorAnomaly {
    /// The next link is one this walk already followed: following it would loop, and items after it may
    /// be missing.
    RepeatedNext { link: String, pages: u64 },
    /// A page with no items still had a next link (Confluence does this at the end of some listings).
    EmptyPageWithNext { link: String, pages: u64 },
}

impl std::fmt::Display for CursorAnomaly {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            CursorAnomaly::RepeatedNext { link, pages } => {
                write!(f, "next link {} repeats an earlier one after {pages} page(s)", strip_query(link))
            }
            CursorAnomaly::EmptyPageWithNext { link, pages } => {
                write!(f, "page {pages} is empty but links to {}", strip_query(link))
            }
        }
    }
}

/// Walks a cursor listing: `new` with the first page's path, then `next_page` until it gives `None`.
#[derive(Debug)]
pub struct CursorPager<P> {
    next: Option<String>,
    seen: HashSet<String>,
    pages: u64,
    anomaly: Option<CursorAnomaly>,
    envelope: PhantomData<fn() -> P>,
}

impl<P: CursorPage> CursorPager<P> {
    /// Starts at `first` (`/wiki/api/v2/spaces?limit=250`), or at a stored [`checkpoint`](Self::checkpoint).
    pub fn new(first: impl Into<String>) -> Self {
        CursorPager {
            next: Some(first.into()),
            seen: HashSet::new(),
            pages: 0,
            anomaly: None,
            envelope: PhantomData,
        }
    }

    /// The link the next call fetches: store it to resume later. `None` once the walk is over.
    pub fn checkpoint(&self) -> Option<&str> {
        self.next.as_deref()
    }

    /// Set when the walk ended on a suspicious next link instead of its absence.
    pub fn anomaly(&self) -> Option<&CursorAnomaly> {
        self.anomaly.as_ref()
    }

    /// Pages fetched so far.
    pub fn pages(&self) -> u64 {
        self.pages
    }

    /// The next page's items, or `None` when the walk is over.
    pub async fn next_page(&mut self, client: &Client) -> Result<Option<Vec<P::Item>>, Error> {
        let Some(current) = self.next.clone() else { return Ok(None) };
        let page = client.get_json_page::<P>(&current).await?;
        self.pages += 1;
        self.seen.insert(current);
        let (items, body_next) = page.value.into_parts();
        let next = body_next.or(page.link_next);
        self.next = match next {
            None => None,
            Some(link) if self.seen.contains(&link) => {
                self.stop(CursorAnomaly::RepeatedNext { link, pages: self.pages });
                None
            }
            Some(link) if items.is_empty() => {
                self.stop(CursorAnomaly::EmptyPageWithNext { link, pages: self.pages });
                None
            }
            Some(link) => Some(link),
        };
        Ok(Some(items))
    }

    /// Walks to the end and returns every item, with the anomaly that ended the walk, if any.
    pub async fn collect_all(
        mut self,
        client: &Client,
    ) -> Result<(Vec<P::Item>, Option<CursorAnomaly>), Error> {
        let mut all = Vec::new();
        while let Some(items) = self.next_page(client).await? {
            all.extend(items);
        }
        Ok((all, self.anomaly))
    }

    fn stop(&mut self, anomaly: CursorAnomaly) {
        tracing::warn!(%anomaly, "cursor listing stopped");
        self.anomaly = Some(anomaly);
    }
}

/// A token-paginated response envelope.
pub trait TokenPage: DeserializeOwned {
    type Item;
    fn into_parts(self) -> TokenParts<Self::Item>;
}

/// What a token page says: its items, the token of the next page and whether it is the last.
#[derive(Debug, Clone, PartialEq)]
pub struct TokenParts<T> {
    pub items: Vec<T>,
    pub next_page_token: Option<String>,
    pub is_last: Option<bool>,
}

/// A request body that carries the page token.
pub trait TokenRequest: Serialize {
    fn set_page_token(&mut self, token: Option<String>);
}

impl TokenPage for jira::SearchAndReconcileResults {
    type Item = jira::IssueBean;
    fn into_parts(self) -> TokenParts<jira::IssueBean> {
        TokenParts { items: self.issues, next_page_token: self.next_page_token, is_last: self.is_last }
    }
}

impl TokenPage for jira::BulkChangelogResults {
    type Item = jira::IssueChangeLog;
    fn into_parts(self) -> TokenParts<jira::IssueChangeLog> {
        TokenParts { items: self.issue_change_logs, next_page_token: self.next_page_token, is_last: None }
    }
}

impl TokenRequest for jira::SearchRequest {
    fn set_page_token(&mut self, token: Option<String>) {
        self.next_page_token = token;
    }
}

/// Walks a Jira `nextPageToken` listing by POSTing `request` with each page's token.
#[derive(Debug)]
pub struct TokenPager<R, P> {
    path: String,
    request: R,
    token: Option<String>,
    seen: HashSet<String>,
    pages: u64,
    empty_in_a_row: u64,
    done: bool,
    envelope: PhantomData<fn() -> P>,
}

impl<R: TokenRequest, P: TokenPage> TokenPager<R, P> {
    /// Empty pages that still promise more, in a row, before the walk is given up as an error.
    pub const MAX_EMPTY_PAGES: u64 = 3;

    /// Starts at the first page of `request` POSTed to `path` (`/rest/api/3/search/jql`).
    pub fn new(path: impl Into<String>, request: R) -> Self {
        TokenPager {
            path: path.into(),
            request,
            token: None,
            seen: HashSet::new(),
            pages: 0,
            empty_in_a_row: 0,
            done: false,
            envelope: PhantomData,
        }
    }

    /// Resumes at a stored [`checkpoint`](Self::checkpoint).
    pub fn resume_at(mut self, token: String) -> Self {
        self.token = Some(token);
        self
    }

    /// The token the next call sends (`None` on the first page and once the walk is over; see
    /// [`is_done`](Self::is_done)).
    pub fn checkpoint(&self) -> Option<&str> {
        self.token.as_deref().filter(|_| !self.done)
    }

    pub fn is_done(&self) -> bool {
        self.done
    }

    pub fn pages(&self) -> u64 {
        self.pages
    }

    /// The next page's items, or `None` when the walk is over.
    pub async fn next_page(&mut self, client: &Client) -> Result<Option<Vec<P::Item>>, Error> {
        if self.done {
            return Ok(None);
        }
        self.request.set_page_token(self.token.clone());
        let parts = client.post_json::<R, P>(&self.path, &self.request).await?.into_parts();
        self.pages += 1;
        if let Some(sent) = self.token.take() {
            self.seen.insert(sent);
        }
        match parts.next_page_token.filter(|token| !token.is_empty()) {
            Some(_) if parts.is_last == Some(true) => self.done = true,
            None => self.done = true,
            Some(token) if self.seen.contains(&token) => {
                self.done = true;
                return Err(Error::RepeatedPageToken {
                    path: strip_query(&self.path).to_owned(),
                    pages: self.pages,
                });
            }
            Some(token) => {
                self.empty_in_a_row = if parts.items.is_empty() { self.empty_in_a_row + 1 } else { 0 };
                if self.empty_in_a_row >= Self::MAX_EMPTY_PAGES {
                    self.done = true;
                    return Err(Error::EmptyPages {
                        path: strip_query(&self.path).to_owned(),
                        pages: self.empty_in_a_row,
                    });
                }
                self.token = Some(token);
            }
        }
        Ok(Some(parts.items))
    }

    /// Walks to the end and returns every item.
    pub async fn collect_all(mut self, client: &Client) -> Result<Vec<P::Item>, Error> {
        let mut all = Vec::new();
        while let Some(items) = self.next_page(client).await? {
            all.extend(items);
        }
        Ok(all)
    }
}

/// An offset-paginated response envelope, and the names of its offset and page-size parameters.
pub trait OffsetPage: DeserializeOwned {
    type Item;
    const START_PARAM: &'static str;
    const LIMIT_PARAM: &'static str;
    fn into_parts(self) -> OffsetParts<Self::Item>;
}

/// What an offset page says about itself; any of the hints may be missing.
#[derive(Debug, Clone, PartialEq)]
pub struct OffsetParts<T> {
    pub items: Vec<T>,
    /// The page size the server used (it may be smaller than the one asked for).
    pub limit: Option<u64>,
    pub total: Option<u64>,
    pub is_last: Option<bool>,
}

impl<T: DeserializeOwned + Default> OffsetPage for jira::PageBean<T> {
    type Item = T;
    const START_PARAM: &'static str = "startAt";
    const LIMIT_PARAM: &'static str = "maxResults";
    fn into_parts(self) -> OffsetParts<T> {
        OffsetParts {
            items: self.values,
            limit: self.max_results.map(u64::from),
            total: self.total,
            is_last: self.is_last,
        }
    }
}

impl OffsetPage for jira::PageOfComments {
    type Item = jira::Comment;
    const START_PARAM: &'static str = "startAt";
    const LIMIT_PARAM: &'static str = "maxResults";
    fn into_parts(self) -> OffsetParts<jira::Comment> {
        OffsetParts {
            items: self.comments,
            limit: self.max_results.map(u64::from),
            total: self.total,
            is_last: None,
        }
    }
}

impl<T: DeserializeOwned + Default> OffsetPage for v1::ResultArray<T> {
    type Item = T;
    const START_PARAM: &'static str = "start";
    const LIMIT_PARAM: &'static str = "limit";
    fn into_parts(self) -> OffsetParts<T> {
        OffsetParts {
            items: self.results,
            limit: self.limit.map(u64::from),
            total: self.total_size,
            is_last: None,
        }
    }
}

/// Walks an offset listing, asking for `limit` items per page.
#[derive(Debug)]
pub struct OffsetPager<P> {
    path: String,
    limit: u32,
    start: u64,
    pages: u64,
    done: bool,
    envelope: PhantomData<fn() -> P>,
}

impl<P: OffsetPage> OffsetPager<P> {
    /// Starts at offset 0 of `path` (which may already have a query of its own).
    pub fn new(path: impl Into<String>, limit: u32) -> Self {
        OffsetPager {
            path: path.into(),
            limit: limit.max(1),
            start: 0,
            pages: 0,
            done: false,
            envelope: PhantomData,
        }
    }

    /// Resumes at a stored [`checkpoint`](Self::checkpoint).
    pub fn resume_at(mut self, start: u64) -> Self {
        self.start = start;
        self
    }

    /// The offset the next call asks for; `None` once the walk is over.
    pub fn checkpoint(&self) -> Option<u64> {
        (!self.done).then_some(self.start)
    }

    pub fn pages(&self) -> u64 {
        self.pages
    }

    /// The next page's items, or `None` when the walk is over.
    pub async fn next_page(&mut self, client: &Client) -> Result<Option<Vec<P::Item>>, Error> {
        if self.done {
            return Ok(None);
        }
        let separator = if self.path.contains('?') { '&' } else { '?' };
        let target = format!(
            "{}{separator}{}={}&{}={}",
            self.path,
            P::START_PARAM,
            self.start,
            P::LIMIT_PARAM,
            self.limit
        );
        let parts = client.get_json::<P>(&target).await?.into_parts();
        self.pages += 1;
        let received = parts.items.len() as u64;
        self.done = if received == 0 {
            true
        } else if let Some(is_last) = parts.is_last {
            is_last
        } else if let Some(total) = parts.total {
            self.start + received >= total
        } else {
            received < parts.limit.unwrap_or(u64::from(self.limit))
        };
        self.start += received;
        Ok(Some(parts.items))
    }

    /// Walks to the end and returns every item.
    pub async fn collect_all(mut self, client: &Client) -> Result<Vec<P::Item>, Error> {
        let mut all = Vec::new();
        while let Some(items) = self.next_page(client).await? {
            all.extend(items);
        }
        Ok(all)
    }
}

fn strip_query(target: &str) -> &str {
    target.split(['?', '#']).next().unwrap_or(target)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn v1_next_links_are_made_relative_to_the_site() {
        let cases = [
            (Some("/wiki"), "/rest/api/content/search?cursor=a", "/wiki/rest/api/content/search?cursor=a"),
            (None, "/rest/api/content/search?cursor=a", "/wiki/rest/api/content/search?cursor=a"),
            (Some("/wiki/"), "/rest/api/group?start=5", "/wiki/rest/api/group?start=5"),
            (Some("/wiki"), "/wiki/rest/api/x", "/wiki/rest/api/x"),
            (
                Some("/wiki"),
                "https://acme.atlassian.net/wiki/rest/api/x",
                "https://acme.atlassian.net/wiki/rest/api/x",
            ),
        ];
        for (context, next, expected) in cases {
            let page = v1::ResultArray::<serde_json::Value> {
                results: vec![],
                start: None,
                limit: None,
                size: None,
                total_size: None,
                links: Some(v1::Links {
                    next: Some(next.into()),
                    context: context.map(str::to_owned),
                    ..Default::default()
                }),
            };
            assert_eq!(CursorPage::into_parts(page).1.as_deref(), Some(expected), "{context:?} {next}");
        }
    }

    #[test]
    fn anomalies_name_the_link_without_its_query() {
        let anomaly = CursorAnomaly::RepeatedNext { link: "/wiki/api/v2/spaces?cursor=xyz".into(), pages: 3 };
        assert_eq!(
            anomaly.to_string(),
            "next link /wiki/api/v2/spaces repeats an earlier one after 3 page(s)"
        );
    }
}

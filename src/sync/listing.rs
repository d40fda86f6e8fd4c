//! [`Walk`]: one listing of a site read page by page, whatever its paging style (Confluence cursors, Jira
//! page tokens: both reach the engine as an opaque `next`). A page that cannot be fetched is recorded in the
//! run record and ends the walk as [`Listing::Incomplete`], so nothing is deleted on the strength of a
//! short listing.
//!
//! The walk is pulled a page at a time, so the caller can process a page, checkpoint with the cursor it
//! was fetched with ([`Walk::page_cursor`]) or the one to fetch next ([`Walk::cursor`]), and stop between
//! pages. It does not retry (the HTTP client did) and does not loop (the crawlers' pagers refuse a
//! repeated `next`).

use std::future::Future;

use super::runs::{Counted, RunRecord};
use crate::atlassian::Page;

/// What one listing achieved.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Listing {
    Complete,
    /// Stopped by an error (recorded): nothing may be deleted on the strength of it.
    Incomplete,
}

/// A fetched listing page: its items and the cursor of the next page (`None`: the last page).
pub(super) trait Listed {
    type Items;
    fn split(self) -> (Self::Items, Option<String>);
}

impl<T> Listed for Page<T> {
    type Items = Vec<T>;
    fn split(self) -> (Vec<T>, Option<String>) {
        (self.items, self.next)
    }
}

impl<I> Listed for (I, Option<String>) {
    type Items = I;
    fn split(self) -> (I, Option<String>) {
        self
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    Open,
    Ended,
    Failed,
}

/// A listing being walked (see the module documentation).
#[derive(Debug)]
pub(super) struct Walk {
    /// The cursor of the next page to fetch (`None`: the first page).
    next: Option<String>,
    /// The cursor the page last returned was fetched with.
    fetched_with: Option<String>,
    state: State,
    /// What a failed fetch is counted against, and the item it is recorded as.
    counted: Counted,
    item: String,
}

impl Walk {
    /// A walk from the first page. A failed fetch is counted against `kind` and recorded as `item`
    /// (`"listing comments"`).
    pub(super) fn new(counted: Counted, item: impl Into<String>) -> Walk {
        Walk::resume(None, counted, item)
    }

    /// A walk from a stored cursor (`None`: the first page).
    pub(super) fn resume(cursor: Option<String>, counted: Counted, item: impl Into<String>) -> Walk {
        Walk { next: cursor.clone(), fetched_with: cursor, state: State::Open, counted, item: item.into() }
    }

    /// Whether another page may follow.
    pub(super) fn has_more(&self) -> bool {
        self.state == State::Open
    }

    /// The cursor of the page the next call to [`Walk::next`] fetches.
    pub(super) fn cursor(&self) -> Option<String> {
        self.next.clone()
    }

    /// The cursor the page last returned was fetched with: a checkpoint inside that page resumes from it.
    pub(super) fn page_cursor(&self) -> Option<String> {
        self.fetched_with.clone()
    }

    /// Fetches the next page with `fetch(cursor)` and returns its items; `None` once the listing has
    /// ended, or when the fetch failed (recorded in `record`; the walk is then incomplete).
    pub(super) async fn next<L, Fut>(
        &mut self,
        record: &mut RunRecord,
        fetch: impl FnOnce(Option<String>) -> Fut,
    ) -> Option<L::Items>
    where
        L: Listed,
        Fut: Future<Output = Result<L, crate::atlassian::Error>>,
    {
        match self.try_next(fetch).await {
            Ok(items) => items,
            Err(e) => {
                record.fail_call(self.counted, self.item.clone(), &e, e.to_string());
                None
            }
        }
    }

    /// Like [`Walk::next`], but a failed fetch is handed back instead of recorded (the walk is then
    /// incomplete all the same): for a caller that can recover, e.g. by listing a part at a time.
    pub(super) async fn try_next<L, Fut>(
        &mut self,
        fetch: impl FnOnce(Option<String>) -> Fut,
    ) -> Result<Option<L::Items>, crate::atlassian::Error>
    where
        L: Listed,
        Fut: Future<Output = Result<L, crate::atlassian::Error>>,
    {
        if self.state != State::Open {
            return Ok(None);
        }
        match fetch(self.next.clone()).await {
            Ok(page) => {
                let (items, next) = page.split();
                self.fetched_with = std::mem::replace(&mut self.next, next);
                if self.next.is_none() {
                    self.state = State::Ended;
                }
                Ok(Some(items))
            }
            Err(e) => {
                self.state = State::Failed;
                Err(e)
            }
        }
    }

    /// Complete once the last page was fetched; incomplete after a failed fetch (or before the end).
    pub(super) fn listing(&self) -> Listing {
        match self.state {
            State::Ended => Listing::Complete,
            State::Open | State::Failed => Listing::Incomplete,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::index::{Kind, Product};
    use crate::sync::runs::Mode;

    const COMMENTS: Counted = Counted::Docs(Product::Confluence, Kind::Comment);

    fn record() -> RunRecord {
        RunRecord::new("r".into(), "s", Mode::Full, chrono::DateTime::UNIX_EPOCH)
    }

    /// A listing of `pages`, each `Ok(items)` or `Err` (a failed fetch), walked to its end.
    fn walk(pages: &[Result<&[u32], ()>]) -> (Vec<u32>, Vec<Option<String>>, Listing, RunRecord) {
        let runtime = tokio::runtime::Builder::new_current_thread().build().expect("runtime");
        let mut record = record();
        let mut walk = Walk::new(COMMENTS, "listing comments");
        let (mut items, mut cursors) = (Vec::new(), Vec::new());
        runtime.block_on(async {
            while let Some(page) = walk
                .next(&mut record, |cursor| async move {
                    let at: usize = cursor.as_deref().map_or(0, |c| c.parse().expect("cursor"));
                    let next = (at + 1 < pages.len()).then(|| (at + 1).to_string());
                    match pages[at] {
                        Ok(page) => Ok(Page { items: page.to_vec(), next }),
                        Err(()) => Err(crate::atlassian::Error::InvalidConfig("down".into())),
                    }
                })
                .await
            {
                items.extend(page);
                cursors.push(walk.page_cursor());
            }
        });
        (items, cursors, walk.listing(), record)
    }

    #[test]
    fn walks_every_page_in_order() {
        let (items, cursors, listing, record) = walk(&[Ok(&[1, 2]), Ok(&[]), Ok(&[3])]);
        assert_eq!(items, [1, 2, 3]);
        assert_eq!(cursors, [None, Some("1".into()), Some("2".into())]);
        assert_eq!((listing, record.failed()), (Listing::Complete, 0));
    }

    #[test]
    fn a_failed_page_is_recorded_and_incomplete() {
        let (items, _, listing, record) = walk(&[Ok(&[1]), Err(()), Ok(&[3])]);
        assert_eq!(items, [1]);
        assert_eq!(listing, Listing::Incomplete);
        assert_eq!(record.counts[&COMMENTS].failed, 1);
        assert_eq!(record.failures[0].item, "listing comments");
    }
}

//! The attachment pipeline of both products: download (async, bounded by the HTTP client) and extract
//! (isolated worker processes on the blocking pool, bounded here) a batch of attachments, one result per
//! attachment: its text, or why it has none. At most [`IN_HAND`] attachments of a batch are downloaded and
//! not yet extracted at once, so a large batch does not hold all its bytes.
//!
//! An attachment over `max_attachment_bytes` is not downloaded. One whose download or extraction fails is
//! still indexed by the caller, with its title and no text, and the reason is recorded
//! ([`AttachmentText::into_text`]). A failed extraction is final for this extractor version; a failed
//! download is not: the attachment is stamped [`ExtractionStatus::Unread`] and a later run downloads it
//! again. A download cut short because the run is stopping is not a failure at all.
//!
//! This file knows neither Confluence nor Jira: the caller hands it one download future per attachment.

use std::future::Future;
use std::sync::Arc;

use tokio::task::JoinSet;

use super::runs::RunRecord;
use super::state::{ExtractionStamp, ExtractionStatus};
use super::Error;
use crate::extract::{ExtractConfig, Extractor, Hint, Outcome, EXTRACTOR_VERSION};
use crate::index::DocId;

/// An attachment's text or why it has none.
pub(super) enum AttachmentText {
    Text(String),
    Skipped(String),
    Failed(String),
    /// The download failed (or was cut short by a stopping run): nothing was read, so nothing is final.
    Unread(crate::atlassian::Error),
}

impl AttachmentText {
    /// The text to index for the attachment `id` and the stamp of its outcome, recording why there is none.
    pub(super) fn into_text(self, record: &mut RunRecord, id: &DocId) -> (String, ExtractionStamp) {
        let stamp = |status| ExtractionStamp { status, extractor: EXTRACTOR_VERSION };
        match self {
            AttachmentText::Text(text) if text.trim().is_empty() => {
                record.empty(id, id.to_string());
                (text, stamp(ExtractionStatus::Empty))
            }
            AttachmentText::Text(text) => {
                record.counts_mut(id).extracted += 1;
                (text, stamp(ExtractionStatus::Ok))
            }
            AttachmentText::Skipped(reason) => {
                record.skip(id, id.to_string(), reason);
                (String::new(), stamp(ExtractionStatus::Skipped))
            }
            AttachmentText::Failed(reason) => {
                record.fail(id, id.to_string(), reason);
                (String::new(), stamp(ExtractionStatus::Failed))
            }
            AttachmentText::Unread(e) => {
                let reason = format!("download: {e} (downloaded again by a later run)");
                record.fail_call(id, id.to_string(), &e, reason);
                (String::new(), stamp(ExtractionStatus::Unread))
            }
        }
    }
}

/// One attachment to fetch: its size as listed (if known), what the extractor is told about it, and the
/// download.
pub(super) struct Fetch<F> {
    size: Option<u64>,
    hint: Hint,
    download: F,
}

impl<F> Fetch<F> {
    /// An attachment of `size` bytes (when listed) named `filename`, fetched by `download`.
    pub(super) fn new(
        size: Option<u64>,
        filename: &str,
        media_type: &Option<String>,
        download: F,
    ) -> Fetch<F> {
        let hint = Hint { filename: Some(filename.to_string()), media_type: media_type.clone() };
        Fetch { size, hint, download }
    }
}

/// Attachments of one batch downloaded, being downloaded or waiting for extraction at once: what bounds the
/// bytes a batch holds in memory (at most this many times `max_attachment_bytes`), however large the batch.
/// A download waiting out a 429 holds a place too, so this is well above the client's concurrency.
const IN_HAND: usize = 16;

/// Downloads and extracts attachments with bounded concurrency.
pub(super) struct AttachmentPipeline {
    extractor: Extractor,
    /// Extractions at once (each is a child process).
    concurrency: usize,
    /// Larger attachments are skipped without a download.
    max_bytes: u64,
}

impl AttachmentPipeline {
    pub(super) fn new(extract: &ExtractConfig, concurrency: usize, max_bytes: u64) -> AttachmentPipeline {
        AttachmentPipeline {
            extractor: Extractor::new(extract.clone()),
            concurrency: concurrency.max(1),
            max_bytes,
        }
    }

    /// The most bytes one attachment may have.
    pub(super) fn max_bytes(&self) -> u64 {
        self.max_bytes
    }

    /// Fetches and extracts `items`. One result per input, in order: the text, or why there is none.
    pub(super) async fn run<F>(&self, items: Vec<Fetch<F>>) -> Result<Vec<AttachmentText>, Error>
    where
        F: Future<Output = Result<Vec<u8>, crate::atlassian::Error>> + Send + 'static,
    {
        let cap = self.max_bytes;
        let limit = Arc::new(tokio::sync::Semaphore::new(self.concurrency));
        let in_hand = Arc::new(tokio::sync::Semaphore::new(IN_HAND));
        let mut tasks = JoinSet::new();
        let count = items.len();
        for (index, Fetch { size, hint, download }) in items.into_iter().enumerate() {
            if size.is_some_and(|s| s > cap) {
                let reason = format!("larger than max_attachment_bytes ({} > {cap})", size.unwrap_or(0));
                tasks.spawn(async move { (index, AttachmentText::Skipped(reason)) });
                continue;
            }
            let extractor = self.extractor.clone();
            let (limit, in_hand) = (limit.clone(), in_hand.clone());
            tasks.spawn(async move {
                let Ok(_held) = in_hand.acquire_owned().await else {
                    return (index, AttachmentText::Failed("download pool closed".into()));
                };
                let bytes = match download.await {
                    Ok(bytes) => bytes,
                    Err(e) => return (index, AttachmentText::Unread(e)),
                };
                let Ok(_permit) = limit.acquire_owned().await else {
                    return (index, AttachmentText::Failed("extraction pool closed".into()));
                };
                let extracted = tokio::task::spawn_blocking(move || extractor.extract(&bytes, &hint)).await;
                let text = match extracted {
                    Ok(extraction) => match extraction.outcome {
                        Outcome::Ok { text, .. } => AttachmentText::Text(text),
                        Outcome::Failed { reason } => AttachmentText::Failed(format!("extraction: {reason}")),
                        Outcome::Skipped { reason } => AttachmentText::Skipped(reason),
                    },
                    Err(e) => AttachmentText::Failed(format!("extraction task: {e}")),
                };
                (index, text)
            });
        }
        let mut out: Vec<Option<AttachmentText>> = (0..count).map(|_| None).collect();
        while let Some(joined) = tasks.join_next().await {
            let (index, text) = joined.map_err(|e| Error::Task(e.to_string()))?;
            out[index] = Some(text);
        }
        Ok(out.into_iter().map(|t| t.unwrap_or(AttachmentText::Failed("no result".into()))).collect())
    }
}

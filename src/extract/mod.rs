//! Text extraction: Confluence storage XHTML, Jira ADF and attachment files to clean text.

/// Errors raised while extracting text.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("extraction failed for {name}: {reason}")]
    Failed { name: String, reason: String },
}

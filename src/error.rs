//! The crate-wide error type: one variant per top-level module, each wrapping that module's own error.
//!
//! Messages are lowercase, without a trailing period, and name the id or path they concern.

/// Everything that can go wrong in permdex, by module.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error(transparent)]
    Acl(#[from] crate::acl::Error),
    #[error(transparent)]
    Atlassian(#[from] crate::atlassian::Error),
    #[error(transparent)]
    Config(#[from] crate::config::Error),
    #[error(transparent)]
    Sim(#[from] crate::sim::Error),
    #[error(transparent)]
    Extract(#[from] crate::extract::Error),
    #[error(transparent)]
    Index(#[from] crate::index::Error),
    #[error(transparent)]
    Server(#[from] crate::server::Error),
    #[error(transparent)]
    Sync(#[from] crate::sync::Error),
    #[error(transparent)]
    Search(#[from] crate::search::Error),
    #[error(transparent)]
    Demo(#[from] crate::demo::Error),
    #[error("{0}")]
    Io(#[from] std::io::Error),
}

/// Result with the crate-wide [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

//! Why no answer can be delivered until the station's configuration changes
//! ([`EndpointProblem`]): the problems no retry can fix, each in plain words with what to do
//! about it. Plain data: the error says which problem a failure shows, and the health keeper
//! records it.

use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use crate::config::TOKEN_ENV;

/// Why no answer can be delivered until the configuration changes. Each names what to fix.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum EndpointProblem {
    /// The token file does not exist (and `BOOTH_UPLOAD_TOKEN` is not set).
    TokenMissing {
        path: PathBuf,
    },
    TokenUnreadable {
        path: PathBuf,
        detail: String,
    },
    TokenEmpty {
        path: PathBuf,
    },
    /// The token holds characters an HTTP header cannot carry.
    TokenMalformed {
        origin: String,
    },
    /// The server refused the token (401 or 403).
    Unauthorized {
        method: String,
        url: String,
        status: u16,
    },
    /// The creation URL is not there (404 or 405 to OPTIONS or POST): a typo, or a path the
    /// server does not route (a trailing slash).
    NoCreationUrl {
        method: String,
        url: String,
        status: u16,
    },
    /// A PATCH no larger than the configured chunk was refused as too large (413): something
    /// between booth and the server takes less.
    ChunkTooLarge {
        url: String,
        bytes: u64,
    },
}

impl std::fmt::Display for EndpointProblem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            EndpointProblem::TokenMissing { path } => write!(
                f,
                "the upload token file {} does not exist (and {TOKEN_ENV} is not set)",
                path.display()
            ),
            EndpointProblem::TokenUnreadable { path, detail } => write!(
                f,
                "cannot read the upload token file {}: {detail}",
                path.display()
            ),
            EndpointProblem::TokenEmpty { path } => {
                write!(f, "the upload token file {} is empty", path.display())
            }
            EndpointProblem::TokenMalformed { origin } => write!(
                f,
                "the upload token from {origin} contains characters that cannot be sent over HTTP"
            ),
            EndpointProblem::Unauthorized {
                method,
                url,
                status,
            } => write!(
                f,
                "{method} {url} answered {status}: the server refuses this station's token"
            ),
            EndpointProblem::NoCreationUrl {
                method,
                url,
                status,
            } => write!(
                f,
                "{method} {url} answered {status}: there is no tus creation URL there"
            ),
            EndpointProblem::ChunkTooLarge { url, bytes } => write!(
                f,
                "PATCH {url} answered 413 to a chunk of {bytes} bytes, the configured chunk_mib: \
                 something between booth and the server takes less"
            ),
        }
    }
}

impl EndpointProblem {
    /// What the operator does about it, in plain words.
    pub fn fix(&self) -> String {
        match self {
            EndpointProblem::TokenMissing { path }
            | EndpointProblem::TokenUnreadable { path, .. }
            | EndpointProblem::TokenEmpty { path } => format!(
                "put the station's upload token in {} (mode 600, owned by the booth user), or \
                 set {TOKEN_ENV}",
                path.display()
            ),
            EndpointProblem::TokenMalformed { .. } | EndpointProblem::Unauthorized { .. } => {
                format!(
                    "put the platform's current token for this station in the token file (or \
                     {TOKEN_ENV})"
                )
            }
            EndpointProblem::NoCreationUrl { .. } => "set [upload] endpoint to the tus creation \
                 URL the platform gave, exactly (its path, and whether it ends in a slash)"
                .to_string(),
            EndpointProblem::ChunkTooLarge { .. } => "lower [upload] chunk_mib (and \
                 max_chunk_mib) below the request-body limit of the proxy in front of the server, \
                 or raise that limit"
                .to_string(),
        }
    }
}

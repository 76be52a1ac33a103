//! Why an upload step failed, with the offending value (URL, status, file), and what the
//! delivery loop does about it ([`UploadError::verdict`]), including whether the endpoint
//! itself refuses until its configuration is fixed ([`UploadError::endpoint_problem`]). No
//! variant ever holds the bearer token: requests carry it only in a header, and header values
//! are never put in an error.

use std::path::PathBuf;
use std::time::Duration;

use super::problem::EndpointProblem;
use crate::config::TokenError;
use crate::fsutil::FsError;

/// An upload failure. Display is one line for an operator; the chain adds the cause.
#[derive(Debug, thiserror::Error)]
pub enum UploadError {
    #[error(transparent)]
    Fs(#[from] FsError),
    #[error(transparent)]
    Token(#[from] TokenError),
    #[error("{method} {url}: {detail}")]
    Network {
        method: &'static str,
        url: String,
        /// The transport error's own words, with reqwest's URL repetition left out.
        detail: String,
    },
    #[error("{method} {url}: no progress for {} s", timeout.as_secs())]
    Stalled {
        method: &'static str,
        url: String,
        timeout: Duration,
    },
    #[error("{method} {url} answered {status}{}", body_suffix(body))]
    Status {
        method: &'static str,
        url: String,
        status: u16,
        /// The start of the server's explanation, if it gave one.
        body: String,
        /// The server's `Retry-After`, in seconds (429, 503).
        retry_after: Option<u64>,
    },
    /// The server answered a PATCH as a success but kept none of its bytes.
    #[error(
        "PATCH {url} answered as a success but the server kept nothing (offset still {offset})"
    )]
    NoProgress { url: String, offset: u64 },
    /// A PATCH no larger than the configured chunk was refused as too large (413).
    #[error("PATCH {url} answered 413 to a chunk of {bytes} bytes, the configured chunk size")]
    ChunkRefused { url: String, bytes: u64 },
    #[error("{method} {url}: {detail}")]
    Protocol {
        method: &'static str,
        url: String,
        detail: String,
    },
    #[error(
        "the server put the upload on another origin ({location}, endpoint {endpoint}); refused"
    )]
    CrossOrigin { location: String, endpoint: String },
    #[error(
        "{url}: plain http:// is only allowed to this machine (set allow_plain_http = true to allow it)"
    )]
    PlainHttp { url: String },
    #[error("{url} is not a usable upload URL: {detail}")]
    BadUrl { url: String, detail: String },
    #[error("{} is {size} bytes, more than the server accepts ({max} bytes)", path.display())]
    TooLarge { path: PathBuf, size: u64, max: u64 },
    #[error("{} is empty: there is nothing to upload", path.display())]
    EmptyFile { path: PathBuf },
    #[error("{} changed since it was queued ({detail}); it is kept as it is", path.display())]
    FileChanged { path: PathBuf, detail: String },
    #[error("{} is not a regular file", path.display())]
    NotAFile { path: PathBuf },
    #[error(
        "the outbox {} is in use by another booth process{}",
        dir.display(),
        holder.map(|p| format!(" (pid {p})")).unwrap_or_default()
    )]
    OutboxBusy { dir: PathBuf, holder: Option<u32> },
    #[error("{}: not an outbox record: {detail}", path.display())]
    BadRecord { path: PathBuf, detail: String },
    #[error("no outbox item {id}")]
    UnknownItem { id: String },
    #[error("answer {id} is already queued with other content ({})", existing.display())]
    DuplicateAnswer { id: String, existing: PathBuf },
    #[error("item {id} is {state}: only undelivered items can be abandoned")]
    Finished { id: String, state: String },
    #[error("the copy at {} does not match the recording (sha256 {found}, expected {expected})", path.display())]
    CopyMismatch {
        path: PathBuf,
        expected: String,
        found: String,
    },
    #[error("the HTTP client cannot be set up: {0}")]
    Client(String),
    #[error("the upload service has stopped")]
    Stopped,
}

fn body_suffix(body: &str) -> String {
    if body.is_empty() {
        String::new()
    } else {
        format!(": {body}")
    }
}

/// What the delivery loop does after an error.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// Network or server trouble: wait (backoff with jitter), then ask the server's offset.
    Retry,
    /// Ask the server's offset at once and go on from there (409, 460).
    Rehead,
    /// The upload is gone (404, 410): retire its URL for good and start a new one.
    Recreate,
    /// The server or the file will never allow it: keep the file, mark the item, say why.
    Refuse,
}

impl UploadError {
    /// How long the server asked to be left alone, if it did.
    pub fn retry_after(&self) -> Option<Duration> {
        match self {
            UploadError::Status {
                retry_after: Some(s),
                ..
            } => Some(Duration::from_secs(*s)),
            _ => None,
        }
    }

    /// How the delivery loop treats this error.
    pub fn verdict(&self) -> Verdict {
        match self {
            UploadError::Status { method, status, .. } => match (*method, *status) {
                (_, 409 | 460) => Verdict::Rehead,
                // A creation URL that is not there is the endpoint's problem, not the item's.
                ("HEAD" | "PATCH", 404 | 410) => Verdict::Recreate,
                (_, 412 | 413) => Verdict::Refuse,
                // Credentials, rate limits, locks and timeouts change without the item changing;
                // so does a creation URL that does not take POST (the endpoint's problem).
                (_, 401 | 403 | 404 | 408 | 410 | 423 | 425 | 429) => Verdict::Retry,
                ("OPTIONS" | "POST", 405) => Verdict::Retry,
                // A moved endpoint is the operator's to fix; the item waits, it is not refused.
                (_, 300..=399) => Verdict::Retry,
                (_, 500..) => Verdict::Retry,
                _ => Verdict::Refuse,
            },
            UploadError::Network { .. }
            | UploadError::Stalled { .. }
            | UploadError::NoProgress { .. }
            | UploadError::ChunkRefused { .. }
            | UploadError::Protocol { .. }
            | UploadError::Token(_)
            | UploadError::CopyMismatch { .. }
            | UploadError::Client(_)
            | UploadError::OutboxBusy { .. }
            | UploadError::Stopped => Verdict::Retry,
            // Local trouble (a full disk, a share that went away) passes; a missing file does not.
            UploadError::Fs(e) if e.kind() == std::io::ErrorKind::NotFound => Verdict::Refuse,
            UploadError::Fs(_) => Verdict::Retry,
            UploadError::CrossOrigin { .. }
            | UploadError::PlainHttp { .. }
            | UploadError::BadUrl { .. }
            | UploadError::TooLarge { .. }
            | UploadError::EmptyFile { .. }
            | UploadError::FileChanged { .. }
            | UploadError::NotAFile { .. }
            | UploadError::BadRecord { .. }
            | UploadError::UnknownItem { .. }
            | UploadError::DuplicateAnswer { .. }
            | UploadError::Finished { .. } => Verdict::Refuse,
        }
    }

    /// Whether this says the endpoint refuses every delivery until its configuration is fixed
    /// (no retry of any item can help), and why. Such errors keep their items queued.
    pub fn endpoint_problem(&self) -> Option<EndpointProblem> {
        match self {
            UploadError::Token(TokenError::Unreadable { path, source })
                if source.kind() == std::io::ErrorKind::NotFound =>
            {
                Some(EndpointProblem::TokenMissing { path: path.clone() })
            }
            UploadError::Token(TokenError::Unreadable { path, source }) => {
                Some(EndpointProblem::TokenUnreadable {
                    path: path.clone(),
                    detail: source.to_string(),
                })
            }
            UploadError::Token(TokenError::Empty { path }) => {
                Some(EndpointProblem::TokenEmpty { path: path.clone() })
            }
            UploadError::Token(TokenError::Malformed { origin }) => {
                Some(EndpointProblem::TokenMalformed {
                    origin: origin.clone(),
                })
            }
            UploadError::Status {
                method,
                url,
                status: status @ (401 | 403),
                ..
            } => Some(EndpointProblem::Unauthorized {
                method: (*method).to_string(),
                url: url.clone(),
                status: *status,
            }),
            UploadError::Status {
                method: method @ ("OPTIONS" | "POST"),
                url,
                status: status @ (404 | 405),
                ..
            } => Some(EndpointProblem::NoCreationUrl {
                method: (*method).to_string(),
                url: url.clone(),
                status: *status,
            }),
            UploadError::ChunkRefused { url, bytes } => Some(EndpointProblem::ChunkTooLarge {
                url: url.clone(),
                bytes: *bytes,
            }),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn status(method: &'static str, status: u16) -> UploadError {
        UploadError::Status {
            method,
            url: "https://x/files/1".into(),
            status,
            body: String::new(),
            retry_after: None,
        }
    }

    #[test]
    fn status_codes_get_the_tus_treatment() {
        assert_eq!(status("PATCH", 409).verdict(), Verdict::Rehead);
        assert_eq!(status("PATCH", 460).verdict(), Verdict::Rehead);
        assert_eq!(status("HEAD", 404).verdict(), Verdict::Recreate);
        assert_eq!(status("PATCH", 410).verdict(), Verdict::Recreate);
        assert_eq!(status("POST", 404).verdict(), Verdict::Retry);
        assert_eq!(status("POST", 413).verdict(), Verdict::Refuse);
        assert_eq!(status("POST", 412).verdict(), Verdict::Refuse);
        assert_eq!(status("PATCH", 503).verdict(), Verdict::Retry);
        assert_eq!(status("PATCH", 429).verdict(), Verdict::Retry);
        assert_eq!(status("POST", 401).verdict(), Verdict::Retry);
        assert_eq!(status("POST", 400).verdict(), Verdict::Refuse);
        assert_eq!(status("PATCH", 415).verdict(), Verdict::Refuse);
        let kept_nothing = UploadError::NoProgress {
            url: "https://x/files/1".into(),
            offset: 5,
        };
        assert_eq!(kept_nothing.verdict(), Verdict::Retry);
    }

    #[test]
    fn what_only_the_configuration_can_fix_is_an_endpoint_problem() {
        let kind = |e: &UploadError| {
            e.endpoint_problem()
                .map(|p| serde_json::to_value(p).ok().map(|v| v["kind"].clone()))
        };
        for (method, code, expected) in [
            ("POST", 401, Some("unauthorized")),
            ("HEAD", 403, Some("unauthorized")),
            ("OPTIONS", 404, Some("no_creation_url")),
            ("POST", 404, Some("no_creation_url")),
            ("POST", 405, Some("no_creation_url")),
            // An upload that is gone is the item's business (recreate), not the endpoint's.
            ("HEAD", 404, None),
            ("PATCH", 404, None),
            ("PATCH", 503, None),
            ("POST", 413, None),
        ] {
            let e = status(method, code);
            let got = kind(&e).flatten();
            assert_eq!(
                got.as_ref().and_then(|v| v.as_str()),
                expected,
                "{method} {code}"
            );
            // Never refused for good: the items wait for the fix.
            if expected.is_some() {
                assert_eq!(e.verdict(), Verdict::Retry, "{method} {code}");
            }
        }
        let missing = UploadError::Token(TokenError::Unreadable {
            path: "/etc/booth/upload-token".into(),
            source: std::io::Error::from(std::io::ErrorKind::NotFound),
        });
        assert_eq!(
            missing.endpoint_problem(),
            Some(EndpointProblem::TokenMissing {
                path: "/etc/booth/upload-token".into()
            })
        );
        let chunk = UploadError::ChunkRefused {
            url: "https://x/files/1".into(),
            bytes: 1 << 20,
        };
        assert_eq!(chunk.verdict(), Verdict::Retry);
        assert!(matches!(
            chunk.endpoint_problem(),
            Some(EndpointProblem::ChunkTooLarge { bytes, .. }) if bytes == 1 << 20
        ));
        let kept_nothing = UploadError::NoProgress {
            url: "https://x/files/1".into(),
            offset: 5,
        };
        assert_eq!(kept_nothing.endpoint_problem(), None);
    }

    #[test]
    fn status_errors_name_method_url_and_status() {
        let e = UploadError::Status {
            method: "POST",
            url: "https://up.example/files/".into(),
            status: 413,
            body: "Request Entity Too Large".into(),
            retry_after: None,
        };
        assert_eq!(
            e.to_string(),
            "POST https://up.example/files/ answered 413: Request Entity Too Large"
        );
    }
}

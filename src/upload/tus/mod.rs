//! A small tus 1.0 client on reqwest + rustls: discovery (OPTIONS), creation (POST), offset
//! (HEAD), one chunk (PATCH, streamed from the file, with `Upload-Checksum: sha1` when the
//! server announced it) and termination (DELETE). It sends one request per call and never
//! retries: what to do after a failure is the delivery loop's decision (`deliver.rs`).
//!
//! It owns the URL policy: HTTPS, or plain HTTP only to loopback or when the config allows it;
//! an upload URL (`Location`) must be on the endpoint's origin, so data and token never go to a
//! host the operator did not configure. Redirects are not followed for the same reason.

use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use futures::StreamExt;
use reqwest::header::{self, HeaderMap, HeaderValue};
use reqwest::{Method, StatusCode, Url};

use super::Tuning;
use super::error::UploadError;
use crate::config::{TokenError, UploadToken};
use wire::{header_str, number_header, read_ahead, send, sha1_of_range, status_error};

mod wire;

/// Reads the bearer token when a request needs it (so a fixed token file is picked up).
pub type TokenSource = Arc<dyn Fn() -> Result<UploadToken, TokenError> + Send + Sync>;

const TUS_VERSION: &str = "1.0.0";
const OFFSET_TYPE: &str = "application/offset+octet-stream";
/// How much of a server's error body goes into a message.
const BODY_SNIPPET: usize = 200;

/// What the server said about itself in reply to OPTIONS.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Capabilities {
    pub extensions: Vec<String>,
    pub checksum_algorithms: Vec<String>,
    pub max_size: Option<u64>,
}

impl Capabilities {
    /// Whether PATCH requests should carry `Upload-Checksum: sha1 …`.
    pub fn sha1_checksums(&self) -> bool {
        self.extensions.iter().any(|e| e == "checksum")
            && self.checksum_algorithms.iter().any(|a| a == "sha1")
    }

    pub fn termination(&self) -> bool {
        self.extensions.iter().any(|e| e == "termination")
    }
}

/// The server's view of one upload (HEAD).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct UploadState {
    pub offset: u64,
    pub length: Option<u64>,
}

/// A tus client for one creation endpoint.
#[derive(Clone)]
pub struct TusClient {
    http: reqwest::Client,
    endpoint: Url,
    token: TokenSource,
    stall: Duration,
}

impl TusClient {
    /// A client for `endpoint`; refuses plain HTTP to other machines unless allowed.
    pub fn new(
        endpoint: &str,
        allow_plain_http: bool,
        token: TokenSource,
        tuning: &Tuning,
    ) -> Result<TusClient, UploadError> {
        let url = Url::parse(endpoint).map_err(|e| UploadError::BadUrl {
            url: endpoint.to_string(),
            detail: e.to_string(),
        })?;
        check_scheme(&url, allow_plain_http)?;
        let http = reqwest::Client::builder()
            .connect_timeout(tuning.connect_timeout)
            .redirect(reqwest::redirect::Policy::none())
            // Shorter than common servers' keep-alive (Node: 5 s), so a pooled connection is
            // rarely reused just as the server closes it.
            .pool_idle_timeout(Duration::from_secs(4))
            .tcp_keepalive(Duration::from_secs(15))
            .tcp_nodelay(true)
            .user_agent(concat!("booth/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| UploadError::Client(e.to_string()))?;
        Ok(TusClient {
            http,
            endpoint: url,
            token,
            stall: tuning.stall_timeout,
        })
    }

    pub fn endpoint(&self) -> &str {
        self.endpoint.as_str()
    }

    /// Parses a stored upload URL and checks it is on the endpoint's origin.
    pub fn upload_url(&self, url: &str) -> Result<Url, UploadError> {
        let parsed = Url::parse(url).map_err(|e| UploadError::BadUrl {
            url: url.to_string(),
            detail: e.to_string(),
        })?;
        if parsed.origin() != self.endpoint.origin() {
            return Err(UploadError::CrossOrigin {
                location: url.to_string(),
                endpoint: self.endpoint.to_string(),
            });
        }
        Ok(parsed)
    }

    fn request(
        &self,
        method: Method,
        url: &Url,
        tus: bool,
    ) -> Result<reqwest::RequestBuilder, UploadError> {
        let token = (self.token)()?;
        let mut auth =
            HeaderValue::from_str(&format!("Bearer {}", token.expose())).map_err(|_| {
                TokenError::Malformed {
                    origin: "the token source".to_string(),
                }
            })?;
        // Keeps it out of Debug output and HTTP/2 header compression tables.
        auth.set_sensitive(true);
        let mut headers = HeaderMap::new();
        headers.insert(header::AUTHORIZATION, auth);
        if tus {
            headers.insert("Tus-Resumable", HeaderValue::from_static(TUS_VERSION));
        }
        Ok(self.http.request(method, url.clone()).headers(headers))
    }

    /// OPTIONS on the endpoint: extensions, checksum algorithms, maximum size.
    pub async fn discover(&self) -> Result<Capabilities, UploadError> {
        let url = self.endpoint.clone();
        // tus: OPTIONS goes without Tus-Resumable.
        let req = self
            .request(Method::OPTIONS, &url, false)?
            .timeout(self.stall);
        let resp = send("OPTIONS", &url, req).await?;
        if !resp.status().is_success() {
            return Err(status_error("OPTIONS", &url, resp, self.stall).await);
        }
        let list = |name: &str| -> Vec<String> {
            header_str(&resp, name)
                .map(|v| {
                    v.split(',')
                        .map(|s| s.trim().to_ascii_lowercase())
                        .filter(|s| !s.is_empty())
                        .collect()
                })
                .unwrap_or_default()
        };
        let versions = list("tus-version");
        if !versions.is_empty() && !versions.iter().any(|v| v == TUS_VERSION) {
            return Err(UploadError::Protocol {
                method: "OPTIONS",
                url: url.to_string(),
                detail: format!("the server speaks tus {}, not 1.0.0", versions.join(", ")),
            });
        }
        Ok(Capabilities {
            extensions: list("tus-extension"),
            checksum_algorithms: list("tus-checksum-algorithm"),
            max_size: header_str(&resp, "tus-max-size").and_then(|v| v.trim().parse().ok()),
        })
    }

    /// POST: a new upload of `length` bytes; returns its URL (checked to be same-origin).
    pub async fn create(&self, length: u64, metadata: &str) -> Result<Url, UploadError> {
        let url = self.endpoint.clone();
        let req = self
            .request(Method::POST, &url, true)?
            .header("Upload-Length", length)
            .header("Upload-Metadata", metadata)
            .header(header::CONTENT_LENGTH, 0)
            .timeout(self.stall);
        let resp = send("POST", &url, req).await?;
        if resp.status() != StatusCode::CREATED {
            return Err(status_error("POST", &url, resp, self.stall).await);
        }
        let Some(location) = header_str(&resp, "location") else {
            return Err(UploadError::Protocol {
                method: "POST",
                url: url.to_string(),
                detail: "201 Created without a Location".to_string(),
            });
        };
        // A relative Location is resolved against the endpoint.
        let resolved = self
            .endpoint
            .join(location.trim())
            .map_err(|e| UploadError::BadUrl {
                url: location.to_string(),
                detail: e.to_string(),
            })?;
        self.upload_url(resolved.as_str())
    }

    /// HEAD: the server's offset (and length) for an upload.
    pub async fn head(&self, url: &Url) -> Result<UploadState, UploadError> {
        let req = self.request(Method::HEAD, url, true)?.timeout(self.stall);
        let resp = send("HEAD", url, req).await?;
        if !resp.status().is_success() {
            return Err(status_error("HEAD", url, resp, self.stall).await);
        }
        let offset =
            number_header(&resp, "upload-offset").ok_or_else(|| UploadError::Protocol {
                method: "HEAD",
                url: url.to_string(),
                detail: "no Upload-Offset in the reply".to_string(),
            })?;
        Ok(UploadState {
            offset,
            length: number_header(&resp, "upload-length"),
        })
    }

    /// PATCH `len` bytes of `file` from `offset`, streamed; `progress` hears how many bytes of
    /// this request have left booth. Returns the server's new offset. A request that moves no
    /// bytes for the stall timeout (sending, or waiting for the reply) is abandoned.
    pub async fn patch(
        &self,
        url: &Url,
        file: &Path,
        offset: u64,
        len: u64,
        checksum: bool,
        progress: &(dyn Fn(u64) + Send + Sync),
    ) -> Result<u64, UploadError> {
        let digest = if checksum {
            Some(sha1_of_range(file, offset, len).await?)
        } else {
            None
        };
        let body = read_ahead(file, offset, len).await?;
        let started = Instant::now();
        let pulled = Arc::new(AtomicU64::new(0));
        // Milliseconds after `started` of the last byte handed to the connection.
        let last_pull = Arc::new(AtomicU64::new(0));
        let (p, l) = (pulled.clone(), last_pull.clone());
        let stream = body.map(move |chunk| {
            if let Ok(bytes) = &chunk {
                p.fetch_add(bytes.len() as u64, Ordering::Relaxed);
                l.store(started.elapsed().as_millis() as u64, Ordering::Relaxed);
            }
            chunk
        });
        let mut req = self
            .request(Method::PATCH, url, true)?
            .header("Upload-Offset", offset)
            .header(header::CONTENT_TYPE, OFFSET_TYPE)
            .header(header::CONTENT_LENGTH, len)
            .body(reqwest::Body::wrap_stream(stream));
        if let Some(digest) = digest {
            req = req.header("Upload-Checksum", format!("sha1 {digest}"));
        }
        let send = send("PATCH", url, req);
        tokio::pin!(send);
        let mut tick = tokio::time::interval(Duration::from_millis(200));
        let resp = loop {
            tokio::select! {
                resp = &mut send => break resp?,
                _ = tick.tick() => {
                    progress(pulled.load(Ordering::Relaxed));
                    let idle = started.elapsed().saturating_sub(
                        Duration::from_millis(last_pull.load(Ordering::Relaxed)));
                    if idle > self.stall {
                        return Err(UploadError::Stalled {
                            method: "PATCH",
                            url: url.to_string(),
                            timeout: self.stall,
                        });
                    }
                }
            }
        };
        progress(pulled.load(Ordering::Relaxed));
        if resp.status() != StatusCode::NO_CONTENT && !resp.status().is_success() {
            return Err(status_error("PATCH", url, resp, self.stall).await);
        }
        let new = number_header(&resp, "upload-offset").ok_or_else(|| UploadError::Protocol {
            method: "PATCH",
            url: url.to_string(),
            detail: "no Upload-Offset in the reply".to_string(),
        })?;
        if new < offset || new > offset + len {
            return Err(UploadError::Protocol {
                method: "PATCH",
                url: url.to_string(),
                detail: format!(
                    "the server reported offset {new} after {len} bytes sent at {offset}"
                ),
            });
        }
        Ok(new)
    }

    /// DELETE (tus termination). An upload already gone counts as terminated.
    pub async fn terminate(&self, url: &Url) -> Result<(), UploadError> {
        let req = self.request(Method::DELETE, url, true)?.timeout(self.stall);
        let resp = send("DELETE", url, req).await?;
        let status = resp.status();
        if status.is_success() || status == StatusCode::NOT_FOUND || status == StatusCode::GONE {
            Ok(())
        } else {
            Err(status_error("DELETE", url, resp, self.stall).await)
        }
    }
}

/// HTTPS anywhere; plain HTTP only to this machine unless the config allows it.
fn check_scheme(url: &Url, allow_plain_http: bool) -> Result<(), UploadError> {
    match url.scheme() {
        "https" => Ok(()),
        "http" if allow_plain_http || is_loopback(url) => Ok(()),
        "http" => Err(UploadError::PlainHttp {
            url: url.to_string(),
        }),
        other => Err(UploadError::BadUrl {
            url: url.to_string(),
            detail: format!("the scheme '{other}' is not http or https"),
        }),
    }
}

fn is_loopback(url: &Url) -> bool {
    let Some(host) = url.host_str() else {
        return false;
    };
    let host = host.trim_start_matches('[').trim_end_matches(']');
    host.eq_ignore_ascii_case("localhost")
        || host
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn client(endpoint: &str, allow: bool) -> Result<TusClient, UploadError> {
        let token: TokenSource = Arc::new(|| {
            Err(TokenError::Malformed {
                origin: "test".into(),
            })
        });
        TusClient::new(endpoint, allow, token, &Tuning::default())
    }

    #[test]
    fn plain_http_only_to_loopback_unless_allowed() {
        assert!(client("https://up.example/files/", false).is_ok());
        assert!(client("http://127.0.0.1:1080/files", false).is_ok());
        assert!(client("http://[::1]:1080/files", false).is_ok());
        assert!(client("http://localhost/files", false).is_ok());
        assert!(matches!(
            client("http://up.example/files/", false),
            Err(UploadError::PlainHttp { .. })
        ));
        assert!(client("http://up.example/files/", true).is_ok());
        assert!(matches!(
            client("ftp://up.example/files/", true),
            Err(UploadError::BadUrl { .. })
        ));
    }

    #[test]
    fn upload_urls_must_share_the_endpoints_origin() -> crate::TestResult {
        let c = client("https://up.example/files/", false)?;
        assert!(c.upload_url("https://up.example/files/abc").is_ok());
        assert!(c.upload_url("https://up.example:443/files/abc").is_ok());
        for other in [
            "https://evil.example/files/abc",
            "http://up.example/files/abc",
            "https://up.example:8443/files/abc",
        ] {
            match c.upload_url(other) {
                Err(UploadError::CrossOrigin { location, .. }) => assert_eq!(location, other),
                r => panic!("{other}: expected CrossOrigin, got {r:?}"),
            }
        }
        Ok(())
    }

    #[test]
    fn capabilities_need_both_the_extension_and_sha1() {
        let mut caps = Capabilities {
            extensions: vec!["creation".into(), "checksum".into()],
            checksum_algorithms: vec!["md5".into()],
            max_size: None,
        };
        assert!(!caps.sha1_checksums());
        caps.checksum_algorithms.push("sha1".into());
        assert!(caps.sha1_checksums());
        caps.extensions.retain(|e| e != "checksum");
        assert!(!caps.sha1_checksums());
    }
}

//! The tus client's wire helpers: sending a request and turning transport failures and
//! unwelcome statuses into [`UploadError`]s (with the server's words, never the request's
//! headers), reading numeric headers, a chunk's body read ahead from the file, and the
//! per-chunk sha1 for `Upload-Checksum`.

use std::path::Path;
use std::time::Duration;

use base64::Engine;
use base64::engine::general_purpose::STANDARD as BASE64;
use bytes::Bytes;
use futures::Stream;
use reqwest::{Response, Url};
use sha1::{Digest, Sha1};

use super::BODY_SNIPPET;
use crate::fsutil::FsError;
use crate::upload::error::UploadError;

pub(super) async fn send(
    method: &'static str,
    url: &Url,
    req: reqwest::RequestBuilder,
) -> Result<Response, UploadError> {
    req.send().await.map_err(|e| network_error(method, url, e))
}

/// A transport error in words, without reqwest repeating the URL.
fn network_error(method: &'static str, url: &Url, e: reqwest::Error) -> UploadError {
    let timed_out = e.is_timeout();
    let e = e.without_url();
    let mut detail = e.to_string();
    let mut source = std::error::Error::source(&e);
    while let Some(s) = source {
        let text = s.to_string();
        if !detail.contains(&text) {
            detail.push_str(": ");
            detail.push_str(&text);
        }
        source = s.source();
    }
    if timed_out && !detail.contains("timed out") {
        detail.push_str(" (timed out)");
    }
    UploadError::Network {
        method,
        url: url.to_string(),
        detail,
    }
}

pub(super) async fn status_error(
    method: &'static str,
    url: &Url,
    resp: Response,
    limit: Duration,
) -> UploadError {
    let status = resp.status().as_u16();
    // Only the delay-seconds form; an HTTP-date falls back to the usual backoff.
    let retry_after = number_header(&resp, "retry-after");
    let body = tokio::time::timeout(limit, resp.text())
        .await
        .ok()
        .and_then(Result::ok)
        .unwrap_or_default();
    let body: String = body
        .trim()
        .chars()
        .filter(|c| !c.is_control())
        .take(BODY_SNIPPET)
        .collect();
    UploadError::Status {
        method,
        url: url.to_string(),
        status,
        body,
        retry_after,
    }
}

pub(super) fn header_str<'a>(resp: &'a Response, name: &str) -> Option<&'a str> {
    resp.headers().get(name).and_then(|v| v.to_str().ok())
}

pub(super) fn number_header(resp: &Response, name: &str) -> Option<u64> {
    header_str(resp, name).and_then(|v| v.trim().parse().ok())
}

/// Base64 sha1 of `len` bytes of `file` from `offset`, read off the async threads.
pub(super) async fn sha1_of_range(
    file: &Path,
    offset: u64,
    len: u64,
) -> Result<String, UploadError> {
    let path = file.to_path_buf();
    let task = tokio::task::spawn_blocking(move || -> Result<String, UploadError> {
        use std::io::{Read, Seek};
        let mut f =
            std::fs::File::open(&path).map_err(|e| FsError::new("cannot open", &path, e))?;
        f.seek(std::io::SeekFrom::Start(offset))
            .map_err(|e| FsError::new("cannot read", &path, e))?;
        let mut hasher = Sha1::new();
        let mut buf = vec![0u8; 1 << 20];
        let mut left = len;
        while left > 0 {
            let want = buf.len().min(usize::try_from(left).unwrap_or(usize::MAX));
            let n = f
                .read(&mut buf[..want])
                .map_err(|e| FsError::new("cannot read", &path, e))?;
            if n == 0 {
                return Err(UploadError::FileChanged {
                    path: path.clone(),
                    detail: "it is shorter than when it was queued".to_string(),
                });
            }
            hasher.update(&buf[..n]);
            left -= n as u64;
        }
        Ok(BASE64.encode(hasher.finalize()))
    });
    task.await
        .map_err(|e| UploadError::Client(format!("checksum task failed: {e}")))?
}

/// Blocks read from the file per step, and how many may wait ahead of the connection.
const READ_BLOCK: usize = 1 << 20;
const READ_AHEAD: usize = 4;

/// `len` bytes of `file` from `offset` as a stream of blocks, read on a blocking thread a few
/// blocks ahead of the connection, so disk reads overlap socket writes. The file is opened
/// before this returns (so a missing file is a file error, not a network one); dropping the
/// stream (a cancelled or failed request) stops the reader.
pub(super) async fn read_ahead(
    file: &Path,
    offset: u64,
    len: u64,
) -> Result<impl Stream<Item = Result<Bytes, std::io::Error>> + use<>, UploadError> {
    use std::io::{Read, Seek};
    let path = file.to_path_buf();
    let opened = tokio::task::spawn_blocking(move || -> Result<std::fs::File, UploadError> {
        let mut f =
            std::fs::File::open(&path).map_err(|e| FsError::new("cannot open", &path, e))?;
        f.seek(std::io::SeekFrom::Start(offset))
            .map_err(|e| FsError::new("cannot read", &path, e))?;
        Ok(f)
    });
    let mut f = opened
        .await
        .map_err(|e| UploadError::Client(format!("file task failed: {e}")))??;
    let (tx, rx) = tokio::sync::mpsc::channel(READ_AHEAD);
    tokio::task::spawn_blocking(move || {
        let mut left = len;
        while left > 0 {
            let want = READ_BLOCK.min(usize::try_from(left).unwrap_or(READ_BLOCK));
            let mut block = Vec::with_capacity(want);
            let item = match f.by_ref().take(want as u64).read_to_end(&mut block) {
                Ok(n) if n == want => Ok(Bytes::from(block)),
                Ok(_) => Err(std::io::Error::new(
                    std::io::ErrorKind::UnexpectedEof,
                    "the file is shorter than when it was queued",
                )),
                Err(e) => Err(e),
            };
            let failed = item.is_err();
            if tx.blocking_send(item).is_err() || failed {
                return; // the request is gone, or cannot be completed
            }
            left -= want as u64;
        }
    });
    Ok(futures::stream::unfold(rx, |mut rx| async move {
        rx.recv().await.map(|item| (item, rx))
    }))
}

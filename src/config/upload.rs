//! The `[upload]` section's own types: where recordings go ([`Endpoint`], with the minimal URL
//! check the config needs), what happens to the local copy ([`Retention`]), and the bearer
//! token ([`UploadToken`]), which never appears in an error or in `Debug` output.

use std::fmt;
use std::net::IpAddr;
use std::path::{Path, PathBuf};

use super::Upload;

/// The environment variable that overrides `token_file`.
pub const TOKEN_ENV: &str = "BOOTH_UPLOAD_TOKEN";

/// What `endpoint` accepts, for messages.
pub(super) const ENDPOINT_RULE: &str =
    "\"dir:<path>\" or an http(s) tus creation URL like \"https://uploads.example.com/files/\"";

/// Where finished recordings are delivered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Endpoint {
    /// Copied into this directory (absolute): for demos, tests and stations without network.
    Dir(PathBuf),
    /// Uploaded with tus to this creation URL.
    Tus(String),
}

/// What happens to the local copy once the platform has confirmed an upload.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Retention {
    Delete,
    Keep,
}

impl std::str::FromStr for Retention {
    type Err = ();
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "delete" => Ok(Retention::Delete),
            "keep" => Ok(Retention::Keep),
            _ => Err(()),
        }
    }
}

/// The scheme and host of an http(s) URL; all the config needs to judge it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct HttpUrl {
    pub plain: bool,
    pub host: String,
}

/// Parses an endpoint as written; `dir` resolves relative `dir:` paths. The error is the
/// reason to add after "must be …, found …", if there is more to say than that.
pub(super) fn parse_endpoint(s: &str, dir: &Path) -> Result<Endpoint, Option<String>> {
    if let Some(path) = s.strip_prefix("dir:") {
        if path.trim().is_empty() {
            return Err(Some("the directory is missing".to_string()));
        }
        return Ok(Endpoint::Dir(crate::tomlfile::resolve(dir, path)));
    }
    if !s.contains("://") {
        return Err(None);
    }
    parse_http_url(s).map_err(Some)?;
    Ok(Endpoint::Tus(s.to_string()))
}

/// A deliberately small URL check (no URL crate): scheme, optional port, and a host we can
/// compare against the loopback names. The HTTP client does the real parsing later.
pub(super) fn parse_http_url(s: &str) -> Result<HttpUrl, String> {
    let Some((scheme, rest)) = s.split_once("://") else {
        return Err("it is not a URL".to_string());
    };
    let plain = if scheme.eq_ignore_ascii_case("https") {
        false
    } else if scheme.eq_ignore_ascii_case("http") {
        true
    } else {
        return Err(format!("the scheme '{scheme}' is not http or https"));
    };
    if s.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err("a URL cannot contain spaces".to_string());
    }
    let authority = rest.split(['/', '?', '#']).next().unwrap_or("");
    if authority.contains('@') {
        return Err("a user name or password does not belong in the URL (use token_file)".into());
    }
    let (host, port) = if let Some(bracketed) = authority.strip_prefix('[') {
        let Some((host, after)) = bracketed.split_once(']') else {
            return Err("the IPv6 address is missing its ']'".to_string());
        };
        if host.parse::<std::net::Ipv6Addr>().is_err() {
            return Err(format!("'{host}' is not an IPv6 address"));
        }
        match after {
            "" => (host, None),
            _ => match after.strip_prefix(':') {
                Some(port) => (host, Some(port)),
                None => return Err(format!("unexpected '{after}' after the IPv6 address")),
            },
        }
    } else {
        match authority.split_once(':') {
            Some((host, port)) => (host, Some(port)),
            None => (authority, None),
        }
    };
    if host.is_empty() {
        return Err("the URL has no host".to_string());
    }
    let host_ok = authority.starts_with('[')
        || host
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_'));
    if !host_ok {
        return Err(format!("'{host}' is not a host name"));
    }
    if let Some(port) = port
        && !matches!(port.parse::<u16>(), Ok(p) if p > 0)
    {
        return Err(format!("'{port}' is not a port number (1-65535)"));
    }
    Ok(HttpUrl {
        plain,
        host: host.to_ascii_lowercase(),
    })
}

/// Hosts plain http:// may go to without `allow_plain_http`: traffic that never leaves the
/// machine (a local relay or a test server).
pub(super) fn is_loopback(host: &str) -> bool {
    host == "localhost" || host.parse::<IpAddr>().is_ok_and(|ip| ip.is_loopback())
}

/// The upload bearer token. Kept out of `Debug` and every message: logs and error screens
/// are read by people who must not be able to upload as this station.
#[derive(Clone, PartialEq, Eq)]
pub struct UploadToken(String);

impl UploadToken {
    /// The token itself, for the `Authorization` header and nothing else.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for UploadToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("<redacted>")
    }
}

/// Why no upload token could be had. Names where it looked, never what it found.
#[derive(Debug, thiserror::Error)]
pub enum TokenError {
    #[error("cannot read the upload token file {}: {source} (or set {TOKEN_ENV})", path.display())]
    Unreadable {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("the upload token file {} is empty (or set {TOKEN_ENV})", path.display())]
    Empty { path: PathBuf },
    #[error("the upload token from {origin} contains characters that cannot be sent over HTTP")]
    Malformed { origin: String },
}

impl Upload {
    /// The token from `BOOTH_UPLOAD_TOKEN` if set and not empty, else from `token_file`;
    /// surrounding whitespace (a trailing newline from `echo`) is dropped.
    pub fn token(&self) -> Result<UploadToken, TokenError> {
        self.token_from(std::env::var(TOKEN_ENV).ok())
    }

    /// [`Upload::token`] with the environment passed in, so tests need not set variables.
    pub(super) fn token_from(&self, env: Option<String>) -> Result<UploadToken, TokenError> {
        if let Some(value) = env
            && !value.trim().is_empty()
        {
            return checked(value.trim(), || TOKEN_ENV.to_string());
        }
        let path = &self.token_file;
        let text = std::fs::read_to_string(path).map_err(|source| TokenError::Unreadable {
            path: path.clone(),
            source,
        })?;
        if text.trim().is_empty() {
            return Err(TokenError::Empty { path: path.clone() });
        }
        checked(text.trim(), || path.display().to_string())
    }
}

/// Printable ASCII only: anything else would corrupt or split the HTTP header.
fn checked(token: &str, origin: impl FnOnce() -> String) -> Result<UploadToken, TokenError> {
    if token.bytes().all(|b| (0x20..=0x7e).contains(&b)) {
        Ok(UploadToken(token.to_string()))
    } else {
        Err(TokenError::Malformed { origin: origin() })
    }
}

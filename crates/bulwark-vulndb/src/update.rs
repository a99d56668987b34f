//! `bulwark db update`: downloads the public feeds and rebuilds the DB from them.
//!
//! For each ecosystem, osv.dev's `<base>/<ecosystem>/all.zip` (the ecosystem URL-encoded as
//! one path segment, e.g. `Debian%3A12`); optionally CISA KEV (JSON) and FIRST EPSS
//! (CSV or CSV.gz). Every feed is downloaded into a temp file beside the target (bounded by
//! [`UpdateOptions::max_download_bytes`]), with retries on connection errors, 5xx and 429, and
//! resumption by `Range` when a connection drops mid-body and the server answers `206`.
//! Only when every download succeeded is a new DB built with [`DbBuilder`] and swapped in
//! atomically; any error leaves the existing DB untouched (byte for byte) and removes the
//! temp files.

use std::fs::File;
use std::io::{self, Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::time::Duration;

use tempfile::NamedTempFile;

use crate::build::{BuildReport, DbBuilder};
use crate::error::{Error, Result};

/// osv.dev's public bucket.
pub const DEFAULT_OSV_BASE: &str = "https://osv-vulnerabilities.storage.googleapis.com";
/// CISA's Known Exploited Vulnerabilities catalog.
pub const DEFAULT_KEV_URL: &str = "https://www.cisa.gov/sites/default/files/feeds/known_exploited_vulnerabilities.json";
/// FIRST's current EPSS scores.
pub const DEFAULT_EPSS_URL: &str = "https://epss.empiricalsecurity.com/epss_scores-current.csv.gz";
/// Default bound on one download: 2 GiB.
pub const DEFAULT_MAX_DOWNLOAD_BYTES: u64 = 2 << 30;

/// What [`update`] downloads and how.
#[derive(Debug, Clone)]
pub struct UpdateOptions {
    /// Base URL of an osv.dev-layout mirror (no trailing `/` needed).
    pub osv_base: String,
    /// OSV ecosystem names, e.g. `PyPI`, `Go`, `Debian:12`.
    pub ecosystems: Vec<String>,
    /// CISA KEV JSON, if wanted.
    pub kev_url: Option<String>,
    /// FIRST EPSS CSV or CSV.gz, if wanted.
    pub epss_url: Option<String>,
    /// Largest accepted size of one download.
    pub max_download_bytes: u64,
    /// Retries after the first attempt (connection errors, dropped bodies, 5xx, 429).
    pub retries: u32,
    /// Wait before the first retry; doubled for each further one.
    pub retry_backoff: Duration,
    /// Connect / response-header timeout of each request.
    pub timeout: Duration,
}

impl Default for UpdateOptions {
    fn default() -> Self {
        UpdateOptions {
            osv_base: DEFAULT_OSV_BASE.to_owned(),
            ecosystems: Vec::new(),
            kev_url: Some(DEFAULT_KEV_URL.to_owned()),
            epss_url: Some(DEFAULT_EPSS_URL.to_owned()),
            max_download_bytes: DEFAULT_MAX_DOWNLOAD_BYTES,
            retries: 3,
            retry_backoff: Duration::from_secs(1),
            timeout: Duration::from_secs(60),
        }
    }
}

/// The URL of osv.dev's `all.zip` for `ecosystem` under `base`.
pub fn osv_zip_url(base: &str, ecosystem: &str) -> String {
    format!("{}/{}/all.zip", base.trim_end_matches('/'), encode_segment(ecosystem))
}

/// Percent-encodes everything but RFC 3986 unreserved characters.
fn encode_segment(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// The source name an ecosystem's OSV archive gets in the DB metadata (`osv:<ecosystem>`).
pub fn osv_source_name(ecosystem: &str) -> String {
    format!("osv:{ecosystem}")
}

/// Source name of the KEV feed in the DB metadata.
pub const KEV_SOURCE_NAME: &str = "cisa-kev";
/// Source name of the EPSS feed in the DB metadata.
pub const EPSS_SOURCE_NAME: &str = "first-epss";

/// Downloads the feeds of `opts` and replaces the DB at `target` with one built from them.
/// On any error the existing DB (if any) is left as it was.
pub fn update(target: &Path, opts: &UpdateOptions) -> Result<BuildReport> {
    let dir = match target.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .timeout_connect(Some(opts.timeout))
        .timeout_recv_response(Some(opts.timeout))
        .user_agent(concat!("bulwark/", env!("CARGO_PKG_VERSION")))
        .build()
        .into();

    let mut osv = Vec::new();
    for eco in &opts.ecosystems {
        let url = osv_zip_url(&opts.osv_base, eco);
        osv.push((eco, download(&agent, &url, &dir, ".zip", opts)?, url));
    }
    let kev = match &opts.kev_url {
        Some(url) => Some((download(&agent, url, &dir, ".json", opts)?, url)),
        None => None,
    };
    let epss = match &opts.epss_url {
        Some(url) => {
            let suffix = if url.ends_with(".gz") { ".csv.gz" } else { ".csv" };
            Some((download(&agent, url, &dir, suffix, opts)?, url))
        }
        None => None,
    };

    let mut builder = DbBuilder::new(target)?;
    for (eco, file, url) in &mut osv {
        let reader = file.as_file_mut();
        reader.seek(SeekFrom::Start(0)).map_err(Error::io("read", file_path(url)))?;
        builder.add_osv_zip(&osv_source_name(eco), url, &*reader)?;
    }
    if let Some((file, url)) = &kev {
        builder.add_kev(KEV_SOURCE_NAME, file.path()).map_err(|e| relocate(e, file.path(), url))?;
        builder.set_source_location(KEV_SOURCE_NAME, url);
    }
    if let Some((file, url)) = &epss {
        builder.add_epss(EPSS_SOURCE_NAME, file.path()).map_err(|e| relocate(e, file.path(), url))?;
        builder.set_source_location(EPSS_SOURCE_NAME, url);
    }
    builder.finish()
}

/// A URL where an error wants a path.
fn file_path(url: &str) -> PathBuf {
    PathBuf::from(url)
}

/// Names the URL instead of the temp file in a feed error.
fn relocate(e: Error, temp: &Path, url: &str) -> Error {
    match e {
        Error::Feed { feed, location, message } if Path::new(&location) == temp => {
            Error::Feed { feed, location: url.to_owned(), message }
        }
        other => other,
    }
}

fn download_error(url: &str, message: String) -> Error {
    Error::Io { action: "download", path: file_path(url), source: io::Error::other(message) }
}

/// Why one attempt failed, and whether another is worth it.
enum Failure {
    Retry(String),
    Fatal(String),
}

/// Downloads `url` into a new temp file in `dir`.
fn download(agent: &ureq::Agent, url: &str, dir: &Path, suffix: &str, opts: &UpdateOptions) -> Result<NamedTempFile> {
    let mut temp = tempfile::Builder::new()
        .prefix(".bulwark-download-")
        .suffix(suffix)
        .tempfile_in(dir)
        .map_err(Error::io("create temp file in", dir))?;
    let mut written: u64 = 0;
    let mut attempt: u32 = 0;
    loop {
        match attempt_download(agent, url, temp.as_file_mut(), &mut written, opts.max_download_bytes) {
            Ok(()) => break,
            Err(Failure::Fatal(message)) => return Err(download_error(url, message)),
            Err(Failure::Retry(message)) => {
                if attempt >= opts.retries {
                    let tries = attempt + 1;
                    return Err(download_error(
                        url,
                        format!("{message} (gave up after {tries} attempt{})", if tries == 1 { "" } else { "s" }),
                    ));
                }
                std::thread::sleep(opts.retry_backoff.saturating_mul(1 << attempt.min(16)));
                attempt += 1;
            }
        }
    }
    let file = temp.as_file_mut();
    file.flush().map_err(Error::io("write", dir))?;
    file.seek(SeekFrom::Start(0)).map_err(Error::io("write", dir))?;
    Ok(temp)
}

/// One request; appends to `file` (which holds `written` bytes of a previous attempt).
fn attempt_download(
    agent: &ureq::Agent,
    url: &str,
    file: &mut File,
    written: &mut u64,
    max: u64,
) -> std::result::Result<(), Failure> {
    let mut request = agent.get(url);
    if *written > 0 {
        request = request.header("Range", format!("bytes={}-", *written));
    }
    let response = match request.call() {
        Ok(r) => r,
        Err(e) => {
            return Err(match e {
                ureq::Error::Io(_)
                | ureq::Error::Timeout(_)
                | ureq::Error::ConnectionFailed
                | ureq::Error::HostNotFound
                | ureq::Error::Protocol(_) => Failure::Retry(e.to_string()),
                other => Failure::Fatal(other.to_string()),
            });
        }
    };
    let status = response.status();
    let code = status.as_u16();
    if code == 429 || status.is_server_error() {
        return Err(Failure::Retry(format!("server answered {status}")));
    }
    let fatal_write = |e: io::Error| Failure::Fatal(format!("write temp file: {e}"));
    if code == 206 {
        if *written == 0 || content_range_start(&response) != Some(*written) {
            // A range we did not ask for: start over without one.
            restart(file, written).map_err(fatal_write)?;
            return Err(Failure::Retry("server answered an unexpected range".to_owned()));
        }
    } else if status.is_success() {
        if *written > 0 {
            // The server ignored the Range request: the body is the whole file again.
            restart(file, written).map_err(fatal_write)?;
        }
    } else {
        return Err(Failure::Fatal(format!("server answered {status}")));
    }
    let remaining = max.saturating_sub(*written);
    let body = response.into_body();
    if let Some(len) = body.content_length()
        && len > remaining
    {
        return Err(Failure::Fatal(format!(
            "{} bytes is over the {max}-byte download limit",
            len.saturating_add(*written)
        )));
    }
    let mut reader = body.into_reader();
    let mut buf = vec![0u8; 64 * 1024];
    loop {
        let n = match reader.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => {
                return Err(Failure::Retry(format!("connection dropped after {} bytes: {e}", *written)));
            }
        };
        if *written + n as u64 > max {
            return Err(Failure::Fatal(format!("download is over the {max}-byte limit")));
        }
        file.write_all(&buf[..n]).map_err(fatal_write)?;
        *written += n as u64;
    }
    Ok(())
}

fn restart(file: &mut File, written: &mut u64) -> io::Result<()> {
    file.set_len(0)?;
    file.seek(SeekFrom::Start(0))?;
    *written = 0;
    Ok(())
}

/// The first byte of a `Content-Range: bytes <start>-<end>/<total>` header.
fn content_range_start(response: &ureq::http::Response<ureq::Body>) -> Option<u64> {
    let value = response.headers().get("content-range")?.to_str().ok()?;
    let range = value.trim().strip_prefix("bytes")?.trim_start();
    let (start, _) = range.split_once('-')?;
    start.trim().parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ecosystem_segments_are_encoded() {
        assert_eq!(osv_zip_url("https://x/", "Debian:12"), "https://x/Debian%3A12/all.zip");
        assert_eq!(osv_zip_url("https://x", "crates.io"), "https://x/crates.io/all.zip");
        assert_eq!(osv_zip_url("https://x", "Red Hat"), "https://x/Red%20Hat/all.zip");
    }
}

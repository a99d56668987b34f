//! Images and the inventory questions, answered from the store without rescanning.

use axum::Json;
use axum::extract::State;
use bulwark_api::{
    AffectedImage, Finding, ImageDetail, ImageRef, ImageSummary, Layer, Package, PackageLocation, Page, ScanRef,
};
use bulwark_core::report::Severity;
use bulwark_store::images::PageRequest;
use bulwark_store::inventory::PackageQuery;
use serde::Deserialize;

use crate::AppState;
use crate::error::{Result, invalid, not_found};
use crate::extract::{ApiPath, ApiQuery, query};
use crate::util::{check_digest, check_len, page_size, time};

fn severity(s: Severity) -> String {
    format!("{s:?}").to_lowercase()
}

fn refs(r: Vec<bulwark_store::images::ImageRef>) -> Vec<ImageRef> {
    r.into_iter().map(|r| ImageRef { registry: r.registry, repository: r.repository, tag: r.tag }).collect()
}

fn index(n: Option<i64>) -> Option<u32> {
    n.and_then(|n| u32::try_from(n).ok())
}

fn summary(s: bulwark_store::ImageSummary) -> ImageSummary {
    ImageSummary {
        digest: s.digest,
        refs: refs(s.refs),
        platform: s.platform,
        os: s.os,
        verdict: s.verdict.map(|v| v.as_str().to_owned()),
        policy: s.policy,
        policy_version: s.policy_version,
        worst_severity: s.worst_severity.map(severity),
        kev: s.kev,
        package_count: u64::try_from(s.packages).unwrap_or(0),
        vulnerability_count: u64::try_from(s.vulnerabilities).unwrap_or(0),
        first_seen: time(s.first_seen),
        last_scanned: time(s.last_scanned),
    }
}

fn store_page(cursor: Option<String>, limit: Option<u32>) -> Result<PageRequest> {
    let limit = page_size(limit)?;
    if let Some(c) = &cursor {
        check_len("cursor", c, 512)?;
    }
    Ok(PageRequest { limit, cursor })
}

/// `GET /images` filters; every one given must hold.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ImageQuery {
    /// Registry host, e.g. `registry.example:5000`.
    pub registry: Option<String>,
    /// Repository path, e.g. `team/app`.
    pub repository: Option<String>,
    pub tag: Option<String>,
    /// `pass`, `fail`, or `none` (never judged by a policy).
    pub verdict: Option<String>,
    /// Images with a vulnerability of this severity or worse: critical, high, medium, low, unknown.
    pub severity: Option<String>,
    /// Only images with (true) or without (false) a known exploited vulnerability.
    #[serde(default, deserialize_with = "query::opt_bool")]
    #[param(value_type = Option<bool>)]
    pub kev: Option<bool>,
    pub cursor: Option<String>,
    #[serde(default, deserialize_with = "query::opt_u32")]
    #[param(value_type = Option<u32>, minimum = 1, maximum = 500)]
    pub limit: Option<u32>,
}

/// Images, newest first, filtered by registry, repository, tag, verdict, severity and KEV.
#[utoipa::path(get, path = "/api/v1/images", tag = "images", params(ImageQuery),
    responses((status = 200, description = "Images", body = Page<ImageSummary>)))]
pub async fn list(
    State(state): State<AppState>,
    ApiQuery(q): ApiQuery<ImageQuery>,
) -> Result<Json<Page<ImageSummary>>> {
    for (field, v) in [("registry", &q.registry), ("repository", &q.repository), ("tag", &q.tag)] {
        if let Some(v) = v {
            check_len(field, v, 512)?;
        }
    }
    let verdict = match q.verdict.as_deref() {
        None => None,
        Some("pass") => Some(Some(bulwark_store::Verdict::Pass)),
        Some("fail") => Some(Some(bulwark_store::Verdict::Fail)),
        Some("none") => Some(None),
        Some(_) => return Err(invalid("verdict", "one of pass, fail, none")),
    };
    let min_severity = match q.severity.as_deref() {
        None => None,
        Some(s) => Some(
            [Severity::Critical, Severity::High, Severity::Medium, Severity::Low, Severity::Unknown]
                .into_iter()
                .find(|v| severity(*v) == s)
                .ok_or_else(|| invalid("severity", "one of critical, high, medium, low, unknown"))?,
        ),
    };
    let filter = bulwark_store::ImageFilter {
        registry: q.registry,
        repository: q.repository,
        tag: q.tag,
        verdict,
        min_severity,
        kev: q.kev,
    };
    let page = state.store().list_images(&filter, &store_page(q.cursor, q.limit)?).await?;
    Ok(Json(Page { items: page.items.into_iter().map(summary).collect(), next_cursor: page.next_cursor }))
}

/// An image: tags, layers with history, packages, findings, latest verdict and scan history.
#[utoipa::path(get, path = "/api/v1/images/{digest}", tag = "images",
    params(("digest" = String, Path, description = "Manifest digest, sha256:…")),
    responses((status = 200, description = "The image", body = ImageDetail)))]
pub async fn get(State(state): State<AppState>, ApiPath(digest): ApiPath<String>) -> Result<Json<ImageDetail>> {
    check_digest("digest", &digest)?;
    let d = state.store().image(&digest).await?.ok_or_else(|| not_found("image", &digest))?;
    Ok(Json(ImageDetail {
        summary: summary(d.summary),
        layers: d
            .layers
            .into_iter()
            .map(|l| Layer {
                index: u32::try_from(l.index).unwrap_or(0),
                digest: l.digest,
                diff_id: l.diff_id,
                size: u64::try_from(l.size).unwrap_or(0),
                created_by: l.created_by,
            })
            .collect(),
        packages: d
            .packages
            .into_iter()
            .map(|p| Package {
                purl: p.purl,
                ecosystem: p.ecosystem,
                name: p.name,
                version: p.version,
                layer: index(p.layer),
                removed_in: index(p.removed_in),
                location: p.location,
            })
            .collect(),
        findings: d
            .findings
            .into_iter()
            .map(|f| Finding {
                vulnerability: f.vulnerability,
                purl: f.purl,
                layer: index(f.layer),
                fix_state: f.fix_state,
                fixed_version: f.fixed_version,
                severity: severity(f.severity),
                kev: f.kev,
            })
            .collect(),
        scans: d
            .scans
            .into_iter()
            .map(|s| ScanRef {
                result: s.scan_id.to_string(),
                origin: s.origin,
                reference: s.reference,
                created_at: time(s.created_at),
                bulwark_version: s.bulwark_version,
                verdict: s.verdict.map(|v| v.as_str().to_owned()),
                policy: s.policy,
                policy_version: s.policy_version,
            })
            .collect(),
    }))
}

/// A page of a list.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct CursorQuery {
    pub cursor: Option<String>,
    #[serde(default, deserialize_with = "query::opt_u32")]
    #[param(value_type = Option<u32>, minimum = 1, maximum = 500)]
    pub limit: Option<u32>,
}

/// Which images have this vulnerability (by id or alias), in which package and layer, and
/// whether a fix is available.
#[utoipa::path(get, path = "/api/v1/vulnerabilities/{id}/images", tag = "inventory",
    params(("id" = String, Path, description = "Vulnerability id or alias, e.g. CVE-2021-44228"), CursorQuery),
    responses((status = 200, description = "Affected images", body = Page<AffectedImage>)))]
pub async fn affected(
    State(state): State<AppState>,
    ApiPath(id): ApiPath<String>,
    ApiQuery(q): ApiQuery<CursorQuery>,
) -> Result<Json<Page<AffectedImage>>> {
    let ok = id.len() <= 128
        && id.as_bytes().first().is_some_and(u8::is_ascii_alphanumeric)
        && id.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b':'));
    if !ok {
        return Err(invalid("id", "expected an advisory id such as CVE-2021-44228 or GHSA-xxxx-xxxx-xxxx"));
    }
    let page = state.store().images_with_vulnerability(&id, &store_page(q.cursor, q.limit)?).await?;
    let items = page
        .items
        .into_iter()
        .map(|v| AffectedImage {
            digest: v.digest,
            refs: refs(v.refs),
            vulnerability: v.vulnerability,
            purl: v.purl,
            package: v.package,
            version: v.version,
            layer: index(v.layer),
            fix_available: v.fix_state == "fixed",
            fix_state: v.fix_state,
            fixed_version: v.fixed_version,
            severity: severity(v.severity),
            kev: v.kev,
        })
        .collect();
    Ok(Json(Page { items, next_cursor: page.next_cursor }))
}

/// `GET /packages`: a purl, or a name with an optional ecosystem and version range.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct PackageParams {
    /// A package URL, e.g. `pkg:maven/org.apache.logging.log4j/log4j-core@2.14.1`.
    pub purl: Option<String>,
    /// A name as the ecosystem spells it (Maven `group:artifact`), instead of `purl`.
    pub name: Option<String>,
    /// The purl type (`deb`, `pypi`, `maven`, …) to narrow `name`.
    pub ecosystem: Option<String>,
    /// Constraints on the version with `name`, e.g. `>=2.0, <2.17.1`.
    pub version: Option<String>,
    pub cursor: Option<String>,
    #[serde(default, deserialize_with = "query::opt_u32")]
    #[param(value_type = Option<u32>, minimum = 1, maximum = 500)]
    pub limit: Option<u32>,
}

/// Where a package is: every image with it, the layer that introduced it and the file.
#[utoipa::path(get, path = "/api/v1/packages", tag = "inventory", params(PackageParams),
    responses((status = 200, description = "Locations", body = Page<PackageLocation>)))]
pub async fn packages(
    State(state): State<AppState>,
    ApiQuery(q): ApiQuery<PackageParams>,
) -> Result<Json<Page<PackageLocation>>> {
    for (field, v) in [("purl", &q.purl), ("name", &q.name), ("ecosystem", &q.ecosystem), ("version", &q.version)] {
        if let Some(v) = v {
            check_len(field, v, 1024)?;
        }
    }
    let query = match (&q.purl, &q.name) {
        (Some(_), Some(_)) => return Err(invalid("name", "give `purl` or `name`, not both")),
        (Some(p), None) => {
            if q.ecosystem.is_some() || q.version.is_some() {
                return Err(invalid("version", "`ecosystem` and `version` go with `name`; a purl carries both"));
            }
            PackageQuery::from_purl(p)?
        }
        (None, Some(n)) => PackageQuery::from_name(q.ecosystem.as_deref(), n, q.version.as_deref())?,
        (None, None) => return Err(invalid("purl", "give `purl` or `name`")),
    };
    let page = state.store().find_packages(&query, &store_page(q.cursor, q.limit)?).await?;
    let items = page
        .items
        .into_iter()
        .map(|h| PackageLocation {
            digest: h.digest,
            refs: refs(h.refs),
            package: Package {
                purl: h.purl,
                ecosystem: h.ecosystem,
                name: h.name,
                version: h.version,
                layer: index(h.layer),
                removed_in: index(h.removed_in),
                location: h.location,
            },
        })
        .collect();
    Ok(Json(Page { items, next_cursor: page.next_cursor }))
}

//! Images and their scans: recording a report (the image, the names it was seen under, its
//! layers, the inventory and findings of its latest scan, the verdict, and the exact report
//! bytes), and reading them back.

use std::collections::{BTreeMap, BTreeSet};

use bulwark_core::report::{FixState, ScanReport, Severity};
use bulwark_core::{SBOM_SCHEME, ScanInput, Target};
use serde::Serialize;
use sqlx::{Any, AssertSqlSafe, Row as _, Transaction};

use crate::{Error, Result, Store};

/// Largest page any listing returns.
pub const MAX_PAGE: u32 = 1000;

/// Where a scan result came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ScanOrigin {
    /// A worker ran job `job_id`.
    Worker { job_id: i64 },
    /// A report made elsewhere (`bulwark scan --upload`, `POST /reports`).
    Upload,
}

impl ScanOrigin {
    fn name(self) -> &'static str {
        match self {
            ScanOrigin::Worker { .. } => "worker",
            ScanOrigin::Upload => "upload",
        }
    }
}

/// A policy verdict.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Verdict {
    Pass,
    Fail,
}

impl Verdict {
    pub fn as_str(self) -> &'static str {
        match self {
            Verdict::Pass => "pass",
            Verdict::Fail => "fail",
        }
    }

    fn parse(s: &str) -> Option<Verdict> {
        match s {
            "pass" => Some(Verdict::Pass),
            "fail" => Some(Verdict::Fail),
            _ => None,
        }
    }
}

/// What recording a scan produced.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RecordedScan {
    pub scan_id: i64,
    pub image_id: i64,
    pub digest: String,
}

/// A registry, repository and tag an image was seen under. For local sources the registry
/// is the source kind (`oci`, `docker-archive`, …) and the repository its path or name.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct ImageRef {
    pub registry: String,
    pub repository: String,
    /// `None` for a digest-only reference.
    pub tag: Option<String>,
}

/// One image as listed.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ImageSummary {
    pub id: i64,
    pub digest: String,
    pub config_digest: Option<String>,
    pub platform: Option<String>,
    pub os: Option<String>,
    pub refs: Vec<ImageRef>,
    pub verdict: Option<Verdict>,
    pub policy: Option<String>,
    pub policy_version: Option<String>,
    /// Worst severity among the latest scan's vulnerabilities, `None` when there are none.
    pub worst_severity: Option<Severity>,
    pub kev: bool,
    pub packages: i64,
    pub vulnerabilities: i64,
    pub first_seen: i64,
    pub last_scanned: i64,
    pub latest_scan: Option<i64>,
}

/// A layer with the history step that made it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LayerRow {
    pub index: i64,
    pub digest: Option<String>,
    pub diff_id: String,
    pub media_type: Option<String>,
    pub size: i64,
    pub created_by: Option<String>,
}

/// A package of an image's latest scan.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ImagePackage {
    pub purl: String,
    pub ecosystem: String,
    pub name: String,
    pub version: String,
    pub layer: Option<i64>,
    pub removed_in: Option<i64>,
    pub location: String,
}

/// A vulnerability finding of an image's latest scan.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ImageFinding {
    pub vulnerability: String,
    pub purl: String,
    pub layer: Option<i64>,
    pub fix_state: String,
    pub fixed_version: Option<String>,
    pub severity: Severity,
    pub kev: bool,
}

/// One entry of an image's scan history.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ScanEntry {
    pub scan_id: i64,
    pub job_id: Option<i64>,
    pub origin: String,
    pub reference: String,
    pub created_at: i64,
    pub bulwark_version: String,
    pub db_digest: Option<String>,
    pub verdict: Option<Verdict>,
    pub policy: Option<String>,
    pub policy_version: Option<String>,
    pub report_sha256: String,
    pub report_size: i64,
}

/// Everything the store knows about one image.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ImageDetail {
    pub summary: ImageSummary,
    pub layers: Vec<LayerRow>,
    pub packages: Vec<ImagePackage>,
    pub findings: Vec<ImageFinding>,
    /// Newest first.
    pub scans: Vec<ScanEntry>,
}

/// A stored report: the exact JSON bytes a scan produced.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredReport {
    pub scan_id: i64,
    pub digest: String,
    pub json: Vec<u8>,
    pub sha256: String,
}

/// Filters of [`Store::list_images`]; all given ones must hold.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ImageFilter {
    pub registry: Option<String>,
    pub repository: Option<String>,
    pub tag: Option<String>,
    /// `Some(None)`: images without a verdict.
    pub verdict: Option<Option<Verdict>>,
    /// Images with a vulnerability of this severity or worse.
    pub min_severity: Option<Severity>,
    pub kev: Option<bool>,
}

/// A page request: at most `limit` items after `cursor` (from the previous page).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PageRequest {
    pub limit: u32,
    pub cursor: Option<String>,
}

impl Default for PageRequest {
    fn default() -> Self {
        PageRequest { limit: 100, cursor: None }
    }
}

impl PageRequest {
    pub(crate) fn checked_limit(&self) -> Result<i64> {
        if self.limit == 0 || self.limit > MAX_PAGE {
            return Err(Error::InvalidQuery {
                parameter: "limit",
                message: format!("must be between 1 and {MAX_PAGE}, not {}", self.limit),
            });
        }
        Ok(i64::from(self.limit))
    }
}

/// One page of results, and the cursor of the next one (`None` on the last page).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Page<T> {
    pub items: Vec<T>,
    pub next_cursor: Option<String>,
}

pub(crate) fn severity_rank(s: Severity) -> i64 {
    match s {
        Severity::Unknown => 0,
        Severity::Low => 1,
        Severity::Medium => 2,
        Severity::High => 3,
        Severity::Critical => 4,
    }
}

pub(crate) fn severity_from_rank(r: i64) -> Option<Severity> {
    Some(match r {
        0 => Severity::Unknown,
        1 => Severity::Low,
        2 => Severity::Medium,
        3 => Severity::High,
        4 => Severity::Critical,
        _ => return None,
    })
}

pub(crate) fn fix_state_name(s: FixState) -> &'static str {
    match s {
        FixState::Fixed => "fixed",
        FixState::NotFixed => "not-fixed",
        FixState::WontFix => "wont-fix",
    }
}

/// The registry, repository and tag of a report's reference.
pub fn image_ref(reference: &str) -> ImageRef {
    let tag_of = |t: Option<&str>| t.filter(|t| !t.is_empty()).map(str::to_owned);
    let local = |kind: &str, path: String, tag: Option<&str>| ImageRef {
        registry: kind.to_owned(),
        repository: path,
        tag: tag_of(tag),
    };
    // Local sources are named by their scheme (`oci`, `docker-archive`, …), whatever their shape.
    let image = match reference.parse::<ScanInput>() {
        Ok(ScanInput::Image(image)) => image,
        Ok(ScanInput::Sbom(path)) => return local(SBOM_SCHEME, path.display().to_string(), None),
        Err(_) => return local("", reference.to_owned(), None),
    };
    let kind = image.scheme();
    match image.target() {
        Target::Registry { reference: r, .. } => {
            ImageRef { registry: r.registry.clone(), repository: r.repository.clone(), tag: tag_of(r.tag.as_deref()) }
        }
        Target::Layout { path, selector } => {
            let tag = match selector {
                bulwark_core::ArchiveSelector::Tag(t) => Some(t.as_str()),
                _ => None,
            };
            local(kind, path.display().to_string(), tag)
        }
        Target::Archive { path, tag } => local(kind, path.display().to_string(), tag.as_deref()),
        Target::Path(path) => local(kind, path.display().to_string(), None),
        Target::LocalImage(name) => match name.rsplit_once(':').filter(|(_, t)| !t.contains('/')) {
            Some((repo, tag)) => local(kind, repo.to_owned(), Some(tag)),
            None => local(kind, name.clone(), None),
        },
        Target::LocalContainer(name) => local(kind, name.clone(), None),
    }
}

impl Store {
    /// Records a report given as the JSON bytes a scan wrote (an upload, or a worker's
    /// result outside a job). The bytes are kept exactly; the report is parsed to index it.
    pub async fn record_scan(&self, json: &[u8], origin: ScanOrigin) -> Result<RecordedScan> {
        let report: ScanReport =
            serde_json::from_slice(json).map_err(|e| Error::Report(format!("not a Bulwark JSON report: {e}")))?;
        let mut tx = self.begin_write().await?;
        let recorded = self.record_in(&mut tx, &report, json, origin).await?;
        tx.commit().await?;
        Ok(recorded)
    }

    /// Records `report` (whose JSON bytes are `json`) inside `tx`: the image row, its refs
    /// and layers, the scan with the compressed report, and the latest inventory and
    /// findings (replacing the previous scan's).
    pub(crate) async fn record_in(
        &self,
        tx: &mut Transaction<'static, Any>,
        report: &ScanReport,
        json: &[u8],
        origin: ScanOrigin,
    ) -> Result<RecordedScan> {
        let digest = report
            .image
            .manifest_digest
            .as_ref()
            .or(report.image.config_digest.as_ref())
            .map(ToString::to_string)
            .ok_or_else(|| {
                Error::Report("the report names no image digest (an SBOM cannot be stored as an image)".into())
            })?;
        let verdict = report.policy.as_ref().map(|p| if p.passed { Verdict::Pass } else { Verdict::Fail });
        let policy = report.policy.as_ref().map(|p| p.policy.clone());
        let policy_version = report.policy.as_ref().and_then(|p| p.policy_digest.clone());
        let worst = report.vulnerabilities.iter().map(|v| severity_rank(v.severity)).max().unwrap_or(-1);
        let kev = i64::from(report.vulnerabilities.iter().any(|v| v.kev));
        let os = report.os.as_ref().map(|o| match &o.version_id {
            Some(v) => format!("{} {v}", o.id),
            None => o.id.clone(),
        });
        let platform = report.image.platform.as_ref().map(ToString::to_string);
        let image_id: i64 = sqlx::query(self.sql(
            "INSERT INTO images (digest, config_digest, platform, os, created, first_seen, last_scanned)
             VALUES ($1, $2, $3, $4, $5, {now}, {now})
             ON CONFLICT (digest) DO UPDATE SET last_scanned = excluded.last_scanned,
                 config_digest = excluded.config_digest, platform = excluded.platform, os = excluded.os,
                 created = excluded.created
             RETURNING id",
        ))
        .bind(&digest)
        .bind(report.image.config_digest.as_ref().map(ToString::to_string))
        .bind(platform)
        .bind(os)
        .bind(report.image.created.clone())
        .fetch_one(&mut **tx)
        .await?
        .try_get(0)?;

        let compressed = zstd::encode_all(json, 9).map_err(|e| Error::Report(format!("compressing: {e}")))?;
        let sha = hex::encode(ring::digest::digest(&ring::digest::SHA256, json));
        let job_id = match origin {
            ScanOrigin::Worker { job_id } => Some(job_id),
            ScanOrigin::Upload => None,
        };
        let db = report.database.as_ref();
        let scan_id: i64 = sqlx::query(self.sql(
            "INSERT INTO scans (image_id, job_id, origin, reference, created_at, bulwark_version, db_digest,
                 db_built_at, verdict, policy, policy_version, report_sha256, report_size, report)
             VALUES ($1, $2, $3, $4, {now}, $5, $6, $7, $8, $9, $10, $11, $12, $13) RETURNING id",
        ))
        .bind(image_id)
        .bind(job_id)
        .bind(origin.name())
        .bind(report.image.reference.clone())
        .bind(report.bulwark_version.clone())
        .bind(db.map(|d| d.digest.clone()))
        .bind(db.map(|d| d.built_at.clone()))
        .bind(verdict.map(|v| v.as_str()))
        .bind(policy.clone())
        .bind(policy_version.clone())
        .bind(sha)
        .bind(i64::try_from(json.len()).unwrap_or(i64::MAX))
        .bind(compressed)
        .fetch_one(&mut **tx)
        .await?
        .try_get(0)?;

        self.record_ref(tx, image_id, &report.image.reference).await?;
        self.record_layers(tx, image_id, report).await?;
        let (packages, vulns) = self.record_inventory(tx, image_id, report).await?;
        sqlx::query(
            "UPDATE images SET latest_scan = $1, verdict = $2, policy = $3, policy_version = $4,
                 worst_severity = $5, kev = $6, packages = $7, vulnerabilities = $8 WHERE id = $9",
        )
        .bind(scan_id)
        .bind(verdict.map(|v| v.as_str()))
        .bind(policy)
        .bind(policy_version)
        .bind(worst)
        .bind(kev)
        .bind(packages)
        .bind(vulns)
        .bind(image_id)
        .execute(&mut **tx)
        .await?;
        Ok(RecordedScan { scan_id, image_id, digest })
    }

    /// Points the reference's tag at this image (moving it from another image, as a push
    /// does) and records the repository.
    async fn record_ref(&self, tx: &mut Transaction<'static, Any>, image_id: i64, reference: &str) -> Result<()> {
        let r = image_ref(reference);
        let tag = r.tag.clone().unwrap_or_default();
        if !tag.is_empty() {
            sqlx::query(
                "DELETE FROM image_refs WHERE registry = $1 AND repository = $2 AND tag = $3 AND image_id <> $4",
            )
            .bind(&r.registry)
            .bind(&r.repository)
            .bind(&tag)
            .bind(image_id)
            .execute(&mut **tx)
            .await?;
        }
        sqlx::query(self.sql(
            "INSERT INTO image_refs (image_id, registry, repository, tag, first_seen, last_seen)
             VALUES ($1, $2, $3, $4, {now}, {now})
             ON CONFLICT (registry, repository, tag, image_id) DO UPDATE SET last_seen = excluded.last_seen",
        ))
        .bind(image_id)
        .bind(r.registry)
        .bind(r.repository)
        .bind(tag)
        .execute(&mut **tx)
        .await?;
        Ok(())
    }

    async fn record_layers(
        &self,
        tx: &mut Transaction<'static, Any>,
        image_id: i64,
        report: &ScanReport,
    ) -> Result<()> {
        sqlx::query("DELETE FROM image_layers WHERE image_id = $1").bind(image_id).execute(&mut **tx).await?;
        let rows: Vec<Vec<Val>> = report
            .layers
            .iter()
            .map(|l| {
                vec![
                    Val::I(image_id),
                    Val::I(i64::try_from(l.index).unwrap_or(i64::MAX)),
                    Val::OT(l.digest.as_ref().map(ToString::to_string)),
                    Val::T(l.diff_id.to_string()),
                    Val::OT(l.media_type.clone()),
                    Val::I(i64::try_from(l.size).unwrap_or(i64::MAX)),
                    Val::OT(l.created_by.clone()),
                ]
            })
            .collect();
        insert_rows(
            tx,
            "INSERT INTO image_layers (image_id, idx, digest, diff_id, media_type, size, created_by) VALUES ",
            "",
            &rows,
        )
        .await
    }

    /// Replaces the image's packages and findings with the report's. Returns how many of each.
    async fn record_inventory(
        &self,
        tx: &mut Transaction<'static, Any>,
        image_id: i64,
        report: &ScanReport,
    ) -> Result<(i64, i64)> {
        sqlx::query("DELETE FROM findings WHERE image_id = $1").bind(image_id).execute(&mut **tx).await?;
        sqlx::query("DELETE FROM image_packages WHERE image_id = $1").bind(image_id).execute(&mut **tx).await?;
        // Sorted, so that concurrent writers lock shared rows in one order (no deadlocks).
        let mut purls: BTreeMap<&str, (&str, &str, &str)> = BTreeMap::new();
        for p in &report.packages {
            purls.insert(&p.purl, (&p.ecosystem, &p.name, &p.version));
        }
        for v in &report.vulnerabilities {
            let p = &v.package;
            purls.entry(&p.purl).or_insert((&p.ecosystem, &p.name, &p.version));
        }
        let rows: Vec<Vec<Val>> = purls
            .iter()
            .map(|(purl, (e, n, v))| {
                vec![Val::T((*purl).into()), Val::T((*e).into()), Val::T((*n).into()), Val::T((*v).into())]
            })
            .collect();
        insert_rows(
            tx,
            "INSERT INTO packages (purl, ecosystem, name, version) VALUES ",
            " ON CONFLICT (purl) DO NOTHING",
            &rows,
        )
        .await?;
        let package_ids = lookup_ids(tx, "SELECT id, purl FROM packages WHERE purl IN ", purls.keys().copied()).await?;

        let mut seen = BTreeSet::new();
        let mut rows = Vec::new();
        for p in &report.packages {
            let id = package_ids[p.purl.as_str()];
            let location = p.locations.first().cloned().unwrap_or_default();
            if seen.insert((id, location.clone())) {
                rows.push(vec![
                    Val::I(image_id),
                    Val::I(id),
                    Val::OI(p.layer.and_then(|l| i64::try_from(l).ok())),
                    Val::OI(p.removed_in.and_then(|l| i64::try_from(l).ok())),
                    Val::T(location),
                ]);
            }
        }
        let packages = i64::try_from(rows.len()).unwrap_or(i64::MAX);
        insert_rows(
            tx,
            "INSERT INTO image_packages (image_id, package_id, layer, removed_in, location) VALUES ",
            "",
            &rows,
        )
        .await?;

        let ids: BTreeSet<&str> = report.vulnerabilities.iter().map(|v| v.id.as_str()).collect();
        let rows: Vec<Vec<Val>> = ids.iter().map(|id| vec![Val::T((*id).into())]).collect();
        insert_rows(tx, "INSERT INTO vulnerabilities (vuln_id) VALUES ", " ON CONFLICT (vuln_id) DO NOTHING", &rows)
            .await?;
        let vuln_ids =
            lookup_ids(tx, "SELECT id, vuln_id FROM vulnerabilities WHERE vuln_id IN ", ids.iter().copied()).await?;
        let mut aliases = BTreeSet::new();
        for v in &report.vulnerabilities {
            for a in &v.aliases {
                aliases.insert((a.as_str(), vuln_ids[v.id.as_str()]));
            }
        }
        let rows: Vec<Vec<Val>> = aliases.iter().map(|(a, id)| vec![Val::T((*a).into()), Val::I(*id)]).collect();
        insert_rows(
            tx,
            "INSERT INTO vulnerability_aliases (alias, vulnerability_id) VALUES ",
            " ON CONFLICT DO NOTHING",
            &rows,
        )
        .await?;

        let mut seen = BTreeSet::new();
        let mut rows = Vec::new();
        for v in &report.vulnerabilities {
            let (vid, pid) = (vuln_ids[v.id.as_str()], package_ids[v.package.purl.as_str()]);
            if seen.insert((vid, pid)) {
                rows.push(vec![
                    Val::I(image_id),
                    Val::I(vid),
                    Val::I(pid),
                    Val::OI(v.package.layer.and_then(|l| i64::try_from(l).ok())),
                    Val::T(fix_state_name(v.state).into()),
                    Val::OT(v.fixed_versions.first().cloned()),
                    Val::I(severity_rank(v.severity)),
                    Val::I(i64::from(v.kev)),
                ]);
            }
        }
        let vulns = i64::try_from(rows.len()).unwrap_or(i64::MAX);
        insert_rows(
            tx,
            "INSERT INTO findings (image_id, vulnerability_id, package_id, layer, fix_state, fixed_version, severity, kev) VALUES ",
            "",
            &rows,
        )
        .await?;
        Ok((packages, vulns))
    }

    /// Everything about the image with this manifest digest, or `None`.
    pub async fn image(&self, digest: &str) -> Result<Option<ImageDetail>> {
        let Some(row) = sqlx::query(AssertSqlSafe(format!("SELECT {IMAGE_COLUMNS} FROM images WHERE digest = $1")))
            .bind(digest)
            .fetch_optional(self.pool())
            .await?
        else {
            return Ok(None);
        };
        let mut summary = image_summary(&row)?;
        summary.refs = self.refs_of(&[summary.id]).await?.remove(&summary.id).unwrap_or_default();
        let id = summary.id;
        let layers = sqlx::query(
            "SELECT idx, digest, diff_id, media_type, size, created_by FROM image_layers WHERE image_id = $1 ORDER BY idx",
        )
        .bind(id)
        .fetch_all(self.pool())
        .await?
        .iter()
        .map(|r| {
            Ok(LayerRow {
                index: r.try_get(0)?,
                digest: r.try_get(1)?,
                diff_id: r.try_get(2)?,
                media_type: r.try_get(3)?,
                size: r.try_get(4)?,
                created_by: r.try_get(5)?,
            })
        })
        .collect::<Result<Vec<_>>>()?;
        let packages = sqlx::query(
            "SELECT p.purl, p.ecosystem, p.name, p.version, ip.layer, ip.removed_in, ip.location
             FROM image_packages ip JOIN packages p ON p.id = ip.package_id WHERE ip.image_id = $1
             ORDER BY p.ecosystem, p.name, p.version, ip.location",
        )
        .bind(id)
        .fetch_all(self.pool())
        .await?
        .iter()
        .map(|r| {
            Ok(ImagePackage {
                purl: r.try_get(0)?,
                ecosystem: r.try_get(1)?,
                name: r.try_get(2)?,
                version: r.try_get(3)?,
                layer: r.try_get(4)?,
                removed_in: r.try_get(5)?,
                location: r.try_get(6)?,
            })
        })
        .collect::<Result<Vec<_>>>()?;
        let findings = sqlx::query(
            "SELECT v.vuln_id, p.purl, f.layer, f.fix_state, f.fixed_version, f.severity, f.kev
             FROM findings f JOIN vulnerabilities v ON v.id = f.vulnerability_id JOIN packages p ON p.id = f.package_id
             WHERE f.image_id = $1 ORDER BY f.severity DESC, v.vuln_id, p.purl",
        )
        .bind(id)
        .fetch_all(self.pool())
        .await?
        .iter()
        .map(|r| {
            Ok(ImageFinding {
                vulnerability: r.try_get(0)?,
                purl: r.try_get(1)?,
                layer: r.try_get(2)?,
                fix_state: r.try_get(3)?,
                fixed_version: r.try_get(4)?,
                severity: severity_from_rank(r.try_get(5)?).unwrap_or_default(),
                kev: r.try_get::<i64, _>(6)? != 0,
            })
        })
        .collect::<Result<Vec<_>>>()?;
        let scans = self.scan_history_of(id).await?;
        Ok(Some(ImageDetail { summary, layers, packages, findings, scans }))
    }

    /// Every scan of the image with this digest, newest first.
    pub async fn scan_history(&self, digest: &str) -> Result<Vec<ScanEntry>> {
        let id: Option<i64> = sqlx::query("SELECT id FROM images WHERE digest = $1")
            .bind(digest)
            .fetch_optional(self.pool())
            .await?
            .map(|r| r.try_get(0))
            .transpose()?;
        match id {
            Some(id) => self.scan_history_of(id).await,
            None => Ok(Vec::new()),
        }
    }

    async fn scan_history_of(&self, image_id: i64) -> Result<Vec<ScanEntry>> {
        sqlx::query(
            "SELECT id, job_id, origin, reference, created_at, bulwark_version, db_digest, verdict, policy,
                 policy_version, report_sha256, report_size
             FROM scans WHERE image_id = $1 ORDER BY id DESC",
        )
        .bind(image_id)
        .fetch_all(self.pool())
        .await?
        .iter()
        .map(|r| {
            Ok(ScanEntry {
                scan_id: r.try_get(0)?,
                job_id: r.try_get(1)?,
                origin: r.try_get(2)?,
                reference: r.try_get(3)?,
                created_at: r.try_get(4)?,
                bulwark_version: r.try_get(5)?,
                db_digest: r.try_get(6)?,
                verdict: r.try_get::<Option<String>, _>(7)?.as_deref().and_then(Verdict::parse),
                policy: r.try_get(8)?,
                policy_version: r.try_get(9)?,
                report_sha256: r.try_get(10)?,
                report_size: r.try_get(11)?,
            })
        })
        .collect()
    }

    /// The exact report bytes of a scan, checked against their recorded SHA-256.
    pub async fn scan_report(&self, scan_id: i64) -> Result<Option<StoredReport>> {
        let Some(row) = sqlx::query(
            "SELECT s.report, s.report_sha256, i.digest FROM scans s JOIN images i ON i.id = s.image_id WHERE s.id = $1",
        )
        .bind(scan_id)
        .fetch_optional(self.pool())
        .await?
        else {
            return Ok(None);
        };
        let compressed: Vec<u8> = row.try_get(0)?;
        let sha256: String = row.try_get(1)?;
        let corrupt = |message: String| Error::Corrupt { what: format!("report of scan {scan_id}"), message };
        let json = zstd::decode_all(compressed.as_slice()).map_err(|e| corrupt(e.to_string()))?;
        if hex::encode(ring::digest::digest(&ring::digest::SHA256, &json)) != sha256 {
            return Err(corrupt("the bytes do not match their recorded SHA-256".into()));
        }
        Ok(Some(StoredReport { scan_id, digest: row.try_get(2)?, json, sha256 }))
    }

    /// Images matching `filter`, newest first, a page at a time.
    pub async fn list_images(&self, filter: &ImageFilter, page: &PageRequest) -> Result<Page<ImageSummary>> {
        let limit = page.checked_limit()?;
        let mut wheres: Vec<String> = Vec::new();
        let mut args: Vec<Val> = Vec::new();
        let arg = |v: Val, args: &mut Vec<Val>| {
            args.push(v);
            format!("${}", args.len())
        };
        if let Some(c) = &page.cursor {
            let id: i64 = crate::cursor::decode_id(c)?;
            wheres.push(format!("id < {}", arg(Val::I(id), &mut args)));
        }
        if filter.registry.is_some() || filter.repository.is_some() || filter.tag.is_some() {
            let mut conds = vec!["r.image_id = images.id".to_owned()];
            for (col, v) in [("registry", &filter.registry), ("repository", &filter.repository), ("tag", &filter.tag)] {
                if let Some(v) = v {
                    conds.push(format!("r.{col} = {}", arg(Val::T(v.clone()), &mut args)));
                }
            }
            wheres.push(format!("EXISTS (SELECT 1 FROM image_refs r WHERE {})", conds.join(" AND ")));
        }
        match filter.verdict {
            Some(Some(v)) => wheres.push(format!("verdict = {}", arg(Val::T(v.as_str().into()), &mut args))),
            Some(None) => wheres.push("verdict IS NULL".into()),
            None => {}
        }
        if let Some(s) = filter.min_severity {
            wheres.push(format!("worst_severity >= {}", arg(Val::I(severity_rank(s)), &mut args)));
        }
        if let Some(k) = filter.kev {
            wheres.push(format!("kev = {}", arg(Val::I(i64::from(k)), &mut args)));
        }
        let where_sql = if wheres.is_empty() { String::new() } else { format!("WHERE {}", wheres.join(" AND ")) };
        let sql = format!("SELECT {IMAGE_COLUMNS} FROM images {where_sql} ORDER BY id DESC LIMIT {}", limit + 1);
        let rows = bind_all(sqlx::query(AssertSqlSafe(sql)), args).fetch_all(self.pool()).await?;
        let mut items = rows.iter().map(image_summary).collect::<Result<Vec<_>>>()?;
        let next_cursor = next_cursor(&mut items, limit, |i| crate::cursor::encode_id(i.id));
        let ids: Vec<i64> = items.iter().map(|i| i.id).collect();
        let mut refs = self.refs_of(&ids).await?;
        for item in &mut items {
            item.refs = refs.remove(&item.id).unwrap_or_default();
        }
        Ok(Page { items, next_cursor })
    }

    /// The refs of each image in `ids`, sorted.
    pub(crate) async fn refs_of(&self, ids: &[i64]) -> Result<BTreeMap<i64, Vec<ImageRef>>> {
        let mut out: BTreeMap<i64, Vec<ImageRef>> = BTreeMap::new();
        for chunk in ids.chunks(500) {
            let sql = format!(
                "SELECT image_id, registry, repository, tag FROM image_refs WHERE image_id IN ({}) ORDER BY registry, repository, tag",
                placeholders(1, chunk.len())
            );
            let args = chunk.iter().map(|i| Val::I(*i)).collect();
            for r in bind_all(sqlx::query(AssertSqlSafe(sql)), args).fetch_all(self.pool()).await? {
                let tag: String = r.try_get(3)?;
                out.entry(r.try_get(0)?).or_default().push(ImageRef {
                    registry: r.try_get(1)?,
                    repository: r.try_get(2)?,
                    tag: Some(tag).filter(|t| !t.is_empty()),
                });
            }
        }
        Ok(out)
    }
}

const IMAGE_COLUMNS: &str = "id, digest, config_digest, platform, os, verdict, policy, policy_version, worst_severity, kev, \
     packages, vulnerabilities, first_seen, last_scanned, latest_scan";

fn image_summary(r: &sqlx::any::AnyRow) -> Result<ImageSummary> {
    Ok(ImageSummary {
        id: r.try_get(0)?,
        digest: r.try_get(1)?,
        config_digest: r.try_get(2)?,
        platform: r.try_get(3)?,
        os: r.try_get(4)?,
        refs: Vec::new(),
        verdict: r.try_get::<Option<String>, _>(5)?.as_deref().and_then(Verdict::parse),
        policy: r.try_get(6)?,
        policy_version: r.try_get(7)?,
        worst_severity: severity_from_rank(r.try_get(8)?),
        kev: r.try_get::<i64, _>(9)? != 0,
        packages: r.try_get(10)?,
        vulnerabilities: r.try_get(11)?,
        first_seen: r.try_get(12)?,
        last_scanned: r.try_get(13)?,
        latest_scan: r.try_get(14)?,
    })
}

pub(crate) fn bad_cursor() -> Error {
    Error::InvalidQuery { parameter: "cursor", message: "not a cursor this listing returned".into() }
}

/// Trims the extra row fetched to detect a next page and returns the cursor after the last kept.
pub(crate) fn next_cursor<T>(items: &mut Vec<T>, limit: i64, key: impl Fn(&T) -> String) -> Option<String> {
    if items.len() as i64 > limit {
        items.truncate(usize::try_from(limit).unwrap_or(usize::MAX));
        items.last().map(key)
    } else {
        None
    }
}

/// A value to bind, for statements built at run time.
#[derive(Debug, Clone)]
pub(crate) enum Val {
    I(i64),
    OI(Option<i64>),
    T(String),
    OT(Option<String>),
}

pub(crate) fn bind_all<'q>(
    mut q: sqlx::query::Query<'q, Any, sqlx::any::AnyArguments>,
    args: Vec<Val>,
) -> sqlx::query::Query<'q, Any, sqlx::any::AnyArguments> {
    for v in args {
        q = match v {
            Val::I(i) => q.bind(i),
            Val::OI(i) => q.bind(i),
            Val::T(s) => q.bind(s),
            Val::OT(s) => q.bind(s),
        };
    }
    q
}

/// `$first, $first+1, …` (n of them).
pub(crate) fn placeholders(first: usize, n: usize) -> String {
    (first..first + n).map(|i| format!("${i}")).collect::<Vec<_>>().join(", ")
}

/// Multi-row INSERT of `rows` (all of one width), in chunks well under both backends'
/// bound-parameter limits: one round trip per few hundred rows instead of per row.
pub(crate) async fn insert_rows(
    tx: &mut Transaction<'static, Any>,
    head: &str,
    tail: &str,
    rows: &[Vec<Val>],
) -> Result<()> {
    let Some(width) = rows.first().map(Vec::len) else { return Ok(()) };
    let per_chunk = (4000 / width).max(1);
    for chunk in rows.chunks(per_chunk) {
        let mut sql = String::from(head);
        for (i, _) in chunk.iter().enumerate() {
            if i > 0 {
                sql.push_str(", ");
            }
            sql.push('(');
            sql.push_str(&placeholders(i * width + 1, width));
            sql.push(')');
        }
        sql.push_str(tail);
        let args = chunk.iter().flatten().cloned().collect();
        bind_all(sqlx::query(AssertSqlSafe(sql)), args).execute(&mut **tx).await?;
    }
    Ok(())
}

/// `key → id` for `keys`, by `head (…)`, a SELECT of `id, key`.
async fn lookup_ids<'k>(
    tx: &mut Transaction<'static, Any>,
    head: &str,
    keys: impl Iterator<Item = &'k str>,
) -> Result<BTreeMap<String, i64>> {
    let keys: Vec<&str> = keys.collect();
    let mut out = BTreeMap::new();
    for chunk in keys.chunks(1000) {
        let sql = format!("{head}({})", placeholders(1, chunk.len()));
        let args = chunk.iter().map(|k| Val::T((*k).to_owned())).collect();
        for r in bind_all(sqlx::query(AssertSqlSafe(sql)), args).fetch_all(&mut **tx).await? {
            out.insert(r.try_get::<String, _>(1)?, r.try_get::<i64, _>(0)?);
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn references_become_registry_repository_and_tag() {
        let r = image_ref("registry:localhost:5000/team/app:1.2");
        assert_eq!(
            (r.registry.as_str(), r.repository.as_str(), r.tag.as_deref()),
            ("localhost:5000", "team/app", Some("1.2"))
        );
        let r = image_ref("oci:/tmp/layout:v1");
        assert_eq!((r.registry.as_str(), r.repository.as_str(), r.tag.as_deref()), ("oci", "/tmp/layout", Some("v1")));
        let r = image_ref("docker-archive:/tmp/a.tar");
        assert_eq!((r.registry.as_str(), r.tag), ("docker-archive", None));
        assert_eq!(image_ref("%%%").registry, "");
    }
}

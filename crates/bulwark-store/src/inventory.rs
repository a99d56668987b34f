//! The inventory questions, answered from the store without rescanning: which images have a
//! vulnerability (in which package and layer, and is a fix available), and where a package
//! is (by purl, by name, or by name and version range).

use std::cmp::Ordering;

use bulwark_core::Purl;
use bulwark_core::report::Severity;
use bulwark_version::Ecosystem;
use serde::Serialize;
use sqlx::{AssertSqlSafe, Row as _};

use crate::images::{ImageRef, Page, PageRequest, Val, bind_all, next_cursor, placeholders, severity_from_rank};
use crate::{Error, Result, Store};

/// One image that has the vulnerability asked about, in one package.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct VulnerableImage {
    pub digest: String,
    pub refs: Vec<ImageRef>,
    /// The id the finding is recorded under (the query may have named an alias).
    pub vulnerability: String,
    pub purl: String,
    pub package: String,
    pub version: String,
    /// The layer that introduced the package (0 = base).
    pub layer: Option<i64>,
    /// `fixed` (a fixed version exists), `not-fixed` or `wont-fix`.
    pub fix_state: String,
    pub fixed_version: Option<String>,
    pub severity: Severity,
    pub kev: bool,
}

/// A package to look for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PackageQuery {
    /// The purl type (`deb`, `maven`, …); `None`: any.
    pub ecosystem: Option<String>,
    /// The name as the ecosystem spells it (Maven `group:artifact`).
    pub name: String,
    pub versions: VersionMatch,
}

/// Which versions of the package.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum VersionMatch {
    Any,
    Exact(String),
    /// Every constraint must hold, compared with the ecosystem's own ordering.
    Range(Vec<(Op, String)>),
}

/// A version comparison.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op {
    Lt,
    Le,
    Gt,
    Ge,
    Eq,
    Ne,
}

impl PackageQuery {
    /// A purl: type, namespace and name must match, and the version when it has one.
    pub fn from_purl(purl: &str) -> Result<PackageQuery> {
        let p: Purl = purl
            .parse()
            .map_err(|e: bulwark_core::Error| Error::InvalidQuery { parameter: "purl", message: e.to_string() })?;
        Ok(PackageQuery {
            ecosystem: Some(p.ty.clone()),
            name: p.ecosystem_name(),
            versions: match p.ecosystem_version() {
                Some(v) => VersionMatch::Exact(v),
                None => VersionMatch::Any,
            },
        })
    }

    /// A name with an optional range such as `>=2.0, <2.17.1` (`,`-separated constraints;
    /// `<`, `<=`, `>`, `>=`, `=`, `!=`).
    pub fn from_name(ecosystem: Option<&str>, name: &str, range: Option<&str>) -> Result<PackageQuery> {
        if name.trim().is_empty() {
            return Err(Error::InvalidQuery { parameter: "name", message: "is empty".into() });
        }
        let versions = match range.map(str::trim).filter(|r| !r.is_empty()) {
            None => VersionMatch::Any,
            Some(r) => VersionMatch::Range(parse_range(r)?),
        };
        Ok(PackageQuery { ecosystem: ecosystem.map(str::to_owned), name: name.to_owned(), versions })
    }
}

fn parse_range(range: &str) -> Result<Vec<(Op, String)>> {
    range
        .split(',')
        .map(|c| {
            let c = c.trim();
            let (op, rest) =
                [("<=", Op::Le), (">=", Op::Ge), ("!=", Op::Ne), ("<", Op::Lt), (">", Op::Gt), ("=", Op::Eq)]
                    .iter()
                    .find_map(|(s, op)| c.strip_prefix(s).map(|rest| (*op, rest.trim())))
                    .ok_or_else(|| Error::InvalidQuery {
                        parameter: "version",
                        message: format!("{c:?}: a constraint starts with <, <=, >, >=, = or !="),
                    })?;
            if rest.is_empty() {
                return Err(Error::InvalidQuery { parameter: "version", message: format!("{c:?} has no version") });
            }
            Ok((op, rest.to_owned()))
        })
        .collect()
}

/// The version ordering of a purl type.
fn scheme(purl_type: &str) -> Ecosystem {
    match purl_type {
        "deb" => Ecosystem::Dpkg,
        "rpm" => Ecosystem::Rpm,
        "apk" => Ecosystem::Apk,
        "pypi" => Ecosystem::Pep440,
        "npm" => Ecosystem::Npm,
        "cargo" | "hex" | "pub" => Ecosystem::Semver,
        "nuget" => Ecosystem::NuGet,
        "golang" => Ecosystem::Go,
        "maven" => Ecosystem::Maven,
        "gem" => Ecosystem::RubyGems,
        "composer" => Ecosystem::Composer,
        _ => Ecosystem::Generic,
    }
}

impl PackageQuery {
    /// Whether a package of purl type `purl_type` at `version` is one this query asks for
    /// (its name and type are matched by the store).
    pub fn matches_version(&self, purl_type: &str, version: &str) -> bool {
        version_matches(&self.versions, purl_type, version)
    }
}

fn version_matches(m: &VersionMatch, purl_type: &str, version: &str) -> bool {
    match m {
        VersionMatch::Any => true,
        VersionMatch::Exact(v) => v == version,
        VersionMatch::Range(constraints) => constraints.iter().all(|(op, bound)| {
            // A version the scheme cannot parse is compared by the generic rule rather than
            // silently left out.
            let ord = bulwark_version::compare(scheme(purl_type), version, bound)
                .unwrap_or_else(|_| bulwark_version::compare_generic(version, bound));
            match op {
                Op::Lt => ord == Ordering::Less,
                Op::Le => ord != Ordering::Greater,
                Op::Gt => ord == Ordering::Greater,
                Op::Ge => ord != Ordering::Less,
                Op::Eq => ord == Ordering::Equal,
                Op::Ne => ord != Ordering::Equal,
            }
        }),
    }
}

/// One place a package is: an image, the layer that introduced it and the file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PackageHit {
    pub digest: String,
    pub refs: Vec<ImageRef>,
    pub purl: String,
    pub ecosystem: String,
    pub name: String,
    pub version: String,
    pub layer: Option<i64>,
    pub removed_in: Option<i64>,
    pub location: String,
}

impl Store {
    /// Images whose latest scan has vulnerability `id` (a primary id or any alias), one item
    /// per image and package, ordered by image then package.
    pub async fn images_with_vulnerability(&self, id: &str, page: &PageRequest) -> Result<Page<VulnerableImage>> {
        let limit = page.checked_limit()?;
        let vuln_ids: Vec<i64> = sqlx::query(
            "SELECT id FROM vulnerabilities WHERE vuln_id = $1
             UNION SELECT vulnerability_id FROM vulnerability_aliases WHERE alias = $1",
        )
        .bind(id)
        .fetch_all(self.pool())
        .await?
        .iter()
        .map(|r| r.try_get(0))
        .collect::<Result<_, _>>()?;
        if vuln_ids.is_empty() {
            return Ok(Page { items: Vec::new(), next_cursor: None });
        }
        let mut args: Vec<Val> = vuln_ids.iter().map(|v| Val::I(*v)).collect();
        let mut after = String::new();
        if let Some(c) = &page.cursor {
            let (image, package) = crate::cursor::decode_pair(c)?;
            let n = args.len();
            after = format!("AND (f.image_id > ${} OR (f.image_id = ${} AND f.package_id > ${}))", n + 1, n + 1, n + 2);
            args.extend([Val::I(image), Val::I(package)]);
        }
        let sql = format!(
            "SELECT f.image_id, f.package_id, i.digest, v.vuln_id, p.purl, p.name, p.version, f.layer, f.fix_state,
                 f.fixed_version, f.severity, f.kev
             FROM findings f JOIN images i ON i.id = f.image_id JOIN packages p ON p.id = f.package_id
                 JOIN vulnerabilities v ON v.id = f.vulnerability_id
             WHERE f.vulnerability_id IN ({}) {after}
             ORDER BY f.image_id, f.package_id LIMIT {}",
            placeholders(1, vuln_ids.len()),
            limit + 1
        );
        let rows = bind_all(sqlx::query(AssertSqlSafe(sql)), args).fetch_all(self.pool()).await?;
        let mut keyed = rows
            .iter()
            .map(|r| {
                Ok((
                    (r.try_get::<i64, _>(0)?, r.try_get::<i64, _>(1)?),
                    VulnerableImage {
                        digest: r.try_get(2)?,
                        refs: Vec::new(),
                        vulnerability: r.try_get(3)?,
                        purl: r.try_get(4)?,
                        package: r.try_get(5)?,
                        version: r.try_get(6)?,
                        layer: r.try_get(7)?,
                        fix_state: r.try_get(8)?,
                        fixed_version: r.try_get(9)?,
                        severity: severity_from_rank(r.try_get(10)?).unwrap_or_default(),
                        kev: r.try_get::<i64, _>(11)? != 0,
                    },
                ))
            })
            .collect::<Result<Vec<_>>>()?;
        let next_cursor = next_cursor(&mut keyed, limit, |((i, p), _)| crate::cursor::encode_pair(*i, *p));
        let image_ids: Vec<i64> = keyed.iter().map(|((i, _), _)| *i).collect();
        let mut refs = self.refs_of(&image_ids).await?;
        let items = keyed
            .into_iter()
            .map(|((image, _), mut item)| {
                item.refs = refs.get(&image).cloned().unwrap_or_default();
                item
            })
            .collect();
        refs.clear();
        Ok(Page { items, next_cursor })
    }

    /// Where the packages matching `query` are, ordered by package then image.
    pub async fn find_packages(&self, query: &PackageQuery, page: &PageRequest) -> Result<Page<PackageHit>> {
        let limit = page.checked_limit()?;
        // The candidate packages by name (few: one per version and distro qualifier), then
        // the version test in Rust with the ecosystem's ordering, which SQL cannot do.
        let mut sql = String::from("SELECT id, ecosystem, version FROM packages WHERE name = $1");
        let mut args = vec![Val::T(query.name.clone())];
        if let Some(e) = &query.ecosystem {
            sql.push_str(" AND ecosystem = $2");
            args.push(Val::T(e.clone()));
        }
        let package_ids: Vec<i64> = bind_all(sqlx::query(AssertSqlSafe(sql)), args)
            .fetch_all(self.pool())
            .await?
            .iter()
            .map(|r| Ok((r.try_get::<i64, _>(0)?, r.try_get::<String, _>(1)?, r.try_get::<String, _>(2)?)))
            .collect::<Result<Vec<_>>>()?
            .into_iter()
            .filter(|(_, eco, version)| version_matches(&query.versions, eco, version))
            .map(|(id, _, _)| id)
            .collect();
        if package_ids.is_empty() {
            return Ok(Page { items: Vec::new(), next_cursor: None });
        }
        let mut args: Vec<Val> = package_ids.iter().map(|v| Val::I(*v)).collect();
        let mut after = String::new();
        if let Some(c) = &page.cursor {
            let (package, image) = crate::cursor::decode_pair(c)?;
            let n = args.len();
            after = format!(
                "AND (ip.package_id > ${} OR (ip.package_id = ${} AND ip.image_id > ${}))",
                n + 1,
                n + 1,
                n + 2
            );
            args.extend([Val::I(package), Val::I(image)]);
        }
        let sql = format!(
            "SELECT ip.package_id, ip.image_id, i.digest, p.purl, p.ecosystem, p.name, p.version, ip.layer,
                 ip.removed_in, ip.location
             FROM image_packages ip JOIN images i ON i.id = ip.image_id JOIN packages p ON p.id = ip.package_id
             WHERE ip.package_id IN ({}) {after}
             ORDER BY ip.package_id, ip.image_id, ip.location LIMIT {}",
            placeholders(1, package_ids.len()),
            limit + 1
        );
        let rows = bind_all(sqlx::query(AssertSqlSafe(sql)), args).fetch_all(self.pool()).await?;
        let mut keyed = rows
            .iter()
            .map(|r| {
                Ok((
                    (r.try_get::<i64, _>(0)?, r.try_get::<i64, _>(1)?),
                    PackageHit {
                        digest: r.try_get(2)?,
                        refs: Vec::new(),
                        purl: r.try_get(3)?,
                        ecosystem: r.try_get(4)?,
                        name: r.try_get(5)?,
                        version: r.try_get(6)?,
                        layer: r.try_get(7)?,
                        removed_in: r.try_get(8)?,
                        location: r.try_get(9)?,
                    },
                ))
            })
            .collect::<Result<Vec<_>>>()?;
        // An image with two copies of a package (two locations) is listed once per copy.
        let more = next_cursor(&mut keyed, limit, |((p, i), _)| crate::cursor::encode_pair(*p, *i)).is_some();
        // The cursor skips past a whole (package, image): when the page may have cut one
        // image's copies short, that image starts the next page instead.
        if more && let Some(((p, i), _)) = keyed.last().cloned() {
            let first = keyed.iter().position(|((pp, ii), _)| *pp == p && *ii == i).unwrap_or(keyed.len());
            if first > 0 {
                keyed.truncate(first);
            }
        }
        let next_cursor =
            more.then(|| keyed.last().map(|((p, i), _)| crate::cursor::encode_pair(*p, *i)).unwrap_or_default());
        let image_ids: Vec<i64> = keyed.iter().map(|((_, i), _)| *i).collect();
        let refs = self.refs_of(&image_ids).await?;
        let items = keyed
            .into_iter()
            .map(|((_, image), mut hit)| {
                hit.refs = refs.get(&image).cloned().unwrap_or_default();
                hit
            })
            .collect();
        Ok(Page { items, next_cursor })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges_use_the_ecosystem_ordering() {
        let q = PackageQuery::from_name(Some("maven"), "g:a", Some(">=2.0, <2.17.1")).unwrap();
        assert!(version_matches(&q.versions, "maven", "2.14.1"));
        assert!(version_matches(&q.versions, "maven", "2.17.0"));
        assert!(!version_matches(&q.versions, "maven", "2.17.1"));
        assert!(!version_matches(&q.versions, "maven", "1.2.17"));
        let deb = PackageQuery::from_name(None, "openssl", Some("<1:3.0.0")).unwrap();
        assert!(version_matches(&deb.versions, "deb", "3.0.11-1~deb12u2"), "an epoch outranks the upstream version");
        assert!(PackageQuery::from_name(None, "x", Some("~1.0")).is_err());
        assert!(PackageQuery::from_name(None, "x", Some(">=")).is_err());
        assert!(PackageQuery::from_name(None, " ", None).is_err());
    }

    #[test]
    fn purls_query_by_ecosystem_name_and_version() {
        let q = PackageQuery::from_purl("pkg:maven/org.apache.logging.log4j/log4j-core@2.14.1").unwrap();
        assert_eq!(q.ecosystem.as_deref(), Some("maven"));
        assert_eq!(q.name, "org.apache.logging.log4j:log4j-core");
        assert_eq!(q.versions, VersionMatch::Exact("2.14.1".into()));
        assert!(matches!(PackageQuery::from_purl("log4j"), Err(Error::InvalidQuery { parameter: "purl", .. })));
    }
}

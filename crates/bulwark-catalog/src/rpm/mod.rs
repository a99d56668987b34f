//! rpm databases, read by our own code (no librpm): SQLite `rpmdb.sqlite` (rpm ≥ 4.16,
//! Fedora 33+, RHEL 9), Berkeley DB hash `Packages` (RHEL ≤ 8, CentOS, Amazon Linux 2) and
//! NDB `Packages.db` (SUSE). Each backend only yields header blobs; [`header`] turns a blob
//! into a [`Package`].
//!
//! `gpg-pubkey` entries are the public keys rpm imported, stored as pseudo-packages; they
//! are not software and are skipped.

mod bdb;
pub mod header;
mod ndb;
mod sqlite;

use crate::package::{Package, PackageKind, sort_packages};
use crate::{Limits, Parsed, Result, Warning, Warnings, package_limit};
use header::*;

pub use bdb::header_blobs as bdb_header_blobs;
pub use ndb::header_blobs as ndb_header_blobs;
pub use sqlite::header_blobs as sqlite_header_blobs;

/// Which on-disk format an rpm database is, from its first bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DbFormat {
    Sqlite,
    BerkeleyDb,
    Ndb,
}

/// Recognises the format from magic numbers (not from the file name).
pub fn sniff(bytes: &[u8]) -> Option<DbFormat> {
    if bytes.starts_with(b"SQLite format 3\0") {
        Some(DbFormat::Sqlite)
    } else if bytes.starts_with(b"RpmP") {
        Some(DbFormat::Ndb)
    } else if bdb::is_hash_db(bytes) {
        Some(DbFormat::BerkeleyDb)
    } else {
        None
    }
}

/// Parses an rpm database of any of the three formats, recognised by its magic, with the
/// default [`Limits`].
pub fn parse_rpmdb(bytes: &[u8], db_path: &str) -> Result<Parsed> {
    parse_rpmdb_with(bytes, db_path, &Limits::default())
}

/// [`parse_rpmdb`] with explicit limits: headers beyond `max_packages` packages are counted,
/// not parsed, and files beyond `max_files` per package are counted, not kept.
pub fn parse_rpmdb_with(bytes: &[u8], db_path: &str, limits: &Limits) -> Result<Parsed> {
    let owned = |(blobs, warnings): (Vec<Vec<u8>>, Vec<Warning>)| {
        packages_from_blobs(blobs.iter().map(Vec::as_slice), warnings, db_path, limits)
    };
    Ok(match sniff(bytes) {
        Some(DbFormat::Sqlite) => owned(sqlite::header_blobs(bytes, db_path)?),
        Some(DbFormat::Ndb) => {
            let (blobs, warnings) = ndb::header_blobs(bytes, db_path)?;
            packages_from_blobs(blobs.into_iter(), warnings, db_path, limits)
        }
        Some(DbFormat::BerkeleyDb) => owned(bdb::header_blobs(bytes, db_path)?),
        None => Err(crate::Error::NotADatabase {
            format: "rpm",
            path: db_path.to_owned(),
            reason: "no SQLite, Berkeley DB hash or NDB magic".to_owned(),
        })?,
    })
}

/// Parses `rpmdb.sqlite` (the `Packages` table's header blobs).
pub fn parse_rpmdb_sqlite(bytes: &[u8], db_path: &str) -> Result<Parsed> {
    let (blobs, warnings) = sqlite::header_blobs(bytes, db_path)?;
    Ok(packages_from_blobs(blobs.iter().map(Vec::as_slice), warnings, db_path, &Limits::default()))
}

/// Parses a Berkeley DB hash `Packages` file.
pub fn parse_rpmdb_bdb(bytes: &[u8], db_path: &str) -> Result<Parsed> {
    let (blobs, warnings) = bdb::header_blobs(bytes, db_path)?;
    Ok(packages_from_blobs(blobs.iter().map(Vec::as_slice), warnings, db_path, &Limits::default()))
}

/// Parses an NDB `Packages.db` file.
pub fn parse_rpmdb_ndb(bytes: &[u8], db_path: &str) -> Result<Parsed> {
    let (blobs, warnings) = ndb::header_blobs(bytes, db_path)?;
    Ok(packages_from_blobs(blobs.into_iter(), warnings, db_path, &Limits::default()))
}

fn packages_from_blobs<'a>(
    blobs: impl Iterator<Item = &'a [u8]>,
    warnings: Vec<Warning>,
    db_path: &str,
    limits: &Limits,
) -> Parsed {
    let mut packages = Vec::new();
    let mut w = Warnings::from_parsed(db_path, warnings);
    let mut dropped = 0u64;
    for (i, blob) in blobs.enumerate() {
        if packages.len() >= limits.max_packages {
            // Counted without parsing: the header may be a package or a gpg-pubkey entry.
            dropped += 1;
            continue;
        }
        match package_from_header(blob, db_path) {
            Ok(Some(mut pkg)) => {
                limits.cap_files(&mut pkg.files, &pkg.name, &mut w);
                packages.push(pkg);
            }
            Ok(None) => {}
            Err(e) => w.push(|| format!("header #{}: {e}", i + 1)),
        }
    }
    if dropped > 0 {
        w.limit(package_limit(limits.max_packages, db_path, dropped));
    }
    sort_packages(&mut packages);
    (packages, w.finish())
}

/// Splits `SOURCERPM` (`openssl-1.1.1k-15.cm2.src.rpm`) into name and `version-release`.
pub fn split_source_rpm(source_rpm: &str) -> Option<(String, String)> {
    let stem = source_rpm.strip_suffix(".src.rpm").or_else(|| source_rpm.strip_suffix(".nosrc.rpm"))?;
    let (rest, release) = stem.rsplit_once('-')?;
    let (name, version) = rest.rsplit_once('-')?;
    if name.is_empty() || version.is_empty() || release.is_empty() {
        return None;
    }
    Some((name.to_owned(), format!("{version}-{release}")))
}

/// Turns one header blob into a package; `Ok(None)` for `gpg-pubkey` pseudo-packages.
pub fn package_from_header(blob: &[u8], db_path: &str) -> std::result::Result<Option<Package>, String> {
    let h = Header::parse(blob)?;
    let name = h.string(TAG_NAME).filter(|n| !n.is_empty()).ok_or("no NAME")?;
    if name == "gpg-pubkey" {
        return Ok(None);
    }
    let version = h.string(TAG_VERSION).filter(|v| !v.is_empty()).ok_or_else(|| format!("{name}: no VERSION"))?;
    let release = h.string(TAG_RELEASE).filter(|r| !r.is_empty());
    let epoch = h.u32(TAG_EPOCH);
    let mut evr = String::new();
    if let Some(e) = epoch {
        evr.push_str(&format!("{e}:"));
    }
    evr.push_str(&version);
    if let Some(r) = &release {
        evr.push('-');
        evr.push_str(r);
    }
    let mut pkg = Package::new(PackageKind::Rpm, name.clone(), evr, db_path);
    pkg.epoch = epoch;
    pkg.release = release;
    pkg.arch = h.string(TAG_ARCH).filter(|a| !a.is_empty());
    pkg.vendor = h.string(TAG_VENDOR).filter(|v| !v.is_empty());
    pkg.license = h.string(TAG_LICENSE).filter(|l| !l.is_empty());
    if let Some((src_name, src_version)) = h.string(TAG_SOURCERPM).as_deref().and_then(split_source_rpm) {
        pkg.source_name = Some(src_name);
        pkg.source_version = Some(src_version);
    }
    pkg.files = h.file_names().map_err(|e| format!("{name}: {e}"))?;
    pkg.normalise_files();
    Ok(Some(pkg))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn source_rpm_names() {
        assert_eq!(split_source_rpm("openssl-1.1.1k-15.cm2.src.rpm"), Some(("openssl".into(), "1.1.1k-15.cm2".into())));
        assert_eq!(
            split_source_rpm("python3-pip-21.2.3-7.el9.src.rpm"),
            Some(("python3-pip".into(), "21.2.3-7.el9".into()))
        );
        assert_eq!(split_source_rpm("(none)"), None);
        assert_eq!(split_source_rpm("-1.src.rpm"), None);
    }
}

#[cfg(test)]
mod backend_tests {
    use super::header::{build, s as string};
    use super::*;

    fn fixture_bdb() -> Vec<u8> {
        let path = crate::shared_dir().join("fixtures/os-pkgdb/syft/pkg/cataloger/redhat/testdata/Packages");
        std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
    }

    fn sqlite_db(blobs: &[Vec<u8>]) -> Vec<u8> {
        // The schema rpm's sqlite backend creates (lib/backend/sqlite.c, `sqlite_init`), in
        // WAL mode as rpm sets it.
        let conn = rusqlite::Connection::open_in_memory().unwrap();
        conn.execute_batch("CREATE TABLE Packages (hnum INTEGER PRIMARY KEY AUTOINCREMENT, blob BLOB NOT NULL)")
            .unwrap();
        for b in blobs {
            conn.execute("INSERT INTO Packages (blob) VALUES (?1)", [b]).unwrap();
        }
        let mut bytes = conn.serialize(rusqlite::MAIN_DB).unwrap().to_vec();
        bytes[18] = 2;
        bytes[19] = 2;
        bytes
    }

    /// The same real header, read from all three backends, gives the same package.
    #[test]
    fn three_backends_agree_on_the_fixture_header() {
        let bdb = fixture_bdb();
        let (blobs, warnings) = bdb::header_blobs(&bdb, "Packages").unwrap();
        assert!(warnings.is_empty(), "{warnings:?}");
        assert_eq!(blobs.len(), 1);
        let (from_bdb, w1) = parse_rpmdb(&bdb, "/var/lib/rpm/Packages").unwrap();
        let (from_ndb, w2) = parse_rpmdb(&ndb::build(&blobs), "/var/lib/rpm/Packages").unwrap();
        let (from_sqlite, w3) = parse_rpmdb(&sqlite_db(&blobs), "/var/lib/rpm/Packages").unwrap();
        assert!(w1.is_empty() && w2.is_empty() && w3.is_empty(), "{w1:?} {w2:?} {w3:?}");
        assert_eq!(from_bdb, from_ndb);
        assert_eq!(from_bdb, from_sqlite);
        assert_eq!(sniff(&ndb::build(&blobs)), Some(DbFormat::Ndb));
    }

    #[test]
    fn many_synthetic_headers_through_each_backend() {
        let blobs: Vec<Vec<u8>> = (0..300)
            .map(|i| {
                let (s, name) = string(&format!("pkg{i}"));
                let (_, ver) = string("1.0");
                let (_, rel) = string(&format!("{i}.el9"));
                let (_, arch) = string("x86_64");
                let (_, src) = string(&format!("pkg{i}-1.0-{i}.el9.src.rpm"));
                build(&[
                    (TAG_NAME, s, 1, name),
                    (TAG_VERSION, s, 1, ver),
                    (TAG_RELEASE, s, 1, rel),
                    (TAG_EPOCH, 4, 1, (i as u32 % 3).to_be_bytes().to_vec()),
                    (TAG_ARCH, s, 1, arch),
                    (TAG_SOURCERPM, s, 1, src),
                    (TAG_DIRINDEXES, 4, 2, [0u32.to_be_bytes(), 1u32.to_be_bytes()].concat()),
                    (TAG_BASENAMES, 8, 2, b"a\0b\0".to_vec()),
                    (TAG_DIRNAMES, 8, 2, b"/usr/bin/\0/etc/\0".to_vec()),
                ])
            })
            .collect();
        for db in [ndb::build(&blobs), sqlite_db(&blobs)] {
            let (pkgs, w) = parse_rpmdb(&db, "/db").unwrap();
            assert!(w.is_empty(), "{w:?}");
            assert_eq!(pkgs.len(), 300);
            let p = pkgs.iter().find(|p| p.name == "pkg7").unwrap();
            assert_eq!(p.version, "1:1.0-7.el9");
            assert_eq!(p.epoch, Some(1));
            assert_eq!(p.source_name.as_deref(), Some("pkg7"));
            assert_eq!(p.source_version.as_deref(), Some("1.0-7.el9"));
            assert_eq!(p.files, vec!["/etc/b", "/usr/bin/a"]);
        }
    }

    /// Deterministic byte flips and truncations of the real Berkeley DB file: errors and
    /// warnings only, never a panic, never more output than input.
    #[test]
    fn mangled_bdb_never_panics() {
        let bdb = fixture_bdb();
        let mut seed = 0x9e37_79b9_7f4a_7c15u64;
        let mut next = || {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed
        };
        for _ in 0..3000 {
            let mut m = bdb.clone();
            for _ in 0..(next() % 8 + 1) {
                let at = (next() as usize) % m.len();
                m[at] = next() as u8;
            }
            if let Ok((pkgs, _)) = parse_rpmdb(&m, "/db") {
                assert!(pkgs.len() <= 1);
            }
        }
        for cut in 0..bdb.len() {
            let _ = parse_rpmdb(&bdb[..cut], "/db");
        }
    }

    /// Byte flips in an SQLite rpmdb and in an NDB file: errors or warnings, never a panic.
    #[test]
    fn mangled_sqlite_and_ndb_never_panic() {
        let (blobs, _) = bdb::header_blobs(&fixture_bdb(), "Packages").unwrap();
        let blobs: Vec<Vec<u8>> = std::iter::repeat_n(blobs[0].clone(), 20).collect();
        let mut seed = 0x2545_f491_4f6c_dd1du64;
        let mut next = || {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed
        };
        for db in [sqlite_db(&blobs), ndb::build(&blobs)] {
            for _ in 0..300 {
                let mut m = db.clone();
                for _ in 0..(next() % 16 + 1) {
                    let at = (next() as usize) % m.len();
                    m[at] = next() as u8;
                }
                if let Ok((pkgs, _)) = parse_rpmdb(&m, "/db") {
                    assert!(pkgs.len() <= 20);
                }
            }
        }
    }

    #[test]
    fn garbage_is_an_error() {
        let bad =
            std::fs::read(crate::shared_dir().join("fixtures/os-pkgdb/syft/pkg/cataloger/redhat/testdata/bad/bad.rpm"))
                .unwrap();
        assert!(parse_rpmdb(&bad, "/bad").is_err());
        assert!(parse_rpmdb(b"bogus", "/bogus").is_err());
        assert!(
            parse_rpmdb_sqlite(
                b"SQLite format 3\0 but not really a database at all, just text padding it out to 100 bytes ok",
                "/x"
            )
            .is_err()
        );
        // A real SQLite file that is not an rpmdb.
        let conn = rusqlite::Connection::open_in_memory().unwrap();
        conn.execute_batch("CREATE VIEW Packages AS SELECT 1 AS blob").unwrap();
        let bytes = conn.serialize(rusqlite::MAIN_DB).unwrap().to_vec();
        let err = parse_rpmdb_sqlite(&bytes, "/v").unwrap_err().to_string();
        assert!(err.contains("view"), "{err}");
    }
}

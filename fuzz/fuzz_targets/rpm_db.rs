//! rpm: `parse_rpmdb` (sniffs SQLite, Berkeley DB hash, NDB), each backend directly, and
//! `package_from_header` on the raw bytes as one header blob. Must never panic, hang or
//! blow up memory; the sniffing entry point must agree with the backend it picked.

#![no_main]

use bulwark_catalog::PackageKind;
use bulwark_catalog::rpm::{self, DbFormat};
use libfuzzer_sys::fuzz_target;

#[path = "catalog_common.rs"]
mod common;

const DB: &str = "/var/lib/rpm/Packages";

fuzz_target!(|data: &[u8]| {
    let sniffed = rpm::parse_rpmdb(data, DB);
    // Tiny limits: within them, and anything cut is said in a limit warning.
    let limits = bulwark_catalog::Limits { max_packages: 1, max_files: 1 };
    if let (Ok((few, warnings)), Ok((all, _))) = (rpm::parse_rpmdb_with(data, DB, &limits), &sniffed) {
        assert!(few.len() <= 1 && few.iter().all(|p| p.files.len() <= 1));
        if all.iter().any(|p| p.files.len() > 1) || all.len() > 1 {
            assert!(warnings.iter().any(|w| w.kind == bulwark_catalog::WarningKind::Limit), "{warnings:?}");
        }
    }
    let direct = [
        (DbFormat::Sqlite, rpm::parse_rpmdb_sqlite(data, DB)),
        (DbFormat::BerkeleyDb, rpm::parse_rpmdb_bdb(data, DB)),
        (DbFormat::Ndb, rpm::parse_rpmdb_ndb(data, DB)),
    ];
    for (format, result) in &direct {
        if let Ok((packages, _)) = result {
            common::check_packages(packages, PackageKind::Rpm, DB);
            // Each header is at least an 8-byte preamble and one 16-byte index entry, and
            // no backend may hand out more header bytes than the file holds.
            assert!(
                packages.len() <= data.len() / 24,
                "{format:?}: {} packages from {} bytes",
                packages.len(),
                data.len()
            );
        }
    }
    match rpm::sniff(data) {
        Some(format) => {
            let (_, same) = direct.iter().find(|(f, _)| *f == format).expect("all formats tried");
            match (&sniffed, same) {
                (Ok(a), Ok(b)) => assert_eq!(a, b, "parse_rpmdb disagrees with the {format:?} backend"),
                (Err(_), Err(_)) => {}
                _ => panic!("parse_rpmdb and the {format:?} backend disagree on success"),
            }
        }
        None => assert!(sniffed.is_err()),
    }
    if let Ok(Some(p)) = rpm::package_from_header(data, DB) {
        common::check_packages(std::slice::from_ref(&p), PackageKind::Rpm, DB);
        assert_ne!(p.name, "gpg-pubkey");
    }
    // Every header is stored once in the file: more header bytes than file bytes means
    // records sharing storage (loops, shared overflow chains), a memory amplifier.
    let total = |blobs: &mut dyn Iterator<Item = usize>| blobs.sum::<usize>();
    if let Ok((blobs, _)) = rpm::sqlite_header_blobs(data, DB) {
        assert!(total(&mut blobs.iter().map(Vec::len)) <= data.len(), "sqlite: more header bytes than file bytes");
    }
    if let Ok((blobs, _)) = rpm::bdb_header_blobs(data, DB) {
        assert!(total(&mut blobs.iter().map(Vec::len)) <= data.len(), "bdb: more header bytes than file bytes");
    }
    if let Ok((blobs, _)) = rpm::ndb_header_blobs(data, DB) {
        assert!(total(&mut blobs.iter().map(|b| b.len())) <= data.len(), "ndb: more header bytes than file bytes");
    }
});

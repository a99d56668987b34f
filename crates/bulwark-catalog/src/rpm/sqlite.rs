//! `rpmdb.sqlite`: rpm ≥ 4.16 keeps each header blob in `Packages(hnum INTEGER PRIMARY KEY
//! AUTOINCREMENT, blob BLOB NOT NULL)` (rpm's `lib/backend/sqlite.c`). The other tables are
//! indexes rpm can rebuild from the headers.
//!
//! The bytes are deserialised into SQLite's memory (`sqlite3_deserialize`): nothing touches
//! the disk. The database comes from an untrusted image, so before reading it the schema
//! is checked (`Packages` must be a plain table whose `blob` column is stored, not computed),
//! `trusted_schema` is off, cell sizes are checked, and values are capped at rpm's own
//! header size limit.

use std::io::Read;

use rusqlite::limits::Limit;
use rusqlite::{Connection, MAIN_DB, OpenFlags};

use crate::{Error, Result, Warning};

/// rpm's header data limit (256 MiB) plus the index: no legitimate blob is larger.
const MAX_BLOB: i32 = 0x1000_0000 + 0x10_0000;

pub fn header_blobs(bytes: &[u8], db_path: &str) -> Result<(Vec<Vec<u8>>, Vec<Warning>)> {
    let err = |e: rusqlite::Error| Error::Sqlite { path: db_path.to_owned(), message: e.to_string() };
    if bytes.len() < 100 || !bytes.starts_with(b"SQLite format 3\0") {
        return Err(Error::NotADatabase {
            format: "SQLite",
            path: db_path.to_owned(),
            reason: "no SQLite header".to_owned(),
        });
    }
    // rpm opens its database in WAL mode, which in-memory databases cannot use: bytes 18
    // and 19 (file format read/write versions) say 2 for WAL; 1 is the rollback journal
    // the in-memory VFS understands. Only committed pages in the main file are read; a
    // `-wal` file beside it in the image is not consulted.
    let mut head = [0u8; 100];
    head.copy_from_slice(&bytes[..100]);
    for b in &mut head[18..20] {
        if *b == 2 {
            *b = 1;
        }
    }
    let mut conn =
        Connection::open_in_memory_with_flags(OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX)
            .map_err(err)?;
    conn.deserialize_read_exact(MAIN_DB, (&head[..]).chain(&bytes[100..]), bytes.len(), true).map_err(err)?;
    // SQLite stores blobs verbatim, so in an intact database no value is larger than the
    // file, and neither are all of them together. Corrupt cells can share one overflow
    // chain, and then a small file yields the same large blob over and over (a 460 KiB
    // file gave 400 MB): each value is capped at the file size, the sum too (below).
    let max_value = i32::try_from(bytes.len()).map_or(MAX_BLOB, |n| n.min(MAX_BLOB));
    conn.set_limit(Limit::SQLITE_LIMIT_LENGTH, max_value).map_err(err)?;
    conn.execute_batch("PRAGMA trusted_schema = OFF; PRAGMA cell_size_check = ON; PRAGMA query_only = ON;")
        .map_err(err)?;

    let kind: Option<String> = conn
        .query_row("SELECT type FROM sqlite_master WHERE name = 'Packages'", [], |r| r.get(0))
        .map(Some)
        .or_else(|e| if matches!(e, rusqlite::Error::QueryReturnedNoRows) { Ok(None) } else { Err(e) })
        .map_err(err)?;
    match kind.as_deref() {
        Some("table") => {}
        Some(other) => {
            return Err(Error::NotADatabase {
                format: "rpm sqlite",
                path: db_path.to_owned(),
                reason: format!("Packages is a {other}, not a table"),
            });
        }
        None => {
            return Err(Error::NotADatabase {
                format: "rpm sqlite",
                path: db_path.to_owned(),
                reason: "no Packages table".to_owned(),
            });
        }
    }
    // table_xinfo's `hidden` column is 2 or 3 for generated (computed) columns.
    let generated: i64 = conn
        .query_row(
            "SELECT count(*) FROM pragma_table_xinfo('Packages') WHERE name = 'blob' AND hidden IN (2, 3)",
            [],
            |r| r.get(0),
        )
        .map_err(err)?;
    if generated > 0 {
        return Err(Error::NotADatabase {
            format: "rpm sqlite",
            path: db_path.to_owned(),
            reason: "Packages.blob is a generated column".to_owned(),
        });
    }

    let mut warnings = Vec::new();
    let mut blobs = Vec::new();
    let mut extracted = 0usize;
    let mut stmt = conn.prepare("SELECT hnum, blob FROM Packages ORDER BY hnum").map_err(err)?;
    let mut rows = stmt.query([]).map_err(err)?;
    loop {
        match rows.next() {
            Ok(Some(row)) => match row.get::<_, Vec<u8>>(1) {
                Ok(blob) => {
                    extracted = extracted.saturating_add(blob.len());
                    if extracted > bytes.len() {
                        warnings.push(Warning::package(db_path, "values add up to more than the file size; stopped"));
                        break;
                    }
                    blobs.push(blob);
                }
                Err(e) => {
                    let hnum: i64 = row.get(0).unwrap_or(-1);
                    warnings.push(Warning::package(db_path, format!("Packages row {hnum}: {e}")));
                }
            },
            Ok(None) => break,
            Err(e) => {
                // A corrupt page ends the scan; what was read so far is kept.
                warnings.push(Warning::package(db_path, format!("reading Packages stopped: {e}")));
                break;
            }
        }
    }
    Ok((blobs, warnings))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn varint(b: &[u8], mut i: usize) -> (usize, usize) {
        let mut v = 0usize;
        for k in 0..9 {
            let x = b[i];
            i += 1;
            if k == 8 {
                return ((v << 8) | usize::from(x), i);
            }
            v = (v << 7) | usize::from(x & 0x7f);
            if x < 0x80 {
                break;
            }
        }
        (v, i)
    }

    fn put_varint(mut v: usize) -> Vec<u8> {
        let mut out = vec![(v & 0x7f) as u8];
        v >>= 7;
        while v > 0 {
            out.push(0x80 | (v & 0x7f) as u8);
            v >>= 7;
        }
        out.reverse();
        out
    }

    /// 500 rows whose cells all point at the overflow chain of one 100 KB blob: SQLite
    /// returns 50 MB from a file of about 160 KB unless the reader stops at the file size.
    #[test]
    fn cells_sharing_an_overflow_chain_stop_at_the_file_size() {
        // Table leaf cell layout (fileformat2.html, "B-tree Pages"), 512-byte pages.
        const U: usize = 512;
        let (max_local, min_local) = (U - 35, (U - 12) * 32 / 255 - 23);
        let local_of = |p: usize| match min_local + (p - min_local) % (U - 4) {
            _ if p <= max_local => p,
            k if k <= max_local => k,
            _ => min_local,
        };
        let conn = Connection::open_in_memory().unwrap();
        conn.execute_batch(
            "PRAGMA page_size = 512; CREATE TABLE Packages (hnum INTEGER PRIMARY KEY AUTOINCREMENT, blob BLOB NOT NULL)",
        )
        .unwrap();
        for _ in 0..500 {
            conn.execute("INSERT INTO Packages (blob) VALUES (?1)", [vec![b'B'; 100]]).unwrap();
        }
        // Record header of the big row: size, NULL hnum, 3-byte blob serial type.
        let mut big = 100_000;
        while local_of(big + 5) != min_local {
            big += 1;
        }
        conn.execute("INSERT INTO Packages (blob) VALUES (?1)", [vec![b'A'; big]]).unwrap();
        let mut db = conn.serialize(MAIN_DB).unwrap().to_vec();
        assert_eq!(header_blobs(&db, "/db").unwrap().0.len(), 501);

        let mut cells = Vec::new();
        for page in 0..db.len() / U {
            let hdr = page * U + if page == 0 { 100 } else { 0 };
            if db[hdr] != 0x0d {
                continue;
            }
            for c in 0..usize::from(u16::from_be_bytes([db[hdr + 3], db[hdr + 4]])) {
                let at = hdr + 8 + 2 * c;
                let off = page * U + usize::from(u16::from_be_bytes([db[at], db[at + 1]]));
                let (payload, i) = varint(&db, off);
                let (rowid, j) = varint(&db, i);
                cells.push((off, payload, rowid, j));
            }
        }
        let &(_, big_payload, _, bj) = cells.iter().find(|c| c.1 == big + 5).unwrap();
        let local_and_first_overflow = db[bj..bj + min_local + 4].to_vec();
        let mut redirected = 0;
        for &(off, payload, rowid, j) in &cells {
            if payload != 104 || db[j + 4..j + 8] != *b"BBBB" {
                continue;
            }
            let mut cell = put_varint(big_payload);
            cell.extend(put_varint(rowid));
            cell.extend(&local_and_first_overflow);
            assert!(cell.len() <= j - off + payload);
            db[off..off + cell.len()].copy_from_slice(&cell);
            redirected += 1;
        }
        assert_eq!(redirected, 500);

        let (blobs, warnings) = header_blobs(&db, "/db").unwrap();
        let total: usize = blobs.iter().map(Vec::len).sum();
        assert!(total <= db.len(), "{total} bytes of blobs from a {} byte file", db.len());
        assert!(
            warnings.iter().any(|w| w.path.as_deref() == Some("/db") && w.message.contains("more than the file size")),
            "{warnings:?}"
        );
    }
}

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

use crate::{Error, Result};

/// rpm's header data limit (256 MiB) plus the index: no legitimate blob is larger.
const MAX_BLOB: i32 = 0x1000_0000 + 0x10_0000;

pub fn header_blobs(bytes: &[u8], db_path: &str) -> Result<(Vec<Vec<u8>>, Vec<String>)> {
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
    conn.set_limit(Limit::SQLITE_LIMIT_LENGTH, MAX_BLOB).map_err(err)?;
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
    let mut stmt = conn.prepare("SELECT hnum, blob FROM Packages ORDER BY hnum").map_err(err)?;
    let mut rows = stmt.query([]).map_err(err)?;
    loop {
        match rows.next() {
            Ok(Some(row)) => match row.get::<_, Vec<u8>>(1) {
                Ok(blob) => blobs.push(blob),
                Err(e) => {
                    let hnum: i64 = row.get(0).unwrap_or(-1);
                    warnings.push(format!("{db_path}: Packages row {hnum}: {e}"));
                }
            },
            Ok(None) => break,
            Err(e) => {
                // A corrupt page ends the scan; what was read so far is kept.
                warnings.push(format!("{db_path}: reading Packages stopped: {e}"));
                break;
            }
        }
    }
    Ok((blobs, warnings))
}

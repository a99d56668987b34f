//! Berkeley DB hash databases, as rpm ≤ 4.15 wrote `/var/lib/rpm/Packages`: only what is
//! needed to get the values (rpm header blobs) out. Layout from Berkeley DB's `dbinc/db_page.h`:
//!
//! - page 0 is the hash metadata page: magic `0x061561` at 12, version at 16, page size at
//!   20, encryption algorithm at 24, page type at 25 (8 = hash meta), last page number at 32;
//! - hash pages (type 13) have a 26-byte header (`next_pgno` at 16, `entries` u16 at 20,
//!   `hf_offset` u16 at 22, type at 25) followed by `entries` u16 item offsets; items come
//!   in key/value pairs, and each item starts with its type byte: 1 = inline data,
//!   3 = off-page (`pgno` u32 at +4, total length u32 at +8);
//! - overflow pages (type 7) carry `hf_offset` bytes of the value after their header and
//!   chain through `next_pgno`.
//!
//! Integers are in the byte order of the machine that wrote the file; the magic tells which.
//! Every page number, offset and length is checked against the file, chains are bounded by
//! the page count, and the total extracted is bounded by the file size.

use crate::{Error, Result, Warning};

const HASH_MAGIC: u32 = 0x0006_1561;
const BTREE_MAGIC: u32 = 0x0005_3162;
const P_HASHMETA: u8 = 8;
const P_HASH: u8 = 13;
const P_OVERFLOW: u8 = 7;
const H_KEYDATA: u8 = 1;
const H_OFFPAGE: u8 = 3;
const PAGE_HEADER: usize = 26;

#[derive(Clone, Copy)]
struct Endian {
    big: bool,
}

impl Endian {
    fn u32(self, b: &[u8], at: usize) -> Option<u32> {
        let s: [u8; 4] = b.get(at..at + 4)?.try_into().ok()?;
        Some(if self.big { u32::from_be_bytes(s) } else { u32::from_le_bytes(s) })
    }
    fn u16(self, b: &[u8], at: usize) -> Option<u16> {
        let s: [u8; 2] = b.get(at..at + 2)?.try_into().ok()?;
        Some(if self.big { u16::from_be_bytes(s) } else { u16::from_le_bytes(s) })
    }
}

fn endian_of(bytes: &[u8], magic: u32) -> Option<Endian> {
    let s: [u8; 4] = bytes.get(12..16)?.try_into().ok()?;
    if u32::from_le_bytes(s) == magic {
        Some(Endian { big: false })
    } else if u32::from_be_bytes(s) == magic {
        Some(Endian { big: true })
    } else {
        None
    }
}

pub(crate) fn is_hash_db(bytes: &[u8]) -> bool {
    endian_of(bytes, HASH_MAGIC).is_some()
}

/// Extracts every value (rpm header blob) from a Berkeley DB hash file.
pub fn header_blobs(bytes: &[u8], db_path: &str) -> Result<(Vec<Vec<u8>>, Vec<Warning>)> {
    let not = |reason: String| Error::NotADatabase { format: "Berkeley DB hash", path: db_path.to_owned(), reason };
    if bytes.len() < 512 {
        return Err(not(format!("{} bytes is shorter than a metadata page", bytes.len())));
    }
    let Some(e) = endian_of(bytes, HASH_MAGIC) else {
        if endian_of(bytes, BTREE_MAGIC).is_some() {
            return Err(not("a btree database, rpm's Packages is a hash".to_owned()));
        }
        return Err(not("bad magic".to_owned()));
    };
    let page_size = e.u32(bytes, 20).unwrap_or(0) as usize;
    if !(512..=65536).contains(&page_size) || !page_size.is_power_of_two() {
        return Err(not(format!("page size {page_size} is not a power of two in 512..=65536")));
    }
    if bytes[24] != 0 {
        return Err(not("encrypted".to_owned()));
    }
    if bytes[25] != P_HASHMETA {
        return Err(not(format!("page 0 has type {}, not hash metadata", bytes[25])));
    }
    let mut warnings = Vec::new();
    let last_pgno = e.u32(bytes, 32).unwrap_or(0) as usize;
    let available = bytes.len() / page_size;
    let pages = if last_pgno.saturating_add(1) > available {
        warnings.push(Warning::package(
            db_path,
            format!("truncated: metadata says {} pages, the file holds {available}", last_pgno.saturating_add(1)),
        ));
        available
    } else {
        last_pgno + 1
    };
    let page = |n: usize| -> Option<&[u8]> { bytes.get(n.checked_mul(page_size)?..(n + 1).checked_mul(page_size)?) };

    // Every value is stored once in the file, so more output than input means a loop or
    // pages shared between values: stop there.
    let budget = bytes.len();
    let mut extracted = 0usize;
    let mut blobs = Vec::new();
    'pages: for pgno in 1..pages {
        let Some(p) = page(pgno) else { break };
        if p[25] != P_HASH {
            continue;
        }
        let entries = e.u16(p, 20).unwrap_or(0) as usize;
        if PAGE_HEADER + entries * 2 > page_size {
            warnings.push(Warning::package(db_path, format!("page {pgno}: {entries} entries do not fit the page")));
            continue;
        }
        let offsets: Vec<usize> = (0..entries).filter_map(|i| e.u16(p, PAGE_HEADER + i * 2)).map(usize::from).collect();
        // Items are key/value pairs: values sit at odd indexes.
        for i in (1..entries).step_by(2) {
            let off = offsets[i];
            if off < PAGE_HEADER + entries * 2 || off >= page_size {
                warnings
                    .push(Warning::package(db_path, format!("page {pgno}: item {i} offset {off} outside the page")));
                continue;
            }
            let value = match p[off] {
                H_OFFPAGE => {
                    let (Some(start), Some(len)) = (e.u32(p, off + 4), e.u32(p, off + 8)) else {
                        warnings.push(Warning::package(db_path, format!("page {pgno}: truncated off-page item {i}")));
                        continue;
                    };
                    match read_overflow(bytes, page_size, pages, e, start as usize, len as usize) {
                        Ok(v) => v,
                        Err(msg) => {
                            warnings.push(Warning::package(db_path, format!("page {pgno}: item {i}: {msg}")));
                            continue;
                        }
                    }
                }
                H_KEYDATA => {
                    // An inline item runs up to the next item above it (items are packed
                    // from the end of the page downwards) or the end of the page.
                    let end = offsets.iter().copied().filter(|&o| o > off && o <= page_size).min().unwrap_or(page_size);
                    p[off + 1..end].to_vec()
                }
                other => {
                    warnings
                        .push(Warning::package(db_path, format!("page {pgno}: item {i} has unsupported type {other}")));
                    continue;
                }
            };
            extracted = extracted.saturating_add(value.len());
            if extracted > budget {
                warnings.push(Warning::package(db_path, "values add up to more than the file size; stopped"));
                break 'pages;
            }
            // rpm keeps small bookkeeping records (a 4-byte next-instance counter) beside the
            // headers; no header is shorter than its 8-byte preamble plus one index entry.
            if value.len() >= 24 {
                blobs.push(value);
            }
        }
    }
    Ok((blobs, warnings))
}

fn read_overflow(
    bytes: &[u8],
    page_size: usize,
    pages: usize,
    e: Endian,
    mut pgno: usize,
    total: usize,
) -> std::result::Result<Vec<u8>, String> {
    if total > bytes.len() {
        return Err(format!("value length {total} exceeds the file size"));
    }
    let mut out = Vec::with_capacity(total);
    let mut hops = 0usize;
    while pgno != 0 {
        hops += 1;
        if hops > pages || pgno >= pages {
            return Err(format!("overflow chain broken at page {pgno}"));
        }
        let p = &bytes[pgno * page_size..(pgno + 1) * page_size];
        if p[25] != P_OVERFLOW {
            return Err(format!("page {pgno} in an overflow chain has type {}", p[25]));
        }
        let used = e.u16(p, 22).unwrap_or(0) as usize;
        let data =
            p.get(PAGE_HEADER..PAGE_HEADER + used).ok_or_else(|| format!("page {pgno}: {used} bytes do not fit"))?;
        out.extend_from_slice(data);
        if out.len() > total {
            return Err(format!("overflow chain longer than the declared {total} bytes"));
        }
        pgno = e.u32(p, 16).unwrap_or(0) as usize;
    }
    if out.len() != total {
        return Err(format!("overflow chain has {} bytes, {total} declared", out.len()));
    }
    Ok(out)
}

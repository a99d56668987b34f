//! NDB `Packages.db`, rpm's own package store (SUSE since 2021). Layout from rpm's
//! `lib/backend/ndb/rpmpkg.c`, all integers little-endian:
//!
//! - a 32-byte header: magic `RpmP`, version 0, generation, number of 4 KiB slot pages;
//! - slot pages: 16-byte slots after the header (magic `Slot`, package index, block
//!   offset, block count; offset 0 = free slot), blocks being 16 bytes;
//! - at each slot's block offset, a blob: 16-byte head (magic `BlbS`, package index,
//!   timestamp, length), the header blob, zero padding, and a 12-byte tail (Adler-32 of
//!   head + blob + padding, length, magic `BlbE`).
//!
//! rpm itself rejects the whole database on one bad slot; here a bad slot or blob is a
//! warning and the other packages are still read.

use crate::{Error, Result, Warning};

const DB_MAGIC: u32 = u32::from_le_bytes(*b"RpmP");
const SLOT_MAGIC: u32 = u32::from_le_bytes(*b"Slot");
const BLOB_HEAD_MAGIC: u32 = u32::from_le_bytes(*b"BlbS");
const BLOB_TAIL_MAGIC: u32 = u32::from_le_bytes(*b"BlbE");
const HEADER_SIZE: usize = 32;
const PAGE_SIZE: usize = 4096;
const SLOT_SIZE: usize = 16;
const BLK_SIZE: usize = 16;
const BLOB_HEAD: usize = 16;
const BLOB_TAIL: usize = 12;

fn le32(b: &[u8], at: usize) -> Option<u32> {
    Some(u32::from_le_bytes(b.get(at..at + 4)?.try_into().ok()?))
}

/// Adler-32 (RFC 1950), as rpm checks blobs with it.
pub(crate) fn adler32(data: &[u8]) -> u32 {
    const MOD: u32 = 65521;
    let (mut a, mut b) = (1u32, 0u32);
    for chunk in data.chunks(5552) {
        for &x in chunk {
            a += u32::from(x);
            b += a;
        }
        a %= MOD;
        b %= MOD;
    }
    (b << 16) | a
}

/// Extracts the header blobs from an NDB `Packages.db`, in block order.
pub fn header_blobs<'a>(bytes: &'a [u8], db_path: &str) -> Result<(Vec<&'a [u8]>, Vec<Warning>)> {
    let not = |reason: String| Error::NotADatabase { format: "NDB", path: db_path.to_owned(), reason };
    if bytes.len() < HEADER_SIZE || le32(bytes, 0) != Some(DB_MAGIC) {
        return Err(not("no RpmP magic".to_owned()));
    }
    let version = le32(bytes, 4).unwrap_or(u32::MAX);
    if version != 0 {
        return Err(not(format!("unsupported version {version}")));
    }
    let mut warnings = Vec::new();
    let slot_pages = le32(bytes, 12).unwrap_or(0) as usize;
    let slot_end = match slot_pages.checked_mul(PAGE_SIZE) {
        Some(end) if end <= bytes.len() => end,
        _ => {
            warnings.push(Warning::package(db_path, format!("truncated: {slot_pages} slot pages do not fit the file")));
            bytes.len() - bytes.len() % SLOT_SIZE
        }
    };
    let mut slots = Vec::new();
    for at in (HEADER_SIZE..slot_end).step_by(SLOT_SIZE) {
        let (Some(magic), Some(pkgidx), Some(blkoff), Some(blkcnt)) =
            (le32(bytes, at), le32(bytes, at + 4), le32(bytes, at + 8), le32(bytes, at + 12))
        else {
            break;
        };
        if magic != SLOT_MAGIC {
            warnings.push(Warning::package(db_path, format!("slot at byte {at} has a bad magic; slot scan stopped")));
            break;
        }
        if blkoff == 0 {
            continue;
        }
        slots.push((pkgidx, blkoff as usize, blkcnt as usize));
    }
    slots.sort_by_key(|s| s.1);

    let mut blobs = Vec::with_capacity(slots.len());
    // Like rpm (`rpmpkgReadSlots`), blobs must not overlap: slots pointing into a blob
    // already read would hand out the same header again and again (every slot of a few
    // MiB of slot pages naming one large blob means gigabytes of checksumming and headers).
    let mut read_up_to = 0usize;
    for (pkgidx, blkoff, blkcnt) in slots {
        if blkoff < read_up_to {
            warnings.push(Warning::package(
                db_path,
                format!("package index {pkgidx}: blocks overlap the blob before them, skipped"),
            ));
            continue;
        }
        match read_blob(bytes, pkgidx, blkoff, blkcnt) {
            Ok(blob) => {
                blobs.push(blob);
                read_up_to = blkoff + blkcnt;
            }
            Err(msg) => warnings.push(Warning::package(db_path, format!("package index {pkgidx}: {msg}"))),
        }
    }
    Ok((blobs, warnings))
}

fn read_blob(bytes: &[u8], pkgidx: u32, blkoff: usize, blkcnt: usize) -> std::result::Result<&[u8], String> {
    let start = blkoff.checked_mul(BLK_SIZE).ok_or("block offset overflows")?;
    let len = blkcnt.checked_mul(BLK_SIZE).ok_or("block count overflows")?;
    let region = start
        .checked_add(len)
        .and_then(|end| bytes.get(start..end))
        .ok_or_else(|| format!("blocks {blkoff}+{blkcnt} lie outside the file"))?;
    if len < BLOB_HEAD + BLOB_TAIL {
        return Err(format!("{blkcnt} blocks cannot hold a blob"));
    }
    if le32(region, 0) != Some(BLOB_HEAD_MAGIC) {
        return Err("bad blob head magic".to_owned());
    }
    if le32(region, 4) != Some(pkgidx) {
        return Err("blob belongs to another package index".to_owned());
    }
    let blob_len = le32(region, 12).unwrap_or(0) as usize;
    if (BLOB_HEAD + blob_len + BLOB_TAIL).div_ceil(BLK_SIZE) != blkcnt {
        return Err(format!("blob length {blob_len} does not match {blkcnt} blocks"));
    }
    let tail = &region[len - BLOB_TAIL..];
    if le32(tail, 8) != Some(BLOB_TAIL_MAGIC) || le32(tail, 4) != Some(blob_len as u32) {
        return Err("bad blob tail".to_owned());
    }
    if le32(tail, 0) != Some(adler32(&region[..len - BLOB_TAIL])) {
        return Err("blob checksum mismatch".to_owned());
    }
    Ok(&region[BLOB_HEAD..BLOB_HEAD + blob_len])
}

/// Writes an NDB file holding these header blobs, following `rpmpkgWriteBlob` and
/// `rpmpkgWriteEmptySlotpage`: enough slot pages, blobs appended after them.
#[cfg(test)]
pub(crate) fn build(blobs: &[Vec<u8>]) -> Vec<u8> {
    let slot_pages = (HEADER_SIZE + blobs.len() * SLOT_SIZE).div_ceil(PAGE_SIZE);
    let mut out = vec![0u8; slot_pages * PAGE_SIZE];
    out[0..4].copy_from_slice(&DB_MAGIC.to_le_bytes());
    out[8..12].copy_from_slice(&1u32.to_le_bytes());
    out[12..16].copy_from_slice(&(slot_pages as u32).to_le_bytes());
    out[16..20].copy_from_slice(&(blobs.len() as u32 + 1).to_le_bytes());
    for at in (HEADER_SIZE..out.len()).step_by(SLOT_SIZE) {
        out[at..at + 4].copy_from_slice(&SLOT_MAGIC.to_le_bytes());
    }
    for (i, blob) in blobs.iter().enumerate() {
        let pkgidx = i as u32 + 1;
        let blkoff = out.len() / BLK_SIZE;
        let blkcnt = (BLOB_HEAD + blob.len() + BLOB_TAIL).div_ceil(BLK_SIZE);
        let mut region = Vec::new();
        region.extend_from_slice(&BLOB_HEAD_MAGIC.to_le_bytes());
        region.extend_from_slice(&pkgidx.to_le_bytes());
        region.extend_from_slice(&0u32.to_le_bytes());
        region.extend_from_slice(&(blob.len() as u32).to_le_bytes());
        region.extend_from_slice(blob);
        region.resize(blkcnt * BLK_SIZE - BLOB_TAIL, 0);
        let adl = adler32(&region);
        region.extend_from_slice(&adl.to_le_bytes());
        region.extend_from_slice(&(blob.len() as u32).to_le_bytes());
        region.extend_from_slice(&BLOB_TAIL_MAGIC.to_le_bytes());
        out.extend_from_slice(&region);
        let slot = HEADER_SIZE + i * SLOT_SIZE;
        out[slot + 4..slot + 8].copy_from_slice(&pkgidx.to_le_bytes());
        out[slot + 8..slot + 12].copy_from_slice(&(blkoff as u32).to_le_bytes());
        out[slot + 12..slot + 16].copy_from_slice(&(blkcnt as u32).to_le_bytes());
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn adler32_rfc1950_vector() {
        // The well-known check value: adler32("Wikipedia") = 0x11E60398.
        assert_eq!(adler32(b"Wikipedia"), 0x11E6_0398);
    }

    #[test]
    fn round_trip_and_damage() {
        let blobs = vec![vec![1u8; 40], vec![2u8; 100]];
        let db = build(&blobs);
        let (got, w) = header_blobs(&db, "/p").unwrap();
        assert!(w.is_empty(), "{w:?}");
        assert_eq!(got, vec![&blobs[0][..], &blobs[1][..]]);
        // Flip one byte of the second blob: its checksum fails, the first still reads.
        let mut bad = db.clone();
        let n = bad.len();
        bad[n - 20] ^= 0xff;
        let (got, w) = header_blobs(&bad, "/p").unwrap();
        assert_eq!(got.len(), 1);
        assert_eq!(w.len(), 1);
        // Truncation anywhere never panics.
        for cut in (0..db.len()).step_by(7) {
            let _ = header_blobs(&db[..cut], "/p");
        }
    }

    #[test]
    fn slots_sharing_a_blob_read_it_once() {
        let db = build(&[vec![1u8; 4000], vec![2u8; 40]]);
        // Every slot of the page names the first blob (same package index, offset, count).
        let mut bad = db.clone();
        let first: [u8; SLOT_SIZE] = bad[HEADER_SIZE..HEADER_SIZE + SLOT_SIZE].try_into().unwrap();
        for at in (HEADER_SIZE..PAGE_SIZE).step_by(SLOT_SIZE) {
            bad[at..at + SLOT_SIZE].copy_from_slice(&first);
        }
        let (got, w) = header_blobs(&bad, "/p").unwrap();
        assert_eq!(got, vec![&[1u8; 4000][..]]);
        assert_eq!(w.len(), PAGE_SIZE / SLOT_SIZE - 3, "{:?}", &w[..1]);
        assert!(w[0].message.contains("overlap"), "{w:?}");
    }
}

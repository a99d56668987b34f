//! The rpm header blob as stored in every rpmdb backend: no lead and no header magic, just
//! `il` (index entry count) and `dl` (data length) as big-endian u32, `il` 16-byte index
//! entries (tag, type, offset, count; big-endian), then `dl` bytes of data. See rpm's
//! `lib/header.c` (`headerImport`, `hdrchkTags`, `hdrchkData`).

/// rpm refuses headers with more index entries than this (`hdrchkTags`).
const MAX_TAGS: u32 = 0xffff;
/// rpm refuses headers with more data than this (`hdrchkData`: 256 MiB).
const MAX_DATA: u32 = 0x0fff_ffff;

pub(crate) const TAG_NAME: u32 = 1000;
pub(crate) const TAG_VERSION: u32 = 1001;
pub(crate) const TAG_RELEASE: u32 = 1002;
pub(crate) const TAG_EPOCH: u32 = 1003;
pub(crate) const TAG_VENDOR: u32 = 1011;
pub(crate) const TAG_LICENSE: u32 = 1014;
pub(crate) const TAG_ARCH: u32 = 1022;
pub(crate) const TAG_OLDFILENAMES: u32 = 1027;
pub(crate) const TAG_SOURCERPM: u32 = 1044;
pub(crate) const TAG_DIRINDEXES: u32 = 1116;
pub(crate) const TAG_BASENAMES: u32 = 1117;
pub(crate) const TAG_DIRNAMES: u32 = 1118;

const TYPE_INT32: u32 = 4;
const TYPE_STRING: u32 = 6;
const TYPE_STRING_ARRAY: u32 = 8;
const TYPE_I18NSTRING: u32 = 9;

#[derive(Debug, Clone, Copy)]
struct Entry {
    tag: u32,
    ty: u32,
    offset: usize,
    count: usize,
}

/// A parsed header: the index and a borrowed data store. Every accessor bounds-checks
/// against the data store, so a lying index yields `None`, never a panic.
#[derive(Debug)]
pub struct Header<'a> {
    entries: Vec<Entry>,
    data: &'a [u8],
}

fn be32(b: &[u8], at: usize) -> Option<u32> {
    b.get(at..at + 4).map(|s| u32::from_be_bytes([s[0], s[1], s[2], s[3]]))
}

impl<'a> Header<'a> {
    /// Parses a header blob, checking the sizes rpm checks.
    pub fn parse(blob: &'a [u8]) -> Result<Self, String> {
        let il = be32(blob, 0).ok_or("header shorter than 8 bytes")?;
        let dl = be32(blob, 4).ok_or("header shorter than 8 bytes")?;
        if il == 0 || il > MAX_TAGS {
            return Err(format!("header index count {il} out of range"));
        }
        if dl > MAX_DATA {
            return Err(format!("header data length {dl} out of range"));
        }
        let index_end = 8 + il as usize * 16;
        let need = index_end + dl as usize;
        if blob.len() < need {
            return Err(format!("header claims {need} bytes but the blob has {}", blob.len()));
        }
        let data = &blob[index_end..need];
        let mut entries = Vec::with_capacity(il as usize);
        for i in 0..il as usize {
            let at = 8 + i * 16;
            let (Some(tag), Some(ty), Some(offset), Some(count)) =
                (be32(blob, at), be32(blob, at + 4), be32(blob, at + 8), be32(blob, at + 12))
            else {
                return Err("truncated header index".to_owned());
            };
            entries.push(Entry { tag, ty, offset: offset as usize, count: count as usize });
        }
        Ok(Header { entries, data })
    }

    fn entry(&self, tag: u32) -> Option<Entry> {
        self.entries.iter().find(|e| e.tag == tag).copied()
    }

    /// A string tag (`STRING`, or the first element of `STRING_ARRAY`/`I18NSTRING`).
    pub fn string(&self, tag: u32) -> Option<String> {
        let e = self.entry(tag)?;
        if !matches!(e.ty, TYPE_STRING | TYPE_STRING_ARRAY | TYPE_I18NSTRING) || e.count == 0 {
            return None;
        }
        let rest = self.data.get(e.offset..)?;
        let end = rest.iter().position(|&b| b == 0)?;
        Some(String::from_utf8_lossy(&rest[..end]).into_owned())
    }

    /// A `STRING_ARRAY` tag. The count is bounded by the data actually present: each string
    /// takes at least its NUL byte.
    pub fn strings(&self, tag: u32) -> Option<Vec<String>> {
        let e = self.entry(tag)?;
        if !matches!(e.ty, TYPE_STRING_ARRAY | TYPE_I18NSTRING | TYPE_STRING) {
            return None;
        }
        let mut rest = self.data.get(e.offset..)?;
        if e.count > rest.len() {
            return None;
        }
        let mut out = Vec::with_capacity(e.count);
        for _ in 0..e.count {
            let end = rest.iter().position(|&b| b == 0)?;
            out.push(String::from_utf8_lossy(&rest[..end]).into_owned());
            rest = &rest[end + 1..];
        }
        Some(out)
    }

    /// An `INT32` array tag.
    pub fn u32s(&self, tag: u32) -> Option<Vec<u32>> {
        let e = self.entry(tag)?;
        if e.ty != TYPE_INT32 {
            return None;
        }
        let bytes = self.data.get(e.offset..e.offset.checked_add(e.count.checked_mul(4)?)?)?;
        Some(bytes.chunks_exact(4).map(|c| u32::from_be_bytes([c[0], c[1], c[2], c[3]])).collect())
    }

    /// The first value of an `INT32` tag.
    pub fn u32(&self, tag: u32) -> Option<u32> {
        let e = self.entry(tag)?;
        if e.ty != TYPE_INT32 || e.count == 0 {
            return None;
        }
        be32(self.data, e.offset)
    }

    /// Owned file paths: `DIRNAMES[DIRINDEXES[i]] + BASENAMES[i]` (rpm ≥ 4.0 "compressed
    /// file names"), or the legacy `OLDFILENAMES`. Mismatched arrays are an error.
    pub fn file_names(&self) -> Result<Vec<String>, String> {
        if let Some(basenames) = self.strings(TAG_BASENAMES) {
            let dirnames = self.strings(TAG_DIRNAMES).ok_or("BASENAMES without readable DIRNAMES")?;
            let indexes = self.u32s(TAG_DIRINDEXES).ok_or("BASENAMES without readable DIRINDEXES")?;
            if indexes.len() != basenames.len() {
                return Err(format!("{} BASENAMES but {} DIRINDEXES", basenames.len(), indexes.len()));
            }
            // A hostile header can point many basenames at one huge dirname; legitimate
            // ones expand by a small factor (directories are shared), so cap the total.
            let budget = self.data.len().saturating_mul(16).saturating_add(1 << 16);
            let mut used = 0usize;
            let mut out = Vec::with_capacity(basenames.len());
            for (base, i) in basenames.iter().zip(indexes) {
                let dir = dirnames
                    .get(i as usize)
                    .ok_or_else(|| format!("DIRINDEXES entry {i} out of range ({} DIRNAMES)", dirnames.len()))?;
                used = used.saturating_add(dir.len() + base.len());
                if used > budget {
                    return Err(format!("file names expand beyond {budget} bytes"));
                }
                out.push(format!("{dir}{base}"));
            }
            return Ok(out);
        }
        if self.entry(TAG_BASENAMES).is_some() {
            return Err("unreadable BASENAMES".to_owned());
        }
        Ok(self.strings(TAG_OLDFILENAMES).unwrap_or_default())
    }
}

/// Builds a test header blob from `(tag, type, count, data)` entries. Used by this crate's
/// tests to make databases of every backend from the same headers.
#[cfg(test)]
pub(crate) fn build(entries: &[(u32, u32, u32, Vec<u8>)]) -> Vec<u8> {
    let mut index = Vec::new();
    let mut data = Vec::new();
    for (tag, ty, count, bytes) in entries {
        if *ty == TYPE_INT32 {
            while data.len() % 4 != 0 {
                data.push(0);
            }
        }
        index.extend_from_slice(&tag.to_be_bytes());
        index.extend_from_slice(&ty.to_be_bytes());
        index.extend_from_slice(&(data.len() as u32).to_be_bytes());
        index.extend_from_slice(&count.to_be_bytes());
        data.extend_from_slice(bytes);
    }
    let mut blob = Vec::new();
    blob.extend_from_slice(&(entries.len() as u32).to_be_bytes());
    blob.extend_from_slice(&(data.len() as u32).to_be_bytes());
    blob.extend_from_slice(&index);
    blob.extend_from_slice(&data);
    blob
}

#[cfg(test)]
pub(crate) fn s(v: &str) -> (u32, Vec<u8>) {
    let mut b = v.as_bytes().to_vec();
    b.push(0);
    (TYPE_STRING, b)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lying_index_is_bounded() {
        // One STRING_ARRAY entry claiming 4 billion strings in 3 bytes of data.
        let blob = build(&[(TAG_BASENAMES, TYPE_STRING_ARRAY, u32::MAX, b"a\0\0".to_vec())]);
        let h = Header::parse(&blob).unwrap();
        assert_eq!(h.strings(TAG_BASENAMES), None);
        assert!(h.file_names().is_err());
        // INT32 array whose count overflows.
        let blob = build(&[(TAG_DIRINDEXES, TYPE_INT32, u32::MAX, vec![0; 8])]);
        assert_eq!(Header::parse(&blob).unwrap().u32s(TAG_DIRINDEXES), None);
    }

    #[test]
    fn size_checks() {
        assert!(Header::parse(&[0, 0, 0, 1, 0, 0, 0, 0]).is_err());
        assert!(Header::parse(&[0xff, 0xff, 0xff, 0xff, 0, 0, 0, 0]).is_err());
        assert!(Header::parse(&[0, 0, 0, 1, 0x7f, 0xff, 0xff, 0xff]).is_err());
        assert!(Header::parse(&[]).is_err());
    }
}

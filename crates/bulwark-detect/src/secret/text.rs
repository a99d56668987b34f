//! Text helpers of the file scanner: fingerprints, masked previews, line and window
//! bounds, and the binary sniff.

use super::*;

pub(super) fn absolute(path: &str) -> String {
    if path.starts_with('/') || path.starts_with("config:") { path.to_owned() } else { format!("/{path}") }
}

/// Hex SHA-256 of (rule, path, secret), first 16 bytes.
pub(super) fn fingerprint(rule: &str, path: &str, secret: &[u8]) -> String {
    let mut h = Sha256::new();
    h.update(rule.as_bytes());
    h.update([0]);
    h.update(path.as_bytes());
    h.update([0]);
    h.update(secret);
    h.finalize()[..16].iter().map(|b| format!("{b:02x}")).collect()
}

/// A few leading characters (at most 4, at most a quarter of the secret) and `****`.
pub(super) fn mask(secret: &[u8]) -> String {
    let shown = floor_boundary(secret, (secret.len() / 4).min(4));
    let mut s = String::from_utf8_lossy(&secret[..shown]).into_owned();
    s.push_str("****");
    s
}

/// Printable text: control characters become spaces, invalid UTF-8 is replaced.
pub(super) fn clean(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes)
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect::<String>()
        .trim()
        .to_owned()
}

pub(super) fn line_bounds(content: &[u8], at: usize) -> (usize, usize) {
    let start = memchr::memrchr(b'\n', &content[..at]).map_or(0, |p| p + 1);
    let end = memchr::memchr(b'\n', &content[at..]).map_or(content.len(), |p| at + p);
    (start, end)
}

/// Characters of context a preview shows before and after the masked secret.
pub(super) const PREVIEW_BEFORE: usize = 24;
pub(super) const PREVIEW_AFTER: usize = 16;

impl SecretScanner {
    /// The masked secret of `h` with a little context from its line: at most
    /// [`PREVIEW_BEFORE`] characters before and [`PREVIEW_AFTER`] after, cut with `…`. In
    /// that context every secret any rule or the generic checks recognise is masked as
    /// well (`aws=AKIA…:SECRET`: the secret half has no rule of its own).
    pub(super) fn preview(&self, content: &[u8], h: &Hit, all: &[Hit]) -> String {
        let (ls, le) = line_bounds(content, h.matched.0);
        let line = &content[ls..le];
        let local = |(s, e): (usize, usize)| (s.max(ls) - ls, e.min(le).saturating_sub(ls));
        let mut ranges: Vec<(usize, usize)> =
            all.iter().map(|o| o.secret).filter(|&(s, e)| s < le && e > ls).map(local).collect();
        ranges.extend(self.secret_ranges(line));
        ranges.extend(redact::generic_ranges(line));
        let own = local(h.secret);
        let (masked, spans) = redact::mask_ranges(line, ranges);
        // The masked span holding this hit's secret anchors the cut.
        let (a0, a1) = spans
            .iter()
            .copied()
            .find(|&(_, _, s, e)| s <= own.0 && own.0 < e.max(s + 1))
            .map_or_else(|| (own.0.min(masked.len()), own.0.min(masked.len())), |(o0, o1, _, _)| (o0, o1));
        let text = String::from_utf8_lossy(&masked);
        // Byte offsets to character positions of the (lossy) text.
        let before_chars = String::from_utf8_lossy(&masked[..floor_boundary(&masked, a0)]).chars().count();
        let span_chars =
            String::from_utf8_lossy(&masked[floor_boundary(&masked, a0)..floor_boundary(&masked, a1)]).chars().count();
        let chars: Vec<char> = text.chars().collect();
        let start = before_chars.saturating_sub(PREVIEW_BEFORE);
        let end = (before_chars + span_chars + PREVIEW_AFTER).min(chars.len());
        let mut out: String = chars[start..end].iter().collect();
        out = clean(out.as_bytes());
        if start > 0 {
            out.insert(0, '…');
        }
        if end < chars.len() {
            out.push('…');
        }
        out
    }
}

/// The largest index at most `i` that does not split a UTF-8 sequence of `b` (or `i`
/// itself when `b` is not UTF-8 there).
pub(super) fn floor_boundary(b: &[u8], i: usize) -> usize {
    let mut i = i.min(b.len());
    while i > 0 && i < b.len() && (b[i] & 0xc0) == 0x80 {
        i -= 1;
    }
    i
}

/// The byte range a rule's regex runs over for a keyword hit at `start..end`: from the
/// line before to the line after, at most 256 bytes before and 1 KiB after the keyword.
pub(super) fn window(content: &[u8], start: usize, end: usize) -> (usize, usize) {
    let (ls, le) = line_bounds(content, start);
    let prev = if ls == 0 { 0 } else { line_bounds(content, ls - 1).0 };
    let next = if le >= content.len() { le } else { line_bounds(content, le + 1).1 };
    (prev.max(start.saturating_sub(256)), next.min(end + 1024).max(end))
}

/// NUL bytes in the first 8 KiB, or the magic of executables and archives.
pub(super) fn is_binary(content: &[u8]) -> bool {
    const MAGIC: &[&[u8]] = &[
        b"\x7fELF",
        b"\xfe\xed\xfa\xce",
        b"\xfe\xed\xfa\xcf",
        b"\xce\xfa\xed\xfe",
        b"\xcf\xfa\xed\xfe",
        b"\xca\xfe\xba\xbe",
        b"!<arch>\n",
        b"PK\x03\x04",
        b"\x1f\x8b",
        b"BZh",
        b"\xfd7zXZ\x00",
        b"\x28\xb5\x2f\xfd",
        b"7z\xbc\xaf\x27\x1c",
    ];
    let head = &content[..content.len().min(SNIFF_BYTES)];
    memchr::memchr(0, head).is_some() || MAGIC.iter().any(|m| head.starts_with(m))
}

//! The `Link` header (RFC 8288) that paginated registry listings answer with, e.g.
//! `</v2/_catalog?last=b&n=2>; rel="next"`.

/// The target of the first link whose `rel` includes `next`, from the value of a `Link`
/// header (several link-values separated by commas). URI references may contain commas
/// and semicolons inside `<…>`, and parameter values may be quoted strings with escapes.
/// Garbage yields `None` or is skipped, never a panic.
pub fn next_link(header: &str) -> Option<String> {
    let b = header.as_bytes();
    let mut i = 0;
    while i < b.len() {
        // Find the next `<` that starts a link-value.
        while i < b.len() && b[i] != b'<' {
            i += 1;
        }
        if i >= b.len() {
            return None;
        }
        let start = i + 1;
        let end = start + header[start..].find('>')?;
        let target = &header[start..end];
        i = end + 1;
        let mut is_next = false;
        // Parameters up to the comma that ends this link-value.
        loop {
            while i < b.len() && (b[i] == b' ' || b[i] == b'\t') {
                i += 1;
            }
            if i >= b.len() || b[i] == b',' {
                break;
            }
            if b[i] != b';' {
                // Not a parameter: skip to the next link-value.
                while i < b.len() && b[i] != b',' {
                    i += 1;
                }
                break;
            }
            i += 1;
            let name_start = i;
            while i < b.len() && !matches!(b[i], b'=' | b';' | b',') {
                i += 1;
            }
            let name = header[name_start..i].trim().to_ascii_lowercase();
            let mut value = String::new();
            if i < b.len() && b[i] == b'=' {
                i += 1;
                while i < b.len() && (b[i] == b' ' || b[i] == b'\t') {
                    i += 1;
                }
                if i < b.len() && b[i] == b'"' {
                    i += 1;
                    while i < b.len() && b[i] != b'"' {
                        if b[i] == b'\\' && i + 1 < b.len() {
                            i += 1;
                        }
                        // Byte-wise: multi-byte characters are copied whole below.
                        let ch_len = utf8_len(b[i]);
                        let stop = (i + ch_len).min(b.len());
                        value.push_str(header.get(i..stop).unwrap_or_default());
                        i = stop;
                    }
                    i += 1;
                } else {
                    let v_start = i;
                    while i < b.len() && !matches!(b[i], b';' | b',') {
                        i += 1;
                    }
                    value = header[v_start..i].trim().to_owned();
                }
            }
            if name == "rel" && value.split_ascii_whitespace().any(|r| r.eq_ignore_ascii_case("next")) {
                is_next = true;
            }
        }
        if is_next {
            let target = target.trim();
            return (!target.is_empty()).then(|| target.to_owned());
        }
    }
    None
}

fn utf8_len(first: u8) -> usize {
    match first {
        0xF0..=0xFF => 4,
        0xE0..=0xEF => 3,
        0xC0..=0xDF => 2,
        _ => 1,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn registry_links() {
        // The shape docker-registry sends (distribution's `tags/list` handler).
        assert_eq!(
            next_link(r#"</v2/app/tags/list?last=b&n=2>; rel="next""#).as_deref(),
            Some("/v2/app/tags/list?last=b&n=2")
        );
        assert_eq!(next_link("</v2/_catalog?n=1&last=a>; rel=next").as_deref(), Some("/v2/_catalog?n=1&last=a"));
        // RFC 8288 §3.5 example shapes: several links, several rels, odd spacing.
        let h = r#"<https://r/prev>; rel="prev", <https://r/x?a=1,2;b>;title="a, \"b\"";rel="next last""#;
        assert_eq!(next_link(h).as_deref(), Some("https://r/x?a=1,2;b"));
        assert_eq!(next_link(r#"<https://r/p>; REL="Next""#).as_deref(), Some("https://r/p"));
    }

    #[test]
    fn no_next() {
        for h in
            ["", "<", "<>; rel=next", r#"</a>; rel="prev""#, "garbage", "<a; rel=next", "</a> junk, </b>; rel=nextish"]
        {
            assert_eq!(next_link(h), None, "{h}");
        }
        for h in ["<\u{e9}>; rel=\"\u{e9}\\", "<x>;rel=\"", ";;;,,,<", "<x>; rel=\"ne\\xt\"", "<>\u{1F600};rel"] {
            let _ = next_link(h);
        }
    }
}

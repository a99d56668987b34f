//! The one sanitiser for text that reaches a terminal.
//!
//! Anything read from an image (history steps, Cmd, Env names, tar paths, labels) can carry
//! bytes a terminal acts on instead of showing: ESC and CSI sequences (colours, cursor
//! moves, clearing the screen), OSC sequences (window titles, clipboard writes, hyperlinks),
//! BEL, the 8-bit C1 controls that some terminals read as CSI/OSC, a carriage return that
//! overwrites the line, and Unicode bidi overrides and isolates that reorder what is shown
//! ("Trojan Source", CVE-2021-42574). [`escape`] writes each such character as a visible
//! escape (`\e`, `\x9b`, `\u{202e}`), so nothing is hidden and nothing is acted on.
//!
//! ```
//! use bulwark_core::term;
//!
//! assert_eq!(term::escape("RUN make\x1b]0;owned\x07"), "RUN make\\e]0;owned\\a");
//! assert_eq!(term::escape("a\u{202e}b"), "a\\u{202e}b");
//! assert_eq!(term::escape_lines("error\nhint: x\r"), "error\nhint: x\\r");
//! ```

use std::borrow::Cow;
use std::fmt::Write as _;

/// Whether a terminal would act on `c` rather than show it, or would reorder or hide the
/// text around it: C0 controls (including tab and line feed), DEL, C1 controls, the bidi
/// embeddings, overrides, isolates and marks, zero-width and invisible formatting
/// characters, the line and paragraph separators, and the byte-order mark.
pub fn is_unsafe(c: char) -> bool {
    matches!(c,
        '\u{0}'..='\u{1f}'
        | '\u{7f}'..='\u{9f}'
        // Arabic letter mark, Mongolian vowel separator.
        | '\u{061c}' | '\u{180e}'
        // Zero-width space, non-joiner, joiner; left-to-right and right-to-left marks.
        | '\u{200b}'..='\u{200f}'
        // Line and paragraph separators; bidi embeddings and overrides (LRE, RLE, PDF, LRO, RLO).
        | '\u{2028}'..='\u{202e}'
        // Word joiner, invisible operators; bidi isolates (LRI, RLI, FSI, PDI); deprecated format controls.
        | '\u{2060}'..='\u{206f}'
        | '\u{feff}'
        // Interlinear annotation controls.
        | '\u{fff9}'..='\u{fffb}'
    )
}

/// `s` with every character [`is_unsafe`] finds written as a visible escape, on one line
/// (line feeds and tabs are escaped too). Borrows when there is nothing to escape.
pub fn escape(s: &str) -> Cow<'_, str> {
    escape_with(s, false)
}

/// Like [`escape`], but line feeds are kept: for messages of several lines (an error and
/// its `hint:`). Carriage returns are still escaped, so no line can overwrite another.
pub fn escape_lines(s: &str) -> Cow<'_, str> {
    escape_with(s, true)
}

fn escape_with(s: &str, keep_newlines: bool) -> Cow<'_, str> {
    let unsafe_char = |c: char| is_unsafe(c) && !(keep_newlines && c == '\n');
    if !s.chars().any(unsafe_char) {
        return Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len() + 16);
    for c in s.chars() {
        if !unsafe_char(c) {
            out.push(c);
            continue;
        }
        match c {
            '\t' => out.push_str("\\t"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\u{7}' => out.push_str("\\a"),
            '\u{1b}' => out.push_str("\\e"),
            c if (c as u32) <= 0xff => {
                let _ = write!(out, "\\x{:02x}", c as u32);
            }
            c => {
                let _ = write!(out, "\\u{{{:04x}}}", c as u32);
            }
        }
    }
    Cow::Owned(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn controls_and_bidi_become_visible() {
        // CSI colour, OSC title ended by BEL and by ST, 8-bit CSI, DEL, carriage return.
        assert_eq!(escape("\x1b[31mred\x1b[0m"), "\\e[31mred\\e[0m");
        assert_eq!(escape("\x1b]0;title\x07"), "\\e]0;title\\a");
        assert_eq!(escape("\x1b]8;;http://x\x1b\\link"), "\\e]8;;http://x\\e\\link");
        assert_eq!(escape("a\u{9b}2Jb\u{7f}"), "a\\x9b2Jb\\x7f");
        assert_eq!(escape("ok\rFAKE"), "ok\\rFAKE");
        assert_eq!(escape("x\u{202e}gnp.exe\u{2066}\u{2069}\u{200f}"), "x\\u{202e}gnp.exe\\u{2066}\\u{2069}\\u{200f}");
        assert_eq!(escape("a\tb\nc"), "a\\tb\\nc");
        assert_eq!(escape_lines("a\tb\nc"), "a\\tb\nc");
        assert_eq!(escape("\u{feff}\u{2028}"), "\\u{feff}\\u{2028}");
    }

    #[test]
    fn ordinary_text_is_borrowed_unchanged() {
        for s in ["", "RUN apt-get install -y curl", "/usr/lib/x86_64-linux-gnu/libc.so.6", "naïve 日本語 ✓ …"]
        {
            assert!(matches!(escape(s), Cow::Borrowed(b) if b == s));
        }
    }

    #[test]
    fn every_unsafe_char_is_escaped() {
        for c in (0..=0x10ffff_u32).filter_map(char::from_u32).filter(|&c| is_unsafe(c)) {
            let s = format!("a{c}b");
            let e = escape(&s);
            assert!(!e.chars().any(is_unsafe), "{c:?} survived as {e:?}");
        }
    }
}

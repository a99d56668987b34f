//! PEM: reading every block of a file, and writing one.
//!
//! Our own small reader, because the inputs are messy in known ways (cosign keys, chains
//! of several certificates in one annotation, CRLF line ends, trailing text) and a block
//! is only base64 between two marker lines; strictness that rejects those would reject
//! real files.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;

use crate::error::{Result, malformed};

/// One decoded PEM block.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Block {
    /// The label, e.g. `CERTIFICATE` or `ENCRYPTED SIGSTORE PRIVATE KEY`.
    pub label: String,
    /// The decoded contents.
    pub contents: Vec<u8>,
}

/// Upper bound on one block's base64 text: far above any key or certificate, and it
/// stops a hostile annotation from making us decode gigabytes.
const MAX_BLOCK_TEXT: usize = 1 << 20;

/// Every PEM block in `input`, in order. Text outside blocks is ignored; a block that is
/// opened but not closed, closed with another label, or not base64 is an error.
pub fn parse_all(input: &[u8]) -> Result<Vec<Block>> {
    let text = std::str::from_utf8(input).map_err(|_| malformed("PEM", "not UTF-8"))?;
    let mut blocks = Vec::new();
    let mut lines = text.lines();
    while let Some(line) = lines.next() {
        let line = line.trim();
        let Some(label) = marker(line, "-----BEGIN ") else {
            continue;
        };
        let mut body = String::new();
        let mut closed = false;
        for inner in lines.by_ref() {
            let inner = inner.trim();
            if let Some(end) = marker(inner, "-----END ") {
                if end != label {
                    return Err(malformed("PEM", format!("block BEGIN {label} ends with END {end}")));
                }
                closed = true;
                break;
            }
            if inner.contains(':') {
                // RFC 1421 headers (e.g. `Proc-Type`): legacy encrypted OpenSSL keys,
                // which we do not read.
                return Err(malformed(
                    "PEM",
                    format!("block {label} has RFC 1421 headers (legacy OpenSSL encryption is not supported)"),
                ));
            }
            body.push_str(inner);
            if body.len() > MAX_BLOCK_TEXT {
                return Err(malformed("PEM", format!("block {label} is over 1 MiB")));
            }
        }
        if !closed {
            return Err(malformed("PEM", format!("block {label} has no END line")));
        }
        let contents = STANDARD.decode(body.as_bytes()).map_err(|e| malformed("PEM", format!("block {label}: {e}")))?;
        blocks.push(Block { label: label.to_owned(), contents });
    }
    Ok(blocks)
}

/// The only block in `input`; an error when there is none or more than one.
pub fn parse_one(input: &[u8]) -> Result<Block> {
    let mut blocks = parse_all(input)?;
    match blocks.len() {
        0 => Err(malformed("PEM", "no PEM block found")),
        1 => Ok(blocks.remove(0)),
        n => Err(malformed("PEM", format!("expected one PEM block, found {n}"))),
    }
}

fn marker<'a>(line: &'a str, prefix: &str) -> Option<&'a str> {
    line.strip_prefix(prefix)?.strip_suffix("-----")
}

/// `contents` as a PEM block with 64-character lines and a final newline.
pub fn encode(label: &str, contents: &[u8]) -> String {
    let b64 = STANDARD.encode(contents);
    let mut out = format!("-----BEGIN {label}-----\n");
    for chunk in b64.as_bytes().chunks(64) {
        // base64 output is ASCII, so every chunk is valid UTF-8.
        out.push_str(std::str::from_utf8(chunk).unwrap_or_default());
        out.push('\n');
    }
    out.push_str(&format!("-----END {label}-----\n"));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_several_blocks() {
        let a = encode("CERTIFICATE", &[1u8; 100]);
        let b = encode("PUBLIC KEY", b"xyz");
        let both = format!("junk\r\n{a}between\n{b}");
        let blocks = parse_all(both.as_bytes()).unwrap();
        assert_eq!(blocks.len(), 2);
        assert_eq!(blocks[0].contents, vec![1u8; 100]);
        assert_eq!(blocks[1].label, "PUBLIC KEY");
        assert!(parse_one(both.as_bytes()).is_err());
    }

    #[test]
    fn rejects_broken_blocks() {
        assert!(parse_all(b"-----BEGIN X-----\nAAAA\n").is_err());
        assert!(parse_all(b"-----BEGIN X-----\nAAAA\n-----END Y-----\n").is_err());
        assert!(parse_all(b"-----BEGIN X-----\n!!!!\n-----END X-----\n").is_err());
        assert!(parse_one(b"no pem here").is_err());
    }
}

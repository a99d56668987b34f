//! The Sigstore trusted root (`application/vnd.dev.sigstore.trustedroot+json`): Fulcio
//! certificate authorities and Rekor keys, each with the period it is trusted for.
//! This is the file `cosign verify --trusted-root` reads, so keyless verification works
//! offline with no TUF client.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use serde::Deserialize;

use crate::error::{Result, malformed};
use crate::keys::PublicKey;
use crate::x509::Certificate;

/// A period of trust, unix seconds; `end` open when absent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Validity {
    /// Start, inclusive.
    pub start: u64,
    /// End, inclusive, when the authority was retired.
    pub end: Option<u64>,
}

impl Validity {
    /// Whether `at` falls in the period.
    pub fn contains(&self, at: u64) -> bool {
        at >= self.start && self.end.is_none_or(|end| at <= end)
    }
}

/// One certificate authority: its chain (first the issuing CA, last the root) and when
/// it was trusted to issue.
#[derive(Debug, Clone)]
pub struct CertificateAuthority {
    /// Where it runs, e.g. `https://fulcio.sigstore.dev`.
    pub uri: String,
    /// The chain, issuing certificate first.
    pub chain: Vec<Certificate>,
    /// When it issued certificates.
    pub valid_for: Validity,
}

/// One transparency log key.
#[derive(Debug, Clone)]
pub struct TransparencyLog {
    /// The log's URL.
    pub base_url: String,
    /// Its public key.
    pub key: PublicKey,
    /// When the key signed.
    pub valid_for: Validity,
}

/// A parsed trusted root.
#[derive(Debug, Clone, Default)]
pub struct TrustedRoot {
    /// Fulcio (or other) certificate authorities.
    pub certificate_authorities: Vec<CertificateAuthority>,
    /// Rekor keys.
    pub tlogs: Vec<TransparencyLog>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawRoot {
    media_type: String,
    #[serde(default)]
    tlogs: Vec<RawLog>,
    #[serde(default)]
    certificate_authorities: Vec<RawCa>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawLog {
    #[serde(default)]
    base_url: String,
    public_key: RawKey,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawKey {
    raw_bytes: String,
    valid_for: Option<RawValidity>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawCa {
    #[serde(default)]
    uri: String,
    cert_chain: RawChain,
    valid_for: Option<RawValidity>,
}

#[derive(Deserialize)]
struct RawChain {
    certificates: Vec<RawCert>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawCert {
    raw_bytes: String,
}

#[derive(Deserialize)]
struct RawValidity {
    start: Option<String>,
    end: Option<String>,
}

const WHAT: &str = "sigstore trusted root";

impl TrustedRoot {
    /// Parses a trusted root JSON document.
    pub fn from_json(json: &[u8]) -> Result<Self> {
        let raw: RawRoot = serde_json::from_slice(json).map_err(|e| malformed(WHAT, e))?;
        if !raw.media_type.starts_with("application/vnd.dev.sigstore.trustedroot") {
            return Err(malformed(WHAT, format!("mediaType {:?}", raw.media_type)));
        }
        let b64 = |s: &str| STANDARD.decode(s).map_err(|e| malformed(WHAT, e));
        let mut root = TrustedRoot::default();
        for log in raw.tlogs {
            root.tlogs.push(TransparencyLog {
                base_url: log.base_url,
                key: PublicKey::from_spki_der(&b64(&log.public_key.raw_bytes)?)?,
                valid_for: validity(log.public_key.valid_for)?,
            });
        }
        for ca in raw.certificate_authorities {
            let chain = ca
                .cert_chain
                .certificates
                .iter()
                .map(|c| Certificate::from_der(&b64(&c.raw_bytes)?))
                .collect::<Result<Vec<_>>>()?;
            root.certificate_authorities.push(CertificateAuthority {
                uri: ca.uri,
                chain,
                valid_for: validity(ca.valid_for)?,
            });
        }
        Ok(root)
    }

    /// The Rekor keys that were valid at `at`.
    pub fn rekor_keys_at(&self, at: Option<u64>) -> Vec<PublicKey> {
        self.tlogs.iter().filter(|l| at.is_none_or(|t| l.valid_for.contains(t))).map(|l| l.key.clone()).collect()
    }

    /// Every certificate of every CA that was issuing at `at`: trust anchors for chains.
    pub fn anchors_at(&self, at: u64) -> Vec<Certificate> {
        self.certificate_authorities
            .iter()
            .filter(|ca| ca.valid_for.contains(at))
            .flat_map(|ca| ca.chain.iter().cloned())
            .collect()
    }
}

fn validity(raw: Option<RawValidity>) -> Result<Validity> {
    let Some(raw) = raw else {
        return Ok(Validity { start: 0, end: None });
    };
    Ok(Validity {
        start: raw.start.as_deref().map(parse_rfc3339).transpose()?.unwrap_or(0),
        end: raw.end.as_deref().map(parse_rfc3339).transpose()?,
    })
}

/// Unix seconds of an RFC 3339 UTC timestamp (`Z` or `+00:00`; fractions dropped).
pub fn parse_rfc3339(text: &str) -> Result<u64> {
    let bad = || malformed("timestamp", format!("{text:?} is not an RFC 3339 UTC time"));
    let b = text.as_bytes();
    if b.len() < 20 || b[4] != b'-' || b[7] != b'-' || !matches!(b[10], b'T' | b't') || b[13] != b':' || b[16] != b':' {
        return Err(bad());
    }
    let num = |r: std::ops::Range<usize>| -> Result<i64> {
        let s = text.get(r).ok_or_else(bad)?;
        if !s.bytes().all(|c| c.is_ascii_digit()) {
            return Err(bad());
        }
        s.parse().map_err(|_| bad())
    };
    let (year, month, day) = (num(0..4)?, num(5..7)?, num(8..10)?);
    let (hour, minute, second) = (num(11..13)?, num(14..16)?, num(17..19)?);
    let mut rest = &text[19..];
    if let Some(frac) = rest.strip_prefix('.') {
        let digits = frac.bytes().take_while(u8::is_ascii_digit).count();
        if digits == 0 {
            return Err(bad());
        }
        rest = &frac[digits..];
    }
    if !matches!(rest, "Z" | "z" | "+00:00" | "-00:00") {
        return Err(bad());
    }
    if !(1..=12).contains(&month) || !(1..=31).contains(&day) || hour > 23 || minute > 59 || second > 60 {
        return Err(bad());
    }
    // Days from the civil date (Howard Hinnant's algorithm).
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (month + 9) % 12;
    let doy = (153 * mp + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146_097 + doe - 719_468;
    let secs = days * 86_400 + hour * 3600 + minute * 60 + second;
    u64::try_from(secs).map_err(|_| bad())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc3339() {
        assert_eq!(parse_rfc3339("1970-01-01T00:00:00Z").unwrap(), 0);
        assert_eq!(parse_rfc3339("2021-01-12T11:53:27.000Z").unwrap(), 1_610_452_407);
        assert_eq!(parse_rfc3339("2024-02-29T00:00:00+00:00").unwrap(), 1_709_164_800);
        assert!(parse_rfc3339("2021-01-12 11:53:27Z").is_err());
        assert!(parse_rfc3339("2021-01-12T11:53:27+02:00").is_err());
        assert!(parse_rfc3339("2021-13-12T11:53:27Z").is_err());
    }
}

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::{Error, Result};

/// An image platform: OS, CPU architecture (GOARCH names) and optional variant.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Platform {
    pub os: String,
    pub architecture: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub variant: Option<String>,
}

impl Platform {
    /// Builds a platform, normalising architecture aliases (`x86_64` → `amd64`,
    /// `aarch64` → `arm64`) and the implied `arm64/v8` variant, as containerd does.
    pub fn new(os: &str, architecture: &str, variant: Option<&str>) -> Platform {
        let os = os.to_ascii_lowercase();
        let (arch, implied) = match architecture.to_ascii_lowercase().as_str() {
            "x86_64" | "x86-64" => ("amd64".to_owned(), None),
            "aarch64" => ("arm64".to_owned(), None),
            "armhf" => ("arm".to_owned(), Some("v7")),
            "armel" => ("arm".to_owned(), Some("v6")),
            "i386" | "i686" => ("386".to_owned(), None),
            other => (other.to_owned(), None),
        };
        let mut variant = variant.filter(|v| !v.is_empty()).map(str::to_ascii_lowercase).or(implied.map(str::to_owned));
        if arch == "arm64" && variant.as_deref() == Some("v8") {
            variant = None;
        }
        Platform { os, architecture: arch, variant }
    }

    /// The platform of the machine Bulwark runs on.
    pub fn host() -> Platform {
        let variant = match std::env::consts::ARCH {
            "arm" => Some("v7"),
            _ => None,
        };
        Platform::new("linux", std::env::consts::ARCH, variant)
    }

    /// Whether an image built for `candidate` satisfies a request for `self`. A request
    /// without a variant accepts any variant.
    pub fn matches(&self, candidate: &Platform) -> bool {
        let c = Platform::new(&candidate.os, &candidate.architecture, candidate.variant.as_deref());
        self.os == c.os && self.architecture == c.architecture && (self.variant.is_none() || self.variant == c.variant)
    }
}

impl FromStr for Platform {
    type Err = Error;

    fn from_str(s: &str) -> Result<Self> {
        let parts: Vec<&str> = s.split('/').collect();
        let ok = |p: &&str| !p.is_empty() && p.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-');
        match parts.as_slice() {
            [os, arch] if ok(os) && ok(arch) => Ok(Platform::new(os, arch, None)),
            [os, arch, variant] if ok(os) && ok(arch) && ok(variant) => Ok(Platform::new(os, arch, Some(variant))),
            _ => Err(Error::InvalidPlatform { value: s.to_owned() }),
        }
    }
}

impl fmt::Display for Platform {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.os, self.architecture)?;
        if let Some(v) = &self.variant {
            write!(f, "/{v}")?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_and_match() {
        let want: Platform = "linux/arm64".parse().unwrap();
        assert!(want.matches(&Platform::new("linux", "arm64", Some("v8"))));
        assert!(want.matches(&Platform::new("linux", "aarch64", None)));
        assert!(!want.matches(&Platform::new("linux", "amd64", None)));
        let v7: Platform = "linux/arm/v7".parse().unwrap();
        assert!(!v7.matches(&Platform::new("linux", "arm", Some("v6"))));
        assert_eq!(v7.to_string(), "linux/arm/v7");
        for bad in ["linux", "linux/", "/amd64", "a/b/c/d", "linux/amd 64"] {
            assert!(bad.parse::<Platform>().is_err(), "{bad}");
        }
        assert_eq!(Platform::host().os, "linux");
    }
}

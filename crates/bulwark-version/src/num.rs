//! Arbitrary-length unsigned integers, compared by value.
//!
//! Version numbers are not bounded by any of the schemes here (PEP 440 and Maven say so
//! explicitly; Go compares digit strings), and dates or build stamps easily exceed `u32`.
//! Keeping the digits avoids both overflow and a bignum dependency.

use std::cmp::Ordering;
use std::fmt;

/// A non-negative integer kept as its decimal digits, without leading zeros (`"0"` for zero).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(crate) struct Num(Box<str>);

impl Num {
    /// Builds a number from ASCII digits; leading zeros are dropped and an empty string is zero.
    pub(crate) fn from_ascii_digits(digits: &str) -> Self {
        debug_assert!(digits.bytes().all(|b| b.is_ascii_digit()));
        let trimmed = digits.trim_start_matches('0');
        if trimmed.is_empty() { Num::zero() } else { Num(trimmed.into()) }
    }

    pub(crate) fn zero() -> Self {
        Num("0".into())
    }

    pub(crate) fn is_zero(&self) -> bool {
        &*self.0 == "0"
    }
}

impl Ord for Num {
    fn cmp(&self, other: &Self) -> Ordering {
        // Without leading zeros, a longer number is a bigger one.
        self.0.len().cmp(&other.0.len()).then_with(|| self.0.cmp(&other.0))
    }
}

impl PartialOrd for Num {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl fmt::Display for Num {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn compares_by_value() {
        let n = Num::from_ascii_digits;
        assert_eq!(n("007"), n("7"));
        assert_eq!(n(""), Num::zero());
        assert!(n("10") > n("9"));
        assert!(n("123456789012345678901234567890") > n("99999999999999999999"));
        assert_eq!(n("000").to_string(), "0");
    }
}

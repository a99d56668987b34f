//! Counts in human output: "1 file", "2 files", never "1 files" or "file(s)".

/// `n` and the noun in the number it needs: `count(1, "file", "files")` is `1 file`.
pub fn count<N: std::fmt::Display + PartialEq + From<u8>>(n: N, one: &str, many: &str) -> String {
    let noun = if n == N::from(1) { one } else { many };
    format!("{n} {noun}")
}

#[cfg(test)]
mod tests {
    #[test]
    fn singular_only_for_one() {
        assert_eq!(super::count(0usize, "file", "files"), "0 files");
        assert_eq!(super::count(1u64, "file", "files"), "1 file");
        assert_eq!(super::count(2u64, "entry", "entries"), "2 entries");
    }
}

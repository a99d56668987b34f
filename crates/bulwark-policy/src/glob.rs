//! Glob patterns for exception scopes and registry lists: `*` matches any run of
//! characters (including `/`), `?` exactly one, everything else itself.

/// Whether `text` matches `pattern`, in O(len(pattern) × len(text)) at worst.
pub fn matches(pattern: &str, text: &str) -> bool {
    let p: Vec<char> = pattern.chars().collect();
    let t: Vec<char> = text.chars().collect();
    let (mut pi, mut ti) = (0, 0);
    // Where the last `*` was and how much of the text it has swallowed so far.
    let mut star: Option<(usize, usize)> = None;
    while ti < t.len() {
        if pi < p.len() && (p[pi] == '?' || (p[pi] != '*' && p[pi] == t[ti])) {
            pi += 1;
            ti += 1;
        } else if pi < p.len() && p[pi] == '*' {
            star = Some((pi, ti));
            pi += 1;
        } else if let Some((sp, st)) = star {
            pi = sp + 1;
            ti = st + 1;
            star = Some((sp, st + 1));
        } else {
            return false;
        }
    }
    p[pi..].iter().all(|&c| c == '*')
}

#[cfg(test)]
mod tests {
    use super::matches;

    #[test]
    fn globs() {
        for (p, t, want) in [
            ("*", "", true),
            ("*", "a/b", true),
            ("ghcr.io/org/*", "ghcr.io/org/app:1", true),
            ("ghcr.io/org/*", "ghcr.io/other/app:1", false),
            ("/usr/lib/*.so", "/usr/lib/x/y.so", true),
            ("a?c", "abc", true),
            ("a?c", "ac", false),
            ("*.io", "gcr.io", true),
            ("*.io", "gcr.iox", false),
            ("exact", "exact", true),
            ("exact", "exactly", false),
            ("**a*b", "xxaxxbxx", false),
            ("**a*b*", "xxaxxbxx", true),
        ] {
            assert_eq!(matches(p, t), want, "{p} vs {t}");
        }
    }
}

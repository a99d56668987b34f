//! Upstream test vectors for every scheme, plus property tests.
//!
//! The tables live in `$BULWARK_SHARED/version-vectors/` (default: the `shared/` folder next to
//! the workspace); their `SOURCE.md` names the upstream file, commit and licence of each. Every
//! row must pass or be listed in [`EXCLUDED`] with a reason, and the test fails if an excluded
//! row starts passing, so the list cannot rot.

use std::cmp::Ordering;
use std::collections::BTreeSet;
use std::path::PathBuf;

use bulwark_version::{Ecosystem, GoVersion, Pep440Version, apk, compare, golang, rpmvercmp};

/// Rows that are deliberately out of scope: (file, left, right, reason).
const EXCLUDED: &[(&str, &str, &str, &str)] = &[];

fn vectors_dir() -> PathBuf {
    let shared = std::env::var_os("BULWARK_SHARED")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../../../shared")));
    let dir = shared.join("version-vectors");
    assert!(
        dir.join("SOURCE.md").is_file(),
        "version vectors not found at {}\nhint: set BULWARK_SHARED to the folder that holds version-vectors/",
        dir.display()
    );
    dir
}

/// One data row: its columns and its line number in the file.
struct Row {
    cols: Vec<String>,
    line: usize,
}

fn read_table(name: &str) -> Vec<Row> {
    let path = vectors_dir().join(name);
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
    text.lines()
        .enumerate()
        .skip(1)
        .filter(|(_, l)| !l.is_empty())
        .map(|(i, l)| Row { cols: l.split('\t').map(str::to_owned).collect(), line: i + 1 })
        .collect()
}

fn expected_ordering(s: &str) -> Ordering {
    match s {
        "-1" => Ordering::Less,
        "0" => Ordering::Equal,
        "1" => Ordering::Greater,
        other => panic!("bad expected value {other:?}"),
    }
}

/// The outcome of running one table.
struct Outcome {
    file: &'static str,
    rows: usize,
    failures: Vec<(String, String, String)>,
}

/// Runs `check` on every row; `check` returns `Err(description)` when the row fails.
fn run(file: &'static str, check: impl Fn(&Row) -> Result<(), String>) -> Outcome {
    let rows = read_table(file);
    let failures = rows
        .iter()
        .filter_map(|r| {
            check(r).err().map(|why| {
                (r.cols[0].clone(), r.cols.get(1).cloned().unwrap_or_default(), format!("line {}: {why}", r.line))
            })
        })
        .collect();
    Outcome { file, rows: rows.len(), failures }
}

/// A three-column ordering table checked with `cmp`, in both directions.
fn ordering_table(file: &'static str, cmp: impl Fn(&str, &str) -> Result<Ordering, String>) -> Outcome {
    run(file, |r| {
        let want = expected_ordering(&r.cols[2]);
        let (a, b) = (&r.cols[0], &r.cols[1]);
        let got = cmp(a, b)?;
        let back = cmp(b, a)?;
        if got == want && back == want.reverse() {
            Ok(())
        } else {
            Err(format!("{a} vs {b}: want {want:?}, got {got:?} (reversed: {back:?})"))
        }
    })
}

fn with(eco: Ecosystem) -> impl Fn(&str, &str) -> Result<Ordering, String> {
    move |a, b| compare(eco, a, b).map_err(|e| e.to_string())
}

fn unescape(s: &str) -> String {
    let mut out = String::new();
    let mut chars = s.chars();
    while let Some(c) = chars.next() {
        if c == '\\' {
            match chars.next() {
                Some('t') => out.push('\t'),
                Some('n') => out.push('\n'),
                Some('r') => out.push('\r'),
                Some('\\') => out.push('\\'),
                Some(o) => panic!("unknown escape \\{o}"),
                None => panic!("trailing backslash"),
            }
        } else {
            out.push(c);
        }
    }
    out
}

#[test]
fn upstream_vectors() {
    let outcomes = vec![
        ordering_table("dpkg.tsv", with(Ecosystem::Dpkg)),
        ordering_table("rpm.tsv", |a, b| Ok(rpmvercmp(a, b))),
        // apk orders invalid strings too (`1.0 < 1.0bc`, "invalid. do string sort"):
        // `compare_loose` must agree on every row, and the strict `compare` must agree where
        // both sides are valid and refuse where either is not.
        ordering_table("apk.tsv", |a, b| {
            let loose = apk::compare_loose(a, b);
            match (compare(Ecosystem::Apk, a, b), apk::is_valid(a) && apk::is_valid(b)) {
                (Ok(strict), true) if strict == loose => Ok(loose),
                (Err(_), false) => Ok(loose),
                (strict, _) => Err(format!("strict compare disagrees with apk: {strict:?} vs {loose:?}")),
            }
        }),
        run("apk-fuzzy-match.tsv", |r| {
            let got = apk::compare_fuzzy(&r.cols[0], &r.cols[2]);
            let matched = match r.cols[1].as_str() {
                "~" => got == Ordering::Equal,
                "<~" => got != Ordering::Greater,
                ">~" => got != Ordering::Less,
                op => return Err(format!("unknown operator {op}")),
            };
            let want = r.cols[3] == "true";
            if matched == want {
                Ok(())
            } else {
                Err(format!("{} {} {}: got {got:?}", r.cols[0], r.cols[1], r.cols[2]))
            }
        }),
        run("apk-validity.tsv", |r| {
            let want = r.cols[1] == "valid";
            if apk::is_valid(&r.cols[0]) == want {
                Ok(())
            } else {
                Err(format!("validity of {:?} should be {want}", r.cols[0]))
            }
        }),
        ordering_table("pep440.tsv", with(Ecosystem::Pep440)),
        run("pep440-normalization.tsv", |r| {
            let input = unescape(&r.cols[0]);
            let got = Pep440Version::parse(&input).map(|v| v.to_string()).map_err(|e| e.to_string())?;
            if got == r.cols[1] {
                Ok(())
            } else {
                Err(format!("{input:?} normalised to {got:?}, want {:?}", r.cols[1]))
            }
        }),
        run("pep440-invalid.tsv", |r| match Pep440Version::parse(&r.cols[0]) {
            Err(_) => Ok(()),
            Ok(v) => Err(format!("{:?} parsed as {v}", r.cols[0])),
        }),
        ordering_table("semver.tsv", with(Ecosystem::Semver)),
        ordering_table("maven.tsv", with(Ecosystem::Maven)),
        ordering_table("rubygems.tsv", with(Ecosystem::RubyGems)),
        // Go's `semver.Compare` puts every invalid string below every valid one; the strict
        // `compare` must agree where both are valid and refuse otherwise.
        ordering_table("golang.tsv", |a, b| {
            let upstream = golang::compare_upstream(a, b);
            let both_valid = GoVersion::parse_strict(a).is_ok() && GoVersion::parse_strict(b).is_ok();
            match (compare(Ecosystem::Go, a, b), both_valid) {
                (Ok(strict), true) if strict == upstream => Ok(upstream),
                (_, false) => Ok(upstream),
                (strict, _) => Err(format!("strict compare disagrees with Go: {strict:?} vs {upstream:?}")),
            }
        }),
        run("golang-canonical.tsv", |r| {
            let got = GoVersion::parse_strict(&r.cols[0]).map(|v| v.canonical()).unwrap_or_default();
            if got == r.cols[1] {
                Ok(())
            } else {
                Err(format!("canonical({:?}) = {got:?}, want {:?}", r.cols[0], r.cols[1]))
            }
        }),
    ];

    let excluded: BTreeSet<(&str, &str, &str)> = EXCLUDED.iter().map(|&(f, a, b, _)| (f, a, b)).collect();
    let mut unexpected = Vec::new();
    let mut failing = BTreeSet::new();
    let mut report = String::new();
    for o in &outcomes {
        let passed = o.rows - o.failures.len();
        let excl = o.failures.iter().filter(|(a, b, _)| excluded.contains(&(o.file, a.as_str(), b.as_str()))).count();
        report.push_str(&format!("{:<26} {passed:>5}/{:<5} passed, {excl} excluded\n", o.file, o.rows));
        for (a, b, why) in &o.failures {
            failing.insert((o.file, a.as_str(), b.as_str()));
            if !excluded.contains(&(o.file, a.as_str(), b.as_str())) {
                unexpected.push(format!("{}: {why}", o.file));
            }
        }
    }
    emit(&report);
    assert!(unexpected.is_empty(), "{} rows failed:\n{}", unexpected.len(), unexpected.join("\n"));
    let stale: Vec<_> = excluded.difference(&failing).collect();
    assert!(stale.is_empty(), "excluded rows that now pass (remove them from EXCLUDED): {stale:?}");
}

/// Rows upstream keeps commented out as "arguably buggy behaviors"; informational only.
#[test]
fn rpm_disabled_upstream_rows_are_informational() {
    let o = ordering_table("rpm-disabled-upstream.tsv", |a, b| Ok(rpmvercmp(a, b)));
    emit(&format!(
        "{:<26} {:>5}/{:<5} agree with upstream's documentation of current behaviour (not asserted)\n",
        o.file,
        o.rows - o.failures.len(),
        o.rows
    ));
}

/// Test output for humans: visible with `cargo test -- --nocapture`.
#[allow(clippy::print_stderr)]
fn emit(s: &str) {
    eprint!("{s}");
}

/// Property tests: each scheme's ordering is a total order on generated versions, and no
/// parser panics on any input.
mod properties {
    use std::cmp::Ordering;

    use bulwark_version::{Ecosystem, Version, apk, compare, compare_generic, composer_normalize, golang};
    use proptest::prelude::*;
    use proptest::test_runner::TestCaseError;

    /// No regression files in the source tree: a failure prints its minimal input instead.
    fn config(cases: u32) -> ProptestConfig {
        ProptestConfig { cases, failure_persistence: None, ..ProptestConfig::default() }
    }

    /// A regex for plausible versions of each scheme, including its odd corners.
    fn pattern(eco: Ecosystem) -> &'static str {
        match eco {
            Ecosystem::Dpkg => "([0-9]{1,2}:)?[0-9][0-9a-zA-Z.+~]{0,6}(-[0-9a-z.+~]{1,4})?",
            Ecosystem::Rpm => "([0-9]{1,2}:)?[0-9a-z][0-9a-z.~^_+]{0,7}(-[0-9a-z.~^]{1,4})?",
            Ecosystem::Apk => {
                "[0-9]{1,3}(\\.[0-9]{1,3}){0,3}[a-z]?(_(alpha|beta|pre|rc|cvs|svn|git|hg|p)[0-9]{0,2}){0,2}(~[0-9a-f]{1,4})?(-r[0-9]{1,2})?"
            }
            Ecosystem::Pep440 => {
                "v?([0-9]!)?[0-9]{1,2}(\\.[0-9]{1,2}){0,3}([-_.]?(a|b|rc|alpha|c|pre)[0-9]?)?(\\.post[0-9]?|-[0-9])?(\\.dev[0-9]?)?(\\+[a-z0-9]{1,3}([._-][a-z0-9]{1,3}){0,2})?"
            }
            Ecosystem::Semver => {
                "(0|[1-9][0-9]?)\\.(0|[1-9])\\.(0|[1-9])(-(alpha|beta|0|[1-9][0-9]?|x-y|Z)(\\.(alpha|0|[1-9]|rc)){0,2})?(\\+[a-z0-9]{1,3})?"
            }
            Ecosystem::Npm => {
                "=?v?(0|[1-9])\\.(0|[1-9])\\.(0|[1-9])(-(alpha|beta|0|[1-9]|x-y)(\\.(alpha|0|[1-9])){0,2})?"
            }
            Ecosystem::NuGet => {
                "[0-9]{1,2}(\\.[0-9]{1,2}){0,3}(-(Alpha|alpha|BETA|beta|[1-9])(\\.([a-zA-Z][a-zA-Z0-9]{0,2}|[0-9])){0,2})?"
            }
            Ecosystem::Go => {
                "v(0|[1-9])\\.(0|[1-9])\\.(0|[1-9])(-(pre|0|[1-9]|0\\.[0-9]{14}-[0-9a-f]{12}))?(\\+incompatible)?|v[0-9](\\.[0-9])?"
            }
            Ecosystem::Maven => {
                "[0-9]{1,2}([.-]?([0-9]{1,2}|alpha|beta|rc|cr|sp|ga|final|release|snapshot|a|b|m|foo|x)[0-9]?){0,4}"
            }
            Ecosystem::RubyGems => "[0-9]{1,2}(\\.([0-9]{1,2}|[a-zA-Z]{1,3}[0-9]?)){0,4}(-[a-z0-9]{1,3})?",
            Ecosystem::Composer => {
                "v?[0-9]{1,2}(\\.[0-9]{1,2}){0,3}(-?(alpha|beta|RC|rc|a|b|p|pl|patch|stable)[0-9]?)?(-dev)?|dev-[a-z]{1,5}|[0-9]\\.x-dev"
            }
            _ => "[0-9a-zA-Z.+~_-]{0,10}",
        }
    }

    fn parse(eco: Ecosystem, s: &str) -> Result<Version, TestCaseError> {
        Version::parse(eco, s).map_err(|e| TestCaseError::fail(format!("generated version does not parse: {e}")))
    }

    fn check_total_order(eco: Ecosystem, a: &str, b: &str, c: &str) -> Result<(), TestCaseError> {
        let (va, vb, vc) = (parse(eco, a)?, parse(eco, b)?, parse(eco, c)?);
        let cmp = |x: &Version, y: &Version| x.partial_cmp(y).ok_or_else(|| TestCaseError::fail("not comparable"));
        prop_assert_eq!(cmp(&va, &va)?, Ordering::Equal, "{} not equal to itself", a);
        let (ab, bc, ac) = (cmp(&va, &vb)?, cmp(&vb, &vc)?, cmp(&va, &vc)?);
        prop_assert_eq!(cmp(&vb, &va)?, ab.reverse(), "antisymmetry: {} vs {}", a, b);
        prop_assert_eq!(va == vb, ab == Ordering::Equal, "Eq and Ord disagree on {} and {}", a, b);
        if ab != Ordering::Greater && bc != Ordering::Greater {
            prop_assert!(ac != Ordering::Greater, "transitivity: {} <= {} <= {} but {:?}", a, b, c, ac);
        }
        if ab == Ordering::Equal {
            prop_assert_eq!(ac, bc, "equal {} and {} compare differently with {}", a, b, c);
        }
        Ok(())
    }

    fn triple(eco: Ecosystem) -> impl Strategy<Value = (String, String, String)> {
        let s = || proptest::string::string_regex(pattern(eco)).expect("valid regex");
        (s(), s(), s())
    }

    macro_rules! order_property {
        ($name:ident, $eco:expr) => {
            proptest! {
                #![proptest_config(config(2000))]
                #[test]
                fn $name((a, b, c) in triple($eco)) {
                    check_total_order($eco, &a, &b, &c)?;
                }
            }
        };
    }

    order_property!(dpkg_is_a_total_order, Ecosystem::Dpkg);
    order_property!(rpm_is_a_total_order, Ecosystem::Rpm);
    order_property!(apk_is_a_total_order, Ecosystem::Apk);
    order_property!(pep440_is_a_total_order, Ecosystem::Pep440);
    order_property!(semver_is_a_total_order, Ecosystem::Semver);
    order_property!(npm_is_a_total_order, Ecosystem::Npm);
    order_property!(nuget_is_a_total_order, Ecosystem::NuGet);
    order_property!(go_is_a_total_order, Ecosystem::Go);
    order_property!(maven_is_a_total_order, Ecosystem::Maven);
    order_property!(rubygems_is_a_total_order, Ecosystem::RubyGems);
    order_property!(composer_is_a_total_order, Ecosystem::Composer);
    order_property!(generic_is_a_total_order, Ecosystem::Generic);

    /// Arbitrary Unicode strings, and strings over the characters versions are made of.
    fn any_input() -> impl Strategy<Value = String> {
        prop_oneof![any::<String>(), "[0-9a-zA-Z.:+~^_@ -]{0,16}", "[0-9.]{0,6}[-_~^+.a-z]{0,3}[0-9]{0,3}"]
    }

    proptest! {
        #![proptest_config(config(3000))]
        #[test]
        fn parsing_never_panics(a in any_input(), b in any_input()) {
            for eco in Ecosystem::ALL {
                let _ = compare(eco, &a, &b);
            }
            let _ = compare_generic(&a, &b);
            let _ = apk::compare_loose(&a, &b);
            let _ = apk::compare_fuzzy(&a, &b);
            let _ = golang::compare_upstream(&a, &b);
            let _ = composer_normalize(&a);
        }
    }
}

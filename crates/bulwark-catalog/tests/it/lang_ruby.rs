//! Ruby catalogers against real files: the gemspecs Debian's `ruby` installs, read in place
//! (expected values from RubyGems itself), a `Gemfile.lock` written by Bundler
//! (tests/data/make-lang-fixtures.sh) and a hand-written Gemfile.lock with GIT, PATH and GEM
//! sections (tests/data/formats/bundler/, checked against Bundler's own lockfile parser).

use std::path::{Path, PathBuf};
use std::process::Command;

use bulwark_catalog::PackageKind;
use bulwark_catalog::lang::ruby;

fn lang_fixtures() -> Option<PathBuf> {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/make-lang-fixtures.sh");
    let ok = Command::new("bash").arg(&script).output().is_ok_and(|o| o.status.success());
    assert!(ok || std::env::var_os("CI").is_none(), "{} failed", script.display());
    let out = Command::new("bash").arg(&script).arg("--print-dir").output().ok()?;
    ok.then(|| PathBuf::from(String::from_utf8_lossy(&out.stdout).trim()))
}

/// Runs Ruby; `None` when it is not installed (outside CI; `scripts/setup-dev.sh` installs it).
fn ruby(script: &str) -> Option<String> {
    ruby_in(script, None)
}

fn ruby_in(script: &str, gemfile: Option<&Path>) -> Option<String> {
    let mut cmd = Command::new("ruby");
    if let Some(g) = gemfile {
        cmd.env("BUNDLE_GEMFILE", g);
    }
    let out = cmd.arg("-e").arg(script).output();
    let Ok(out) = out else {
        bulwark_testkit::skip_unless_ci("ruby is not installed (hint: scripts/setup-dev.sh)");
        return None;
    };
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    Some(String::from_utf8(out.stdout).expect("utf-8"))
}

#[test]
fn installed_gemspecs_match_rubygems() {
    // One line per gemspec: path, name, version, licences, runtime dependency names.
    let Some(expected) = ruby(
        r#"dirs = Gem.path.map { |d| File.join(d, "specifications") } + Dir["/usr/share/rubygems-integration/*/specifications"]
           dirs.flat_map { |d| Dir[File.join(d, "*.gemspec")] + Dir[File.join(d, "default", "*.gemspec")] }.uniq.sort.each do |f|
             s = Gem::Specification.load(f) or next
             puts [f, s.name, s.version, s.licenses.join(" OR "), s.runtime_dependencies.map(&:name).uniq.sort.join(",")].join("\t")
           end"#,
    ) else {
        return;
    };
    let mut n = 0;
    for line in expected.lines() {
        let f: Vec<&str> = line.split('\t').collect();
        let (pkgs, warnings) = ruby::parse_gemspec(&std::fs::read(f[0]).unwrap(), f[0]);
        assert!(warnings.is_empty(), "{}: {warnings:?}", f[0]);
        let p = &pkgs[0];
        assert_eq!((p.kind, p.name.as_str(), p.version.as_str()), (PackageKind::Gem, f[1], f[2]), "{}", f[0]);
        assert_eq!(p.license.as_deref().unwrap_or(""), f[3], "{}", f[0]);
        assert_eq!(p.dependencies.join(","), f[4], "{}", f[0]);
        n += 1;
    }
    assert!(n > 20, "Debian's ruby installs dozens of gemspecs, found {n}");
}

#[test]
fn gemfile_lock_written_by_bundler() {
    let Some(cache) = lang_fixtures() else { return };
    let path = cache.join("ruby/Gemfile.lock");
    if !path.is_file() {
        return; // made only when ruby is installed
    }
    let Some(expected) = ruby_in(
        &format!(
            "require 'bundler'; Bundler::LockfileParser.new(File.read({:?})).specs.sort_by(&:name).each {{ |s| \
         puts [s.name, s.version, s.dependencies.map(&:name).sort.join(',')].join(\"\\t\") }}",
            path.to_str().unwrap()
        ),
        Some(&cache.join("ruby/Gemfile")),
    ) else {
        return;
    };
    let (pkgs, warnings) = ruby::parse_gemfile_lock(&std::fs::read(&path).unwrap(), path.to_str().unwrap());
    assert!(warnings.is_empty(), "{warnings:?}");
    let ours: Vec<String> =
        pkgs.iter().map(|p| format!("{}\t{}\t{}", p.name, p.version, p.dependencies.join(","))).collect();
    assert_eq!(ours, expected.lines().collect::<Vec<_>>());
    assert!(pkgs.iter().any(|p| p.name == "test-unit" && p.dependencies == ["power_assert"]));
}

#[test]
fn gemfile_lock_git_path_and_platforms() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/formats/bundler");
    let path = dir.join("Gemfile.lock");
    let (pkgs, warnings) = ruby::parse_gemfile_lock(&std::fs::read(&path).unwrap(), "/app/Gemfile.lock");
    assert!(warnings.is_empty(), "{warnings:?}");
    // Specs from all three sections; nokogiri's two platform builds are one package without
    // the platform suffix.
    let got: Vec<(&str, &str)> = pkgs.iter().map(|p| (p.name.as_str(), p.version.as_str())).collect();
    assert_eq!(
        got,
        [
            ("nokogiri", "1.15.4"),
            ("orders-core", "0.1.0"),
            ("racc", "1.7.1"),
            ("rack", "2.2.0"),
            ("rack-test", "2.1.0"),
            ("rake", "13.0.6"),
        ]
    );
    assert!(pkgs.iter().all(|p| p.kind == PackageKind::Gem));
    let deps = |name: &str| pkgs.iter().find(|p| p.name == name).unwrap().dependencies.clone();
    assert_eq!(deps("nokogiri"), ["racc"]);
    assert_eq!(deps("orders-core"), ["nokogiri", "rack"]);
    assert_eq!(deps("rack-test"), ["rack"]);
    assert!(deps("rack").is_empty());
    assert_eq!(pkgs[0].purl(None).to_string(), "pkg:gem/nokogiri@1.15.4");

    // Bundler reads the same specs (one per platform) and dependencies.
    let Some(expected) = ruby_in(
        &format!(
            "require 'bundler'; Bundler::LockfileParser.new(File.read({:?})).specs.map {{ |s| \
             [s.name, s.version, s.dependencies.map(&:name).sort.join(',')].join(\"\\t\") }}.uniq.sort.each {{ |l| puts l }}",
            path.to_str().unwrap()
        ),
        Some(&dir.join("Gemfile")),
    ) else {
        return;
    };
    let ours: Vec<String> =
        pkgs.iter().map(|p| format!("{}\t{}\t{}", p.name, p.version, p.dependencies.join(","))).collect();
    assert_eq!(ours, expected.lines().collect::<Vec<_>>());
}

#[test]
fn malformed_inputs_give_warnings_not_panics() {
    let garbage: Vec<u8> = (0..4096u32).map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8).collect();
    for input in [&b""[..], &garbage, b"Gem::Specification.new do |s|\n  s.name = \"x", b"s.version = Foo::VERSION\n"] {
        let (pkgs, warnings) = ruby::parse_gemspec(input, "/g");
        assert!(pkgs.is_empty() && warnings.len() == 1);
        let _ = ruby::parse_gemfile_lock(input, "/l");
    }
    // Platform suffixes are not part of the version; broken spec lines are warnings.
    let lock = b"GEM\n  specs:\n    nokogiri (1.13.10-x86_64-linux)\n      racc (~> 1.4)\n    broken\n";
    let (pkgs, warnings) = ruby::parse_gemfile_lock(lock, "/l");
    assert_eq!((pkgs[0].name.as_str(), pkgs[0].version.as_str()), ("nokogiri", "1.13.10"));
    assert_eq!(pkgs[0].dependencies, ["racc"]);
    assert_eq!(warnings.len(), 1);
}

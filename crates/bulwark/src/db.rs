//! `bulwark db …`: build the advisory database from local feeds and report on it.

use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use bulwark_vulndb::update::{EcosystemUpdate, UpdateKind};
use bulwark_vulndb::{Db, DbBuilder};

use crate::cli::{DbBuildArgs, DbStatusArgs, DbUpdateArgs, Format};

/// `$BULWARK_DB`, else `~/.cache/bulwark/db/bulwark.db` (or under `$XDG_CACHE_HOME`).
pub fn default_path() -> PathBuf {
    let env = |k: &str| std::env::var_os(k).filter(|v| !v.is_empty()).map(PathBuf::from);
    env("BULWARK_DB").unwrap_or_else(|| {
        env("XDG_CACHE_HOME")
            .map(|p| p.join("bulwark"))
            .or_else(|| env("HOME").map(|h| h.join(".cache/bulwark")))
            .unwrap_or_else(|| PathBuf::from(".bulwark"))
            .join("db/bulwark.db")
    })
}

/// Splits `NAME=PATH`; a bare path is named after its last component.
fn named(arg: &str) -> (String, PathBuf) {
    match arg.split_once('=') {
        Some((name, path)) if !name.is_empty() && !name.contains('/') => (name.to_owned(), PathBuf::from(path)),
        _ => {
            let p = PathBuf::from(arg);
            let name = p.file_stem().map(|n| n.to_string_lossy().into_owned()).unwrap_or_else(|| arg.to_owned());
            (name, p)
        }
    }
}

pub fn build(args: DbBuildArgs) -> Result<u8> {
    if args.osv.is_empty() && args.csaf.is_empty() {
        bail!(
            "no --osv or --csaf source given\nhint: e.g. `bulwark db build --osv ../shared/advisories/go-vulndb --kev kev.json`"
        );
    }
    let target = args.db.clone().unwrap_or_else(default_path);
    if let Some(dir) = target.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    }
    let mut builder = DbBuilder::new(&target).with_context(|| format!("creating {}", target.display()))?;
    for arg in &args.osv {
        let (name, path) = named(arg);
        builder.add_osv(&name, &path).with_context(|| format!("reading OSV source {}", path.display()))?;
    }
    for arg in &args.kev {
        let (name, path) = named(arg);
        builder.add_kev(&name, &path).with_context(|| format!("reading KEV {}", path.display()))?;
    }
    for arg in &args.epss {
        let (name, path) = named(arg);
        builder.add_epss(&name, &path).with_context(|| format!("reading EPSS {}", path.display()))?;
    }
    for arg in &args.nvd {
        let (name, path) = named(arg);
        builder.add_nvd(&name, &path).with_context(|| format!("reading NVD {}", path.display()))?;
    }
    for arg in &args.csaf {
        let (name, path) = match arg.split_once('=') {
            Some((name, path)) if !name.is_empty() && !name.contains('/') => (name.to_owned(), PathBuf::from(path)),
            _ => {
                let p = PathBuf::from(arg);
                let file = p.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_else(|| arg.to_owned());
                (format!("csaf:{file}"), p)
            }
        };
        builder.add_csaf(&name, &path).with_context(|| format!("reading CSAF VEX {}", path.display()))?;
    }
    for arg in &args.debian_tracker {
        let (name, path) = named(arg);
        builder
            .add_debian_tracker(&name, &path)
            .with_context(|| format!("reading Debian security tracker data {}", path.display()))?;
    }
    let report = builder.finish().with_context(|| format!("writing {}", target.display()))?;
    let mut err = std::io::stderr().lock();
    for w in &report.warnings {
        let _ = writeln!(err, "warning: {}", bulwark_core::term::escape(&w.to_string()));
    }
    let _ =
        writeln!(err, "wrote {} ({} bytes, {})", report.path.display(), report.size, report.metadata.content_digest);
    for s in &report.metadata.sources {
        let _ = writeln!(
            err,
            "  {:<24} {:>4} {:>7} records, {} withdrawn, {} invalid",
            s.name, s.kind, s.records, s.withdrawn, s.invalid
        );
    }
    Ok(0)
}

pub fn update(args: DbUpdateArgs) -> Result<u8> {
    let target = args.db.clone().unwrap_or_else(default_path);
    if let Some(dir) = target.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    }
    let opts = bulwark_vulndb::update::UpdateOptions {
        osv_base: args.osv_base,
        ecosystems: args.ecosystems,
        kev_url: (!args.no_kev).then_some(args.kev_url),
        epss_url: (!args.no_epss).then_some(args.epss_url),
        stall_timeout: std::time::Duration::from_secs(args.stall_timeout.max(1)),
        max_incremental: args.max_incremental,
        force_full: args.full,
        ..Default::default()
    };
    let report = bulwark_vulndb::update::update(&target, &opts).map_err(|e| {
        // The stall hint comes from `hints.rs`, from the typed error.
        let mut context = format!("updating {} (the existing database, if any, is unchanged)", target.display());
        context.push_str(UPDATE_HINTS);
        anyhow::Error::new(e).context(context)
    })?;
    let mut err = std::io::stderr().lock();
    for w in &report.build.warnings {
        let _ = writeln!(err, "warning: {}", bulwark_core::term::escape(&w.to_string()));
    }
    for line in update_lines(&report.ecosystems) {
        let _ = writeln!(err, "{line}");
    }
    for name in &report.carried {
        let failed = report.failed.iter().any(|(n, _)| n == name);
        let _ =
            writeln!(err, "  {name}: kept from the previous database{}", if failed { " (update failed)" } else { "" });
    }
    for (name, e) in &report.failed {
        let kept =
            if report.carried.contains(name) { "its previous data is kept" } else { "it is not in the database" };
        let _ = writeln!(err, "warning: {name} was not updated ({kept}): {}", e.replace('\n', " "));
    }
    if !report.failed.is_empty() {
        let _ = write!(err, "{}", UPDATE_HINTS.trim_start());
        let _ = writeln!(err);
    }
    let b = &report.build;
    let _ = writeln!(err, "wrote {} ({} bytes, {})", b.path.display(), b.size, b.metadata.content_digest);
    Ok(0)
}

/// What to do when downloads fail.
const UPDATE_HINTS: &str = "\nhint: behind a proxy or without access to osv.dev, point --osv-base at a mirror of its layout\nhint: on an air-gapped machine, `bulwark db import FILE` a database built or updated elsewhere";

/// One line per ecosystem: how it was brought up to date.
fn update_lines(ecosystems: &[EcosystemUpdate]) -> Vec<String> {
    ecosystems
        .iter()
        .map(|e| {
            let upto = e.watermark.as_deref().map(|w| format!(", records up to {w}")).unwrap_or_default();
            match e.kind {
                UpdateKind::Incremental => {
                    let s = if e.downloaded == 1 { "" } else { "s" };
                    format!("  {}: incremental, {} changed record{s}{upto}", e.ecosystem, e.downloaded)
                }
                UpdateKind::Full => format!(
                    "  {}: full download, {} records ({}){upto}",
                    e.ecosystem,
                    e.downloaded,
                    e.reason.as_deref().unwrap_or("")
                ),
            }
        })
        .collect()
}

/// Age in whole days (as of today, UTC) of an RFC 3339 timestamp.
fn age_days(built_at: &str) -> Option<u64> {
    let built = bulwark_core::time::Date::parse(built_at)?;
    u64::try_from(bulwark_core::time::Date::today().days_since(built)).ok()
}

/// Opens the database for a scan, with a warning when it is old.
pub fn open_for_scan(path: &Path, max_age_days: u64) -> Result<(Db, Option<String>)> {
    let db = Db::open(path).with_context(|| {
        format!("opening the advisory database {}\nhint: build it with `bulwark db build --osv …`", path.display())
    })?;
    let meta = db.metadata()?;
    let warning = age_days(&meta.built_at).filter(|&d| d > max_age_days).map(|d| {
        format!("the advisory database is {d} days old (built {}); rebuild it for current results", meta.built_at)
    });
    Ok((db, warning))
}

/// Copies a database, writing beside the destination and checking the copy in full
/// ([`Db::verify`]: SQLite integrity, schema, content digest) before it is synced and renamed
/// over `to`; a damaged file leaves whatever was at `to` intact. Used by `db import` and
/// `db export`; what it prints describes the copy that was checked, never the old file.
pub fn copy_checked(from: &Path, to: &Path) -> Result<u8> {
    let unusable = || format!("{} is not a usable Bulwark advisory database", from.display());
    // Fails early, with the clear reason, for a directory, a missing or a non-SQLite file.
    drop(Db::open(from).with_context(unusable)?);
    let dir = match to.parent().filter(|d| !d.as_os_str().is_empty()) {
        Some(d) => d.to_path_buf(),
        None => PathBuf::from("."),
    };
    std::fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
    // Private until it replaces the target, as `db build` writes it.
    let mut tmp = bulwark_fs::AtomicFile::create_with_mode(to, 0o600)?;
    let mut src = std::fs::File::open(from).with_context(|| format!("reading {}", from.display()))?;
    std::io::copy(&mut src, tmp.file_mut()).with_context(|| format!("copying {}", from.display()))?;
    let meta = {
        let copy = Db::open(tmp.path()).with_context(unusable)?;
        copy.verify()
            .map_err(|e| anyhow::anyhow!(rename_path(&e.to_string(), tmp.path(), from)))
            .with_context(|| format!("{}; {} is unchanged", unusable(), to.display()))?;
        copy.metadata()?
    };
    tmp.commit()?;
    let _ = writeln!(std::io::stderr(), "wrote {} (built {}, {})", to.display(), meta.built_at, meta.content_digest);
    Ok(0)
}

/// Names the file the user gave rather than the temp copy that was checked.
fn rename_path(message: &str, temp: &Path, real: &Path) -> String {
    message.replace(&temp.display().to_string(), &real.display().to_string())
}

pub fn status(args: DbStatusArgs) -> Result<u8> {
    let path = args.db.clone().unwrap_or_else(default_path);
    let (db, warning) = open_for_scan(&path, args.max_age_days)?;
    let meta = db.metadata()?;
    let ecosystems = db.ecosystems()?;
    let fetched = db.fetched_at()?;
    let mut out = std::io::stdout().lock();
    match args.format {
        Format::Json => {
            // The metadata as before, plus what the database covers and when each source
            // was fetched.
            let mut value = serde_json::to_value(&meta)?;
            if let Some(sources) = value.get_mut("sources").and_then(|s| s.as_array_mut()) {
                for s in sources {
                    let name = s["name"].as_str().unwrap_or_default().to_owned();
                    s["fetched_at"] = fetched.get(&name).cloned().into();
                }
            }
            value["ecosystems"] = serde_json::to_value(&ecosystems)?;
            serde_json::to_writer_pretty(&mut out, &value)?;
            writeln!(out)?;
        }
        Format::Table => {
            writeln!(out, "Database:  {}", path.display())?;
            writeln!(out, "Schema:    {}", meta.schema_version)?;
            let age = age_days(&meta.built_at).map(|d| format!(" ({d} days ago)")).unwrap_or_default();
            writeln!(out, "Built:     {}{age} by {}", meta.built_at, meta.builder)?;
            writeln!(out, "Content:   {}", meta.content_digest)?;
            writeln!(out, "Sources:")?;
            for s in &meta.sources {
                writeln!(
                    out,
                    "  {:<24} {:<4} {:>7} records  {:>5} withdrawn  {:>4} invalid  fetched {}  {}",
                    s.name,
                    s.kind,
                    s.records,
                    s.withdrawn,
                    s.invalid,
                    fetched.get(&s.name).map(String::as_str).unwrap_or("-"),
                    s.location
                )?;
            }
            writeln!(out, "Ecosystems:")?;
            if ecosystems.is_empty() {
                writeln!(out, "  (none: this database cannot match any package)")?;
            }
            for e in &ecosystems {
                writeln!(
                    out,
                    "  {:<32} {:>7} advisories  newest modified {}",
                    e.ecosystem,
                    e.advisories,
                    e.newest_modified.as_deref().unwrap_or("-")
                )?;
            }
            // A DB made by `db update` says where each ecosystem's next update starts from.
            let state = bulwark_vulndb::update::state(&db)?;
            if !state.is_empty() {
                writeln!(out, "Updates:")?;
            }
            for (eco, s) in &state {
                let inc = s.last_incremental.as_deref().map(|t| format!(", incremental {t}")).unwrap_or_default();
                let mark = s.watermark.as_deref().unwrap_or("-");
                writeln!(out, "  {eco:<24} records up to {mark}; full download {}{inc}", s.last_full)?;
            }
        }
    }
    if let Some(w) = warning {
        let _ = writeln!(std::io::stderr(), "warning: {}", bulwark_core::term::escape(&w));
    }
    Ok(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_ages() {
        assert_eq!(named("go=/x/go-vulndb"), ("go".into(), PathBuf::from("/x/go-vulndb")));
        assert_eq!(named("/x/go-vulndb"), ("go-vulndb".into(), PathBuf::from("/x/go-vulndb")));
        assert_eq!(age_days("1970-01-02T00:00:00Z").map(|d| d > 20_000), Some(true));
        assert_eq!(age_days("garbage"), None);
    }
}

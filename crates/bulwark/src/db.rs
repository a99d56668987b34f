//! `bulwark db …`: build the advisory database from local feeds and report on it.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::{SystemTime, UNIX_EPOCH};

use anyhow::{Context, Result, bail};
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
    if args.osv.is_empty() {
        bail!(
            "no --osv source given\nhint: e.g. `bulwark db build --osv ../shared/advisories/go-vulndb --kev kev.json`"
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
    let report = builder.finish().with_context(|| format!("writing {}", target.display()))?;
    let mut err = std::io::stderr().lock();
    for w in &report.warnings {
        let _ = writeln!(err, "warning: {w}");
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
        ..Default::default()
    };
    let report = bulwark_vulndb::update::update(&target, &opts)
        .with_context(|| format!("updating {} (the existing database, if any, is unchanged)", target.display()))?;
    let mut err = std::io::stderr().lock();
    for w in &report.warnings {
        let _ = writeln!(err, "warning: {w}");
    }
    let _ =
        writeln!(err, "wrote {} ({} bytes, {})", report.path.display(), report.size, report.metadata.content_digest);
    Ok(0)
}

/// Age in whole days of an RFC 3339 UTC timestamp (`YYYY-MM-DDTHH:MM:SSZ`).
fn age_days(built_at: &str) -> Option<u64> {
    let b = built_at.as_bytes();
    if b.len() < 19 {
        return None;
    }
    let num = |r: std::ops::Range<usize>| built_at.get(r)?.parse::<i64>().ok();
    let (y, m, d) = (num(0..4)?, num(5..7)?, num(8..10)?);
    // Days from the civil date (Howard Hinnant's algorithm).
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146_097 + doe - 719_468;
    let now = SystemTime::now().duration_since(UNIX_EPOCH).ok()?.as_secs() as i64 / 86_400;
    u64::try_from(now - days).ok()
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

/// Copies a database after checking that it opens as one (right schema, metadata readable),
/// writing beside the destination, syncing and renaming, so a failed copy leaves whatever
/// was at `to` intact. Used by `db import` and `db export`.
pub fn copy_checked(from: &Path, to: &Path) -> Result<u8> {
    let meta = Db::open(from)
        .and_then(|db| db.metadata())
        .with_context(|| format!("{} is not a usable Bulwark advisory database", from.display()))?;
    let dir = match to.parent().filter(|d| !d.as_os_str().is_empty()) {
        Some(d) => d.to_path_buf(),
        None => PathBuf::from("."),
    };
    std::fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
    let mut tmp = tempfile::NamedTempFile::new_in(&dir).with_context(|| format!("writing in {}", dir.display()))?;
    let mut src = std::fs::File::open(from).with_context(|| format!("reading {}", from.display()))?;
    std::io::copy(&mut src, tmp.as_file_mut()).with_context(|| format!("copying {}", from.display()))?;
    tmp.as_file().sync_all()?;
    tmp.persist(to).with_context(|| format!("replacing {}", to.display()))?;
    if let Ok(d) = std::fs::File::open(&dir) {
        let _ = d.sync_all();
    }
    let _ = writeln!(std::io::stderr(), "wrote {} (built {}, {})", to.display(), meta.built_at, meta.content_digest);
    Ok(0)
}

pub fn status(args: DbStatusArgs) -> Result<u8> {
    let path = args.db.clone().unwrap_or_else(default_path);
    let (db, warning) = open_for_scan(&path, args.max_age_days)?;
    let meta = db.metadata()?;
    let mut out = std::io::stdout().lock();
    match args.format {
        Format::Json => {
            serde_json::to_writer_pretty(&mut out, &meta)?;
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
                    "  {:<24} {:<4} {:>7} records  {:>5} withdrawn  {:>4} invalid  {}",
                    s.name, s.kind, s.records, s.withdrawn, s.invalid, s.location
                )?;
            }
        }
    }
    if let Some(w) = warning {
        let _ = writeln!(std::io::stderr(), "warning: {w}");
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

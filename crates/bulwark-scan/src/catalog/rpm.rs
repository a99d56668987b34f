//! rpm: the Berkeley DB, NDB and SQLite databases, in both the classic and the `sysimage` location.

use super::DbResult;
use super::cataloger::{Cataloger, Inventory};
use bulwark_catalog::Limits;
use bulwark_image::layer::AnalyzeCause;

const DATABASES: &[&str] = &[
    "var/lib/rpm/Packages",
    "var/lib/rpm/Packages.db",
    "var/lib/rpm/rpmdb.sqlite",
    "usr/lib/sysimage/rpm/Packages",
    "usr/lib/sysimage/rpm/Packages.db",
    "usr/lib/sysimage/rpm/rpmdb.sqlite",
];

/// The rpm database, whichever of its three formats.
#[derive(Debug)]
pub struct Database;

impl Cataloger for Database {
    fn name(&self) -> &'static str {
        "rpm"
    }
    fn version(&self) -> u32 {
        2
    }
    fn inventory(&self) -> Inventory {
        Inventory::Os
    }
    fn wants(&self, path: &str, _mode: u32) -> bool {
        DATABASES.contains(&path)
    }
    fn catalog(&self, _path: &str, abs: &str, bytes: &[u8], limits: &Limits) -> Result<Option<DbResult>, AnalyzeCause> {
        let (packages, warnings) =
            bulwark_catalog::rpm::parse_rpmdb_with(bytes, abs, limits).map_err(AnalyzeCause::parse)?;
        Ok(Some(DbResult { packages, owned: None, warnings }))
    }
}

//! apk: `lib/apk/db/installed`.

use super::DbResult;
use super::cataloger::{Cataloger, Inventory};
use bulwark_catalog::Limits;
use bulwark_image::layer::AnalyzeCause;

/// Alpine's (and Wolfi's) installed database.
#[derive(Debug)]
pub struct Installed;

impl Cataloger for Installed {
    fn name(&self) -> &'static str {
        "apk"
    }
    fn version(&self) -> u32 {
        2
    }
    fn inventory(&self) -> Inventory {
        Inventory::Os
    }
    fn wants(&self, path: &str, _mode: u32) -> bool {
        path == "lib/apk/db/installed"
    }
    fn catalog(&self, _path: &str, abs: &str, bytes: &[u8], limits: &Limits) -> Result<Option<DbResult>, AnalyzeCause> {
        let (packages, warnings) = bulwark_catalog::apk::parse_installed_with(bytes, abs, limits);
        Ok(Some(DbResult { packages, owned: None, warnings }))
    }
}

//! PHP: Composer'\''s `vendor/composer/installed.json` and `composer.lock`.

use super::DbResult;
use super::cataloger::{Cataloger, Inventory, parsed};
use bulwark_catalog::Limits;
use bulwark_image::layer::AnalyzeCause;

/// Installed Composer packages and Composer lockfiles.
#[derive(Debug)]
pub struct Composer;

impl Cataloger for Composer {
    fn name(&self) -> &'static str {
        "php"
    }
    fn version(&self) -> u32 {
        2
    }
    fn inventory(&self) -> Inventory {
        Inventory::Lang
    }
    fn wants(&self, path: &str, _mode: u32) -> bool {
        let (dir, name) = path.rsplit_once('/').unwrap_or(("", path));
        (name == "installed.json" && dir.ends_with("vendor/composer")) || name == "composer.lock"
    }
    fn catalog(&self, path: &str, abs: &str, bytes: &[u8], _limits: &Limits) -> Result<Option<DbResult>, AnalyzeCause> {
        use bulwark_catalog::lang::php;
        parsed(match path.rsplit('/').next() {
            Some("composer.lock") => php::parse_composer_lock(bytes, abs, false),
            _ => php::parse_installed_json(bytes, abs),
        })
    }
}

//! Ruby: installed gem specifications (`specifications/*.gemspec`) and `Gemfile.lock`.

use super::DbResult;
use super::cataloger::{Cataloger, Inventory, parsed};
use bulwark_catalog::Limits;
use bulwark_image::layer::AnalyzeCause;

/// Installed gems and Bundler lockfiles.
#[derive(Debug)]
pub struct Gems;

impl Cataloger for Gems {
    fn name(&self) -> &'static str {
        "ruby"
    }
    fn version(&self) -> u32 {
        2
    }
    fn inventory(&self) -> Inventory {
        Inventory::Lang
    }
    fn wants(&self, path: &str, _mode: u32) -> bool {
        let (dir, name) = path.rsplit_once('/').unwrap_or(("", path));
        (name.ends_with(".gemspec") && dir.ends_with("specifications")) || name == "Gemfile.lock"
    }
    fn catalog(&self, path: &str, abs: &str, bytes: &[u8], _limits: &Limits) -> Result<Option<DbResult>, AnalyzeCause> {
        use bulwark_catalog::lang::ruby;
        parsed(match path.rsplit('/').next() {
            Some("Gemfile.lock") => ruby::parse_gemfile_lock(bytes, abs),
            _ => ruby::parse_gemspec(bytes, abs),
        })
    }
}

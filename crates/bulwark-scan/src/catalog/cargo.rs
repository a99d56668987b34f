//! Rust: `Cargo.lock` files.

use super::DbResult;
use super::cataloger::{Cataloger, Inventory, parsed};
use bulwark_catalog::Limits;
use bulwark_image::layer::AnalyzeCause;

/// Cargo lockfiles.
#[derive(Debug)]
pub struct CargoLock;

impl Cataloger for CargoLock {
    fn name(&self) -> &'static str {
        "cargo"
    }
    fn version(&self) -> u32 {
        2
    }
    fn inventory(&self) -> Inventory {
        Inventory::Lang
    }
    fn wants(&self, path: &str, _mode: u32) -> bool {
        let name = path.rsplit('/').next().unwrap_or(path);
        name == "Cargo.lock"
    }
    fn catalog(
        &self,
        _path: &str,
        abs: &str,
        bytes: &[u8],
        _limits: &Limits,
    ) -> Result<Option<DbResult>, AnalyzeCause> {
        parsed(bulwark_catalog::lang::rust::parse_cargo_lock(bytes, abs))
    }
}

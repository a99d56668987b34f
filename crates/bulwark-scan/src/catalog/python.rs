//! Python: installed distributions (`*.dist-info/METADATA`, `*.egg-info/PKG-INFO`, `*.egg-info` files).

use super::DbResult;
use super::cataloger::{Cataloger, Inventory, parsed};
use bulwark_catalog::Limits;
use bulwark_image::layer::AnalyzeCause;

/// Installed Python distributions' metadata.
#[derive(Debug)]
pub struct Metadata;

impl Cataloger for Metadata {
    fn name(&self) -> &'static str {
        "python"
    }
    fn version(&self) -> u32 {
        2
    }
    fn inventory(&self) -> Inventory {
        Inventory::Lang
    }
    fn wants(&self, path: &str, _mode: u32) -> bool {
        let (dir, name) = path.rsplit_once('/').unwrap_or(("", path));
        match name {
            "METADATA" => dir.ends_with(".dist-info"),
            "PKG-INFO" => dir.ends_with(".egg-info"),
            n => n.ends_with(".egg-info"),
        }
    }
    fn catalog(
        &self,
        _path: &str,
        abs: &str,
        bytes: &[u8],
        _limits: &Limits,
    ) -> Result<Option<DbResult>, AnalyzeCause> {
        parsed(bulwark_catalog::lang::python::parse_metadata(bytes, abs))
    }
}

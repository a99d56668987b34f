//! .NET: `*.deps.json` files.

use super::DbResult;
use super::cataloger::{Cataloger, Inventory, parsed};
use bulwark_catalog::Limits;
use bulwark_image::layer::AnalyzeCause;

/// .NET applications' dependency manifests.
#[derive(Debug)]
pub struct DepsJson;

impl Cataloger for DepsJson {
    fn name(&self) -> &'static str {
        "dotnet"
    }
    fn version(&self) -> u32 {
        2
    }
    fn inventory(&self) -> Inventory {
        Inventory::Lang
    }
    fn wants(&self, path: &str, _mode: u32) -> bool {
        let name = path.rsplit('/').next().unwrap_or(path);
        name.ends_with(".deps.json")
    }
    fn catalog(
        &self,
        _path: &str,
        abs: &str,
        bytes: &[u8],
        _limits: &Limits,
    ) -> Result<Option<DbResult>, AnalyzeCause> {
        parsed(bulwark_catalog::lang::dotnet::parse_deps_json(bytes, abs))
    }
}

//! Java: archives (`.jar`, `.war`, `.ear` and the like), nested archives opened in memory.

use super::DbResult;
use super::cataloger::{Cataloger, Inventory, parsed};
use bulwark_catalog::Limits;
use bulwark_image::layer::AnalyzeCause;

/// Java archives.
#[derive(Debug)]
pub struct Archives;

impl Cataloger for Archives {
    fn name(&self) -> &'static str {
        "java"
    }
    /// 3: packages carry their identification evidence (issue 15).
    fn version(&self) -> u32 {
        3
    }
    fn inventory(&self) -> Inventory {
        Inventory::Lang
    }
    fn wants(&self, path: &str, _mode: u32) -> bool {
        let name = path.rsplit('/').next().unwrap_or(path);
        bulwark_catalog::lang::java::is_archive_name(name)
    }
    fn catalog(
        &self,
        _path: &str,
        abs: &str,
        bytes: &[u8],
        _limits: &Limits,
    ) -> Result<Option<DbResult>, AnalyzeCause> {
        use bulwark_catalog::lang::java;
        parsed(java::parse_archive(bytes, abs, &java::Limits::default()))
    }
}

//! Executables: Go build information and `cargo-auditable` dependency data.

use super::DbResult;
use super::cataloger::{Cataloger, Inventory, parsed};
use bulwark_catalog::Limits;
use bulwark_image::layer::AnalyzeCause;

/// Any other executable file that starts with an ELF, PE or Mach-O header.
#[derive(Debug)]
pub struct Executables;

impl Cataloger for Executables {
    fn name(&self) -> &'static str {
        "binary"
    }
    fn version(&self) -> u32 {
        2
    }
    fn inventory(&self) -> Inventory {
        Inventory::Lang
    }
    fn wants(&self, _path: &str, mode: u32) -> bool {
        mode & 0o111 != 0
    }
    /// An ELF, PE or Mach-O header: scripts marked executable are not read.
    fn accepts_head(&self, head: &[u8]) -> bool {
        head.starts_with(b"\x7fELF")
            || head.starts_with(b"MZ")
            || [[0xfe, 0xed, 0xfa, 0xce], [0xfe, 0xed, 0xfa, 0xcf], [0xce, 0xfa, 0xed, 0xfe], [0xcf, 0xfa, 0xed, 0xfe]]
                .iter()
                .any(|m| head.starts_with(m))
    }
    fn catalog(
        &self,
        _path: &str,
        abs: &str,
        bytes: &[u8],
        _limits: &Limits,
    ) -> Result<Option<DbResult>, AnalyzeCause> {
        let (mut packages, mut warnings) = bulwark_catalog::lang::golang::parse_binary(bytes, abs);
        let (p, w) = bulwark_catalog::lang::rust::parse_auditable(bytes, abs);
        packages.extend(p);
        warnings.extend(w);
        parsed((packages, warnings))
    }
}

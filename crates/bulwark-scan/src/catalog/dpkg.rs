//! dpkg: the status database (`status`, distroless `status.d/*`) and the owned-file lists (`info/*.list`, `*.md5sums`).

use super::DbResult;
use super::cataloger::{Cataloger, Inventory};
use bulwark_catalog::Limits;
use bulwark_image::layer::AnalyzeCause;

use super::Owned;
use bulwark_catalog::dpkg;

/// `var/lib/dpkg/status` and the files of `var/lib/dpkg/status.d` (distroless images).
#[derive(Debug)]
pub struct Status;

impl Cataloger for Status {
    fn name(&self) -> &'static str {
        "dpkg-status"
    }
    fn version(&self) -> u32 {
        2
    }
    fn inventory(&self) -> Inventory {
        Inventory::Os
    }
    fn wants(&self, path: &str, _mode: u32) -> bool {
        match path.rsplit_once('/') {
            Some(("var/lib/dpkg", name)) => name == "status",
            Some(("var/lib/dpkg/status.d", name)) => !name.ends_with(".md5sums"),
            _ => false,
        }
    }
    fn catalog(&self, _path: &str, abs: &str, bytes: &[u8], limits: &Limits) -> Result<Option<DbResult>, AnalyzeCause> {
        let (packages, warnings) = dpkg::parse_status_with(bytes, abs, limits);
        Ok(Some(DbResult { packages, owned: None, warnings }))
    }
}

/// The files each package owns: `var/lib/dpkg/info/*.list` and `*.md5sums`, and the
/// `*.md5sums` of `status.d`.
#[derive(Debug)]
pub struct Info;

impl Cataloger for Info {
    fn name(&self) -> &'static str {
        "dpkg-info"
    }
    fn version(&self) -> u32 {
        2
    }
    fn inventory(&self) -> Inventory {
        Inventory::Os
    }
    fn wants(&self, path: &str, _mode: u32) -> bool {
        match path.rsplit_once('/') {
            Some(("var/lib/dpkg/status.d", name)) => name.ends_with(".md5sums"),
            Some(("var/lib/dpkg/info", name)) => name.ends_with(".list") || name.ends_with(".md5sums"),
            _ => false,
        }
    }
    fn catalog(&self, path: &str, abs: &str, bytes: &[u8], limits: &Limits) -> Result<Option<DbResult>, AnalyzeCause> {
        let name = path.rsplit('/').next().unwrap_or_default();
        let Some((package, arch, info)) = dpkg::info_file_owner(name) else { return Ok(None) };
        let max = limits.max_files;
        let (files, mut warnings, dropped) = match info {
            dpkg::InfoKind::List => {
                let (files, dropped) = dpkg::parse_file_list_with(bytes, max);
                (files, Vec::new(), dropped)
            }
            dpkg::InfoKind::Md5sums => dpkg::parse_md5sums_with(bytes, max),
        };
        if dropped > 0 {
            warnings.push(bulwark_catalog::file_limit(max, package, abs, dropped));
        }
        let owned = Owned { package: package.to_owned(), arch: arch.map(str::to_owned), files };
        Ok(Some(DbResult { packages: Vec::new(), owned: Some(owned), warnings }))
    }
}

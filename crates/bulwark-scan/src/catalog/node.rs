//! Node.js: installed packages (`node_modules/**/package.json`) and lockfiles outside `node_modules` (npm, yarn, pnpm).

use super::DbResult;
use super::cataloger::{Cataloger, Inventory, parsed};
use bulwark_catalog::Limits;
use bulwark_image::layer::AnalyzeCause;

/// Installed npm packages and project lockfiles.
#[derive(Debug)]
pub struct Packages;

impl Cataloger for Packages {
    fn name(&self) -> &'static str {
        "node"
    }
    fn version(&self) -> u32 {
        2
    }
    fn inventory(&self) -> Inventory {
        Inventory::Lang
    }
    fn wants(&self, path: &str, _mode: u32) -> bool {
        let name = path.rsplit('/').next().unwrap_or(path);
        let in_node_modules = path.contains("node_modules/");
        match name {
            "package.json" => in_node_modules,
            "package-lock.json" | "npm-shrinkwrap.json" | "yarn.lock" | "pnpm-lock.yaml" => !in_node_modules,
            _ => false,
        }
    }
    fn catalog(&self, path: &str, abs: &str, bytes: &[u8], _limits: &Limits) -> Result<Option<DbResult>, AnalyzeCause> {
        use bulwark_catalog::lang::node;
        let name = path.rsplit('/').next().unwrap_or(path);
        parsed(match name {
            "package.json" => node::parse_package_json(bytes, abs),
            "yarn.lock" => node::parse_yarn_lock(bytes, abs),
            "pnpm-lock.yaml" => node::parse_pnpm_lock(bytes, abs, false),
            _ => node::parse_package_lock(bytes, abs, false),
        })
    }
}

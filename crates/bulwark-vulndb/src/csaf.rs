//! Red Hat CSAF VEX documents into the DB: reading the files (the conversion to OSV-shaped
//! records is pure and lives in `bulwark_advisory::csaf`, re-exported here).

pub use bulwark_advisory::csaf::*;

use crate::error::{Error, Result};

impl crate::DbBuilder {
    /// Adds Red Hat CSAF VEX documents from `path`: one `.json` file, or a directory searched
    /// recursively for `.json` files. Each vulnerability with RHEL main-stream entries becomes
    /// one record (see the module docs); the source's `files` counts documents and its
    /// `detail` what was kept and skipped. Unreadable documents are skipped with a warning.
    pub fn add_csaf(&mut self, name: &str, path: impl AsRef<std::path::Path>) -> Result<&crate::SourceInfo> {
        use sha2::{Digest, Sha256};
        let path = path.as_ref();
        let meta = std::fs::metadata(path).map_err(Error::io("read", path))?;
        let mut files = Vec::new();
        if meta.is_dir() {
            crate::build::walk(path, &mut files)?;
            files.retain(|(rel, _)| rel.to_ascii_lowercase().ends_with(".json"));
            files.sort();
        } else {
            let file_name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
            files.push((file_name, path.to_path_buf()));
        }
        let idx = self.begin_source(name, "csaf", &path.display().to_string())?;
        let mut listing = Sha256::new();
        let mut single_digest = None;
        let (mut stats, mut invalid) = (Stats::default(), 0u64);
        for (rel, file) in &files {
            let location = file.display().to_string();
            let size = std::fs::metadata(file).map_err(Error::io("read", file))?.len();
            if size > MAX_CSAF_BYTES as u64 {
                invalid += 1;
                self.push_warning(crate::Warning {
                    location,
                    message: format!("CSAF document of {size} bytes is over the {MAX_CSAF_BYTES}-byte limit; skipped"),
                });
                continue;
            }
            let bytes = crate::build::read_limited(file, MAX_CSAF_BYTES as u64)?;
            let digest = crate::build::sha256_hex(&bytes);
            crate::build::add_to_listing(&mut listing, rel, &digest);
            single_digest = Some(digest);
            let doc = match parse_csaf(&bytes) {
                Ok(d) => d,
                Err(e) => {
                    invalid += 1;
                    self.push_warning(crate::Warning { location, message: e.to_string() });
                    continue;
                }
            };
            let (records, st) = to_records(&doc, &format!("csaf:{rel}"));
            stats.add(&st);
            for r in records {
                let json = serde_json::to_vec(&r).expect("records serialise");
                self.add_osv_record(idx, &location, &json, crate::Format::Json)?;
            }
        }
        let sha256 = match (meta.is_dir(), single_digest) {
            (false, Some(d)) => d,
            _ => format!("sha256:{}", hex::encode(listing.finalize())),
        };
        let s = self.source_mut(idx);
        s.files = files.len() as u64;
        s.invalid += invalid;
        s.sha256 = sha256;
        s.detail = Some(stats.summary());
        Ok(self.source_mut(idx))
    }
}

//! Maven package names by artifact alone, for the matcher's low-confidence fallback: a jar
//! whose group no evidence names is matched only when exactly one `group:artifact` in the
//! database has its artifact (`bulwark-match`, `docs/java.md`).

use crate::Db;
use crate::error::{Error, Result};

impl Db {
    /// The distinct `group:artifact` names of the Maven ecosystem whose artifact is
    /// `artifact` (exact, case-sensitive as Maven is), sorted. At most `limit` are returned,
    /// which is enough for the caller to tell "unique" from "ambiguous".
    pub fn maven_names_with_artifact(&self, artifact: &str, limit: usize) -> Result<Vec<String>> {
        // LIKE is case-insensitive for ASCII and treats `_` and `%` as wildcards, so it only
        // narrows the scan; the exact comparison happens here.
        let escaped: String = artifact
            .chars()
            .flat_map(|c| if matches!(c, '%' | '_' | '\\') { vec!['\\', c] } else { vec![c] })
            .collect();
        let conn = self.conn();
        let mut stmt = conn
            .prepare_cached(
                "SELECT DISTINCT name FROM affected WHERE ecosystem = 'maven' AND name LIKE ?1 ESCAPE '\\' ORDER BY name",
            )
            .map_err(Error::db(&self.path))?;
        let rows =
            stmt.query_map([format!("%:{escaped}")], |r| r.get::<_, String>(0)).map_err(Error::db(&self.path))?;
        let mut out = Vec::new();
        for name in rows {
            let name = name.map_err(Error::db(&self.path))?;
            if name.rsplit_once(':').is_some_and(|(_, a)| a == artifact) {
                out.push(name);
                if out.len() >= limit {
                    break;
                }
            }
        }
        Ok(out)
    }
}

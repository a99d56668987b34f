//! The low-confidence Maven fallback: a Java archive whose group no evidence names (see
//! `bulwark_catalog::lang::java_coords`) is matched by its artifact name alone, and only
//! when exactly one `group:artifact` among the Maven advisories has that artifact.
//!
//! Why so strict: artifact names repeat across groups (`core`, `api`, `commons-io` vs
//! `org.apache.commons:commons-io`), and a guess would attribute one project's
//! vulnerabilities to another. When several packages share the artifact, the jar is not
//! matched and is listed in `not_checked` (`identity-ambiguous`), so a gate never passes
//! it silently. Every finding made this way says so in its explanation and carries the
//! name it was matched as (`matched_as`).

use bulwark_core::report::{NotCheckedReason, Package, SourcePackage};
use bulwark_version::Ecosystem;

use crate::{Matcher, Target};

/// Names asked for: two tell "unique" from "ambiguous"; a few more make the warning useful.
pub(crate) const MAX_CANDIDATES: usize = 4;

impl Matcher<'_> {
    /// The target of a Maven package named by its artifact only, or `None` (with a
    /// `not_checked` entry when that is a gap rather than "no advisory names it").
    pub(crate) fn maven_fallback(&mut self, package: &Package, artifact: String, version: String) -> Option<Target> {
        let who = format!("{} {} {}", package.ecosystem, artifact, version);
        let names = match self.source.maven_names_with_artifact(&artifact, MAX_CANDIDATES) {
            Ok(names) => names,
            Err(e) => {
                self.warn(format!("Maven artifact lookup for {artifact} (group unknown) failed: {e}"));
                self.gap(NotCheckedReason::LookupFailed, "Maven", who, Some(e.to_string()));
                return None;
            }
        };
        match names.as_slice() {
            // No advisory names any package with this artifact: checked, nothing to find.
            [] => None,
            [only] => Some(Target {
                ecosystem: "Maven".to_owned(),
                name: only.clone(),
                version: version.clone(),
                scheme: Ecosystem::Maven,
                matched_as: Some(SourcePackage { name: only.clone(), version: Some(version) }),
                note: Some(format!(
                    "low-confidence identity: the jar names no group, matched as {only}, the only Maven package with artifact {artifact} in the advisory database"
                )),
            }),
            many => {
                let more = if many.len() >= MAX_CANDIDATES { ", …" } else { "" };
                self.warn(format!(
                    "{who}: group unknown and several Maven packages have this artifact name ({}{more}); not matched",
                    many.join(", ")
                ));
                self.gap(NotCheckedReason::IdentityAmbiguous, "Maven", who, None);
                None
            }
        }
    }
}

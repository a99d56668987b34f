//! Red Hat's fix states, as its CSAF VEX documents state them per package and RHEL major.
//!
//! [`crate::csaf`] writes them into the converted record's `affected[].ecosystem_specific`
//! (`redhat_state`, `redhat_reason`) — the form stored in advisory databases since schema 1 —
//! and [`Affected::redhat_statement`] reads them back typed, so no caller compares strings.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::osv::Affected;

/// Red Hat's state for one package of one RHEL major.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RedHatState {
    /// `fixed`: a build fixes it; the entry's ranges say which.
    Fixed,
    /// `known_affected` with remediation `no_fix_planned`: Red Hat will not fix it.
    WontFix,
    /// `known_affected` with `none_available` (e.g. "Fix deferred") or no remediation:
    /// affected, no fix available yet.
    Affected,
    /// `under_investigation`.
    UnderInvestigation,
}

impl RedHatState {
    /// The stored word (`fixed`, `wont_fix`, `affected`, `under_investigation`).
    pub fn as_str(self) -> &'static str {
        match self {
            RedHatState::Fixed => "fixed",
            RedHatState::WontFix => "wont_fix",
            RedHatState::Affected => "affected",
            RedHatState::UnderInvestigation => "under_investigation",
        }
    }

    /// The state a stored word names; `None` for words this version does not know.
    pub fn from_word(word: &str) -> Option<RedHatState> {
        Some(match word {
            "fixed" => RedHatState::Fixed,
            "wont_fix" => RedHatState::WontFix,
            "affected" => RedHatState::Affected,
            "under_investigation" => RedHatState::UnderInvestigation,
            _ => return None,
        })
    }

    /// How an explanation words it; `None` for [`RedHatState::Fixed`], which the fixed
    /// version already says.
    pub fn phrase(self) -> Option<&'static str> {
        match self {
            RedHatState::Fixed => None,
            RedHatState::WontFix => Some("will not fix"),
            RedHatState::Affected => Some("affected, no fix available"),
            RedHatState::UnderInvestigation => Some("under investigation"),
        }
    }
}

/// What Red Hat states about one affected entry beyond its ranges.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RedHatStatement {
    pub state: RedHatState,
    /// The remediation's details ("Fix deferred", "Out of support scope"); `None` when the
    /// document gives none (and always for [`RedHatState::Fixed`]).
    pub reason: Option<String>,
}

impl RedHatStatement {
    /// Writes the statement into an entry's `ecosystem_specific` map in the stored form.
    pub fn write_into(&self, map: &mut serde_json::Map<String, Value>) {
        map.insert("redhat_state".into(), Value::from(self.state.as_str()));
        if let Some(reason) = &self.reason {
            map.insert("redhat_reason".into(), Value::from(reason.as_str()));
        }
    }

    /// A phrase for an explanation (`Red Hat: will not fix (Out of support scope)`); `None`
    /// for a fixed state.
    pub fn describe(&self) -> Option<String> {
        let state = self.state.phrase()?;
        Some(match self.reason.as_deref().filter(|r| !r.is_empty()) {
            Some(reason) => format!("Red Hat: {state} ({reason})"),
            None => format!("Red Hat: {state}"),
        })
    }
}

impl Affected {
    /// Red Hat's statement for this entry, from `ecosystem_specific` (written by
    /// [`crate::csaf::to_records`]). `None` when there is none, or when the state is a word
    /// this version does not know (then nothing is inferred from it).
    pub fn redhat_statement(&self) -> Option<RedHatStatement> {
        let v = self.ecosystem_specific.as_ref()?;
        let state = RedHatState::from_word(v.get("redhat_state")?.as_str()?)?;
        let reason = v.get("redhat_reason").and_then(Value::as_str).map(str::to_owned);
        Some(RedHatStatement { state, reason })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stored_form_round_trips() {
        for state in [RedHatState::Fixed, RedHatState::WontFix, RedHatState::Affected, RedHatState::UnderInvestigation]
        {
            let statement = RedHatStatement { state, reason: Some("Out of support scope".into()) };
            let mut map = serde_json::Map::new();
            statement.write_into(&mut map);
            let entry = Affected { ecosystem_specific: Some(Value::Object(map)), ..Affected::default() };
            assert_eq!(entry.redhat_statement(), Some(statement));
            assert_eq!(serde_json::to_value(state).unwrap(), Value::from(state.as_str()));
        }
        let unknown = Affected {
            ecosystem_specific: Some(serde_json::json!({"redhat_state": "some_new_state"})),
            ..Affected::default()
        };
        assert_eq!(unknown.redhat_statement(), None);
        let s = RedHatStatement { state: RedHatState::WontFix, reason: None };
        assert_eq!(s.describe().as_deref(), Some("Red Hat: will not fix"));
        assert_eq!(RedHatStatement { state: RedHatState::Fixed, reason: None }.describe(), None);
    }
}

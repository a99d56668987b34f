//! Why an analyzer could not analyse a file, as a value callers match on.

use serde::{Deserialize, Serialize};

/// Why a [`crate::FileAnalyzer`] could not analyse one file: which analyzer, which path,
/// and the cause. It never stops a layer's walk; the layer records it as a warning about
/// the file, whose text is this error's `Display` (`{path}: {analyzer}: {cause}`).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error, Serialize, Deserialize)]
#[error("{path}: {analyzer}: {cause}")]
pub struct AnalyzeError {
    /// The analyzer's id ([`crate::FileAnalyzer::id`]).
    pub analyzer: String,
    /// The path as the analyzer was given it (normalised, no leading `/`).
    pub path: String,
    pub cause: AnalyzeCause,
}

impl AnalyzeError {
    /// `cause` for analyzer `analyzer` at `path`.
    pub fn new(analyzer: &str, path: &str, cause: AnalyzeCause) -> AnalyzeError {
        AnalyzeError { analyzer: analyzer.to_owned(), path: path.to_owned(), cause }
    }

    /// The warning a layer records for it: about its path, reading `{analyzer}: {cause}`
    /// (so its text is this error's `Display`).
    pub fn warning(&self) -> bulwark_core::Warning {
        bulwark_core::Warning::file(self.path.clone(), format!("{}: {}", self.analyzer, self.cause))
    }
}

/// What went wrong in an analyzer, by kind.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
#[non_exhaustive]
pub enum AnalyzeCause {
    /// Reading the file's bytes failed.
    #[error("cannot read: {message}")]
    Io { message: String },
    /// The bytes are not what the analyzer reads (a damaged package database).
    #[error("{message}")]
    Parse { message: String },
    /// The file is larger than the analyzer reads whole (the language catalogers read
    /// archives and binaries up to a fixed size).
    #[error("{size} bytes, over the {limit}-byte cataloguing limit; not catalogued")]
    TooLarge { size: u64, limit: u64 },
    /// The external engine the analyzer hands files to failed on this file; the scan
    /// stops with an error (an engine the user asked for is never skipped).
    #[error("{message}")]
    EngineFailed { engine: String, message: String },
    /// The external engine failed earlier in this scan, so this file was not sent to it.
    #[error("not scanned: {message}")]
    EngineUnavailable { engine: String, message: String },
    /// The analyzer's result could not be encoded for storage.
    #[error("{message}")]
    Encode { message: String },
}

impl AnalyzeCause {
    /// A read error.
    pub fn io(e: &std::io::Error) -> AnalyzeCause {
        AnalyzeCause::Io { message: e.to_string() }
    }

    /// A parse error.
    pub fn parse(message: impl std::fmt::Display) -> AnalyzeCause {
        AnalyzeCause::Parse { message: message.to_string() }
    }

    /// An encoding error of a result.
    pub fn encode(e: &serde_json::Error) -> AnalyzeCause {
        AnalyzeCause::Encode { message: e.to_string() }
    }

    /// This cause, for analyzer `analyzer` at `path`.
    pub fn at(self, analyzer: &str, path: &str) -> AnalyzeError {
        AnalyzeError::new(analyzer, path, self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn display_names_path_analyzer_and_cause() {
        let e = AnalyzeCause::TooLarge { size: 10, limit: 5 }.at("lang-packages", "opt/a.jar");
        assert_eq!(
            e.to_string(),
            "opt/a.jar: lang-packages: 10 bytes, over the 5-byte cataloguing limit; not catalogued"
        );
        let e = AnalyzeCause::io(&std::io::Error::other("boom")).at("malware", "x");
        assert_eq!(e.to_string(), "x: malware: cannot read: boom");
        let w = e.warning();
        assert_eq!(
            (w.kind, w.path.as_deref(), w.message.as_str()),
            (bulwark_core::WarningKind::Layer, Some("x"), "malware: cannot read: boom")
        );
        assert_eq!(w.to_string(), e.to_string(), "the warning reads as the error");
        let json = serde_json::to_value(&e).unwrap();
        assert_eq!(json["cause"]["kind"], "io");
        assert_eq!(serde_json::from_value::<AnalyzeError>(json).unwrap(), e);
    }
}

//! RFC 9457 problem details, with the field or parameter at fault.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// The media type of every error body.
pub const PROBLEM_CONTENT_TYPE: &str = "application/problem+json";

/// An error answer (RFC 9457). `errors` names each field (a JSON pointer into the body, or a
/// query or path parameter name) and what is wrong with it, so a client can show it at its
/// place.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Problem {
    /// A URI naming the kind of problem, e.g. `https://bulwark.dev/problems/invalid-field`.
    #[serde(rename = "type")]
    pub kind: String,
    pub title: String,
    pub status: u16,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
    /// The request path.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub instance: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<FieldError>,
}

/// One field or parameter at fault.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct FieldError {
    /// `/reference` (a JSON pointer into the body), or a parameter name such as `limit`.
    pub field: String,
    pub message: String,
}

impl Problem {
    /// A problem of `kind` (a short slug) with its status and title.
    pub fn new(status: u16, kind: &str, title: impl Into<String>) -> Problem {
        Problem {
            kind: format!("https://bulwark.dev/problems/{kind}"),
            title: title.into(),
            status,
            detail: None,
            instance: None,
            errors: Vec::new(),
        }
    }

    pub fn with_detail(mut self, detail: impl Into<String>) -> Problem {
        self.detail = Some(detail.into());
        self
    }

    /// Adds a field at fault; the detail says the first one when none was set.
    pub fn with_field(mut self, field: impl Into<String>, message: impl Into<String>) -> Problem {
        let (field, message) = (field.into(), message.into());
        if self.detail.is_none() {
            self.detail = Some(format!("{field}: {message}"));
        }
        self.errors.push(FieldError { field, message });
        self
    }

    /// A 400 naming one field.
    pub fn invalid(field: impl Into<String>, message: impl Into<String>) -> Problem {
        Problem::new(400, "invalid-field", "a field or parameter is invalid").with_field(field, message)
    }
}

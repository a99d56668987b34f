//! Request extractors whose rejections are problems naming the field at fault (axum's own
//! answer plain text without the field).

use axum::body::Bytes;
use axum::extract::rejection::{BytesRejection, PathRejection};
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::header;
use axum::http::request::Parts;
use bulwark_api::Problem;
use serde::de::DeserializeOwned;

use crate::error::Error;

/// A JSON body. Malformed JSON is a 400, a wrong or unknown field a 422 naming it as a JSON
/// pointer, a body over the limit a 413, a missing `Content-Type: application/json` a 415.
#[derive(Debug)]
pub struct ApiJson<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for ApiJson<T> {
    type Rejection = Error;

    async fn from_request(req: Request, state: &S) -> Result<Self, Error> {
        let json = req
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.split(';').next())
            .is_some_and(|m| {
                let m = m.trim().to_ascii_lowercase();
                m == "application/json" || (m.starts_with("application/") && m.ends_with("+json"))
            });
        if !json {
            return Err(Problem::new(415, "unsupported-media-type", "the body must be JSON")
                .with_field("Content-Type", "expected application/json")
                .into());
        }
        let bytes = Bytes::from_request(req, state).await.map_err(body_rejection)?;
        parse_json(&bytes).map(ApiJson)
    }
}

/// Parses a JSON body, naming the field at fault.
pub fn parse_json<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, Error> {
    let de = &mut serde_json::Deserializer::from_slice(bytes);
    serde_path_to_error::deserialize(de).map_err(|e| {
        let pointer = pointer(e.path());
        let inner = e.into_inner();
        use serde_json::error::Category;
        match inner.classify() {
            Category::Syntax | Category::Eof | Category::Io => {
                Problem::new(400, "malformed-json", "the body is not valid JSON").with_detail(inner.to_string()).into()
            }
            Category::Data => {
                // The path ends at the unknown field itself, or at the object holding it.
                let message = strip_position(&inner.to_string());
                let field = match unknown_field(&message) {
                    Some(f) if !pointer.ends_with(&format!("/{f}")) => format!("{}/{f}", pointer.trim_end_matches('/')),
                    _ => pointer,
                };
                Problem::new(422, "invalid-field", "a field of the body is invalid").with_field(field, message).into()
            }
        }
    })
}

/// `serde_path_to_error`'s path as a JSON pointer (`/scope/image`, `/scanners/1`).
fn pointer(path: &serde_path_to_error::Path) -> String {
    use serde_path_to_error::Segment;
    let mut out = String::new();
    for seg in path.iter() {
        match seg {
            Segment::Seq { index } => out.push_str(&format!("/{index}")),
            Segment::Map { key } => out.push_str(&format!("/{}", key.replace('~', "~0").replace('/', "~1"))),
            Segment::Enum { variant } => out.push_str(&format!("/{variant}")),
            Segment::Unknown => {}
        }
    }
    if out.is_empty() { "/".to_owned() } else { out }
}

fn strip_position(message: &str) -> String {
    message.split(" at line ").next().unwrap_or(message).to_owned()
}

fn unknown_field(message: &str) -> Option<String> {
    let rest = message.strip_prefix("unknown field `")?;
    Some(rest.split('`').next()?.to_owned())
}

fn body_rejection(r: BytesRejection) -> Error {
    let status = r.status().as_u16();
    if status == 413 {
        Problem::new(413, "body-too-large", "the request body is too large")
            .with_detail("the body exceeds the server's limit (max_body_bytes)")
            .into()
    } else {
        Problem::new(status, "bad-body", "the request body could not be read").with_detail(r.body_text()).into()
    }
}

/// Query parameters, validated: an unknown or malformed one is a 400 naming it.
#[derive(Debug)]
pub struct ApiQuery<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequestParts<S> for ApiQuery<T> {
    type Rejection = Error;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Error> {
        let query = parts.uri.query().unwrap_or_default();
        let de = serde_urlencoded_de(query);
        de.map(ApiQuery)
    }
}

fn serde_urlencoded_de<T: DeserializeOwned>(query: &str) -> Result<T, Error> {
    // Parameters arrive as strings; numbers and booleans are converted by the types'
    // `Deserialize` through `crate::query` helpers.
    let pairs: Vec<(String, String)> = form_pairs(query)?;
    let mut map = serde_json::Map::new();
    for (k, v) in pairs {
        if map.insert(k.clone(), serde_json::Value::String(v)).is_some() {
            return Err(Problem::invalid(k, "given more than once").into());
        }
    }
    serde_path_to_error::deserialize(serde_json::Value::Object(map)).map_err(|e| {
        let field = e.path().to_string();
        let message = e.into_inner().to_string();
        let field = unknown_field(&message).unwrap_or(field);
        Problem::new(400, "invalid-parameter", "a query parameter is invalid").with_field(field, message).into()
    })
}

/// `a=b&c=d` percent-decoded (`+` is a space).
fn form_pairs(query: &str) -> Result<Vec<(String, String)>, Error> {
    let mut out = Vec::new();
    for part in query.split('&').filter(|p| !p.is_empty()) {
        let (k, v) = part.split_once('=').unwrap_or((part, ""));
        let k = percent_decode(k).ok_or_else(|| Error::from(Problem::invalid(k, "invalid percent-encoding")))?;
        let v =
            percent_decode(v).ok_or_else(|| Error::from(Problem::invalid(k.clone(), "invalid percent-encoding")))?;
        out.push((k, v));
    }
    Ok(out)
}

/// Percent-decoding to UTF-8; `None` for a bad escape or bytes that are not UTF-8.
pub fn percent_decode(s: &str) -> Option<String> {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'%' => {
                let hex = std::str::from_utf8(b.get(i + 1..i + 3)?).ok()?;
                out.push(u8::from_str_radix(hex, 16).ok()?);
                i += 3;
            }
            b'+' => {
                out.push(b' ');
                i += 1;
            }
            c => {
                out.push(c);
                i += 1;
            }
        }
    }
    String::from_utf8(out).ok()
}

/// Path parameters: a rejection names the parameter.
#[derive(Debug)]
pub struct ApiPath<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned + Send> FromRequestParts<S> for ApiPath<T> {
    type Rejection = Error;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Error> {
        match axum::extract::Path::<T>::from_request_parts(parts, state).await {
            Ok(axum::extract::Path(v)) => Ok(ApiPath(v)),
            Err(e) => Err(path_rejection(e)),
        }
    }
}

fn path_rejection(e: PathRejection) -> Error {
    Problem::new(400, "invalid-path-parameter", "a path parameter is invalid").with_detail(e.body_text()).into()
}

/// Query deserialisation helpers: numbers and booleans arrive as strings.
pub mod query {
    use serde::{Deserialize, Deserializer, de::Error as _};

    pub fn opt_u32<'de, D: Deserializer<'de>>(d: D) -> Result<Option<u32>, D::Error> {
        let s = Option::<String>::deserialize(d)?;
        s.map(|s| s.parse::<u32>().map_err(|_| D::Error::custom(format!("expected a whole number, got {s:?}"))))
            .transpose()
    }

    pub fn opt_u64<'de, D: Deserializer<'de>>(d: D) -> Result<Option<u64>, D::Error> {
        let s = Option::<String>::deserialize(d)?;
        s.map(|s| s.parse::<u64>().map_err(|_| D::Error::custom(format!("expected a whole number, got {s:?}"))))
            .transpose()
    }

    pub fn opt_bool<'de, D: Deserializer<'de>>(d: D) -> Result<Option<bool>, D::Error> {
        let s = Option::<String>::deserialize(d)?;
        s.map(|s| match s.as_str() {
            "true" | "1" => Ok(true),
            "false" | "0" => Ok(false),
            _ => Err(D::Error::custom(format!("expected true or false, got {s:?}"))),
        })
        .transpose()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_errors_name_the_field() {
        let e = parse_json::<bulwark_api::ScanRequest>(br#"{"reference": "a", "scanners": ["vuln", "virus"]}"#)
            .unwrap_err();
        let Error::Problem(p) = e else { panic!() };
        assert_eq!((p.status, p.errors[0].field.as_str()), (422, "/scanners/1"));
        let Error::Problem(p) =
            parse_json::<bulwark_api::ScanRequest>(br#"{"reference": "a", "refrence": 1}"#).unwrap_err()
        else {
            panic!()
        };
        assert_eq!(p.errors[0].field, "/refrence");
        let Error::Problem(p) = parse_json::<bulwark_api::ScanRequest>(b"{\"reference\": ").unwrap_err() else {
            panic!()
        };
        assert_eq!(p.status, 400);
    }

    #[test]
    fn percent_decoding() {
        assert_eq!(percent_decode("a%20b+c").as_deref(), Some("a b c"));
        assert_eq!(percent_decode("%zz"), None);
        assert_eq!(percent_decode("%ff"), None);
    }
}

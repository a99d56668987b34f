//! `WWW-Authenticate` challenges and token-server responses.

use std::collections::BTreeMap;

use serde::Deserialize;

/// One authentication challenge from a `WWW-Authenticate` header.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Challenge {
    /// The scheme, lower-cased (`basic`, `bearer`).
    pub scheme: String,
    /// Parameters with lower-cased names.
    pub params: BTreeMap<String, String>,
}

impl Challenge {
    pub fn param(&self, name: &str) -> Option<&str> {
        self.params.get(name).map(String::as_str)
    }
}

fn is_tchar(c: char) -> bool {
    c.is_ascii_alphanumeric() || "!#$%&'*+-.^_`|~".contains(c)
}

/// Parses the value(s) of `WWW-Authenticate` headers (RFC 9110 §11.6.1): several
/// challenges separated by commas, each a scheme followed by `name=value` parameters
/// whose values are tokens or quoted strings with backslash escapes. Parameters without
/// a value and token68 credentials are skipped; garbage is skipped rather than fatal.
pub(crate) fn parse_challenges(header: &str) -> Vec<Challenge> {
    let chars: Vec<char> = header.chars().collect();
    let mut p = Parser { chars: &chars, pos: 0 };
    let mut out = Vec::new();
    loop {
        p.skip(|c| c == ',' || c.is_whitespace());
        if p.at_end() {
            break;
        }
        let scheme = p.token();
        if scheme.is_empty() {
            p.pos += 1;
            continue;
        }
        let mut params = BTreeMap::new();
        loop {
            let save = p.pos;
            p.skip(|c| c == ',' || c.is_whitespace());
            let name = p.token();
            p.skip(|c| c == ' ' || c == '\t');
            if name.is_empty() || p.peek() != Some('=') {
                // The next challenge's scheme (or a token68, or garbage).
                if name.is_empty() && !p.at_end() && p.peek() != Some(',') {
                    // Skip one unexpected character so we always make progress.
                    p.pos += 1;
                    continue;
                }
                p.pos = save;
                break;
            }
            p.pos += 1; // '='
            if p.peek() == Some('=') {
                // token68 padding such as `abc==`: not a parameter.
                p.skip(|c| c == '=');
                continue;
            }
            p.skip(|c| c == ' ' || c == '\t');
            let value = if p.peek() == Some('"') { p.quoted() } else { p.bare_value() };
            params.entry(name.to_ascii_lowercase()).or_insert(value);
        }
        out.push(Challenge { scheme: scheme.to_ascii_lowercase(), params });
    }
    out
}

struct Parser<'a> {
    chars: &'a [char],
    pos: usize,
}

impl Parser<'_> {
    fn at_end(&self) -> bool {
        self.pos >= self.chars.len()
    }

    fn peek(&self) -> Option<char> {
        self.chars.get(self.pos).copied()
    }

    fn skip(&mut self, f: impl Fn(char) -> bool) {
        while self.peek().is_some_and(&f) {
            self.pos += 1;
        }
    }

    fn token(&mut self) -> String {
        let start = self.pos;
        self.skip(is_tchar);
        self.chars[start..self.pos].iter().collect()
    }

    /// An unquoted value; lenient: anything up to a comma or whitespace (realms are
    /// sometimes sent unquoted, and URLs are not tokens).
    fn bare_value(&mut self) -> String {
        let start = self.pos;
        self.skip(|c| c != ',' && !c.is_whitespace());
        self.chars[start..self.pos].iter().collect()
    }

    /// A quoted string starting at `"`; an unterminated one runs to the end.
    fn quoted(&mut self) -> String {
        self.pos += 1;
        let mut out = String::new();
        while let Some(c) = self.peek() {
            self.pos += 1;
            match c {
                '"' => break,
                '\\' => {
                    if let Some(next) = self.peek() {
                        out.push(next);
                        self.pos += 1;
                    }
                }
                c => out.push(c),
            }
        }
        out
    }
}

/// The JSON a token server answers with (Docker token spec and OAuth2).
#[derive(Deserialize)]
struct TokenResponse {
    #[serde(default)]
    token: Option<String>,
    #[serde(default)]
    access_token: Option<String>,
}

/// Extracts the bearer token from a token server response.
pub(crate) fn parse_token_response(body: &[u8]) -> Result<String, String> {
    let r: TokenResponse = serde_json::from_slice(body).map_err(|e| format!("token server sent invalid JSON: {e}"))?;
    r.token
        .filter(|t| !t.is_empty())
        .or(r.access_token.filter(|t| !t.is_empty()))
        .ok_or_else(|| "token server response has neither `token` nor `access_token`".to_owned())
}

/// Percent-encodes a query or form component (RFC 3986 unreserved characters kept).
pub(crate) fn encode_component(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn one(h: &str) -> Challenge {
        let mut v = parse_challenges(h);
        assert_eq!(v.len(), 1, "{h}: {v:?}");
        v.remove(0)
    }

    #[test]
    fn bearer_with_quoted_commas() {
        let c = one(
            r#"Bearer realm="https://auth.docker.io/token",service="registry.docker.io",scope="repository:library/alpine:pull,push""#,
        );
        assert_eq!(c.scheme, "bearer");
        assert_eq!(c.param("realm"), Some("https://auth.docker.io/token"));
        assert_eq!(c.param("service"), Some("registry.docker.io"));
        assert_eq!(c.param("scope"), Some("repository:library/alpine:pull,push"));
    }

    #[test]
    fn escapes_spaces_and_case() {
        let c = one(r#"BEARER  Realm = "a\"b\\c" , error="insufficient_scope""#);
        assert_eq!(c.scheme, "bearer");
        assert_eq!(c.param("realm"), Some(r#"a"b\c"#));
        assert_eq!(c.param("error"), Some("insufficient_scope"));
    }

    #[test]
    fn multiple_challenges() {
        let v =
            parse_challenges(r#"Basic realm="Registry Realm", Bearer realm="https://x/token",service=reg, Negotiate"#);
        let schemes: Vec<_> = v.iter().map(|c| c.scheme.as_str()).collect();
        assert_eq!(schemes, ["basic", "bearer", "negotiate"]);
        assert_eq!(v[0].param("realm"), Some("Registry Realm"));
        assert_eq!(v[1].param("realm"), Some("https://x/token"));
        assert_eq!(v[1].param("service"), Some("reg"));
    }

    #[test]
    fn token68_and_garbage() {
        let v = parse_challenges("Foo abc==, Basic realm=x");
        assert_eq!(v.last().unwrap().scheme, "basic");
        assert_eq!(v.last().unwrap().param("realm"), Some("x"));
        for junk in ["", ",,,", "=\"", "Bearer realm=\"unterminated", "\"\\", "Basic ,=,", "a=b=c"] {
            let _ = parse_challenges(junk);
        }
        assert_eq!(one("Bearer realm=\"unterminated").param("realm"), Some("unterminated"));
    }

    #[test]
    fn token_responses() {
        assert_eq!(parse_token_response(br#"{"token":"t1","expires_in":60}"#).unwrap(), "t1");
        assert_eq!(parse_token_response(br#"{"access_token":"t2"}"#).unwrap(), "t2");
        assert_eq!(parse_token_response(br#"{"token":"","access_token":"t3"}"#).unwrap(), "t3");
        assert!(parse_token_response(br#"{}"#).is_err());
        assert!(parse_token_response(b"<html>").is_err());
    }

    #[test]
    fn encodes() {
        assert_eq!(encode_component("repository:a/b:pull"), "repository%3Aa%2Fb%3Apull");
    }
}

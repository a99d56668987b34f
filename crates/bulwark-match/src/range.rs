//! OSV range evaluation (<https://ossf.github.io/osv-schema/#evaluation>).
//!
//! A range's events are sorted by version (`introduced: "0"` before everything), then walked
//! in order: `introduced` at or below the installed version opens an affected interval,
//! `fixed` at or below it closes the interval, `last_affected` strictly below it closes it.
//! `limit` events bound the whole range: the installed version must be below at least one
//! limit (`*` is no limit). Events with the same version are ordered introduced,
//! last_affected, fixed, limit, so an empty `[x, x)` interval stays empty.

use std::cmp::Ordering;

use bulwark_advisory::osv::Event;
use bulwark_version::{Ecosystem, Version};

/// Why a range could not be evaluated. The caller reports it and treats the range as not
/// matching (never as affected).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RangeError {
    /// An event with a key the schema does not define (the key is kept).
    UnknownEvent(String),
    /// An event version that does not parse with the ecosystem's scheme (the message names it).
    InvalidVersion { version: String, message: String },
}

impl std::fmt::Display for RangeError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            RangeError::UnknownEvent(key) => write!(f, "unknown range event {key:?}"),
            RangeError::InvalidVersion { message, .. } => f.write_str(message),
        }
    }
}

/// The upper end of the interval an installed version fell into.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Upper {
    /// Affected below this version.
    Fixed(String),
    /// Affected up to and including this version.
    LastAffected(String),
    /// No later event closes the interval.
    Open,
}

/// The interval of a range that contains the installed version.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Hit {
    /// The `introduced` event that opened the interval (`"0"` for "since the beginning").
    pub introduced: String,
    pub upper: Upper,
}

/// An event whose version has been parsed (`introduced: "0"` has none).
#[derive(Debug, Clone)]
struct Parsed<'a> {
    event: &'a Event,
    version: Option<Version>,
}

fn rank(e: &Event) -> u8 {
    match e {
        Event::Introduced(_) => 0,
        Event::LastAffected(_) => 1,
        Event::Fixed(_) => 2,
        Event::Limit(_) => 3,
        Event::Unknown(_) => 4,
    }
}

fn cmp_versions(a: &Version, b: &Version) -> Ordering {
    a.partial_cmp(b).unwrap_or(Ordering::Equal)
}

/// Parses an event version with `scheme`; `Ok(None)` for the "zero" introduced and `*` limit.
fn parse_event(scheme: Ecosystem, e: &Event) -> Result<Option<Version>, RangeError> {
    let v = match e {
        Event::Unknown(key) => return Err(RangeError::UnknownEvent(key.clone())),
        Event::Introduced(v) if v.trim() == "0" => return Ok(None),
        Event::Limit(v) if v.trim() == "*" => return Ok(None),
        other => other.value().trim(),
    };
    Version::parse(scheme, v)
        .map(Some)
        .map_err(|err| RangeError::InvalidVersion { version: v.to_owned(), message: err.to_string() })
}

/// A range whose events are parsed and sorted once, to be evaluated for many versions.
#[derive(Debug, Clone)]
pub struct ParsedRange<'a> {
    events: Vec<Parsed<'a>>,
}

impl<'a> ParsedRange<'a> {
    /// Parses and sorts a range's events (see the module docs for the order).
    pub fn parse(scheme: Ecosystem, events: &'a [Event]) -> Result<ParsedRange<'a>, RangeError> {
        let mut out = Vec::with_capacity(events.len());
        for event in events {
            out.push(Parsed { event, version: parse_event(scheme, event)? });
        }
        out.sort_by(|a, b| {
            let by_version = match (&a.version, &b.version) {
                (None, None) => Ordering::Equal,
                // "0" sorts first; a `*` limit has no version either and evaluates separately.
                (None, Some(_)) => Ordering::Less,
                (Some(_), None) => Ordering::Greater,
                (Some(x), Some(y)) => cmp_versions(x, y),
            };
            by_version.then(rank(a.event).cmp(&rank(b.event)))
        });
        Ok(ParsedRange { events: out })
    }

    /// The interval containing `installed` (parsed with the same scheme), if any.
    pub fn contains(&self, installed: &Version) -> Option<Hit> {
        let events = &self.events;
        let mut limited = false;
        let mut below_a_limit = false;
        for p in events.iter().filter(|p| matches!(p.event, Event::Limit(_))) {
            limited = true;
            below_a_limit |= p.version.as_ref().is_none_or(|l| cmp_versions(installed, l) == Ordering::Less);
        }
        if limited && !below_a_limit {
            return None;
        }
        let mut open: Option<usize> = None;
        for (i, p) in events.iter().enumerate() {
            let ord = p.version.as_ref().map(|v| cmp_versions(installed, v));
            match p.event {
                Event::Introduced(_) if ord.is_none_or(|o| o != Ordering::Less) => open = Some(i),
                Event::Fixed(_) if ord.is_some_and(|o| o != Ordering::Less) => open = None,
                Event::LastAffected(_) if ord == Some(Ordering::Greater) => open = None,
                _ => {}
            }
        }
        let start = open?;
        let upper = events[start + 1..]
            .iter()
            .find_map(|p| match p.event {
                Event::Fixed(v) => Some(Upper::Fixed(v.clone())),
                Event::LastAffected(v) => Some(Upper::LastAffected(v.clone())),
                _ => None,
            })
            .unwrap_or(Upper::Open);
        Some(Hit { introduced: events[start].event.value().to_owned(), upper })
    }

    /// The `fixed` versions the range names, parsed, with their spelling.
    pub fn fixed(&self) -> impl Iterator<Item = (&Version, &'a str)> + '_ {
        self.events.iter().filter_map(|p| match (p.event, &p.version) {
            (Event::Fixed(s), Some(v)) => Some((v, s.trim())),
            _ => None,
        })
    }
}

/// Evaluates one ECOSYSTEM or SEMVER range for `installed` (parsed with `scheme`).
///
/// Returns the interval containing `installed`, `None` if the range does not affect it, or an
/// error if the range cannot be evaluated (unknown event, unparsable version).
pub fn evaluate(scheme: Ecosystem, installed: &Version, events: &[Event]) -> Result<Option<Hit>, RangeError> {
    Ok(ParsedRange::parse(scheme, events)?.contains(installed))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ev(list: &[(&str, &str)]) -> Vec<Event> {
        list.iter()
            .map(|(k, v)| match *k {
                "introduced" => Event::Introduced((*v).into()),
                "fixed" => Event::Fixed((*v).into()),
                "last_affected" => Event::LastAffected((*v).into()),
                "limit" => Event::Limit((*v).into()),
                _ => Event::Unknown((*k).into()),
            })
            .collect()
    }

    fn hit(events: &[(&str, &str)], v: &str) -> bool {
        let installed = Version::parse(Ecosystem::Semver, v).unwrap();
        evaluate(Ecosystem::Semver, &installed, &ev(events)).unwrap().is_some()
    }

    #[test]
    fn unsorted_events_are_sorted() {
        let e = [("fixed", "2.0.0"), ("introduced", "1.5.0"), ("fixed", "1.2.0"), ("introduced", "0")];
        for (v, want) in [("0.1.0", true), ("1.2.0", false), ("1.4.9", false), ("1.5.0", true), ("2.0.0", false)] {
            assert_eq!(hit(&e, v), want, "{v}");
        }
    }

    #[test]
    fn limit_bounds_the_range() {
        let e = [("introduced", "0"), ("limit", "1.0.0")];
        assert!(hit(&e, "0.9.0"));
        assert!(!hit(&e, "1.0.0"));
        assert!(hit(&[("introduced", "0"), ("limit", "*")], "9.0.0"));
    }
}

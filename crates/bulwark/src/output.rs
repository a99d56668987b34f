//! What users type for outputs and enumerated flags: `--output [FORMAT=]FILE` and the
//! case- and space-tolerant parser behind `--severity`, `--scanners` and `--format`.
//!
//! `--output` is strict because a wrong one is silent in CI: `-o sarif:r.sarif` used to write
//! a table to a file literally named `sarif:r.sarif`, and the SARIF upload found nothing.

use std::ffi::OsStr;
use std::marker::PhantomData;
use std::path::{Path, PathBuf};

use clap::ValueEnum;
use clap::builder::{PossibleValue, TypedValueParser};
use clap::error::{ContextKind, ContextValue, ErrorKind};

use crate::cli::ReportFormat;

/// The long help of `--output`.
pub const OUTPUT_HELP: &str = "\
Write a report to a file; repeatable.
  FORMAT=FILE  writes FORMAT to FILE and leaves stdout as it is, e.g. sarif=bulwark.sarif
  FILE         writes to FILE instead of stdout, in --format if given, otherwise in the
               format the extension names: .json, .sarif (.sarif.json), .cdx.json,
               .spdx.json, .xml (JUnit), .html, .md, .txt (table)
Anything else is an error: an unknown FORMAT, FORMAT:FILE, a FILE whose extension names no
format without --format, or one whose extension names another format than --format.
A path that contains `=` is written with a directory, e.g. ./a=b.json.";

/// One `--output` as typed: `FORMAT=FILE` (`format` set) or a plain `FILE`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutputSpec {
    pub format: Option<ReportFormat>,
    pub path: PathBuf,
}

/// Where a report goes (`None` is stdout) and in which format.
pub type Output = (ReportFormat, Option<PathBuf>);

fn format_names() -> String {
    ReportFormat::value_variants()
        .iter()
        .filter_map(|f| f.to_possible_value())
        .map(|p| p.get_name().to_owned())
        .collect::<Vec<_>>()
        .join(", ")
}

fn valid_forms() -> String {
    format!(
        "valid forms: FORMAT=FILE with FORMAT one of {}; or FILE ending in .json, .sarif, .cdx.json, .spdx.json, .xml, .html, .md, .txt",
        format_names()
    )
}

/// Parses one `--output` value (clap value parser).
pub fn parse_output(spec: &str) -> Result<OutputSpec, String> {
    if spec.trim().is_empty() {
        return Err(format!("empty output\n{}", valid_forms()));
    }
    // A leading word before `=` or `:` is meant as a format name; a path with a directory
    // (`./a=b.json`, `out/x:y.json`) is a path.
    let word = |w: &str| !w.is_empty() && w.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
    if let Some((name, file)) = spec.split_once('=')
        && word(name)
    {
        let Ok(format) = ReportFormat::from_str(name, true) else {
            let names: Vec<String> = ReportFormat::value_variants()
                .iter()
                .filter_map(|f| f.to_possible_value())
                .map(|p| p.get_name().to_owned())
                .collect();
            let names: Vec<&str> = names.iter().map(String::as_str).collect();
            // Only near names that start alike: `yml` is not a misspelt `html`.
            let lower = name.to_ascii_lowercase();
            let hint = match bulwark_policy::closest(&lower, &names).filter(|c| c.get(..1) == lower.get(..1)) {
                Some(c) => format!(" (did you mean `{c}={file}`?)"),
                None => String::new(),
            };
            return Err(format!("unknown format `{name}`{hint}\n{}", valid_forms()));
        };
        if file.trim().is_empty() {
            return Err(format!("`{spec}` names no file\n{}", valid_forms()));
        }
        return Ok(OutputSpec { format: Some(format), path: PathBuf::from(file) });
    }
    if let Some((name, file)) = spec.split_once(':')
        && word(name)
        && ReportFormat::from_str(name, true).is_ok()
    {
        return Err(format!("FORMAT:FILE is not a form of --output: write `{name}={file}`\n{}", valid_forms()));
    }
    Ok(OutputSpec { format: None, path: PathBuf::from(spec) })
}

/// The format a file name's extension names, if any.
pub fn format_of_extension(path: &Path) -> Option<ReportFormat> {
    let name = path.file_name()?.to_str()?.to_ascii_lowercase();
    let ends = |suffixes: &[&str]| suffixes.iter().any(|s| name.ends_with(s));
    Some(if ends(&[".cdx.json", ".cyclonedx.json", ".cdx"]) {
        ReportFormat::Cyclonedx
    } else if ends(&[".spdx.json"]) {
        ReportFormat::Spdx
    } else if ends(&[".sarif", ".sarif.json"]) {
        ReportFormat::Sarif
    } else if ends(&[".json"]) {
        ReportFormat::Json
    } else if ends(&[".xml"]) {
        ReportFormat::Junit
    } else if ends(&[".html", ".htm"]) {
        ReportFormat::Html
    } else if ends(&[".md", ".markdown"]) {
        ReportFormat::Markdown
    } else if ends(&[".txt"]) {
        ReportFormat::Table
    } else {
        return None;
    })
}

fn name(f: ReportFormat) -> String {
    f.to_possible_value().map(|p| p.get_name().to_owned()).unwrap_or_default()
}

/// Every output of a command: a plain `FILE` replaces stdout, `FORMAT=FILE` adds a file.
/// `format` is `--format` when it was given (flag, environment or config file).
pub fn resolve(specs: &[OutputSpec], format: Option<ReportFormat>) -> Result<Vec<Output>, String> {
    let mut outputs = Vec::new();
    let mut stdout_replaced = false;
    for spec in specs {
        let chosen = match (spec.format, format, format_of_extension(&spec.path)) {
            (Some(f), _, _) => f,
            (None, Some(f), Some(ext)) if f != ext && !(ext == ReportFormat::Json && is_json(f)) => {
                let p = spec.path.display();
                return Err(format!(
                    "--output {p}: the extension names {} but --format is {}\nhint: write `{}={p}` or `{}={p}`",
                    name(ext),
                    name(f),
                    name(f),
                    name(ext)
                ));
            }
            (None, Some(f), _) => f,
            (None, None, Some(ext)) => ext,
            (None, None, None) => {
                let p = spec.path.display();
                return Err(format!(
                    "--output {p}: cannot tell the format from the file name\nhint: write FORMAT={p} (e.g. json={p}) or give --format\n{}",
                    valid_forms()
                ));
            }
        };
        if spec.format.is_none() {
            stdout_replaced = true;
        }
        outputs.push((chosen, Some(spec.path.clone())));
    }
    if !stdout_replaced {
        outputs.insert(0, (format.unwrap_or(ReportFormat::Table), None));
    }
    Ok(outputs)
}

/// Formats that are JSON documents, which a `.json` file may hold.
fn is_json(f: ReportFormat) -> bool {
    matches!(f, ReportFormat::Json | ReportFormat::Sarif | ReportFormat::Cyclonedx | ReportFormat::Spdx)
}

/// A value parser for enumerated flags that ignores case and surrounding spaces, so that
/// `--severity HIGH,CRITICAL` and `--severity "critical, high"` both work.
#[derive(Debug, Clone, Copy)]
pub struct Lenient<T>(PhantomData<T>);

/// The [`Lenient`] parser for `T`.
pub fn lenient<T>() -> Lenient<T> {
    Lenient(PhantomData)
}

impl<T: ValueEnum + Clone + Send + Sync + 'static> TypedValueParser for Lenient<T> {
    type Value = T;

    fn parse_ref(&self, cmd: &clap::Command, arg: Option<&clap::Arg>, value: &OsStr) -> Result<T, clap::Error> {
        let text = value.to_string_lossy();
        let text = text.trim();
        T::from_str(text, true).map_err(|_| {
            let mut e = clap::Error::new(ErrorKind::InvalidValue).with_cmd(cmd);
            if let Some(arg) = arg {
                e.insert(ContextKind::InvalidArg, ContextValue::String(arg.to_string()));
            }
            e.insert(ContextKind::InvalidValue, ContextValue::String(text.to_owned()));
            let valid = T::value_variants()
                .iter()
                .filter_map(|v| v.to_possible_value())
                .map(|p| p.get_name().to_owned())
                .collect();
            e.insert(ContextKind::ValidValue, ContextValue::Strings(valid));
            e
        })
    }

    fn possible_values(&self) -> Option<Box<dyn Iterator<Item = PossibleValue> + '_>> {
        Some(Box::new(T::value_variants().iter().filter_map(|v| v.to_possible_value())))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn outputs(specs: &[&str], format: Option<ReportFormat>) -> Result<Vec<Output>, String> {
        let specs: Vec<OutputSpec> = specs.iter().map(|s| parse_output(s)).collect::<Result<_, _>>()?;
        resolve(&specs, format)
    }

    #[test]
    fn outputs_replace_or_add_to_stdout() {
        use ReportFormat::*;
        assert_eq!(outputs(&[], None).unwrap(), vec![(Table, None)]);
        assert_eq!(outputs(&[], Some(Json)).unwrap(), vec![(Json, None)]);
        assert_eq!(
            outputs(&["json=r.json", "SARIF=r.sarif"], None).unwrap(),
            vec![(Table, None), (Json, Some("r.json".into())), (Sarif, Some("r.sarif".into()))]
        );
        assert!(outputs(&["out.txt"], Some(Markdown)).is_err());
        assert_eq!(outputs(&["out"], Some(Markdown)).unwrap(), vec![(Markdown, Some("out".into()))]);
        // The extension names the format when --format is not given.
        for (file, f) in [
            ("r.json", Json),
            ("r.sarif", Sarif),
            ("r.sarif.json", Sarif),
            ("bom.cdx.json", Cyclonedx),
            ("bom.spdx.json", Spdx),
            ("junit.xml", Junit),
            ("r.HTML", Html),
            ("r.md", Markdown),
            ("r.txt", Table),
        ] {
            assert_eq!(outputs(&[file], None).unwrap(), vec![(f, Some(file.into()))], "{file}");
        }
        // A .json file may hold any JSON format.
        assert_eq!(outputs(&["r.json"], Some(Sarif)).unwrap(), vec![(Sarif, Some("r.json".into()))]);
        // A path with a directory may contain `=`.
        assert_eq!(outputs(&["./a=b.json"], None).unwrap(), vec![(Json, Some("./a=b.json".into()))]);
    }

    #[test]
    fn unknown_forms_are_errors_that_list_the_valid_ones() {
        for (spec, needle) in [
            ("yml=r.yml", "unknown format `yml`"),
            ("sarif:r.sarif", "write `sarif=r.sarif`"),
            ("jsn=r.json", "did you mean `json=r.json`"),
            ("json=", "names no file"),
        ] {
            let e = parse_output(spec).unwrap_err();
            assert!(e.contains(needle), "{spec}: {e}");
            assert!(e.contains("valid forms: FORMAT=FILE"), "{spec}: {e}");
        }
        let e = outputs(&["report.log"], None).unwrap_err();
        assert!(e.contains("cannot tell the format"), "{e}");
        let e = outputs(&["report.sarif"], Some(ReportFormat::Table)).unwrap_err();
        assert!(e.contains("the extension names sarif but --format is table"), "{e}");
    }
}

//! A strict reader of Prometheus' text exposition format (0.0.4), for tests of what booth
//! writes: every line is `# HELP name text`, `# TYPE name gauge|counter` or
//! `name{label="value",...} number`; every family has its HELP and TYPE before its samples,
//! once; names and labels are well formed; no series appears twice. Shared by the unit tests
//! (`src/status/prometheus.rs` includes this file) and the integration tests, so it uses
//! nothing outside std and never panics.

use std::collections::{BTreeMap, HashSet};

/// One sample line.
#[derive(Debug, Clone, PartialEq)]
pub struct Sample {
    pub name: String,
    pub labels: BTreeMap<String, String>,
    pub value: f64,
}

/// Every sample of `text`, or the first line that breaks the format (1-based) and why.
pub fn parse(text: &str) -> Result<Vec<Sample>, String> {
    let mut helped = HashSet::new();
    let mut typed = HashSet::new();
    let mut sampled: HashSet<String> = HashSet::new();
    let mut series = HashSet::new();
    let mut samples = Vec::new();
    if !text.ends_with('\n') {
        return Err("the text does not end with a newline".into());
    }
    for (i, line) in text.lines().enumerate() {
        let at = |why: String| format!("line {}: {why}: {line:?}", i + 1);
        if let Some(rest) = line.strip_prefix("# ") {
            let (kind, rest) = rest
                .split_once(' ')
                .ok_or_else(|| at("a bare comment".into()))?;
            let (name, what) = rest.split_once(' ').ok_or_else(|| at("no text".into()))?;
            check_name(name).map_err(at)?;
            if sampled.contains(name) {
                return Err(at(format!("{kind} after the samples of {name}")));
            }
            let first = match kind {
                "HELP" => !what.trim().is_empty() && helped.insert(name.to_string()),
                "TYPE" => {
                    matches!(what, "gauge" | "counter" | "untyped")
                        && typed.insert(name.to_string())
                }
                _ => return Err(at(format!("unknown comment {kind}"))),
            };
            if !first {
                return Err(at(format!("a second or empty {kind}, or an unknown type")));
            }
            continue;
        }
        let sample = parse_sample(line).map_err(at)?;
        if !(helped.contains(&sample.name) && typed.contains(&sample.name)) {
            return Err(at("a sample before its HELP and TYPE".into()));
        }
        if !series.insert((sample.name.clone(), format!("{:?}", sample.labels))) {
            return Err(at("the same series twice".into()));
        }
        sampled.insert(sample.name.clone());
        samples.push(sample);
    }
    Ok(samples)
}

/// The value of the one sample of `name` whose labels include `labels`.
pub fn value(samples: &[Sample], name: &str, labels: &[(&str, &str)]) -> Result<f64, String> {
    let found: Vec<&Sample> = samples
        .iter()
        .filter(|s| {
            s.name == name
                && labels
                    .iter()
                    .all(|(k, v)| s.labels.get(*k).map(String::as_str) == Some(*v))
        })
        .collect();
    match found.as_slice() {
        [one] => Ok(one.value),
        other => Err(format!("{} samples of {name} with {labels:?}", other.len())),
    }
}

fn check_name(name: &str) -> Result<(), String> {
    let mut chars = name.chars();
    let first_ok = chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_' || c == ':');
    if first_ok && chars.all(|c| c.is_ascii_alphanumeric() || c == '_' || c == ':') {
        Ok(())
    } else {
        Err(format!("a bad metric name {name:?}"))
    }
}

fn parse_sample(line: &str) -> Result<Sample, String> {
    let (series, value) = line
        .rsplit_once(' ')
        .ok_or_else(|| "no value".to_string())?;
    let value: f64 = value
        .parse()
        .map_err(|_| format!("a value that is no number: {value:?}"))?;
    let (name, labels) = match series.split_once('{') {
        Some((name, rest)) => {
            let inner = rest
                .strip_suffix('}')
                .ok_or_else(|| "labels not closed".to_string())?;
            (name, parse_labels(inner)?)
        }
        None => (series, BTreeMap::new()),
    };
    check_name(name)?;
    Ok(Sample {
        name: name.to_string(),
        labels,
        value,
    })
}

fn parse_labels(mut rest: &str) -> Result<BTreeMap<String, String>, String> {
    let mut labels = BTreeMap::new();
    while !rest.is_empty() {
        let (key, after) = rest
            .split_once("=\"")
            .ok_or_else(|| format!("a label without =\"…\": {rest:?}"))?;
        check_name(key)?;
        if key.contains(':') || key.starts_with("__") {
            return Err(format!("a reserved or bad label name {key:?}"));
        }
        let mut value = String::new();
        let mut chars = after.char_indices();
        let end = loop {
            match chars.next() {
                Some((i, '"')) => break i,
                Some((_, '\\')) => match chars.next() {
                    Some((_, '\\')) => value.push('\\'),
                    Some((_, '"')) => value.push('"'),
                    Some((_, 'n')) => value.push('\n'),
                    other => return Err(format!("a bad escape in label {key}: {other:?}")),
                },
                Some((_, c)) => value.push(c),
                None => return Err(format!("label {key} is not closed")),
            }
        };
        if labels.insert(key.to_string(), value).is_some() {
            return Err(format!("label {key} twice"));
        }
        rest = &after[end + 1..];
        if let Some(next) = rest.strip_prefix(',') {
            rest = next;
        } else if !rest.is_empty() {
            return Err(format!("junk after label {key}: {rest:?}"));
        }
    }
    Ok(labels)
}

//! The words on the candidate's screen, per language: `assets/i18n/<lang>.toml` compiled in,
//! looked up by key (`"review.send"`), with `{name}` placeholders and one/other plural forms.
//! A key missing from a language falls back to English, then to the key itself, so a gap
//! shows up on screen as a readable key rather than a crash — and a test keeps every file
//! complete.

use std::collections::BTreeMap;
use std::sync::{Arc, OnceLock};

/// The built-in languages: (code, file).
const BUILTIN: &[(&str, &str)] = &[
    ("en", include_str!("../assets/i18n/en.toml")),
    ("de", include_str!("../assets/i18n/de.toml")),
];

/// One language's strings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Text {
    pub code: String,
    strings: BTreeMap<String, String>,
    fallback: Option<Arc<Text>>,
}

#[derive(Debug, thiserror::Error)]
#[error("assets/i18n/{code}.toml: {detail}")]
pub struct I18nError {
    pub code: String,
    pub detail: String,
}

fn flatten(
    prefix: &str,
    table: &toml::Table,
    out: &mut BTreeMap<String, String>,
) -> Result<(), String> {
    for (k, v) in table {
        let key = if prefix.is_empty() {
            k.clone()
        } else {
            format!("{prefix}.{k}")
        };
        match v {
            toml::Value::String(s) => {
                out.insert(key, s.clone());
            }
            toml::Value::Table(t) => flatten(&key, t, out)?,
            other => return Err(format!("'{key}' must be text, found {}", other.type_str())),
        }
    }
    Ok(())
}

impl Text {
    /// Parses one language file.
    pub fn parse(code: &str, source: &str, fallback: Option<Arc<Text>>) -> Result<Text, I18nError> {
        let err = |detail: String| I18nError {
            code: code.to_string(),
            detail,
        };
        let table: toml::Table = toml::from_str(source).map_err(|e| err(e.to_string()))?;
        let mut strings = BTreeMap::new();
        flatten("", &table, &mut strings).map_err(err)?;
        Ok(Text {
            code: code.to_string(),
            strings,
            fallback,
        })
    }

    /// The language's own name ("Deutsch").
    pub fn name(&self) -> &str {
        self.get("meta.name")
    }

    pub fn keys(&self) -> impl Iterator<Item = &str> {
        self.strings.keys().map(String::as_str)
    }

    /// The text for `key`, falling back to English, then to the key.
    pub fn get<'a>(&'a self, key: &'a str) -> &'a str {
        match self.strings.get(key) {
            Some(s) => s,
            None => match &self.fallback {
                Some(f) => f.get(key),
                None => key,
            },
        }
    }

    /// The text for `key` with `{name}` placeholders filled.
    pub fn fmt(&self, key: &str, args: &[(&str, &dyn std::fmt::Display)]) -> String {
        let mut out = self.get(key).to_string();
        for (name, value) in args {
            out = out.replace(&format!("{{{name}}}"), &value.to_string());
        }
        out
    }

    /// `key.one` or `key.other` by `n`, with `{n}` and `args` filled.
    pub fn plural(&self, key: &str, n: u64, args: &[(&str, &dyn std::fmt::Display)]) -> String {
        let form = if n == 1 { "one" } else { "other" };
        let full = format!("{key}.{form}");
        let mut all: Vec<(&str, &dyn std::fmt::Display)> = vec![("n", &n)];
        all.extend_from_slice(args);
        self.fmt(&full, &all)
    }
}

/// Every built-in language, English first (the fallback of the others).
pub fn languages() -> &'static [Arc<Text>] {
    static ALL: OnceLock<Vec<Arc<Text>>> = OnceLock::new();
    ALL.get_or_init(|| {
        let mut all: Vec<Arc<Text>> = Vec::new();
        for (code, source) in BUILTIN {
            let fallback = all.first().cloned();
            match Text::parse(code, source, fallback) {
                Ok(t) => all.push(Arc::new(t)),
                // The files are compiled in and checked by the tests below; a broken one is
                // skipped rather than taking the station down.
                Err(e) => eprintln!("booth: {e}"),
            }
        }
        all
    })
}

/// The language for a code like "de" or "de-CH" (English when none matches).
pub fn for_language(code: &str) -> Arc<Text> {
    let primary = code
        .split(['-', '_'])
        .next()
        .unwrap_or(code)
        .to_ascii_lowercase();
    let all = languages();
    all.iter()
        .find(|t| t.code == primary)
        .or_else(|| all.first())
        .cloned()
        .unwrap_or_else(|| {
            Arc::new(Text {
                code: "en".into(),
                strings: BTreeMap::new(),
                fallback: None,
            })
        })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeSet;

    fn placeholders(s: &str) -> BTreeSet<String> {
        let mut out = BTreeSet::new();
        let mut rest = s;
        while let Some(start) = rest.find('{') {
            let Some(len) = rest[start..].find('}') else {
                break;
            };
            out.insert(rest[start + 1..start + len].to_string());
            rest = &rest[start + len..];
        }
        out
    }

    #[test]
    fn every_language_has_every_key_with_the_same_placeholders() {
        let all = languages();
        assert_eq!(all.len(), BUILTIN.len(), "a language file failed to parse");
        let en = &all[0];
        let en_keys: BTreeSet<&str> = en.keys().collect();
        for t in &all[1..] {
            let keys: BTreeSet<&str> = t.keys().collect();
            let missing: Vec<_> = en_keys.difference(&keys).collect();
            let extra: Vec<_> = keys.difference(&en_keys).collect();
            assert!(missing.is_empty(), "{}.toml lacks {missing:?}", t.code);
            assert!(
                extra.is_empty(),
                "{}.toml has unknown keys {extra:?}",
                t.code
            );
            for k in &en_keys {
                assert_eq!(
                    placeholders(en.get(k)),
                    placeholders(t.get(k)),
                    "{}.toml: placeholders of '{k}' differ",
                    t.code
                );
                assert!(
                    !t.get(k).trim().is_empty(),
                    "{}.toml: '{k}' is empty",
                    t.code
                );
            }
        }
    }

    #[test]
    fn lookup_formats_and_plurals() {
        let de = for_language("de-CH");
        assert_eq!(de.code, "de");
        assert_eq!(de.name(), "Deutsch");
        assert_eq!(
            de.fmt("header.question_of", &[("n", &2), ("total", &4)]),
            "Frage 2 von 4"
        );
        let en = for_language("en");
        assert_eq!(en.plural("time.seconds", 1, &[]), "1 second");
        assert_eq!(en.plural("time.seconds", 90, &[]), "90 seconds");
        assert_eq!(for_language("xx").code, "en");
        // Unknown keys read as themselves rather than failing.
        assert_eq!(en.get("no.such.key"), "no.such.key");
    }

    #[test]
    fn no_english_sentence_is_left_in_the_screens() -> crate::TestResult {
        // A literal that starts like a sentence ("Press any key") in drawing code means a
        // string escaped the catalogue.
        let mut found = Vec::new();
        for entry in std::fs::read_dir("src/ui")? {
            let path = entry?.path();
            // Test-only files (snapshots, *_tests.rs) hold sample interview text, not screens.
            let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("");
            if !name.ends_with(".rs")
                || name.ends_with("snapshots.rs")
                || name.ends_with("tests.rs")
            {
                continue;
            }
            let src = std::fs::read_to_string(&path)?;
            let code = src.split("#[cfg(test)]").next().unwrap_or("");
            for (i, piece) in code.split('"').enumerate() {
                let mut chars = piece.chars();
                let sentence = i % 2 == 1
                    && chars.next().is_some_and(|c| c.is_ascii_uppercase())
                    && chars.next().is_some_and(|c| c.is_ascii_lowercase())
                    && piece.contains(' ');
                if sentence {
                    found.push(format!("{}: {piece}", path.display()));
                }
            }
        }
        assert!(found.is_empty(), "untranslated text: {found:#?}");
        Ok(())
    }

    #[test]
    fn the_ui_uses_only_keys_that_exist() -> crate::TestResult {
        // Every "section.key" literal passed to the lookups in src/ui and src/app must exist.
        let en = &languages()[0];
        let mut missing = Vec::new();
        for dir in ["src/ui", "src/app"] {
            for entry in std::fs::read_dir(dir)? {
                let path = entry?.path();
                if path.extension().is_none_or(|e| e != "rs") {
                    continue;
                }
                let src = std::fs::read_to_string(&path)?;
                for call in [".get(\"", ".fmt(\"", ".plural(\""] {
                    for piece in src.split(call).skip(1) {
                        let key = &piece[..piece.find('"').unwrap_or(0)];
                        let plural = call == ".plural(\"";
                        let exists = if plural {
                            en.strings.contains_key(&format!("{key}.one"))
                        } else {
                            en.strings.contains_key(key)
                        };
                        if key.contains('.') && !exists {
                            missing.push(format!("{}: {key}", path.display()));
                        }
                    }
                }
            }
        }
        assert!(
            missing.is_empty(),
            "keys missing from en.toml: {missing:#?}"
        );
        Ok(())
    }
}

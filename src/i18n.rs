//! The words on the candidate's screen, per language, looked up by key (`"review.send"`), with
//! `{name}` placeholders and one/other plural forms. English, German and Polish are compiled
//! in (`assets/i18n/<lang>.toml`); at start booth reads the same files from the install
//! (`/usr/share/booth/i18n/`) and from the station's folder (`i18n/` beside the config), which
//! may correct a language key by key or add one ([`files`]). A file that cannot be read is
//! left out with a log line and the words below it stay. A key missing from a language falls
//! back to English, then to the key itself, so a gap shows up on screen as a readable key
//! rather than a crash — and a test keeps every bundled file complete.

mod files;

use std::collections::BTreeMap;
use std::sync::{Arc, OnceLock};

pub use files::{I18nError, Loaded, install_dir, load, search_dirs, station_dir};

/// The built-in languages: (code, file). English first: it is every other language's fallback.
const BUILTIN: &[(&str, &str)] = &[
    ("en", include_str!("../assets/i18n/en.toml")),
    ("de", include_str!("../assets/i18n/de.toml")),
    ("pl", include_str!("../assets/i18n/pl.toml")),
];

/// One language's strings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Text {
    pub code: String,
    strings: BTreeMap<String, String>,
    fallback: Option<Arc<Text>>,
}

impl Text {
    /// The language's own name ("Deutsch").
    pub fn name(&self) -> &str {
        self.get("meta.name")
    }

    pub fn keys(&self) -> impl Iterator<Item = &str> {
        self.strings.keys().map(String::as_str)
    }

    /// Whether this language has its own text for `key` (not English's).
    pub fn has(&self, key: &str) -> bool {
        self.strings.contains_key(key)
    }

    /// The text for `key`, falling back to English, then to the key.
    pub fn get<'a>(&'a self, key: &'a str) -> &'a str {
        let text = self.lookup(key);
        shown::note(key, text);
        text
    }

    fn lookup<'a>(&'a self, key: &'a str) -> &'a str {
        match self.strings.get(key) {
            Some(s) => s,
            None => match &self.fallback {
                Some(f) => f.lookup(key),
                None => key,
            },
        }
    }

    /// The text for `key` with `{name}` placeholders filled.
    pub fn fmt(&self, key: &str, args: &[(&str, &dyn std::fmt::Display)]) -> String {
        let mut out = self.lookup(key).to_string();
        for (name, value) in args {
            out = out.replace(&format!("{{{name}}}"), &value.to_string());
        }
        shown::note(key, &out);
        out
    }

    /// `key.one` or `key.other` by `n` (and `key.few` / `key.many` in a language that has
    /// them, as Polish does), with `{n}` and `args` filled.
    pub fn plural(&self, key: &str, n: u64, args: &[(&str, &dyn std::fmt::Display)]) -> String {
        let mut full = format!("{key}.{}", plural_form(&self.code, n));
        if !self.strings.contains_key(&full) && !full.ends_with(".one") {
            full = format!("{key}.other");
        }
        let mut all: Vec<(&str, &dyn std::fmt::Display)> = vec![("n", &n)];
        all.extend_from_slice(args);
        self.fmt(&full, &all)
    }
}

/// The plural form of `n` in a language: "one" or "other", and in Polish "few" for 2–4,
/// 22–24, 32–34… and "many" for the rest (5 sekund, 12 sekund, 22 sekundy).
fn plural_form(code: &str, n: u64) -> &'static str {
    match code {
        "pl" => {
            let (tens, hundreds) = (n % 10, n % 100);
            match n {
                1 => "one",
                _ if (2..=4).contains(&tens) && !(12..=14).contains(&hundreds) => "few",
                _ => "many",
            }
        }
        _ if n == 1 => "one",
        _ => "other",
    }
}

/// Every language a station offers, English first (the fallback of the others).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Languages {
    all: Vec<Arc<Text>>,
}

/// Each language's strings by key, before they become [`Text`]s.
type Tables = BTreeMap<String, BTreeMap<String, String>>;

impl Languages {
    /// The compiled-in languages only.
    pub fn builtin() -> Languages {
        Languages::from_tables(builtin_tables())
    }

    fn from_tables(mut tables: Tables) -> Languages {
        let english = Arc::new(Text {
            code: "en".into(),
            strings: tables.remove("en").unwrap_or_default(),
            fallback: None,
        });
        let mut all = vec![english.clone()];
        for (code, strings) in tables {
            all.push(Arc::new(Text {
                code,
                strings,
                fallback: Some(english.clone()),
            }));
        }
        // The bundled order first (English, German, Polish), then the station's additions
        // by code: the order the picker steps through.
        let rank = |code: &str| BUILTIN.iter().position(|(c, _)| *c == code);
        all.sort_by_key(|t| (rank(&t.code).unwrap_or(usize::MAX), t.code.clone()));
        Languages { all }
    }

    pub fn all(&self) -> &[Arc<Text>] {
        &self.all
    }

    /// The language with this code ("de", "de-CH" or "DE"), if there is one.
    pub fn find(&self, code: &str) -> Option<&Arc<Text>> {
        let primary = primary(code);
        self.all.iter().find(|t| t.code == primary)
    }

    /// The language for `code`, English when there is none.
    pub fn for_language(&self, code: &str) -> Arc<Text> {
        self.find(code)
            .or_else(|| self.all.first())
            .cloned()
            // `from_tables` always puts English first, so `all` is never empty.
            .unwrap_or_else(|| {
                Arc::new(Text {
                    code: "en".into(),
                    strings: BTreeMap::new(),
                    fallback: None,
                })
            })
    }
}

/// "de" of "de-CH" or "DE_ch".
pub fn primary(code: &str) -> String {
    code.split(['-', '_'])
        .next()
        .unwrap_or(code)
        .to_ascii_lowercase()
}

/// The compiled-in files as tables. They are checked by the tests; one that failed to parse
/// would be left out (with a line on stderr) rather than take the station down.
fn builtin_tables() -> Tables {
    let mut tables = Tables::new();
    for (code, source) in BUILTIN {
        match files::parse(std::path::Path::new(&format!("{code}.toml")), source) {
            Ok(parsed) => {
                tables.insert(code.to_string(), parsed.strings);
            }
            Err(e) => eprintln!("booth: built-in {e}"),
        }
    }
    tables
}

/// What the screens looked up while drawing, for the tests that check every word of it
/// reached the screen (`ui`'s fit test). Nothing is kept outside tests.
pub mod shown {
    #[cfg(test)]
    thread_local! {
        static NOTED: std::cell::RefCell<Option<Vec<(String, String)>>> =
            const { std::cell::RefCell::new(None) };
    }

    /// Notes a text handed to a screen (only while [`recording`], only in tests).
    #[cfg_attr(not(test), allow(unused_variables))]
    pub(super) fn note(key: &str, text: &str) {
        #[cfg(test)]
        NOTED.with(|n| {
            if let Some(list) = n.borrow_mut().as_mut() {
                list.push((key.to_string(), text.to_string()));
            }
        });
    }

    /// Runs `f` and returns with it every (key, text) looked up on this thread meanwhile.
    #[cfg(test)]
    pub fn recording<T>(f: impl FnOnce() -> T) -> (T, Vec<(String, String)>) {
        NOTED.with(|n| *n.borrow_mut() = Some(Vec::new()));
        let out = f();
        let noted = NOTED.with(|n| n.borrow_mut().take()).unwrap_or_default();
        (out, noted)
    }
}

static INSTALLED: OnceLock<Languages> = OnceLock::new();

/// Makes `languages` the station's, once, before the first screen is drawn. False when the
/// station's languages were already fixed (a second call, or a lookup came first).
pub fn install(languages: Languages) -> bool {
    INSTALLED.set(languages).is_ok()
}

/// The station's languages: those [`install`]ed at start, else the built-in ones.
pub fn languages() -> &'static [Arc<Text>] {
    INSTALLED.get_or_init(Languages::builtin).all()
}

/// The station's language for a code like "de" or "de-CH" (English when none matches).
pub fn for_language(code: &str) -> Arc<Text> {
    INSTALLED.get_or_init(Languages::builtin).for_language(code)
}

#[cfg(test)]
mod tests;

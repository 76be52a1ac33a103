//! An interview in more than one language: beside each text a candidate reads (the title,
//! the intro, the support contact, the consent's title and text, each question's text) the
//! file may give it per language in a `<field>_by_language` table:
//!
//! ```toml
//! title = "Customer Support – first interview"
//! title_by_language = { de = "Kundenservice – erstes Gespräch", pl = "Obsługa klienta – pierwsza rozmowa" }
//! [[question]]
//! text = "Tell us about yourself."
//! text_by_language.de = "Erzählen Sie uns von sich."
//! ```
//!
//! A text without a translation stays in the interview's own `language`. The candidate's
//! language (picked on the welcome screen) is applied with [`Interview::in_language`], which
//! gives the same interview with the shown texts swapped, so every screen reads the usual
//! fields.

use std::collections::{BTreeMap, BTreeSet};

use toml::Spanned;

use super::{Consent, Interview, LANGUAGE_RULE};
use crate::tomlfile::{Diagnostic, Document};

/// A field's translations as written: language → text.
pub(super) type RawByLanguage = Option<BTreeMap<String, Spanned<String>>>;

/// The texts of one language, each where the file gives one.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Texts {
    pub title: Option<String>,
    pub intro: Option<String>,
    pub contact: Option<String>,
    pub consent_title: Option<String>,
    pub consent_text: Option<String>,
    /// By question index.
    pub questions: BTreeMap<usize, String>,
}

/// Every translation of an interview, and its own texts to go back to.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Translations {
    pub by_language: BTreeMap<String, Texts>,
    /// The interview's texts in its own language (filled by [`Translations::keep_original`]).
    original: Option<Box<Interview>>,
}

/// Checks a field's translations (language tags, non-empty texts) and puts each into `set`.
pub(super) fn collect(
    doc: &Document<'_>,
    raw: RawByLanguage,
    field: &str,
    out: &mut BTreeMap<String, Texts>,
    set: impl Fn(&mut Texts, String),
) -> Result<(), Diagnostic> {
    for (lang, text) in raw.unwrap_or_default() {
        if !is_language(&lang) {
            return Err(doc.error(
                &text.span(),
                Some(field),
                format!("'{lang}' in {field} is not {LANGUAGE_RULE}"),
            ));
        }
        let trimmed = text.get_ref().trim();
        if trimmed.is_empty() {
            return Err(doc.error(
                &text.span(),
                Some(field),
                format!("the {lang} text of '{field}' must be non-empty text"),
            ));
        }
        set(
            out.entry(lang.to_ascii_lowercase()).or_default(),
            trimmed.to_string(),
        );
    }
    Ok(())
}

fn is_language(s: &str) -> bool {
    let mut parts = s.split('-');
    let primary = parts.next().unwrap_or("");
    (2..=3).contains(&primary.len())
        && primary.chars().all(|c| c.is_ascii_alphabetic())
        && parts.all(|p| (1..=8).contains(&p.len()) && p.chars().all(|c| c.is_ascii_alphanumeric()))
}

impl Translations {
    pub(super) fn new(by_language: BTreeMap<String, Texts>) -> Translations {
        Translations {
            by_language,
            original: None,
        }
    }
}

impl Interview {
    /// The languages the interview can be read in: its own first, then its translations'.
    pub fn languages(&self) -> Vec<String> {
        let own = self
            .translations
            .original
            .as_ref()
            .map_or(&self.language, |o| &o.language);
        let own = own.to_ascii_lowercase();
        let more: BTreeSet<&String> = self.translations.by_language.keys().collect();
        let mut out: Vec<String> = more.into_iter().filter(|l| **l != own).cloned().collect();
        out.insert(0, own);
        out
    }

    /// The interview as a candidate reading `language` sees it: each text in that language
    /// where the file translates it, in the interview's own language where not. `language`
    /// matches a translation by its tag or its primary subtag ("de" for "de-CH").
    pub fn in_language(&self, language: &str) -> Interview {
        let original = match &self.translations.original {
            Some(o) => (**o).clone(),
            None => self.clone(),
        };
        let wanted = language.to_ascii_lowercase();
        let primary = crate::i18n::primary(&wanted);
        let texts = self
            .translations
            .by_language
            .get(&wanted)
            .or_else(|| self.translations.by_language.get(&primary));
        let Some(texts) = texts else {
            return original;
        };
        let mut out = original.clone();
        out.language = wanted;
        out.translations.original = Some(Box::new(original));
        if let Some(t) = &texts.title {
            out.title = t.clone();
        }
        if let Some(t) = &texts.intro {
            out.intro = t.clone();
        }
        if let Some(t) = &texts.contact {
            out.support.contact = t.clone();
        }
        if let Some(c) = &out.consent {
            let title = texts.consent_title.clone().or_else(|| c.title.clone());
            let text = texts.consent_text.clone().unwrap_or_else(|| c.text.clone());
            // The record keeps the hash of the words the candidate read.
            out.consent = Some(Consent::new(title, text));
        }
        for (q, text) in &texts.questions {
            if let Some(question) = out.questions.get_mut(*q) {
                question.text = text.clone();
            }
        }
        out
    }
}

/// Every `<field>_by_language` table, checked, by language.
pub(super) fn gather(
    doc: &Document<'_>,
    raw: &mut super::RawInterview,
) -> Result<Translations, Diagnostic> {
    let mut out = std::collections::BTreeMap::new();
    collect(
        doc,
        raw.title_by_language.take(),
        "title_by_language",
        &mut out,
        |t, s| t.title = Some(s),
    )?;
    collect(
        doc,
        raw.intro_by_language.take(),
        "intro_by_language",
        &mut out,
        |t, s| t.intro = Some(s),
    )?;
    let contact = raw.support.contact_by_language.take();
    collect(doc, contact, "contact_by_language", &mut out, |t, s| {
        t.contact = Some(s)
    })?;
    if let Some(c) = raw.consent.as_mut() {
        let (title, text) = c.take_translations();
        collect(doc, title, "title_by_language", &mut out, |t, s| {
            t.consent_title = Some(s)
        })?;
        collect(doc, text, "text_by_language", &mut out, |t, s| {
            t.consent_text = Some(s)
        })?;
    }
    for (i, q) in raw.question.iter_mut().enumerate() {
        let texts = q.get_mut().text_by_language.take();
        collect(doc, texts, "text_by_language", &mut out, |t, s| {
            t.questions.insert(i, s);
        })?;
    }
    Ok(Translations::new(out))
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::*;

    const FILE: &str = r#"
id = "t"
title = "Support"
title_by_language = { de = "Kundendienst", pl = "Obsługa klienta" }
intro = "Hello."
intro_by_language.de = "Hallo."
language = "en"
[support]
contact = "Ask the desk."
contact_by_language.pl = "Zapytaj w recepcji."
[consent]
text = "We record you."
text_by_language.de = "Wir nehmen Sie auf."
[[question]]
id = "q1"
text = "Who are you?"
text_by_language = { de = "Wer sind Sie?", pl = "Kim jesteś?" }
preparation_seconds = 0
answer_seconds = 60
attempts = 1
"#;

    #[test]
    fn each_text_is_shown_in_the_candidates_language_where_translated() -> crate::TestResult {
        let iv = Interview::parse(FILE, Path::new("t.toml"))?;
        assert_eq!(iv.languages(), ["en", "de", "pl"]);
        let de = iv.in_language("de-CH");
        assert_eq!(de.title, "Kundendienst");
        assert_eq!(de.intro, "Hallo.");
        assert_eq!(
            de.support.contact, "Ask the desk.",
            "no German contact: English"
        );
        assert_eq!(de.questions[0].text, "Wer sind Sie?");
        let consent = de.consent.as_ref().ok_or("no consent")?;
        assert_eq!(consent.text, "Wir nehmen Sie auf.");
        assert_ne!(
            Some(&consent.sha256),
            iv.consent.as_ref().map(|c| &c.sha256)
        );
        // From German on to Polish, and back to the interview's own English.
        let pl = de.in_language("pl");
        assert_eq!(pl.support.contact, "Zapytaj w recepcji.");
        assert_eq!(pl.intro, "Hello.");
        assert_eq!(pl.languages(), ["en", "de", "pl"]);
        assert_eq!(pl.in_language("en"), iv);
        assert_eq!(iv.in_language("fr"), iv);
        Ok(())
    }

    #[test]
    fn a_translation_under_a_bad_tag_or_empty_names_its_line() -> crate::TestResult {
        let bad = FILE.replace("de = \"Wer sind Sie?\"", "deutsch = \"Wer sind Sie?\"");
        let e = Interview::parse(&bad, Path::new("t.toml"))
            .err()
            .ok_or("accepted")?;
        assert_eq!(e.line(), Some(17), "{e}");
        assert!(e.to_string().contains("'deutsch'"), "{e}");
        let empty = FILE.replace(
            "intro_by_language.de = \"Hallo.\"",
            "intro_by_language.de = \" \"",
        );
        let e = Interview::parse(&empty, Path::new("t.toml"))
            .err()
            .ok_or("accepted")?;
        assert_eq!(e.line(), Some(6), "{e}");
        Ok(())
    }
}

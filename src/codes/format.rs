//! What a candidate's code may look like, and how it is shown: [`normalize`] turns what was
//! typed (or sent by a barcode scanner) into the one form booth compares and stores, with a
//! typed reason when it cannot be a code; [`mask`] is the only form logs and lists show.

use sha2::{Digest, Sha256};

use crate::config::InterviewRef;

/// The station's limits on a code's length (after trimming), inclusive.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CodeRules {
    pub min: usize,
    pub max: usize,
}

impl CodeRules {
    /// The limits set in the config's `[interview]` section.
    pub fn from_config(interview: &InterviewRef) -> CodeRules {
        CodeRules {
            min: interview.code_min_length,
            max: interview.code_max_length,
        }
    }
}

impl Default for CodeRules {
    /// The built-in config's values.
    fn default() -> CodeRules {
        CodeRules { min: 4, max: 32 }
    }
}

/// Why what was typed cannot be a code. The welcome screen words each case for the candidate.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum CodeFormat {
    #[error("no code was entered")]
    Empty,
    #[error("a code has at least {min} characters")]
    TooShort { min: usize },
    #[error("a code has at most {max} characters")]
    TooLong { max: usize },
    #[error("a code has only letters, digits, '-' and '_', not {c:?}")]
    BadCharacter { c: char },
}

/// Whether a character may be part of a code.
pub(crate) fn allowed(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '-' || c == '_'
}

/// The code as booth keeps it: surrounding whitespace (a scanner's Enter or Tab) removed and
/// letters in upper case, so `ab-12` and `AB-12` are one code. Characters are checked before
/// the length, since a wrong character is the more useful thing to hear.
pub fn normalize(raw: &str, rules: &CodeRules) -> Result<String, CodeFormat> {
    let code = raw.trim();
    if code.is_empty() {
        return Err(CodeFormat::Empty);
    }
    if let Some(c) = code.chars().find(|&c| !allowed(c)) {
        return Err(CodeFormat::BadCharacter { c });
    }
    // Only ASCII is left, so bytes are characters.
    if code.len() < rules.min {
        return Err(CodeFormat::TooShort { min: rules.min });
    }
    if code.len() > rules.max {
        return Err(CodeFormat::TooLong { max: rules.max });
    }
    Ok(code.to_ascii_uppercase())
}

/// The comparable form of a code that has not been through [`normalize`] (a roster's entry, a
/// caller's string): trimmed and upper case.
pub(crate) fn canonical(code: &str) -> String {
    code.trim().to_ascii_uppercase()
}

/// What logs and lists show instead of a code: its first two and last two characters around
/// "…" (`AB…89`), or one dot per character when it is shorter than six, where four shown
/// characters would give most of it away.
pub fn mask(code: &str) -> String {
    let chars: Vec<char> = code.trim().chars().collect();
    if chars.len() < 6 {
        return "•".repeat(chars.len());
    }
    let head: String = chars[..2].iter().collect();
    let tail: String = chars[chars.len() - 2..].iter().collect();
    format!("{head}…{tail}")
}

/// Lowercase hex sha256 of the canonical code: how a used code is remembered without
/// keeping the code itself.
pub(crate) fn code_hash(code: &str) -> String {
    Sha256::digest(canonical(code).as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_trimmed_upper_cased_and_checked() -> crate::TestResult {
        let rules = CodeRules { min: 4, max: 8 };
        assert_eq!(normalize("  ab-12_x\r\n", &rules)?, "AB-12_X");
        assert_eq!(normalize("\tQR42\t", &rules)?, "QR42");
        let cases = [
            ("", CodeFormat::Empty),
            ("   ", CodeFormat::Empty),
            ("ab1", CodeFormat::TooShort { min: 4 }),
            ("abcdefghi", CodeFormat::TooLong { max: 8 }),
            ("ab 12", CodeFormat::BadCharacter { c: ' ' }),
            ("ab/12", CodeFormat::BadCharacter { c: '/' }),
            ("café1", CodeFormat::BadCharacter { c: 'é' }),
            // The character is the more useful complaint, even when the length is wrong too.
            ("a!", CodeFormat::BadCharacter { c: '!' }),
        ];
        for (raw, want) in cases {
            assert_eq!(normalize(raw, &rules), Err(want), "{raw:?}");
        }
        // Length counts characters of the trimmed code, at both limits.
        assert!(normalize(" abcd ", &rules).is_ok());
        assert!(normalize("abcdefgh", &rules).is_ok());
        Ok(())
    }

    #[test]
    fn masks_show_at_most_four_characters() {
        assert_eq!(mask("AB12CD34"), "AB…34");
        assert_eq!(mask("ABCDEF"), "AB…EF");
        assert_eq!(mask("ABCDE"), "•••••");
        assert_eq!(mask("AB"), "••");
        assert_eq!(mask(""), "");
        assert!(!mask("SECRET-CODE-1234").contains("CODE"));
    }

    #[test]
    fn a_code_is_hashed_in_its_canonical_form() {
        assert_eq!(code_hash("ab-12"), code_hash(" AB-12 "));
        assert_ne!(code_hash("AB-12"), code_hash("AB-13"));
        assert_eq!(code_hash("X").len(), 64);
        assert!(!code_hash("SECRET").contains("SECRET"));
    }

    #[test]
    fn the_rules_come_from_the_config() -> crate::TestResult {
        let config = crate::config::Config::load(None)?;
        assert_eq!(
            CodeRules::from_config(&config.interview),
            CodeRules::default()
        );
        Ok(())
    }
}

//! The operator PIN: stored only as an argon2id hash (a PHC string in the config), checked on
//! a worker thread because a good hash is slow on purpose. `booth hash-pin` makes the hash.

use argon2::Argon2;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum PinError {
    #[error("a PIN needs 4 to 12 letters or digits")]
    BadPin,
    #[error("the two PINs differ")]
    Mismatch,
    #[error("the operator PIN hash in the config is not an argon2 hash: {0}")]
    BadHash(String),
    #[error("cannot hash the PIN: {0}")]
    Hashing(String),
}

/// A PIN as typed at the operator menu, on its way to [`verify_pin`]. Its `Debug` hides it:
/// effects are logged at debug level, and a PIN in a log file is a PIN anyone with the log has.
#[derive(Clone, PartialEq, Eq)]
pub struct TypedPin(String);

impl TypedPin {
    /// The digits themselves, for the hash check and nothing else.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl From<String> for TypedPin {
    fn from(s: String) -> Self {
        TypedPin(s)
    }
}

impl From<&str> for TypedPin {
    fn from(s: &str) -> Self {
        TypedPin(s.to_string())
    }
}

impl std::fmt::Debug for TypedPin {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("<redacted>")
    }
}

/// Checks a PIN's shape: 4–12 ASCII letters or digits.
pub fn check_pin(pin: &str) -> Result<(), PinError> {
    if (4..=12).contains(&pin.len()) && pin.chars().all(|c| c.is_ascii_alphanumeric()) {
        Ok(())
    } else {
        Err(PinError::BadPin)
    }
}

/// An argon2id hash of `pin` with a random salt, as a PHC string.
pub fn hash_pin(pin: &str) -> Result<String, PinError> {
    check_pin(pin)?;
    // 16 random bytes from the OS (through uuid's v4 generator, already a dependency).
    let salt = SaltString::encode_b64(uuid::Uuid::new_v4().as_bytes())
        .map_err(|e| PinError::Hashing(e.to_string()))?;
    Argon2::default()
        .hash_password(pin.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| PinError::Hashing(e.to_string()))
}

/// Validates a stored hash (at config load, so a typo is found before an operator needs it).
pub fn parse_hash(hash: &str) -> Result<(), PinError> {
    let parsed = PasswordHash::new(hash).map_err(|e| PinError::BadHash(e.to_string()))?;
    if parsed.algorithm.as_str() != "argon2id" {
        return Err(PinError::BadHash(format!(
            "algorithm {}, expected argon2id",
            parsed.algorithm
        )));
    }
    Ok(())
}

/// Whether `pin` matches `hash`.
pub fn verify_pin(pin: &str, hash: &str) -> bool {
    PasswordHash::new(hash)
        .map(|h| {
            Argon2::default()
                .verify_password(pin.as_bytes(), &h)
                .is_ok()
        })
        .unwrap_or(false)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hashes_verify_and_differ_by_salt() -> crate::TestResult {
        let a = hash_pin("2468")?;
        let b = hash_pin("2468")?;
        assert!(a.starts_with("$argon2id$"));
        assert_ne!(a, b, "salts must differ");
        assert!(verify_pin("2468", &a));
        assert!(verify_pin("2468", &b));
        assert!(!verify_pin("2469", &a));
        assert!(!verify_pin("2468", "not a hash"));
        assert!(parse_hash(&a).is_ok());
        assert!(parse_hash("$2b$10$abcdefghijklmnopqrstuv").is_err());
        Ok(())
    }

    #[test]
    fn pins_have_a_shape() {
        assert_eq!(check_pin("123"), Err(PinError::BadPin));
        assert_eq!(check_pin("12 34"), Err(PinError::BadPin));
        assert!(check_pin("a1b2c3").is_ok());
        assert!(hash_pin("1234567890123").is_err());
    }
}

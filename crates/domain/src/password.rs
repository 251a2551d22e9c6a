//! Password policy (NIST 800-63B style): long enough, not a common password, not the username.
//! Hashing itself (argon2id) happens in storage, where the secret is handled.

use crate::i18n::Msg;

pub const MIN_LEN: usize = 10;

const COMMON: &[&str] = &[
    "password", "motdepasse", "123456789", "1234567890", "azertyuiop", "qwertyuiop", "0123456789",
    "iloveyou12", "password12", "password123", "motdepasse1", "administrateur", "administrator",
    "bamako2024", "bamako2025", "bamako2026", "mali123456", "vigie12345", "changeme123", "welcome123",
];

pub fn check(username: &str, password: &str) -> Result<(), Msg> {
    if password.chars().count() < MIN_LEN {
        return Err(Msg::PasswordTooShort { min: MIN_LEN });
    }
    let lower = password.to_lowercase();
    let distinct: std::collections::BTreeSet<char> = lower.chars().collect();
    if COMMON.contains(&lower.as_str()) || lower.contains(&username.to_lowercase()) || distinct.len() < 4 {
        return Err(Msg::PasswordTooWeak);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    #[test]
    fn policy() {
        assert!(super::check("amadou", "court").is_err());
        assert!(super::check("amadou", "motdepasse1").is_err());
        assert!(super::check("amadou", "amadou-2026-x").is_err());
        assert!(super::check("amadou", "aaaaaaaaaaaa").is_err());
        assert!(super::check("amadou", "fleuve niger à mopti").is_ok());
    }
}

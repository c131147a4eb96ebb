//! The rules a new password must meet (NIST SP 800-63B §5.1.1.2, OWASP Authentication
//! Cheat Sheet): at least the tenant's `password_min_length` characters (8 unless the
//! tenant asks for more), not the user's name or containing it, and not on the deny list
//! of common or breached passwords an operator may give Tessera. No composition rules
//! (a digit, a symbol): SP 800-63B advises against them.

use std::collections::HashSet;

/// Common or breached passwords no one may choose, compared case-insensitively: the
/// lines of the operator's file (`password_deny_list`), blank lines and `#` comments
/// left out.
#[derive(Debug, Clone, Default)]
pub struct DenyList(HashSet<String>);

impl DenyList {
    pub fn parse(text: &str) -> Self {
        Self(
            text.lines()
                .map(str::trim)
                .filter(|l| !l.is_empty() && !l.starts_with('#'))
                .map(str::to_lowercase)
                .collect(),
        )
    }

    pub fn len(&self) -> usize {
        self.0.len()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    fn contains(&self, password: &str) -> bool {
        self.0.contains(&password.to_lowercase())
    }
}

/// Why `password` may not be `username`'s new password, in words for the
/// PasswordPolicyViolation message; `Ok` when it may.
pub fn check(
    min_length: u32,
    deny: &DenyList,
    username: &str,
    password: &str,
) -> Result<(), String> {
    let length = password.chars().count();
    if length < usize::try_from(min_length).unwrap_or(usize::MAX) {
        return Err(format!("it must be at least {min_length} characters"));
    }
    // The local part of a name like alice@contoso.test is what people put in passwords.
    let name = username
        .split('@')
        .next()
        .unwrap_or(username)
        .to_lowercase();
    if name.chars().count() >= 3 && password.to_lowercase().contains(&name) {
        return Err("it must not contain the user name".to_owned());
    }
    if deny.contains(password) {
        return Err("it is on the list of common or breached passwords".to_owned());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn length_name_and_deny_list() {
        let deny = DenyList::parse("# common\nPassword123!\n\n  letmein-please  \n");
        assert_eq!(deny.len(), 2);
        assert!(check(8, &deny, "alice", "correct horse").is_ok());
        assert_eq!(
            check(12, &deny, "alice", "short one").unwrap_err(),
            "it must be at least 12 characters"
        );
        // Characters, not bytes.
        assert!(check(8, &deny, "alice", "ééééééééé").is_ok());
        for contains in ["Alice2026!!", "my-ALICE-password", "xx alice@contoso xx"] {
            assert!(
                check(8, &deny, "alice@contoso.test", contains).is_err(),
                "{contains}"
            );
        }
        // A name too short to matter.
        assert!(check(8, &deny, "al", "always all right").is_ok());
        for denied in ["password123!", "LETMEIN-PLEASE"] {
            assert_eq!(
                check(8, &deny, "bob", denied).unwrap_err(),
                "it is on the list of common or breached passwords"
            );
        }
        assert!(check(8, &DenyList::default(), "bob", "password123!").is_ok());
    }
}

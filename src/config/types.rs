//! Validated value types of the configuration: names, keys, ids, an environment variable name, an
//! email address, a byte size and [`Secret`].
//!
//! Each newtype can only be built through its `parse` function, so holding one proves the value was
//! checked. Reasons returned by `parse` say what is wrong without naming the key: the caller knows the
//! key (`sources[0].name`, `--email`) and prefixes it. No reason ever repeats a value that might be a
//! secret.
//!
//! This file does not read files or the environment; `validate/` does.

use std::borrow::Borrow;
use std::fmt;

/// Why a value was rejected, without the key it came from (the caller adds it).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct InvalidValue(pub String);

fn invalid<T>(reason: impl Into<String>) -> Result<T, InvalidValue> {
    Err(InvalidValue(reason.into()))
}

/// Implements the read-only string view shared by every key-like newtype. `Borrow<str>` lets sets of
/// them be queried with a plain `&str`; it is sound because `Ord`, `Eq` and `Hash` are derived from the
/// inner `String`.
macro_rules! string_newtype {
    ($name:ident) => {
        impl $name {
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl Borrow<str> for $name {
            fn borrow(&self) -> &str {
                &self.0
            }
        }

        impl AsRef<str> for $name {
            fn as_ref(&self) -> &str {
                &self.0
            }
        }
    };
}

/// The name of a source: unique in a config file, `[a-z0-9-]+`, used in document ids and on the admin page.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct SourceName(String);
string_newtype!(SourceName);

impl SourceName {
    pub const MAX_LEN: usize = 64;

    pub fn parse(name: &str) -> Result<Self, InvalidValue> {
        if name.is_empty() {
            return invalid("must not be empty");
        }
        if name.len() > Self::MAX_LEN {
            return invalid(format!("must be at most {} characters", Self::MAX_LEN));
        }
        if !name.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-') {
            return invalid(format!("{name:?} must use only a-z, 0-9 and '-'"));
        }
        Ok(Self(name.to_owned()))
    }
}

/// An Atlassian account id (`5b10ac8d82e05b22cc7d4ef5`, `557058:f58131cb-…`). Users are keyed by account id
/// only, never by email or display name.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct AccountId(String);
string_newtype!(AccountId);

fn is_account_id_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b':' | b'-' | b'_' | b'.')
}

impl AccountId {
    pub fn parse(id: &str) -> Result<Self, InvalidValue> {
        if id.is_empty() {
            return invalid("account id must not be empty");
        }
        if id.len() > 128 || !id.bytes().all(is_account_id_byte) {
            return invalid(format!(
                "{id:?} is not an account id (letters, digits, ':', '-', '_', '.'; emails are not account ids)"
            ));
        }
        Ok(Self(id.to_owned()))
    }

    /// The key Confluence gives this account's personal space.
    pub fn personal_space_key(&self) -> SpaceKey {
        SpaceKey(format!("~{}", self.0))
    }
}

/// A Confluence space key: letters and digits for a global space (`ENG`), `~` and the owner's account id for a
/// personal space (`~5b10ac8d82e05b22cc7d4ef5`). Compared exactly, as the API returns them.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct SpaceKey(String);
string_newtype!(SpaceKey);

impl SpaceKey {
    pub fn parse(key: &str) -> Result<Self, InvalidValue> {
        let valid = match key.strip_prefix('~') {
            Some(owner) => !owner.is_empty() && owner.bytes().all(is_account_id_byte),
            None => !key.is_empty() && key.bytes().all(|b| b.is_ascii_alphanumeric()),
        };
        if !valid || key.len() > 255 {
            return invalid(format!(
                "{key:?} is not a space key (letters and digits, or ~accountId for a personal space)"
            ));
        }
        Ok(Self(key.to_owned()))
    }

    /// The account id in a personal space key (`~abc` → `abc`); `None` for a global space.
    pub fn personal_owner(&self) -> Option<&str> {
        self.0.strip_prefix('~')
    }
}

/// A Jira project key: an upper-case letter, then upper-case letters, digits or `_` (`ENG`, `OPS2`).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ProjectKey(String);
string_newtype!(ProjectKey);

impl ProjectKey {
    pub fn parse(key: &str) -> Result<Self, InvalidValue> {
        let mut bytes = key.bytes();
        let valid = bytes.next().is_some_and(|b| b.is_ascii_uppercase())
            && bytes.all(|b| b.is_ascii_uppercase() || b.is_ascii_digit() || b == b'_')
            && key.len() <= 255;
        if !valid {
            return invalid(format!(
                "{key:?} is not a project key (upper-case letter first, then A-Z, 0-9 or '_', like ENG)"
            ));
        }
        Ok(Self(key.to_owned()))
    }
}

/// The name of an environment variable that holds a secret. Upper case only (`[A-Z_][A-Z0-9_]*`): besides
/// being the convention, this keeps a pasted token from being taken for a variable name and then echoed
/// in an error message.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct EnvVarName(String);
string_newtype!(EnvVarName);

impl EnvVarName {
    pub fn parse(name: &str) -> Result<Self, InvalidValue> {
        let mut bytes = name.bytes();
        let valid = bytes.next().is_some_and(|b| b.is_ascii_uppercase() || b == b'_')
            && bytes.all(|b| b.is_ascii_uppercase() || b.is_ascii_digit() || b == b'_')
            && name.len() <= 128;
        if !valid {
            // The value is not repeated: it may be the token itself, pasted in the wrong place.
            return invalid(
                "must name an environment variable in upper case, like PERMDEX_TOKEN \
                 (the variable holds the secret; the config file never does)",
            );
        }
        Ok(Self(name.to_owned()))
    }
}

/// The email address of the Atlassian account whose API token a source uses (HTTP Basic user name).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Email(String);
string_newtype!(Email);

impl Email {
    pub fn parse(email: &str) -> Result<Self, InvalidValue> {
        let valid = match email.split_once('@') {
            Some((local, domain)) => {
                !local.is_empty()
                    && !domain.is_empty()
                    && !domain.contains('@')
                    && !email.chars().any(|c| c.is_whitespace() || c.is_control())
                    && email.len() <= 254
            }
            None => false,
        };
        if !valid {
            return invalid(format!("{email:?} is not an email address"));
        }
        Ok(Self(email.to_owned()))
    }
}

/// A secret (API token, API key, JWT secret). `Debug` and `Display` print `[redacted]`; the value is
/// reachable only through [`Secret::expose`], so it cannot end up in a log line or an error by accident.
/// Deliberately not `Serialize` and not `PartialEq` (compare with [`Secret::matches`]).
#[derive(Clone)]
pub struct Secret(String);

impl Secret {
    pub fn new(value: String) -> Self {
        Self(value)
    }

    /// The secret itself, for the one place that must send or compare it.
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// Whether `candidate` equals the secret, in time that does not depend on where they first differ
    /// (only on their lengths), so a caller cannot guess a key byte by byte by timing the answer.
    pub fn matches(&self, candidate: &str) -> bool {
        let (a, b) = (self.0.as_bytes(), candidate.as_bytes());
        if a.len() != b.len() {
            return false;
        }
        a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("[redacted]")
    }
}

impl fmt::Display for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("[redacted]")
    }
}

/// Parses a byte size: a plain number of bytes (`20971520`), or a number with a unit, with or without a
/// space, any case: `B`, `KB`/`MB`/`GB` (powers of 1000), `KiB`/`MiB`/`GiB` (powers of 1024).
/// Fractions are accepted when they come to a whole number of bytes (`1.5MiB`).
pub fn parse_byte_size(text: &str) -> Result<u64, InvalidValue> {
    let text = text.trim();
    let split = text.find(|c: char| !(c.is_ascii_digit() || c == '.')).unwrap_or(text.len());
    let (number, unit) = (&text[..split], text[split..].trim());
    let multiplier: u64 = match unit.to_ascii_lowercase().as_str() {
        "" | "b" => 1,
        "kb" => 1000,
        "mb" => 1000 * 1000,
        "gb" => 1000 * 1000 * 1000,
        "kib" => 1 << 10,
        "mib" => 1 << 20,
        "gib" => 1 << 30,
        _ => {
            return invalid(format!(
                "{text:?} is not a size: use bytes or a unit B, KB, MB, GB, KiB, MiB, GiB"
            ))
        }
    };
    let not_a_size = || InvalidValue(format!("{text:?} is not a size like \"20MiB\" or 20971520"));
    if number.is_empty() {
        return Err(not_a_size());
    }
    if let Ok(whole) = number.parse::<u64>() {
        return whole.checked_mul(multiplier).ok_or_else(|| InvalidValue(format!("{text:?} is too large")));
    }
    let value: f64 = number.parse().map_err(|_| not_a_size())?;
    let bytes = value * multiplier as f64;
    if bytes.fract() != 0.0 || !bytes.is_finite() || bytes > u64::MAX as f64 {
        return invalid(format!("{text:?} is not a whole number of bytes"));
    }
    // In range and integral, checked just above.
    Ok(bytes as u64)
}

/// Formats a byte count the way a person would write it in the config file (`20MiB`, `1500KB`, `7B`).
pub fn format_byte_size(bytes: u64) -> String {
    const UNITS: [(u64, &str); 6] = [
        (1 << 30, "GiB"),
        (1 << 20, "MiB"),
        (1 << 10, "KiB"),
        (1_000_000_000, "GB"),
        (1_000_000, "MB"),
        (1000, "KB"),
    ];
    UNITS
        .iter()
        .find(|(unit, _)| bytes != 0 && bytes.is_multiple_of(*unit))
        .map_or_else(|| format!("{bytes}B"), |(unit, name)| format!("{}{name}", bytes / unit))
}

/// Formats a duration the way a person would write it in the config file: its largest whole unit
/// (`7d`, `15m`, `90s`); `off` for none.
pub fn format_duration(duration: Option<std::time::Duration>) -> String {
    let Some(duration) = duration else { return "off".to_owned() };
    let secs = duration.as_secs();
    const UNITS: [(u64, &str); 3] = [(24 * 3600, "d"), (3600, "h"), (60, "m")];
    UNITS
        .iter()
        .find(|(unit, _)| secs != 0 && secs.is_multiple_of(*unit))
        .map_or_else(|| format!("{secs}s"), |(unit, name)| format!("{}{name}", secs / unit))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_format_in_their_largest_whole_unit() {
        use std::time::Duration;
        let cases = [
            (Some(Duration::from_secs(7 * 86400)), "7d"),
            (Some(Duration::from_secs(36 * 3600)), "36h"),
            (Some(Duration::from_secs(900)), "15m"),
            (Some(Duration::from_secs(90)), "90s"),
            (None, "off"),
        ];
        for (duration, text) in cases {
            assert_eq!(format_duration(duration), text);
            if let Some(d) = duration {
                assert_eq!(humantime::parse_duration(text).unwrap(), d, "the config file reads it back");
            }
        }
    }

    #[test]
    fn newtypes_accept_and_reject() {
        // (value, accepted) per parser.
        let source_names = [("prod", true), ("site-2", true), ("", false), ("Prod", false), ("a_b", false)];
        for (value, ok) in source_names {
            assert_eq!(SourceName::parse(value).is_ok(), ok, "source name {value:?}");
        }
        let space_keys =
            [("ENG", true), ("ds2", true), ("~5b10:ab-c", true), ("~", false), ("EN G", false), ("", false)];
        for (value, ok) in space_keys {
            assert_eq!(SpaceKey::parse(value).is_ok(), ok, "space key {value:?}");
        }
        let project_keys = [("ENG", true), ("OPS_2", true), ("eng", false), ("2X", false), ("", false)];
        for (value, ok) in project_keys {
            assert_eq!(ProjectKey::parse(value).is_ok(), ok, "project key {value:?}");
        }
        let env_names =
            [("PERMDEX_TOKEN", true), ("_X1", true), ("token", false), ("1X", false), ("A-B", false)];
        for (value, ok) in env_names {
            assert_eq!(EnvVarName::parse(value).is_ok(), ok, "env name {value:?}");
        }
        let emails =
            [("a@b.c", true), ("a@b", true), ("ab.c", false), ("@b", false), ("a@", false), ("a b@c", false)];
        for (value, ok) in emails {
            assert_eq!(Email::parse(value).is_ok(), ok, "email {value:?}");
        }
        let accounts = [("557058:f58131cb-b67d", true), ("dave", true), ("a@b.c", false), ("", false)];
        for (value, ok) in accounts {
            assert_eq!(AccountId::parse(value).is_ok(), ok, "account {value:?}");
        }
    }

    #[test]
    fn env_var_name_error_does_not_repeat_the_value() {
        let pasted_token = "ATATT3xFfGF0abc-def=";
        let err = EnvVarName::parse(pasted_token).unwrap_err();
        assert!(!err.to_string().contains(pasted_token), "{err}");
    }

    #[test]
    fn personal_space_keys() {
        let account = AccountId::parse("557058:abc").unwrap();
        let key = account.personal_space_key();
        assert_eq!(key.as_str(), "~557058:abc");
        assert_eq!(key.personal_owner(), Some("557058:abc"));
        assert_eq!(SpaceKey::parse("ENG").unwrap().personal_owner(), None);
    }

    #[test]
    fn byte_sizes() {
        let cases: [(&str, Option<u64>); 14] = [
            ("20MiB", Some(20 * 1024 * 1024)),
            ("20 mib", Some(20 * 1024 * 1024)),
            ("1.5MiB", Some(1536 * 1024)),
            ("500KB", Some(500_000)),
            ("1GiB", Some(1 << 30)),
            ("2GB", Some(2_000_000_000)),
            ("7", Some(7)),
            ("7B", Some(7)),
            ("0", Some(0)),
            ("MiB", None),
            ("20 furlongs", None),
            ("1.0000001B", None),
            ("-5MiB", None),
            ("99999999999999999999GiB", None),
        ];
        for (text, expected) in cases {
            assert_eq!(parse_byte_size(text).ok(), expected, "{text:?}");
        }
    }

    #[test]
    fn byte_size_formatting_round_trips() {
        for bytes in [0, 7, 1000, 1024, 20 << 20, 1536 * 1024, 3_000_000, 1 << 30, 123_456_789] {
            let text = format_byte_size(bytes);
            assert_eq!(parse_byte_size(&text).unwrap(), bytes, "{bytes} → {text}");
        }
        assert_eq!(format_byte_size(20 << 20), "20MiB");
    }

    #[test]
    fn secret_is_redacted_and_compares_exactly() {
        let secret = Secret::new("hunter2-hunter2".into());
        assert_eq!(format!("{secret:?} {secret}"), "[redacted] [redacted]");
        assert_eq!(secret.expose(), "hunter2-hunter2");
        assert!(secret.matches("hunter2-hunter2"));
        for wrong in ["hunter2-hunter3", "hunter2", "", "hunter2-hunter22"] {
            assert!(!secret.matches(wrong), "{wrong:?}");
        }
    }
}

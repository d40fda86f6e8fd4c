//! Secrets in `permdex.toml`: where a source's token comes from (`token_env` or `token_file`), and reading
//! any secret from an environment variable or a private file (0600, size-capped, trimmed, never empty).
//! Messages name the key and the variable or path, never the value.

use std::path::Path;

use super::super::types::EnvVarName;
use super::super::{Env, Secret, TokenOrigin};
use super::{Report, MAX_SECRET_FILE_BYTES};

/// Where the source's token is read from: exactly one of `token_env` and `token_file`.
pub(super) fn token_origin(
    key: &str,
    token_env: Option<String>,
    token_file: Option<String>,
    base_dir: &Path,
    report: &mut Report,
) -> Option<TokenOrigin> {
    match (token_env, token_file) {
        (Some(var), None) => {
            report.check(&format!("{key}.token_env"), EnvVarName::parse(&var)).map(TokenOrigin::Env)
        }
        (None, Some(file)) => Some(TokenOrigin::File(base_dir.join(&file))),
        (Some(_), Some(_)) => {
            report.problem(key, "set exactly one of token_env and token_file, not both");
            None
        }
        (None, None) => {
            report.problem(
                key,
                "set token_env = \"VAR\" or token_file = \"path\" (the token is never written in the config file)",
            );
            None
        }
    }
}

/// Reads the token from where `origin` says.
pub(super) fn read_token(
    key: &str,
    origin: &TokenOrigin,
    env: &dyn Env,
    report: &mut Report,
) -> Option<Secret> {
    match origin {
        TokenOrigin::Env(name) => secret_from_env(&format!("{key}.token_env"), name, env, report),
        TokenOrigin::File(path) => secret_from_file(&format!("{key}.token_file"), path, report),
    }
}

/// Runs `read` against `report` when the secrets it reads are `needed`. When they are not, `read` runs
/// against a scratch report that is thrown away: what it could read is kept, what it could not is `None`
/// without a word, since this command does not use it.
pub(super) fn read_secrets<T>(
    needed: bool,
    report: &mut Report,
    read: impl FnOnce(&mut Report) -> Option<T>,
) -> Option<T> {
    if needed {
        return read(report);
    }
    let mut scratch = Report::default();
    let value = read(&mut scratch);
    if scratch.problems.is_empty() {
        value
    } else {
        None
    }
}

/// A secret from an environment variable, trimmed; unset and blank are problems.
pub(super) fn secret_from_env(
    key: &str,
    name: &EnvVarName,
    env: &dyn Env,
    report: &mut Report,
) -> Option<Secret> {
    let Some(value) = env.var(name.as_str()) else {
        report.problem(key, format!("environment variable {name} is not set"));
        return None;
    };
    let value = value.trim();
    if value.is_empty() {
        report.problem(key, format!("environment variable {name} is empty"));
        return None;
    }
    Some(Secret::new(value.to_owned()))
}

/// A token from a file that only its owner (and group, with a warning) can read: one line, trimmed.
pub(super) fn secret_from_file(key: &str, path: &Path, report: &mut Report) -> Option<Secret> {
    let shown = path.display();
    let metadata = match std::fs::metadata(path) {
        Ok(metadata) => metadata,
        Err(err) => {
            report.problem(key, format!("cannot read {shown}: {err}"));
            return None;
        }
    };
    if !metadata.is_file() {
        report.problem(key, format!("{shown} is not a file"));
        return None;
    }
    if metadata.len() > MAX_SECRET_FILE_BYTES {
        report.problem(
            key,
            format!("{shown} is larger than {MAX_SECRET_FILE_BYTES} bytes; it should hold only the token"),
        );
        return None;
    }
    if !access_is_private(key, path, &metadata, report) {
        return None;
    }
    let text = match std::fs::read_to_string(path) {
        Ok(text) => text,
        Err(err) => {
            report.problem(key, format!("cannot read {shown}: {err}"));
            return None;
        }
    };
    let token = text.trim();
    if token.is_empty() {
        report.problem(key, format!("{shown} is empty"));
        return None;
    }
    if token.chars().any(char::is_whitespace) {
        report.problem(key, format!("{shown} must hold only the token, on one line"));
        return None;
    }
    Some(Secret::new(token.to_owned()))
}

/// Refuses a secret file other users can read or write (like ssh does for keys); warns when the group can.
#[cfg(unix)]
pub(super) fn access_is_private(
    key: &str,
    path: &Path,
    metadata: &std::fs::Metadata,
    report: &mut Report,
) -> bool {
    use std::os::unix::fs::PermissionsExt;
    let mode = metadata.permissions().mode() & 0o777;
    let shown = path.display();
    if mode & 0o006 != 0 {
        report.problem(
            key,
            format!("{shown} is accessible to other users (mode {mode:03o}); run chmod 600 {shown}"),
        );
        return false;
    }
    if mode & 0o060 != 0 {
        report.warning(
            key,
            format!("{shown} is accessible to its group (mode {mode:03o}); chmod 600 is safer"),
        );
    }
    true
}

/// Other platforms have no mode bits to check; their ACLs are the operator's business.
#[cfg(not(unix))]
pub(super) fn access_is_private(
    _key: &str,
    _path: &Path,
    _metadata: &std::fs::Metadata,
    _report: &mut Report,
) -> bool {
    true
}

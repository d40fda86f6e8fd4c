//! Telling an operator why a site cannot be synced at all, as opposed to one item failing: the failures
//! no retry and no later page can fix — the credentials refused, a right missing, a name that does not
//! resolve, a connection refused, a host that is not Atlassian Cloud, a TLS failure.
//!
//! [`diagnose`] reads an [`Error`] the client gave back and says whether it is permanent, and what the
//! operator should do. The client keeps the first permanent failure it met
//! ([`super::Client::permanent_failure`]), so a sync can fail its run at once with this diagnosis
//! instead of recording the same refusal on every item.
//!
//! This file does not send requests and decides nothing about retries (the client does).

use super::Error;

/// Why a connection could not be made at all.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unreachable {
    /// The host name does not resolve.
    Dns,
    /// Nothing listens at the address (connection refused).
    Refused,
    /// The TLS handshake failed (certificate, protocol).
    Tls,
}

/// A failure that ends a run: retrying, or going on with the next item, cannot fix it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Diagnosis {
    /// 401: Atlassian refused the email/token pair.
    Credentials,
    /// 403 on a named call: the account lacks a right that call needs.
    MissingRight { call: String },
    /// The host name does not resolve.
    UnknownHost { host: String },
    /// The connection was refused.
    Refused { host: String },
    /// The TLS handshake failed.
    Tls { host: String, detail: String },
    /// The host answers, but not as Atlassian Cloud does (Data Center, Server, or a URL with a path).
    NotCloud { call: String, detail: String },
}

impl Diagnosis {
    /// A short stable name: `credentials`, `missing_right`, `unknown_host`, `refused`, `tls`, `not_cloud`.
    pub fn code(&self) -> &'static str {
        match self {
            Diagnosis::Credentials => "credentials",
            Diagnosis::MissingRight { .. } => "missing_right",
            Diagnosis::UnknownHost { .. } => "unknown_host",
            Diagnosis::Refused { .. } => "refused",
            Diagnosis::Tls { .. } => "tls",
            Diagnosis::NotCloud { .. } => "not_cloud",
        }
    }
}

impl std::fmt::Display for Diagnosis {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Diagnosis::Credentials => f.write_str(
                "Atlassian refused this email/token pair (401): the token was revoked or expired, was created \
                 by another account than the configured email, or the email is wrong. Create a token at \
                 https://id.atlassian.com/manage-profile/security/api-tokens while signed in as that account",
            ),
            Diagnosis::MissingRight { call } => write!(
                f,
                "the account lacks a right that {call} needs (403): see `permdex check` for which rights the \
                 crawler uses, and grant them to the account (e.g. Jira's Administer, Browse users and groups, \
                 or Confluence space permissions)"
            ),
            Diagnosis::UnknownHost { host } => {
                write!(f, "the domain {host} does not resolve: check the site URL (https://YOUR-SITE.atlassian.net)")
            }
            Diagnosis::Refused { host } => write!(
                f,
                "{host} refused the connection: nothing answers there; check the site URL and any proxy or firewall"
            ),
            Diagnosis::Tls { host, detail } => write!(
                f,
                "the TLS handshake with {host} failed ({detail}): the host does not present a certificate this \
                 machine trusts for that name"
            ),
            Diagnosis::NotCloud { call, detail } => write!(
                f,
                "the host does not answer as Atlassian Cloud ({call}: {detail}): permdex reads Atlassian Cloud \
                 (https://YOUR-SITE.atlassian.net); Data Center and Server, or a URL with a path such as /wiki, \
                 are not supported"
            ),
        }
    }
}

/// Whether `error` is permanent, and what it means. Transient failures (429, 5xx, timeouts, a body cut
/// short) and item-level answers (404 of one item, 410) are `None`.
pub fn diagnose(error: &Error) -> Option<Diagnosis> {
    match error {
        Error::Status { status: 401, .. } => Some(Diagnosis::Credentials),
        Error::Status { status: 403, method, path, .. } => {
            Some(Diagnosis::MissingRight { call: format!("{method} {path}") })
        }
        Error::Unreachable { host, kind: Unreachable::Dns, .. } => {
            Some(Diagnosis::UnknownHost { host: host.clone() })
        }
        Error::Unreachable { host, kind: Unreachable::Refused, .. } => {
            Some(Diagnosis::Refused { host: host.clone() })
        }
        Error::Unreachable { host, kind: Unreachable::Tls, reason, .. } => {
            Some(Diagnosis::Tls { host: host.clone(), detail: reason.clone() })
        }
        _ => None,
    }
}

/// What the first call a run makes (who am I) says about the site: everything [`diagnose`] says, plus a
/// 404 or a body that is not JSON, which mean the host is not Atlassian Cloud.
pub fn diagnose_first_call(error: &Error) -> Option<Diagnosis> {
    diagnose(error).or_else(|| match error {
        Error::Status { status: 404, method, path, .. } => {
            Some(Diagnosis::NotCloud { call: format!("{method} {path}"), detail: "http 404".into() })
        }
        Error::Malformed { path, reason, .. } => {
            Some(Diagnosis::NotCloud { call: format!("GET {path}"), detail: reason.clone() })
        }
        _ => None,
    })
}

/// The first call of a run: the product's own "who am I" (`/rest/api/3/myself` for Jira,
/// `/wiki/rest/api/user/current` for Confluence). A failure is [`ProbeError::Permanent`] with its
/// diagnosis when the site cannot be synced at all, [`ProbeError::Transient`] otherwise.
pub async fn probe_credentials(client: &super::Client, jira: bool) -> Result<(), ProbeError> {
    let path = if jira { "/rest/api/3/myself" } else { "/wiki/rest/api/user/current" };
    match client.get_json::<serde_json::Value>(path).await {
        Ok(value) if value.is_object() => Ok(()),
        Ok(_) => Err(ProbeError::Permanent(Diagnosis::NotCloud {
            call: format!("GET {path}"),
            detail: "the answer is not a user".into(),
        })),
        Err(error) => Err(match diagnose_first_call(&error) {
            Some(diagnosis) => ProbeError::Permanent(diagnosis),
            None => ProbeError::Transient(error),
        }),
    }
}

/// Why [`probe_credentials`] failed.
#[derive(Debug, thiserror::Error)]
pub enum ProbeError {
    #[error("{0}")]
    Permanent(Diagnosis),
    #[error("the site did not answer who the account is: {0}")]
    Transient(Error),
}

/// Why `error` (from reqwest, connecting to `host`) can never succeed before the site was reached once,
/// if it cannot: looked for in its chain of causes.
pub(super) fn unreachable_kind(error: &(dyn std::error::Error + 'static)) -> Option<Unreachable> {
    let mut cause = Some(error);
    let mut text = String::new();
    while let Some(current) = cause {
        if let Some(io) = current.downcast_ref::<std::io::Error>() {
            if io.kind() == std::io::ErrorKind::ConnectionRefused {
                return Some(Unreachable::Refused);
            }
        }
        text.push_str(&current.to_string().to_ascii_lowercase());
        text.push(' ');
        cause = current.source();
    }
    if text.contains("dns error") || text.contains("failed to lookup address") {
        Some(Unreachable::Dns)
    } else if text.contains("certificate") || text.contains("tls handshake") || text.contains("invalid peer")
    {
        Some(Unreachable::Tls)
    } else if text.contains("connection refused") {
        Some(Unreachable::Refused)
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn status(code: u16) -> Error {
        Error::Status {
            method: "GET".into(),
            path: "/rest/api/3/permissionscheme".into(),
            status: code,
            attempts: 1,
            detail: String::new(),
        }
    }

    #[test]
    fn statuses_that_no_retry_fixes_are_told_apart() {
        assert_eq!(diagnose(&status(401)), Some(Diagnosis::Credentials));
        assert_eq!(
            diagnose(&status(403)),
            Some(Diagnosis::MissingRight { call: "GET /rest/api/3/permissionscheme".into() })
        );
        for transient in [404, 410, 429, 500, 503] {
            assert_eq!(diagnose(&status(transient)), None, "{transient}");
        }
        assert_eq!(diagnose_first_call(&status(404)).map(|d| d.code()), Some("not_cloud"));
        let html = Error::Malformed {
            path: "/rest/api/3/myself".into(),
            reason: "invalid json".into(),
            attempts: 1,
        };
        assert_eq!(diagnose_first_call(&html).map(|d| d.code()), Some("not_cloud"));
        assert_eq!(diagnose(&html), None, "a malformed body mid-run is transient");
    }

    #[test]
    fn causes_are_read_through_the_chain() {
        #[derive(Debug)]
        struct Wrapper(std::io::Error);
        impl std::fmt::Display for Wrapper {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("client error (Connect)")
            }
        }
        impl std::error::Error for Wrapper {
            fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
                Some(&self.0)
            }
        }
        let refused = Wrapper(std::io::Error::from(std::io::ErrorKind::ConnectionRefused));
        assert_eq!(unreachable_kind(&refused), Some(Unreachable::Refused));
        let dns = Wrapper(std::io::Error::other("dns error: failed to lookup address information"));
        assert_eq!(unreachable_kind(&dns), Some(Unreachable::Dns));
        let tls = Wrapper(std::io::Error::other("invalid peer certificate: UnknownIssuer"));
        assert_eq!(unreachable_kind(&tls), Some(Unreachable::Tls));
        let reset = Wrapper(std::io::Error::from(std::io::ErrorKind::ConnectionReset));
        assert_eq!(unreachable_kind(&reset), None);
    }
}

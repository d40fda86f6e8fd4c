//! Sign in with Atlassian: the OAuth 2.0 authorization-code ("3LO") client side.
//!
//! The browser goes to `{auth_url}/authorize` with `audience=api.atlassian.com`, `scope=read:me`, our
//! `state` and `prompt=consent`; Atlassian sends it back to the callback with a `code`, which is exchanged at
//! `{auth_url}/oauth/token` (a JSON body with the client secret) for an access token; `{api_url}/me` then
//! says whose it is. The `account_id` it answers is the very id every permission is keyed by, so users
//! whose profile hides their e-mail sign in like anyone else. The access token is used once and dropped.
//!
//! This file does not decide whether the account may search; `mod.rs` asks the synced directory.

use serde::Deserialize;

use super::LoginError;
use crate::config::{AtlassianLogin, Url};

/// The scope we ask for: the user's identity, nothing of their content.
const SCOPE: &str = "read:me";

/// Where to send the browser to sign in.
pub fn authorize_url(config: &AtlassianLogin, state: &str) -> Result<Url, LoginError> {
    let mut url = config.auth_url.join("authorize").map_err(|e| LoginError::Config(e.to_string()))?;
    url.query_pairs_mut()
        .append_pair("audience", "api.atlassian.com")
        .append_pair("client_id", &config.client_id)
        .append_pair("scope", SCOPE)
        .append_pair("redirect_uri", config.callback_url.as_str())
        .append_pair("state", state)
        .append_pair("response_type", "code")
        .append_pair("prompt", "consent");
    Ok(url)
}

#[derive(Debug, Deserialize)]
struct TokenResponse {
    access_token: String,
}

/// The parts of `/me` we use. Everything else in the profile is ignored.
#[derive(Debug, Clone, Deserialize)]
pub struct Me {
    pub account_id: String,
    #[serde(default)]
    pub name: Option<String>,
}

/// Exchanges `code` for an access token and asks `/me` whose it is.
pub async fn account_of(
    http: &reqwest::Client,
    config: &AtlassianLogin,
    code: &str,
) -> Result<Me, LoginError> {
    let token_url = config.auth_url.join("oauth/token").map_err(|e| LoginError::Config(e.to_string()))?;
    let body = serde_json::json!({
        "grant_type": "authorization_code",
        "client_id": config.client_id,
        "client_secret": config.client_secret.expose(),
        "code": code,
        "redirect_uri": config.callback_url.as_str(),
    });
    let response = http.post(token_url).json(&body).send().await.map_err(LoginError::provider("token"))?;
    if !response.status().is_success() {
        return Err(LoginError::Provider(format!(
            "Atlassian refused the sign-in code ({})",
            response.status()
        )));
    }
    let token: TokenResponse = response.json().await.map_err(LoginError::provider("token"))?;
    let me_url = config.api_url.join("me").map_err(|e| LoginError::Config(e.to_string()))?;
    let response = http
        .get(me_url)
        .bearer_auth(&token.access_token)
        .send()
        .await
        .map_err(LoginError::provider("/me"))?;
    if !response.status().is_success() {
        return Err(LoginError::Provider(format!("Atlassian's /me answered {}", response.status())));
    }
    let me: Me = response.json().await.map_err(LoginError::provider("/me"))?;
    if me.account_id.trim().is_empty() {
        return Err(LoginError::Provider("Atlassian's /me named no account".into()));
    }
    Ok(me)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Secret;

    #[test]
    fn authorize_url_has_atlassians_parameters() {
        let config = AtlassianLogin {
            client_id: "cid".into(),
            client_secret: Secret::new("s3cret".into()),
            callback_url: Url::parse("https://permdex.example/auth/atlassian/callback").unwrap(),
            auth_url: Url::parse("https://auth.atlassian.com").unwrap(),
            api_url: Url::parse("https://api.atlassian.com").unwrap(),
        };
        let url = authorize_url(&config, "st").unwrap();
        assert_eq!(
            url.as_str(),
            "https://auth.atlassian.com/authorize?audience=api.atlassian.com&client_id=cid&scope=read%3Ame\
             &redirect_uri=https%3A%2F%2Fpermdex.example%2Fauth%2Fatlassian%2Fcallback&state=st\
             &response_type=code&prompt=consent"
        );
        assert!(!url.as_str().contains("s3cret"));
    }
}

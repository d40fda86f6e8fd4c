//! Property tests over the parsers that read untrusted input: the query language, ADF, storage XHTML,
//! HTML, file-type sniffing, the config loader and bearer-token parsing. Each must return (an answer or a
//! clear error) on any input, never panic.
//!
//! Short by default (`PERMDEX_FUZZ_CASES`, default 64 cases each, seconds in a debug build); the long mode
//! runs 100,000 cases each (about three minutes in all; the debug build keeps overflow checks):
//!
//! ```text
//! PERMDEX_FUZZ_CASES=100000 cargo test --test it fuzz::
//! ```

use std::collections::BTreeMap;
use std::path::Path;

use permdex::config::Config;
use permdex::extract::{sniff, Hint, NoUserNames};
use permdex::server::{Authenticator, StaticCallers};
use proptest::prelude::*;
use serde_json::Value;

fn cases() -> u32 {
    std::env::var("PERMDEX_FUZZ_CASES").ok().and_then(|n| n.parse().ok()).unwrap_or(64)
}

fn config() -> ProptestConfig {
    ProptestConfig { cases: cases(), failure_persistence: None, ..ProptestConfig::default() }
}

/// A JSON value up to a few levels deep, with ADF's own keys likely.
fn json_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        prop::sample::select(vec![
            "doc",
            "paragraph",
            "text",
            "mention",
            "table",
            "codeBlock",
            "hardBreak",
            ""
        ])
        .prop_map(Value::from),
        ".{0,20}".prop_map(Value::from),
    ];
    leaf.prop_recursive(5, 64, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            prop::collection::btree_map(
                prop::sample::select(vec!["type", "content", "text", "attrs", "marks", "id", "x"]),
                inner,
                0..5
            )
            .prop_map(|m| Value::Object(m.into_iter().map(|(k, v)| (k.to_owned(), v)).collect())),
        ]
    })
}

fn markup_soup() -> impl Strategy<Value = String> {
    prop::collection::vec(
        prop::sample::select(vec![
            "<p>",
            "</p>",
            "<div",
            ">",
            "<",
            "&amp;",
            "&#x",
            "&#99999999;",
            "<script>",
            "</script>",
            "<!--",
            "-->",
            "<![CDATA[",
            "]]>",
            "<ac:link>",
            "</ac:link>",
            "<ri:user ri:account-id=\"a\"/>",
            "<table><tr><td>",
            "text",
            " ",
            "\u{0}",
            "é",
            "<br/>",
            "\"",
            "'",
            "=",
        ]),
        0..80,
    )
    .prop_map(|parts| parts.concat())
}

/// A `[server]` key and value mix that may or may not make a valid config.
fn config_text() -> impl Strategy<Value = String> {
    let line = prop::sample::select(vec![
        "[[sources]]",
        "name = \"acme\"",
        "url = \"https://acme.atlassian.net\"",
        "email = \"bot@acme.example\"",
        "token_env = \"TOK\"",
        "token = \"literal\"",
        "[server]",
        "listen = \"0.0.0.0:1\"",
        "jwt_hs256_secret_env = \"JWT\"",
        "jwt_max_lifetime_secs = -5",
        "jwt_leeway_secs = 99999999999999",
        "max_connections = 0",
        "header_read_timeout_secs = 3",
        "concurrency = 9223372036854775807",
        "max_attachment_bytes = \"20MiB\"",
        "max_attachment_bytes = \"-1GiB\"",
        "include_spaces = [\"A\", \"\"]",
        "= =",
        "[[sources]",
        "\"",
    ]);
    prop::collection::vec(line, 0..16).prop_map(|lines| lines.join("\n"))
}

fn env() -> BTreeMap<String, String> {
    [("TOK", "t0ken-0123456789abcdef"), ("JWT", "jwt-secret-0a1b2c3d4e5f6a7b8c9d0e1f2a3b")]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect()
}

fn authenticator() -> Authenticator {
    let text =
        "[[sources]]\nname = \"s\"\nurl = \"http://127.0.0.1:9\"\nemail = \"a@b.c\"\ntoken_env = \"TOK\"\n\
                [server]\njwt_hs256_secret_env = \"JWT\"\njwt_audience = \"permdex\"\n";
    let config = Config::from_toml(text, Path::new("permdex.toml"), &env()).expect("config");
    Authenticator::from_config(config.server()).expect("authenticator")
}

fn b64(bytes: &[u8]) -> String {
    use base64::Engine;
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn the_query_parser_reads_anything(input in any::<String>()) {
        if let Err(permdex::search::Error::BadQuery { position: Some(p), .. }) = permdex::search::query::parse(&input) {
            prop_assert!(p <= input.chars().count());
        }
    }

    #[test]
    fn the_query_parser_reads_operator_soup(parts in prop::collection::vec(
        prop::sample::select(vec!["AND", "OR", "NOT", "(", ")", "\"", "-", "+", "title:", "space:", "x", " ", "*", "~2", "^3"]),
        0..40,
    )) {
        let _ = permdex::search::query::parse(&parts.concat());
    }

    #[test]
    fn adf_reads_any_json(doc in json_value()) {
        let _ = permdex::extract::adf_to_text(&doc);
    }

    #[test]
    fn storage_xhtml_reads_any_markup(input in markup_soup()) {
        let _ = permdex::extract::storage_to_text(&input, &NoUserNames);
    }

    #[test]
    fn html_reads_any_markup(input in markup_soup(), text in ".{0,200}") {
        let _ = permdex::extract::html::html_to_text(&input);
        let _ = permdex::extract::html::html_to_text(&text);
        let _ = permdex::extract::text::strip_markup(&input);
    }

    #[test]
    fn sniffing_reads_any_bytes(
        bytes in prop::collection::vec(any::<u8>(), 0..600),
        prefix in prop::sample::select(vec![&b"%PDF-"[..], b"PK\x03\x04", b"\xd0\xcf\x11\xe0", b"{\\rtf", b"\xef\xbb\xbf", b"\xff\xfe", b""]),
        name in prop::option::of("[a-z]{0,8}\\.(pdf|docx|txt|zip|html|xls|eml|odt|rtf|csv|json)"),
    ) {
        let mut input = prefix.to_vec();
        input.extend(bytes);
        let hint = Hint { filename: name, media_type: None };
        let _ = sniff(&input, &hint);
        let _ = permdex::extract::sniff::detect_text_encoding(&input);
    }

    #[test]
    fn the_config_loader_reads_any_text(text in config_text(), noise in ".{0,80}") {
        let env = env();
        let _ = Config::from_toml(&text, Path::new("/cfg/permdex.toml"), &env);
        let _ = Config::from_toml(&noise, Path::new("/cfg/permdex.toml"), &env);
    }

    #[test]
    fn bearer_tokens_of_any_shape_are_refused_cleanly(
        header in ".{0,40}",
        claims in json_value(),
        alg in prop::sample::select(vec!["HS256", "none", "RS256", "HS512", "", "ES256"]),
        signature in "[A-Za-z0-9_-]{0,40}",
    ) {
        let auth = authenticator();
        let callers = StaticCallers::default();
        let forged = format!(
            "{}.{}.{signature}",
            b64(format!("{{\"alg\":\"{alg}\",\"typ\":\"JWT\"}}").as_bytes()),
            b64(claims.to_string().as_bytes())
        );
        for value in [format!("Bearer {forged}"), header.clone(), format!("Bearer {header}")] {
            if let Ok(value) = axum::http::HeaderValue::from_str(&value) {
                // Nobody is known to `callers`, and nothing here is signed: every one is refused.
                let refused = auth.caller(Some(&value), &callers).expect_err("refused");
                prop_assert_eq!(refused.status().as_u16(), 401);
            }
        }
    }
}

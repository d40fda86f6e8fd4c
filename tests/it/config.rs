//! `permdex.toml` loaded from real files with the process environment, token files with their modes, and
//! `permdex init` through the library and through the binary.

use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::process::Command;

use permdex::config::init::{self, Existing, InitOptions};
use permdex::config::{Config, Error, JwtKey, TokenOrigin};

const PUBLIC_KEY_PEM: &str =
    "-----BEGIN PUBLIC KEY-----\nMFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAE\n-----END PUBLIC KEY-----\n";

fn write(path: &Path, text: &str, mode: u32) {
    fs::write(path, text).unwrap();
    fs::set_permissions(path, fs::Permissions::from_mode(mode)).unwrap();
}

#[test]
fn full_example_loads_from_files_and_the_environment() {
    let dir = tempfile::tempdir().unwrap();
    let token_from_env = "env-token-7f3e9a2b";
    let token_from_file = "file-token-c4d5e6f7";
    std::env::set_var("PERMDEX_IT_CONFIG_FULL_TOKEN", token_from_env);
    std::env::set_var("PERMDEX_IT_CONFIG_FULL_KEY", "api-key-0123456789abcdef");
    std::env::set_var("PERMDEX_IT_CONFIG_FULL_ADMIN", "admin-key-0123456789abcdef");
    fs::create_dir(dir.path().join("secrets")).unwrap();
    write(&dir.path().join("secrets/other-token"), &format!("{token_from_file}\n"), 0o600);
    write(&dir.path().join("jwt.pem"), PUBLIC_KEY_PEM, 0o644);
    let text = r#"
data_dir = "index"

[[sources]]
name = "acme"
url = "https://acme.atlassian.net"
email = "search-bot@acme.example"
token_env = "PERMDEX_IT_CONFIG_FULL_TOKEN"
confluence = true
jira = false
include_spaces = ["ENG", "OPS"]
exclude_spaces = ["~557058:aaa"]
exclude_users = ["557058:bbb"]
archived = true
max_attachment_bytes = "5MiB"
concurrency = 8
requests_per_second = 2.5
timeout_secs = 60

[[sources]]
name = "sim"
url = "http://127.0.0.1:9000"
email = "admin@sim.example"
token_file = "secrets/other-token"
include_projects = ["DEV"]
exclude_projects = ["SEC"]
include_users = ["557058:aaa", "557058:ccc"]

[server]
listen = "127.0.0.1:7800"
jwt_public_key_file = "jwt.pem"
admin_key_env = "PERMDEX_IT_CONFIG_FULL_ADMIN"
api_keys = [{ key_env = "PERMDEX_IT_CONFIG_FULL_KEY", account_id = "557058:aaa" }]
"#;
    let path = dir.path().join("permdex.toml");
    fs::write(&path, text).unwrap();

    let config = Config::load(&path).unwrap();
    assert_eq!(config.data_dir(), dir.path().join("index"));
    assert!(config.warnings().is_empty(), "{:?}", config.warnings());

    let acme = config.source("acme").unwrap();
    assert_eq!(acme.token().unwrap().expose(), token_from_env);
    assert!(acme.products().confluence && !acme.products().jira);
    assert!(acme.include_archived());
    assert!(acme.space_in_scope("ENG") && !acme.space_in_scope("HR") && !acme.space_in_scope("~557058:aaa"));
    assert!(!acme.user_in_scope("557058:bbb") && acme.user_in_scope("557058:ccc"));
    assert_eq!(acme.limits().max_attachment_bytes, 5 << 20);
    assert_eq!(acme.limits().concurrency.get(), 8);
    assert_eq!(acme.limits().requests_per_second, 2.5);
    assert_eq!(acme.limits().timeout.as_secs(), 60);

    let sim = config.source("sim").unwrap();
    assert_eq!(sim.token().unwrap().expose(), token_from_file);
    assert_eq!(sim.token_origin(), &TokenOrigin::File(dir.path().join("secrets/other-token")));
    assert_eq!(sim.url().as_str(), "http://127.0.0.1:9000/");
    assert!(sim.project_in_scope("DEV") && !sim.project_in_scope("SEC") && !sim.project_in_scope("OPS"));
    assert!(sim.user_in_scope("557058:ccc") && !sim.user_in_scope("557058:bbb"));
    assert!(sim.space_in_scope("~557058:aaa") && !sim.space_in_scope("~557058:bbb"));

    let server = config.server();
    assert_eq!(server.listen().port(), 7800);
    let Some(JwtKey::PublicKeyPem { pem, .. }) = server.jwt() else { panic!("expected a public key") };
    assert_eq!(pem, PUBLIC_KEY_PEM);
    assert_eq!(server.api_keys()[0].account_id.as_str(), "557058:aaa");

    let debug = format!("{config:?}");
    for secret in [token_from_env, token_from_file, "api-key-0123456789abcdef", "admin-key-0123456789abcdef"]
    {
        assert!(!debug.contains(secret), "{secret} leaked into Debug");
    }
}

fn file_token_config(dir: &Path, mode: u32) -> Result<Config, Error> {
    write(&dir.join("token"), "file-token-0a1b2c\n", mode);
    let text = "[[sources]]\nname = \"s\"\nurl = \"https://s.atlassian.net\"\nemail = \"a@b.c\"\ntoken_file = \"token\"\n";
    let path = dir.join("permdex.toml");
    fs::write(&path, text).unwrap();
    Config::load(&path)
}

#[test]
fn token_files_readable_by_others_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    // (mode, loads, warns)
    let cases = [
        (0o600, true, false),
        (0o400, true, false),
        (0o640, true, true),
        (0o644, false, false),
        (0o602, false, false),
    ];
    for (mode, loads, warns) in cases {
        match file_token_config(dir.path(), mode) {
            Ok(config) => {
                assert!(loads, "mode {mode:o} should be refused");
                assert_eq!(config.sources()[0].token().unwrap().expose(), "file-token-0a1b2c");
                assert_eq!(!config.warnings().is_empty(), warns, "mode {mode:o}: {:?}", config.warnings());
            }
            Err(err) => {
                assert!(!loads, "mode {mode:o}: {err}");
                let message = err.to_string();
                assert!(message.contains("sources[0].token_file: "), "{message}");
                assert!(
                    message.contains("accessible to other users") && message.contains("chmod 600"),
                    "{message}"
                );
                assert!(!message.contains("file-token-0a1b2c"), "{message}");
            }
        }
    }
}

#[test]
fn token_file_contents_are_checked() {
    let dir = tempfile::tempdir().unwrap();
    let text = "[[sources]]\nname = \"s\"\nurl = \"https://s.atlassian.net\"\nemail = \"a@b.c\"\ntoken_file = \"token\"\n";
    let path = dir.path().join("permdex.toml");
    fs::write(&path, text).unwrap();
    for (contents, expected) in
        [("\n \n", "is empty"), ("a@b.c\ntoken\n", "must hold only the token, on one line")]
    {
        write(&dir.path().join("token"), contents, 0o600);
        let message = Config::load(&path).unwrap_err().to_string();
        assert!(message.contains(expected), "{message}");
    }
}

#[test]
fn jwt_key_files_must_be_public_keys() {
    let dir = tempfile::tempdir().unwrap();
    std::env::set_var("PERMDEX_IT_CONFIG_JWT_TOKEN", "t");
    let cases = [
        ("-----BEGIN PRIVATE KEY-----\nabc\n-----END PRIVATE KEY-----\n", "holds a private key"),
        ("-----BEGIN EC PRIVATE KEY-----\nabc\n-----END EC PRIVATE KEY-----\n", "holds a private key"),
        ("not a key", "is not a PEM public key"),
    ];
    for (pem, expected) in cases {
        write(&dir.path().join("key.pem"), pem, 0o600);
        let text = "[[sources]]\nname = \"s\"\nurl = \"https://s.atlassian.net\"\nemail = \"a@b.c\"\n\
                    token_env = \"PERMDEX_IT_CONFIG_JWT_TOKEN\"\n[server]\njwt_public_key_file = \"key.pem\"\n";
        let path = dir.path().join("permdex.toml");
        fs::write(&path, text).unwrap();
        let message = Config::load(&path).unwrap_err().to_string();
        assert!(message.contains("server.jwt_public_key_file: ") && message.contains(expected), "{message}");
    }
}

#[test]
fn a_missing_file_says_to_run_init() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("nope.toml");
    let err = Config::load(&path).unwrap_err();
    assert!(matches!(err, Error::Missing { .. }), "{err:?}");
    let message = err.to_string();
    assert!(message.starts_with(&format!("no config file at {}", path.display())), "{message}");
    assert!(message.contains("permdex init --url"), "{message}");
}

fn init_args(output: &Path, token_env: &str) -> InitOptions {
    InitOptions {
        url: "https://acme.atlassian.net".into(),
        email: "bot@acme.example".into(),
        token_env: token_env.into(),
        data: None,
        output: output.to_owned(),
        existing: Existing::Refuse,
    }
}

#[test]
fn init_writes_a_file_that_loads_and_refuses_to_overwrite() {
    let dir = tempfile::tempdir().unwrap();
    let output = dir.path().join("permdex.toml");
    std::env::set_var("PERMDEX_IT_CONFIG_INIT_TOKEN", "init-token-5e6f7a");
    let args = init_args(&output, "PERMDEX_IT_CONFIG_INIT_TOKEN");

    let written = init::run(&args).unwrap();
    assert_eq!(written.path, output);
    let text = fs::read_to_string(&output).unwrap();
    assert!(!text.contains("init-token-5e6f7a"), "the token must never be written");
    let config = Config::load(&output).unwrap();
    assert_eq!(config.sources()[0].name().as_str(), "acme");
    assert_eq!(config.sources()[0].token().unwrap().expose(), "init-token-5e6f7a");
    assert_eq!(config.data_dir(), dir.path().join("./permdex-data"));

    // A second run must not touch the file.
    fs::write(&output, "# edited by hand\n").unwrap();
    let err = init::run(&args).unwrap_err();
    assert!(matches!(err, Error::AlreadyExists { .. }), "{err:?}");
    assert!(err.to_string().contains("pass --force to overwrite it"), "{err}");
    assert_eq!(fs::read_to_string(&output).unwrap(), "# edited by hand\n");

    // With --force it is replaced.
    init::run(&InitOptions { existing: Existing::Overwrite, ..args }).unwrap();
    assert_eq!(fs::read_to_string(&output).unwrap(), text);
}

#[test]
fn init_with_a_data_dir() {
    let dir = tempfile::tempdir().unwrap();
    let output = dir.path().join("permdex.toml");
    let data = dir.path().join("elsewhere/index");
    std::env::set_var("PERMDEX_IT_CONFIG_INIT_DATA_TOKEN", "t");
    let args =
        InitOptions { data: Some(data.clone()), ..init_args(&output, "PERMDEX_IT_CONFIG_INIT_DATA_TOKEN") };
    init::run(&args).unwrap();
    assert!(fs::read_to_string(&output).unwrap().contains("data_dir = \"./elsewhere/index\""));
    assert_eq!(Config::load(&output).unwrap().data_dir(), dir.path().join("./elsewhere/index"));
}

#[test]
fn the_binary_maps_init_errors_to_exit_codes() {
    let dir = tempfile::tempdir().unwrap();
    let output = dir.path().join("permdex.toml");
    let init = |url: &str| {
        Command::new(env!("CARGO_BIN_EXE_permdex"))
            .args([
                "init",
                "--url",
                url,
                "--email",
                "bot@acme.example",
                "--token-env",
                "ACME_TOKEN",
                "--output",
            ])
            .arg(&output)
            .env_remove("ACME_TOKEN")
            .output()
            .unwrap()
    };
    let first = init("https://acme.atlassian.net");
    assert!(first.status.success(), "{}", String::from_utf8_lossy(&first.stderr));
    assert!(String::from_utf8_lossy(&first.stderr).contains("export ACME_TOKEN="));

    let again = init("https://acme.atlassian.net");
    assert_eq!(again.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&again.stderr).contains("already exists; pass --force"));

    fs::remove_file(&output).unwrap();
    let bad_url = init("ftp://acme.atlassian.net");
    assert_eq!(bad_url.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&bad_url.stderr).contains("--url: must be a site URL"));
    assert!(!output.exists());
}

/// Sign-in sections: the client secret from a 0600 file (never echoed), https or loopback URLs, required keys.
#[test]
fn sign_in_sections_are_checked() {
    let dir = tempfile::tempdir().unwrap();
    write(&dir.path().join("token"), "file-token-0a1b2c\n", 0o600);
    write(&dir.path().join("client-secret"), "cl13nt-s3cr3t-value\n", 0o600);
    write(&dir.path().join("open-secret"), "cl13nt-s3cr3t-value\n", 0o644);
    let base = "[[sources]]\nname = \"s\"\nurl = \"https://s.atlassian.net\"\nemail = \"a@b.c\"\ntoken_file = \"token\"\n\
                [server]\n";
    let good_atlassian =
        "[server.atlassian_login]\nclient_id = \"cid\"\nclient_secret_file = \"client-secret\"\n\
                          callback_url = \"https://permdex.example/auth/atlassian/callback\"\n";
    let good_oidc = "[server.oidc_login]\nissuer = \"https://idp.example\"\nclient_id = \"permdex\"\n\
                     callback_url = \"http://127.0.0.1:7700/auth/oidc/callback\"\n";
    // (sections, expected problem or None)
    let cases: Vec<(String, Option<&str>)> = vec![
        (format!("{good_atlassian}{good_oidc}"), None),
        (good_atlassian.replace("client_secret_file = \"client-secret\"\n", ""), Some("client_secret_env")),
        (good_atlassian.replace("client-secret", "open-secret"), Some("chmod 600")),
        (good_atlassian.replace("https://permdex.example", "http://permdex.example"), Some("must be https")),
        (good_atlassian.replace("client_id = \"cid\"\n", ""), Some("client_id: is required")),
        (good_oidc.replace("issuer = \"https://idp.example\"\n", ""), Some("issuer: is required")),
        (format!("{good_atlassian}client_secret = \"x\"\n"), Some("client_secret")),
    ];
    let path = dir.path().join("permdex.toml");
    for (sections, expected) in cases {
        fs::write(&path, format!("{base}{sections}")).unwrap();
        match (Config::load(&path), expected) {
            (Ok(config), None) => {
                let atlassian = config.server().atlassian_login().expect("atlassian_login");
                assert_eq!(atlassian.client_secret.expose(), "cl13nt-s3cr3t-value");
                assert_eq!(atlassian.auth_url.as_str(), "https://auth.atlassian.com/");
                assert_eq!(atlassian.api_url.as_str(), "https://api.atlassian.com/");
                let oidc = config.server().oidc_login().expect("oidc_login");
                assert!(oidc.client_secret.is_none(), "a public client");
                assert!(!format!("{config:?}").contains("cl13nt-s3cr3t-value"), "secret in Debug");
            }
            (Err(err), Some(expected)) => {
                let message = err.to_string();
                assert!(message.contains(expected), "{sections}: {message}");
                assert!(!message.contains("cl13nt-s3cr3t-value"), "{message}");
            }
            (Ok(_), Some(expected)) => panic!("{sections}: loads, expected {expected:?}"),
            (Err(err), None) => panic!("{sections}: {err}"),
        }
    }
}

//! Adding a source through the admin API, against the simulator over loopback: what a token can see
//! (and what a refused token or an unreachable host get), then the source written to a real configuration
//! file whose comments stay, with its token in an owner-only file; refusals leave the file as it was.

use std::collections::BTreeMap;
use std::path::Path;

use permdex::config::Config;
use permdex::server::backend::{ServeOptions, Service};
use permdex::sim::{Scale, SimConfig};
use serde_json::{json, Value};

use crate::support;

const ADMIN_ENV: &str = "PERMDEX_ONBOARD_ADMIN";
const ADMIN: &str = "admin-key-of-the-onboarding-test";
const TOKEN_ENV: &str = "PERMDEX_ONBOARD_TOKEN";

/// A configuration file as someone wrote it: comments, a source, a server table.
fn written(sim: &permdex::sim::run::RunningSim, data: &Path) -> String {
    format!(
        "# Our permdex: written by hand, keep these notes.\n\
         data_dir = {data:?}   # the index lives here\n\n\
         [[sources]]\n# The first site.\nname = \"sim\"\nurl = {url:?}\nemail = {email:?}\ntoken_env = \"{TOKEN_ENV}\"\n\n\
         [server]\nlisten = \"127.0.0.1:0\"\nadmin_key_env = \"{ADMIN_ENV}\"\n",
        data = data.display().to_string(),
        url = sim.url,
        email = sim.credentials.email,
    )
}

fn env(sim: &permdex::sim::run::RunningSim) -> BTreeMap<String, String> {
    BTreeMap::from([(TOKEN_ENV.into(), sim.credentials.token.clone()), (ADMIN_ENV.into(), ADMIN.into())])
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_source_is_added_from_what_its_token_sees_and_written_to_the_configuration() {
    let sim = support::start_generated(SimConfig::new(2, Scale::Tiny)).await;
    let dir = tempfile::tempdir().expect("tempdir");
    let file = dir.path().join("permdex.toml");
    let text = written(&sim, &dir.path().join("data"));
    std::fs::write(&file, &text).expect("config file");
    let config = Config::from_toml(&text, &file, &env(&sim)).expect("config");
    let service = Service::open(config, ServeOptions::default()).await.expect("service");
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let base = format!("http://{}", listener.local_addr().expect("addr"));
    tokio::spawn(service.serve(listener, std::future::pending()));
    let http = reqwest::Client::new();
    let post = |path: &str, key: &str, body: Value| {
        let request = http.post(format!("{base}{path}")).bearer_auth(key).json(&body);
        async move {
            let response = request.send().await.expect("answer");
            (response.status().as_u16(), response.json::<Value>().await.unwrap_or(Value::Null))
        }
    };
    let credentials = json!({"url": sim.url, "email": sim.credentials.email, "token": sim.credentials.token});

    // What the token sees: exactly the site's spaces and projects, archived ones marked.
    let (status, seen) = post("/api/v1/admin/discover", ADMIN, credentials.clone()).await;
    assert_eq!(status, 200, "{seen}");
    assert_eq!((&seen["confluence"], &seen["jira"], seen.get("error")), (&json!(true), &json!(true), None));
    let site = sim.state.read().clone();
    let keys = |list: &Value| -> Vec<String> {
        let mut keys: Vec<String> = list
            .as_array()
            .expect("a list")
            .iter()
            .map(|s| s["key"].as_str().expect("key").to_owned())
            .collect();
        keys.sort();
        keys
    };
    let mut spaces: Vec<String> = site.spaces.values().map(|s| s.key.clone()).collect();
    spaces.sort();
    assert_eq!(keys(&seen["spaces"]), spaces);
    let mut projects: Vec<String> =
        site.projects.values().filter(|p| !p.archived).map(|p| p.key.clone()).collect();
    projects.sort();
    assert_eq!(keys(&seen["projects"]), projects);
    assert!(!seen.to_string().contains(&sim.credentials.token), "the token is never echoed");

    // A refused token, and a host where nothing listens: why, not a list.
    let mut refused = credentials.clone();
    refused["token"] = json!("not-the-token");
    let (status, seen) = post("/api/v1/admin/discover", ADMIN, refused).await;
    assert_eq!(status, 200, "{seen}");
    assert!(seen["error"].as_str().expect("an error").contains("refused this email/token pair"), "{seen}");
    let mut nowhere = credentials.clone();
    nowhere["url"] = json!("http://127.0.0.1:9");
    let (_, seen) = post("/api/v1/admin/discover", ADMIN, nowhere).await;
    assert!(seen["error"].as_str().expect("an error").contains("refused"), "{seen}");
    // Only the admin key.
    let (status, _) = post("/api/v1/admin/discover", "someone", credentials.clone()).await;
    assert!(matches!(status, 401 | 403), "{status}");

    // Added with two of its spaces and one project.
    let chosen_spaces: Vec<String> = spaces.iter().take(2).cloned().collect();
    let mut body = credentials.clone();
    body["name"] = json!("second");
    body["include_spaces"] = json!(chosen_spaces);
    body["include_projects"] = json!([projects[0]]);
    let (status, added) = post("/api/v1/admin/sources", ADMIN, body.clone()).await;
    assert_eq!(status, 201, "{added}");
    assert_eq!(added["restart_required"], json!(true));
    assert!(added["detail"].as_str().expect("detail").contains("restart"), "{added}");
    assert!(!added.to_string().contains(&sim.credentials.token), "the token is never echoed");
    let now = std::fs::read_to_string(&file).expect("config");
    let at = text.find("\n[server]").expect("server table");
    assert!(now.starts_with(&text[..at]) && now.ends_with(&text[at..]), "comments and layout kept:\n{now}");
    assert!(!now.contains(&sim.credentials.token), "the configuration never holds a token");
    let token_file = dir.path().join("second.token");
    assert_eq!(added["token_file"], json!(token_file));
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&token_file).expect("token file").permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
    }
    let reloaded = Config::from_toml(&now, &file, &env(&sim)).expect("the file loads as the server will");
    let second = reloaded.source("second").expect("the new source");
    assert_eq!(second.token().expect("read").expose(), sim.credentials.token);
    assert!(second.space_in_scope(&chosen_spaces[0]) && second.project_in_scope(&projects[0]));
    if let Some(other) = spaces.get(2) {
        assert!(!second.space_in_scope(other), "only the chosen spaces");
    }

    // The same name, a name the running server has, and a broken rule: refused, nothing changes.
    let (status, _) = post("/api/v1/admin/sources", ADMIN, body.clone()).await;
    assert_eq!(status, 409);
    body["name"] = json!("sim");
    let (status, _) = post("/api/v1/admin/sources", ADMIN, body.clone()).await;
    assert_eq!(status, 409);
    body["name"] = json!("third");
    body["include_spaces"] = json!(["not a key!"]);
    let (status, refused) = post("/api/v1/admin/sources", ADMIN, body).await;
    assert_eq!(status, 400, "{refused}");
    assert!(refused["error"]["message"].as_str().expect("message").contains("include_spaces"), "{refused}");
    assert_eq!(std::fs::read_to_string(&file).expect("config"), now);
    assert!(!dir.path().join("third.token").exists());
}

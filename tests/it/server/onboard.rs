//! Adding a source through the admin API, against the simulator over loopback: what a token can see
//! (and what a refused token or an unreachable host get), then the source written to a real configuration
//! file whose comments stay, with its token in an owner-only file; refusals leave the file as it was.
//! The running server takes the source at once: with two simulated sites, a source added while the server
//! serves the other is listed, synced and searched without a restart, each caller seeing exactly what the
//! new site's oracle allows, a caller the new site does not know nothing of it, and searches running
//! through the add never disturbed.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use permdex::config::Config;
use permdex::server::backend::{ServeOptions, Service};
use permdex::sim::oracle;
use permdex::sim::{Scale, SimConfig};
use serde_json::{json, Value};

use crate::service::{self, browse, eventually, Deployment};
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
    body["start_sync"] = json!(false);
    let (status, added) = post("/api/v1/admin/sources", ADMIN, body.clone()).await;
    assert_eq!(status, 201, "{added}");
    assert_eq!(
        (&added["restart_required"], &added["sync_started"]),
        (&json!(false), &json!(false)),
        "{added}"
    );
    let detail = added["detail"].as_str().expect("detail");
    assert!(detail.contains("served now") && detail.contains("no sync was started"), "{added}");
    assert!(!added.to_string().contains(&sim.credentials.token), "the token is never echoed");
    // Listed at once, and not syncing: the request said not to.
    let listed = admin_sources(&http, &base, ADMIN).await;
    let second = listed.as_array().expect("list").iter().find(|s| s["name"] == "second").expect("listed");
    assert_eq!((&second["sync_running"], &second["last_runs"]), (&json!(false), &json!([])), "{listed}");
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

/// The file names another data directory than the one the server serves (edited by hand since it
/// started): a restart would serve that one, so the running server does not take a source from it. The
/// source is still written, and the answer says a restart is needed, and why.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_source_the_running_server_cannot_take_waits_for_a_restart_and_the_answer_says_why() {
    let sim = support::start_generated(SimConfig::new(2, Scale::Tiny)).await;
    let dir = tempfile::tempdir().expect("tempdir");
    let file = dir.path().join("permdex.toml");
    let text = written(&sim, &dir.path().join("data"));
    let config = Config::from_toml(&text, &file, &env(&sim)).expect("config");
    std::fs::write(&file, written(&sim, &dir.path().join("moved"))).expect("config file");
    let service = Service::open(config, ServeOptions::default()).await.expect("service");
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let base = format!("http://{}", listener.local_addr().expect("addr"));
    tokio::spawn(service.serve(listener, std::future::pending()));
    let http = reqwest::Client::new();

    let body = json!({
        "name": "second", "url": sim.url, "email": sim.credentials.email, "token": sim.credentials.token,
    });
    let added = add_source(&http, &base, ADMIN, &body).await;
    assert_eq!(
        (&added["restart_required"], &added["sync_started"]),
        (&json!(true), &json!(false)),
        "{added}"
    );
    let detail = added["detail"].as_str().expect("detail");
    assert!(
        detail.contains("data_dir") && detail.contains("restart permdex to sync and search second"),
        "{added}"
    );
    let config = Config::from_toml(&std::fs::read_to_string(&file).expect("file"), &file, &env(&sim));
    assert!(config.expect("loads").source("second").is_some(), "the source is written all the same");
    let listed = admin_sources(&http, &base, ADMIN).await;
    let names: Vec<&str> =
        listed.as_array().expect("list").iter().filter_map(|s| s["name"].as_str()).collect();
    assert_eq!(names, ["sim"], "not served until the restart");
}

/// `GET /api/v1/admin/sources` with the admin key `key`.
async fn admin_sources(http: &reqwest::Client, base: &str, key: &str) -> Value {
    let response = http.get(format!("{base}/api/v1/admin/sources")).bearer_auth(key).send().await;
    response.expect("answer").json().await.expect("json")
}

/// `POST /api/v1/admin/sources` with `body`, which must answer 201; the answer.
async fn add_source(http: &reqwest::Client, base: &str, key: &str, body: &Value) -> Value {
    let request = http.post(format!("{base}/api/v1/admin/sources")).bearer_auth(key).json(body);
    let response = request.send().await.expect("answer");
    assert_eq!(response.status().as_u16(), 201);
    response.json().await.expect("json")
}

/// What `account` may read on `sim`, by its oracle.
fn oracle(sim: &permdex::sim::run::RunningSim, account: &str) -> BTreeSet<String> {
    let site = sim.state.read();
    oracle::visible(&site, account, oracle::Scope::default()).into_iter().map(|d| d.0).collect()
}

/// An active account of `sim` that reads something there and that `other` does not know.
fn reader_unknown_to(sim: &permdex::sim::run::RunningSim, other: &permdex::sim::run::RunningSim) -> String {
    let known: BTreeSet<String> = other.state.read().users.iter().map(|u| u.account_id.clone()).collect();
    let users: Vec<String> =
        sim.state.read().users.iter().filter(|u| u.active).map(|u| u.account_id.clone()).collect();
    users
        .into_iter()
        .filter(|a| !known.contains(a))
        .max_by_key(|a| oracle(sim, a).len())
        .expect("an account only this site has")
}

/// The admin API's entry for `name`, once `done` holds for it.
async fn source_when(http: &reqwest::Client, base: &str, name: &str, done: impl Fn(&Value) -> bool) -> Value {
    let found = eventually(3000, || async {
        let listed = admin_sources(http, base, service::ADMIN_KEY).await;
        listed.as_array()?.iter().find(|s| s["name"] == name).filter(|s| done(s)).cloned()
    })
    .await;
    found.unwrap_or_else(|| panic!("source {name} never got there"))
}

fn synced(source: &Value) -> bool {
    source["sync_running"] == json!(false) && source["last_runs"].as_array().is_some_and(|r| !r.is_empty())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_source_added_while_serving_is_synced_and_searched_with_its_own_permissions_without_restart() {
    let d = Deployment::new(support::start_generated(SimConfig::new(2, Scale::Tiny)).await, "").await;
    let other = support::start_generated(SimConfig::new(23, Scale::Tiny)).await;
    let options = ServeOptions {
        poll_interval: Duration::from_millis(50),
        sync: support::quick_sync_options(),
        ..ServeOptions::default()
    };
    let base = d.serve(options).await;
    let http = reqwest::Client::new();
    let response = http
        .post(format!("{base}/api/v1/admin/sources/sim/sync"))
        .bearer_auth(service::ADMIN_KEY)
        .send()
        .await
        .expect("answer");
    assert_eq!(response.status().as_u16(), 202);
    source_when(&http, &base, "sim", synced).await;

    // A reader of each site that the other site does not know.
    let first_reader = reader_unknown_to(&d.sim, &other);
    let new_reader = reader_unknown_to(&other, &d.sim);
    let (first_token, new_token) = (d.token_for(&first_reader), d.token_for(&new_reader));
    let first_allowed = d.oracle(&first_reader);
    assert_eq!(browse(&http, &base, &first_token).await, first_allowed);
    assert!(browse(&http, &base, &new_token).await.is_empty(), "no source knows the new site's reader yet");

    // Searches keep running through the add and the new source's sync: the first site's reader sees
    // exactly what they saw before every time, the new site's reader never more than the new site allows.
    let stop = Arc::new(AtomicBool::new(false));
    let searching = {
        let (http, base, stop) = (http.clone(), base.clone(), stop.clone());
        let (first_token, new_token) = (first_token.clone(), new_token.clone());
        let (first_allowed, new_allowed) = (first_allowed.clone(), oracle(&other, &new_reader));
        tokio::spawn(async move {
            let mut rounds = 0;
            while !stop.load(Ordering::Acquire) {
                assert_eq!(browse(&http, &base, &first_token).await, first_allowed, "round {rounds}");
                let seen = browse(&http, &base, &new_token).await;
                assert!(seen.is_subset(&new_allowed), "round {rounds}: {:?}", seen.difference(&new_allowed));
                rounds += 1;
            }
            rounds
        })
    };

    let body = json!({
        "name": "other", "url": other.url, "email": other.credentials.email, "token": other.credentials.token,
    });
    let added = add_source(&http, &base, service::ADMIN_KEY, &body).await;
    assert_eq!(
        (&added["restart_required"], &added["sync_started"]),
        (&json!(false), &json!(true)),
        "{added}"
    );
    assert!(added["detail"].as_str().expect("detail").contains("a full sync has started"), "{added}");
    // Listed at once, its first sync running or done, and then synced in full.
    let listed = source_when(&http, &base, "other", |s| s["sync_running"] == json!(true) || synced(s)).await;
    assert_eq!(listed["url"].as_str().map(|u| u.trim_end_matches('/')), Some(other.url.as_str()), "{listed}");
    let listed = source_when(&http, &base, "other", synced).await;
    assert_eq!(listed["last_runs"][0]["mode"], json!("full"), "{listed}");
    assert!(listed["served"]["indexed"]["total"].as_u64() > Some(0), "{listed}");
    stop.store(true, Ordering::Release);
    let rounds = searching.await.expect("the searches during the add held");
    assert!(rounds > 0, "searches ran during the add");

    // The new site's reader finds exactly what its oracle allows, all of it in the new source; the first
    // site's reader, unknown to the new site, finds nothing of it, not even by id.
    let new_allowed = oracle(&other, &new_reader);
    assert!(!new_allowed.is_empty());
    assert_eq!(browse(&http, &base, &new_token).await, new_allowed);
    assert_eq!(browse(&http, &base, &first_token).await, first_allowed);
    let page: Value = http
        .get(format!("{base}/api/v1/search?q=the&facets=true&limit=100"))
        .bearer_auth(&first_token)
        .send()
        .await
        .expect("answer")
        .json()
        .await
        .expect("json");
    let sources: BTreeSet<&str> = page["hits"]
        .as_array()
        .expect("hits")
        .iter()
        .map(|h| h["source"].as_str().expect("source"))
        .collect();
    assert_eq!(sources, BTreeSet::from(["sim"]), "{page}");
    let readable = new_allowed.iter().next().expect("a document");
    for (token, status) in [(&first_token, 404), (&new_token, 200)] {
        let response = http
            .get(format!("{base}/api/v1/documents/other/{readable}"))
            .bearer_auth(token)
            .send()
            .await
            .expect("answer");
        assert_eq!(response.status().as_u16(), status, "{readable}");
    }
}

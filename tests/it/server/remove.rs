//! Removing a source while the server runs, over real HTTP, with two simulated sites synced into real
//! indexes and a real configuration file: from the moment the removal is answered no search returns a
//! document of the removed source — not a search started afterwards, nor one that was running through the
//! removal — and a reader of both sites finds exactly what the remaining site's oracle allows; the source's
//! running sync is cancelled and recorded so; the file loses the source's table and nothing else, and a
//! restart from it serves the same. `data=keep` keeps the source's files, `data=delete` deletes them and
//! nothing of the other source. Bad names, a missing `data`, the only source and non-admins are refused.
//! A source's schedule changed through the API is written to the file (its comments kept) and taken by the
//! running scheduler at once; what cannot change live is refused and says so.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use permdex::config::{AccountId, Config, JwtKey, Secret};
use permdex::server::auth::mint_token;
use permdex::server::backend::{ServeOptions, Service};
use permdex::sim::oracle::{visible, Scope};
use permdex::sim::run::RunningSim;
use permdex::sim::{FaultConfig, Scale, SimConfig};
use permdex::sync::{sync_with, Mode, Silent};
use serde_json::{json, Value};
use tokio::time::Instant;

use crate::service::eventually;
use crate::support;

const ADMIN_ENV: &str = "PERMDEX_REMOVE_ADMIN";
const ADMIN: &str = "admin-key-of-the-removal-test";
const JWT_ENV: &str = "PERMDEX_REMOVE_JWT";
const JWT: &str = "jwt-secret-of-the-removal-test-0123456789";
const TOKEN_ENV: &str = "PERMDEX_REMOVE_TOKEN";

/// Two sites with the same people (the second changed by random edits), both synced, served from a
/// configuration file on disk: `kept` reads its token from the environment, `gone` from a token file.
struct TwoSources {
    sims: [RunningSim; 2],
    dir: tempfile::TempDir,
    file: PathBuf,
    /// The file as written before the server started.
    written: String,
    base: String,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
}

/// The file's text: a comment, both sources (the second with a comment above it), a server table.
fn written(sims: &[RunningSim; 2], data: &Path) -> String {
    format!(
        "# Two sites; notes that must stay.\ndata_dir = {data:?}\n\n\
         [[sources]]\nname = \"kept\"\nurl = {url0:?}\nemail = {email0:?}\ntoken_env = \"{TOKEN_ENV}\"\n\
         requests_per_second = 2000.0\nconcurrency = 8\n\n\
         # The second site, to be removed.\n[[sources]]\nname = \"gone\"\nurl = {url1:?}\nemail = {email1:?}\n\
         token_file = \"gone.token\"\nrequests_per_second = 2000.0\nconcurrency = 8\n\n\
         [server]\nlisten = \"127.0.0.1:0\"\njwt_hs256_secret_env = \"{JWT_ENV}\"\nadmin_key_env = \"{ADMIN_ENV}\"\n",
        data = data.display().to_string(),
        url0 = sims[0].url,
        email0 = sims[0].credentials.email,
        url1 = sims[1].url,
        email1 = sims[1].credentials.email,
    )
}

fn env(sims: &[RunningSim; 2]) -> BTreeMap<String, String> {
    BTreeMap::from([
        (TOKEN_ENV.to_owned(), sims[0].credentials.token.clone()),
        (ADMIN_ENV.to_owned(), ADMIN.to_owned()),
        (JWT_ENV.to_owned(), JWT.to_owned()),
    ])
}

/// Serves the configuration in `file` as `permdex serve` does, on the sources' schedules (nothing is due
/// for minutes after the full syncs the test ran, so only the test starts runs); its base URL and what
/// stops it.
async fn serve(file: &Path, env: &BTreeMap<String, String>) -> (String, tokio::sync::oneshot::Sender<()>) {
    let text = std::fs::read_to_string(file).expect("configuration");
    let config = Config::from_toml(&text, file, env).expect("the file loads");
    let options = ServeOptions {
        poll_interval: Duration::from_millis(50),
        sync: support::quick_sync_options(),
        scheduled: true,
    };
    let service = Service::open(config, options).await.expect("service");
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let base = format!("http://{}", listener.local_addr().expect("address"));
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    tokio::spawn(service.serve(listener, async {
        let _ = stopped.await;
    }));
    (base, stop)
}

impl TwoSources {
    async fn start() -> TwoSources {
        let sims = [
            support::start_generated(SimConfig::new(1, Scale::Tiny)).await,
            support::start_generated(SimConfig::new(1, Scale::Tiny)).await,
        ];
        support::apply_random_mutations(&sims[1], 11, 60);
        let dir = tempfile::tempdir().expect("tempdir");
        let file = dir.path().join("permdex.toml");
        let text = written(&sims, &dir.path().join("data"));
        std::fs::write(&file, &text).expect("config file");
        let token = dir.path().join("gone.token");
        std::fs::write(&token, format!("{}\n", sims[1].credentials.token)).expect("token file");
        std::fs::set_permissions(&token, std::os::unix::fs::PermissionsExt::from_mode(0o600)).expect("chmod");
        let config = Config::from_toml(&text, &file, &env(&sims)).expect("config");
        for source in config.sources() {
            sync_with(&config, source, Mode::Full, &support::quick_sync_options(), &mut Silent)
                .await
                .expect("sync");
        }
        let (base, stop) = serve(&file, &env(&sims)).await;
        TwoSources { sims, dir, file, written: text, base, stop: Some(stop) }
    }

    fn data(&self) -> PathBuf {
        self.dir.path().join("data")
    }

    /// The active account that reads the most of both sites together, reading something in each.
    fn reader(&self) -> String {
        support::reader_of_both(&self.sims)
    }

    /// What `account` may read on site `i`, as (source, id), by the oracle.
    fn oracle(&self, i: usize, account: &str) -> BTreeSet<(String, String)> {
        let source = ["kept", "gone"][i];
        let site = self.sims[i].state.read();
        visible(&site, account, Scope::default()).into_iter().map(|d| (source.to_owned(), d.0)).collect()
    }

    async fn delete(&self, path: &str, key: &str) -> (u16, Value) {
        let response = reqwest::Client::new()
            .delete(format!("{}{path}", self.base))
            .bearer_auth(key)
            .send()
            .await
            .expect("answer");
        (response.status().as_u16(), response.json().await.unwrap_or(Value::Null))
    }

    async fn sources(&self) -> Value {
        crate::support::admin_sources(&self.base, ADMIN).await
    }
}

fn token_for(account: &str) -> String {
    let key = JwtKey::Hs256(Secret::new(JWT.to_owned()));
    let account = AccountId::parse(account).expect("account id");
    mint_token(&key, &account, Duration::from_secs(3600), chrono::Utc::now()).expect("token")
}

/// Every (source, id) `token` finds by browsing the search API to its end, by cursor; nothing for an
/// account the server does not know (401).
async fn browse(http: &reqwest::Client, base: &str, token: &str) -> BTreeSet<(String, String)> {
    let mut found = BTreeSet::new();
    let mut cursor: Option<String> = None;
    loop {
        let mut query = vec![("limit", "100".to_owned())];
        if let Some(cursor) = &cursor {
            query.push(("cursor", cursor.clone()));
        }
        let response = http
            .get(format!("{base}/api/v1/search"))
            .query(&query)
            .bearer_auth(token)
            .send()
            .await
            .expect("answer");
        if response.status().as_u16() == 401 {
            return found;
        }
        let page: Value = response.json().await.expect("json");
        found.extend(hits(&page));
        match page["next_cursor"].as_str() {
            Some(next) => cursor = Some(next.to_owned()),
            None => return found,
        }
    }
}

fn hits(page: &Value) -> Vec<(String, String)> {
    page["hits"]
        .as_array()
        .unwrap_or_else(|| panic!("hits: {page}"))
        .iter()
        .map(|h| (h["source"].as_str().expect("source").to_owned(), h["id"].as_str().expect("id").to_owned()))
        .collect()
}

/// One search answered while the removal ran: when it was answered and which sources its hits came from.
struct Answered {
    at: Instant,
    sources: BTreeSet<String>,
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_removed_source_is_searched_no_more_from_the_answer_on_and_a_restart_serves_the_same() {
    let mut two = TwoSources::start().await;
    let http = reqwest::Client::new();
    let reader = two.reader();
    let token = token_for(&reader);
    let (kept, gone) = (two.oracle(0, &reader), two.oracle(1, &reader));
    let both: BTreeSet<_> = kept.union(&gone).cloned().collect();
    assert_eq!(browse(&http, &two.base, &token).await, both, "before: both sources, exactly");

    // Refusals first: nothing changes.
    let user = token_for(&reader);
    for (path, key, status) in [
        ("/api/v1/admin/sources/gone?data=keep", "", 401),
        ("/api/v1/admin/sources/gone?data=keep", user.as_str(), 403),
        ("/api/v1/admin/sources/gone", ADMIN, 400),
        ("/api/v1/admin/sources/gone?data=everything", ADMIN, 400),
        ("/api/v1/admin/sources/bad%20name!?data=keep", ADMIN, 400),
        ("/api/v1/admin/sources/nowhere?data=keep", ADMIN, 404),
    ] {
        let (got, body) = two.delete(path, key).await;
        assert_eq!(got, status, "{path}: {body}");
    }
    let (_, body) = two.delete("/api/v1/admin/sources/gone", ADMIN).await;
    let message = body["error"]["message"].as_str().expect("message");
    assert!(message.contains("data=keep or data=delete") && message.contains("gone/documents"), "{message}");
    let (_, body) = two.delete("/api/v1/admin/sources/bad%20name!?data=keep", ADMIN).await;
    assert!(body["error"]["message"].as_str().expect("message").contains("bad name!"), "{body}");
    assert_eq!(std::fs::read_to_string(&two.file).expect("file"), two.written);
    assert_eq!(two.sources().await.as_array().map(Vec::len), Some(2));

    // The removed site answers slowly from now on, so that its sync is still running at the removal.
    two.sims[1].state.guard.set_faults(FaultConfig {
        slow: 1.0,
        slow_delay: Duration::from_millis(40),
        ..FaultConfig::default()
    });
    let response = http
        .post(format!("{}/api/v1/admin/sources/gone/sync", two.base))
        .bearer_auth(ADMIN)
        .send()
        .await
        .expect("answer");
    assert_eq!(response.status().as_u16(), 202);

    // Searches run all through the removal, two at a time.
    let stop = Arc::new(AtomicBool::new(false));
    let searchers: Vec<_> = (0..2)
        .map(|_| {
            let (http, base, token, stop) = (http.clone(), two.base.clone(), token.clone(), stop.clone());
            tokio::spawn(async move {
                let mut answered = Vec::new();
                while !stop.load(Ordering::Acquire) {
                    let response = http
                        .get(format!("{base}/api/v1/search?limit=100"))
                        .bearer_auth(&token)
                        .send()
                        .await
                        .expect("answer");
                    let page: Value = response.json().await.expect("json");
                    let at = Instant::now();
                    answered
                        .push(Answered { at, sources: hits(&page).into_iter().map(|(s, _)| s).collect() });
                }
                answered
            })
        })
        .collect();
    tokio::time::sleep(Duration::from_millis(200)).await;
    let (status, removed) = two.delete("/api/v1/admin/sources/gone?data=keep", ADMIN).await;
    let removal_answered = Instant::now();
    assert_eq!(status, 200, "{removed}");
    // A few more rounds after the answer.
    tokio::time::sleep(Duration::from_millis(200)).await;
    stop.store(true, Ordering::Release);
    let mut answered = Vec::new();
    for searcher in searchers {
        answered.extend(searcher.await.expect("the searches held"));
    }
    assert_eq!(
        (&removed["removed_from_file"], &removed["sync_cancelled"], &removed["data"], &removed["deleted"]),
        (&json!(true), &json!(true), &json!("kept"), &json!([])),
        "{removed}"
    );
    let detail = removed["detail"].as_str().expect("detail");
    assert!(detail.contains("no longer served") && detail.contains("cancelled"), "{removed}");
    let before: Vec<&Answered> = answered.iter().filter(|a| a.at < removal_answered).collect();
    let after: Vec<&Answered> = answered.iter().filter(|a| a.at > removal_answered).collect();
    assert!(before.iter().any(|a| a.sources.contains("gone")), "the source was searched before its removal");
    assert!(!after.is_empty(), "searches were answered after the removal");
    for (i, a) in after.iter().enumerate() {
        assert!(!a.sources.contains("gone"), "search {i} answered after the removal returned its documents");
    }

    // Now: exactly the remaining source's documents, in searches and by id; not listed; its sync on
    // record as cancelled.
    assert_eq!(browse(&http, &two.base, &token).await, kept, "after: the remaining source, exactly");
    let (_, id) = gone.iter().next().expect("a document of the removed source");
    let response = http
        .get(format!("{}/api/v1/documents/gone/{id}", two.base))
        .bearer_auth(&token)
        .send()
        .await
        .expect("answer");
    assert_eq!(response.status().as_u16(), 404);
    let names: Vec<Value> =
        two.sources().await.as_array().expect("list").iter().map(|s| s["name"].clone()).collect();
    assert_eq!(names, [json!("kept")]);
    let runs = eventually(250, || async {
        let runs = permdex::sync::runs::read_last(&two.data(), "gone", 1).ok()?;
        runs.into_iter().next().filter(|r| r.mode == Mode::Incremental)
    })
    .await
    .expect("the cancelled run is on record");
    assert_eq!(runs.outcome, permdex::sync::RunOutcome::Cancelled, "{runs:?}");
    assert!(two.data().join("sources/gone").exists() && two.dir.path().join("gone.token").exists(), "kept");

    // The file lost the removed table, with the comment above it, and nothing else.
    let now = std::fs::read_to_string(&two.file).expect("file");
    let start = two.written.find("# The second site").expect("the table's comment");
    let end = two.written.find("[server]").expect("server table");
    assert_eq!(now, format!("{}{}", &two.written[..start], &two.written[end..]));
    // Removed again, or the only source left: refused, nothing changes.
    let (status, _) = two.delete("/api/v1/admin/sources/gone?data=keep", ADMIN).await;
    assert_eq!(status, 404);
    let (status, body) = two.delete("/api/v1/admin/sources/kept?data=delete", ADMIN).await;
    assert_eq!(status, 409, "{body}");
    assert!(body["error"]["message"].as_str().expect("message").contains("only source"), "{body}");
    assert_eq!(std::fs::read_to_string(&two.file).expect("file"), now);
    assert_eq!(browse(&http, &two.base, &token).await, kept);

    // A restart from the rewritten file serves the same.
    let _ = two.stop.take().expect("running").send(());
    let (base, _stop) = serve(&two.file, &env(&two.sims)).await;
    assert_eq!(browse(&http, &base, &token).await, kept, "after a restart");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_source_removed_with_its_data_leaves_no_file_of_it_and_every_file_of_the_other() {
    let two = TwoSources::start().await;
    let data = two.data();
    let files_of =
        |name: &str| [data.join("sources").join(name), data.join("runs").join(format!("{name}.jsonl"))];
    for path in files_of("gone").iter().chain(&files_of("kept")) {
        assert!(path.exists(), "{}", path.display());
    }
    let (status, removed) = two.delete("/api/v1/admin/sources/gone?data=delete", ADMIN).await;
    assert_eq!(status, 200, "{removed}");
    assert_eq!(
        (&removed["sync_cancelled"], &removed["data"]),
        (&json!(false), &json!("deleted")),
        "{removed}"
    );
    let token_file = two.dir.path().join("gone.token");
    let mut deleted: Vec<PathBuf> = removed["deleted"]
        .as_array()
        .expect("deleted")
        .iter()
        .map(|p| PathBuf::from(p.as_str().expect("path")))
        .collect();
    deleted.sort();
    let mut wanted = files_of("gone").to_vec();
    wanted.push(token_file.clone());
    wanted.sort();
    assert_eq!(deleted, wanted);
    for path in &wanted {
        assert!(!path.exists(), "{} is deleted", path.display());
    }
    for path in files_of("kept") {
        assert!(path.exists(), "{} is kept", path.display());
    }
    assert!(removed["detail"].as_str().expect("detail").contains("token file"), "{removed}");
    let reader = two.reader();
    let http = reqwest::Client::new();
    assert_eq!(browse(&http, &two.base, &token_for(&reader)).await, two.oracle(0, &reader));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_changed_schedule_is_written_and_the_running_scheduler_takes_it() {
    let two = TwoSources::start().await;
    let http = reqwest::Client::new();
    let patch = |name: &'static str, key: &str, body: Value| {
        let request =
            http.patch(format!("{}/api/v1/admin/sources/{name}", two.base)).bearer_auth(key).json(&body);
        async move {
            let response = request.send().await.expect("answer");
            (response.status().as_u16(), response.json::<Value>().await.unwrap_or(Value::Null))
        }
    };
    let runs_of = |listed: &Value, name: &str| -> Vec<String> {
        let source =
            listed.as_array().expect("list").iter().find(|s| s["name"] == name).expect("listed").clone();
        source["last_runs"]
            .as_array()
            .expect("runs")
            .iter()
            .map(|r| r["mode"].as_str().unwrap().to_owned())
            .collect()
    };
    let schedule_of = |listed: &Value, name: &str| -> Value {
        listed.as_array().expect("list").iter().find(|s| s["name"] == name).expect("listed")["schedule"]
            .clone()
    };
    let listed = two.sources().await;
    assert_eq!(
        schedule_of(&listed, "gone"),
        json!({"interval": "15m", "permissions_interval": "5m", "full_interval": "7d"})
    );
    assert_eq!(runs_of(&listed, "gone"), ["full"], "only the test's full sync so far");

    // Refused, nothing written: another key, a bad duration, no key, an unknown source, a non-admin.
    let user = token_for(&two.reader());
    for (name, key, body, status, part) in [
        ("gone", ADMIN, json!({"url": "https://elsewhere.example"}), 400, "restart"),
        ("gone", ADMIN, json!({"interval": "often"}), 400, "often"),
        ("gone", ADMIN, json!({}), 400, "nothing to change"),
        ("nowhere", ADMIN, json!({"interval": "1h"}), 404, "nowhere"),
        ("gone", user.as_str(), json!({"interval": "1h"}), 403, ""),
    ] {
        let (got, answer) = patch(name, key, body.clone()).await;
        assert_eq!(got, status, "{body}: {answer}");
        assert!(answer["error"]["message"].as_str().unwrap_or_default().contains(part), "{body}: {answer}");
    }
    assert_eq!(std::fs::read_to_string(&two.file).expect("file"), two.written);

    // Incremental syncs every second, no permission refreshes: in the file, its comments kept, and run
    // by the scheduler without a restart.
    let (status, changed) =
        patch("gone", ADMIN, json!({"interval": "1s", "permissions_interval": "off"})).await;
    assert_eq!(status, 200, "{changed}");
    assert_eq!(
        (&changed["schedule"], &changed["restart_required"]),
        (&json!({"interval": "1s", "permissions_interval": "off", "full_interval": "7d"}), &json!(false)),
        "{changed}"
    );
    let now = std::fs::read_to_string(&two.file).expect("file");
    let at = two.written.find("\n[server]").expect("server table");
    assert_eq!(
        now,
        format!(
            "{}interval = \"1s\"\npermissions_interval = \"off\"\n{}",
            &two.written[..at],
            &two.written[at..]
        ),
        "the keys go to the end of the source's table; every line stays"
    );
    let config =
        Config::from_toml(&now, &two.file, &env(&two.sims)).expect("the file loads as a restart would");
    assert_eq!(config.source("gone").expect("gone").schedule().permissions, None);
    assert_eq!(schedule_of(&two.sources().await, "gone")["interval"], json!("1s"));
    let ran = eventually(500, || async {
        let runs = runs_of(&two.sources().await, "gone");
        (runs.len() >= 3).then_some(runs)
    })
    .await
    .expect("the scheduler ran the source on its new interval");
    assert!(ran[1..].iter().all(|mode| mode == "incremental"), "{ran:?}");
    assert_eq!(runs_of(&two.sources().await, "kept"), ["full"], "the other source's schedule is its own");
}

//! The real backends over real indexes: sources' indexes written with documents readable by different
//! groups and a sync state holding the directory, served with `Indexes` and `Engine`; and a sync started
//! over HTTP against the simulator.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use permdex::acl::{AclStore, ClauseKey, Principal};
use permdex::index::{DocId, IndexDoc, IndexWriter, Kind, Product};
use permdex::server::backend::{Engine, Indexes};
use permdex::server::{AppState, Authenticator, Sources};
use permdex::sync::index_dir;
use permdex::sync::runs::{self, Mode, RunRecord};
use permdex::sync::state::{StoredDirectory, StoredGroup, StoredUser, SyncState};
use serde_json::{json, Value};

use super::{config, good_jwt, ADMIN_KEY};

fn user(name: &str, active: bool) -> StoredUser {
    StoredUser { name: name.into(), active, email: None }
}

/// Writes the index of `source`: `confluence:page:1` readable by group g-eng, `confluence:page:2` by
/// group g-hr, and two comments readable by g-eng, `confluence:comment:3` on page 2 and
/// `confluence:comment:4` on page 1 (each with its page as its breadcrumb); `jira:issue:5` (assigned) and
/// `jira:issue:6` (unassigned), readable by g-eng; u1 is in g-eng, u2 in g-hr, u3 is inactive.
fn write_index(config: &permdex::config::Config, source: &str) {
    let dir = index_dir(config.data_dir(), source);
    std::fs::create_dir_all(&dir).unwrap();
    let mut acl = AclStore::default();
    let eng = acl.set_clause(ClauseKey("eng".into()), &[Principal::Group("g-eng".into())]);
    let hr = acl.set_clause(ClauseKey("hr".into()), &[Principal::Group("g-hr".into())]);
    let (eng, hr) = (acl.profile(&[eng]), acl.profile(&[hr]));
    let mut writer = IndexWriter::open_or_create(&dir).unwrap();
    for (id, title, profile) in
        [("confluence:page:1", "release plan", eng), ("confluence:page:2", "release salaries", hr)]
    {
        let mut doc = IndexDoc::new(id, Product::Confluence, Kind::Page, profile);
        doc.title = title.into();
        doc.body = format!("{title} body text");
        doc.space = Some("ENG".into());
        doc.space_name = Some("Engineering".into());
        doc.url = format!("https://acme.example/{id}");
        writer.upsert(&doc).unwrap();
    }
    for (id, on) in
        [("confluence:comment:3", "confluence:page:2"), ("confluence:comment:4", "confluence:page:1")]
    {
        let mut doc = IndexDoc::new(id, Product::Confluence, Kind::Comment, eng);
        doc.title = "Thanks".into();
        doc.body = "Looks good to me".into();
        doc.container = Some(on.into());
        doc.space = Some("ENG".into());
        doc.space_name = Some("Engineering".into());
        doc.ancestors = vec![on.into()];
        doc.url = format!("https://acme.example/{id}");
        writer.upsert(&doc).unwrap();
    }
    for (id, assignee) in [("jira:issue:5", Some(("u2", "Two"))), ("jira:issue:6", None)] {
        let mut doc = IndexDoc::new(id, Product::Jira, Kind::Issue, eng);
        let key = format!("APP-{}", &id[11..]);
        doc.title = "Crash on save".into();
        doc.display_title = Some(format!("{key}: Crash on save"));
        doc.body = "Saving crashes".into();
        doc.project = Some("APP".into());
        doc.issue_key = Some(key);
        doc.issue_type = Some("Bug".into());
        doc.status = Some("Done".into());
        doc.status_category = Some("done".into());
        doc.assignee = assignee.map(|(id, _)| id.to_owned());
        doc.assignee_name = assignee.map(|(_, name)| name.to_owned());
        doc.url = format!("https://acme.example/{id}");
        writer.upsert(&doc).unwrap();
    }
    let mut state = SyncState::new(source, String::new());
    // As a sync that read every permission source just now.
    state.permissions_refreshed = Some(chrono::Utc::now());
    state.directory = StoredDirectory {
        users: BTreeMap::from([
            ("u1".to_owned(), user("One", true)),
            ("u2".to_owned(), user("Two", true)),
            ("u3".to_owned(), user("Three", false)),
        ]),
        groups: BTreeMap::from([
            (
                "g-eng".to_owned(),
                StoredGroup {
                    name: "eng".into(),
                    members: BTreeSet::from(["u1".to_owned(), "u3".to_owned()]),
                },
            ),
            (
                "g-hr".to_owned(),
                StoredGroup { name: "hr".into(), members: BTreeSet::from(["u2".to_owned()]) },
            ),
        ]),
    };
    writer.commit(&acl, &state.encode()).unwrap();
    writer.close().unwrap();
}

#[tokio::test]
async fn search_sees_only_what_the_directory_allows_and_purge_empties_it() {
    let dir = tempfile::tempdir().unwrap();
    let config = config(dir.path(), "jwt_hs256_secret_env = \"JWT\"");
    write_index(&config, "acme");
    let mut record = RunRecord::new("run-7".into(), "acme", Mode::Full, chrono::Utc::now());
    let failed = DocId::confluence(Kind::Page, "3");
    record.fail(&failed, failed.to_string(), "extraction timed out");
    runs::append(config.data_dir(), &record).unwrap();

    let indexes = Arc::new(Indexes::open(&config));
    let runner = Arc::new(Engine::new(config.clone(), indexes.clone()));
    let state = AppState::new(
        Authenticator::from_config(config.server()).unwrap(),
        indexes.clone(),
        indexes.clone(),
        Sources::new(config.sources(), runner),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(permdex::server::serve(listener, state, std::future::pending()));
    let http = reqwest::Client::new();
    let get = |path: String, token: String| {
        let request = http.get(format!("{base}{path}")).bearer_auth(token);
        async move {
            let response = request.send().await.unwrap();
            let status = response.status().as_u16();
            (status, response.json::<Value>().await.unwrap_or(Value::Null))
        }
    };

    assert_eq!(get("/readyz".into(), String::new()).await.0, 200);
    let ids = |body: &Value| -> Vec<String> {
        body["hits"].as_array().unwrap().iter().map(|h| h["id"].as_str().unwrap().to_owned()).collect()
    };
    let (status, body) =
        get("/api/v1/search?q=release&facets=true&snippets=true".into(), good_jwt("u1")).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!((ids(&body), &body["total"]), (vec!["confluence:page:1".to_owned()], &json!(1)));
    assert_eq!(body["facets"]["space"][0], json!({"value": "ENG", "count": 1}));
    let (_, body) = get("/api/v1/search?q=release".into(), good_jwt("u2")).await;
    assert_eq!(ids(&body), vec!["confluence:page:2".to_owned()]);
    // `source` names configured sources, `product` the Atlassian product; a source nobody configured is a 400.
    let (_, body) =
        get("/api/v1/search?q=release&source=acme&product=confluence".into(), good_jwt("u2")).await;
    assert_eq!(
        (ids(&body), &body["hits"][0]["source"]),
        (vec!["confluence:page:2".to_owned()], &json!("acme"))
    );
    let (_, body) = get("/api/v1/search?q=release&product=jira".into(), good_jwt("u2")).await;
    assert_eq!(body["total"], json!(0), "{body}");
    let (status, body) = get("/api/v1/search?q=release&source=nope".into(), good_jwt("u2")).await;
    assert_eq!((status, &body["error"]["code"]), (400, &json!("bad_request")), "{body}");
    // Inactive or unknown accounts are refused outright.
    assert_eq!(get("/api/v1/search?q=release".into(), good_jwt("u3")).await.0, 401);
    assert_eq!(get("/api/v1/search?q=release".into(), good_jwt("nobody")).await.0, 401);
    // A query over the size limits is refused; bad syntax is searched as words.
    let too_many: Vec<String> = (0..=permdex::search::query::MAX_TERMS).map(|i| format!("w{i}")).collect();
    let (status, body) = get(format!("/api/v1/search?q={}", too_many.join("+")), good_jwt("u1")).await;
    assert_eq!((status, &body["error"]["code"]), (400, &json!("bad_query")), "{body}");
    let (status, body) = get("/api/v1/search?q=(release".into(), good_jwt("u1")).await;
    assert_eq!((status, ids(&body)), (200, vec!["confluence:page:1".to_owned()]), "{body}");

    let (status, sources) = get("/api/v1/admin/sources".into(), ADMIN_KEY.into()).await;
    assert_eq!(status, 200);
    assert_eq!(sources[0]["last_runs"][0]["run_id"], json!("run-7"));
    assert_eq!(sources[0]["last_runs"][0]["failures"][0]["item"], json!("confluence:page:3"));
    assert_eq!(sources[0]["last_runs"][0]["counts"]["confluence:page"]["failed"], json!(1));

    let response = http
        .delete(format!("{base}/api/v1/admin/sources/acme/documents"))
        .bearer_auth(ADMIN_KEY)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 204);
    // The purge removed the documents and the directory with them: nobody is known any more.
    assert_eq!(get("/api/v1/search?q=release".into(), good_jwt("u1")).await.0, 401);
}

/// Serves the real backends over `config` and returns the base URL.
async fn serve_real(config: &permdex::config::Config) -> String {
    let indexes = Arc::new(Indexes::open(config));
    let runner = Arc::new(Engine::new(config.clone(), indexes.clone()));
    let state = AppState::new(
        Authenticator::from_config(config.server()).unwrap(),
        indexes.clone(),
        indexes,
        Sources::new(config.sources(), runner),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(permdex::server::serve(listener, state, std::future::pending()));
    base
}

/// Sources acme and beta, each written by [`write_index`], served by the real backends: the data directory
/// (kept while the test runs) and the base URL.
async fn serve_two_sources() -> (tempfile::TempDir, String) {
    let dir = tempfile::tempdir().unwrap();
    let config = config(dir.path(), "jwt_hs256_secret_env = \"JWT\"");
    write_index(&config, "acme");
    write_index(&config, "beta");
    let base = serve_real(&config).await;
    (dir, base)
}

#[tokio::test]
async fn several_sources_are_merged_and_paged_by_offset() {
    let (_dir, base) = serve_two_sources().await;
    let http = reqwest::Client::new();
    let search = |query: &str| {
        let request = http.get(format!("{base}/api/v1/search?{query}")).bearer_auth(good_jwt("u1"));
        async move {
            let response = request.send().await.unwrap();
            (response.status().as_u16(), response.json::<Value>().await.unwrap())
        }
    };
    let (status, body) = search("q=release&facets=true").await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["total"], json!(2));
    let mut found: Vec<(String, String)> = body["hits"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| (h["source"].as_str().unwrap().to_owned(), h["id"].as_str().unwrap().to_owned()))
        .collect();
    found.sort();
    let page1 = ("acme".to_owned(), "confluence:page:1".to_owned());
    let page1_beta = ("beta".to_owned(), "confluence:page:1".to_owned());
    assert_eq!(found, vec![page1, page1_beta]);
    assert_eq!(body["facets"]["space"][0], json!({"value": "ENG", "count": 2}));
    assert_eq!(
        body["facets"]["source"],
        json!([{"value": "acme", "count": 1}, {"value": "beta", "count": 1}])
    );
    let (_, second) = search("q=release&offset=1&limit=1").await;
    let (_, first) = search("q=release&offset=0&limit=1").await;
    assert_eq!((first["hits"].as_array().unwrap().len(), second["hits"].as_array().unwrap().len()), (1, 1));
    assert_ne!(first["hits"][0]["source"], second["hits"][0]["source"], "two pages, two different hits");
    let (_, beta) = search("q=release&source=beta&facets=true").await;
    assert_eq!((&beta["total"], &beta["hits"][0]["source"]), (&json!(1), &json!("beta")), "{beta}");
    assert_eq!(beta["facets"]["space"][0], json!({"value": "ENG", "count": 1}));
    let (status, body) = search("q=release&cursor=abc").await;
    assert_eq!((status, &body["error"]["code"]), (400, &json!("bad_request")), "{body}");
    // The work a merged page may cause is bounded, and offset + limit cannot overflow into a small window.
    let (status, _) = search("q=release&offset=990&limit=10").await;
    assert_eq!(status, 200, "the deepest merged window");
    for deep in [
        "q=release&offset=991&limit=10".to_owned(),
        format!("q=release&offset={}&limit=10", usize::MAX),
        format!("q=release&offset={}&limit=100", usize::MAX - 50),
    ] {
        let (status, body) = search(&deep).await;
        assert_eq!((status, &body["error"]["code"]), (400, &json!("bad_request")), "{deep}: {body}");
    }
}

/// A document is shown as a search would let the caller read it: its text to a reader; to anyone else, and
/// for what does not exist, the same 404, so the answer never says whether a hidden document exists. Its
/// container's title only when the caller may read the container too.
#[tokio::test]
async fn a_document_is_shown_only_to_whoever_may_read_it() {
    let (_dir, base) = serve_two_sources().await;
    let http = reqwest::Client::new();
    let get = |path: &str, token: Option<String>| {
        let mut request = http.get(format!("{base}/api/v1/documents/{path}"));
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        async move {
            let response = request.send().await.unwrap();
            (response.status().as_u16(), response.json::<Value>().await.unwrap_or(Value::Null))
        }
    };

    let (status, page) = get("acme/confluence:page:1", Some(good_jwt("u1"))).await;
    assert_eq!(status, 200, "{page}");
    assert_eq!(
        (&page["source"], &page["id"], &page["title"], &page["text"], &page["text_truncated"]),
        (
            &json!("acme"),
            &json!("confluence:page:1"),
            &json!("release plan"),
            &json!("release plan body text"),
            &json!(false)
        )
    );
    assert_eq!(
        (&page["url"], &page["space"], &page["kind"]),
        (&json!("https://acme.example/confluence:page:1"), &json!("ENG"), &json!("page"))
    );
    let (status, page) = get("beta/confluence:page:2", Some(good_jwt("u2"))).await;
    assert_eq!((status, &page["text"]), (200, &json!("release salaries body text")), "{page}");

    // Hidden, missing, in an unknown source: one answer, which names only what was asked for.
    let not_found = |body: &Value, id: &str, source: &str| {
        let message = body["error"]["message"].as_str().unwrap_or_default();
        (body["error"]["code"].clone(), message.replace(id, "ID").replace(source, "SOURCE"))
    };
    let (status, hidden) = get("acme/confluence:page:2", Some(good_jwt("u1"))).await;
    let (missing_status, missing) = get("acme/confluence:page:99", Some(good_jwt("u1"))).await;
    let (unknown_status, unknown) = get("nope/confluence:page:1", Some(good_jwt("u1"))).await;
    assert_eq!((status, missing_status, unknown_status), (404, 404, 404));
    let hidden = not_found(&hidden, "confluence:page:2", "acme");
    assert_eq!(hidden.0, json!("not_found"));
    assert_eq!(hidden, not_found(&missing, "confluence:page:99", "acme"));
    assert_eq!(hidden, not_found(&unknown, "confluence:page:1", "nope"));

    // A comment on a page its reader may not read shows where it sits, not what that is called: neither
    // as its container nor in its breadcrumb.
    let (_, comment) = get("acme/confluence:comment:3", Some(good_jwt("u1"))).await;
    assert_eq!(
        (&comment["container"], comment.get("container_title"), comment.get("breadcrumb")),
        (&json!("confluence:page:2"), None, None),
        "{comment}"
    );
    assert!(!comment.to_string().contains("salaries"), "{comment}");
    let (_, comment) = get("acme/confluence:comment:4", Some(good_jwt("u1"))).await;
    assert_eq!(comment["container_title"], json!("release plan"), "{comment}");
    assert_eq!(
        (&comment["breadcrumb"], &comment["space_name"]),
        (&json!([{"id": "confluence:page:1", "title": "release plan"}]), &json!("Engineering")),
        "{comment}"
    );
    let (_, issue) = get("acme/jira:issue:5", Some(good_jwt("u1"))).await;
    assert_eq!(
        (&issue["issue_key"], &issue["issue_type"], &issue["status"], &issue["assignee_name"]),
        (&json!("APP-5"), &json!("Bug"), &json!("Done"), &json!("Two")),
        "{issue}"
    );

    // Only callers the sites know: no token, an inactive account, the admin key.
    assert_eq!(get("acme/confluence:page:1", None).await.0, 401);
    assert_eq!(get("acme/confluence:page:1", Some(good_jwt("u3"))).await.0, 401);
    assert_eq!(get("acme/confluence:page:1", Some(ADMIN_KEY.to_owned())).await.0, 403);
}

/// Hits carry what a result line shows at a glance, each field as the served OpenAPI document describes
/// it; a breadcrumb names only pages the caller may read.
#[tokio::test]
async fn hits_show_space_names_breadcrumbs_and_issue_state_as_documented() {
    let (_dir, base) = serve_two_sources().await;
    let http = reqwest::Client::new();
    let get = |path: String| {
        let request = http.get(format!("{base}{path}")).bearer_auth(good_jwt("u1"));
        async move { request.send().await.unwrap().json::<Value>().await.unwrap() }
    };
    let by_id = |body: &Value| -> BTreeMap<String, Value> {
        let hits = body["hits"].as_array().unwrap().iter();
        hits.filter(|h| h["source"] == "acme")
            .map(|h| (h["id"].as_str().unwrap().to_owned(), h.clone()))
            .collect()
    };
    let thanks = by_id(&get("/api/v1/search?q=thanks".into()).await);
    let on_hidden = &thanks["confluence:comment:3"];
    assert_eq!((on_hidden.get("breadcrumb"), &on_hidden["space_name"]), (None, &json!("Engineering")));
    assert!(!on_hidden.to_string().contains("salaries"), "{on_hidden}");
    let on_readable = &thanks["confluence:comment:4"];
    assert_eq!(on_readable["breadcrumb"], json!([{"id": "confluence:page:1", "title": "release plan"}]));
    let crashes = by_id(&get("/api/v1/search?q=crash".into()).await);
    let assigned = &crashes["jira:issue:5"];
    assert_eq!(
        (&assigned["issue_key"], &assigned["issue_type"], &assigned["status"], &assigned["status_category"]),
        (&json!("APP-5"), &json!("Bug"), &json!("Done"), &json!("done"))
    );
    assert_eq!((&assigned["assignee_name"], assigned.get("unassigned")), (&json!("Two"), None));
    let unassigned = &crashes["jira:issue:6"];
    assert_eq!((unassigned.get("assignee_name"), &unassigned["unassigned"]), (None, &json!(true)));

    // Every field a hit or a document carries is one the OpenAPI document describes.
    let openapi = get("/api/v1/openapi.json".into()).await;
    let described = |schema: &str| -> BTreeSet<String> {
        openapi["components"]["schemas"][schema]["properties"].as_object().unwrap().keys().cloned().collect()
    };
    let (hit_fields, document_fields) = (described("Hit"), described("Document"));
    for hit in thanks.values().chain(crashes.values()) {
        for key in hit.as_object().unwrap().keys() {
            assert!(hit_fields.contains(key), "hit field {key} is not in the OpenAPI document");
        }
    }
    for id in ["confluence:comment:4", "jira:issue:6"] {
        let document = get(format!("/api/v1/documents/acme/{id}")).await;
        for key in document.as_object().unwrap().keys() {
            assert!(document_fields.contains(key), "document field {key} is not in the OpenAPI document");
        }
    }
}

/// A source whose segment files fail their checksum serves nothing, says why in `/readyz` and the admin
/// listing (with no path of the host), while another source still answers; a purge empties it unread.
#[tokio::test]
async fn a_damaged_source_serves_nothing_and_says_why() {
    let dir = tempfile::tempdir().unwrap();
    let config = config(dir.path(), "jwt_hs256_secret_env = \"JWT\"");
    write_index(&config, "acme");
    write_index(&config, "beta");
    let tantivy = index_dir(config.data_dir(), "beta").join("tantivy");
    let store = std::fs::read_dir(&tantivy)
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| p.extension().is_some_and(|x| x == "store"))
        .unwrap();
    let mut bytes = std::fs::read(&store).unwrap();
    bytes[0] ^= 0x20;
    std::fs::write(&store, bytes).unwrap();

    let base = serve_real(&config).await;
    let http = reqwest::Client::new();
    let response = http.get(format!("{base}/readyz")).send().await.unwrap();
    assert_eq!(response.status().as_u16(), 503);
    let body: Value = response.json().await.unwrap();
    let reason = body["reason"].as_str().unwrap();
    assert!(reason.starts_with("source beta: 1 segment file(s) damaged: tantivy/"), "{reason}");
    assert!(reason.contains(".store fails its checksum"), "{reason}");
    assert!(!reason.contains(&dir.path().display().to_string()), "no host path: {reason}");

    let sources = crate::support::admin_sources(&base, ADMIN_KEY).await;
    assert_eq!(sources[0].get("integrity_problem"), None, "{sources}");
    assert!(
        sources[1]["integrity_problem"].as_str().is_some_and(|p| p.contains("fails its checksum")),
        "{sources}"
    );

    // u1 reads page 1 in both sources; only acme's answers.
    let body: Value = http
        .get(format!("{base}/api/v1/search?q=release"))
        .bearer_auth(good_jwt("u1"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!((&body["total"], &body["hits"][0]["source"]), (&json!(1), &json!("acme")), "{body}");

    // Nor does it show a document.
    for (source, status) in [("acme", 200), ("beta", 404)] {
        let url = format!("{base}/api/v1/documents/{source}/confluence:page:1");
        let response = http.get(url).bearer_auth(good_jwt("u1")).send().await.unwrap();
        assert_eq!(response.status().as_u16(), status, "{source}");
    }

    let response = http
        .delete(format!("{base}/api/v1/admin/sources/beta/documents"))
        .bearer_auth(ADMIN_KEY)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 204, "a damaged source can be purged");
    let status = http.get(format!("{base}/readyz")).send().await.unwrap().status().as_u16();
    assert_eq!(status, 200, "after the purge nothing damaged is left");
}

/// Counts syncs that finished, so a test can wait for one without sleeping.
struct Watched {
    engine: Engine,
    finished: Arc<tokio::sync::Notify>,
}

impl permdex::server::SyncRunner for Watched {
    fn sync(
        &self,
        source: permdex::config::Source,
        mode: permdex::sync::Mode,
        stop: tokio_util::sync::CancellationToken,
    ) -> permdex::server::admin::RunFuture {
        let run = self.engine.sync(source, mode, stop);
        let finished = self.finished.clone();
        Box::pin(async move {
            let result = run.await;
            finished.notify_one();
            result
        })
    }
    fn purge(&self, source: &permdex::config::Source) -> Result<(), permdex::server::BackendError> {
        self.engine.purge(source)
    }
    fn forget(
        &self,
        source: &permdex::config::Source,
    ) -> Result<Vec<std::path::PathBuf>, permdex::server::BackendError> {
        self.engine.forget(source)
    }
    fn last_runs(
        &self,
        source: &str,
        limit: usize,
    ) -> Result<Vec<permdex::server::admin::RunSummary>, permdex::server::BackendError> {
        self.engine.last_runs(source, limit)
    }
}

/// The whole path: an admin starts a sync of a simulated site over HTTP, the engine runs it in the
/// background, the index reloads, and searches then count exactly what the index shows each user.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_sync_started_over_http_makes_the_site_searchable() {
    use permdex::sim::{Scale, SimConfig};
    let sim = permdex::sim::run::start(SimConfig::new(11, Scale::Tiny), "127.0.0.1:0".parse().unwrap())
        .await
        .unwrap();
    let data = tempfile::tempdir().unwrap();
    let env = BTreeMap::from([
        ("SIM_TOKEN".to_owned(), sim.credentials.token.clone()),
        ("JWT".to_owned(), super::JWT_SECRET.to_owned()),
        ("ADMIN".to_owned(), ADMIN_KEY.to_owned()),
    ]);
    let text = format!(
        "data_dir = {data:?}\n[[sources]]\nname = \"sim\"\nurl = {url:?}\nemail = {email:?}\ntoken_env = \"SIM_TOKEN\"\n\
         requests_per_second = 2000.0\nconcurrency = 8\n[server]\njwt_hs256_secret_env = \"JWT\"\nadmin_key_env = \"ADMIN\"\n",
        data = data.path().display().to_string(),
        url = sim.url,
        email = sim.credentials.email,
    );
    let config = permdex::config::Config::from_toml(&text, &data.path().join("permdex.toml"), &env).unwrap();
    let indexes = Arc::new(Indexes::open(&config));
    let options = permdex::sync::SyncOptions {
        checkpoint_interval: std::time::Duration::ZERO,
        extract: permdex::extract::ExtractConfig {
            worker_program: env!("CARGO_BIN_EXE_permdex").into(),
            ..permdex::extract::ExtractConfig::default()
        },
        ..permdex::sync::SyncOptions::default()
    };
    let finished = Arc::new(tokio::sync::Notify::new());
    let runner = Watched {
        engine: Engine::with_options(config.clone(), indexes.clone(), options),
        finished: finished.clone(),
    };
    let state = AppState::new(
        Authenticator::from_config(config.server()).unwrap(),
        indexes.clone(),
        indexes.clone(),
        Sources::new(config.sources(), Arc::new(runner)),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(permdex::server::serve(listener, state, std::future::pending()));
    let http = reqwest::Client::new();

    // Nothing synced yet: not ready, and nobody is a known user.
    assert_eq!(http.get(format!("{base}/readyz")).send().await.unwrap().status().as_u16(), 503);
    let response = http
        .post(format!("{base}/api/v1/admin/sources/sim/sync"))
        .bearer_auth(ADMIN_KEY)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 202);
    finished.notified().await;
    // The reload follows the run; wait until the source is idle again.
    let mut idle = false;
    for _ in 0..10_000 {
        let sources = crate::support::admin_sources(&base, ADMIN_KEY).await;
        if sources[0]["sync_running"] == json!(false) {
            // A first run has no state to be incremental against: the engine makes it a full one.
            assert_eq!(sources[0]["last_runs"][0]["mode"], json!("full"), "{sources}");
            assert_eq!(sources[0]["last_runs"][0]["outcome"], json!("completed"), "{sources}");
            idle = true;
            break;
        }
        tokio::task::yield_now().await;
    }
    assert!(idle, "the sync ended");
    assert_eq!(http.get(format!("{base}/readyz")).send().await.unwrap().status().as_u16(), 200);

    let view = permdex::sync::SourceIndex::open(&config, &config.sources()[0]).unwrap();
    let mut checked = 0;
    for (account, user) in view.directory().users.iter().take(12) {
        let response = http
            .get(format!("{base}/api/v1/search?limit=100"))
            .bearer_auth(good_jwt(account))
            .send()
            .await
            .unwrap();
        let status = response.status().as_u16();
        if !user.active {
            assert_eq!(status, 401, "inactive {account}");
            continue;
        }
        let body: Value = response.json().await.unwrap();
        assert_eq!(status, 200, "{account}: {body}");
        let visible = view.visible_ids(account).unwrap();
        assert_eq!(body["total"], json!(visible.len()), "{account}");
        for hit in body["hits"].as_array().unwrap() {
            assert!(visible.iter().any(|id| hit["id"] == json!(id)), "{account} sees {}", hit["id"]);
        }
        checked += 1;
    }
    assert!(checked > 0, "some active users were checked");
}

/// The API against its own OpenAPI document, with schemathesis (`.ci/run` installs it): generated requests
/// to every operation, with a real index behind the server, once as a user and once with the admin key (so
/// that the admin operations' answers are checked too, not only their 401s); no answer is a 5xx, and every
/// answer has the content type and the schema the document gives for its status.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_api_answers_as_its_openapi_document_says() {
    for credential in [good_jwt("u1"), ADMIN_KEY.to_owned()] {
        let (_dir, base) = serve_two_sources().await;
        let output = tokio::process::Command::new("schemathesis")
            .args(["run", &format!("{base}/api/v1/openapi.json")])
            .args(["--checks", "not_a_server_error,response_schema_conformance,content_type_conformance"])
            .args(["--max-examples", "20", "--seed", "1", "--no-color"])
            .args(["--header", &format!("Authorization: Bearer {credential}")])
            .output()
            .await
            .expect("schemathesis runs (pip install schemathesis; .ci/run does)");
        let report =
            format!("{}{}", String::from_utf8_lossy(&output.stdout), String::from_utf8_lossy(&output.stderr));
        assert!(output.status.success(), "{report}");
        assert!(report.contains(" passed"), "{report}");
        // Its summary (operations, cases generated, checks passed), shown with `-- --nocapture`.
        let summary =
            report.lines().skip_while(|line| !line.contains("SUMMARY")).collect::<Vec<_>>().join("\n");
        println!("{}", if summary.is_empty() { &report } else { &summary });
    }
}

/// While a run goes on, the engine's live progress (what the admin API and the integrations page show)
/// carries the kind being read with its expected total, a count that never passes it, and time left.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_running_sync_shows_done_total_and_time_left_of_what_it_reads() {
    use permdex::server::SyncRunner;
    use permdex::sim::{Scale, SimConfig};
    let sim = permdex::sim::run::start(SimConfig::new(12, Scale::Tiny), "127.0.0.1:0".parse().unwrap())
        .await
        .unwrap();
    let issues = sim.state.read().issues.len() as u64;
    let data = tempfile::tempdir().unwrap();
    let env = BTreeMap::from([("SIM_TOKEN".to_owned(), sim.credentials.token.clone())]);
    // Slow enough that the run is seen half-way.
    let text = format!(
        "data_dir = {data:?}\n[[sources]]\nname = \"sim\"\nurl = {url:?}\nemail = {email:?}\ntoken_env = \"SIM_TOKEN\"\n\
         requests_per_second = 60.0\nconcurrency = 2\n",
        data = data.path().display().to_string(),
        url = sim.url,
        email = sim.credentials.email,
    );
    let config = permdex::config::Config::from_toml(&text, &data.path().join("permdex.toml"), &env).unwrap();
    let indexes = Arc::new(Indexes::open(&config));
    let options = permdex::sync::SyncOptions {
        extract: permdex::extract::ExtractConfig {
            worker_program: env!("CARGO_BIN_EXE_permdex").into(),
            ..permdex::extract::ExtractConfig::default()
        },
        ..permdex::sync::SyncOptions::default()
    };
    let engine = Engine::with_options(config.clone(), indexes, options);
    let run = tokio::spawn(engine.sync(config.sources()[0].clone(), Mode::Full, Default::default()));
    let mut seen = Vec::new();
    while !run.is_finished() {
        if let Some(progress) = engine.progress("sim") {
            seen.push(progress);
        }
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
    let summary = run.await.unwrap().unwrap();
    assert_eq!(summary.outcome, "completed", "{summary:?}");

    let with_total: Vec<_> = seen.iter().filter(|p| p.kind_total.is_some()).collect();
    assert!(!with_total.is_empty(), "a total was shown: {seen:?}");
    for p in &with_total {
        assert!(p.kind_done <= p.kind_total.unwrap(), "{p:?}");
    }
    let jira: Vec<_> = with_total.iter().filter(|p| p.kind == "jira:issue").collect();
    assert!(!jira.is_empty(), "issues were seen being read: {seen:?}");
    // Jira counts searchable issues only: never more than the site holds.
    assert!(jira.iter().all(|p| p.kind_total <= Some(issues)), "{jira:?}");
    assert!(jira.iter().any(|p| p.eta_seconds.is_some() && p.kind_done > 0), "time left was shown: {jira:?}");
}

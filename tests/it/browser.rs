//! The web pages in a real headless Chromium, driven over WebDriver (chromedriver), against `permdex demo`
//! started in-process: the simulator, a full sync and the server in demo mode on port 0.
//!
//! chromedriver and chromium must be installed (`apt-get install -y chromium chromium-driver`; `.ci/run`
//! does it): without them these tests fail, they do not skip. Waits are bounded and poll the DOM; the
//! pages count answered searches in `body[data-searches]` so a test waits for the answer it caused.

use std::io::{BufRead, BufReader};
use std::net::TcpListener;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use fantoccini::{Client, ClientBuilder, Locator};
use permdex::demo::{DemoOptions, RunningDemo};
use permdex::server::DemoUser;
use permdex::sim::{Scale, SimConfig};
use permdex::sync::Silent;
use serde_json::{json, Value};

use crate::support;

const CHROMEDRIVER: &str = "/usr/bin/chromedriver";
const CHROMIUM: &str = "/usr/bin/chromium";
/// Longest wait for anything on a page: far above what a tiny site needs, short enough to fail fast.
const WAIT: Duration = Duration::from_secs(20);

/// chromedriver and a browser session; the driver is killed on drop.
struct Browser {
    client: Client,
    driver: Child,
    _profile: tempfile::TempDir,
}

impl Drop for Browser {
    fn drop(&mut self) {
        let _ = self.driver.kill();
        let _ = self.driver.wait();
    }
}

impl Browser {
    async fn start() -> Browser {
        for program in [CHROMEDRIVER, CHROMIUM] {
            assert!(
                Path::new(program).exists(),
                "{program} is missing: the browser tests need Chromium and chromedriver \
                 (apt-get install -y chromium chromium-driver; .ci/run installs them)"
            );
        }
        let port = {
            let probe = TcpListener::bind("127.0.0.1:0").expect("free port");
            probe.local_addr().expect("addr").port()
        };
        let mut driver = Command::new(CHROMEDRIVER)
            .arg(format!("--port={port}"))
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("chromedriver starts");
        // chromedriver says on stdout when it listens: read up to that line instead of retrying connects.
        let stdout = driver.stdout.take().expect("piped stdout");
        let mut lines = BufReader::new(stdout).lines();
        loop {
            match lines.next() {
                Some(Ok(line)) if line.contains("started successfully") => break,
                Some(Ok(_)) => continue,
                other => panic!("chromedriver did not start: {other:?}"),
            }
        }
        let profile = tempfile::tempdir().expect("profile dir");
        let args = [
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--window-size=1280,900",
        ]
        .iter()
        .map(|a| a.to_string())
        .chain([format!("--user-data-dir={}", profile.path().display())])
        .collect::<Vec<_>>();
        let mut capabilities = serde_json::Map::new();
        capabilities.insert("goog:chromeOptions".into(), json!({"binary": CHROMIUM, "args": args}));
        let connector = hyper_util::client::legacy::connect::HttpConnector::new();
        let client = ClientBuilder::new(connector)
            .capabilities(capabilities)
            .connect(&format!("http://127.0.0.1:{port}"))
            .await
            .expect("webdriver session");
        Browser { client, driver, _profile: profile }
    }

    async fn wait_for(&self, css: &str) -> fantoccini::elements::Element {
        match self.client.wait().at_most(WAIT).for_element(Locator::Css(css)).await {
            Ok(element) => element,
            Err(e) => {
                let page = self.client.execute("return document.body.outerHTML;", vec![]).await;
                panic!("no element {css} within {WAIT:?}: {e}\npage: {page:?}")
            }
        }
    }

    /// What the search page shows: titles, kinds and the summary line, read in one round trip.
    async fn results(&self) -> Value {
        self.client
            .execute(
                "const all = (css) => [...document.querySelectorAll(css)].map((e) => e.textContent);
                 return {titles: all('.hit .title'), kinds: all('.hit .kind'),
                         summary: document.getElementById('summary').textContent,
                         empty: !document.getElementById('empty').hidden,
                         error: document.getElementById('error').hidden ? null : document.getElementById('error').textContent,
                         marks: document.querySelectorAll('.hit mark').length};",
                vec![],
            )
            .await
            .expect("script runs")
    }

    /// The number of searches the page has answered so far.
    async fn searches(&self) -> u64 {
        let value = self.client.execute("return Number(document.body.dataset.searches || 0);", vec![]).await;
        value.expect("script runs").as_u64().expect("a count")
    }

    /// Runs `action`, then waits until the page has answered one more search than before it.
    async fn answered<F: std::future::Future<Output = ()>>(&self, action: F) -> Value {
        let before = self.searches().await;
        action.await;
        self.wait_for(&format!("body[data-searches=\"{}\"]", before + 1)).await;
        self.results().await
    }

    async fn search(&self, query: &str) -> Value {
        let input = self.wait_for("#q").await;
        input.clear().await.expect("clear");
        input.send_keys(query).await.expect("type");
        self.answered(async {
            self.client.find(Locator::Css("#search-form button")).await.unwrap().click().await.unwrap()
        })
        .await
    }

    async fn switch_user(&self, user: &DemoUser) -> Value {
        let select = self.wait_for("#user-select").await;
        self.answered(async { select.select_by_value(&user.token).await.expect("select user") }).await
    }
}

async fn demo(data: &Path) -> RunningDemo {
    let options = DemoOptions {
        sim: SimConfig::new(1, Scale::Tiny),
        listen: "127.0.0.1:0".parse().unwrap(),
        data_dir: data.to_owned(),
        sync: support::quick_sync_options(),
    };
    permdex::demo::start(options, &mut Silent).await.expect("demo starts")
}

/// The oracle's answer: every item `account` may read.
async fn visible(demo: &RunningDemo, account: &str) -> Vec<String> {
    support::oracle_visible(&reqwest::Client::new(), &demo.sim, account).await
}

/// How many items `user` finds for a word nearly every document has, through the API; `None` when the
/// server no longer knows the user (401).
async fn search_total(demo: &RunningDemo, user: &DemoUser) -> Option<u64> {
    let response = reqwest::Client::new()
        .get(format!("{}/api/v1/search?q=the", demo.url))
        .bearer_auth(&user.token)
        .send()
        .await
        .unwrap();
    if response.status() == 401 {
        return None;
    }
    let body: Value = response.json().await.unwrap();
    Some(body["total"].as_u64().unwrap_or_else(|| panic!("a total: {body}")))
}

fn strings(value: &Value) -> Vec<String> {
    value.as_array().unwrap().iter().map(|v| v.as_str().unwrap().to_owned()).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn search_narrow_by_facet_and_switch_user() {
    let data = tempfile::tempdir().unwrap();
    let demo = demo(data.path()).await;
    let browser = Browser::start().await;
    assert!(demo.users.len() >= 2);

    // From the oracle: a page one demo user reads and another does not, and whether it is restricted.
    let mut pick = None;
    'pairs: for reader in &demo.users {
        let readable = visible(&demo, &reader.account_id).await;
        for other in demo.users.iter().filter(|u| u.account_id != reader.account_id) {
            let others = visible(&demo, &other.account_id).await;
            let site = demo.sim.state.read();
            let page = readable.iter().filter(|id| !others.contains(id)).find_map(|id| {
                let number: u64 = id.strip_prefix("confluence:page:")?.parse().ok()?;
                let content = site.contents.get(&number)?;
                // A title no other item shares, so its absence means the page itself is hidden.
                let unique = site.contents.values().filter(|c| c.title == content.title).count() == 1;
                (unique && !content.read_restriction.is_empty()).then(|| content.title.clone())
            });
            if let Some(title) = page {
                pick = Some((reader.clone(), other.clone(), title));
                break 'pairs;
            }
        }
    }
    let (reader, other, title) = pick.expect("two demo users differ on a restricted page");

    browser.client.goto(&demo.url).await.unwrap();
    let select = browser.wait_for("#user-select option").await;
    // No query yet, so choosing a user searches nothing.
    select.find(Locator::XPath("..")).await.unwrap().select_by_value(&reader.token).await.unwrap();

    // Search and see results, with highlighted snippets or titles.
    let word = title
        .split_whitespace()
        .max_by_key(|w| w.len())
        .unwrap()
        .trim_matches(|c: char| !c.is_alphanumeric());
    let broad = browser.search(word).await;
    let titles = strings(&broad["titles"]);
    assert!(!titles.is_empty(), "results for {word:?}: {broad}");
    assert!(broad["marks"].as_u64().unwrap() > 0, "matches are highlighted: {broad}");
    if std::env::var_os("PERMDEX_BROWSER_SCREENSHOT").is_some() {
        let png = browser.client.screenshot().await.unwrap();
        std::fs::write(std::env::var_os("PERMDEX_BROWSER_SCREENSHOT").unwrap(), png).unwrap();
    }

    // The next page (by cursor) appends results not shown yet.
    let total: u64 = broad["summary"].as_str().unwrap().split(' ').next().unwrap().parse().unwrap();
    assert!(total as usize > titles.len(), "{word:?} has more than one page of results: {broad}");
    {
        let next = browser.wait_for("#next:not([hidden])").await;
        let more = browser.answered(async { next.click().await.unwrap() }).await;
        let ids: Vec<Value> = browser
            .client
            .execute("return [...document.querySelectorAll('.hit')].map((e) => e.dataset.id);", vec![])
            .await
            .unwrap()
            .as_array()
            .unwrap()
            .clone();
        assert!(ids.len() > titles.len(), "more results after next page: {more}");
        let distinct: std::collections::BTreeSet<String> = ids.iter().map(|v| v.to_string()).collect();
        assert_eq!(distinct.len(), ids.len(), "no result twice across pages");
    }

    // Click a kind facet that holds fewer results than the whole: every result is of that kind now.
    let buttons = browser.client.find_all(Locator::Css("#facets button[data-facet=\"kind\"]")).await.unwrap();
    let mut narrowed = None;
    for button in buttons {
        let count: u64 =
            button.find(Locator::Css(".count")).await.unwrap().text().await.unwrap().parse().unwrap();
        if count < total {
            let kind = button.attr("data-value").await.unwrap().unwrap();
            narrowed = Some((kind, count, browser.answered(async { button.click().await.unwrap() }).await));
            break;
        }
    }
    match narrowed {
        Some((kind, count, shown)) => {
            let summary = shown["summary"].as_str().unwrap();
            assert!(summary.starts_with(&format!("{count} result")), "{kind}: {summary}");
            let kinds = strings(&shown["kinds"]);
            assert!(!kinds.is_empty() && kinds.iter().all(|k| *k == kind), "{kind}: {kinds:?}");
            browser.wait_for(&format!("#facets button[data-value=\"{kind}\"][aria-pressed=\"true\"]")).await;
        }
        None => panic!("no kind facet narrows {word:?} ({total} results): pick another query"),
    }

    // The restricted page: there for the reader, gone for the other user, back again.
    let exact = format!("\"{}\"", title.replace('"', " "));
    let shown = browser.search(&exact).await;
    assert!(strings(&shown["titles"]).contains(&title), "{} sees {title:?}: {shown}", reader.display_name);
    let shown = browser.switch_user(&other).await;
    assert!(
        !strings(&shown["titles"]).contains(&title),
        "{} must not see {title:?}: {shown}",
        other.display_name
    );
    assert!(shown["error"].is_null(), "{shown}");
    let shown = browser.switch_user(&reader).await;
    assert!(strings(&shown["titles"]).contains(&title), "{shown}");

    // A question, as people type it, finds its page.
    let question = format!("how do I find the {}?", title.to_lowercase());
    let shown = browser.search(&question).await;
    assert!(strings(&shown["titles"]).contains(&title), "{question:?} finds {title:?}: {shown}");

    // A query the API refuses (too long to type here, so set as the field's value) shows its message.
    let too_long = "restore ".repeat(permdex::search::query::MAX_QUERY_CHARS / 8 + 1);
    browser
        .client
        .execute("document.querySelector('#q').value = arguments[0];", vec![json!(too_long)])
        .await
        .expect("set the query");
    let shown = browser
        .answered(async {
            browser.client.find(Locator::Css("#search-form button")).await.unwrap().click().await.unwrap()
        })
        .await;
    let message = shown["error"].as_str().unwrap_or_else(|| panic!("an error is shown: {shown}"));
    assert!(message.contains("too long"), "{message}");
    assert!(strings(&shown["titles"]).is_empty(), "{shown}");

    // The empty state.
    let shown = browser.search("zzqxjvw").await;
    assert_eq!(shown["empty"], json!(true), "{shown}");

    browser.client.clone().close().await.unwrap();
    demo.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn integrations_page_runs_a_sync() {
    let data = tempfile::tempdir().unwrap();
    let demo = demo(data.path()).await;
    let browser = Browser::start().await;

    browser.client.goto(&format!("{}/integrations", demo.url)).await.unwrap();
    let key = browser.wait_for("#admin-key").await;
    key.send_keys(&demo.admin_key).await.unwrap();
    browser.client.find(Locator::Css("#admin-form button")).await.unwrap().click().await.unwrap();
    let row = browser.wait_for("tr[data-source=\"demo\"][data-running=\"false\"]").await;
    let first_run = row.attr("data-run").await.unwrap().unwrap();
    let first_ended = row.attr("data-ended").await.unwrap().unwrap();
    assert!(!first_run.is_empty(), "the demo's full sync is listed");
    let indexed: u64 =
        browser.wait_for("tr[data-source=\"demo\"] .indexed").await.text().await.unwrap().parse().unwrap();
    assert!(indexed > 0, "the full sync indexed items");

    browser.wait_for("tr[data-source=\"demo\"] button.sync").await.click().await.unwrap();
    let row = browser
        .wait_for(&format!(
            "tr[data-source=\"demo\"][data-running=\"false\"]:not([data-run=\"{first_run}\"])"
        ))
        .await;
    let ended = row.attr("data-ended").await.unwrap().unwrap();
    let parse = |s: &str| chrono::DateTime::parse_from_rfc3339(s).unwrap();
    assert!(parse(&ended) >= parse(&first_ended), "{ended} after {first_ended}");
    let status = row.find(Locator::Css(".status")).await.unwrap().text().await.unwrap();
    assert_eq!(status, "completed");
    let last_sync = row.find(Locator::Css(".last-sync")).await.unwrap().text().await.unwrap();
    assert!(!last_sync.is_empty() && last_sync != "—", "{last_sync:?}");

    // Delete permanently, after the confirm: no user finds anything any more (with the source's directory
    // gone too, the server does not know them: 401).
    assert!(search_total(&demo, &demo.users[0]).await.is_some_and(|n| n > 0));
    browser.wait_for("tr[data-source=\"demo\"] button.purge").await.click().await.unwrap();
    browser.client.accept_alert().await.expect("a confirm before deleting");
    browser.wait_for("body[data-purges=\"1\"]").await;
    let error =
        browser.client.execute("return document.getElementById('error').hidden;", vec![]).await.unwrap();
    assert_eq!(error, json!(true), "no error shown after the deletion");
    for user in &demo.users {
        let total = search_total(&demo, user).await;
        assert!(matches!(total, None | Some(0)), "{} finds {total:?} after the purge", user.display_name);
    }

    browser.client.clone().close().await.unwrap();
    demo.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pages_and_assets_have_their_types_and_a_strict_policy() {
    let data = tempfile::tempdir().unwrap();
    let demo = demo(data.path()).await;
    let http = reqwest::Client::new();
    let cases = [
        ("/", "text/html"),
        ("/integrations", "text/html"),
        ("/assets/app.css", "text/css"),
        ("/assets/common.js", "text/javascript"),
        ("/assets/search.js", "text/javascript"),
        ("/assets/integrations.js", "text/javascript"),
    ];
    for (path, content_type) in cases {
        let response = http.get(format!("{}{path}", demo.url)).send().await.unwrap();
        assert_eq!(response.status(), 200, "{path}");
        let header = |name: &str| response.headers().get(name).map(|v| v.to_str().unwrap().to_owned());
        assert!(
            header("content-type").unwrap().starts_with(content_type),
            "{path}: {:?}",
            header("content-type")
        );
        let policy = header("content-security-policy").unwrap_or_default();
        for directive in ["default-src 'none'", "script-src 'self'", "frame-ancestors 'none'"] {
            assert!(policy.contains(directive), "{path}: {policy}");
        }
        assert!(!policy.contains("unsafe"), "{path}: {policy}");
        assert_eq!(header("x-content-type-options").as_deref(), Some("nosniff"), "{path}");
    }
    let missing = http.get(format!("{}/assets/nothing.js", demo.url)).send().await.unwrap();
    assert_eq!(missing.status(), 404);

    // Demo mode lists the demo users, each with a token the search API accepts.
    let users: Vec<DemoUser> =
        http.get(format!("{}/api/v1/demo/users", demo.url)).send().await.unwrap().json().await.unwrap();
    assert_eq!(users, demo.users);
    for user in &users {
        let search = http
            .get(format!("{}/api/v1/search?q=the", demo.url))
            .bearer_auth(&user.token)
            .send()
            .await
            .unwrap();
        assert_eq!(search.status(), 200, "{}", user.display_name);
    }
    demo.shutdown().await;
}

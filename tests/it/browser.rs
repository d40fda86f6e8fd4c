//! The web pages in a real headless Chromium, driven over WebDriver (chromedriver), against `permdex demo`
//! started in-process: the simulator, a full sync and the server in demo mode on port 0. `preview.rs` opens
//! results' previews (and one its user may not read); `sites.rs` pages through two synced sites;
//! `glance.rs` reads a result's space, breadcrumb and issue state; `onboard.rs` adds a source; `remove.rs`
//! removes one.
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
use permdex::server::backend::ServeOptions;
use permdex::server::DemoUser;
use permdex::sim::{Scale, SimConfig};
use permdex::sync::Silent;
use serde_json::{json, Value};

use crate::support;

mod glance;
mod onboard;
mod preview;
mod remove;
mod schedule;
mod sites;

const CHROMEDRIVER: &str = "/usr/bin/chromedriver";
const CHROMIUM: &str = "/usr/bin/chromium";
/// Longest wait for anything on a page: far above what a tiny site needs, short enough to fail fast.
const WAIT: Duration = Duration::from_secs(20);

/// The screen a browser renders for.
#[derive(Debug, Clone, Copy)]
enum Screen {
    Desktop,
    Phone { width: u32, height: u32 },
}

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
        Browser::start_sized(Screen::Desktop).await
    }

    /// A browser with a desktop window, or a phone's screen (emulated: desktop windows are at least
    /// 500 px wide).
    async fn start_sized(screen: Screen) -> Browser {
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
        ]
        .iter()
        .map(|a| a.to_string())
        .chain(["--window-size=1280,900".to_owned(), format!("--user-data-dir={}", profile.path().display())])
        .collect::<Vec<_>>();
        let mut capabilities = serde_json::Map::new();
        let mut options = json!({"binary": CHROMIUM, "args": args});
        if let Screen::Phone { width, height } = screen {
            options["mobileEmulation"] = json!({"deviceMetrics": {"width": width, "height": height, "pixelRatio": 1.0, "touch": true}});
        }
        capabilities.insert("goog:chromeOptions".into(), options);
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
                 return {titles: all('.hit .title'), kinds: [...document.querySelectorAll('.hit .kind')].map((e) => e.dataset.kind),
                         summary: document.getElementById('summary').textContent,
                         empty: !document.getElementById('empty').hidden,
                         error: document.getElementById('error').hidden ? null : document.getElementById('error').textContent,
                         marks: document.querySelectorAll('.hit mark').length};",
                vec![],
            )
            .await
            .expect("script runs")
    }

    /// The number of previews the page has answered so far.
    async fn previews(&self) -> u64 {
        let value = self.client.execute("return Number(document.body.dataset.previews || 0);", vec![]).await;
        value.expect("script runs").as_u64().expect("a count")
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
        features: permdex::sim::SiteFeatures::ALL,
        listen: "127.0.0.1:0".parse().unwrap(),
        data_dir: data.to_owned(),
        serve: ServeOptions { sync: support::quick_sync_options(), ..ServeOptions::default() },
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

/// From the oracle: a restricted page one demo user reads and another does not, whose title no other
/// item shares (so its absence means the page itself is hidden): (reader, other, title, id).
async fn restricted_page(demo: &RunningDemo) -> (DemoUser, DemoUser, String, String) {
    for reader in &demo.users {
        let readable = visible(demo, &reader.account_id).await;
        for other in demo.users.iter().filter(|u| u.account_id != reader.account_id) {
            let others = visible(demo, &other.account_id).await;
            let site = demo.sim.state.read();
            let page = readable.iter().filter(|id| !others.contains(id)).find_map(|id| {
                let number: u64 = id.strip_prefix("confluence:page:")?.parse().ok()?;
                let content = site.contents.get(&number)?;
                let unique = site.contents.values().filter(|c| c.title == content.title).count() == 1;
                (unique && !content.read_restriction.is_empty()).then(|| (content.title.clone(), id.clone()))
            });
            if let Some((title, id)) = page {
                return (reader.clone(), other.clone(), title, id);
            }
        }
    }
    panic!("two demo users differ on a restricted page")
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

    let (reader, other, title, _) = restricted_page(&demo).await;

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

    // The next page (by cursor) shows results not shown yet, and says so in the URL; the previous one
    // comes back as it was.
    let total: u64 = broad["summary"].as_str().unwrap().split(' ').next().unwrap().parse().unwrap();
    assert!(total as usize > titles.len(), "{word:?} has more than one page of results: {broad}");
    {
        let shown_ids = || async {
            strings(
                &browser
                    .client
                    .execute(
                        "return [...document.querySelectorAll('.hit')].map((e) => e.dataset.id);",
                        vec![],
                    )
                    .await
                    .unwrap(),
            )
        };
        let first = shown_ids().await;
        let next = browser.wait_for("#next:not([hidden])").await;
        let more = browser.answered(async { next.click().await.unwrap() }).await;
        let second = shown_ids().await;
        assert!(!second.is_empty(), "a second page: {more}");
        assert!(
            second.iter().all(|id| !first.contains(id)),
            "no result twice across pages: {first:?} {second:?}"
        );
        assert!(
            more["summary"].as_str().unwrap().contains(&format!("showing {}–", titles.len() + 1)),
            "{more}"
        );
        let url = browser.query_string().await;
        assert!(url.contains("page=2&after="), "{url}");
        let previous = browser.wait_for("#previous:not([hidden])").await;
        browser.answered(async { previous.click().await.unwrap() }).await;
        assert_eq!(shown_ids().await, first);
        assert!(!browser.query_string().await.contains("page="), "the first page has no page in its URL");
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
    // The page shows what the index holds now, not what the last run counted.
    browser.client.refresh().await.unwrap();
    browser.wait_for("tr[data-source=\"demo\"] .indexed").await;
    let held = browser
        .client
        .execute("return document.querySelector('tr[data-source=\"demo\"] .indexed').textContent;", vec![])
        .await
        .unwrap();
    assert_eq!(held, json!("0"), "nothing is held after the purge");

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
        // The example the demo prints for this user finds something they may read.
        let search = http
            .get(format!("{}/api/v1/search", demo.url))
            .query(&[("q", user.example.as_str())])
            .bearer_auth(&user.token)
            .send()
            .await
            .unwrap();
        assert_eq!(search.status(), 200, "{}", user.display_name);
        let body: Value = search.json().await.unwrap();
        assert!(
            body["total"].as_u64().is_some_and(|n| n > 0),
            "{} for {:?}: {body}",
            user.display_name,
            user.example
        );
    }
    demo.shutdown().await;
}

impl Browser {
    /// Runs `body` (an async function body; `return` its answer) in the page and waits for its answer.
    async fn run_async(&self, body: &str) -> Value {
        let script =
            format!("const done = arguments[arguments.length - 1]; (async () => {{ {body} }})().then(done);");
        self.client.execute_async(&script, vec![]).await.expect("script runs")
    }

    /// The page's `/auth/session` answer.
    async fn session(&self) -> Value {
        self.run_async("return (await fetch('/auth/session')).json();").await
    }

    /// From the search page, signs in with `provider` as `account` on the simulator's consent page.
    async fn sign_in(&self, demo: &RunningDemo, provider: &str, account: &str) {
        self.client.goto(&demo.url).await.unwrap();
        self.wait_for("body[data-signin=\"ready\"]").await;
        self.wait_for(&format!("a[data-provider=\"{provider}\"]")).await.click().await.unwrap();
        let select = self.wait_for("select#account").await;
        select.select_by_value(account).await.expect("the consent page offers the account");
        self.client.find(Locator::Css("#accept")).await.unwrap().click().await.unwrap();
    }
}

/// A site user who is active, can read something, and whose e-mail is visible (`hidden` false) or hidden.
fn user_with_email(demo: &RunningDemo, hidden: bool) -> (String, String) {
    let site = demo.sim.state.read();
    let user = site
        .users
        .iter()
        .filter(|u| u.active && u.email_hidden == hidden)
        .find(|u| {
            !permdex::sim::oracle::visible(&site, &u.account_id, permdex::sim::oracle::Scope::default())
                .is_empty()
        })
        .unwrap_or_else(|| panic!("an active reader whose e-mail is hidden={hidden}"));
    (user.account_id.clone(), user.email.clone())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sign_in_with_atlassian_and_oidc_sign_out_and_csrf() {
    let data = tempfile::tempdir().unwrap();
    let demo = demo(data.path()).await;
    let browser = Browser::start().await;
    let reader = demo.users[0].clone();

    // Sign in with Atlassian: authorize, consent, token, /me; the page greets the account by name.
    browser.sign_in(&demo, "atlassian", &reader.account_id).await;
    browser.wait_for(&format!("body[data-signed-in=\"{}\"]", reader.account_id)).await;
    let name = browser.wait_for("#session-name").await.text().await.unwrap();
    assert_eq!(name, reader.display_name);
    // Signed in, the demo's user picker is hidden, and no style rule shows a hidden element anyway.
    let shown_hidden = browser
        .client
        .execute(
            "return [...document.querySelectorAll('[hidden]')]
                 .filter((e) => getComputedStyle(e).display !== 'none').map((e) => e.id);",
            vec![],
        )
        .await
        .unwrap();
    assert_eq!(shown_hidden, json!([]), "hidden elements on screen");
    assert_eq!(browser.accessibility_violations().await, json!([]), "the signed-in search page");
    let picker =
        browser.client.execute("return document.getElementById('user-picker').hidden;", vec![]).await;
    assert_eq!(picker.unwrap(), json!(true));
    let cookies = browser.client.get_all_cookies().await.unwrap();
    let cookie = cookies.iter().find(|c| c.name() == "permdex_session").expect("a session cookie");
    assert_eq!(cookie.http_only(), Some(true), "{cookie:?}");
    assert_eq!(format!("{:?}", cookie.same_site()), "Some(Lax)", "{cookie:?}");
    assert_ne!(cookie.secure(), Some(true), "plain http over loopback: not Secure");
    assert!(
        !cookies.iter().any(|c| c.name() == "permdex_login" && !c.value().is_empty()),
        "the sign-in cookie is cleared: {cookies:?}"
    );

    // The session searches as that account: the page's count is the API's for the same account's token.
    let shown = browser.search("the").await;
    assert!(shown["error"].is_null(), "{shown}");
    let total: u64 = shown["summary"].as_str().unwrap().split(' ').next().unwrap().parse().unwrap();
    assert_eq!(Some(total), search_total(&demo, &reader).await, "{shown}");

    // A state-changing request without the CSRF token is refused, and the session survives it.
    let refused = browser.run_async("return (await fetch('/auth/logout', {method: 'POST'})).status;").await;
    assert_eq!(refused, json!(403));
    let csrf_wrong = browser
        .run_async("return (await fetch('/auth/logout', {method: 'POST', headers: {'X-CSRF-Token': 'nope'}})).status;")
        .await;
    assert_eq!(csrf_wrong, json!(403));
    assert_eq!(browser.session().await["signed_in"], json!(true));
    // Nor does the cookie work from a program that does not send it with the token.
    let session_id = cookie.value().to_owned();
    let http = reqwest::Client::new();
    let status = http
        .post(format!("{}/auth/logout", demo.url))
        .header("cookie", format!("permdex_session={session_id}"))
        .send()
        .await
        .unwrap()
        .status();
    assert_eq!(status, 403);
    // Bearer tokens keep working beside sessions.
    assert!(search_total(&demo, &reader).await.is_some_and(|n| n > 0));

    // Sign out: the session is gone on the server, not only in this browser.
    browser.wait_for("#sign-out").await.click().await.unwrap();
    browser.wait_for("a[data-provider=\"atlassian\"]").await;
    assert_eq!(browser.session().await["signed_in"], json!(false));
    let status = http
        .get(format!("{}/api/v1/search?q=the", demo.url))
        .header("cookie", format!("permdex_session={session_id}"))
        .send()
        .await
        .unwrap()
        .status();
    assert_eq!(status, 401, "the old session cookie no longer searches");

    // OpenID Connect: the e-mail claim names the account through the synced directory.
    let (visible_account, _) = user_with_email(&demo, false);
    browser.sign_in(&demo, "oidc", &visible_account).await;
    browser.wait_for(&format!("body[data-signed-in=\"{visible_account}\"]")).await;
    assert_eq!(browser.session().await["provider"], json!("oidc"));

    // The provider rotates its signing key: the next sign-in's ID token is verified with the new key.
    demo.sim.state.oauth.rotate_oidc_key();
    browser.wait_for("#sign-out").await.click().await.unwrap();
    browser.wait_for("a[data-provider=\"oidc\"]").await;
    browser.sign_in(&demo, "oidc", &visible_account).await;
    browser.wait_for(&format!("body[data-signed-in=\"{visible_account}\"]")).await;
    browser.wait_for("#sign-out").await.click().await.unwrap();
    browser.wait_for("a[data-provider=\"oidc\"]").await;

    // A hidden e-mail address matches nobody: a page says why, and nobody is signed in.
    let (hidden_account, hidden_email) = user_with_email(&demo, true);
    browser.sign_in(&demo, "oidc", &hidden_account).await;
    let message = browser.wait_for("#login-error").await.text().await.unwrap();
    assert!(message.contains(&hidden_email) && message.contains("hides"), "{message}");
    assert_eq!(browser.accessibility_violations().await, json!([]), "the sign-in error page");
    assert_eq!(browser.session().await["signed_in"], json!(false));

    // Someone the sites do not know at all: the same, never another account's access.
    browser.sign_in(&demo, "oidc", "outsider").await;
    let message = browser.wait_for("#login-error").await.text().await.unwrap();
    assert!(message.contains("visitor@elsewhere.example"), "{message}");
    assert_eq!(browser.session().await["signed_in"], json!(false));

    // Declining at Atlassian signs nobody in.
    browser.client.goto(&demo.url).await.unwrap();
    browser.wait_for("a[data-provider=\"atlassian\"]").await.click().await.unwrap();
    browser.wait_for("select#account").await;
    browser.client.find(Locator::Css("#decline")).await.unwrap().click().await.unwrap();
    let message = browser.wait_for("#login-error").await.text().await.unwrap();
    assert!(message.contains("declined"), "{message}");
    assert_eq!(browser.session().await["signed_in"], json!(false));

    browser.client.clone().close().await.unwrap();
    demo.shutdown().await;
}

impl Browser {
    /// Presses and releases `key` (a character, or a WebDriver key code such as `\u{E015}` for ArrowDown)
    /// wherever the focus is.
    async fn press(&self, key: char) {
        use fantoccini::actions::{InputSource, KeyAction, KeyActions};
        let keys = KeyActions::new("keyboard".into())
            .then(KeyAction::Down { value: key })
            .then(KeyAction::Up { value: key });
        self.client.perform_actions(keys).await.expect("keys pressed");
    }

    /// The focused element's id, or its `data-id` of the result it is in.
    async fn focused(&self) -> Value {
        let script = "const e = document.activeElement; const hit = e.closest('.hit');
                      return hit ? hit.dataset.id : e.id;";
        self.client.execute(script, vec![]).await.expect("script runs")
    }

    async fn query_string(&self) -> String {
        self.client.current_url().await.unwrap().query().unwrap_or_default().to_owned()
    }

    /// Whether the page is wider than the window (sideways scrolling), with both widths.
    async fn overflow(&self) -> Value {
        let script = "return {inner: window.innerWidth, scroll: document.documentElement.scrollWidth};";
        self.client.execute(script, vec![]).await.expect("script runs")
    }
}

/// axe-core, fetched by `.ci/run` (a test tool: never committed, never shipped).
const AXE: &str = "target/axe-core/axe.min.js";

impl Browser {
    /// The page's serious and critical accessibility violations by axe-core: rule id, help and elements.
    async fn accessibility_violations(&self) -> Value {
        let axe = std::fs::read_to_string(AXE).unwrap_or_else(|e| {
            panic!(
                "{AXE}: {e}; .ci/run fetches it (npm pack axe-core@4.10.2, then axe.min.js from the tarball)"
            )
        });
        let script = format!(
            "const done = arguments[arguments.length - 1];\n{axe}\n\
             window.axe.run(document, {{resultTypes: ['violations']}}).then((r) => done(r.violations\
               .filter((v) => v.impact === 'serious' || v.impact === 'critical')\
               .map((v) => ({{id: v.id, help: v.help, nodes: v.nodes.map((n) => n.target.join(' '))}}))));"
        );
        self.client.execute_async(&script, vec![]).await.expect("axe runs")
    }
}

/// Where to save the README's screenshots: `PERMDEX_SCREENSHOTS=docs/screenshots cargo test --test it
/// browser::search_page` (unset: none are taken).
fn screenshot_dir() -> Option<std::path::PathBuf> {
    std::env::var_os("PERMDEX_SCREENSHOTS").map(std::path::PathBuf::from)
}

impl Browser {
    async fn screenshot(&self, path: &Path) {
        let png = self.client.screenshot().await.expect("screenshot");
        std::fs::write(path, png).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    }
}

const ARROW_DOWN: char = '\u{E015}';
const ARROW_UP: char = '\u{E013}';
const ENTER: char = '\u{E007}';
const ESCAPE: char = '\u{E00C}';

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn search_page_keeps_its_state_in_the_url_works_by_keyboard_and_fits_a_phone() {
    let data = tempfile::tempdir().unwrap();
    let demo = demo(data.path()).await;
    let browser = Browser::start().await;
    browser.client.goto(&demo.url).await.unwrap();
    browser.wait_for("body[data-signin=\"ready\"]").await;

    // The query, then a filter, then the sort: each is a history entry in the URL.
    let broad = browser.search("the").await;
    let total = broad["summary"].as_str().unwrap().to_owned();
    assert_eq!(browser.query_string().await, "q=the");
    let facet = browser.wait_for("#facets button[data-facet=\"kind\"]").await;
    let kind = facet.attr("data-value").await.unwrap().unwrap();
    let label = facet.find(Locator::Css("span")).await.unwrap().text().await.unwrap();
    assert!(
        !label.is_empty() && label.chars().next().unwrap().is_uppercase(),
        "readable facet name: {label:?}"
    );
    browser.answered(async { facet.click().await.unwrap() }).await;
    assert_eq!(browser.query_string().await, format!("q=the&kind={kind}"));
    let sort = browser.wait_for("#sort").await;
    let newest = browser.answered(async { sort.select_by_value("updated").await.unwrap() }).await;
    assert_eq!(browser.query_string().await, format!("q=the&kind={kind}&sort=updated"));
    let kinds = strings(&newest["kinds"]);
    assert!(!kinds.is_empty() && kinds.iter().all(|k| *k == kind), "{newest}");

    // Back undoes the sort, then the filter; forward redoes the filter.
    browser.answered(async { browser.client.back().await.unwrap() }).await;
    assert_eq!(browser.query_string().await, format!("q=the&kind={kind}"));
    let sort_value = browser.client.execute("return document.getElementById('sort').value;", vec![]).await;
    assert_eq!(sort_value.unwrap(), json!("relevance"));
    let unfiltered = browser.answered(async { browser.client.back().await.unwrap() }).await;
    assert_eq!(unfiltered["summary"].as_str().unwrap(), total, "{unfiltered}");
    browser.answered(async { browser.client.forward().await.unwrap() }).await;
    browser.wait_for(&format!("#facets button[data-value=\"{kind}\"][aria-pressed=\"true\"]")).await;

    // A reload (or a shared link) shows the same search.
    browser.client.refresh().await.unwrap();
    browser.wait_for("body[data-searches=\"1\"]").await;
    let query = browser.client.execute("return document.getElementById('q').value;", vec![]).await;
    assert_eq!(query.unwrap(), json!("the"));
    browser.wait_for(&format!("#facets button[data-value=\"{kind}\"][aria-pressed=\"true\"]")).await;
    assert_eq!(browser.accessibility_violations().await, json!([]), "the search page with results");
    // Relative times, exact on hover.
    let time = browser.wait_for(".hit time").await;
    let (shown, exact) = (time.text().await.unwrap(), time.attr("title").await.unwrap().unwrap_or_default());
    assert!(shown.contains("ago") || shown.contains("yesterday") || shown.contains("last"), "{shown:?}");
    assert!(!exact.is_empty() && exact != shown, "{exact:?}");

    // Keyboard: "/" focuses the box, arrows walk the results (and back up to the box), Enter opens.
    browser.client.execute("document.activeElement.blur();", vec![]).await.unwrap();
    browser.press('/').await;
    assert_eq!(browser.focused().await, json!("q"));
    let ids: Vec<String> = strings(
        &browser
            .client
            .execute("return [...document.querySelectorAll('.hit')].map((e) => e.dataset.id);", vec![])
            .await
            .unwrap(),
    );
    assert!(ids.len() >= 2, "{ids:?}");
    browser.press(ARROW_DOWN).await;
    assert_eq!(browser.focused().await, json!(ids[0]));
    browser.press(ARROW_DOWN).await;
    assert_eq!(browser.focused().await, json!(ids[1]));
    browser.press(ARROW_UP).await;
    browser.press(ARROW_UP).await;
    assert_eq!(browser.focused().await, json!("q"));
    browser.press(ARROW_DOWN).await;
    // Enter on the focused result opens its preview, named in the URL; Escape closes it, and focus is
    // back on the result.
    let before = browser.previews().await;
    browser.press(ENTER).await;
    browser.wait_for(&format!("body[data-previews=\"{}\"]", before + 1)).await;
    browser.wait_for(&format!("dialog#preview[open][data-id=\"{}\"]", ids[0])).await;
    assert!(browser.query_string().await.contains("&preview="), "{}", browser.query_string().await);
    browser.press(ESCAPE).await;
    browser.wait_for("dialog#preview:not([open])").await;
    assert_eq!(browser.focused().await, json!(ids[0]));
    assert!(!browser.query_string().await.contains("preview="), "{}", browser.query_string().await);

    if let Some(dir) = screenshot_dir() {
        browser.client.goto(&format!("{}/?q=the", demo.url)).await.unwrap();
        browser.wait_for("body[data-searches=\"1\"]").await;
        browser.screenshot(&dir.join("search-desktop.png")).await;
        browser.wait_for(".hit .title").await.click().await.unwrap();
        browser.wait_for("dialog#preview[data-state=\"loaded\"]").await;
        browser.screenshot(&dir.join("preview-desktop.png")).await;
        browser.client.goto(&format!("{}/integrations", demo.url)).await.unwrap();
        browser.wait_for("#admin-key").await.send_keys(&demo.admin_key).await.unwrap();
        browser.client.find(Locator::Css("#admin-form button")).await.unwrap().click().await.unwrap();
        browser.wait_for("tr[data-source=\"demo\"][data-running=\"false\"]").await;
        browser.screenshot(&dir.join("integrations-desktop.png")).await;
    }
    browser.client.clone().close().await.unwrap();

    // At 390 px wide nothing scrolls sideways: the search page with results, and the integrations page.
    let browser = Browser::start_sized(Screen::Phone { width: 390, height: 844 }).await;
    browser.client.goto(&demo.url).await.unwrap();
    browser.wait_for("body[data-signin=\"ready\"]").await;
    for path in ["/?q=the", "/integrations"] {
        browser.client.goto(&format!("{}{path}", demo.url)).await.unwrap();
        browser.wait_for("body").await;
        if path.starts_with("/?") {
            browser.wait_for("body[data-searches=\"1\"]").await;
        } else {
            // With the sources table on screen.
            browser.wait_for("#admin-key").await.send_keys(&demo.admin_key).await.unwrap();
            browser.client.find(Locator::Css("#admin-form button")).await.unwrap().click().await.unwrap();
            browser.wait_for("tr[data-source=\"demo\"][data-running=\"false\"]").await;
        }
        assert_eq!(browser.accessibility_violations().await, json!([]), "{path} at phone width");
        let widths = browser.overflow().await;
        let (inner, scroll) = (widths["inner"].as_u64().unwrap(), widths["scroll"].as_u64().unwrap());
        assert!(inner <= 400, "the window is phone-sized: {widths}");
        assert!(scroll <= inner, "{path} scrolls sideways at {inner} px: {widths}");
        if let Some(dir) = screenshot_dir() {
            let name = if path.starts_with("/?") { "search-phone.png" } else { "integrations-phone.png" };
            browser.screenshot(&dir.join(name)).await;
            if path.starts_with("/?") {
                browser.wait_for(".hit .title").await.click().await.unwrap();
                browser.wait_for("dialog#preview[data-state=\"loaded\"]").await;
                // The emulated tap's highlight fades first.
                tokio::time::sleep(Duration::from_millis(800)).await;
                browser.screenshot(&dir.join("preview-phone.png")).await;
            }
        }
    }

    browser.client.clone().close().await.unwrap();
    demo.shutdown().await;
}

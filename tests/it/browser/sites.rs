//! Paging across two configured sites in a real browser: two simulated sites (the second one changed by
//! random edits, so their documents differ and interleave), each synced into its own index, served by
//! `permdex serve`'s `Service`, searched by one account both sites know, signed in with a pasted bearer
//! token (no demo: results link to the site). Clicking "Next page" to the end shows, page after page,
//! exactly the sequence the API's cursors give in one walk of 100-hit pages (every hit once, each one the
//! oracle lets the account read); the page and its cursor live in the URL, so "Previous page", reload and
//! a shared link show the same page. axe-core and the 390 px layout hold with site labels shown.

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use fantoccini::Locator;
use permdex::config::{AccountId, Config};
use permdex::server::backend::{ServeOptions, Service};
use permdex::sim::oracle::{visible, Scope};
use permdex::sim::run::RunningSim;
use permdex::sim::{Scale, SimConfig};
use permdex::sync::{sync_with, Mode, Silent};
use serde_json::{json, Value};

use super::{Browser, Screen};
use crate::support;

const SOURCES: [&str; 2] = ["acme", "beta"];

/// Two synced sites served on loopback, and an account both know.
struct TwoSites {
    url: String,
    token: String,
    account: String,
    sims: [RunningSim; 2],
    _data: tempfile::TempDir,
    stop: tokio::sync::oneshot::Sender<()>,
}

async fn two_sites() -> TwoSites {
    let sims = [
        support::start_generated(SimConfig::new(1, Scale::Tiny)).await,
        support::start_generated(SimConfig::new(1, Scale::Tiny)).await,
    ];
    support::apply_random_mutations(&sims[1], 7, 80);
    let data = tempfile::tempdir().unwrap();
    let mut text = format!("data_dir = {:?}\n", data.path().display().to_string());
    let mut env = BTreeMap::from([("JWT".to_owned(), "jwt-secret-for-two-sites-0123456789".to_owned())]);
    for (name, sim) in SOURCES.iter().zip(&sims) {
        let token_env = format!("{}_TOKEN", name.to_uppercase());
        text += &format!(
            "[[sources]]\nname = \"{name}\"\nurl = {:?}\nemail = {:?}\ntoken_env = \"{token_env}\"\n\
             requests_per_second = 2000.0\nconcurrency = 8\n",
            sim.url, sim.credentials.email
        );
        env.insert(token_env, sim.credentials.token.clone());
    }
    text += "[server]\njwt_hs256_secret_env = \"JWT\"\n";
    let config = Config::from_toml(&text, &data.path().join("permdex.toml"), &env).expect("config");
    for source in config.sources() {
        sync_with(&config, source, Mode::Full, &support::quick_sync_options(), &mut Silent)
            .await
            .expect("sync");
    }

    // The active account that reads the most of both sites together, reading something in each.
    let account = support::reader_of_both(&sims);
    let key = config.server().jwt().expect("a JWT key");
    let id = AccountId::parse(&account).unwrap();
    let token =
        permdex::server::auth::mint_token(key, &id, Duration::from_secs(3600), chrono::Utc::now()).unwrap();

    let options = ServeOptions { sync: support::quick_sync_options(), ..ServeOptions::default() };
    let service = Service::open(config, options).await.expect("service");
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    tokio::spawn(service.serve(listener, async {
        let _ = stopped.await;
    }));
    TwoSites { url, token, account, sims, _data: data, stop }
}

impl TwoSites {
    async fn api(&self, query: &[(&str, &str)]) -> Value {
        let response = reqwest::Client::new()
            .get(format!("{}/api/v1/search", self.url))
            .query(query)
            .bearer_auth(&self.token)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200);
        response.json().await.unwrap()
    }

    /// (source, id) of every hit for `q`, following the API's cursors in pages of 100.
    async fn api_walk(&self, q: &str) -> Vec<(String, String)> {
        let mut all = Vec::new();
        let mut cursor: Option<String> = None;
        loop {
            let mut query = vec![("q", q), ("limit", "100")];
            if let Some(c) = &cursor {
                query.push(("cursor", c));
            }
            let page = self.api(&query).await;
            all.extend(pairs(&page["hits"]));
            match page["next_cursor"].as_str() {
                Some(next) => cursor = Some(next.to_owned()),
                None => return all,
            }
        }
    }

    /// A word of the sites' titles whose results fill several pages from both sites.
    async fn query_word(&self) -> String {
        let words: BTreeSet<String> = {
            let site = self.sims[0].state.read();
            site.contents
                .values()
                .flat_map(|c| c.title.split_whitespace().map(|w| w.to_lowercase()).collect::<Vec<_>>())
                .filter(|w| w.len() >= 5 && w.chars().all(char::is_alphabetic))
                .collect()
        };
        for word in words {
            let page = self.api(&[("q", &word), ("facets", "true")]).await;
            let total = page["total"].as_u64().unwrap();
            if (31..=70).contains(&total) && page["facets"]["source"].as_array().is_some_and(|s| s.len() == 2)
            {
                return word;
            }
        }
        panic!("no title word gives 31 to 70 results from both sites")
    }
}

fn pairs(hits: &Value) -> Vec<(String, String)> {
    hits.as_array()
        .unwrap()
        .iter()
        .map(|h| (h["source"].as_str().unwrap().to_owned(), h["id"].as_str().unwrap().to_owned()))
        .collect()
}

impl Browser {
    /// Signs in on the search page by pasting a bearer token (a deployment without a sign-in provider).
    async fn paste_token(&self, url: &str, token: &str) {
        self.client.goto(url).await.unwrap();
        self.wait_for("body[data-signin=\"ready\"]").await;
        self.wait_for("#token-input").await.send_keys(token).await.unwrap();
        self.client.find(Locator::Css("#token-form button")).await.unwrap().click().await.unwrap();
    }

    /// (source, id) of the results on screen.
    async fn shown(&self) -> Vec<(String, String)> {
        let script = "return [...document.querySelectorAll('.hit')].map((e) => ({source: e.dataset.source, id: e.dataset.id}));";
        let hits = self.client.execute(script, vec![]).await.unwrap();
        pairs(&hits)
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pages_walk_every_result_of_two_sites_in_order() {
    let sites = two_sites().await;
    let word = sites.query_word().await;
    let expected = sites.api_walk(&word).await;
    let unique: BTreeSet<&(String, String)> = expected.iter().collect();
    assert_eq!(unique.len(), expected.len(), "the API gives every hit once");
    // Every hit is one the oracle lets the account read on its site.
    let readable: BTreeSet<(String, String)> = SOURCES
        .iter()
        .zip(&sites.sims)
        .flat_map(|(name, sim)| {
            let site = sim.state.read();
            visible(&site, &sites.account, Scope::default())
                .into_iter()
                .map(|d| (name.to_string(), d.0))
                .collect::<Vec<_>>()
        })
        .collect();
    for hit in &expected {
        assert!(readable.contains(hit), "{hit:?} is not the account's to read");
    }

    let browser = Browser::start().await;
    browser.paste_token(&sites.url, &sites.token).await;
    browser.search(&word).await;
    let mut pages: Vec<Vec<(String, String)>> = Vec::new();
    let mut urls = Vec::new();
    loop {
        pages.push(browser.shown().await);
        urls.push(browser.client.current_url().await.unwrap().to_string());
        let page = pages.len();
        if page > 1 {
            assert!(urls[page - 1].contains(&format!("page={page}&after=")), "{}", urls[page - 1]);
        }
        let more =
            browser.client.execute("return !document.getElementById('next').hidden;", vec![]).await.unwrap();
        if more != json!(true) {
            break;
        }
        assert!(page < 20, "paging does not end");
        let next = browser.wait_for("#next").await;
        browser.answered(async { next.click().await.unwrap() }).await;
    }
    assert!(pages.len() >= 4, "{word:?} fills several pages");
    assert_eq!(pages.concat(), expected, "the pages, one after another, are the API's walk");
    assert!(pages[..pages.len() - 1].iter().all(|p| p.len() == 10));
    let mixed = pages.iter().filter(|p| p.iter().map(|(s, _)| s).collect::<BTreeSet<_>>().len() == 2).count();
    assert!(mixed > 0, "the sites' results interleave on some page");

    // Each result says its site, and links to its page there (no demo here).
    let meta = browser
        .client
        .execute(
            "return [...document.querySelectorAll('.hit')].map((e) => ({site: e.querySelector('.site').textContent,
                     link: e.querySelector('.open a').href}));",
            vec![],
        )
        .await
        .unwrap();
    for (hit, shown) in pages.last().unwrap().iter().zip(meta.as_array().unwrap()) {
        assert_eq!(shown["site"], json!(format!("Site {}", hit.0)));
        assert!(shown["link"].as_str().unwrap().starts_with("http"), "{shown}");
    }
    let facet = browser.wait_for("#facets button[data-facet=\"source\"]").await;
    assert!(!facet.text().await.unwrap().is_empty());
    assert_eq!(browser.accessibility_violations().await, json!([]), "a page of two sites' results");

    // Previous goes back a page; reload keeps the page (and Previous); a shared link shows it too.
    let last = pages.len();
    let previous = browser.wait_for("#previous:not([hidden])").await;
    browser.answered(async { previous.click().await.unwrap() }).await;
    assert_eq!(browser.shown().await, pages[last - 2]);
    browser.client.refresh().await.unwrap();
    browser.wait_for("body[data-searches=\"1\"]").await;
    assert_eq!(browser.shown().await, pages[last - 2]);
    let label = browser.wait_for("#previous:not([hidden])").await.text().await.unwrap();
    assert_eq!(label, "Previous page");
    browser.client.goto(&urls[2]).await.unwrap();
    browser.wait_for("body[data-searches=\"1\"]").await;
    assert_eq!(browser.shown().await, pages[2], "a shared link to the third page");
    let label = browser.wait_for("#previous:not([hidden])").await.text().await.unwrap();
    assert_eq!(label, "First page", "a shared link knows no earlier cursors");
    // A page link whose cursor the server no longer takes (garbled here) falls back to the first page.
    let stale = urls[2].replace("after=", "after=x");
    browser.client.goto(&stale).await.unwrap();
    browser.wait_for("body[data-searches=\"1\"]").await;
    assert_eq!(browser.shown().await, pages[0]);
    assert!(!browser.query_string().await.contains("page="), "{}", browser.query_string().await);
    browser.client.clone().close().await.unwrap();

    // At 390 px, with site labels and links, nothing scrolls sideways.
    let browser = Browser::start_sized(Screen::Phone { width: 390, height: 844 }).await;
    browser.paste_token(&sites.url, &sites.token).await;
    browser.client.goto(&urls[1]).await.unwrap();
    browser.wait_for("body[data-searches=\"1\"]").await;
    assert_eq!(browser.shown().await, pages[1]);
    let widths = browser.overflow().await;
    let (inner, scroll) = (widths["inner"].as_u64().unwrap(), widths["scroll"].as_u64().unwrap());
    assert!(inner <= 400 && scroll <= inner, "two sites' page scrolls sideways at {inner} px: {widths}");
    assert_eq!(browser.accessibility_violations().await, json!([]), "two sites' page at phone width");
    browser.client.clone().close().await.unwrap();

    let _ = sites.stop.send(());
    for sim in sites.sims {
        sim.shutdown().await;
    }
}

//! Removing a source from the integrations page in a real browser, against `permdex demo` with a second
//! site added (the same people, so the demo's users read both): "Remove" opens a confirmation that names the
//! source; "Cancel" removes nothing; confirming with "also delete its data" takes the source out of the
//! page, the configuration file and every search at once (no reload, no restart), and deletes its token
//! file. axe-core finds nothing serious in the open dialog.

use fantoccini::Locator;
use permdex::sim::{Scale, SimConfig, SiteFeatures};
use serde_json::{json, Value};

use super::{demo, Browser};

/// What `token` finds of source `name`, through the API: the search's count of it among every source.
async fn found_in(base: &str, token: &str, name: &str) -> u64 {
    let response = reqwest::Client::new()
        .get(format!("{base}/api/v1/search"))
        .query(&[("facets", "true"), ("limit", "1")])
        .bearer_auth(token)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let body: Value = response.json().await.unwrap();
    let sources = body["facets"]["source"].as_array().unwrap_or_else(|| panic!("source facets: {body}"));
    sources.iter().find(|f| f["value"] == name).map_or(0, |f| f["count"].as_u64().unwrap())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_admin_removes_a_source_after_a_confirmation_and_it_is_searched_no_more() {
    let data = tempfile::tempdir().unwrap();
    let demo = demo(data.path()).await;
    let second = permdex::sim::run::start_with_features(
        SimConfig::new(1, Scale::Tiny),
        SiteFeatures::ALL,
        "127.0.0.1:0".parse().unwrap(),
    )
    .await
    .unwrap();
    let http = reqwest::Client::new();
    let added = http
        .post(format!("{}/api/v1/admin/sources", demo.url))
        .bearer_auth(&demo.admin_key)
        .json(&json!({"name": "second", "url": second.url, "email": second.credentials.email,
                      "token": second.credentials.token}))
        .send()
        .await
        .unwrap();
    assert_eq!(added.status(), 201);
    // Its first sync, to its end.
    let mut synced = None;
    for _ in 0..1500 {
        let listed = crate::support::admin_sources(&demo.url, &demo.admin_key).await;
        let entry = listed.as_array().unwrap().iter().find(|s| s["name"] == "second").cloned();
        if entry.as_ref().is_some_and(|s| s["sync_running"] == json!(false) && s["last_runs"] != json!([])) {
            synced = entry;
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    let synced = synced.expect("the added source's first sync ends");
    assert_eq!(synced["last_runs"][0]["outcome"], json!("completed"), "{synced}");
    // The demo's user who reads the most of the added site.
    let mut readers = Vec::new();
    for user in &demo.users {
        readers.push((found_in(&demo.url, &user.token, "second").await, user.token.clone()));
    }
    let (most, reader) = readers.into_iter().max().expect("demo users");
    assert!(most > 0, "a demo user reads the added site");
    let token_file = data.path().join("second.token");
    assert!(token_file.exists());

    let browser = Browser::start().await;
    browser.client.goto(&format!("{}/integrations", demo.url)).await.unwrap();
    browser.wait_for("#admin-key").await.send_keys(&demo.admin_key).await.unwrap();
    browser.client.find(Locator::Css("#admin-form button")).await.unwrap().click().await.unwrap();
    // Once its first sync has ended, so that the page's own polling does not redraw the row meanwhile.
    browser.wait_for("tr[data-source=\"second\"][data-running=\"false\"]:not([data-run=\"\"])").await;
    browser.client.execute("window.stillTheSamePage = true;", vec![]).await.unwrap();
    let schedule = browser.wait_for("tr[data-source=\"second\"] .schedule").await.text().await.unwrap();
    assert_eq!(schedule, "sync every 15m · permissions every 5m · full every 7d", "its schedule is shown");

    // "Remove", then "Cancel": nothing happens.
    browser.wait_for("tr[data-source=\"second\"] button.remove").await.click().await.unwrap();
    browser.wait_for("#remove-dialog[open]").await;
    let named = browser.wait_for("#remove-name").await.text().await.unwrap();
    assert_eq!(named, "second", "the confirmation names the source");
    assert_eq!(browser.accessibility_violations().await, json!([]), "the open dialog");
    browser.wait_for("#remove-cancel").await.click().await.unwrap();
    let open = browser.client.execute("return document.getElementById('remove-dialog').open;", vec![]).await;
    assert_eq!(open.unwrap(), json!(false));
    assert!(found_in(&demo.url, &reader, "second").await > 0, "cancelled: still searched");
    browser.wait_for("tr[data-source=\"second\"]").await;

    // "Remove", its data too, confirmed.
    browser.wait_for("tr[data-source=\"second\"] button.remove").await.click().await.unwrap();
    browser.wait_for("#remove-dialog[open] #remove-data").await.click().await.unwrap();
    browser.wait_for("#remove-confirm").await.click().await.unwrap();
    browser.wait_for("body[data-removals=\"1\"]").await;
    let shown = browser
        .client
        .execute(
            "return {error: document.getElementById('error').hidden ? null : document.getElementById('error').textContent,
                     notice: document.getElementById('notice').textContent,
                     rows: [...document.querySelectorAll('tr[data-source]')].map((r) => r.dataset.source)};",
            vec![],
        )
        .await
        .unwrap();
    assert_eq!(shown["error"], Value::Null, "{shown}");
    assert_eq!(shown["rows"], json!(["demo"]), "{shown}");
    let notice = shown["notice"].as_str().unwrap();
    assert!(notice.contains("second is removed from") && notice.contains("token file"), "{notice}");
    assert_eq!(found_in(&demo.url, &reader, "second").await, 0, "no longer searched");
    assert!(found_in(&demo.url, &reader, "demo").await > 0, "the demo's own source still is");
    let file = std::fs::read_to_string(data.path().join("permdex.toml")).unwrap();
    let parsed: toml::Value = toml::from_str(&file).unwrap();
    let names: Vec<&str> =
        parsed["sources"].as_array().unwrap().iter().map(|s| s["name"].as_str().unwrap()).collect();
    assert_eq!(names, ["demo"]);
    assert!(!token_file.exists(), "its token file is deleted with its data");
    let same = browser.client.execute("return window.stillTheSamePage === true;", vec![]).await.unwrap();
    assert_eq!(same, json!(true), "the page was not reloaded");

    browser.client.clone().close().await.unwrap();
    demo.shutdown().await;
    second.shutdown().await;
}

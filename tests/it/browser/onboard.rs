//! Adding a source from the integrations page in a real browser, against `permdex demo` and a second
//! simulated site: the admin types the second site and its token, sees the spaces and projects the token
//! can see, chooses some, and the source is written to the demo's configuration file (its comment kept,
//! the token in an owner-only file). The running server takes it at once: without a reload of the page or
//! a restart, the page lists it, shows its first sync running and then done, with what it indexed.
//! axe-core finds nothing serious, and at 390 px the form and its lists do not scroll sideways.

use std::time::Duration;

use fantoccini::Locator;
use permdex::sim::{FaultConfig, Scale, SimConfig};
use serde_json::json;

use super::{demo, Browser, Screen};
use crate::support;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_admin_adds_a_source_from_the_spaces_and_projects_its_token_sees() {
    let data = tempfile::tempdir().unwrap();
    let demo = demo(data.path()).await;
    let config_file = data.path().join("permdex.toml");
    let before = std::fs::read_to_string(&config_file).expect("the demo's configuration");
    let second_site = support::start_generated(SimConfig::new(2, Scale::Tiny)).await;
    let site = second_site.state.read().clone();
    let browser = Browser::start_sized(Screen::Phone { width: 390, height: 844 }).await;

    browser.client.goto(&format!("{}/integrations", demo.url)).await.unwrap();
    browser.wait_for("#admin-key").await.send_keys(&demo.admin_key).await.unwrap();
    browser.client.find(Locator::Css("#admin-form button")).await.unwrap().click().await.unwrap();
    browser.wait_for("#add:not([hidden])").await;
    for (field, value) in [
        ("#new-name", "second"),
        ("#new-url", second_site.url.as_str()),
        ("#new-email", second_site.credentials.email.as_str()),
        ("#new-token", second_site.credentials.token.as_str()),
    ] {
        browser.wait_for(field).await.send_keys(value).await.unwrap();
    }
    browser.client.find(Locator::Css("#discover")).await.unwrap().click().await.unwrap();
    browser.wait_for("body[data-discovered=\"1\"]").await;
    browser.wait_for("#discovered:not([hidden])").await;

    let offered = |fieldset: &'static str| {
        let script =
            format!("return [...document.querySelectorAll('#{fieldset} input')].map((e) => e.value).sort();");
        let client = browser.client.clone();
        async move { client.execute(&script, vec![]).await.unwrap() }
    };
    let mut spaces: Vec<String> = site.spaces.values().map(|s| s.key.clone()).collect();
    spaces.sort();
    assert_eq!(offered("space-choices").await, json!(spaces), "every space the token sees");
    let mut projects: Vec<String> =
        site.projects.values().filter(|p| !p.archived).map(|p| p.key.clone()).collect();
    projects.sort();
    assert_eq!(offered("project-choices").await, json!(projects));
    assert_eq!(browser.accessibility_violations().await, json!([]), "the form with the lists");
    let widths = browser.overflow().await;
    assert!(widths["scroll"].as_u64() <= widths["inner"].as_u64(), "the form scrolls sideways: {widths}");

    // A space and a project may share a key: each is ticked in its own list.
    for (fieldset, key) in
        [("space-choices", &spaces[0]), ("space-choices", &spaces[1]), ("project-choices", &projects[0])]
    {
        let check = format!("#{fieldset} input[value=\"{key}\"]");
        browser.wait_for(&check).await.click().await.unwrap();
    }
    let checked = browser
        .client
        .execute(
            "return [...document.querySelectorAll('#discovered .choices input:checked')].map((e) => e.value);",
            vec![],
        )
        .await
        .unwrap();
    assert_eq!(checked, json!([spaces[0], spaces[1], projects[0]]), "what was ticked");
    assert!(
        browser.wait_for("#new-start-sync").await.is_selected().await.unwrap(),
        "a first sync by default"
    );
    assert!(browser.client.find(Locator::Css("tr[data-source=\"second\"]")).await.is_err(), "not listed yet");
    // The page must not reload: what a script leaves on it stays.
    browser.client.execute("window.stillTheSamePage = true;", vec![]).await.unwrap();
    // The second site answers slowly from now on, so that its sync is seen running.
    second_site.state.guard.set_faults(FaultConfig {
        slow: 1.0,
        slow_delay: Duration::from_millis(30),
        ..FaultConfig::default()
    });
    browser.client.find(Locator::Css("#add-source")).await.unwrap().click().await.unwrap();
    browser.wait_for("body[data-added=\"1\"]").await;
    let result = browser.wait_for("#add-result").await.text().await.unwrap();
    assert!(
        result.contains("second is written to") && result.contains("a full sync has started"),
        "{result}"
    );
    let status = browser.wait_for("tr[data-source=\"second\"][data-running=\"true\"] .status").await;
    assert!(status.text().await.unwrap().starts_with("syncing"), "its first sync, as it runs");
    // Read in one go in the page (it redraws the table as it polls): while the first sync runs and
    // nothing is committed yet, nothing is wrong with the source's permissions.
    let running = browser
        .client
        .execute(
            "const row = document.querySelector('tr[data-source=\"second\"]'); \
             return row ? [row.dataset.running, row.querySelector('.freshness').textContent] : null;",
            vec![],
        )
        .await
        .unwrap();
    if running[0] == json!("true") {
        let freshness = running[1].as_str().unwrap_or_default();
        assert!(!freshness.starts_with("withheld"), "a first sync under way is not a fault: {freshness}");
    }
    let row =
        browser.wait_for("tr[data-source=\"second\"][data-running=\"false\"]:not([data-run=\"\"])").await;
    let status = row.find(Locator::Css(".status")).await.unwrap().text().await.unwrap();
    assert_eq!(status, "completed");
    let indexed: u64 =
        row.find(Locator::Css(".indexed")).await.unwrap().text().await.unwrap().parse().unwrap();
    assert!(indexed > 0, "what the first sync indexed, shown as it is served");
    let same = browser.client.execute("return window.stillTheSamePage === true;", vec![]).await.unwrap();
    assert_eq!(same, json!(true), "the page was not reloaded");
    let token_field =
        browser.client.execute("return document.getElementById('new-token').value;", vec![]).await;
    assert_eq!(token_field.unwrap(), json!(""), "the token leaves the page once it is kept");

    let after = std::fs::read_to_string(&config_file).expect("configuration");
    assert!(after.starts_with("# Written by permdex for its in-process simulator.\n"), "{after}");
    let parsed: toml::Value = toml::from_str(&after).expect("TOML");
    let second = &parsed["sources"].as_array().expect("sources")[1];
    assert_eq!(second["name"].as_str(), Some("second"));
    assert_eq!(
        second["include_spaces"],
        toml::Value::Array(vec![spaces[0].clone().into(), spaces[1].clone().into()])
    );
    assert_eq!(second["include_projects"], toml::Value::Array(vec![projects[0].clone().into()]));
    assert!(!after.contains(&second_site.credentials.token), "the configuration never holds the token");
    // Every line the demo wrote is still there, in its order (the new table comes between them).
    let mut wanted = before.lines().peekable();
    for line in after.lines() {
        if wanted.peek() == Some(&line) {
            wanted.next();
        }
    }
    assert_eq!(wanted.next(), None, "a line of the file was lost or moved:\n{after}");
    let token = std::fs::read_to_string(data.path().join("second.token")).expect("token file");
    assert_eq!(token.trim(), second_site.credentials.token);

    browser.client.clone().close().await.unwrap();
    demo.shutdown().await;
}

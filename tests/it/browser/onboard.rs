//! Adding a source from the integrations page in a real browser, against `permdex demo`: the admin types
//! the site and its token, sees the spaces and projects the token can see, chooses some, and the source
//! is written to the demo's configuration file (its comment kept, the token in an owner-only file). axe-core
//! finds nothing serious, and at 390 px the form and its lists do not scroll sideways.

use fantoccini::Locator;
use serde_json::json;

use super::{demo, Browser, Screen};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_admin_adds_a_source_from_the_spaces_and_projects_its_token_sees() {
    let data = tempfile::tempdir().unwrap();
    let demo = demo(data.path()).await;
    let config_file = data.path().join("permdex.toml");
    let before = std::fs::read_to_string(&config_file).expect("the demo's configuration");
    let site = demo.sim.state.read().clone();
    let browser = Browser::start_sized(Screen::Phone { width: 390, height: 844 }).await;

    browser.client.goto(&format!("{}/integrations", demo.url)).await.unwrap();
    browser.wait_for("#admin-key").await.send_keys(&demo.admin_key).await.unwrap();
    browser.client.find(Locator::Css("#admin-form button")).await.unwrap().click().await.unwrap();
    browser.wait_for("#add:not([hidden])").await;
    for (field, value) in [
        ("#new-name", "second"),
        ("#new-url", demo.sim.url.as_str()),
        ("#new-email", demo.sim.credentials.email.as_str()),
        ("#new-token", demo.sim.credentials.token.as_str()),
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
            "return [...document.querySelectorAll('#discovered input:checked')].map((e) => e.value);",
            vec![],
        )
        .await
        .unwrap();
    assert_eq!(checked, json!([spaces[0], spaces[1], projects[0]]), "what was ticked");
    browser.client.find(Locator::Css("#add-source")).await.unwrap().click().await.unwrap();
    browser.wait_for("body[data-added=\"1\"]").await;
    let result = browser.wait_for("#add-result").await.text().await.unwrap();
    assert!(result.contains("restart it to sync and search second"), "{result}");
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
    assert!(!after.contains(&demo.sim.credentials.token), "the configuration never holds the token");
    // Every line the demo wrote is still there, in its order (the new table comes between them).
    let mut wanted = before.lines().peekable();
    for line in after.lines() {
        if wanted.peek() == Some(&line) {
            wanted.next();
        }
    }
    assert_eq!(wanted.next(), None, "a line of the file was lost or moved:\n{after}");
    let token = std::fs::read_to_string(data.path().join("second.token")).expect("token file");
    assert_eq!(token.trim(), demo.sim.credentials.token);

    browser.client.clone().close().await.unwrap();
    demo.shutdown().await;
}

//! Changing a source's sync schedule from the integrations page in a real browser, against `permdex demo`:
//! "Schedule" opens a dialog with the source's intervals; "Cancel" changes nothing; saving a new interval
//! writes it into the configuration file, and the page and the admin API show it at once, without a reload.

use serde_json::{json, Value};

use super::{demo, Browser};

/// The `demo` source's schedule as the admin API lists it.
async fn listed_schedule(base: &str, admin_key: &str) -> Value {
    let listed = crate::support::admin_sources(base, admin_key).await;
    let demo = listed.as_array().unwrap().iter().find(|s| s["name"] == "demo").cloned();
    demo.unwrap_or_else(|| panic!("the demo source: {listed}"))["schedule"].clone()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_admin_changes_a_sources_schedule_from_the_page() {
    let data = tempfile::tempdir().unwrap();
    let demo = demo(data.path()).await;
    let config = data.path().join("permdex.toml");
    let before_file = std::fs::read_to_string(&config).unwrap();
    let before = listed_schedule(&demo.url, &demo.admin_key).await;
    assert_ne!(before["interval"], json!("2h"), "{before}");

    let browser = Browser::start().await;
    browser.client.goto(&format!("{}/integrations", demo.url)).await.unwrap();
    browser.wait_for("#admin-key").await.send_keys(&demo.admin_key).await.unwrap();
    browser.client.find(fantoccini::Locator::Css("#admin-form button")).await.unwrap().click().await.unwrap();
    browser.wait_for("tr[data-source=\"demo\"][data-running=\"false\"]").await;
    browser.client.execute("window.stillTheSamePage = true;", vec![]).await.unwrap();

    // "Schedule", then "Cancel": nothing is written.
    browser.wait_for("tr[data-source=\"demo\"] button.reschedule").await.click().await.unwrap();
    browser.wait_for("#schedule-dialog[open]").await;
    let shown = browser.wait_for("#schedule-interval").await.prop("value").await.unwrap();
    assert_eq!(shown.as_deref(), before["interval"].as_str(), "the dialog shows the current interval");
    assert_eq!(browser.accessibility_violations().await, json!([]), "the open dialog");
    browser.wait_for("#schedule-cancel").await.click().await.unwrap();
    assert_eq!(std::fs::read_to_string(&config).unwrap(), before_file, "cancelled: the file is unchanged");

    // "Schedule", a new incremental interval, saved.
    browser.wait_for("tr[data-source=\"demo\"] button.reschedule").await.click().await.unwrap();
    let interval = browser.wait_for("#schedule-dialog[open] #schedule-interval").await;
    interval.clear().await.unwrap();
    interval.send_keys("2h").await.unwrap();
    browser.wait_for("#schedule-save").await.click().await.unwrap();
    browser.wait_for("body[data-reschedules=\"1\"]").await;
    let page = browser
        .client
        .execute(
            "return {error: document.getElementById('error').hidden ? null : document.getElementById('error').textContent,
                     notice: document.getElementById('notice').textContent,
                     schedule: document.querySelector('tr[data-source=\"demo\"] .schedule').textContent};",
            vec![],
        )
        .await
        .unwrap();
    assert_eq!(page["error"], Value::Null, "{page}");
    assert!(page["notice"].as_str().unwrap().contains("2h"), "{page}");
    assert!(page["schedule"].as_str().unwrap().starts_with("sync every 2h"), "{page}");

    let after = listed_schedule(&demo.url, &demo.admin_key).await;
    assert_eq!(after["interval"], json!("2h"), "{after}");
    assert_eq!(after["permissions_interval"], before["permissions_interval"], "only what was changed");
    assert_eq!(after["full_interval"], before["full_interval"], "only what was changed");
    let file: toml::Value = toml::from_str(&std::fs::read_to_string(&config).unwrap()).unwrap();
    let source =
        file["sources"].as_array().unwrap().iter().find(|s| s["name"].as_str() == Some("demo")).unwrap();
    assert_eq!(source["interval"].as_str(), Some("2h"), "{source}");
    let same = browser.client.execute("return window.stillTheSamePage === true;", vec![]).await.unwrap();
    assert_eq!(same, json!(true), "the page was not reloaded");

    browser.client.clone().close().await.unwrap();
    demo.shutdown().await;
}

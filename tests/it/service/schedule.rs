//! `permdex serve` syncs by itself on the configured schedule, over loopback against the simulator: the
//! first run at once, the next after `interval`; a revocation on the site reaches the answers with no
//! other process involved; freshness shows in `/readyz`, `/metrics` and the admin API (the integrations
//! page's source). The plan itself (intervals, jitter, precedence) is tested on a paused clock in
//! `src/server/schedule.rs`.

use std::time::Duration;

use permdex::server::backend::ServeOptions;
use permdex::sim::mutate::Mutation;
use permdex::sim::{Scale, SimConfig};
use serde_json::Value;

use super::{browse, eventually, Deployment, ADMIN_KEY};
use crate::support;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn serve_syncs_on_its_schedule_and_shows_freshness() {
    let schedule = "interval = \"1s\"\npermissions_interval = \"off\"\nfull_interval = \"off\"";
    let d = Deployment::new(support::start_generated(SimConfig::new(5, Scale::Tiny)).await, schedule).await;
    let options = ServeOptions {
        poll_interval: Duration::from_millis(50),
        sync: support::quick_sync_options(),
        scheduled: true,
    };
    let base = d.serve(options).await;
    let http = reqwest::Client::new();
    let sources = || async {
        let response =
            http.get(format!("{base}/api/v1/admin/sources")).bearer_auth(ADMIN_KEY).send().await.ok()?;
        response.json::<Value>().await.ok()
    };
    // Nobody starts a sync: the schedule runs one at once, then another a second later.
    let two_runs = eventually(1500, || async {
        let listed = sources().await?;
        let runs = listed[0]["last_runs"].as_array()?;
        (runs.len() >= 2).then_some(listed)
    })
    .await
    .expect("two scheduled runs");
    let runs = two_runs[0]["last_runs"].as_array().expect("runs");
    // The first scheduled incremental run finds no index, so it syncs in full; the next is incremental.
    assert_eq!(runs[0]["mode"], "full", "{two_runs:#}");
    assert_eq!(runs[1]["mode"], "incremental", "{two_runs:#}");
    let served = &two_runs[0]["served"];
    assert!(served["indexed"]["total"].as_u64() > Some(0), "the admin API shows what is held: {two_runs:#}");
    assert!(served["permissions_refreshed"].is_string(), "{two_runs:#}");

    let ready: Value =
        http.get(format!("{base}/readyz")).send().await.expect("readyz").json().await.expect("json");
    assert_eq!(ready["status"], "ready");
    assert_eq!(ready["sources"][0]["name"], "sim");
    assert!(ready["sources"][0]["permissions_refreshed"].is_string(), "{ready:#}");
    let metrics =
        http.get(format!("{base}/metrics")).send().await.expect("metrics").text().await.expect("text");
    assert!(metrics.contains("permdex_source_permissions_age_seconds{source=\"sim\"}"), "{metrics}");
    assert!(metrics.contains("permdex_source_withheld{source=\"sim\"} 0"), "{metrics}");

    // A deactivation on the site reaches the answers through the schedule alone.
    let active: Vec<String> = {
        let site = d.sim.state.read();
        site.users.iter().filter(|u| u.active).map(|u| u.account_id.clone()).collect()
    };
    // From the end: the first account is the site admin, whom the site does not let be deactivated.
    let account = active.into_iter().rev().find(|a| !d.oracle(a).is_empty()).expect("a reader");
    let token = d.token_for(&account);
    assert!(!browse(&http, &base, &token).await.is_empty());
    support::post_mutations(&http, &d.sim, &[Mutation::DeactivateUser { account_id: account.clone() }]).await;
    let refused = eventually(1500, || async {
        let status =
            http.get(format!("{base}/api/v1/search?q=")).bearer_auth(&token).send().await.ok()?.status();
        (status.as_u16() == 401).then_some(())
    })
    .await;
    assert!(refused.is_some(), "a scheduled run picked up the deactivation");
}

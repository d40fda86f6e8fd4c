//! A running server follows commits made by another process: a cron-style `permdex sync` (the built
//! binary) after revocations on the site must reach the server's answers, with no leak left once it has.

use std::collections::BTreeMap;
use std::time::Duration;

use permdex::server::backend::ServeOptions;
use permdex::sim::model::AccessRule;
use permdex::sim::mutate::Mutation;
use permdex::sim::{Scale, SimConfig};

use super::{browse, eventually, Deployment};
use crate::support;

/// Schedules off: every sync in these tests is made by another process.
pub const NO_SCHEDULE: &str = "interval = \"off\"\npermissions_interval = \"off\"\nfull_interval = \"off\"";

/// Every account's served results against the oracle: (account, leaked ids, missed ids) for each
/// account that differs.
async fn mismatches(d: &Deployment, http: &reqwest::Client, base: &str) -> Vec<(String, usize, usize)> {
    let mut wrong = Vec::new();
    for account in d.accounts() {
        let served = browse(http, base, &d.token_for(&account)).await;
        let allowed = d.oracle(&account);
        let leaks = served.difference(&allowed).count();
        let misses = allowed.difference(&served).count();
        if leaks + misses > 0 {
            wrong.push((account, leaks, misses));
        }
    }
    wrong
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cron_sync_after_revocations_reaches_the_running_server_with_no_leak() {
    let d =
        Deployment::new(support::start_generated(SimConfig::new(17, Scale::Tiny)).await, NO_SCHEDULE).await;
    let options = ServeOptions {
        poll_interval: Duration::from_millis(50),
        sync: support::quick_sync_options(),
        ..ServeOptions::default()
    };
    let base = d.serve(options).await;
    let http = reqwest::Client::new();
    let ready =
        || async { http.get(format!("{base}/readyz")).send().await.ok().map(|r| r.status().as_u16()) };
    assert_eq!(ready().await, Some(503), "nothing synced yet");

    // The first sync, from another process, into a data directory the server already serves: the server
    // opens the index when it appears. (The site's corrupt PDF makes the run exit 1.)
    let (code, _, stderr) = d.permdex(&["sync", "--full", "--checkpoint-interval", "0"]).await;
    assert!(matches!(code, Some(0 | 1)), "{stderr}");
    let opened = eventually(500, || async { (ready().await == Some(200)).then_some(()) }).await;
    assert!(opened.is_some(), "the server opened the index another process created");
    assert_eq!(mismatches(&d, &http, &base).await, vec![], "served as the oracle allows");

    // Revocations on the site: the account that reads the most is deactivated, and every group loses a
    // member (but the access groups of a site that does not enforce product access, which hold every
    // account). None of them changes a document's version: only a permission refresh sees them.
    let active: Vec<String> = {
        let site = d.sim.state.read();
        site.users.iter().filter(|u| u.active).map(|u| u.account_id.clone()).collect()
    };
    let reads: BTreeMap<usize, String> = active.iter().map(|a| (d.oracle(a).len(), a.clone())).collect();
    let (&read_before, deactivated) = reads.iter().next_back().expect("an active account");
    assert!(read_before > 0);
    let token = d.token_for(deactivated);
    assert_eq!(browse(&http, &base, &token).await.len(), read_before);
    let mut mutations = vec![Mutation::DeactivateUser { account_id: deactivated.clone() }];
    {
        let site = d.sim.state.read();
        let access = &site.product_access;
        let holds_everyone = |group: &str| {
            access.rule == AccessRule::Everyone
                && (access.jira.values().any(|app| app.groups.contains(group))
                    || access.confluence_users.contains(group)
                    || access.confluence_guests.contains(group))
        };
        for group in site.groups.iter().filter(|g| !holds_everyone(&g.id)) {
            if let Some(member) = group.members.iter().find(|m| *m != deactivated) {
                mutations.push(Mutation::RemoveGroupMember {
                    group_id: group.id.clone(),
                    account_id: member.clone(),
                });
            }
        }
    }
    assert!(mutations.len() > 1, "the site has groups with members");
    support::post_mutations(&http, &d.sim, &mutations).await;
    let changed: Vec<String> = mismatches(&d, &http, &base).await.into_iter().map(|(a, _, _)| a).collect();
    assert!(changed.contains(deactivated), "before the sync, the server still answers from the old commit");

    // A cron-style permissions refresh in another process; the server is told nothing.
    let (code, _, stderr) = d.permdex(&["sync", "--permissions-only"]).await;
    assert_eq!(code, Some(0), "{stderr}");
    let picked_up = eventually(500, || async {
        let status = http
            .get(format!("{base}/api/v1/search?q="))
            .bearer_auth(&token)
            .send()
            .await
            .ok()?
            .status()
            .as_u16();
        (status == 401).then_some(())
    })
    .await;
    assert!(picked_up.is_some(), "the deactivated account is refused once the server picked up the commit");
    assert_eq!(mismatches(&d, &http, &base).await, vec![], "no leak and no miss after the refresh");
}

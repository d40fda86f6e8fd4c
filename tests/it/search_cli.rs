//! `permdex search --as ACCOUNT` end to end: a simulated site synced into an index, then the built binary
//! browsing everything each account may read must list exactly what the simulator's oracle allows.

use std::collections::BTreeSet;
use std::process::Command;

use permdex::sim::{Scale, SimConfig};
use permdex::sync::{Mode, Silent, SyncOptions};

use crate::support;

const TOKEN_ENV: &str = "PERMDEX_SEARCH_CLI_TOKEN";

/// The binary, with the source's token in its environment as the configuration names it.
fn permdex(token: &str) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_permdex"));
    command.env(TOKEN_ENV, token);
    command
}

/// Every id `account` finds by browsing with the CLI, page by page.
fn browse(config: &std::path::Path, token: &str, account: &str) -> BTreeSet<String> {
    let mut ids = BTreeSet::new();
    let mut offset = 0;
    loop {
        let output = permdex(token)
            .args(["search", "", "--as", account, "--json", "--limit", "100", "--offset"])
            .arg(offset.to_string())
            .arg("--config")
            .arg(config)
            .output()
            .expect("permdex runs");
        assert!(output.status.success(), "search as {account}: {}", String::from_utf8_lossy(&output.stderr));
        let body: serde_json::Value = serde_json::from_slice(&output.stdout).expect("json output");
        let hits = body["hits"].as_array().expect("hits");
        for hit in hits {
            ids.insert(hit["id"].as_str().expect("id").to_string());
        }
        offset += hits.len();
        if hits.is_empty() || offset as u64 >= body["total"].as_u64().expect("total") {
            assert_eq!(
                ids.len() as u64,
                body["total"].as_u64().expect("total"),
                "total counts what is listed"
            );
            return ids;
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn search_as_each_account_lists_exactly_what_the_oracle_allows() {
    let sim = support::start_generated(SimConfig::new(3, Scale::Tiny)).await;
    let data = tempfile::tempdir().expect("tempdir");
    let config_path = support::write_sim_config(&sim, data.path(), TOKEN_ENV, "");
    let config = support::load_sim_config(&sim, data.path(), TOKEN_ENV, "");
    let options = SyncOptions { extract: support::extract_config(), ..SyncOptions::default() };
    support::sync_first_source(&config, Mode::Full, &options, &mut Silent).await;

    let users: Vec<(String, bool)> = {
        let site = sim.state.read();
        site.users.iter().map(|u| (u.account_id.clone(), u.active)).collect()
    };
    let mut checked = 0;
    for (account, active) in users.iter().filter(|(_, active)| *active).take(6) {
        let expected: BTreeSet<String> = {
            let site = sim.state.read();
            permdex::sim::oracle::visible(&site, account, permdex::sim::oracle::Scope::default())
                .into_iter()
                .map(|d| d.0)
                .collect()
        };
        let config_path = config_path.clone();
        let (account_owned, token) = (account.clone(), sim.credentials.token.clone());
        let found = tokio::task::spawn_blocking(move || browse(&config_path, &token, &account_owned))
            .await
            .expect("join");
        let leaks: Vec<_> = found.difference(&expected).collect();
        let misses: Vec<_> = expected.difference(&found).collect();
        assert!(
            leaks.is_empty() && misses.is_empty(),
            "{account} (active {active}): leaks {leaks:?}, misses {misses:?}"
        );
        checked += 1;
    }
    assert!(checked >= 3, "enough accounts were checked");

    // `permdex eval run`: topics through the same path, as a TREC run of only what the account may read.
    let (account, title) = {
        let site = sim.state.read();
        let account =
            users.iter().find(|(_, active)| *active).map(|(id, _)| id.clone()).expect("an active user");
        let visible = permdex::sim::oracle::visible(&site, &account, permdex::sim::oracle::Scope::default());
        let title = visible
            .iter()
            .find_map(|d| {
                let id: u64 = d.0.strip_prefix("confluence:page:")?.parse().ok()?;
                Some(site.contents.get(&id)?.title.clone())
            })
            .expect("a readable page");
        (account, title)
    };
    let topics = data.path().join("topics.tsv");
    std::fs::write(&topics, format!("1\t{title}\n2\thow do I find the {title}?\n3\tzzqxjvw\n")).unwrap();
    let run = permdex(&sim.credentials.token)
        .args(["eval", "run", "--depth", "25", "--as", &account, "--topics"])
        .arg(&topics)
        .arg("--config")
        .arg(&config_path)
        .output()
        .expect("runs");
    assert!(run.status.success(), "{}", String::from_utf8_lossy(&run.stderr));
    let run = permdex::eval::Run::parse(&String::from_utf8(run.stdout).unwrap()).expect("a TREC run");
    let readable: BTreeSet<String> = {
        let site = sim.state.read();
        permdex::sim::oracle::visible(&site, &account, permdex::sim::oracle::Scope::default())
            .into_iter()
            .map(|d| d.0)
            .collect()
    };
    for topic in ["1", "2"] {
        let docs = &run.by_query[topic];
        assert!(!docs.is_empty() && docs.len() <= 25, "topic {topic}: {} hits", docs.len());
        assert!(
            docs.iter().all(|d| readable.contains(&d.docno)),
            "topic {topic} lists only readable documents"
        );
        assert!(docs.windows(2).all(|w| w[0].score >= w[1].score), "ranked by score");
    }
    assert!(run.by_query.get("3").is_none_or(|d| d.is_empty()));

    let inactive = users.iter().find(|(_, active)| !active).map(|(id, _)| id.clone());
    let token = sim.credentials.token.clone();
    let too_many: Vec<String> = (0..=permdex::search::query::MAX_TERMS).map(|i| format!("w{i}")).collect();
    let bad_query = permdex(&token)
        .args(["search", &too_many.join(" "), "--as", &users[0].0, "--config"])
        .arg(&config_path)
        .output()
        .expect("runs");
    assert_eq!(bad_query.status.code(), Some(2), "a bad query is a usage error");
    assert!(String::from_utf8_lossy(&bad_query.stderr).contains("bad query"));
    for stranger in ["no-such-account"].into_iter().map(str::to_string).chain(inactive) {
        let output = permdex(&token)
            .args(["search", "", "--as", &stranger, "--config"])
            .arg(&config_path)
            .output()
            .expect("runs");
        assert_eq!(output.status.code(), Some(2), "{stranger} may not search");
        assert!(output.stdout.is_empty(), "{stranger} sees nothing");
    }
    sim.shutdown().await;
}

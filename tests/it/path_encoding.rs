//! Ids that need care in URLs, against the simulator over loopback: group ids with `-`, `.`, `_`, `~`,
//! spaces, non-ASCII and URL delimiters reach the site as RFC 3986 path segments (unreserved characters
//! left alone, everything else percent-encoded), and each group's members come back.

use std::collections::BTreeSet;
use std::time::Duration;

use permdex::atlassian::confluence::Confluence;
use permdex::atlassian::jira::Jira;
use permdex::atlassian::Client;
use permdex::sim::model::Group;
use permdex::sim::{fixture, Scale, SimConfig};

use crate::support;

const AWKWARD_IDS: [&str; 5] = ["grp-1.x_y~z", "two words", "ümlaut-gruppe", "a/b?c#d%e", "~557058:abc"];

#[tokio::test]
async fn awkward_group_ids_reach_the_site_unmangled() {
    let mut site = fixture::tiny_site();
    for (n, id) in AWKWARD_IDS.iter().enumerate() {
        let members: BTreeSet<String> =
            ["alice", "carol"].iter().take(1 + n % 2).map(|s| s.to_string()).collect();
        site.groups.push(Group { id: id.to_string(), name: format!("awkward {n}"), members });
    }
    site.reindex();
    let sim = support::start_site(site, SimConfig::new(1, Scale::Tiny)).await;
    let mut config = support::client_config(&sim);
    config.backoff_base = Duration::from_millis(5);

    let confluence = Confluence::new(Client::new(config.clone()).expect("client"));
    let jira = Jira::new(Client::new(config).expect("client"));
    let from_confluence = confluence.groups().await.expect("confluence groups");
    let from_jira = jira.directory().await.expect("jira directory").groups;

    let expected = sim.state.read().groups.clone();
    for group in &expected {
        let want: &BTreeSet<String> = &group.members;
        assert_eq!(
            from_confluence.get(&group.id).map(|g| &g.members),
            Some(want),
            "confluence {:?}",
            group.id
        );
        assert_eq!(from_jira.get(&group.id).map(|g| &g.members), Some(want), "jira {:?}", group.id);
    }
    let stats = sim.state.guard.stats();
    assert!(stats.requests > 0);
    assert_eq!(stats.over_encoded_paths, 0, "an unreserved character was percent-encoded");
}

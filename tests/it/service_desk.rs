//! Jira Service Management end to end over loopback: a site with a service desk (portal-only customers,
//! organisations, requests with participants and sharing, internal notes) synced by full, incremental
//! and permissions-only runs must show every account exactly what the oracle says, and the portal's rules
//! hold for the people they are about: a customer reads their own request and its public replies but no
//! internal note, a participant and a member of an organisation it is shared with read it, a member of an
//! organisation that is not on the desk does not, and leaving the organisation revokes at the next
//! permission refresh.

use std::collections::BTreeSet;

use permdex::sim::model::{AccountType, Site};
use permdex::sim::mutate::Mutation;
use permdex::sim::{Scale, SimConfig, SiteFeatures};
use permdex::sync::{Mode, RunOutcome};
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

use crate::support;
use crate::sync::{harness_with, random_mutations, Harness};

const FEATURES: SiteFeatures = SiteFeatures { service_management: true, ..SiteFeatures::NONE };

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_service_desk_site_matches_the_oracle_across_syncs_and_changes() {
    for seed in [3_u64, 4] {
        let h = harness_with(SimConfig::new(seed, Scale::Tiny), FEATURES).await;
        let record = h.sync(Mode::Full).await;
        assert_eq!(record.outcome, RunOutcome::Completed, "seed {seed}: {:?}", record.failures);
        // The site's broken files are recorded; nothing of Jira is.
        let jira_failures: Vec<_> = record.failures.iter().filter(|f| f.item.starts_with("jira")).collect();
        assert!(jira_failures.is_empty(), "seed {seed}: {jira_failures:?}");
        h.assert_matches_oracle(&format!("seed {seed} full")).await;
        h.assert_complete(&format!("seed {seed} full"));
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        for round in 0..2 {
            let mutations = random_mutations(&h.site(), &mut rng, 10, |_| true);
            h.mutate(&mutations).await;
            let record = h.sync(Mode::Incremental).await;
            assert_eq!(record.outcome, RunOutcome::Completed, "seed {seed} round {round}");
            let context = format!("seed {seed} round {round} incremental after {mutations:?}");
            h.assert_matches_oracle(&context).await;
            h.assert_complete(&context);
            let mutations = random_mutations(&h.site(), &mut rng, 10, support::permission_only);
            h.mutate(&mutations).await;
            let record = h.sync(Mode::PermissionsOnly).await;
            assert_eq!(
                record.total().added + record.total().updated,
                0,
                "no bodies in a permissions-only run"
            );
            h.assert_matches_oracle(&format!(
                "seed {seed} round {round} permissions only after {mutations:?}"
            ))
            .await;
        }
    }
}

/// A request the portal shows (it has a request type), without a security level, with a public reply and
/// an internal note.
fn conversation_request(site: &Site) -> Option<(u64, Vec<u64>, Vec<u64>)> {
    site.requests.iter().filter(|(_, r)| r.request_type.is_some()).find_map(|(id, _)| {
        let issue = site.issues.get(id)?;
        if issue.security_level_id.is_some() || issue.archived {
            return None;
        }
        let comments = site.issue_comments.values().filter(|c| c.issue_id == *id);
        let (internal, public): (Vec<_>, Vec<_>) = comments.partition(|c| c.internal);
        let ids =
            |list: Vec<&permdex::sim::model::IssueComment>| list.iter().map(|c| c.id).collect::<Vec<_>>();
        (!internal.is_empty() && !public.is_empty()).then(|| (*id, ids(public), ids(internal)))
    })
}

fn visible(h: &Harness, account: &str) -> BTreeSet<String> {
    h.index().visible_ids(account).expect("visible ids").into_iter().collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn customers_read_their_requests_and_public_replies_and_lose_them_with_their_organisation() {
    let (h, request, public, internal) = {
        let mut found = None;
        for seed in 1_u64..20 {
            let h = harness_with(SimConfig::new(seed, Scale::Tiny), FEATURES).await;
            if let Some((id, public, internal)) = conversation_request(&h.site()) {
                found = Some((h, id, public, internal));
                break;
            }
        }
        found.expect("some seed has a request with a public reply and an internal note")
    };
    let site = h.site();
    let customers: Vec<String> = site
        .users
        .iter()
        .filter(|u| u.account_type == AccountType::Customer && u.active)
        .map(|u| u.account_id.clone())
        .collect();
    assert!(customers.len() >= 4, "{} customers", customers.len());
    let desk = site.service_desks.values().next().expect("a service desk");
    let on_desk = *desk.organisations.iter().next().expect("an organisation on the desk");
    let off_desk = *site
        .organisations
        .keys()
        .find(|o| !desk.organisations.contains(o))
        .expect("an organisation off the desk");
    let (reporter, participant, member, outsider) =
        (&customers[0], &customers[1], &customers[2], &customers[3]);
    // The request is set up afresh: these four customers' parts in it, and nobody else's.
    let mut setup = vec![Mutation::SetReporter { id: request, account_id: Some(reporter.clone()) }];
    for p in &site.requests[&request].participants {
        setup.push(Mutation::SetRequestParticipant {
            issue_id: request,
            account_id: p.clone(),
            participant: false,
        });
    }
    for o in &site.requests[&request].organisations {
        setup.push(Mutation::ShareRequest { issue_id: request, organisation_id: *o, shared: false });
    }
    let memberships =
        [(None, reporter), (None, participant), (Some(on_desk), member), (Some(off_desk), outsider)];
    for (org, account) in memberships {
        for other in site.organisations.keys().filter(|o| Some(**o) != org) {
            setup.push(Mutation::SetOrganisationMember {
                organisation_id: *other,
                account_id: account.clone(),
                member: false,
            });
        }
        if let Some(org) = org {
            setup.push(Mutation::SetOrganisationMember {
                organisation_id: org,
                account_id: account.clone(),
                member: true,
            });
        }
    }
    setup.extend([
        Mutation::SetRequestParticipant {
            issue_id: request,
            account_id: participant.clone(),
            participant: true,
        },
        Mutation::ShareRequest { issue_id: request, organisation_id: on_desk, shared: true },
        Mutation::ShareRequest { issue_id: request, organisation_id: off_desk, shared: true },
    ]);
    h.mutate(&setup).await;
    let record = h.sync(Mode::Full).await;
    assert_eq!(record.outcome, RunOutcome::Completed, "{:?}", record.failures);
    h.assert_matches_oracle("after the set-up").await;

    let issue = format!("jira:issue:{request}");
    let public: Vec<String> = public.iter().map(|c| format!("jira:comment:{c}")).collect();
    let internal: Vec<String> = internal.iter().map(|c| format!("jira:comment:{c}")).collect();
    for (who, account) in
        [("reporter", reporter), ("participant", participant), ("organisation member", member)]
    {
        let sees = visible(&h, account);
        assert!(sees.contains(&issue), "the {who} reads the request");
        assert!(public.iter().all(|c| sees.contains(c)), "the {who} reads the public replies");
        assert!(internal.iter().all(|c| !sees.contains(c)), "the {who} reads no internal note");
    }
    let outsider_sees = visible(&h, outsider);
    assert!(!outsider_sees.contains(&issue), "a member of an organisation off the desk does not read it");
    assert!(public.iter().chain(&internal).all(|c| !outsider_sees.contains(c)));
    // An agent reads the internal notes.
    let agent = site.projects.values().find(|p| p.key == "DESK").map(|p| p.lead.clone()).expect("the desk");
    let agent_sees = visible(&h, &agent);
    assert!(internal.iter().all(|c| agent_sees.contains(c)), "the desk's lead reads internal notes");

    // Leaving the organisation touches no issue: the permission refresh revokes.
    h.mutate(&[Mutation::SetOrganisationMember {
        organisation_id: on_desk,
        account_id: member.clone(),
        member: false,
    }])
    .await;
    let record = h.sync(Mode::PermissionsOnly).await;
    assert_eq!(record.outcome, RunOutcome::Completed, "{:?}", record.failures);
    assert!(!visible(&h, member).contains(&issue), "a former member no longer reads the request");
    assert!(visible(&h, reporter).contains(&issue), "the reporter still does");
    // A participant removed: the request's `updated` moves, and so does an incremental run.
    h.mutate(&[Mutation::SetRequestParticipant {
        issue_id: request,
        account_id: participant.clone(),
        participant: false,
    }])
    .await;
    h.sync(Mode::Incremental).await;
    assert!(!visible(&h, participant).contains(&issue), "a former participant no longer reads the request");
    h.assert_matches_oracle("after leaving").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_no_change_run_reads_the_service_desk_in_a_few_calls() {
    let h = harness_with(SimConfig::new(6, Scale::Small), FEATURES).await;
    let guard = &h.sim.state.guard;
    let full = h.sync(Mode::Full).await;
    let before = guard.requests_by_route();
    let incremental = h.sync(Mode::Incremental).await;
    assert_eq!(incremental.outcome, RunOutcome::Completed);
    h.assert_matches_oracle("no-change incremental").await;
    let after = guard.requests_by_route();
    let calls =
        |route: &str| after.get(route).copied().unwrap_or(0) - before.get(route).copied().unwrap_or(0);
    let site = h.site();
    let desk_orgs: usize = site.service_desks.values().map(|d| d.organisations.len()).sum();
    // One page each: the field list, the desks, each desk's organisations, each organisation's members.
    let expected = [
        ("GET /rest/api/3/field", 1),
        ("GET /rest/servicedeskapi/servicedesk", 1),
        ("GET /rest/servicedeskapi/servicedesk/{id}/organization", site.service_desks.len()),
        ("GET /rest/servicedeskapi/organization/{id}/user", desk_orgs),
    ];
    for (route, n) in expected {
        assert_eq!(calls(route), n as u64, "{route}");
    }
    let added: u64 = expected.iter().map(|(r, _)| calls(r)).sum();
    eprintln!(
        "no-change incremental with a service desk (Small): {} calls = {:.2}% of the full sync's {}; the \
         service desk's part: {added}",
        incremental.api.calls,
        100.0 * incremental.api.calls as f64 / full.api.calls as f64,
        full.api.calls
    );
}

/// Every account reads at most what the oracle allows; returns how many (account, document) pairs the
/// index withholds that the oracle allows.
async fn narrowed_only(h: &Harness, context: &str) -> usize {
    let index = h.index();
    let mut narrowed = 0;
    for user in h.site().users {
        let want: BTreeSet<String> = h.oracle(&user.account_id).await.into_iter().collect();
        let got: BTreeSet<String> =
            index.visible_ids(&user.account_id).expect("visible").into_iter().collect();
        let leaks: Vec<&String> = got.difference(&want).collect();
        assert!(leaks.is_empty(), "{context}: {} leaks {leaks:?}", user.account_id);
        narrowed += want.difference(&got).count();
    }
    narrowed
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unreadable_organisation_or_desk_leaves_requests_to_their_agents() {
    let h = harness_with(SimConfig::new(3, Scale::Tiny), FEATURES).await;
    let site = h.site();
    // An organisation on the desk that some readable request is shared with.
    let desk = site.service_desks.values().next().expect("a service desk");
    let org = desk
        .organisations
        .iter()
        .copied()
        .find(|o| site.requests.values().any(|r| r.request_type.is_some() && r.organisations.contains(o)))
        .expect("a request shared with an organisation on the desk");
    let members = format!("/rest/servicedeskapi/organization/{org}/user");
    let broken: permdex::sim::BrokenTarget =
        std::sync::Arc::new(move |p: &str, _: &[(String, String)]| p == members);
    h.sim.state.guard.set_broken(Some(broken));
    let record = h.sync(Mode::Full).await;
    assert!(
        record.failures.iter().any(|f| f.item == format!("organization {org}")),
        "the unreadable organisation is recorded: {:?}",
        record.failures
    );
    assert!(narrowed_only(&h, "organisation unreadable").await > 0, "its requests lost their customers");

    // The whole desk unreadable: every request is its agents' alone.
    let broken: permdex::sim::BrokenTarget =
        std::sync::Arc::new(|p: &str, _: &[(String, String)]| p == "/rest/servicedeskapi/servicedesk");
    h.sim.state.guard.set_broken(Some(broken));
    let record = h.sync(Mode::PermissionsOnly).await;
    assert!(record.failures.iter().any(|f| f.item == "service desks"), "{:?}", record.failures);
    narrowed_only(&h, "desk unreadable").await;
    let customers: Vec<String> = site
        .users
        .iter()
        .filter(|u| u.account_type == AccountType::Customer)
        .map(|u| u.account_id.clone())
        .collect();
    let index = h.index();
    for customer in &customers {
        let sees = index.visible_ids(customer).expect("visible");
        assert!(
            sees.iter().all(|d| !d.starts_with("jira:") || !site_request_doc(&site, d)),
            "{customer} reads a request without the desk: {sees:?}"
        );
    }

    // Readable again: exact.
    h.sim.state.guard.set_broken(None);
    h.sync(Mode::PermissionsOnly).await;
    h.assert_matches_oracle("readable again").await;
}

/// Whether `doc` is a request of the service desk or one of its comments.
fn site_request_doc(site: &Site, doc: &str) -> bool {
    let id = |prefix: &str| doc.strip_prefix(prefix).and_then(|id| id.parse::<u64>().ok());
    let issue = id("jira:issue:")
        .or_else(|| id("jira:comment:").and_then(|c| site.issue_comments.get(&c).map(|c| c.issue_id)));
    issue.is_some_and(|i| site.requests.contains_key(&i))
}

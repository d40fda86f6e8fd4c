//! The simulator's optional site features (`SiteFeatures`) and the crawler calls that read them, over
//! loopback: product access (Jira applications and their access groups, accounts without a product,
//! guests, application-role grants, the admin-only `applicationrole` calls and a token without admin
//! rights), checked against the model, the oracle and Atlassian's OpenAPI specs.

use std::collections::BTreeSet;
use std::path::PathBuf;
use std::time::Duration;

use permdex::atlassian::jira::Jira;
use permdex::atlassian::{Client, ClientConfig, Error};
use permdex::config::{Email, Secret, Url};
use permdex::sim::http::Credentials;
use permdex::sim::model::{AccessRule, Holder, Site};
use permdex::sim::oracle::{can_view, Scope};
use permdex::sim::run::{start_with_features, RunningSim};
use permdex::sim::{generate, Scale, SimConfig, SiteFeatures};
use serde_json::Value;

use crate::support;

fn shared_dir() -> PathBuf {
    PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../shared"))
}

/// Checks `body` against the response schema `spec` declares for `method path_template status`, with
/// the shared `validate_oas.py`.
pub fn assert_matches_spec(spec: &str, method: &str, path_template: &str, status: u16, body: &Value) {
    let dir = tempfile::tempdir().expect("temp dir");
    let body_path = dir.path().join("body.json");
    std::fs::write(&body_path, serde_json::to_vec(body).expect("json")).expect("write body");
    let output = std::process::Command::new("python3")
        .arg(shared_dir().join("tools/validate_oas.py"))
        .arg(shared_dir().join("atlassian/specs").join(spec))
        .args([method, path_template, &status.to_string()])
        .arg(&body_path)
        .output()
        .expect("python3 runs");
    assert!(
        output.status.success(),
        "{method} {path_template} {status} does not match {spec}: {}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
}

pub const JIRA_SPEC: &str = "jira-platform-v3.swagger-v3.v3.json";

pub async fn start(seed: u64, scale: Scale, features: SiteFeatures) -> RunningSim {
    start_with_features(SimConfig::new(seed, scale), features, ([127, 0, 0, 1], 0).into())
        .await
        .expect("simulator starts")
}

/// A client of `sim` signed in with `credentials`, quick to retry.
pub fn client_as(sim: &RunningSim, credentials: &Credentials) -> Client {
    let mut config = ClientConfig::new(
        Url::parse(&sim.url).expect("url"),
        Email::parse(&credentials.email).expect("email"),
        Secret::new(credentials.token.clone()),
    );
    config.requests_per_second = 100_000.0;
    config.backoff_base = Duration::from_millis(5);
    Client::new(config).expect("client")
}

pub async fn get(sim: &RunningSim, credentials: &Credentials, path: &str) -> (u16, Value) {
    let response = reqwest::Client::new()
        .get(format!("{}{path}", sim.url))
        .basic_auth(&credentials.email, Some(&credentials.token))
        .send()
        .await
        .expect("request");
    let status = response.status().as_u16();
    (status, response.json().await.unwrap_or(Value::Null))
}

/// Active accounts by how they use the products: (Confluence only, Jira only, guests).
fn access_kinds(site: &Site) -> (Vec<String>, Vec<String>, Vec<String>) {
    let access = &site.product_access;
    let member = |account: &str, groups: &BTreeSet<String>| groups.iter().any(|g| site.is_member(account, g));
    let jira_groups: BTreeSet<String> = access.jira.values().flat_map(|a| a.groups.iter().cloned()).collect();
    let mut kinds = (Vec::new(), Vec::new(), Vec::new());
    for user in site.users.iter().filter(|u| u.active) {
        let id = user.account_id.as_str();
        let (jira, licensed, guest) = (
            member(id, &jira_groups),
            member(id, &access.confluence_users),
            member(id, &access.confluence_guests),
        );
        match (jira, licensed, guest) {
            (false, true, _) => kinds.0.push(id.to_string()),
            (true, false, false) => kinds.1.push(id.to_string()),
            (_, false, true) => kinds.2.push(id.to_string()),
            _ => {}
        }
    }
    kinds
}

#[test]
fn product_access_adds_accounts_without_a_product_and_leaves_the_rest_of_the_site_alone() {
    let config = SimConfig::new(3, Scale::Small);
    let plain = generate::generate(&config).expect("site");
    let with = generate::generate_with(&config, SiteFeatures { product_access: true, ..SiteFeatures::NONE })
        .expect("site");
    assert_eq!(plain, generate::generate_with(&config, SiteFeatures::NONE).expect("site"));
    assert_eq!(plain.product_access.rule, AccessRule::Everyone);
    assert_eq!(with.product_access.rule, AccessRule::Groups);
    assert_eq!(
        (&with.contents, &with.issues, &with.issue_comments),
        (&plain.contents, &plain.issues, &plain.issue_comments)
    );

    let keys: Vec<&str> = with.product_access.jira.keys().map(String::as_str).collect();
    assert_eq!(keys, ["jira-product-discovery", "jira-servicedesk", "jira-software"]);
    for app in with.product_access.jira.values() {
        for group in &app.groups {
            let name = &with.group(group).expect("access group exists").name;
            assert!(name.ends_with(&format!("-{}", with.name)), "{name} is site-suffixed");
        }
    }
    let (confluence_only, jira_only, guests) = access_kinds(&with);
    assert!(!confluence_only.is_empty() && !jira_only.is_empty() && !guests.is_empty());
    let browse: Vec<&Holder> = with
        .permission_schemes
        .values()
        .flat_map(|s| s.grants.iter())
        .filter(|g| g.permission == "BROWSE_PROJECTS")
        .map(|g| &g.holder)
        .collect();
    assert!(browse.contains(&&Holder::ApplicationRole(None)));
    assert!(browse.contains(&&Holder::ApplicationRole(Some("jira-servicedesk".into()))));

    // A Confluence-only account reads no issue but those anyone may read; a Jira-only account no page
    // but those of anonymous spaces; every guest reads the space granted to it.
    let scope = Scope::default();
    let docs = permdex::sim::oracle::all_docs(&with, scope);
    for account in &confluence_only {
        for doc in docs.iter().filter(|d| d.0.starts_with("jira:issue:") && can_view(&with, account, d)) {
            let id: u64 = doc.0.rsplit(':').next().and_then(|i| i.parse().ok()).expect("issue id");
            let issue = &with.issues[&id];
            let scheme = &with.permission_schemes[&with.projects[&issue.project_id].permission_scheme_id];
            assert!(scheme
                .grants
                .iter()
                .any(|g| g.permission == "BROWSE_PROJECTS" && g.holder == Holder::Anyone));
            assert_eq!(issue.security_level_id, None, "{account} reads {doc}");
        }
        assert!(docs.iter().any(|d| d.0.starts_with("confluence:page:") && can_view(&with, account, d)));
    }
    for guest in &guests {
        assert!(docs.iter().any(|d| d.0.starts_with("confluence:page:") && can_view(&with, guest, d)));
    }
    let reads = |site: &Site, account: &str| docs.iter().filter(|d| can_view(site, account, d)).count();
    let narrower = confluence_only.iter().filter(|a| reads(&with, a) < reads(&plain, a)).count();
    assert_eq!(narrower, confluence_only.len(), "losing Jira access loses documents");
}

#[tokio::test]
async fn application_roles_are_served_as_the_spec_says_and_only_to_admins() {
    let sim = start(4, Scale::Tiny, SiteFeatures { product_access: true, ..SiteFeatures::NONE }).await;
    let admin = sim.credentials.clone();
    let (status, all) = get(&sim, &admin, "/rest/api/3/applicationrole").await;
    assert_eq!(status, 200, "{all}");
    assert_matches_spec(JIRA_SPEC, "GET", "/rest/api/3/applicationrole", 200, &all);
    let (status, one) = get(&sim, &admin, "/rest/api/3/applicationrole/jira-servicedesk").await;
    assert_eq!(status, 200, "{one}");
    assert_matches_spec(JIRA_SPEC, "GET", "/rest/api/3/applicationrole/{key}", 200, &one);
    assert_eq!(get(&sim, &admin, "/rest/api/3/applicationrole/nope").await.0, 404);

    let site = sim.state.read().clone();
    let jira = Jira::new(client_as(&sim, &admin));
    let crawled = jira.application_roles().await.expect("application roles");
    let crawled: Vec<(String, BTreeSet<String>)> = crawled.into_iter().map(|r| (r.key, r.groups)).collect();
    let modelled: Vec<(String, BTreeSet<String>)> =
        site.product_access.jira.values().map(|a| (a.key.clone(), a.groups.clone())).collect();
    assert_eq!(crawled, modelled);

    // A token of an account without admin rights signs in, but the admin-only calls answer 403.
    let (_, jira_only, _) = access_kinds(&site);
    let user = sim.state.issue_token(&jira_only[0]).expect("token issued");
    for path in [
        "/rest/api/3/applicationrole",
        "/rest/api/3/applicationrole/jira-software",
        "/rest/api/3/issuesecurityschemes/level/member",
        "/rest/api/3/issuesecurityschemes/project",
        "/rest/api/3/issuesecurityschemes/level",
    ] {
        let (status, body) = get(&sim, &user, path).await;
        assert_eq!(status, 403, "{path}: {body}");
        assert!(body["errorMessages"][0].as_str().unwrap_or_default().contains("Administer Jira"), "{body}");
    }
    assert_eq!(get(&sim, &user, "/rest/api/3/project/search").await.0, 200);
    let wrong = Credentials { email: "someone@else.example".into(), token: user.token.clone() };
    assert_eq!(
        get(&sim, &wrong, "/rest/api/3/project/search").await.0,
        401,
        "the token is tied to its email"
    );
    let error = Jira::new(client_as(&sim, &user)).application_roles().await.expect_err("forbidden");
    assert!(matches!(error, Error::MissingRight { .. }), "{error}");
    assert!(error.to_string().contains("Administer Jira"), "{error}");
}

#[tokio::test]
async fn tokens_are_issued_over_the_admin_routes() {
    let sim = support::start_generated(SimConfig::new(5, Scale::Tiny)).await;
    let account = sim.state.read().users[1].account_id.clone();
    let http = reqwest::Client::new();
    let issued: Value = http
        .post(format!("{}/_sim/tokens", sim.url))
        .basic_auth(&sim.credentials.email, Some(&sim.credentials.token))
        .json(&serde_json::json!({"accountId": account}))
        .send()
        .await
        .expect("request")
        .json()
        .await
        .expect("json");
    let credentials = Credentials {
        email: issued["email"].as_str().expect("email").into(),
        token: issued["token"].as_str().expect("token").into(),
    };
    assert_eq!(get(&sim, &credentials, "/rest/api/3/applicationrole").await.0, 403);
    let unknown = http
        .post(format!("{}/_sim/tokens", sim.url))
        .basic_auth(&sim.credentials.email, Some(&sim.credentials.token))
        .json(&serde_json::json!({"accountId": "nobody"}))
        .send()
        .await
        .expect("request");
    assert_eq!(unknown.status(), 404);
}

fn inline_features() -> SiteFeatures {
    SiteFeatures { inline_comments: true, ..SiteFeatures::NONE }
}

#[tokio::test]
async fn inline_comments_are_served_as_the_spec_says_and_crawled_with_their_threads() {
    use permdex::atlassian::confluence::Confluence;
    use permdex::atlassian::model::{ContentKind, InlineResolution};
    use permdex::sim::model::{self as m, Resolution};

    let sim = start(6, Scale::Small, inline_features()).await;
    let admin = sim.credentials.clone();
    let site = sim.state.read().clone();
    assert!(site.inline_comments.len() > 20, "{} inline comments", site.inline_comments.len());
    let resolved = site.inline_comments.values().filter(|c| c.resolution == Resolution::Resolved).count();
    let replies = site.inline_comments.values().filter(|c| c.parent_comment_id.is_some()).count();
    assert!(resolved > 0 && replies > 0, "{resolved} resolved, {replies} replies");
    let on = |kind: m::ContentKind| {
        site.index
            .inline_comments_of
            .keys()
            .copied()
            .find(|c| site.contents.get(c).is_some_and(|k| k.kind == kind))
            .expect("a container of that kind with inline comments")
    };
    let (page, post) = (on(m::ContentKind::Page), on(m::ContentKind::BlogPost));
    let thread = site.index.inline_replies_of.keys().copied().next().expect("a thread with replies");

    let cases = [
        (
            "/pages/{id}/inline-comments",
            format!("/wiki/api/v2/pages/{page}/inline-comments?body-format=storage"),
        ),
        ("/blogposts/{id}/inline-comments", format!("/wiki/api/v2/blogposts/{post}/inline-comments")),
        ("/inline-comments", "/wiki/api/v2/inline-comments?limit=5&body-format=storage".to_string()),
        (
            "/inline-comments/{comment-id}",
            format!("/wiki/api/v2/inline-comments/{thread}?body-format=storage"),
        ),
        ("/inline-comments/{id}/children", format!("/wiki/api/v2/inline-comments/{thread}/children")),
    ];
    for (template, request) in cases {
        let (status, body) = get(&sim, &admin, &request).await;
        assert_eq!(status, 200, "{request}: {body}");
        assert_matches_spec("confluence-v2.openapi-v2.v3.json", "GET", template, 200, &body);
    }
    let (_, only_resolved) =
        get(&sim, &admin, "/wiki/api/v2/inline-comments?resolution-status=resolved&limit=250").await;
    let statuses: BTreeSet<&str> = only_resolved["results"]
        .as_array()
        .expect("results")
        .iter()
        .filter_map(|c| c["resolutionStatus"].as_str())
        .collect();
    assert_eq!(statuses, ["resolved"].into());
    assert_eq!(get(&sim, &admin, "/wiki/api/v2/inline-comments?resolution-status=closed").await.0, 400);

    // The crawler: per container with each thread's replies, and the whole site page by page.
    let confluence = Confluence::new(client_as(&sim, &admin));
    let expected_of = |container: u64| -> Vec<(String, Option<String>, String, String)> {
        site.inline_comments
            .values()
            .filter(|c| c.container_id == container)
            .map(|c| {
                (
                    c.id.to_string(),
                    c.parent_comment_id.map(|p| p.to_string()),
                    c.resolution.as_str().to_string(),
                    c.selection.clone(),
                )
            })
            .collect()
    };
    let resolution = |r: &InlineResolution| match r {
        InlineResolution::Open => "open".to_string(),
        InlineResolution::Reopened => "reopened".to_string(),
        InlineResolution::Resolved => "resolved".to_string(),
        InlineResolution::Dangling => "dangling".to_string(),
        InlineResolution::Unknown(other) => other.clone(),
    };
    for (container, kind) in [(page, ContentKind::Page), (post, ContentKind::BlogPost)] {
        let crawled =
            confluence.inline_comments_of(kind, &container.to_string()).await.expect("inline comments");
        let crawled: Vec<_> = crawled
            .iter()
            .map(|c| {
                assert_eq!(c.comment.container_id, container.to_string());
                (
                    c.comment.id.clone(),
                    c.comment.parent_comment_id.clone(),
                    resolution(&c.resolution),
                    c.selection.clone().unwrap_or_default(),
                )
            })
            .collect();
        assert_eq!(crawled, expected_of(container), "container {container}");
    }
    let mut all = BTreeSet::new();
    let mut cursor: Option<String> = None;
    loop {
        let page = confluence.inline_comments(cursor.as_deref()).await.expect("site-wide inline comments");
        all.extend(page.items.into_iter().map(|c| c.comment.id));
        match page.next {
            Some(next) => cursor = Some(next),
            None => break,
        }
    }
    let every: BTreeSet<String> = site.inline_comments.keys().map(u64::to_string).collect();
    assert_eq!(all, every);

    // Whoever reads the container reads its inline comments, resolved or not; nobody else does.
    for c in site.inline_comments.values().take(40) {
        let container = &site.contents[&c.container_id];
        let container_doc = permdex::sim::DocId::confluence_content(container.kind, container.id);
        for user in site.users.iter().take(12) {
            assert_eq!(
                can_view(&site, &user.account_id, &permdex::sim::DocId::confluence_comment(c.id)),
                can_view(&site, &user.account_id, &container_doc)
            );
        }
    }
}

#[tokio::test]
async fn inline_comments_change_through_mutations() {
    use permdex::sim::model::Resolution;
    use permdex::sim::mutate::Mutation;

    let sim = start(7, Scale::Tiny, inline_features()).await;
    let http = reqwest::Client::new();
    let (page, thread) = {
        let site = sim.state.read();
        let thread =
            site.inline_comments.values().find(|c| c.parent_comment_id.is_none()).expect("a thread").clone();
        (thread.container_id, thread.id)
    };
    support::post_mutations(
        &http,
        &sim,
        &[
            Mutation::AddInlineComment {
                container_id: page,
                parent_comment_id: Some(thread),
                body: "me too".into(),
                selection: String::new(),
            },
            Mutation::SetInlineResolution { id: thread, resolution: Resolution::Resolved },
        ],
    )
    .await;
    let site = sim.state.read().clone();
    let in_thread: Vec<_> = site
        .inline_comments
        .values()
        .filter(|c| c.id == thread || c.parent_comment_id == Some(thread))
        .collect();
    assert!(in_thread.len() >= 2);
    assert!(in_thread.iter().all(|c| c.resolution == Resolution::Resolved), "the whole thread is resolved");
    // A random walk of mutations on a site with the feature also draws its kinds.
    let mut rng = <rand_chacha::ChaCha8Rng as rand::SeedableRng>::seed_from_u64(3);
    let drawn: BTreeSet<String> = (0..600)
        .map(|_| {
            let m = permdex::sim::mutate::random_mutation(&site, &mut rng);
            serde_json::to_value(&m).expect("json")["op"].as_str().unwrap_or_default().to_string()
        })
        .collect();
    assert!(drawn.contains("add_inline_comment") && drawn.contains("set_inline_resolution"), "{drawn:?}");
    let (status, _) = get(&sim, &sim.credentials, &format!("/wiki/api/v2/inline-comments/{thread}")).await;
    assert_eq!(status, 200);
    support::post_mutations(&http, &sim, &[Mutation::DeletePage { id: page }]).await;
    assert!(
        sim.state.read().inline_comments.values().all(|c| c.container_id != page),
        "deleted with its page"
    );
}

#[tokio::test]
async fn space_roles_are_served_as_the_spec_says_and_crawled() {
    use permdex::atlassian::confluence::Confluence;
    use permdex::atlassian::model::{AccessClass, RoleHolder, SpaceRoleMode};
    use permdex::sim::model::{RoleMode, RolePrincipal, VIEW_SPACE};

    let sim = start(8, Scale::Small, SiteFeatures { space_roles: true, ..SiteFeatures::NONE }).await;
    let admin = sim.credentials.clone();
    let site = sim.state.read().clone();
    assert_eq!(site.space_roles.mode, RoleMode::Transition);
    let (space_id, assignments) =
        site.space_roles.assignments.iter().next().map(|(s, a)| (*s, a.clone())).expect("a space with roles");
    let role_id = site.space_roles.roles[0].id.clone();

    let cases = [
        ("/space-role-mode", "/wiki/api/v2/space-role-mode".to_string()),
        ("/space-roles", "/wiki/api/v2/space-roles".to_string()),
        ("/space-roles", format!("/wiki/api/v2/space-roles?space-id={space_id}&limit=2")),
        ("/space-roles/{id}", format!("/wiki/api/v2/space-roles/{role_id}")),
        ("/spaces/{id}/role-assignments", format!("/wiki/api/v2/spaces/{space_id}/role-assignments")),
        ("/space-permissions", "/wiki/api/v2/space-permissions".to_string()),
    ];
    for (template, request) in cases {
        let (status, body) = get(&sim, &admin, &request).await;
        assert_eq!(status, 200, "{request}: {body}");
        assert_matches_spec("confluence-v2.openapi-v2.v3.json", "GET", template, 200, &body);
    }
    let (status, _) = get(&sim, &admin, "/wiki/api/v2/space-roles?principal-id=x").await;
    assert_eq!(status, 400, "principal-id without principal-type");

    let confluence = Confluence::new(client_as(&sim, &admin));
    assert_eq!(confluence.space_role_mode().await.expect("mode"), SpaceRoleMode::Transition);
    let roles = confluence.space_roles().await.expect("roles");
    let modelled: Vec<(String, bool)> =
        site.space_roles.roles.iter().map(|r| (r.id.clone(), r.permissions.contains(VIEW_SPACE))).collect();
    assert_eq!(roles.iter().map(|r| (r.id.clone(), r.views_space)).collect::<Vec<_>>(), modelled);
    for (space_id, assigned) in &site.space_roles.assignments {
        let crawled = confluence.role_assignments(&space_id.to_string()).await.expect("assignments");
        let expected: Vec<(RoleHolder, String)> = assigned
            .iter()
            .map(|a| {
                let holder = match &a.principal {
                    RolePrincipal::User(u) => RoleHolder::User(u.clone()),
                    RolePrincipal::Group(g) => RoleHolder::Group(g.clone()),
                    RolePrincipal::AccessClass(c) => RoleHolder::AccessClass(match c.as_str() {
                        "anonymous-users" => AccessClass::AnonymousUsers,
                        "all-licensed-users" => AccessClass::AllLicensedUsers,
                        "authenticated-users" => AccessClass::AuthenticatedUsers,
                        "all-product-admins" => AccessClass::AllProductAdmins,
                        other => AccessClass::Other(other.into()),
                    }),
                };
                (holder, a.role_id.clone())
            })
            .collect();
        let crawled: Vec<(RoleHolder, String)> = crawled.into_iter().map(|a| (a.holder, a.role_id)).collect();
        assert_eq!(crawled, expected, "space {space_id}");
    }
    assert!(!assignments.is_empty());

    // Some spaces keep no read permission: only their roles let anyone in.
    let role_only: Vec<u64> = site
        .space_roles
        .assignments
        .keys()
        .copied()
        .filter(|s| site.spaces[s].permissions.iter().all(|p| p.operation != "read"))
        .collect();
    assert!(!role_only.is_empty(), "some spaces are readable through roles only");
    let docs = permdex::sim::oracle::all_docs(&site, Scope::default());
    let readable_somewhere = role_only.iter().any(|space| {
        docs.iter().any(|d| {
            d.0.starts_with("confluence:page:")
                && d.0
                    .rsplit(':')
                    .next()
                    .and_then(|id| id.parse::<u64>().ok())
                    .is_some_and(|id| site.contents.get(&id).is_some_and(|c| c.space_id == *space))
                && site.users.iter().any(|u| can_view(&site, &u.account_id, d))
        })
    });
    assert!(readable_somewhere, "a role-only space is readable by someone");

    // Without the feature the mode is PRE_ROLES and the role calls answer 404.
    let plain = support::start_generated(SimConfig::new(8, Scale::Tiny)).await;
    let (status, body) = get(&plain, &plain.credentials, "/wiki/api/v2/space-role-mode").await;
    assert_eq!((status, body["mode"].as_str()), (200, Some("PRE_ROLES")));
    assert_eq!(get(&plain, &plain.credentials, "/wiki/api/v2/space-roles").await.0, 404);
    let mode = Confluence::new(client_as(&plain, &plain.credentials)).space_role_mode().await.expect("mode");
    assert_eq!(mode, SpaceRoleMode::PreRoles);
}

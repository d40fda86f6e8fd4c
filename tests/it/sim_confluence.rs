//! The simulated Confluence REST API over real HTTP: responses validated against Atlassian's OpenAPI
//! specs, the shared fixtures parsed with the wire types, listings walked page by page, CQL, restrictions,
//! groups and attachment downloads checked against the model they were served from.

use std::collections::BTreeSet;
use std::path::PathBuf;

use chrono::NaiveDateTime;
use permdex::atlassian::wire::confluence::{v1, v2};
use permdex::sim::fixture::tiny_site;
use permdex::sim::http::{serve, Credentials, SimState};
use permdex::sim::model::*;
use permdex::sim::{Scale, SimConfig, Site};
use reqwest::StatusCode;
use serde_json::{json, Value};

const EMAIL: &str = "admin@example.com";
const TOKEN: &str = "sim-token";

fn shared_dir() -> PathBuf {
    PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../shared"))
}

/// A simulator serving `site` on a loopback port, and a client that speaks to it as the admin.
struct Sim {
    origin: String,
    client: reqwest::Client,
    _shutdown: tokio::sync::oneshot::Sender<()>,
}

impl Sim {
    async fn start(site: Site) -> Sim {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind loopback");
        let origin = format!("http://{}", listener.local_addr().expect("local addr"));
        let credentials = Credentials { email: EMAIL.into(), token: TOKEN.into() };
        let state = SimState::new(site.clone(), SimConfig::new(site.seed, Scale::Tiny), credentials);
        let (tx, rx) = tokio::sync::oneshot::channel::<()>();
        tokio::spawn(async move {
            serve(listener, state, async move {
                let _ = rx.await;
            })
            .await
            .expect("serve");
        });
        let client =
            reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().expect("client");
        Sim { origin, client, _shutdown: tx }
    }

    async fn get(&self, path: &str) -> reqwest::Response {
        self.client
            .get(format!("{}{path}", self.origin))
            .basic_auth(EMAIL, Some(TOKEN))
            .send()
            .await
            .unwrap_or_else(|e| panic!("GET {path}: {e}"))
    }

    /// Status, `Link` header and JSON body of a GET.
    async fn json(&self, path: &str) -> (StatusCode, Option<String>, Value) {
        let response = self.get(path).await;
        let status = response.status();
        let link = response.headers().get("link").map(|v| v.to_str().expect("ascii link").to_string());
        let body = response.json().await.unwrap_or_else(|e| panic!("GET {path}: body is not JSON: {e}"));
        (status, link, body)
    }

    async fn ok(&self, path: &str) -> Value {
        let (status, _, body) = self.json(path).await;
        assert_eq!(status, StatusCode::OK, "GET {path}: {body}");
        body
    }

    async fn post(&self, path: &str, body: &Value) -> (StatusCode, Value) {
        let response = self
            .client
            .post(format!("{}{path}", self.origin))
            .basic_auth(EMAIL, Some(TOKEN))
            .json(body)
            .send()
            .await
            .expect("POST");
        (response.status(), response.json().await.expect("JSON body"))
    }
}

// ---------------------------------------------------------------------------------------------------------
// A bigger site: the fixture plus enough content to exceed every page-size cap.

const T0: Millis = 1_704_067_200_000;

/// The tiny site plus: 300 pages under PUB's home (every seventh archived, updates in scrambled order),
/// 40 blog posts in PUB, 60 attachments and 30 comments (one with 5 replies) on page 200, labels on 200,
/// 450 users in one group, a page restricted to 150 of them, and an archived space.
fn big_site() -> Site {
    let mut site = tiny_site();
    let template = site.contents[&200].clone();
    let scrambled = |id: u64| T0 + ((id * 7_919) % 100_000) as i64 * 1_000;
    for n in 0..300u64 {
        let id = 1_000 + n;
        let status = if n % 7 == 3 { Status::Archived } else { Status::Current };
        let parent_id = if n % 10 == 9 { None } else { Some(200) };
        site.contents.insert(
            id,
            Content {
                id,
                parent_id,
                title: format!("Bulk page {id}"),
                status,
                updated: scrambled(id),
                position: id as i32,
                ..template.clone()
            },
        );
    }
    for n in 0..40u64 {
        let id = 2_000 + n;
        site.contents.insert(
            id,
            Content {
                id,
                kind: ContentKind::BlogPost,
                parent_id: None,
                title: format!("Bulk post {id}"),
                updated: scrambled(id),
                ..template.clone()
            },
        );
    }
    let att_template = site.attachments[&230].clone();
    for n in 0..60u64 {
        let id = 3_000 + n;
        let mut file = att_template.file.clone();
        file.filename = format!("bulk-{id}.md");
        site.attachments.insert(
            id,
            Attachment {
                id,
                file,
                file_id: format!("00000000-0000-4000-8000-{id:012}"),
                updated: scrambled(id),
                ..att_template.clone()
            },
        );
    }
    let comment_template = site.comments[&122].clone();
    for n in 0..35u64 {
        let id = 4_000 + n;
        let parent = if n >= 30 { Some(4_000) } else { None };
        site.comments.insert(
            id,
            Comment {
                id,
                container_id: 200,
                parent_comment_id: parent,
                updated: scrambled(id),
                ..comment_template.clone()
            },
        );
    }
    if let Some(home) = site.contents.get_mut(&200) {
        home.labels = ["zeta", "alpha", "handbook", "public", "rules"].map(String::from).to_vec();
    }
    let mut crowd = BTreeSet::new();
    for n in 0..450 {
        let account = format!("u{n:04}");
        site.users.push(User {
            account_id: account.clone(),
            display_name: format!("User {n}"),
            email: format!("{account}@example.com"),
            email_hidden: n % 2 == 0,
            active: true,
            account_type: Default::default(),
        });
        crowd.insert(account);
    }
    site.groups.push(Group { id: "g-crowd".into(), name: "crowd".into(), members: crowd.clone() });
    if let Some(page) = site.contents.get_mut(&1_000) {
        page.read_restriction.users = crowd.into_iter().take(150).collect();
    }
    let mut archived_space = site.spaces[&2].clone();
    archived_space.id = 4;
    archived_space.key = "OLD".into();
    archived_space.status = Status::Archived;
    archived_space.homepage_id = None;
    archived_space.permissions = Vec::new();
    site.spaces.insert(4, archived_space);
    site.reindex();
    site
}

// ---------------------------------------------------------------------------------------------------------
// Schema validation.

struct SchemaCase {
    spec: &'static str,
    method: &'static str,
    template: &'static str,
    status: u16,
    body: Value,
    label: String,
}

/// Validates every case with the shared validator in one Python process; returns the failures.
fn validate_all(cases: &[SchemaCase]) -> Vec<String> {
    let dir = tempfile::tempdir().expect("tempdir");
    let specs = shared_dir().join("atlassian/specs");
    let tool = shared_dir().join("tools/validate_oas.py");
    let mut listed = Vec::new();
    for (i, case) in cases.iter().enumerate() {
        let body_path = dir.path().join(format!("body{i}.json"));
        std::fs::write(&body_path, serde_json::to_vec(&case.body).expect("serialise")).expect("write body");
        listed.push(json!({
            "spec": specs.join(case.spec),
            "method": case.method,
            "template": case.template,
            "status": case.status.to_string(),
            "body": body_path,
        }));
    }
    let cases_path = dir.path().join("cases.json");
    std::fs::write(&cases_path, serde_json::to_vec(&listed).expect("serialise")).expect("write cases");
    let driver = dir.path().join("driver.py");
    std::fs::write(
        &driver,
        r#"import contextlib, io, json, runpy, sys
cases_path, tool, out_path = sys.argv[1:4]
results = []
for case in json.load(open(cases_path)):
    sys.argv = [tool, case["spec"], case["method"], case["template"], case["status"], case["body"]]
    out = io.StringIO()
    code = 0
    try:
        with contextlib.redirect_stdout(out):
            runpy.run_path(tool, run_name="__main__")
    except SystemExit as e:
        code = e.code if isinstance(e.code, int) else 1
    results.append({"code": code, "output": out.getvalue().strip()})
json.dump(results, open(out_path, "w"))
"#,
    )
    .expect("write driver");
    let out_path = dir.path().join("results.json");
    let status = std::process::Command::new("python3")
        .arg(&driver)
        .arg(&cases_path)
        .arg(&tool)
        .arg(&out_path)
        .status()
        .expect("run python3");
    assert!(status.success(), "validator driver failed");
    let results: Vec<Value> =
        serde_json::from_slice(&std::fs::read(&out_path).expect("read results")).expect("results JSON");
    assert_eq!(results.len(), cases.len());
    cases
        .iter()
        .zip(results)
        .filter(|(_, r)| r["code"] != 0)
        .map(|(c, r)| format!("{} ({} {} {}): {}", c.label, c.method, c.template, c.status, r["output"]))
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_endpoint_answers_in_the_spec_shape() {
    let sim = Sim::start(tiny_site()).await;
    const V2: &str = "confluence-v2.openapi-v2.v3.json";
    const V1: &str = "confluence-v1.swagger.v3.json";
    let gets: &[(&str, &str, &str)] = &[
        (V2, "/spaces", "/wiki/api/v2/spaces"),
        (V2, "/spaces", "/wiki/api/v2/spaces?type=personal&status=current&limit=1"),
        (V2, "/spaces/{id}", "/wiki/api/v2/spaces/1?description-format=plain"),
        (V2, "/spaces/{id}/permissions", "/wiki/api/v2/spaces/1/permissions?limit=1"),
        (V2, "/pages", "/wiki/api/v2/pages?body-format=storage&limit=3"),
        (V2, "/pages", "/wiki/api/v2/pages?status=archived&space-id=1"),
        (V2, "/spaces/{id}/pages", "/wiki/api/v2/spaces/1/pages?body-format=storage&depth=root"),
        (V2, "/pages/{id}", "/wiki/api/v2/pages/102?body-format=storage&include-labels=true"),
        (V2, "/pages/{id}", "/wiki/api/v2/pages/100?body-format=atlas_doc_format"),
        (V2, "/pages/{id}/ancestors", "/wiki/api/v2/pages/102/ancestors"),
        (V2, "/pages/{id}/children", "/wiki/api/v2/pages/100/children?limit=2"),
        (V2, "/pages/{id}/direct-children", "/wiki/api/v2/pages/100/direct-children"),
        (V2, "/blogposts", "/wiki/api/v2/blogposts?body-format=storage"),
        (V2, "/spaces/{id}/blogposts", "/wiki/api/v2/spaces/1/blogposts"),
        (V2, "/blogposts/{id}", "/wiki/api/v2/blogposts/110?body-format=storage&include-labels=true"),
        (V2, "/pages/{id}/footer-comments", "/wiki/api/v2/pages/102/footer-comments?body-format=storage"),
        (V2, "/blogposts/{id}/footer-comments", "/wiki/api/v2/blogposts/110/footer-comments"),
        (V2, "/footer-comments/{comment-id}", "/wiki/api/v2/footer-comments/121?body-format=storage"),
        (
            V2,
            "/footer-comments/{id}/children",
            "/wiki/api/v2/footer-comments/120/children?body-format=storage",
        ),
        (V2, "/pages/{id}/attachments", "/wiki/api/v2/pages/102/attachments"),
        (V2, "/blogposts/{id}/attachments", "/wiki/api/v2/blogposts/110/attachments"),
        (V2, "/attachments/{id}", "/wiki/api/v2/attachments/att130"),
        (V2, "/footer-comments", "/wiki/api/v2/footer-comments?body-format=storage&limit=2"),
        (V2, "/footer-comments", "/wiki/api/v2/footer-comments?sort=created-date"),
        (V2, "/attachments", "/wiki/api/v2/attachments?limit=2"),
        (V2, "/attachments", "/wiki/api/v2/attachments?status=current&mediaType=text%2Fplain"),
        (V2, "/pages/{id}/labels", "/wiki/api/v2/pages/100/labels"),
        (
            V1,
            "/wiki/rest/api/content/{id}/restriction/byOperation",
            "/wiki/rest/api/content/102/restriction/byOperation",
        ),
        (
            V1,
            "/wiki/rest/api/content/{id}/restriction/byOperation",
            "/wiki/rest/api/content/103/restriction/byOperation?expand=restrictions.user,content",
        ),
        (
            V1,
            "/wiki/rest/api/content/{id}/restriction/byOperation/{operationKey}",
            "/wiki/rest/api/content/101/restriction/byOperation/read?start=0&limit=5",
        ),
        (
            V1,
            "/wiki/rest/api/content/search",
            "/wiki/rest/api/content/search?cql=type%20in%20(page,blogpost,comment,attachment)&limit=5\
             &expand=version,space,ancestors,container,body.storage",
        ),
        (V1, "/wiki/rest/api/content/search", "/wiki/rest/api/content/search?cql=space%3DENG&limit=2"),
        (
            V1,
            "/wiki/rest/api/content/search",
            "/wiki/rest/api/content/search?cql=type%20in%20(page,blogpost)%20and%20space%20in%20(ENG,PUB)\
             &expand=ancestors,version,space,restrictions.read.restrictions.user,restrictions.read.restrictions.group",
        ),
        (
            V1,
            "/wiki/rest/api/content/search",
            "/wiki/rest/api/content/search?cql=type%3Dpage&expand=restrictions.update.restrictions.group,restrictions.read",
        ),
        (
            V1,
            "/wiki/rest/api/content/search",
            "/wiki/rest/api/content/search?cql=id%20in%20(100,%22102%22,att130)&expand=metadata.labels",
        ),
        (V1, "/wiki/rest/api/group", "/wiki/rest/api/group?limit=1"),
        (V1, "/wiki/rest/api/group/by-id", "/wiki/rest/api/group/by-id?id=g-eng"),
        (
            V1,
            "/wiki/rest/api/group/{groupId}/membersByGroupId",
            "/wiki/rest/api/group/g-eng/membersByGroupId?shouldReturnTotalSize=true&limit=2",
        ),
        (V1, "/wiki/rest/api/user/current", "/wiki/rest/api/user/current"),
    ];
    let mut cases = Vec::new();
    for &(spec, template, path) in gets {
        let (status, _, body) = sim.json(path).await;
        assert_eq!(status, StatusCode::OK, "GET {path}: {body}");
        cases.push(SchemaCase { spec, method: "GET", template, status: 200, body, label: path.to_string() });
    }
    let (status, body) =
        sim.post("/wiki/api/v2/users-bulk", &json!({"accountIds": ["alice", "dave", "erin"]})).await;
    assert_eq!(status, StatusCode::OK);
    cases.push(SchemaCase {
        spec: V2,
        method: "POST",
        template: "/users-bulk",
        status: 200,
        body,
        label: "users-bulk".into(),
    });
    let failures = validate_all(&cases);
    assert!(failures.is_empty(), "responses outside the spec:\n{}", failures.join("\n"));
}

#[tokio::test]
async fn error_bodies_have_each_api_shape() {
    let sim = Sim::start(tiny_site()).await;
    let v2_cases = [
        ("/wiki/api/v2/pages/999999", 404),
        ("/wiki/api/v2/pages/110", 404), // a blog post is not a page
        ("/wiki/api/v2/pages/abc", 400),
        ("/wiki/api/v2/pages?cursor=not-a-cursor", 400),
        ("/wiki/api/v2/pages?limit=ten", 400),
        ("/wiki/api/v2/pages?status=bogus", 400),
        ("/wiki/api/v2/pages?sort=-title", 400),
        ("/wiki/api/v2/pages?body-format=view", 400),
        ("/wiki/api/v2/spaces/77", 404),
        ("/wiki/api/v2/spaces/77/pages", 404),
        ("/wiki/api/v2/spaces/1/permissions?cursor=zz", 400),
        ("/wiki/api/v2/footer-comments/5", 404),
        ("/wiki/api/v2/pages/102/footer-comments?status=bogus", 400),
        ("/wiki/api/v2/pages/102/footer-comments?sort=-modified-date", 400),
        ("/wiki/api/v2/attachments/att5", 404),
        ("/wiki/api/v2/pages/102?version=2", 404),
    ];
    for (path, expected) in v2_cases {
        let (status, _, body) = sim.json(path).await;
        assert_eq!(status.as_u16(), expected, "GET {path}: {body}");
        let errors: v2::ErrorBody = serde_json::from_value(body.clone()).expect("v2 error body");
        assert_eq!(errors.errors.first().map(|e| e.status), Some(expected), "{path}: {body}");
    }
    let v1_cases = [
        ("/wiki/rest/api/content/999999/restriction/byOperation", 404),
        ("/wiki/rest/api/content/102/restriction/byOperation/delete", 400),
        ("/wiki/rest/api/content/search?cql=type%3Dpage%20or%20type%3Dblogpost", 400),
        ("/wiki/rest/api/content/search?cql=type%3Dpage&cursor=bad", 400),
        ("/wiki/rest/api/content/search", 400),
        ("/wiki/rest/api/group/by-id?id=g-none", 404),
        ("/wiki/rest/api/group/g-none/membersByGroupId", 404),
        ("/wiki/rest/api/content/100/child/attachment/att130/download", 404),
    ];
    for (path, expected) in v1_cases {
        let (status, _, body) = sim.json(path).await;
        assert_eq!(status.as_u16(), expected, "GET {path}: {body}");
        let error: v1::ErrorBody = serde_json::from_value(body.clone()).expect("v1 error body");
        assert_eq!(error.status_code, expected, "{path}: {body}");
        assert!(error.message.is_some_and(|m| !m.is_empty()), "{path}: {body}");
    }
    let (_, _, body) = sim.json("/wiki/rest/api/content/search?cql=title%20~%20x").await;
    assert!(body["message"].as_str().is_some_and(|m| m.contains("title")), "the 400 names the field: {body}");
}

// ---------------------------------------------------------------------------------------------------------
// Fixtures.

#[test]
fn every_confluence_fixture_parses_with_the_wire_types() {
    let dir = shared_dir().join("atlassian/fixtures/confluence");
    type Check = fn(&str);
    let table: &[(&str, Check)] = &[
        ("v1_content_comments_GET.mcp-atlassian.json", |s| {
            let a: v1::ContentArray = serde_json::from_str(s).expect("parse");
            assert_eq!(a.results[0].kind, "comment");
            assert_eq!(a.results[0].version.as_ref().map(|v| v.number), Some(1));
        }),
        ("v1_content_page_GET.mcp-atlassian.json", |s| {
            let c: v1::Content = serde_json::from_str(s).expect("parse");
            assert_eq!(c.space.as_ref().and_then(|sp| sp.id), Some(11_111_111));
            assert!(c.body.and_then(|b| b.storage).is_some_and(|b| b.value.contains("ri:account-id")));
        }),
        ("v1_content_pages_with_storage_body.mcp-atlassian.json", |s| {
            let list: Vec<v1::Content> = serde_json::from_str(s).expect("parse");
            assert_eq!(list.len(), 2);
        }),
        ("v1_content_search_cql_lastmodified_GET.composed.json", |s| {
            let a: v1::ContentArray = serde_json::from_str(s).expect("parse");
            assert!(a.links.and_then(|l| l.next).is_some_and(|n| n.starts_with("/rest/api/content/search")));
            assert_eq!(
                a.results[0].version.as_ref().and_then(|v| v.when.clone()).as_deref(),
                Some("2024-03-01T10:02:11.004Z")
            );
        }),
        ("v1_group_membersByGroupId_GET.composed.json", |s| {
            let a: v1::UserArray = serde_json::from_str(s).expect("parse");
            assert_eq!(a.size, Some(2));
            assert_eq!(
                a.results[1].account_id.as_deref(),
                Some("712020:3fd582db-3261-4930-b192-171d1cb74d1f")
            );
        }),
        ("v1_restriction_byOperation_GET.composed.json", |s| {
            let r: v1::RestrictionsByOperation = serde_json::from_str(s).expect("parse");
            let read = r.read.and_then(|r| r.restrictions).expect("read restrictions");
            assert_eq!(read.group.expect("groups").results[0].id, "0f6c2d7e-1b3a-4d5e-8f90-a1b2c3d4e5f6");
            assert_eq!(read.user.expect("users").results.len(), 1);
        }),
        ("v1_restriction_byOperation_unrestricted_GET.composed.json", |s| {
            let r: v1::RestrictionsByOperation = serde_json::from_str(s).expect("parse");
            let read = r.read.and_then(|r| r.restrictions).expect("read restrictions");
            assert!(read.user.expect("users").results.is_empty());
        }),
        ("v1_search_cql_GET.mcp-atlassian.json", |s| {
            let p: v1::SearchPage = serde_json::from_str(s).expect("parse");
            assert_eq!(p.total_size, Some(1));
            assert_eq!(p.results[0].content.as_ref().map(|c| c.id.as_str()), Some("123456789"));
        }),
        ("v1_spaces_GET.mcp-atlassian.json", |s| {
            let a: v1::SpaceArray = serde_json::from_str(s).expect("parse");
            assert_eq!(a.results[0].status, "archived");
        }),
        ("v2_footer_comment_reply.mcp-atlassian.json", |s| {
            let c: v2::Comment = serde_json::from_str(s).expect("parse");
            assert_eq!(c.parent_comment_id.as_deref(), Some("456789123"));
            assert_eq!(c.page_id.as_deref(), Some("12345"));
        }),
        ("v2_inline_comment.mcp-atlassian.json", |s| {
            let c: v2::Comment = serde_json::from_str(s).expect("parse");
            assert_eq!(c.status, "open");
            assert!(c.inline_comment_properties.is_some());
        }),
        ("v2_page_attachments_GET.composed.json", |s| {
            let r: v2::MultiEntityResult<v2::Attachment> = serde_json::from_str(s).expect("parse");
            assert_eq!(r.results[1].file_size, Some(1_119_256));
            assert_eq!(r.results[1].page_id.as_deref(), Some("7700526"));
            assert_eq!(r.links.next, None);
        }),
        ("v2_pages_list_storage_GET.composed.json", |s| {
            let r: v2::MultiEntityResult<v2::Page> = serde_json::from_str(s).expect("parse");
            assert_eq!(r.results[0].parent_id.as_deref(), Some("98307"));
            assert_eq!(r.results[1].parent_id, None);
            assert!(r.links.next.is_some_and(|n| n.starts_with("/wiki/api/v2/pages?")));
        }),
        ("v2_space_permissions_GET.composed.json", |s| {
            let r: v2::MultiEntityResult<v2::SpacePermission> = serde_json::from_str(s).expect("parse");
            let anonymous = r.results.iter().find(|p| p.principal.kind == "role").expect("role principal");
            assert_eq!(anonymous.principal.id, "ANONYMOUS");
        }),
        ("v2_space_role_assignments_GET.composed.json", |s| {
            let r: v2::MultiEntityResult<v2::SpaceRoleAssignment> = serde_json::from_str(s).expect("parse");
            assert_eq!(r.results[2].principal.principal_type, "ACCESS_CLASS");
        }),
        ("v2_spaces_GET.composed.json", |s| {
            let r: v2::MultiEntityResult<v2::Space> = serde_json::from_str(s).expect("parse");
            assert_eq!(r.results[1].kind, "personal");
            assert_eq!(r.results[0].description, None);
        }),
    ];
    let mut on_disk: Vec<String> = std::fs::read_dir(&dir)
        .expect("fixtures dir")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".json"))
        .collect();
    on_disk.sort();
    let mut covered: Vec<String> = table.iter().map(|(n, _)| n.to_string()).collect();
    covered.sort();
    assert_eq!(on_disk, covered, "every fixture needs a wire type");
    for (name, check) in table {
        let text = std::fs::read_to_string(dir.join(name)).expect("read fixture");
        check(&text);
    }
}

// ---------------------------------------------------------------------------------------------------------
// Pagination.

/// How a walk finds the next page.
#[derive(Debug, Clone, Copy)]
enum Follow {
    LinksNext,
    LinkHeader,
}

/// The URL inside `Link: <url>; rel="next"`.
fn link_header_next(header: &str) -> Option<String> {
    header.split(',').find(|part| part.contains("rel=\"next\"")).and_then(|part| {
        let start = part.find('<')? + 1;
        let end = part.find('>')?;
        Some(part[start..end].to_string())
    })
}

/// Every result of a v2 listing, walking from `first` until no next link remains.
async fn walk_v2(sim: &Sim, first: &str, follow: Follow) -> Vec<Value> {
    let mut results = Vec::new();
    let mut next = Some(first.to_string());
    let mut pages = 0;
    while let Some(path) = next {
        pages += 1;
        assert!(pages < 2_000, "{first}: no end in sight");
        let (status, link, body) = sim.json(&path).await;
        assert_eq!(status, StatusCode::OK, "GET {path}: {body}");
        let page = body["results"].as_array().expect("results").clone();
        let body_next = body["_links"]["next"].as_str().map(str::to_string);
        let header_next = link.as_deref().and_then(link_header_next);
        assert_eq!(body_next, header_next, "{path}: _links.next and Link disagree");
        if let Some(n) = &body_next {
            assert!(n.starts_with("/wiki/api/v2/"), "{n}");
            assert!(!page.is_empty(), "{path}: a next link after an empty page");
        }
        assert_eq!(body["_links"]["base"], format!("{}/wiki", sim.origin));
        results.extend(page);
        next = match follow {
            Follow::LinksNext => body_next,
            Follow::LinkHeader => header_next,
        };
    }
    results
}

fn ids_of(results: &[Value]) -> Vec<String> {
    results.iter().map(|r| r["id"].as_str().expect("string id").to_string()).collect()
}

fn sorted_strings(ids: impl IntoIterator<Item = u64>) -> Vec<String> {
    let mut ids: Vec<u64> = ids.into_iter().collect();
    ids.sort_unstable();
    ids.into_iter().map(|i| i.to_string()).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn walking_a_listing_returns_every_item_once() {
    let site = big_site();
    let pages_where = |f: &dyn Fn(&Content) -> bool| {
        sorted_strings(site.contents.values().filter(|c| c.kind == ContentKind::Page && f(c)).map(|c| c.id))
    };
    let posts_where = |f: &dyn Fn(&Content) -> bool| {
        sorted_strings(
            site.contents.values().filter(|c| c.kind == ContentKind::BlogPost && f(c)).map(|c| c.id),
        )
    };
    let current = |c: &Content| c.status == Status::Current;
    let table: Vec<(&str, Vec<String>)> = vec![
        ("/wiki/api/v2/spaces?limit=2", sorted_strings(site.spaces.keys().copied())),
        (
            "/wiki/api/v2/spaces?status=archived&limit=1",
            sorted_strings(site.spaces.values().filter(|s| s.status == Status::Archived).map(|s| s.id)),
        ),
        (
            "/wiki/api/v2/spaces/1/permissions?limit=1",
            sorted_strings(site.spaces[&1].permissions.iter().map(|p| p.id)),
        ),
        ("/wiki/api/v2/pages?limit=7", pages_where(&|_| true)),
        ("/wiki/api/v2/pages?limit=250&status=current", pages_where(&current)),
        ("/wiki/api/v2/pages?status=archived&limit=5", pages_where(&|c| c.status == Status::Archived)),
        (
            "/wiki/api/v2/pages?space-id=1&space-id=3&status=current&limit=2",
            pages_where(&|c| [1, 3].contains(&c.space_id) && current(c)),
        ),
        ("/wiki/api/v2/pages?space-id=2,3&limit=13&body-format=storage", pages_where(&|c| c.space_id != 1)),
        ("/wiki/api/v2/pages?id=1001,1003,100,1002,5&limit=2", sorted_strings([100, 1001, 1002, 1003])),
        (
            "/wiki/api/v2/spaces/2/pages?depth=root&limit=11",
            pages_where(&|c| c.space_id == 2 && c.parent_id.is_none()),
        ),
        ("/wiki/api/v2/pages?title=Bulk%20page%201010", sorted_strings([1010])),
        ("/wiki/api/v2/blogposts?limit=3", posts_where(&current)),
        ("/wiki/api/v2/spaces/2/blogposts?limit=4", posts_where(&|c| c.space_id == 2)),
        (
            "/wiki/api/v2/pages/200/children?limit=17",
            sorted_strings(site.index.children_of[&200].iter().copied()),
        ),
        (
            "/wiki/api/v2/pages/200/direct-children?limit=250",
            sorted_strings(site.index.children_of[&200].iter().copied()),
        ),
        (
            "/wiki/api/v2/pages/200/footer-comments?limit=4",
            sorted_strings(site.index.comments_of[&200].iter().copied()),
        ),
        ("/wiki/api/v2/footer-comments/4000/children?limit=2", sorted_strings(4_030..4_035)),
        (
            "/wiki/api/v2/footer-comments?limit=7&body-format=storage",
            sorted_strings(site.comments.keys().copied()),
        ),
        ("/wiki/api/v2/attachments?limit=9", {
            let mut ids: Vec<u64> = site.attachments.keys().copied().collect();
            ids.sort_unstable();
            ids.into_iter().map(|a| format!("att{a}")).collect()
        }),
        ("/wiki/api/v2/attachments?limit=250&mediaType=text%2Fplain", vec!["att131".to_string()]),
        ("/wiki/api/v2/pages/200/attachments?limit=6", {
            let ids = site.index.attachments_of[&200].iter().map(|a| format!("att{a}"));
            let mut ids: Vec<(u64, String)> =
                site.index.attachments_of[&200].iter().copied().zip(ids).collect();
            ids.sort();
            ids.into_iter().map(|(_, s)| s).collect()
        }),
    ];
    let sim = Sim::start(site.clone()).await;
    for (first, expected) in &table {
        assert!(!expected.is_empty(), "{first}: an empty expectation tests nothing");
        for follow in [Follow::LinksNext, Follow::LinkHeader] {
            let got = ids_of(&walk_v2(&sim, first, follow).await);
            assert_eq!(&got, expected, "{first} via {follow:?}");
        }
    }
    // Labels page by label id; compare names.
    let labels = walk_v2(&sim, "/wiki/api/v2/pages/200/labels?limit=2", Follow::LinksNext).await;
    let mut names: Vec<&str> = labels.iter().map(|l| l["name"].as_str().expect("name")).collect();
    names.sort_unstable();
    assert_eq!(names, ["alpha", "handbook", "public", "rules", "zeta"]);
}

#[tokio::test]
async fn next_links_keep_the_request_parameters() {
    let sim = Sim::start(big_site()).await;
    let (_, link, body) =
        sim.json("/wiki/api/v2/pages?space-id=2&status=current&body-format=storage&limit=3&sort=id").await;
    let next = body["_links"]["next"].as_str().expect("next");
    for part in ["space-id=2", "status=current", "body-format=storage", "limit=3", "sort=id", "cursor="] {
        assert!(next.contains(part), "{next} lacks {part}");
    }
    assert_eq!(link.as_deref().and_then(link_header_next).as_deref(), Some(next));
    assert!(body["results"][0]["body"]["storage"]["value"].as_str().is_some());
    // Without body-format a bulk listing carries no body.
    let plain = sim.ok("/wiki/api/v2/pages?limit=1").await;
    assert!(plain["results"][0].get("body").is_none());
}

#[tokio::test]
async fn limits_are_defaulted_and_capped() {
    let sim = Sim::start(big_site()).await;
    let table = [
        ("/wiki/api/v2/pages", 25),
        ("/wiki/api/v2/pages?limit=1000", 250),
        ("/wiki/api/v2/pages?limit=0", 1),
        ("/wiki/api/v2/pages/200/attachments", 50),
        ("/wiki/api/v2/pages/200/attachments?limit=999", 61),
        ("/wiki/api/v2/pages/200/children?limit=400", 250),
        ("/wiki/rest/api/content/search?cql=type%3Dpage&limit=1000&expand=version", 200),
        ("/wiki/rest/api/content/search?cql=type%3Dpage&limit=1000&expand=body.storage", 50),
        ("/wiki/rest/api/content/search?cql=type%3Dpage&limit=1000&expand=body.export_view", 25),
        ("/wiki/rest/api/content/search?cql=type%3Dpage", 25),
        ("/wiki/rest/api/group/g-crowd/membersByGroupId?limit=500", 200),
        ("/wiki/rest/api/content/1000/restriction/byOperation/read?limit=500", 100),
    ];
    for (path, expected) in table {
        let body = sim.ok(path).await;
        let results = body["results"]
            .as_array()
            .or_else(|| body["restrictions"]["user"]["results"].as_array())
            .expect("results");
        assert_eq!(results.len(), expected, "{path}");
    }
}

#[tokio::test]
async fn archived_content_is_listed_only_when_asked_for() {
    let sim = Sim::start(tiny_site()).await;
    let ids = |body: Value| ids_of(body["results"].as_array().expect("results"));
    let current = ids(sim.ok("/wiki/api/v2/spaces/1/pages?status=current").await);
    assert!(!current.contains(&"104".to_string()));
    assert_eq!(ids(sim.ok("/wiki/api/v2/spaces/1/pages?status=archived").await), ["104"]);
    // The spec's default for pages is current and archived.
    assert!(ids(sim.ok("/wiki/api/v2/spaces/1/pages").await).contains(&"104".to_string()));
    let comments = sim.ok("/wiki/api/v2/pages/102/footer-comments?status=archived").await;
    assert!(comments["results"].as_array().is_some_and(Vec::is_empty), "comments are current");
    let page = sim.ok("/wiki/api/v2/pages/104").await;
    assert_eq!(page["status"], "archived");
    // Content search is current content unless cqlcontext asks for more.
    let cql = "/wiki/rest/api/content/search?cql=type%3Dpage%20and%20space%3DENG";
    assert!(!ids(sim.ok(cql).await).contains(&"104".to_string()));
    let with_archived =
        format!("{cql}&cqlcontext=%7B%22contentStatuses%22%3A%5B%22current%22%2C%22archived%22%5D%7D");
    assert!(ids(sim.ok(&with_archived).await).contains(&"104".to_string()));
}

// ---------------------------------------------------------------------------------------------------------
// CQL.

/// A current item as CQL content search sees it.
struct Searchable {
    /// The id as v1 spells it (`att130` for attachments).
    id: String,
    kind: &'static str,
    space: String,
    updated: Millis,
}

/// Every current item of the site.
fn searchable(site: &Site) -> Vec<Searchable> {
    let space_of = |container: u64| {
        let space_id = site.contents[&container].space_id;
        site.spaces[&space_id].key.clone()
    };
    let mut items = Vec::new();
    for c in site.contents.values().filter(|c| c.status == Status::Current) {
        items.push(Searchable {
            id: c.id.to_string(),
            kind: c.kind.as_str(),
            space: site.spaces[&c.space_id].key.clone(),
            updated: c.updated,
        });
    }
    for c in site.comments.values() {
        items.push(Searchable {
            id: c.id.to_string(),
            kind: "comment",
            space: space_of(c.container_id),
            updated: c.updated,
        });
    }
    for a in site.attachments.values() {
        items.push(Searchable {
            id: format!("att{}", a.id),
            kind: "attachment",
            space: space_of(a.container_id),
            updated: a.updated,
        });
    }
    items
}

/// Every result of a CQL content search, following `_links.next` (relative to `_links.base`).
async fn walk_cql(sim: &Sim, cql: &str, limit: usize) -> Vec<Value> {
    let encoded: String = url::form_urlencoded::byte_serialize(cql.as_bytes()).collect();
    let mut next = Some(format!("/wiki/rest/api/content/search?cql={encoded}&limit={limit}&expand=version"));
    let mut results = Vec::new();
    let mut pages = 0;
    while let Some(path) = next {
        pages += 1;
        assert!(pages < 2_000, "{cql}: no end in sight");
        let body = sim.ok(&path).await;
        results.extend(body["results"].as_array().expect("results").iter().cloned());
        next = body["_links"]["next"].as_str().map(|n| {
            assert!(n.starts_with("/rest/api/content/search?"), "{n}");
            assert_eq!(body["_links"]["base"], format!("{}/wiki", sim.origin));
            format!("/wiki{n}")
        });
    }
    results
}

/// UTC millis of a wall-clock time in the admin's zone.
fn admin_local(site: &Site, local: &str) -> Millis {
    let t = NaiveDateTime::parse_from_str(local, "%Y-%m-%d %H:%M").expect("test time");
    t.and_utc().timestamp_millis() - i64::from(site.admin_utc_offset_minutes) * 60_000
}

#[tokio::test]
async fn cql_lastmodified_is_read_in_the_admins_time_zone() {
    let site = tiny_site();
    assert_eq!(site.admin_utc_offset_minutes, 600, "the cases below assume UTC+10");
    let sim = Sim::start(site.clone()).await;
    let items = searchable(&site);
    let expect = |f: &dyn Fn(Millis) -> bool| {
        let mut ids: Vec<(Millis, String)> =
            items.iter().filter(|i| f(i.updated)).map(|i| (i.updated, i.id.clone())).collect();
        ids.sort();
        ids.into_iter().map(|(_, id)| id).collect::<Vec<_>>()
    };
    let at_1002 = admin_local(&site, "2024-01-01 10:02");
    let cases: Vec<(&str, Vec<String>)> = vec![
        ("lastmodified >= \"2024/01/01 10:02\"", expect(&|t| t >= at_1002)),
        ("lastmodified > \"2024/01/01 10:02\"", expect(&|t| t > at_1002)),
        ("lastmodified < \"2024/01/01 10:02\"", expect(&|t| t < at_1002)),
        ("lastmodified <= \"2024-01-01 10:02\"", expect(&|t| t <= at_1002)),
        ("lastmodified = \"2024/01/01 10:02\"", expect(&|t| at_1002 <= t && t < at_1002 + 60_000)),
        ("lastmodified >= \"2024-01-01\"", expect(&|_| true)),
        ("lastmodified < \"2024/01/01\"", vec![]),
        ("lastmodified >= \"2024/01/01 00:02\"", expect(&|_| true)),
    ];
    for (cql, expected) in &cases {
        let got = ids_of(&walk_cql(&sim, &format!("{cql} order by lastmodified asc"), 3).await);
        assert_eq!(&got, expected, "{cql}");
    }
    // Worked by hand: 10:02 at UTC+10 is 00:02Z; items are stamped T0 + id seconds.
    assert_eq!(cases[0].1, ["120", "121", "122", "att130", "att131", "200", "att230", "300"]);
    // Read as UTC, 00:02 would have excluded everything before id 120; in the admin's zone it is all.
    assert_eq!(cases[7].1.len(), items.len());
}

#[tokio::test]
async fn cql_filters_by_type_and_space_and_orders() {
    let site = big_site();
    let sim = Sim::start(site.clone()).await;
    let items = searchable(&site);
    let select = |f: &dyn Fn(&Searchable) -> bool, by_time: bool| {
        let mut hits: Vec<(Millis, u64, String)> = items
            .iter()
            .filter(|i| f(i))
            .map(|i| {
                let n: u64 = i.id.trim_start_matches("att").parse().expect("numeric id");
                (if by_time { i.updated } else { 0 }, n, i.id.clone())
            })
            .collect();
        hits.sort();
        hits.into_iter().map(|(_, _, id)| id).collect::<Vec<_>>()
    };
    let cases: Vec<(&str, Vec<String>)> = vec![
        ("type = page and space = ENG", select(&|i| i.kind == "page" && i.space == "ENG", false)),
        (
            "type in (comment, attachment) order by lastmodified asc",
            select(&|i| i.kind == "comment" || i.kind == "attachment", true),
        ),
        (
            "space in (PUB, \"~dave\") and type = blogpost order by id",
            select(&|i| i.kind == "blogpost" && i.space != "ENG", false),
        ),
        (
            "(type = page) AND space = PUB order by lastmodified",
            select(&|i| i.kind == "page" && i.space == "PUB", true),
        ),
        ("type in (page, blogpost, comment, attachment) order by lastmodified asc", select(&|_| true, true)),
        ("space = NOPE", vec![]),
        ("type = folder", vec![]),
    ];
    for (cql, expected) in &cases {
        let got = ids_of(&walk_cql(&sim, cql, 7).await);
        assert_eq!(&got, expected, "{cql}");
    }
    let mut descending = cases[4].1.clone();
    descending.reverse();
    let got = ids_of(&walk_cql(&sim, "order by lastmodified desc", 11).await);
    assert_eq!(got, descending);
    // The scrambled update times make time order differ from id order, so ordering is really tested.
    assert_ne!(cases[4].1, select(&|_| true, false));
}

#[tokio::test]
async fn cql_results_carry_type_space_version_and_container() {
    let sim = Sim::start(tiny_site()).await;
    let body = sim
        .ok("/wiki/rest/api/content/search?cql=space%3DENG%20and%20type%20in%20(comment,attachment)&expand=version,space,container,ancestors")
        .await;
    let results = body["results"].as_array().expect("results");
    let reply = results.iter().find(|r| r["id"] == "121").expect("reply 121");
    assert_eq!(reply["type"], "comment");
    assert_eq!(reply["container"]["id"], "102");
    assert_eq!(reply["ancestors"][0]["id"], "120");
    assert_eq!(reply["space"]["key"], "ENG");
    assert_eq!(reply["version"]["number"], 1);
    assert_eq!(reply["version"]["when"], "2024-01-01T00:02:01.000Z");
    let pdf = results.iter().find(|r| r["id"] == "att130").expect("att130");
    assert_eq!(pdf["extensions"]["mediaType"], "application/pdf");
    assert_eq!(pdf["container"]["id"], "102");
    let pages = sim.ok("/wiki/rest/api/content/search?cql=type%3Dpage&expand=ancestors").await;
    let details =
        pages["results"].as_array().expect("results").iter().find(|r| r["id"] == "102").expect("102");
    assert_eq!(ids_of(details["ancestors"].as_array().expect("ancestors")), ["100", "101"]);
}

// ---------------------------------------------------------------------------------------------------------
// Restrictions, groups, users.

fn account_ids(array: &Value) -> BTreeSet<String> {
    array["results"]
        .as_array()
        .expect("results")
        .iter()
        .map(|u| u["accountId"].as_str().expect("id").to_string())
        .collect()
}

fn group_ids(array: &Value) -> BTreeSet<String> {
    array["results"]
        .as_array()
        .expect("results")
        .iter()
        .map(|g| g["id"].as_str().expect("id").to_string())
        .collect()
}

#[tokio::test]
async fn restrictions_match_the_model() {
    let site = tiny_site();
    let sim = Sim::start(site.clone()).await;
    for c in site.contents.values() {
        let body = sim.ok(&format!("/wiki/rest/api/content/{}/restriction/byOperation", c.id)).await;
        let parsed: v1::RestrictionsByOperation = serde_json::from_value(body.clone()).expect("wire type");
        assert!(parsed.read.is_some() && parsed.update.is_some());
        for (op, model) in [("read", &c.read_restriction), ("update", &c.update_restriction)] {
            let r = &body[op]["restrictions"];
            assert_eq!(account_ids(&r["user"]), model.users, "{} {op}", c.id);
            assert_eq!(group_ids(&r["group"]), model.groups, "{} {op}", c.id);
        }
    }
    // An account that no longer exists is still named, as an unknown user.
    let gone = sim.ok("/wiki/rest/api/content/103/restriction/byOperation").await;
    assert_eq!(gone["read"]["restrictions"]["user"]["results"][0]["type"], "unknown");
    // Groups carry their name and id.
    let design = sim.ok("/wiki/rest/api/content/101/restriction/byOperation/read").await;
    assert_eq!(design["restrictions"]["group"]["results"][0]["name"], "managers");
    // Comments and attachments have no restriction of their own.
    for id in ["120", "att130"] {
        let body = sim.ok(&format!("/wiki/rest/api/content/{id}/restriction/byOperation")).await;
        assert!(
            body["read"]["restrictions"]["user"]["results"].as_array().is_some_and(Vec::is_empty),
            "{id}"
        );
    }
    // `expand` chooses what is expanded.
    let only_users =
        sim.ok("/wiki/rest/api/content/102/restriction/byOperation?expand=restrictions.user,content").await;
    assert!(only_users["read"]["restrictions"].get("group").is_none());
    assert!(only_users["read"]["restrictions"]["_expandable"]["group"].is_string());
    assert_eq!(only_users["read"]["content"]["id"], "102");
}

#[tokio::test]
async fn content_search_expands_read_restrictions_of_many_items_at_once() {
    let site = big_site();
    let sim = Sim::start(site.clone()).await;
    let expand = "ancestors,restrictions.read.restrictions.user,restrictions.read.restrictions.group";
    let mut next = Some(format!(
        "/wiki/rest/api/content/search?cql=type%20in%20(page,blogpost)&limit=50&expand={expand}"
    ));
    let mut seen = BTreeSet::new();
    while let Some(path) = next {
        let body = sim.ok(&path).await;
        let parsed: v1::ContentArray = serde_json::from_value(body.clone()).expect("wire type");
        for item in &parsed.results {
            let id: u64 = item.id.parse().expect("numeric id");
            let model = &site.contents[&id];
            let read = item.restrictions.as_ref().and_then(|r| r.read.as_ref()).expect("read expanded");
            let restrictions = read.restrictions.as_ref().expect("users and groups");
            let users = restrictions.user.as_ref().expect("users expanded");
            let groups = restrictions.group.as_ref().expect("groups expanded");
            let user_ids: BTreeSet<String> =
                users.results.iter().filter_map(|u| u.account_id.clone()).collect();
            let group_ids: BTreeSet<String> = groups.results.iter().map(|g| g.id.clone()).collect();
            if model.read_restriction.users.len() <= 100 {
                assert_eq!(user_ids, model.read_restriction.users, "{id}");
            } else {
                assert_eq!(users.size, Some(100), "{id}: a full first page of users");
                assert!(user_ids.is_subset(&model.read_restriction.users));
            }
            assert_eq!(group_ids, model.read_restriction.groups, "{id}");
            assert!(item.restrictions.as_ref().and_then(|r| r.update.as_ref()).is_none(), "update not asked");
            let ancestors: Vec<u64> = item
                .ancestors
                .as_ref()
                .expect("ancestors expanded")
                .iter()
                .map(|a| a.id.parse().expect("numeric id"))
                .collect();
            assert_eq!(ancestors, site.ancestors(id), "{id}");
            assert!(seen.insert(id), "{id} served twice");
        }
        let raw = &body["results"][0]["restrictions"];
        if !raw.is_null() {
            assert!(
                raw["_expandable"]["update"].is_string(),
                "the update restriction stays expandable: {raw}"
            );
        }
        next = parsed.links.and_then(|l| l.next).map(|n| format!("/wiki{n}"));
    }
    let current: BTreeSet<u64> =
        site.contents.values().filter(|c| c.status == Status::Current).map(|c| c.id).collect();
    assert_eq!(seen, current);
    // Without the expansion, restrictions stay a link.
    let plain = sim.ok("/wiki/rest/api/content/search?cql=type%3Dpage&limit=1").await;
    assert!(plain["results"][0].get("restrictions").is_none());
    assert!(plain["results"][0]["_expandable"]["restrictions"].is_string());
}

#[tokio::test]
async fn cql_id_lists_select_those_items_with_their_labels() {
    let site = big_site();
    let sim = Sim::start(site.clone()).await;
    let cql: String = url::form_urlencoded::byte_serialize(
        b"id in (200, \"102\", att130, 120, 999999, 200) and type in (page, attachment)",
    )
    .collect();
    let body = sim.ok(&format!("/wiki/rest/api/content/search?cql={cql}&expand=metadata.labels")).await;
    let parsed: v1::ContentArray = serde_json::from_value(body).expect("wire type");
    let ids: Vec<&str> = parsed.results.iter().map(|c| c.id.as_str()).collect();
    assert_eq!(ids, ["102", "att130", "200"], "listed ids of the asked types, in id order, once");
    for item in &parsed.results {
        let labels = item.metadata.as_ref().and_then(|m| m.labels.as_ref()).expect("labels expanded");
        let mut names: Vec<String> = labels.results.iter().map(|l| l.name.clone()).collect();
        names.sort();
        let mut want = match item.id.parse::<u64>() {
            Ok(id) => site.contents[&id].labels.clone(),
            Err(_) => Vec::new(),
        };
        want.sort();
        assert_eq!(names, want, "{}", item.id);
        assert_eq!(labels.size, Some(want.len() as u32));
    }
    // Archived content is found by id only when the context asks for it.
    let archived: String = url::form_urlencoded::byte_serialize(b"id = 104").collect();
    let current = sim.ok(&format!("/wiki/rest/api/content/search?cql={archived}")).await;
    assert_eq!(current["size"], 0);
    let context: String =
        url::form_urlencoded::byte_serialize(br#"{"contentStatuses":["current","archived"]}"#).collect();
    let both = sim.ok(&format!("/wiki/rest/api/content/search?cql={archived}&cqlcontext={context}")).await;
    assert_eq!(both["results"][0]["id"], "104");
}

#[tokio::test]
async fn long_restrictions_page_by_offset() {
    let site = big_site();
    let sim = Sim::start(site.clone()).await;
    let model = &site.contents[&1_000].read_restriction.users;
    assert_eq!(model.len(), 150);
    let whole = sim.ok("/wiki/rest/api/content/1000/restriction/byOperation").await;
    assert_eq!(whole["read"]["restrictions"]["user"]["size"], 100);
    let mut seen = Vec::new();
    let mut start = 0;
    loop {
        let body = sim
            .ok(&format!("/wiki/rest/api/content/1000/restriction/byOperation/read?start={start}&limit=30"))
            .await;
        let users = &body["restrictions"]["user"];
        let page: Vec<String> = account_ids(users).into_iter().collect();
        let size = users["size"].as_u64().expect("size") as usize;
        assert_eq!(size, page.len());
        seen.extend(page);
        if size < 30 {
            break;
        }
        start += size;
    }
    assert_eq!(seen.len(), 150, "no duplicates");
    assert_eq!(seen.into_iter().collect::<BTreeSet<_>>(), *model);
}

#[tokio::test]
async fn groups_and_members_match_the_model() {
    let site = big_site();
    let sim = Sim::start(site.clone()).await;
    let mut listed = Vec::new();
    let mut next = Some("/wiki/rest/api/group?limit=1".to_string());
    while let Some(path) = next {
        let body = sim.ok(&path).await;
        listed.extend(group_ids(&body));
        next = body["_links"]["next"].as_str().map(|n| format!("/wiki{n}"));
    }
    assert_eq!(listed, site.groups.iter().map(|g| g.id.clone()).collect::<Vec<_>>());
    let eng = sim.ok("/wiki/rest/api/group/by-id?id=g-eng").await;
    assert_eq!((eng["name"].as_str(), eng["type"].as_str()), (Some("engineering"), Some("group")));
    for group in &site.groups {
        let mut members = Vec::new();
        let mut start = 0;
        loop {
            let body = sim
                .ok(&format!(
                    "/wiki/rest/api/group/{}/membersByGroupId?start={start}&limit=170&shouldReturnTotalSize=true",
                    group.id
                ))
                .await;
            assert_eq!(body["totalSize"], group.members.len());
            let page = account_ids(&body);
            let size = page.len();
            members.extend(page);
            if size < 170 {
                break;
            }
            start += size;
        }
        assert_eq!(members.len(), group.members.len(), "{}: no duplicates", group.id);
        assert_eq!(members.into_iter().collect::<BTreeSet<_>>(), group.members, "{}", group.id);
    }
    let members = sim.ok("/wiki/rest/api/group/g-eng/membersByGroupId").await;
    assert!(members.get("totalSize").is_none(), "total only when asked");
    let erin = members["results"]
        .as_array()
        .expect("results")
        .iter()
        .find(|u| u["accountId"] == "erin")
        .expect("erin");
    assert_eq!(erin["accountStatus"], "inactive");
}

#[tokio::test]
async fn users_bulk_and_current_user() {
    let sim = Sim::start(tiny_site()).await;
    let (status, body) = sim
        .post("/wiki/api/v2/users-bulk", &json!({"accountIds": ["alice", "dave", "erin", "nobody", "alice"]}))
        .await;
    assert_eq!(status, StatusCode::OK);
    let users: v2::MultiEntityResult<v2::User> = serde_json::from_value(body).expect("wire type");
    let ids: Vec<&str> = users.results.iter().map(|u| u.account_id.as_str()).collect();
    assert_eq!(ids, ["alice", "dave", "erin"]);
    assert_eq!(users.results[0].email.as_deref(), Some("alice@example.com"));
    assert_eq!(users.results[1].email.as_deref(), Some(""), "dave hides his email");
    assert_eq!(users.results[1].personal_space_id.as_deref(), Some("3"));
    assert_eq!(users.results[2].account_status.as_deref(), Some("inactive"));
    let too_many: Vec<String> = (0..251).map(|n| format!("u{n}")).collect();
    let (status, _) = sim.post("/wiki/api/v2/users-bulk", &json!({ "accountIds": too_many })).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let (status, _) = sim.post("/wiki/api/v2/users-bulk", &json!({"ids": []})).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);

    let me: v1::User =
        serde_json::from_value(sim.ok("/wiki/rest/api/user/current").await).expect("wire type");
    assert_eq!(me.account_id.as_deref(), Some("admin"));
    assert_eq!(me.email.as_deref(), Some(EMAIL));
    assert_eq!(me.time_zone.as_deref(), Some("Etc/GMT-10"), "UTC+10, in the Etc zones' inverted sign");
}

// ---------------------------------------------------------------------------------------------------------
// Attachment bytes.

#[tokio::test]
async fn attachment_download_redirects_to_a_media_url_that_serves_the_bytes() {
    let site = tiny_site();
    let sim = Sim::start(site.clone()).await;
    for (container, id) in [(102, 130), (100, 131), (200, 230)] {
        let response =
            sim.get(&format!("/wiki/rest/api/content/{container}/child/attachment/att{id}/download")).await;
        assert_eq!(response.status(), StatusCode::FOUND);
        let location = response.headers()["location"].to_str().expect("location").to_string();
        let file = &site.attachments[&id];
        assert!(
            location.starts_with(&format!("{}/_media/file/{}/binary?token=", sim.origin, file.file_id)),
            "{location}"
        );
        assert!(!location.contains(TOKEN), "the media URL must not carry the admin credential");
        // Media URLs carry their own token: no Basic auth.
        let bytes = sim.client.get(&location).send().await.expect("media GET");
        assert_eq!(bytes.status(), StatusCode::OK);
        assert_eq!(bytes.headers()["content-type"], file.file.kind.media_type());
        assert_eq!(
            bytes.bytes().await.expect("bytes").as_ref(),
            permdex::sim::files::render(&file.file).as_slice()
        );
        let forged = location.replacen("token=", "token=0", 1);
        assert_eq!(sim.client.get(&forged).send().await.expect("GET").status(), StatusCode::UNAUTHORIZED);
    }
    let numeric = sim.get("/wiki/rest/api/content/102/child/attachment/130/download").await;
    assert_eq!(numeric.status(), StatusCode::FOUND);
    // downloadLink answers 401 to API tokens, as on real sites.
    let att = sim.ok("/wiki/api/v2/attachments/att130").await;
    let download = att["downloadLink"].as_str().expect("downloadLink");
    assert_eq!(att["_links"]["download"], download);
    assert_eq!(sim.get(&format!("/wiki{download}")).await.status(), StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn single_entities_match_the_model() {
    let site = tiny_site();
    let sim = Sim::start(site.clone()).await;
    let page: v2::Page = serde_json::from_value(
        sim.ok("/wiki/api/v2/pages/102?body-format=storage&include-labels=true").await,
    )
    .expect("page");
    let model = &site.contents[&102];
    assert_eq!(page.parent_id.as_deref(), Some("101"));
    assert_eq!(page.space_id, "1");
    assert_eq!(page.body.and_then(|b| b.storage).map(|s| s.value), Some(model.body.clone()));
    assert_eq!(
        page.labels.map(|l| l.results.into_iter().map(|x| x.name).collect::<Vec<_>>()),
        Some(model.labels.clone())
    );
    assert_eq!(page.version.map(|v| v.number), Some(model.version));
    assert!(page.links.base.is_some());
    let ancestors = sim.ok("/wiki/api/v2/pages/102/ancestors").await;
    assert_eq!(ids_of(ancestors["results"].as_array().expect("results")), ["100", "101"]);
    let nearest = sim.ok("/wiki/api/v2/pages/102/ancestors?limit=1").await;
    assert_eq!(ids_of(nearest["results"].as_array().expect("results")), ["101"]);
    let reply: v2::Comment =
        serde_json::from_value(sim.ok("/wiki/api/v2/footer-comments/121").await).expect("comment");
    assert_eq!((reply.parent_comment_id.as_deref(), reply.page_id.as_deref()), (Some("120"), Some("102")));
    let attachment: v2::Attachment =
        serde_json::from_value(sim.ok("/wiki/api/v2/attachments/130").await).expect("attachment");
    assert_eq!(attachment.id, "att130");
    assert_eq!(attachment.file_id.as_deref(), Some(site.attachments[&130].file_id.as_str()));
    assert_eq!(attachment.media_type.as_deref(), Some("application/pdf"));
    let space: v2::Space = serde_json::from_value(sim.ok("/wiki/api/v2/spaces/3").await).expect("space");
    assert_eq!(
        (space.kind.as_str(), space.key.as_str(), space.homepage_id.as_deref()),
        ("personal", "~dave", Some("300"))
    );
    let perms = sim.ok("/wiki/api/v2/spaces/2/permissions").await;
    assert_eq!(perms["results"][0]["principal"], json!({"type": "role", "id": "ANONYMOUS"}));
    assert_eq!(perms["results"][0]["operation"], json!({"key": "read", "targetType": "space"}));
}

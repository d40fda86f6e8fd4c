//! The simulated Jira REST v3 API over loopback, read back with the crawler's wire types.
//!
//! Checks that every endpoint's responses (and documented errors) validate against Atlassian's OpenAPI
//! spec, that Atlassian's own example responses parse with the wire types, that every listing walks
//! each item exactly once at several page sizes, and that JQL, security levels, bulk fetch and
//! attachment downloads behave as on Jira Cloud.

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;

use chrono::{FixedOffset, NaiveDateTime, TimeZone};
use permdex::atlassian::wire::jira as wire;
use permdex::sim::fixture::tiny_site;
use permdex::sim::http::{serve, Credentials, SimState};
use permdex::sim::model::*;
use permdex::sim::{Scale, SimConfig, Site};
use reqwest::StatusCode;
use serde::de::DeserializeOwned;
use serde_json::{json, Value};

const EMAIL: &str = "admin@example.com";
const TOKEN: &str = "jira-test-token";
/// 2024-01-01T00:00:00Z, the fixture site's epoch.
const T0: Millis = 1_704_067_200_000;
const UNBOUNDED: &str =
    "Unbounded JQL queries are not allowed here. Please add a search restriction to your query.";

fn shared_dir() -> PathBuf {
    PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../shared"))
}

fn spec_path() -> PathBuf {
    shared_dir().join("atlassian/specs/jira-platform-v3.swagger-v3.v3.json")
}

/// A running simulator and a client that does not follow redirects.
struct Sim {
    base: String,
    client: reqwest::Client,
    _stop: tokio::sync::oneshot::Sender<()>,
}

impl Sim {
    async fn start(site: Site) -> Sim {
        let credentials = Credentials { email: EMAIL.into(), token: TOKEN.into() };
        let state = SimState::new(site, SimConfig::new(0, Scale::Tiny), credentials);
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind loopback");
        let base = format!("http://{}", listener.local_addr().expect("local addr"));
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        tokio::spawn(serve(listener, state, async {
            let _ = stopped.await;
        }));
        let client = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .expect("http client");
        Sim { base, client, _stop: stop }
    }

    async fn get(&self, path: &str) -> (StatusCode, Value) {
        let response = self
            .client
            .get(format!("{}{path}", self.base))
            .basic_auth(EMAIL, Some(TOKEN))
            .send()
            .await
            .expect("request");
        let status = response.status();
        let text = response.text().await.expect("body");
        (status, serde_json::from_str(&text).unwrap_or(Value::String(text)))
    }

    async fn post(&self, path: &str, body: &Value) -> (StatusCode, Value) {
        let response = self
            .client
            .post(format!("{}{path}", self.base))
            .basic_auth(EMAIL, Some(TOKEN))
            .json(body)
            .send()
            .await
            .expect("request");
        let status = response.status();
        let text = response.text().await.expect("body");
        (status, serde_json::from_str(&text).unwrap_or(Value::String(text)))
    }

    /// GETs `path`, expects 200 and reads the body as `T`.
    async fn get_as<T: DeserializeOwned>(&self, path: &str) -> T {
        let (status, body) = self.get(path).await;
        assert_eq!(status, StatusCode::OK, "GET {path}: {body}");
        serde_json::from_value(body).unwrap_or_else(|e| panic!("GET {path} does not parse: {e}"))
    }

    async fn search(&self, body: Value) -> wire::SearchAndReconcileResults {
        let (status, value) = self.post("/rest/api/3/search/jql", &body).await;
        assert_eq!(status, StatusCode::OK, "search {body}: {value}");
        serde_json::from_value(value).expect("search results parse")
    }

    /// Every issue id a JQL query yields, walking `nextPageToken` with pages of `page_size`.
    async fn search_all(&self, jql: &str, page_size: usize, fields: &[&str]) -> Vec<wire::IssueBean> {
        let mut issues = Vec::new();
        let mut token: Option<String> = None;
        for _ in 0..10_000 {
            let mut body = json!({"jql": jql, "maxResults": page_size, "fields": fields});
            if let Some(t) = &token {
                body["nextPageToken"] = json!(t);
            }
            let page = self.search(body).await;
            assert!(page.issues.len() <= page_size, "{jql}: page larger than {page_size}");
            assert_eq!(
                page.is_last,
                Some(page.next_page_token.is_none()),
                "{jql}: isLast disagrees with token"
            );
            issues.extend(page.issues);
            match page.next_page_token {
                Some(t) => token = Some(t),
                None => return issues,
            }
        }
        panic!("{jql}: the token walk does not end");
    }
}

fn ids_of(issues: &[wire::IssueBean]) -> Vec<u64> {
    issues.iter().map(|i| i.id.parse().expect("numeric issue id")).collect()
}

// ---------------------------------------------------------------------------------------------------
// A larger site for paging: tiny_site plus generated issues, comments, users, projects, level members.
// ---------------------------------------------------------------------------------------------------

const BIG_ISSUES: u64 = 240;
const BIG_COMMENTS: u64 = 130;
const BIG_USERS: usize = 120;
const BIG_PROJECTS: u64 = 130;
const BIG_LEVEL_MEMBERS: u64 = 37;

fn adf(text: &str) -> String {
    json!({"type": "doc", "version": 1, "content": [
        {"type": "paragraph", "content": [{"type": "text", "text": text}]}
    ]})
    .to_string()
}

fn big_site() -> Site {
    let mut site = tiny_site();
    // Issues in OPEN (10001): updated times repeat every 17 issues so ties are common; every 25th is archived.
    for n in 0..BIG_ISSUES {
        let id = 20_000 + n;
        site.issues.insert(
            id,
            Issue {
                id,
                key: format!("OPEN-{}", n + 2),
                project_id: 10001,
                issue_type: IssueType::Task,
                parent_id: None,
                summary: format!("Generated issue {n}"),
                description: adf(&format!("Body {n}")),
                reporter: Some("alice".into()),
                assignee: (n % 3 == 0).then(|| "bob".to_string()),
                security_level_id: None,
                status: ["To Do", "In Progress", "Done", "Blocked"][(n % 4) as usize].into(),
                priority: "Medium".into(),
                labels: vec![format!("l{}", n % 5)],
                created: T0 + (BIG_ISSUES - n) as i64 * 1_000,
                updated: T0 + (n % 17) as i64 * 60_000,
                archived: n % 25 == 24,
            },
        );
    }
    // Comments on OPEN-1 (10110): creation times out of id order, with ties.
    for n in 0..BIG_COMMENTS {
        let id = 30_000 + n;
        site.issue_comments.insert(
            id,
            IssueComment {
                id,
                issue_id: 10110,
                author: "bob".into(),
                body: adf(&format!("Comment {n}")),
                created: T0 + ((n * 7) % 50) as i64 * 1_000,
                updated: T0,
                visibility: None,
                internal: false,
            },
        );
    }
    // Users in a large group, a third of them inactive.
    let mut members = BTreeSet::new();
    for n in 0..BIG_USERS {
        let account_id = format!("user-{n:03}");
        site.users.push(User {
            account_id: account_id.clone(),
            display_name: format!("User {n}"),
            email: format!("user{n}@example.com"),
            email_hidden: n % 2 == 0,
            active: n % 3 != 0,
            account_type: Default::default(),
        });
        members.insert(account_id);
    }
    site.groups.push(Group { id: "g-many".into(), name: "many".into(), members });
    // Projects, some archived.
    for n in 0..BIG_PROJECTS {
        let id = 40_000 + n;
        site.projects.insert(
            id,
            Project {
                id,
                key: format!("PX{n:03}"),
                name: format!("Extra project {n}"),
                description: String::new(),
                lead: "carol".into(),
                permission_scheme_id: 2,
                security_scheme_id: None,
                roles: BTreeMap::new(),
                topic: 0,
                archived: n % 10 == 9,
                created: T0,
            },
        );
    }
    // An archived project whose issue must never be served.
    site.issues.insert(
        50_000,
        Issue {
            id: 50_000,
            key: "PX009-1".into(),
            project_id: 40_009,
            issue_type: IssueType::Task,
            parent_id: None,
            summary: "In an archived project".into(),
            description: adf("hidden"),
            reporter: None,
            assignee: None,
            security_level_id: None,
            status: "To Do".into(),
            priority: "Low".into(),
            labels: vec![],
            created: T0,
            updated: T0,
            archived: false,
        },
    );
    // A second security scheme with many members.
    site.security_schemes.insert(
        2,
        SecurityScheme {
            id: 2,
            name: "Big scheme".into(),
            description: String::new(),
            default_level_id: Some(6001),
            levels: vec![SecurityLevel {
                id: 6001,
                name: "Many".into(),
                description: String::new(),
                members: (0..BIG_LEVEL_MEMBERS)
                    .map(|n| LevelMember { id: 60_000 + n, holder: Holder::User(format!("user-{n:03}")) })
                    .collect(),
            }],
        },
    );
    site.reindex();
    site
}

/// The issues the admin can find: not archived and not in an archived project.
fn searchable(site: &Site) -> Vec<&Issue> {
    site.issues.values().filter(|i| !i.archived && !site.projects[&i.project_id].archived).collect()
}

// ---------------------------------------------------------------------------------------------------
// Spec validation
// ---------------------------------------------------------------------------------------------------

/// Validates bodies against the spec with one Python process: the same checks as
/// `shared/tools/validate_oas.py`, plus Jira's `ErrorCollection` for error responses the spec documents
/// without a schema, plus the holder objects that `expand` adds (the spec's `PermissionHolder` omits them,
/// so they are checked against `User`, `GroupName` and `ProjectRole` separately).
const VALIDATOR: &str = r##"
import json, sys
from openapi_schema_validator import OAS30Validator
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT4

spec = json.load(open(sys.argv[1]))
cases = json.load(open(sys.argv[2]))
components = spec.get("components", {})
registry = Registry().with_resource("urn:spec", Resource(contents=spec, specification=DRAFT4))

def ref(name):
    return {"$ref": "#/components/schemas/" + name}

def check(schema, body):
    validator = OAS30Validator({**schema, "components": components}, registry=registry)
    errors = sorted(validator.iter_errors(body), key=lambda e: list(e.path))
    return ["/".join(map(str, e.path)) + ": " + e.message[:200] for e in errors[:5]]

def response_schema(method, path, status):
    op = spec.get("paths", {}).get(path, {}).get(method.lower())
    if op is None:
        return None, "spec has no %s %s" % (method, path)
    resp = op.get("responses", {}).get(str(status)) or op.get("responses", {}).get("default")
    if resp is None:
        return None, "spec has no %s response for %s %s" % (status, method, path)
    if "$ref" in resp:
        resp = components["responses"][resp["$ref"].split("/")[-1]]
    content = resp.get("content", {})
    schema = (content.get("application/json") or next(iter(content.values()), {})).get("schema")
    if schema is None and int(status) >= 400:
        return ref("ErrorCollection"), None
    if schema is None:
        return None, "no schema"
    return schema, None

EXPANSIONS = {"user": "User", "group": "GroupName", "projectRole": "ProjectRole"}

def split_expansions(node, found):
    if isinstance(node, dict):
        holder = node.get("holder")
        if isinstance(holder, dict):
            for key, schema in EXPANSIONS.items():
                if key in holder:
                    found.append((ref(schema), holder.pop(key)))
        for value in node.values():
            split_expansions(value, found)
    elif isinstance(node, list):
        for value in node:
            split_expansions(value, found)

results = []
for case in cases:
    schema, problem = response_schema(case["method"], case["path"], case["status"])
    if problem:
        results.append([problem])
        continue
    body = case["body"]
    extra = []
    if case["holder_expansions"]:
        split_expansions(body, extra)
    errors = check(schema, body)
    for s, b in extra:
        errors += check(s, b)
    results.append(errors)
print(json.dumps(results))
"##;

#[derive(serde::Serialize)]
struct SpecCase {
    method: &'static str,
    path: &'static str,
    status: u16,
    body: Value,
    holder_expansions: bool,
    #[serde(skip)]
    request: String,
}

#[derive(Default)]
struct SpecCases(Vec<SpecCase>);

impl SpecCases {
    fn add(
        &mut self,
        method: &'static str,
        path: &'static str,
        request: &str,
        status: StatusCode,
        body: Value,
    ) {
        self.0.push(SpecCase {
            method,
            path,
            status: status.as_u16(),
            body,
            holder_expansions: false,
            request: request.to_string(),
        });
    }

    fn add_expanded(&mut self, path: &'static str, request: &str, status: StatusCode, body: Value) {
        self.add("GET", path, request, status, body);
        if let Some(last) = self.0.last_mut() {
            last.holder_expansions = true;
        }
    }

    fn validate(&self) {
        let dir = tempfile::tempdir().expect("temp dir");
        let cases_path = dir.path().join("cases.json");
        let script_path = dir.path().join("validate.py");
        std::fs::write(&cases_path, serde_json::to_vec(&self.0).expect("cases json")).expect("write cases");
        std::fs::write(&script_path, VALIDATOR).expect("write validator");
        let output = std::process::Command::new("python3")
            .arg(&script_path)
            .arg(spec_path())
            .arg(&cases_path)
            .output()
            .expect("python3 runs");
        assert!(output.status.success(), "validator failed: {}", String::from_utf8_lossy(&output.stderr));
        let results: Vec<Vec<String>> = serde_json::from_slice(&output.stdout).expect("validator output");
        assert_eq!(results.len(), self.0.len());
        let failures: Vec<String> = self
            .0
            .iter()
            .zip(&results)
            .filter(|(_, errors)| !errors.is_empty())
            .map(|(case, errors)| {
                format!("{} {} -> {}: {}", case.method, case.request, case.status, errors.join("; "))
            })
            .collect();
        assert!(failures.is_empty(), "responses that do not match the spec:\n{}", failures.join("\n"));
    }
}

#[tokio::test]
async fn every_endpoint_matches_the_spec() {
    let sim = Sim::start(big_site()).await;
    let mut cases = SpecCases::default();

    let gets: &[(&'static str, &str)] = &[
        ("/rest/api/3/search/jql", "/rest/api/3/search/jql?jql=project%20%3D%20APP"),
        (
            "/rest/api/3/search/jql",
            "/rest/api/3/search/jql?jql=project%20in%20(APP%2C%20OPEN)&fields=*all&maxResults=5",
        ),
        ("/rest/api/3/search/jql", "/rest/api/3/search/jql?jql=project%20%3D%20APP&fields=key"),
        ("/rest/api/3/search/jql", "/rest/api/3/search/jql?jql=ORDER%20BY%20key"),
        (
            "/rest/api/3/search/jql",
            "/rest/api/3/search/jql?jql=project%20%3D%20APP%20OR%20project%20%3D%20OPEN",
        ),
        ("/rest/api/3/search/jql", "/rest/api/3/search/jql?jql=project%20%3D%20NOPE"),
        ("/rest/api/3/issue/{issueIdOrKey}", "/rest/api/3/issue/APP-2"),
        ("/rest/api/3/issue/{issueIdOrKey}", "/rest/api/3/issue/10102"),
        ("/rest/api/3/issue/{issueIdOrKey}", "/rest/api/3/issue/OPEN-1?fields=comment,attachment"),
        ("/rest/api/3/issue/{issueIdOrKey}", "/rest/api/3/issue/APP-4"),
        ("/rest/api/3/issue/{issueIdOrKey}/comment", "/rest/api/3/issue/APP-1/comment"),
        (
            "/rest/api/3/issue/{issueIdOrKey}/comment",
            "/rest/api/3/issue/OPEN-1/comment?startAt=5&maxResults=10&orderBy=-created",
        ),
        ("/rest/api/3/issue/{issueIdOrKey}/comment", "/rest/api/3/issue/NOPE-1/comment"),
        ("/rest/api/3/issue/{issueIdOrKey}/comment", "/rest/api/3/issue/APP-1/comment?orderBy=author"),
        ("/rest/api/3/attachment/{id}", "/rest/api/3/attachment/10300"),
        ("/rest/api/3/attachment/{id}", "/rest/api/3/attachment/999"),
        ("/rest/api/3/attachment/content/{id}", "/rest/api/3/attachment/content/999"),
        ("/rest/api/3/project/search", "/rest/api/3/project/search"),
        (
            "/rest/api/3/project/search",
            "/rest/api/3/project/search?status=archived&status=live&maxResults=100&startAt=20",
        ),
        ("/rest/api/3/project/search", "/rest/api/3/project/search?orderBy=issueCount"),
        ("/rest/api/3/project/{projectIdOrKey}", "/rest/api/3/project/APP"),
        ("/rest/api/3/project/{projectIdOrKey}", "/rest/api/3/project/10001"),
        ("/rest/api/3/project/{projectIdOrKey}", "/rest/api/3/project/NOPE"),
        ("/rest/api/3/project/{projectKeyOrId}/permissionscheme", "/rest/api/3/project/APP/permissionscheme"),
        (
            "/rest/api/3/project/{projectKeyOrId}/permissionscheme",
            "/rest/api/3/project/LEAD/permissionscheme?expand=permissions",
        ),
        (
            "/rest/api/3/project/{projectKeyOrId}/permissionscheme",
            "/rest/api/3/project/NOPE/permissionscheme",
        ),
        ("/rest/api/3/permissionscheme/{schemeId}", "/rest/api/3/permissionscheme/2?expand=permissions"),
        ("/rest/api/3/permissionscheme/{schemeId}", "/rest/api/3/permissionscheme/77"),
        ("/rest/api/3/project/{projectIdOrKey}/role", "/rest/api/3/project/APP/role"),
        ("/rest/api/3/project/{projectIdOrKey}/role", "/rest/api/3/project/NOPE/role"),
        ("/rest/api/3/project/{projectIdOrKey}/role/{id}", "/rest/api/3/project/APP/role/10001"),
        (
            "/rest/api/3/project/{projectIdOrKey}/role/{id}",
            "/rest/api/3/project/APP/role/10002?excludeInactiveUsers=true",
        ),
        ("/rest/api/3/project/{projectIdOrKey}/role/{id}", "/rest/api/3/project/APP/role/99"),
        ("/rest/api/3/project/{projectIdOrKey}/role/{id}", "/rest/api/3/project/APP/role/abc"),
        (
            "/rest/api/3/project/{projectKeyOrId}/issuesecuritylevelscheme",
            "/rest/api/3/project/APP/issuesecuritylevelscheme",
        ),
        (
            "/rest/api/3/project/{projectKeyOrId}/issuesecuritylevelscheme",
            "/rest/api/3/project/OPEN/issuesecuritylevelscheme",
        ),
        ("/rest/api/3/issuesecurityschemes/project", "/rest/api/3/issuesecurityschemes/project"),
        (
            "/rest/api/3/issuesecurityschemes/project",
            "/rest/api/3/issuesecurityschemes/project?projectId=10000&startAt=0&maxResults=1",
        ),
        (
            "/rest/api/3/issuesecurityschemes/project",
            "/rest/api/3/issuesecurityschemes/project?issueSecuritySchemeId=x",
        ),
        ("/rest/api/3/issuesecurityschemes/level", "/rest/api/3/issuesecurityschemes/level?schemeId=1"),
        (
            "/rest/api/3/issuesecurityschemes/level",
            "/rest/api/3/issuesecurityschemes/level?id=5001&onlyDefault=true&maxResults=2",
        ),
        (
            "/rest/api/3/issuesecurityschemes/level/member",
            "/rest/api/3/issuesecurityschemes/level/member?schemeId=1&levelId=5001",
        ),
        (
            "/rest/api/3/issuesecurityschemes/level/member",
            "/rest/api/3/issuesecurityschemes/level/member?startAt=30&maxResults=5",
        ),
        (
            "/rest/api/3/issuesecurityschemes/level/member",
            "/rest/api/3/issuesecurityschemes/level/member?schemeId=x",
        ),
        ("/rest/api/3/group/member", "/rest/api/3/group/member?groupId=g-eng&includeInactiveUsers=true"),
        ("/rest/api/3/group/member", "/rest/api/3/group/member?groupname=many&startAt=3&maxResults=7"),
        ("/rest/api/3/group/member", "/rest/api/3/group/member?groupId=g-none"),
        ("/rest/api/3/group/member", "/rest/api/3/group/member"),
        ("/rest/api/3/users/search", "/rest/api/3/users/search?maxResults=10"),
        ("/rest/api/3/group/bulk", "/rest/api/3/group/bulk"),
        ("/rest/api/3/group/bulk", "/rest/api/3/group/bulk?startAt=1&maxResults=1"),
        ("/rest/api/3/group/bulk", "/rest/api/3/group/bulk?groupId=g-mgr&groupName=many"),
        ("/rest/api/3/group/bulk", "/rest/api/3/group/bulk?maxResults=lots"),
        ("/rest/api/3/project/search", "/rest/api/3/project/search?expand=lead,description&maxResults=3"),
        ("/rest/api/3/myself", "/rest/api/3/myself"),
        ("/rest/api/3/field", "/rest/api/3/field"),
    ];
    for (template, request) in gets {
        let (status, body) = sim.get(request).await;
        assert!(body.is_object() || body.is_array(), "{request}: body is not JSON: {body}");
        cases.add("GET", template, request, status, body);
    }

    let expanded: &[(&'static str, &str)] = &[
        (
            "/rest/api/3/project/{projectKeyOrId}/permissionscheme",
            "/rest/api/3/project/APP/permissionscheme?expand=all",
        ),
        (
            "/rest/api/3/permissionscheme/{schemeId}",
            "/rest/api/3/permissionscheme/3?expand=user,group,projectRole",
        ),
        (
            "/rest/api/3/issuesecurityschemes/level/member",
            "/rest/api/3/issuesecurityschemes/level/member?expand=all",
        ),
    ];
    for (template, request) in expanded {
        let (status, body) = sim.get(request).await;
        assert_eq!(status, StatusCode::OK, "{request}: {body}");
        cases.add_expanded(template, request, status, body);
    }

    let posts: &[(&'static str, Value)] = &[
        (
            "/rest/api/3/search/jql",
            json!({"jql": "project = APP ORDER BY updated DESC", "fields": ["*navigable"]}),
        ),
        (
            "/rest/api/3/search/jql",
            json!({"jql": "updated >= \"2024/01/01\"", "fields": ["id"], "maxResults": 3}),
        ),
        ("/rest/api/3/search/jql", json!({"jql": ""})),
        ("/rest/api/3/search/jql", json!({"jql": "summary ~ crash"})),
        ("/rest/api/3/search/approximate-count", json!({"jql": "project in (APP, OPEN)"})),
        ("/rest/api/3/search/approximate-count", json!({"jql": ""})),
        ("/rest/api/3/search/approximate-count", json!({"jql": "summary ~ crash"})),
        (
            "/rest/api/3/issue/bulkfetch",
            json!({"issueIdsOrKeys": ["APP-1", "10101", "NOPE-1"], "fields": ["summary", "security"]}),
        ),
        ("/rest/api/3/issue/bulkfetch", json!({"issueIdsOrKeys": ["APP-3"]})),
        ("/rest/api/3/comment/list", json!({"ids": [10202, 10200, 30005, 999, 10200]})),
        ("/rest/api/3/comment/list", json!({"ids": []})),
        ("/rest/api/3/comment/list", json!({"ids": (0..1001).collect::<Vec<_>>()})),
        ("/rest/api/3/comment/list", json!({"ids": ["x"]})),
        (
            "/rest/api/3/issue/bulkfetch",
            json!({"issueIdsOrKeys": (0..101).map(|n| format!("X-{n}")).collect::<Vec<_>>()}),
        ),
    ];
    for (template, body) in posts {
        let (status, response) = sim.post(template, body).await;
        cases.add("POST", template, &body.to_string(), status, response);
    }

    // Every kind of answer must have been exercised, not only the happy paths.
    let statuses: BTreeSet<u16> = cases.0.iter().map(|c| c.status).collect();
    assert_eq!(statuses, [200, 400, 404].into(), "statuses seen");
    cases.validate();
}

// ---------------------------------------------------------------------------------------------------
// Fixtures
// ---------------------------------------------------------------------------------------------------

fn fixture(name: &str) -> String {
    let path = shared_dir().join("atlassian/fixtures/jira").join(name);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("read {}: {e}", path.display()))
}

fn parse_fixture<T: DeserializeOwned>(name: &str) -> T {
    serde_json::from_str(&fixture(name)).unwrap_or_else(|e| panic!("fixture {name} does not parse: {e}"))
}

#[test]
fn every_fixture_parses_with_its_wire_type() {
    // Each fixture and a check that its content arrived, not merely that parsing did not fail.
    type Check = fn(&str);
    let checks: Vec<(&str, Check)> = vec![
        ("attachment_meta_GET.json", |f| {
            let a: wire::AttachmentMetadata = parse_fixture(f);
            assert_eq!((a.id, a.size, a.filename.as_str()), (10000, Some(23123), "picture.jpg"));
        }),
        ("changelog_bulkfetch_POST.json", |f| {
            let c: wire::BulkChangelogResults = parse_fixture(f);
            assert_eq!(c.issue_change_logs[0].issue_id, "10100");
            assert_eq!(
                c.issue_change_logs[0].change_histories[0].items[0].to_text.as_deref(),
                Some("new summary")
            );
        }),
        ("field_GET.json", |f| {
            let fields: Vec<wire::FieldDetails> = parse_fixture(f);
            assert_eq!(fields.iter().map(|d| d.id.as_str()).collect::<Vec<_>>(), ["description", "summary"]);
            assert_eq!(fields[0].schema.as_ref().map(|s| s.kind.as_str()), Some("string"));
        }),
        ("group_bulk_GET.json", |f| {
            let page: wire::PageBean<wire::GroupName> = parse_fixture(f);
            assert_eq!(page.values[1].group_id.as_deref(), Some("6e87dc72-4f1f-421f-9382-2fee8b652487"));
        }),
        ("group_member_GET.json", |f| {
            let page: wire::PageBean<wire::User> = parse_fixture(f);
            assert_eq!((page.is_last, page.total, page.values.len()), (Some(false), Some(5), 2));
            assert_eq!(page.values[1].active, Some(false));
        }),
        ("issue_GET.json", |f| {
            let issue: wire::IssueBean = parse_fixture(f);
            let fields = issue.fields.expect("fields");
            assert_eq!(fields.description.as_ref().and_then(|d| d["type"].as_str()), Some("doc"));
            let comments = fields.comment.expect("comments");
            let visibility = comments.comments[0].visibility.as_ref().expect("visibility");
            assert_eq!(visibility.kind, wire::VisibilityType::Role);
            assert_eq!(fields.attachment.expect("attachments")[0].id, "10000");
            assert!(fields.other.contains_key("worklog"));
        }),
        ("issue_bulkfetch_POST.json", |f| {
            let r: wire::BulkIssueResults = parse_fixture(f);
            assert_eq!(r.issues.len(), 3);
            let assignee = r.issues[0].fields.as_ref().and_then(|f| f.assignee.clone()).flatten();
            assert_eq!(assignee.and_then(|u| u.time_zone).as_deref(), Some("Australia/Sydney"));
        }),
        ("issue_comments_GET.json", |f| {
            let page: wire::PageOfComments = parse_fixture(f);
            assert_eq!((page.total, page.comments[0].id.as_str()), (Some(1), "10000"));
        }),
        ("issuesecurityschemes_level_GET.json", |f| {
            let page: wire::PageBean<wire::SecurityLevel> = parse_fixture(f);
            assert_eq!(page.values[0].issue_security_scheme_id.as_deref(), Some("10001"));
        }),
        ("issuesecurityschemes_level_member_GET.json", |f| {
            let page: wire::PageBean<wire::SecurityLevelMember> = parse_fixture(f);
            assert_eq!(page.values[0].holder.kind, wire::HolderType::Group);
            assert_eq!(page.values[0].issue_security_scheme_id.as_deref(), Some("10010"));
        }),
        ("issuesecurityschemes_members_GET.json", |f| {
            let page: wire::PageBean<wire::SecurityLevelMember> = parse_fixture(f);
            let kinds: Vec<_> = page.values.iter().map(|m| m.holder.kind.clone()).collect();
            assert_eq!(kinds, [wire::HolderType::User, wire::HolderType::Group, wire::HolderType::Assignee]);
            assert_eq!(page.values[0].id, "10000");
            assert_eq!(page.values[1].holder.value.as_deref(), Some("9c559b11-6c5d-4f96-992c-a746cabab28b"));
        }),
        ("permissions_check_POST.json", |f| {
            let r: wire::BulkPermissionGrants = parse_fixture(f);
            assert_eq!(r.project_permissions[0].issues, [10010, 10013, 10014]);
        }),
        ("permissionscheme_GET.json", |f| {
            let s: wire::PermissionScheme = parse_fixture(f);
            let holder = &s.permissions.expect("grants")[0].holder;
            assert_eq!(
                (holder.parameter.as_deref(), holder.value.as_deref()),
                (Some("jira-core-users"), Some("ca85fac0-d974-40ca-a615-7af99c48d24f"))
            );
        }),
        ("permissionscheme_expand_all.go-jira.json", |f| {
            let s: wire::PermissionScheme = parse_fixture(f);
            let grants = s.permissions.expect("grants");
            assert_eq!(grants.len(), 66);
            assert!(grants
                .iter()
                .any(|g| g.holder.kind == wire::HolderType::ApplicationRole && g.holder.parameter.is_none()));
        }),
        ("permissionscheme_grants_GET.json", |f| {
            let g: wire::PermissionGrants = parse_fixture(f);
            assert_eq!(g.permissions[0].permission, "ADMINISTER_PROJECTS");
        }),
        ("permissionschemes_all_GET.json", |f| {
            let s: wire::PermissionSchemes = parse_fixture(f);
            assert_eq!(s.permission_schemes[0].id, 10000);
        }),
        ("project_issuesecuritylevelscheme_GET.json", |f| {
            let s: wire::SecurityScheme = parse_fixture(f);
            assert_eq!((s.default_security_level_id, s.levels[0].id.as_str()), (Some(10021), "10021"));
        }),
        ("project_permissionscheme_GET.json", |f| {
            let s: wire::PermissionScheme = parse_fixture(f);
            assert_eq!((s.id, s.permissions), (10000, None));
        }),
        ("project_role_actors_GET.json", |f| {
            let r: wire::ProjectRole = parse_fixture(f);
            let actors = r.actors.expect("actors");
            assert_eq!(
                actors[0].actor_group.as_ref().and_then(|g| g.group_id.as_deref()),
                Some("952d12c3-5b5b-4d04-bb32-44d383afc4b2")
            );
            assert_eq!(
                actors[1].actor_user.as_ref().map(|u| u.account_id.as_str()),
                Some("5b10a2844c20165700ede21g")
            );
        }),
        ("project_roles_GET.json", |f| {
            let roles: wire::ProjectRoles = parse_fixture(f);
            assert_eq!(roles.get("Developers").and_then(|u| wire::role_id_from_url(u)), Some(10000));
        }),
        ("project_search_GET.json", |f| {
            let page: wire::PageBean<wire::Project> = parse_fixture(f);
            assert_eq!(page.values.iter().map(|p| p.key.as_str()).collect::<Vec<_>>(), ["EX", "ABC"]);
        }),
        ("project_securitylevel_GET.json", |f| {
            let l: wire::ProjectSecurityLevels = parse_fixture(f);
            assert_eq!(l.levels[1].name, "Staff Only");
        }),
        ("search_jql_GET.json", |f| {
            let r: wire::SearchAndReconcileResults = parse_fixture(f);
            let fields = r.issues[0].fields.as_ref().expect("fields");
            // Atlassian's example has a plain-string description, an array of comments and a numeric `updated`.
            assert_eq!(fields.description, Some(json!("Main order flow broken")));
            assert_eq!(fields.comment.as_ref().map(|c| c.comments.len()), Some(1));
            assert_eq!((r.is_last, r.next_page_token.clone()), (Some(true), None));
        }),
        ("user_groups_GET.json", |f| {
            let g: wire::GroupName = parse_fixture(f);
            assert_eq!(g.name.as_deref(), Some("jira-administrators"));
        }),
        ("users_search_GET.json", |f| {
            let users: Vec<wire::User> = parse_fixture(f);
            assert_eq!(users[1].account_id, "5b10ac8d82e05b22cc7d4ef5");
        }),
    ];
    let dir = shared_dir().join("atlassian/fixtures/jira");
    let on_disk: BTreeSet<String> = std::fs::read_dir(&dir)
        .expect("fixture dir")
        .map(|e| e.expect("dir entry").file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".json"))
        .collect();
    let covered: BTreeSet<String> = checks.iter().map(|(n, _)| n.to_string()).collect();
    assert_eq!(on_disk, covered, "every fixture needs a wire type");
    for (name, check) in &checks {
        check(name);
    }
}

// ---------------------------------------------------------------------------------------------------
// Pagination
// ---------------------------------------------------------------------------------------------------

#[tokio::test]
async fn jql_token_walks_return_every_issue_once_at_any_page_size() {
    let site = big_site();
    let expected: BTreeSet<u64> = searchable(&site).iter().map(|i| i.id).collect();
    let sim = Sim::start(site).await;
    let jql = "project in (APP, OPEN, LEAD) ORDER BY updated ASC";
    for page_size in [1, 7, 50, 100, 5_000] {
        let ids = ids_of(&sim.search_all(jql, page_size, &["id"]).await);
        let unique: BTreeSet<u64> = ids.iter().copied().collect();
        assert_eq!(unique.len(), ids.len(), "page size {page_size}: an issue came twice");
        assert_eq!(unique, expected, "page size {page_size}");
    }
    // With fields, pages are capped at 100 whatever is asked.
    let page = sim.search(json!({"jql": jql, "maxResults": 1_000, "fields": ["summary"]})).await;
    assert_eq!(page.issues.len(), 100);
    assert!(page.next_page_token.is_some());
    // Ids only allow 5000 per page: everything fits in one.
    let page = sim.search(json!({"jql": jql, "maxResults": 100_000})).await;
    assert_eq!((page.issues.len(), page.is_last), (expected.len(), Some(true)));
    // The default page size is 50.
    let page = sim.search(json!({"jql": jql})).await;
    assert_eq!(page.issues.len(), 50);
    // Default fields are ids only.
    assert!(page.issues.iter().all(|i| i.fields.is_none() && i.key.is_none()));
}

#[tokio::test]
async fn the_approximate_count_counts_what_the_search_lists_and_refuses_unbounded_queries() {
    let site = big_site();
    let expected = searchable(&site).len() as u64;
    let sim = Sim::start(site).await;
    let (status, body) = sim
        .post("/rest/api/3/search/approximate-count", &json!({"jql": "project in (APP, OPEN, LEAD)"}))
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body, json!({"count": expected}));
    let (status, body) =
        sim.post("/rest/api/3/search/approximate-count", &json!({"jql": "ORDER BY id"})).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert!(body.to_string().contains("Unbounded"), "{body}");
}

#[tokio::test]
async fn next_page_token_belongs_to_its_query() {
    let sim = Sim::start(big_site()).await;
    let first = sim.search(json!({"jql": "project = OPEN", "maxResults": 5})).await;
    let token = first.next_page_token.expect("more pages");
    let (status, body) =
        sim.post("/rest/api/3/search/jql", &json!({"jql": "project = APP", "nextPageToken": token})).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    let (status, _) = sim.get("/rest/api/3/search/jql?jql=project%3DOPEN&nextPageToken=garbage").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    // The same token with the same query continues where the first page stopped, also over GET.
    let (status, body) = sim
        .get(&format!("/rest/api/3/search/jql?jql=project%20%3D%20OPEN&maxResults=5&nextPageToken={token}"))
        .await;
    assert_eq!(status, StatusCode::OK);
    let second: wire::SearchAndReconcileResults = serde_json::from_value(body).expect("parses");
    let overlap: BTreeSet<u64> = ids_of(&first.issues).into_iter().collect();
    assert!(ids_of(&second.issues).iter().all(|id| !overlap.contains(id)));
    assert_eq!(second.issues.len(), 5);
}

/// Walks an offset listing with `startAt`/`maxResults`, returning every item and checking the envelope.
async fn walk_offsets<T, F>(sim: &Sim, path: &str, page_size: usize, cap: usize, read: F) -> Vec<T>
where
    F: Fn(Value) -> (Vec<T>, u64, u64, u32, Option<bool>),
{
    let mut items = Vec::new();
    let mut start = 0usize;
    for _ in 0..10_000 {
        let sep = if path.contains('?') { '&' } else { '?' };
        let (status, body) = sim.get(&format!("{path}{sep}startAt={start}&maxResults={page_size}")).await;
        assert_eq!(status, StatusCode::OK, "{path}: {body}");
        let (page, start_at, total, max_results, is_last) = read(body);
        assert_eq!(start_at, start as u64, "{path}: startAt echoed");
        assert_eq!(max_results as usize, page_size.min(cap), "{path}: maxResults reports the cap");
        assert!(page.len() <= cap, "{path}: more than {cap} items in a page");
        let done = page.is_empty() || start + page.len() >= total as usize;
        if let Some(is_last) = is_last {
            assert_eq!(is_last, done, "{path}: isLast at startAt {start}");
        }
        start += page.len();
        items.extend(page);
        if done {
            return items;
        }
    }
    panic!("{path}: offset walk does not end");
}

fn page_bean<T: DeserializeOwned + Default>(body: Value) -> (Vec<T>, u64, u64, u32, Option<bool>) {
    let page: wire::PageBean<T> = serde_json::from_value(body).expect("PageBean parses");
    (
        page.values,
        page.start_at.expect("startAt"),
        page.total.expect("total"),
        page.max_results.expect("maxResults"),
        page.is_last,
    )
}

fn assert_each_once<K: Ord + Clone + std::fmt::Debug>(what: &str, got: &[K], expected: &BTreeSet<K>) {
    let unique: BTreeSet<K> = got.iter().cloned().collect();
    assert_eq!(unique.len(), got.len(), "{what}: duplicates");
    assert_eq!(&unique, expected, "{what}");
}

#[tokio::test]
async fn offset_walks_return_every_item_once() {
    let site = big_site();
    let comments: BTreeSet<String> =
        site.issue_comments.values().filter(|c| c.issue_id == 10110).map(|c| c.id.to_string()).collect();
    let live_projects: BTreeSet<String> =
        site.projects.values().filter(|p| !p.archived).map(|p| p.key.clone()).collect();
    let all_projects: BTreeSet<String> = site.projects.values().map(|p| p.key.clone()).collect();
    let many = site.groups.iter().find(|g| g.id == "g-many").expect("group").clone();
    let active_members: BTreeSet<String> =
        many.members.iter().filter(|a| site.user(a).is_some_and(|u| u.active)).cloned().collect();
    let level_members: BTreeSet<String> =
        site.security_schemes[&2].levels[0].members.iter().map(|m| m.id.to_string()).collect();
    let users: BTreeSet<String> = site.users.iter().map(|u| u.account_id.clone()).collect();
    let sim = Sim::start(site).await;

    for size in [1, 7, 100, 6_000] {
        let got = walk_offsets(&sim, "/rest/api/3/issue/OPEN-1/comment", size, 5_000, |body| {
            let page: wire::PageOfComments = serde_json::from_value(body).expect("PageOfComments parses");
            (
                page.comments,
                page.start_at.expect("startAt"),
                page.total.expect("total"),
                page.max_results.expect("maxResults"),
                None,
            )
        })
        .await;
        let ids: Vec<String> = got.iter().map(|c| c.id.clone()).collect();
        assert_each_once(&format!("comments, page size {size}"), &ids, &comments);
    }
    for size in [1, 9, 100, 500] {
        let got: Vec<wire::Project> =
            walk_offsets(&sim, "/rest/api/3/project/search", size, 100, page_bean).await;
        let keys: Vec<String> = got.iter().map(|p| p.key.clone()).collect();
        assert_each_once(&format!("live projects, page size {size}"), &keys, &live_projects);
        let got: Vec<wire::Project> = walk_offsets(
            &sim,
            "/rest/api/3/project/search?status=live&status=archived",
            size,
            100,
            page_bean,
        )
        .await;
        let keys: Vec<String> = got.iter().map(|p| p.key.clone()).collect();
        assert_each_once(&format!("all projects, page size {size}"), &keys, &all_projects);
    }
    for size in [1, 7, 50, 80] {
        let got: Vec<wire::User> =
            walk_offsets(&sim, "/rest/api/3/group/member?groupId=g-many", size, 50, page_bean).await;
        let ids: Vec<String> = got.iter().map(|u| u.account_id.clone()).collect();
        assert_each_once(&format!("active group members, page size {size}"), &ids, &active_members);
        let got: Vec<wire::User> = walk_offsets(
            &sim,
            "/rest/api/3/group/member?groupId=g-many&includeInactiveUsers=true",
            size,
            50,
            page_bean,
        )
        .await;
        let ids: Vec<String> = got.iter().map(|u| u.account_id.clone()).collect();
        assert_each_once(&format!("all group members, page size {size}"), &ids, &many.members);
    }
    for size in [1, 6, 100, 300] {
        let got: Vec<wire::SecurityLevelMember> = walk_offsets(
            &sim,
            "/rest/api/3/issuesecurityschemes/level/member?schemeId=2&levelId=6001",
            size,
            100,
            page_bean,
        )
        .await;
        let ids: Vec<String> = got.iter().map(|m| m.id.clone()).collect();
        assert_each_once(&format!("level members, page size {size}"), &ids, &level_members);
    }
    // users/search is a bare array: walk until a short page.
    for size in [1, 11, 1_000] {
        let mut got = Vec::new();
        loop {
            let page: Vec<wire::User> = sim
                .get_as(&format!("/rest/api/3/users/search?startAt={}&maxResults={size}", got.len()))
                .await;
            let short = page.len() < size;
            got.extend(page.into_iter().map(|u| u.account_id));
            if short {
                break;
            }
        }
        assert_each_once(&format!("users, page size {size}"), &got, &users);
    }
}

#[tokio::test]
async fn comments_order_and_embedded_truncation() {
    let site = big_site();
    let mut oldest_first: Vec<&IssueComment> =
        site.issue_comments.values().filter(|c| c.issue_id == 10110).collect();
    oldest_first.sort_by_key(|c| (c.created, c.id));
    let oldest_first: Vec<String> = oldest_first.iter().map(|c| c.id.to_string()).collect();
    let sim = Sim::start(site).await;

    let page: wire::PageOfComments = sim.get_as("/rest/api/3/issue/OPEN-1/comment?maxResults=5000").await;
    assert_eq!(page.comments.iter().map(|c| c.id.clone()).collect::<Vec<_>>(), oldest_first);
    let page: wire::PageOfComments =
        sim.get_as("/rest/api/3/issue/10110/comment?maxResults=5000&orderBy=-created").await;
    let newest_first: Vec<String> = oldest_first.iter().rev().cloned().collect();
    assert_eq!(page.comments.iter().map(|c| c.id.clone()).collect::<Vec<_>>(), newest_first);
    let page: wire::PageOfComments = sim.get_as("/rest/api/3/issue/OPEN-1/comment").await;
    assert_eq!((page.comments.len(), page.max_results), (100, Some(100)), "default page size");

    let issue: wire::IssueBean = sim.get_as("/rest/api/3/issue/OPEN-1").await;
    let embedded = issue.fields.and_then(|f| f.comment).expect("embedded comments");
    assert_eq!(embedded.total, Some(BIG_COMMENTS));
    assert_eq!(embedded.comments.iter().map(|c| c.id.clone()).collect::<Vec<_>>(), oldest_first[..20]);
}

// ---------------------------------------------------------------------------------------------------
// JQL semantics
// ---------------------------------------------------------------------------------------------------

#[tokio::test]
async fn unbounded_and_unsupported_jql_is_refused() {
    let sim = Sim::start(tiny_site()).await;
    let cases: &[(&str, &str)] = &[
        ("", UNBOUNDED),
        ("ORDER BY key DESC", UNBOUNDED),
        ("order by updated", UNBOUNDED),
        ("project = APP OR project = OPEN", "'OR'"),
        ("NOT project = APP", "'NOT'"),
        ("summary ~ crash", "Field 'summary' does not exist"),
        ("project = APP ORDER BY priority", "ORDER BY field 'priority'"),
        ("updated >= startOfDay()", "function 'startOfDay()'"),
        ("updated >= \"2024/13/40\"", "Date value '2024/13/40' for field 'updated' is invalid"),
        ("project = NOPE", "The value 'NOPE' does not exist for the field 'project'."),
        ("key = APP-99", "An issue with key 'APP-99' does not exist for field 'key'."),
    ];
    for (jql, message) in cases {
        for (status, body) in [
            sim.post("/rest/api/3/search/jql", &json!({"jql": jql})).await,
            sim.get(&format!("/rest/api/3/search/jql?jql={}", urlencode(jql))).await,
        ] {
            assert_eq!(status, StatusCode::BAD_REQUEST, "{jql}: {body}");
            let error: wire::ErrorCollection = serde_json::from_value(body).expect("Jira error body");
            assert!(
                error.error_messages.iter().any(|m| m.contains(message)),
                "{jql}: {:?}",
                error.error_messages
            );
        }
    }
    let (status, _) = sim.get("/rest/api/3/search/jql").await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "a missing jql is unbounded");
}

fn urlencode(text: &str) -> String {
    url::form_urlencoded::byte_serialize(text.as_bytes()).collect()
}

/// The instant of a wall-clock time in a zone `offset_minutes` east of UTC.
fn local_ms(text: &str, offset_minutes: i32) -> Millis {
    let naive = NaiveDateTime::parse_from_str(text, "%Y-%m-%d %H:%M").expect("test time");
    FixedOffset::east_opt(offset_minutes * 60)
        .expect("offset")
        .from_local_datetime(&naive)
        .single()
        .expect("unambiguous")
        .timestamp_millis()
}

#[tokio::test]
async fn date_bounds_are_read_in_the_admins_time_zone() {
    let mut site = tiny_site();
    let offset = site.admin_utc_offset_minutes;
    assert_ne!(offset, 0, "the fixture admin must not be on UTC for this test to mean anything");
    // APP-1 changed exactly at local midnight of 10 March; APP-2 was created at local 09:30 on 9 March.
    let midnight = local_ms("2024-03-10 00:00", offset);
    let created = local_ms("2024-03-09 09:30", offset);
    site.issues.get_mut(&10100).expect("APP-1").updated = midnight;
    site.issues.get_mut(&10101).expect("APP-2").created = created;
    site.reindex();
    let sim = Sim::start(site).await;
    let keys = |jql: String| {
        let sim = &sim;
        async move {
            let issues = sim.search_all(&format!("project = APP AND {jql}"), 50, &["key"]).await;
            issues.into_iter().filter_map(|i| i.key).collect::<BTreeSet<String>>()
        }
    };
    let cases: Vec<(String, &str, bool)> = vec![
        ("updated >= \"2024/03/10 00:00\"".into(), "APP-1", true),
        ("updated >= \"2024-03-10 00:00\"".into(), "APP-1", true),
        ("updated >= \"2024-03-10\"".into(), "APP-1", true),
        ("updated > \"2024/03/10 00:00\"".into(), "APP-1", false),
        ("updated < \"2024/03/10\"".into(), "APP-1", false),
        ("updated <= \"2024/03/10 00:00\"".into(), "APP-1", true),
        ("updated < '2024/03/10 00:01'".into(), "APP-1", true),
        ("updated >= \"2024/03/10 00:01\"".into(), "APP-1", false),
        (format!("updated >= {midnight}"), "APP-1", true),
        (format!("updated > {midnight}"), "APP-1", false),
        (format!("updated = {midnight}"), "APP-1", true),
        ("created >= \"2024/03/09 09:30\"".into(), "APP-2", true),
        ("created >= \"2024/03/09 09:31\"".into(), "APP-2", false),
        ("created < \"2024-03-10\" AND created >= \"2024-03-09\"".into(), "APP-2", true),
        (format!("created < {}", created + 1), "APP-2", true),
        // Far past and far future periods, relative to now.
        ("updated >= -5200w".into(), "APP-1", true),
        ("updated >= \"1w\"".into(), "APP-1", false),
    ];
    for (jql, key, expected) in cases {
        let found = keys(jql.clone()).await;
        assert_eq!(found.contains(key), expected, "{jql}: {found:?}");
    }
}

#[tokio::test]
async fn ordering_and_project_filters() {
    let site = big_site();
    let project_ids =
        |keys: &[&str]| -> BTreeSet<u64> { keys.iter().map(|k| site.index.project_by_key[*k]).collect() };
    let in_projects = |projects: &BTreeSet<u64>| -> Vec<&Issue> {
        searchable(&site).into_iter().filter(|i| projects.contains(&i.project_id)).collect()
    };
    let key_number = |i: &Issue| -> (String, u64) {
        let (p, n) = i.key.rsplit_once('-').expect("key");
        (p.to_string(), n.parse().expect("number"))
    };
    let open = in_projects(&project_ids(&["OPEN"]));
    let mut by_updated_desc = open.clone();
    by_updated_desc.sort_by(|a, b| b.updated.cmp(&a.updated).then(a.id.cmp(&b.id)));
    let mut by_created = open.clone();
    by_created.sort_by_key(|i| (i.created, i.id));
    let mut by_key_desc = open.clone();
    by_key_desc.sort_by_key(|i| std::cmp::Reverse(key_number(i)));
    let mut by_updated_then_key_desc = open.clone();
    by_updated_then_key_desc
        .sort_by(|a, b| a.updated.cmp(&b.updated).then(key_number(b).cmp(&key_number(a))));
    let mut by_id = in_projects(&project_ids(&["APP", "LEAD"]));
    by_id.sort_by_key(|i| i.id);
    let expected: Vec<(&str, Vec<u64>)> = vec![
        ("project = OPEN ORDER BY updated DESC", by_updated_desc.iter().map(|i| i.id).collect()),
        ("project = 10001 ORDER BY created", by_created.iter().map(|i| i.id).collect()),
        ("project = \"open project\" ORDER BY key DESC", by_key_desc.iter().map(|i| i.id).collect()),
        (
            "project = open ORDER BY updated ASC, issuekey DESC",
            by_updated_then_key_desc.iter().map(|i| i.id).collect(),
        ),
        ("project in (APP, 10002) ORDER BY id", by_id.iter().map(|i| i.id).collect()),
        ("project in (APP, 10002) ORDER BY id DESC", by_id.iter().rev().map(|i| i.id).collect()),
    ];
    let sim = Sim::start(big_site()).await;
    for (jql, ids) in expected {
        for page_size in [3, 100] {
            let got = ids_of(&sim.search_all(jql, page_size, &["id"]).await);
            assert_eq!(got, ids, "{jql} (pages of {page_size})");
        }
    }
    // id and key clauses combine with AND.
    let got = ids_of(
        &sim.search_all("project = APP AND id >= 10101 AND id in (10100, 10101, 10102)", 10, &[]).await,
    );
    assert_eq!(got, [10101, 10102]);
    let got = ids_of(&sim.search_all("key in (app-1, OPEN-2) AND project = APP", 10, &[]).await);
    assert_eq!(got, [10100]);
}

#[tokio::test]
async fn archived_issues_and_projects_are_never_served() {
    let site = big_site();
    let archived_issue =
        site.issues.values().find(|i| i.archived && i.project_id == 10001).expect("archived").key.clone();
    let sim = Sim::start(site).await;
    let everything: BTreeSet<String> =
        sim.search_all("created >= 0", 5_000, &["key"]).await.into_iter().filter_map(|i| i.key).collect();
    for hidden in ["APP-4", archived_issue.as_str(), "PX009-1"] {
        assert!(!everything.contains(hidden), "{hidden} is searchable");
        let (status, _) = sim.get(&format!("/rest/api/3/issue/{hidden}")).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{hidden}");
        let found = sim.search_all(&format!("key = {hidden}"), 10, &[]).await;
        assert!(found.is_empty(), "key = {hidden}");
    }
    assert!(everything.contains("APP-1") && everything.contains("OPEN-2"));
}

// ---------------------------------------------------------------------------------------------------
// Issues, security levels, bulk fetch, attachments
// ---------------------------------------------------------------------------------------------------

#[tokio::test]
async fn sub_tasks_show_their_parents_security_level() {
    let sim = Sim::start(tiny_site()).await;
    let issues = sim.search_all("project = APP ORDER BY key", 10, &["security", "issuetype", "parent"]).await;
    let by_key: BTreeMap<String, wire::IssueFields> =
        issues.into_iter().map(|i| (i.key.expect("key"), i.fields.expect("fields"))).collect();
    let level = |key: &str| by_key[key].security.as_ref().map(|l| (l.id.clone(), l.name.clone()));
    assert_eq!(level("APP-2"), Some(("5001".into(), "Staff".into())));
    assert_eq!(level("APP-3"), level("APP-2"), "the sub-task takes its parent's level");
    assert_eq!(level("APP-1"), None);
    let subtask = &by_key["APP-3"];
    assert_eq!(subtask.issuetype.as_ref().map(|t| t.subtask), Some(true));
    assert_eq!(subtask.parent.as_ref().and_then(|p| p.key.clone()).as_deref(), Some("APP-2"));
    assert_eq!(by_key["APP-2"].issuetype.as_ref().map(|t| t.subtask), Some(false));

    let issue: wire::IssueBean = sim.get_as("/rest/api/3/issue/app-3").await;
    assert_eq!(issue.fields.and_then(|f| f.security).map(|l| l.id).as_deref(), Some("5001"));
}

#[tokio::test]
async fn issues_carry_their_fields() {
    let site = tiny_site();
    let offset = site.admin_utc_offset_minutes;
    let app1 = site.issues[&10100].clone();
    let sim = Sim::start(site).await;
    let issue: wire::IssueBean = sim.get_as("/rest/api/3/issue/APP-1").await;
    assert_eq!((issue.id.as_str(), issue.key.as_deref()), ("10100", Some("APP-1")));
    let f = issue.fields.expect("all fields by default");
    assert_eq!(f.summary.as_deref(), Some(app1.summary.as_str()));
    let description: Value = serde_json::from_str(&app1.description).expect("model ADF");
    assert_eq!(f.description, Some(description));
    assert_eq!(f.project.as_ref().map(|p| p.key.as_str()), Some("APP"));
    assert_eq!(f.reporter.clone().flatten().map(|u| u.account_id).as_deref(), Some("dave"));
    assert_eq!(f.assignee, Some(None), "unassigned is an explicit null");
    // dave hides his email.
    assert_eq!(f.reporter.flatten().and_then(|u| u.email_address), None);
    let updated = wire::parse_jira_time(f.updated.as_deref().expect("updated")).expect("Jira time format");
    assert_eq!(updated.timestamp_millis(), app1.updated);
    assert_eq!(updated.offset().local_minus_utc(), offset * 60, "times are shown in the admin's zone");
    assert!(f.updated.as_deref().is_some_and(|t| t.ends_with("+1000") && t.contains('.')));
    // Comment visibility: a group by id (and name), a role by name.
    let comments = f.comment.expect("comments").comments;
    let visibility: Vec<Option<wire::Visibility>> = comments.iter().map(|c| c.visibility.clone()).collect();
    assert_eq!(
        visibility,
        [
            None,
            Some(wire::Visibility {
                kind: wire::VisibilityType::Group,
                value: Some("engineering".into()),
                identifier: Some("g-eng".into())
            }),
            Some(wire::Visibility {
                kind: wire::VisibilityType::Role,
                value: Some("Viewers".into()),
                identifier: Some("Viewers".into())
            }),
        ]
    );
    let issue: wire::IssueBean = sim.get_as("/rest/api/3/issue/10101?fields=attachment").await;
    let attachments = issue.fields.and_then(|f| f.attachment).expect("attachments");
    assert_eq!(attachments.iter().map(|a| a.id.as_str()).collect::<Vec<_>>(), ["10300"]);
    assert!(attachments[0]
        .content
        .as_deref()
        .is_some_and(|c| c.ends_with("/rest/api/3/attachment/content/10300")));
}

#[tokio::test]
async fn bulkfetch_returns_issues_in_id_order_and_errors_for_the_rest() {
    let sim = Sim::start(tiny_site()).await;
    let (status, body) = sim
        .post(
            "/rest/api/3/issue/bulkfetch",
            &json!({"issueIdsOrKeys": ["OPEN-1", "10101", "NOPE-9", "APP-4", "app-2", "10100"], "fields": ["summary"]}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let results: wire::BulkIssueResults = serde_json::from_value(body).expect("parses");
    assert_eq!(ids_of(&results.issues), [10100, 10101, 10110]);
    assert!(results
        .issues
        .iter()
        .all(|i| i.fields.as_ref().is_some_and(|f| f.summary.is_some() && f.status.is_none())));
    let errors: Vec<(&str, &str)> =
        results.issue_errors.iter().map(|e| (e.id.as_str(), e.error_message.as_str())).collect();
    let message = "Issue does not exist or you do not have permission to see it.";
    assert_eq!(errors, [("NOPE-9", message), ("APP-4", message)]);
    // Default fields are the navigable ones: no comments.
    let results: wire::BulkIssueResults = {
        let (_, body) = sim.post("/rest/api/3/issue/bulkfetch", &json!({"issueIdsOrKeys": ["APP-1"]})).await;
        serde_json::from_value(body).expect("parses")
    };
    let fields = results.issues[0].fields.as_ref().expect("fields");
    assert!(fields.summary.is_some() && fields.comment.is_none());
    for ids in [json!([]), json!((0..101).map(|n| format!("APP-{n}")).collect::<Vec<_>>())] {
        let (status, _) = sim.post("/rest/api/3/issue/bulkfetch", &json!({"issueIdsOrKeys": ids})).await;
        assert_eq!(status, StatusCode::BAD_REQUEST);
    }
}

#[tokio::test]
async fn attachment_content_redirects_to_media_or_serves_bytes() {
    let site = tiny_site();
    let expected = permdex::sim::files::render(&site.jira_attachments[&10300].file);
    let sim = Sim::start(site).await;

    let response = sim
        .client
        .get(format!("{}/rest/api/3/attachment/content/10300", sim.base))
        .basic_auth(EMAIL, Some(TOKEN))
        .send()
        .await
        .expect("request");
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    let location = response.headers()[reqwest::header::LOCATION].to_str().expect("location").to_string();
    assert!(location.starts_with(&format!("{}/_media/jira/10300?token=", sim.base)), "{location}");
    // The media URL is its own credential: no Basic auth.
    let media = sim.client.get(&location).send().await.expect("media");
    assert_eq!(media.status(), StatusCode::OK);
    assert_eq!(media.headers()[reqwest::header::CONTENT_TYPE], "text/csv");
    assert_eq!(media.bytes().await.expect("bytes").to_vec(), expected);

    let direct = sim
        .client
        .get(format!("{}/rest/api/3/attachment/content/10300?redirect=false", sim.base))
        .basic_auth(EMAIL, Some(TOKEN))
        .send()
        .await
        .expect("request");
    assert_eq!(direct.status(), StatusCode::OK);
    assert_eq!(direct.bytes().await.expect("bytes").to_vec(), expected);

    let forged = location.replace("token=", "token=0");
    assert_eq!(sim.client.get(&forged).send().await.expect("media").status(), StatusCode::FORBIDDEN);
    let other = location.replace("/10300?", "/10301?");
    assert_eq!(sim.client.get(&other).send().await.expect("media").status(), StatusCode::NOT_FOUND);
    let (status, _) = sim.get("/rest/api/3/attachment/content/10301").await;
    assert_eq!(status, StatusCode::NOT_FOUND);

    let meta: wire::AttachmentMetadata = sim.get_as("/rest/api/3/attachment/10300").await;
    assert_eq!(
        (meta.id, meta.filename.as_str(), meta.mime_type.as_deref()),
        (10300, "crash.csv", Some("text/csv"))
    );
}

// ---------------------------------------------------------------------------------------------------
// Permission objects
// ---------------------------------------------------------------------------------------------------

#[tokio::test]
async fn permission_schemes_expand_their_holders() {
    let mut site = tiny_site();
    site.permission_schemes.get_mut(&3).expect("scheme 3").grants.push(PermissionGrant {
        id: 7,
        permission: "BROWSE_PROJECTS".into(),
        holder: Holder::Group("g-mgr".into()),
    });
    site.permission_schemes.get_mut(&3).expect("scheme 3").grants.push(PermissionGrant {
        id: 8,
        permission: "BROWSE_PROJECTS".into(),
        holder: Holder::ApplicationRole(Some("jira-software".into())),
    });
    let sim = Sim::start(site).await;

    let bare: wire::PermissionScheme = sim.get_as("/rest/api/3/project/APP/permissionscheme").await;
    assert_eq!((bare.id, bare.permissions), (1, None), "grants only come with expand");

    let scheme: wire::PermissionScheme =
        sim.get_as("/rest/api/3/project/APP/permissionscheme?expand=all").await;
    let grants = scheme.permissions.expect("grants");
    let role = &grants.iter().find(|g| g.id == 1).expect("grant 1").holder;
    assert_eq!(
        (role.kind.clone(), role.parameter.as_deref()),
        (wire::HolderType::ProjectRole, Some("10001"))
    );
    assert_eq!(role.project_role.as_ref().map(|r| r.name.as_str()), Some("Developers"));
    assert_eq!(
        grants.iter().find(|g| g.id == 2).map(|g| g.holder.kind.clone()),
        Some(wire::HolderType::Reporter)
    );
    let user = &grants.iter().find(|g| g.id == 3).expect("grant 3").holder;
    assert_eq!(user.parameter.as_deref(), Some("dave"));
    assert_eq!(user.user.as_ref().map(|u| u.account_id.as_str()), Some("dave"));

    let lead: wire::PermissionScheme = sim.get_as("/rest/api/3/permissionscheme/3?expand=permissions").await;
    let grants = lead.permissions.expect("grants");
    let group = &grants.iter().find(|g| g.id == 7).expect("grant 7").holder;
    assert_eq!((group.parameter.as_deref(), group.value.as_deref()), (Some("managers"), Some("g-mgr")));
    assert_eq!(group.group, None, "expand=permissions does not expand holders");
    let app = &grants.iter().find(|g| g.id == 8).expect("grant 8").holder;
    assert_eq!(
        (app.kind.clone(), app.parameter.as_deref()),
        (wire::HolderType::ApplicationRole, Some("jira-software"))
    );
    assert_eq!(
        grants.iter().find(|g| g.id == 5).map(|g| g.holder.kind.clone()),
        Some(wire::HolderType::ProjectLead)
    );
    let expanded: wire::PermissionScheme = sim.get_as("/rest/api/3/permissionscheme/3?expand=group").await;
    let group =
        expanded.permissions.expect("grants").into_iter().find(|g| g.id == 7).expect("grant 7").holder;
    assert_eq!(group.group.and_then(|g| g.group_id).as_deref(), Some("g-mgr"));
}

#[tokio::test]
async fn roles_and_security_levels() {
    let mut site = tiny_site();
    site.projects
        .get_mut(&10000)
        .expect("APP")
        .roles
        .get_mut(&10001)
        .expect("Developers")
        .users
        .insert("erin".into());
    let sim = Sim::start(site).await;

    let roles: wire::ProjectRoles = sim.get_as("/rest/api/3/project/APP/role").await;
    let ids: BTreeMap<String, Option<u64>> =
        roles.iter().map(|(n, u)| (n.clone(), wire::role_id_from_url(u))).collect();
    assert_eq!(ids, [("Developers".to_string(), Some(10001)), ("Viewers".to_string(), Some(10002))].into());

    let developers: wire::ProjectRole = sim.get_as("/rest/api/3/project/APP/role/10001").await;
    let actors = developers.actors.expect("actors");
    let users: BTreeSet<String> =
        actors.iter().filter_map(|a| a.actor_user.as_ref().map(|u| u.account_id.clone())).collect();
    let groups: Vec<wire::ActorGroup> = actors.iter().filter_map(|a| a.actor_group.clone()).collect();
    assert_eq!(users, ["alice".to_string(), "erin".to_string()].into());
    assert_eq!(groups.len(), 1);
    assert_eq!((groups[0].group_id.as_deref(), groups[0].name.as_deref()), (Some("g-mgr"), Some("managers")));
    assert!(actors.iter().all(|a| match a.kind {
        wire::RoleActorType::User => a.actor_user.is_some(),
        wire::RoleActorType::Group => a.actor_group.is_some(),
        _ => false,
    }));
    let active: wire::ProjectRole =
        sim.get_as("/rest/api/3/project/10000/role/10001?excludeInactiveUsers=true").await;
    let users: BTreeSet<String> = active
        .actors
        .expect("actors")
        .iter()
        .filter_map(|a| a.actor_user.as_ref().map(|u| u.account_id.clone()))
        .collect();
    assert_eq!(users, ["alice".to_string()].into());

    let scheme: wire::SecurityScheme = sim.get_as("/rest/api/3/project/APP/issuesecuritylevelscheme").await;
    assert_eq!(scheme.id, 1);
    assert_eq!(
        scheme.levels.iter().map(|l| (l.id.as_str(), l.name.as_str())).collect::<Vec<_>>(),
        [("5001", "Staff")]
    );
    let (status, _) = sim.get("/rest/api/3/project/OPEN/issuesecuritylevelscheme").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    // The same answers for every project at once: which scheme each uses (OPEN uses none), and its levels.
    let mappings: wire::PageBean<wire::SecuritySchemeProject> =
        sim.get_as("/rest/api/3/issuesecurityschemes/project").await;
    let mappings: Vec<(&str, &str)> = mappings
        .values
        .iter()
        .map(|m| (m.project_id.as_str(), m.issue_security_scheme_id.as_str()))
        .collect();
    assert!(mappings.contains(&("10000", "1")), "{mappings:?}");
    let open: wire::Project = sim.get_as("/rest/api/3/project/OPEN").await;
    assert!(mappings.iter().all(|(project, _)| *project != open.id), "{mappings:?}");
    let levels: wire::PageBean<wire::SecurityLevel> =
        sim.get_as("/rest/api/3/issuesecurityschemes/level?schemeId=1").await;
    assert_eq!(
        levels
            .values
            .iter()
            .map(|l| (l.id.as_str(), l.issue_security_scheme_id.as_deref()))
            .collect::<Vec<_>>(),
        [("5001", Some("1"))]
    );

    let members: wire::PageBean<wire::SecurityLevelMember> = sim
        .get_as("/rest/api/3/issuesecurityschemes/level/member?schemeId=1&levelId=5001&expand=group")
        .await;
    let holders: Vec<(wire::HolderType, Option<String>, Option<String>)> = members
        .values
        .iter()
        .map(|m| (m.holder.kind.clone(), m.holder.parameter.clone(), m.holder.value.clone()))
        .collect();
    assert_eq!(
        holders,
        [
            (wire::HolderType::Group, Some("engineering".into()), Some("g-eng".into())),
            (wire::HolderType::Assignee, None, None)
        ]
    );
    assert_eq!(members.values[0].holder.group.as_ref().and_then(|g| g.name.as_deref()), Some("engineering"));
    assert!(members
        .values
        .iter()
        .all(|m| m.issue_security_level_id == "5001" && m.issue_security_scheme_id.as_deref() == Some("1")));
}

#[tokio::test]
async fn users_groups_and_myself() {
    let site = tiny_site();
    let expected_zone = match site.admin_utc_offset_minutes {
        600 => "Australia/Brisbane",
        other => panic!("fixture offset changed to {other}: update this test"),
    };
    let sim = Sim::start(site).await;

    let me: wire::User = sim.get_as("/rest/api/3/myself").await;
    assert_eq!(
        (me.account_id.as_str(), me.time_zone.as_deref(), me.active),
        ("admin", Some(expected_zone), Some(true))
    );

    let users: Vec<wire::User> = sim.get_as("/rest/api/3/users/search?maxResults=1000").await;
    let erin = users.iter().find(|u| u.account_id == "erin").expect("inactive users are listed");
    assert_eq!(erin.active, Some(false));
    let dave = users.iter().find(|u| u.account_id == "dave").expect("dave");
    assert_eq!(dave.email_address, None, "hidden email");
    assert_eq!(
        users.iter().find(|u| u.account_id == "alice").and_then(|u| u.email_address.clone()).as_deref(),
        Some("alice@example.com")
    );

    let active: wire::PageBean<wire::User> = sim.get_as("/rest/api/3/group/member?groupId=g-eng").await;
    let ids: Vec<&str> = active.values.iter().map(|u| u.account_id.as_str()).collect();
    assert_eq!(ids, ["alice", "bob"]);
    let all: wire::PageBean<wire::User> =
        sim.get_as("/rest/api/3/group/member?groupId=g-eng&includeInactiveUsers=true").await;
    assert_eq!(
        all.values.iter().map(|u| u.account_id.as_str()).collect::<Vec<_>>(),
        ["alice", "bob", "erin"]
    );
    let (status, _) = sim.get("/rest/api/3/group/member?groupId=nope").await;
    assert_eq!(status, StatusCode::NOT_FOUND);

    let fields: Vec<wire::FieldDetails> = sim.get_as("/rest/api/3/field").await;
    let ids: BTreeSet<&str> = fields.iter().map(|f| f.id.as_str()).collect();
    for needed in ["summary", "description", "comment", "attachment", "security", "issuetype", "updated"] {
        assert!(ids.contains(needed), "{needed} missing from /field");
    }
}

#[tokio::test]
async fn projects_by_key_id_and_search_filters() {
    let sim = Sim::start(big_site()).await;
    let app: wire::Project = sim.get_as("/rest/api/3/project/APP").await;
    let by_id: wire::Project = sim.get_as("/rest/api/3/project/10000").await;
    assert_eq!(app, by_id);
    assert_eq!(app.lead.map(|u| u.account_id).as_deref(), Some("carol"));
    assert_eq!(app.simplified, Some(false), "classic projects");
    let page: wire::PageBean<wire::Project> =
        sim.get_as("/rest/api/3/project/search?keys=APP&keys=LEAD").await;
    assert_eq!(page.values.iter().map(|p| p.key.as_str()).collect::<Vec<_>>(), ["APP", "LEAD"]);
    let page: wire::PageBean<wire::Project> = sim.get_as("/rest/api/3/project/search?query=open").await;
    assert_eq!(page.values.iter().map(|p| p.key.as_str()).collect::<Vec<_>>(), ["OPEN"]);
    let page: wire::PageBean<wire::Project> =
        sim.get_as("/rest/api/3/project/search?status=archived&maxResults=100").await;
    assert!(!page.values.is_empty() && page.values.iter().all(|p| p.archived == Some(true)));
    let page: wire::PageBean<wire::Project> = sim.get_as("/rest/api/3/project/search?maxResults=1000").await;
    assert_eq!(page.max_results, Some(100));
    assert_eq!(page.values.len(), 100);
}

#[tokio::test]
async fn groups_in_bulk_and_comments_by_id() {
    let sim = Sim::start(big_site()).await;
    let names = |page: &wire::PageBean<wire::GroupName>| -> Vec<(String, String)> {
        page.values
            .iter()
            .map(|g| (g.group_id.clone().unwrap_or_default(), g.name.clone().unwrap_or_default()))
            .collect()
    };
    let all: wire::PageBean<wire::GroupName> = sim.get_as("/rest/api/3/group/bulk").await;
    let pairs = |items: &[(&str, &str)]| -> Vec<(String, String)> {
        items.iter().map(|(a, b)| (a.to_string(), b.to_string())).collect()
    };
    let expected = pairs(&[
        ("g-eng", "engineering"),
        ("g-jira", "jira-software-users"),
        ("g-mgr", "managers"),
        ("g-many", "many"),
    ]);
    assert_eq!(names(&all), expected, "by name");
    assert_eq!((all.total, all.is_last), (Some(4), Some(true)));
    let mut walked = Vec::new();
    for start in 0..4 {
        let page: wire::PageBean<wire::GroupName> =
            sim.get_as(&format!("/rest/api/3/group/bulk?startAt={start}&maxResults=1")).await;
        assert_eq!(page.is_last, Some(start == 3));
        walked.extend(names(&page));
    }
    assert_eq!(walked, expected);
    let filtered: wire::PageBean<wire::GroupName> =
        sim.get_as("/rest/api/3/group/bulk?groupId=g-many&groupId=g-eng").await;
    assert_eq!(names(&filtered), pairs(&[("g-eng", "engineering"), ("g-many", "many")]));
    let by_name: wire::PageBean<wire::GroupName> =
        sim.get_as("/rest/api/3/group/bulk?groupName=managers").await;
    assert_eq!(names(&by_name), pairs(&[("g-mgr", "managers")]));

    let (status, body) =
        sim.post("/rest/api/3/comment/list", &json!({"ids": [30001, 10202, 999, 10200]})).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let page: wire::PageBean<wire::Comment> = serde_json::from_value(body).expect("page of comments");
    let ids: Vec<&str> = page.values.iter().map(|c| c.id.as_str()).collect();
    assert_eq!(ids, ["10200", "10202", "30001"], "existing ones, in id order");
    assert_eq!(page.values[1].visibility.as_ref().and_then(|v| v.value.as_deref()), Some("Viewers"));
    for body in [json!({"ids": []}), json!({}), json!({"ids": (0..1001).collect::<Vec<_>>()})] {
        let (status, _) = sim.post("/rest/api/3/comment/list", &body).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    }

    let mut site = tiny_site();
    site.issues.get_mut(&10100).expect("APP-1").archived = true;
    let archived = Sim::start(site).await;
    let (status, body) = archived.post("/rest/api/3/comment/list", &json!({"ids": [10200, 10201]})).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["values"], json!([]), "comments of archived issues are not served");
}

#[tokio::test]
async fn sub_tasks_and_project_leads_on_request() {
    let sim = Sim::start(tiny_site()).await;
    let parent: wire::IssueBean = sim.get_as("/rest/api/3/issue/APP-2?fields=subtasks").await;
    let subtasks = parent.fields.and_then(|f| f.subtasks).expect("subtasks asked for");
    assert_eq!(
        subtasks.iter().map(|s| (s.id.as_str(), s.key.as_deref())).collect::<Vec<_>>(),
        [("10102", Some("APP-3"))]
    );
    let lone: wire::IssueBean = sim.get_as("/rest/api/3/issue/APP-1?fields=subtasks").await;
    assert_eq!(lone.fields.and_then(|f| f.subtasks), Some(vec![]));
    let fields: Vec<wire::FieldDetails> = sim.get_as("/rest/api/3/field").await;
    assert!(fields.iter().any(|f| f.id == "subtasks" && f.navigable));

    let plain: wire::PageBean<wire::Project> = sim.get_as("/rest/api/3/project/search").await;
    assert!(plain.values.iter().all(|p| p.lead.is_none()), "lead only when expanded");
    let expanded: wire::PageBean<wire::Project> = sim.get_as("/rest/api/3/project/search?expand=lead").await;
    let leads: Vec<(&str, Option<&str>)> = expanded
        .values
        .iter()
        .map(|p| (p.key.as_str(), p.lead.as_ref().map(|u| u.account_id.as_str())))
        .collect();
    assert_eq!(leads, [("APP", Some("carol")), ("LEAD", Some("bob")), ("OPEN", Some("alice"))]);
}

#[tokio::test]
async fn the_service_desk_api_pages_desks_organisations_and_members_and_issues_carry_request_fields() {
    let features =
        permdex::sim::SiteFeatures { service_management: true, ..permdex::sim::SiteFeatures::NONE };
    let site =
        permdex::sim::generate::generate_with(&SimConfig::new(4, Scale::Tiny), features).expect("site");
    let sim = Sim::start(site.clone()).await;
    // Every listing walks each item once at a page of one, in the API's own envelope.
    async fn walk(sim: &Sim, path: &str) -> Vec<Value> {
        let mut items = Vec::new();
        loop {
            let (status, page) = sim.get(&format!("{path}?start={}&limit=1", items.len())).await;
            assert_eq!(status, StatusCode::OK, "{path}: {page}");
            let page: wire::PagedDto<Value> = serde_json::from_value(page).expect("a page");
            assert_eq!(
                (page.start, page.limit, page.size),
                (Some(items.len() as u64), Some(1), Some(page.values.len() as u64))
            );
            items.extend(page.values);
            if page.is_last_page == Some(true) {
                return items;
            }
            assert!(
                page.links.and_then(|l| l.next).is_some(),
                "{path}: a page before the last links the next"
            );
        }
    }
    let desks = walk(&sim, "/rest/servicedeskapi/servicedesk").await;
    let desk = site.service_desks.values().next().expect("a desk");
    assert_eq!(desks.len(), site.service_desks.len());
    assert_eq!(desks[0]["projectId"], json!(desk.project_id.to_string()));
    let orgs = walk(&sim, &format!("/rest/servicedeskapi/servicedesk/{}/organization", desk.id)).await;
    let org_ids: BTreeSet<String> = orgs.iter().map(|o| o["id"].as_str().expect("id").to_string()).collect();
    assert_eq!(org_ids, desk.organisations.iter().map(u64::to_string).collect());
    for org in site.organisations.values() {
        let users = walk(&sim, &format!("/rest/servicedeskapi/organization/{}/user", org.id)).await;
        let ids: BTreeSet<String> =
            users.iter().map(|u| u["accountId"].as_str().expect("id").to_string()).collect();
        assert_eq!(ids, org.members, "organisation {}", org.id);
    }
    let (status, _) = sim.get("/rest/servicedeskapi/servicedesk/999/organization").await;
    assert_eq!(status, StatusCode::NOT_FOUND);

    // The custom fields are listed by type, and a request carries them.
    let (_, fields) = sim.get("/rest/api/3/field").await;
    let fields: Vec<wire::FieldDetails> = serde_json::from_value(fields).expect("fields");
    let id_of = |kind: &str| {
        fields
            .iter()
            .find(|f| f.schema.as_ref().and_then(|s| s.custom.as_deref()) == Some(kind))
            .map(|f| f.id.clone())
    };
    let participants = id_of(wire::PARTICIPANTS_FIELD).expect("participants field");
    let organisations = id_of(wire::ORGANIZATIONS_FIELD).expect("organizations field");
    let request_type = id_of(wire::REQUEST_TYPE_FIELD).expect("request type field");
    let (id, request) = site
        .requests
        .iter()
        .find(|(_, r)| r.request_type.is_some() && !r.participants.is_empty())
        .expect("a request with participants");
    let (_, issue) = sim
        .get(&format!("/rest/api/3/issue/{id}?fields={participants},{organisations},{request_type}"))
        .await;
    let named: BTreeSet<String> = issue["fields"][&participants]
        .as_array()
        .expect("participants")
        .iter()
        .map(|u| u["accountId"].as_str().expect("id").to_string())
        .collect();
    assert_eq!(named, request.participants);
    assert!(issue["fields"][&request_type]["requestType"]["id"].is_string(), "{issue}");
    // An issue of another project has none of them.
    let other =
        site.issues.values().find(|i| !site.requests.contains_key(&i.id) && !i.archived).expect("an issue");
    let (_, issue) =
        sim.get(&format!("/rest/api/3/issue/{}?fields={participants},{request_type}", other.id)).await;
    assert!(issue["fields"][&participants].is_null() && issue["fields"][&request_type].is_null(), "{issue}");
}

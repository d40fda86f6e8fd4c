//! Same seed, same site, byte for byte: two simulators generated from one seed answer every request with
//! identical bytes, and a different seed gives a different site.

use permdex::sim::generate::{admin_credentials, generate};
use permdex::sim::http::{serve, SimState};
use permdex::sim::{Scale, SimConfig};

/// Requests that between them touch every kind of content the simulator serves.
const PATHS: &[&str] = &[
    "/wiki/api/v2/spaces?limit=250",
    "/wiki/api/v2/pages?limit=250&body-format=storage&status=current",
    "/wiki/api/v2/blogposts?limit=250&body-format=storage",
    "/wiki/rest/api/group?limit=200",
    "/rest/api/3/project/search?maxResults=100",
    "/rest/api/3/users/search?maxResults=1000",
];

struct Running {
    base: String,
    client: reqwest::Client,
    email: String,
    token: String,
    _stop: tokio::sync::oneshot::Sender<()>,
}

async fn start(seed: u64) -> Running {
    let config = SimConfig::new(seed, Scale::Tiny);
    let site = generate(&config).expect("generate");
    let credentials = admin_credentials(&site);
    let (email, token) = (credentials.email.clone(), credentials.token.clone());
    let state = SimState::new(site, config, credentials);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind loopback");
    let base = format!("http://{}", listener.local_addr().expect("local addr"));
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    tokio::spawn(serve(listener, state, async {
        let _ = stopped.await;
    }));
    let client =
        reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().expect("http client");
    Running { base, client, email, token, _stop: stop }
}

impl Running {
    async fn bytes(&self, path: &str) -> Vec<u8> {
        let response = self
            .client
            .get(format!("{}{path}", self.base))
            .basic_auth(&self.email, Some(&self.token))
            .send()
            .await
            .unwrap_or_else(|e| panic!("GET {path}: {e}"));
        assert!(response.status().is_success(), "GET {path}: {}", response.status());
        self.without_base(&response.bytes().await.expect("body"))
    }

    async fn post(&self, path: &str, body: serde_json::Value) -> Vec<u8> {
        let response = self
            .client
            .post(format!("{}{path}", self.base))
            .basic_auth(&self.email, Some(&self.token))
            .json(&body)
            .send()
            .await
            .unwrap_or_else(|e| panic!("POST {path}: {e}"));
        assert!(response.status().is_success(), "POST {path}: {}", response.status());
        self.without_base(&response.bytes().await.expect("body"))
    }

    /// The body with this server's own address (which differs between two servers) replaced by a marker.
    fn without_base(&self, body: &[u8]) -> Vec<u8> {
        match std::str::from_utf8(body) {
            Ok(text) => text.replace(&self.base, "{base}").into_bytes(),
            Err(_) => body.to_vec(),
        }
    }

    /// Every response of [`PATHS`], every issue in full, and the bytes of every attachment.
    async fn snapshot(&self) -> Vec<(String, Vec<u8>)> {
        let mut out = Vec::new();
        for path in PATHS {
            out.push((path.to_string(), self.bytes(path).await));
        }
        let projects: serde_json::Value =
            serde_json::from_slice(&self.bytes("/rest/api/3/project/search?maxResults=100").await)
                .expect("projects json");
        for project in projects["values"].as_array().expect("project list") {
            let key = project["key"].as_str().expect("project key");
            let jql = format!("project = {key} ORDER BY id ASC");
            let page = self
                .post(
                    "/rest/api/3/search/jql",
                    serde_json::json!({"jql": jql, "maxResults": 100, "fields": ["*all"]}),
                )
                .await;
            out.push((format!("search {key}"), page));
        }
        let pages: serde_json::Value =
            serde_json::from_slice(&self.bytes("/wiki/api/v2/pages?limit=250&status=current").await)
                .expect("pages json");
        for page in pages["results"].as_array().expect("page list") {
            let page_id = page["id"].as_str().expect("page id");
            let listing = self.bytes(&format!("/wiki/api/v2/pages/{page_id}/attachments?limit=250")).await;
            let attachments: serde_json::Value = serde_json::from_slice(&listing).expect("json");
            out.push((format!("attachments of {page_id}"), listing));
            for a in attachments["results"].as_array().expect("attachment list") {
                let id = a["id"].as_str().expect("id");
                let redirect = self
                    .client
                    .get(format!(
                        "{}/wiki/rest/api/content/{page_id}/child/attachment/{id}/download",
                        self.base
                    ))
                    .basic_auth(&self.email, Some(&self.token))
                    .send()
                    .await
                    .expect("download");
                let location = redirect.headers()["location"].to_str().expect("location").to_string();
                let url =
                    if location.starts_with("http") { location } else { format!("{}{location}", self.base) };
                let bytes = self.client.get(url).send().await.expect("media").bytes().await.expect("bytes");
                out.push((format!("attachment {id}"), bytes.to_vec()));
            }
        }
        out
    }
}

#[tokio::test]
async fn same_seed_serves_identical_bytes_and_another_seed_differs() {
    let (a, b, c) = (start(42).await, start(42).await, start(43).await);
    let (snap_a, snap_b, snap_c) = (a.snapshot().await, b.snapshot().await, c.snapshot().await);
    assert!(snap_a.len() > PATHS.len() + 5, "the snapshot covers issues and attachments too");
    assert_eq!(snap_a.len(), snap_b.len());
    for ((path, x), (_, y)) in snap_a.iter().zip(&snap_b) {
        assert!(x == y, "{path}: responses differ between two sites of the same seed");
    }
    let first: Vec<_> = snap_a.iter().take(PATHS.len()).collect();
    let other: Vec<_> = snap_c.iter().take(PATHS.len()).collect();
    assert_ne!(first, other, "a different seed gives a different site");
}

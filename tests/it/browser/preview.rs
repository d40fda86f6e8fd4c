//! The preview in a real browser, against `permdex demo`: opening a result shows its indexed text as the
//! reader may read it (what `GET /api/v1/documents/…` answers them), in a dialog the URL names, with no
//! link to the simulated site (its pages answer 401 to a browser); a shared preview link opened by someone
//! who may not read the document says it is not found, and shows nothing of it. axe-core finds nothing
//! serious with the preview open, and at 390 px it does not scroll sideways.

use fantoccini::Locator;
use serde_json::{json, Value};

use super::{demo, restricted_page, strings, Browser, Screen};

impl Browser {
    /// What the preview dialog shows now.
    pub(super) async fn preview(&self) -> Value {
        self.client
            .execute(
                "const d = document.getElementById('preview');
                 return {open: d.open, state: d.dataset.state, id: d.dataset.id,
                         title: document.getElementById('preview-title').textContent,
                         text: document.getElementById('preview-text').textContent,
                         links: [...document.querySelectorAll('#preview-links a')].map((a) => a.href),
                         note: document.getElementById('preview-links').textContent,
                         missing: !document.getElementById('preview-missing').hidden};",
                vec![],
            )
            .await
            .expect("script runs")
    }

    /// Runs `action`, then waits until the page has answered one more preview than before it.
    pub(super) async fn previewed<F: std::future::Future<Output = ()>>(&self, action: F) -> Value {
        let before = self.previews().await;
        action.await;
        self.wait_for(&format!("body[data-previews=\"{}\"]", before + 1)).await;
        self.preview().await
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_result_opens_its_preview_and_a_hidden_one_is_not_found() {
    let data = tempfile::tempdir().unwrap();
    let demo = demo(data.path()).await;
    let (reader, other, title, id) = restricted_page(&demo).await;
    let http = reqwest::Client::new();
    let document = |token: String| {
        let url = format!("{}/api/v1/documents/demo/{id}", demo.url);
        let request = http.get(url).bearer_auth(token);
        async move {
            let response = request.send().await.unwrap();
            (response.status().as_u16(), response.json::<Value>().await.unwrap_or(Value::Null))
        }
    };
    let (status, indexed) = document(reader.token.clone()).await;
    assert_eq!(status, 200, "{indexed}");
    assert_eq!(document(other.token.clone()).await.0, 404, "the other user may not read it");

    let browser = Browser::start().await;
    browser.client.goto(&demo.url).await.unwrap();
    let select = browser.wait_for("#user-select option").await;
    select.find(Locator::XPath("..")).await.unwrap().select_by_value(&reader.token).await.unwrap();
    let shown = browser.search(&format!("\"{}\"", title.replace('"', " "))).await;
    assert!(strings(&shown["titles"]).contains(&title), "{shown}");

    // Opening the result shows its indexed text, as the API gives it to this reader.
    let result = browser.wait_for(&format!(".hit[data-id=\"{id}\"] .title")).await;
    let preview = browser.previewed(async { result.click().await.unwrap() }).await;
    assert_eq!(preview["state"], json!("loaded"), "{preview}");
    assert_eq!((&preview["id"], &preview["title"]), (&json!(id), &json!(title)));
    assert_eq!(preview["text"], indexed["text"]);
    assert!(!preview["text"].as_str().unwrap().is_empty());
    // In the demo the simulated site's pages answer 401: no link to them, and the page says why.
    assert_eq!(preview["links"], json!([]), "{preview}");
    assert!(preview["note"].as_str().unwrap().contains("simulated"), "{preview}");
    let url = browser.query_string().await;
    assert!(url.contains(&format!("preview=demo%3A{}", id.replace(':', "%3A"))), "{url}");
    assert_eq!(browser.accessibility_violations().await, json!([]), "the open preview");

    // Close: the dialog goes, the URL forgets it, focus is back on the result.
    browser.client.find(Locator::Css("#preview-close")).await.unwrap().click().await.unwrap();
    browser.wait_for("dialog#preview:not([open])").await;
    assert!(!browser.query_string().await.contains("preview="));
    assert_eq!(browser.focused().await, json!(id));

    // Forward reopens it; a reload of that URL shows it again.
    browser.previewed(async { browser.client.forward().await.unwrap() }).await;
    let shared = browser.client.current_url().await.unwrap().to_string();
    assert!(shared.contains("preview="), "{shared}");
    browser.client.refresh().await.unwrap();
    browser.wait_for("body[data-previews=\"1\"]").await;
    assert_eq!(browser.preview().await["state"], json!("loaded"));

    // The link shared with someone who may not read the page: not found, and nothing of it shown.
    browser.client.goto(&demo.url).await.unwrap();
    let select = browser.wait_for("#user-select").await;
    select.select_by_value(&other.token).await.unwrap();
    browser.client.goto(&shared).await.unwrap();
    browser.wait_for("body[data-previews=\"1\"]").await;
    let preview = browser.preview().await;
    assert_eq!((&preview["state"], &preview["missing"]), (&json!("missing"), &json!(true)), "{preview}");
    assert_eq!((&preview["title"], &preview["text"]), (&json!("Not found"), &json!("")), "{preview}");
    let page = browser.client.source().await.unwrap();
    assert!(!page.contains(&title), "nothing of the hidden page is on screen");
    assert_eq!(browser.accessibility_violations().await, json!([]), "the not-found preview");
    browser.client.clone().close().await.unwrap();

    // On a phone, the open preview fits the screen.
    let browser = Browser::start_sized(Screen::Phone { width: 390, height: 844 }).await;
    browser.client.goto(&demo.url).await.unwrap();
    browser.wait_for("#user-select").await.select_by_value(&reader.token).await.unwrap();
    browser.client.goto(&shared).await.unwrap();
    browser.wait_for("dialog#preview[data-state=\"loaded\"]").await;
    let widths = browser.overflow().await;
    let (inner, scroll) = (widths["inner"].as_u64().unwrap(), widths["scroll"].as_u64().unwrap());
    assert!(inner <= 400 && scroll <= inner, "the preview scrolls sideways at {inner} px: {widths}");
    assert_eq!(browser.accessibility_violations().await, json!([]), "the preview at phone width");
    browser.client.clone().close().await.unwrap();
    demo.shutdown().await;
}

//! The result line at a glance in a real browser, against `permdex demo`: a page shows its space's name and
//! the pages above it, an issue its type, status (coloured by its category) and assignee, exactly as the
//! API gives them to the reader; the preview's breadcrumb opens an ancestor's preview. axe-core finds
//! nothing serious, and at 390 px a long breadcrumb does not make the page scroll sideways.

use fantoccini::Locator;
use permdex::demo::RunningDemo;
use permdex::server::DemoUser;
use serde_json::{json, Value};

use super::{demo, visible, Browser, Screen};

/// A demo user's hit for `query` with the id `id`, as the API gives it.
async fn api_hit(demo: &RunningDemo, user: &DemoUser, query: &str, id: &str) -> Value {
    let body: Value = reqwest::Client::new()
        .get(format!("{}/api/v1/search", demo.url))
        .query(&[("q", query), ("limit", "100")])
        .bearer_auth(&user.token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let hits = body["hits"].as_array().unwrap_or_else(|| panic!("hits: {body}"));
    hits.iter().find(|h| h["id"] == id).cloned().unwrap_or_else(|| panic!("{id} for {query:?}: {body}"))
}

/// For a demo user: a page they read with at least two pages above it, and an issue they read; each with
/// a title no other item shares, as (user, page id, page title, issue id, issue summary).
async fn page_and_issue(demo: &RunningDemo) -> (DemoUser, String, String, String, String) {
    for user in &demo.users {
        let readable = visible(demo, &user.account_id).await;
        let site = demo.sim.state.read();
        let unique_page = |c: &&permdex::sim::model::Content| {
            site.contents.values().filter(|o| o.title == c.title).count() == 1
        };
        let page = readable.iter().find_map(|id| {
            let content = site.contents.get(&id.strip_prefix("confluence:page:")?.parse().ok()?)?;
            let parent = site.contents.get(&content.parent_id?)?;
            parent.parent_id?;
            unique_page(&content).then(|| (id.clone(), content.title.clone()))
        });
        let issue = readable.iter().find_map(|id| {
            let issue = site.issues.get(&id.strip_prefix("jira:issue:")?.parse().ok()?)?;
            let unique = site.issues.values().filter(|i| i.summary == issue.summary).count() == 1;
            (unique && issue.assignee.is_some()).then(|| (id.clone(), issue.summary.clone()))
        });
        if let (Some((page, title)), Some((issue, summary))) = (page, issue) {
            return (user.clone(), page, title, issue, summary);
        }
    }
    panic!("a demo user reads a page two levels down and an assigned issue")
}

fn phrase(text: &str) -> String {
    format!("\"{}\"", text.replace('"', " "))
}

impl Browser {
    /// The meta line of the result `id`: its kind, where it sits, its status and category, its assignee.
    async fn glance_of(&self, id: &str) -> Value {
        // The answer arrives before the page draws it: wait for the result itself.
        self.wait_for(&format!(".hit[data-id=\"{id}\"]")).await;
        let script = "const hit = document.querySelector(`.hit[data-id=\"${arguments[0]}\"]`);
             const text = (css) => { const e = hit.querySelector(css); return e ? e.textContent : null; };
             const status = hit.querySelector('.status');
             return {kind: text('.kind'), where: text('.where'), status: text('.status'),
                     category: status ? status.dataset.category : null, assignee: text('.assignee')};";
        self.client.execute(script, vec![json!(id)]).await.expect("script runs")
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn results_show_where_pages_sit_and_how_issues_stand() {
    let data = tempfile::tempdir().unwrap();
    let demo = demo(data.path()).await;
    let (user, page, title, issue, summary) = page_and_issue(&demo).await;
    let page_hit = api_hit(&demo, &user, &phrase(&title), &page).await;
    let issue_hit = api_hit(&demo, &user, &phrase(&summary), &issue).await;
    let crumbs: Vec<&str> =
        page_hit["breadcrumb"].as_array().unwrap().iter().map(|c| c["title"].as_str().unwrap()).collect();
    assert!(crumbs.len() >= 2, "the reader reads the pages above: {page_hit}");

    let browser = Browser::start().await;
    browser.client.goto(&demo.url).await.unwrap();
    let select = browser.wait_for("#user-select option").await;
    select.find(Locator::XPath("..")).await.unwrap().select_by_value(&user.token).await.unwrap();

    browser.search(&phrase(&title)).await;
    let shown = browser.glance_of(&page).await;
    let space = page_hit["space_name"].as_str().unwrap();
    let path = std::iter::once(space).chain(crumbs.iter().copied()).collect::<Vec<_>>().join(" › ");
    assert_eq!(shown["where"], json!(path), "{shown}");
    assert_eq!(browser.accessibility_violations().await, json!([]), "a page's result line");

    // The preview's breadcrumb opens the page above it.
    let result = browser.wait_for(&format!(".hit[data-id=\"{page}\"] .title")).await;
    browser.previewed(async { result.click().await.unwrap() }).await;
    let parent = page_hit["breadcrumb"].as_array().unwrap().last().unwrap().clone();
    let link = browser.wait_for(&format!("#preview-meta .where a[href$=\"{}\"]", parent_ref(&parent))).await;
    assert_eq!(link.text().await.unwrap(), parent["title"].as_str().unwrap());
    let opened = browser.previewed(async { link.click().await.unwrap() }).await;
    assert_eq!((&opened["id"], &opened["title"]), (&parent["id"], &parent["title"]), "{opened}");
    browser.client.find(Locator::Css("#preview-close")).await.unwrap().click().await.unwrap();
    browser.wait_for("dialog#preview:not([open])").await;

    browser.search(&phrase(&summary)).await;
    let shown = browser.glance_of(&issue).await;
    assert_eq!(
        (&shown["kind"], &shown["status"], &shown["category"]),
        (&issue_hit["issue_type"], &issue_hit["status"], &issue_hit["status_category"]),
        "{shown} for {issue_hit}"
    );
    let assigned = format!("Assigned to {}", issue_hit["assignee_name"].as_str().unwrap());
    assert_eq!(shown["assignee"], json!(assigned));
    assert_eq!(browser.accessibility_violations().await, json!([]), "an issue's result line");
    browser.client.clone().close().await.unwrap();

    // At phone width the breadcrumb wraps within the screen.
    let phone = Browser::start_sized(Screen::Phone { width: 390, height: 844 }).await;
    phone.client.goto(&demo.url).await.unwrap();
    let select = phone.wait_for("#user-select option").await;
    select.find(Locator::XPath("..")).await.unwrap().select_by_value(&user.token).await.unwrap();
    phone.search(&phrase(&title)).await;
    let widths = phone.overflow().await;
    let (inner, scroll) = (widths["inner"].as_u64().unwrap(), widths["scroll"].as_u64().unwrap());
    assert!(scroll <= inner, "a breadcrumb scrolls sideways at {inner} px: {widths}");
    phone.client.clone().close().await.unwrap();
    demo.shutdown().await;
}

/// The end of a preview link to `crumb`: `preview=demo%3A{id}`, its colons encoded.
fn parent_ref(crumb: &Value) -> String {
    format!("preview=demo%3A{}", crumb["id"].as_str().unwrap().replace(':', "%3A"))
}

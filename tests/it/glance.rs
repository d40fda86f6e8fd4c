//! What a result shows at a glance: a Confluence document's space name and breadcrumb, a Jira document's
//! issue key, type, status and assignee.
//!
//! - The breadcrumb fails closed: on a hand-made index, an ancestor the caller may not read (or that the
//!   index does not hold) is left out of hits and previews, and a caller who may read it sees it.
//! - Synced from the simulator over HTTP, every document carries what the site says, and stays so after
//!   changes that move no version on the site (a space renamed, a page above moved or deleted), through
//!   incremental and permissions-only runs.

use std::collections::BTreeMap;

use permdex::acl::{AclStore, CallerPrincipals, ClauseKey, Principal};
use permdex::index::{DocId, IndexDoc, IndexReader, IndexWriter, Kind, Product};
use permdex::search::{Assignee, SearchRequest, SearchService};
use permdex::sim::model::{ContentKind, Site};
use permdex::sim::mutate::Mutation;
use permdex::sim::{Scale, SimConfig, SiteFeatures};
use permdex::sync::{Mode, RunOutcome};

use crate::sync::harness_with;

/// Pages root → middle → leaf, the middle one readable by `insiders` only, the others by anyone; a comment
/// on the leaf; a page whose parent is not in the index; an issue of each assignee kind.
fn hand_made(dir: &std::path::Path) -> SearchService {
    let mut acl = AclStore::default();
    let open = acl.set_clause(ClauseKey("open".into()), &[Principal::Anyone]);
    let inner = acl.set_clause(ClauseKey("inner".into()), &[Principal::Group("insiders".into())]);
    let (public, insiders) = (acl.profile(&[open]), acl.profile(&[open, inner]));
    let mut writer = IndexWriter::create(dir).expect("create");
    let page = |id: &str, title: &str, ancestors: &[&str], profile| {
        let mut doc = IndexDoc::named(&DocId::confluence(Kind::Page, id), profile);
        doc.title = title.into();
        doc.body = format!("{title} handbook");
        doc.space = Some("ENG".into());
        doc.space_name = Some("Engineering".into());
        doc.ancestors = ancestors.iter().map(|a| DocId::confluence(Kind::Page, *a).to_string()).collect();
        doc
    };
    let mut comment = IndexDoc::named(&DocId::confluence(Kind::Comment, "9"), public);
    comment.title = "Comment on Leaf".into();
    comment.body = "handbook remark".into();
    comment.ancestors =
        ["1", "2", "3"].iter().map(|a| DocId::confluence(Kind::Page, *a).to_string()).collect();
    let issue = |id: &str, assignee: Option<&str>, name: Option<&str>| {
        let mut doc = IndexDoc::named(&DocId::jira(Kind::Issue, id), public);
        doc.title = "handbook typo".into();
        doc.display_title = Some(format!("DOC-{id}: handbook typo"));
        doc.issue_key = Some(format!("DOC-{id}"));
        doc.issue_type = Some("Bug".into());
        doc.status = Some("In Review".into());
        doc.status_category = Some("indeterminate".into());
        doc.assignee = assignee.map(str::to_owned);
        doc.assignee_name = name.map(str::to_owned);
        doc
    };
    let docs = [
        page("1", "Root", &[], public),
        page("2", "Middle", &["1"], insiders),
        page("3", "Leaf", &["1", "2"], public),
        page("4", "Orphan", &["404", "1"], public),
        comment,
        issue("1", Some("acc-ana"), Some("Ana Sá")),
        issue("2", None, None),
        issue("3", Some("acc-gone"), None),
    ];
    for doc in &docs {
        writer.upsert(doc).expect("upsert");
    }
    writer.commit(&acl, b"").expect("commit");
    SearchService::new(IndexReader::open(dir).expect("open"))
}

fn crumbs_of(service: &SearchService, caller: &CallerPrincipals) -> BTreeMap<String, Vec<String>> {
    let mut request = SearchRequest::new("handbook");
    request.page = permdex::search::PageRequest::Offset { offset: 0, limit: 50 };
    let response = service.search(caller, &request).expect("search");
    response
        .hits
        .into_iter()
        .filter(|h| h.product == "confluence")
        .map(|h| (h.id, h.breadcrumb.into_iter().map(|c| c.title).collect()))
        .collect()
}

#[test]
fn a_breadcrumb_names_only_ancestors_the_caller_may_read() {
    let dir = tempfile::tempdir().expect("tempdir");
    let service = hand_made(dir.path());
    let outsider = service.acl().caller(&[Principal::Anyone, Principal::User("out".into())]);
    let insider = service.acl().caller(&[Principal::Anyone, Principal::Group("insiders".into())]);

    let seen = crumbs_of(&service, &outsider);
    // The middle page's title never reaches a caller who may not read it, in a hit or a preview.
    assert_eq!(seen["confluence:page:3"], vec!["Root"]);
    assert_eq!(seen["confluence:comment:9"], vec!["Root", "Leaf"]);
    assert!(!seen.contains_key("confluence:page:2"));
    let preview = service.document(&outsider, "confluence:comment:9").expect("read").expect("readable");
    assert_eq!(preview.breadcrumb.iter().map(|c| c.title.as_str()).collect::<Vec<_>>(), ["Root", "Leaf"]);
    // An ancestor the index does not hold (deleted, archived, a folder) is left out for everyone.
    assert_eq!(seen["confluence:page:4"], vec!["Root"]);

    let seen = crumbs_of(&service, &insider);
    assert_eq!(seen["confluence:page:3"], vec!["Root", "Middle"]);
    assert_eq!(seen["confluence:comment:9"], vec!["Root", "Middle", "Leaf"]);
    assert_eq!(seen["confluence:page:4"], vec!["Root"]);
    let preview = service.document(&insider, "confluence:page:3").expect("read").expect("readable");
    assert_eq!(
        preview.breadcrumb.iter().map(|c| c.id.as_str()).collect::<Vec<_>>(),
        ["confluence:page:1", "confluence:page:2"]
    );
    assert_eq!(preview.space_name.as_deref(), Some("Engineering"));

    // Titles are kept per commit for every caller; who may see one is still asked each time.
    let seen = crumbs_of(&service, &outsider);
    assert_eq!(seen["confluence:page:3"], vec!["Root"], "after an insider's search named the middle page");
    let preview = service.document(&outsider, "confluence:page:3").expect("read").expect("readable");
    assert_eq!(preview.breadcrumb.len(), 1);
}

#[test]
fn issues_show_their_type_status_and_assignee() {
    let dir = tempfile::tempdir().expect("tempdir");
    let service = hand_made(dir.path());
    let caller = service.acl().caller(&[Principal::Anyone]);
    let mut request = SearchRequest::new("typo");
    request.page = permdex::search::PageRequest::Offset { offset: 0, limit: 50 };
    let hits = service.search(&caller, &request).expect("search").hits;
    let facts: BTreeMap<String, _> =
        hits.into_iter().map(|h| (h.id, h.issue.expect("a Jira hit has issue facts"))).collect();
    let first = &facts["jira:issue:1"];
    assert_eq!(
        (first.key.as_deref(), first.issue_type.as_deref(), first.status.as_deref()),
        (Some("DOC-1"), Some("Bug"), Some("In Review"))
    );
    assert_eq!(first.status_category.as_deref(), Some("indeterminate"));
    assert_eq!(first.assignee, Assignee::Named("Ana Sá".into()));
    assert_eq!(facts["jira:issue:2"].assignee, Assignee::Unassigned);
    assert_eq!(facts["jira:issue:3"].assignee, Assignee::Unnamed, "assigned, but the name is not known");

    // The facts filter: type and status whole and in any case, the assignee by id or name.
    let found = |query: &str| -> Vec<String> {
        let mut request = SearchRequest::new(query);
        request.page = permdex::search::PageRequest::Offset { offset: 0, limit: 50 };
        let mut ids: Vec<String> =
            service.search(&caller, &request).expect("search").hits.into_iter().map(|h| h.id).collect();
        ids.sort();
        ids
    };
    let all = ["jira:issue:1", "jira:issue:2", "jira:issue:3"];
    assert_eq!(found("type:bug"), all);
    assert_eq!(found("status:\"in review\""), all);
    assert_eq!(found("status:review"), Vec::<String>::new(), "a status is matched whole");
    assert_eq!(found("assignee:ana"), ["jira:issue:1"]);
    assert_eq!(found("assignee:acc-gone"), ["jira:issue:3"]);
    assert_eq!(found("typo -assignee:ana"), ["jira:issue:2", "jira:issue:3"]);
}

/// What the index shows of every synced document, against what the site says.
fn assert_glance_matches_site(h: &crate::sync::Harness, context: &str) -> usize {
    let site = h.site();
    let index = h.index();
    let reader = index.reader();
    let mut checked = 0;
    for (id, _) in reader.all_ids().expect("ids") {
        let doc = reader.get(&id).expect("get").expect("stored");
        match doc.product {
            Product::Confluence => assert_location(&site, &doc, context),
            Product::Jira => assert_issue_facts(&site, &doc, context),
        }
        checked += 1;
    }
    checked
}

fn native(id: &str) -> u64 {
    let doc: DocId = id.parse().expect("a document id");
    doc.native.trim_start_matches("att").parse().expect("a numeric id")
}

/// The pages above `content` on the site, root first, as document ids.
fn chain(site: &Site, content: u64) -> Vec<String> {
    let mut above = Vec::new();
    let mut at = site.contents.get(&content).and_then(|c| c.parent_id);
    while let Some(id) = at {
        above.push(DocId::confluence(Kind::Page, id.to_string()).to_string());
        at = site.contents.get(&id).and_then(|c| c.parent_id);
    }
    above.reverse();
    above
}

fn assert_location(site: &Site, doc: &IndexDoc, context: &str) {
    let (holder, mut want) = match doc.kind {
        Kind::Page | Kind::Blogpost => (native(&doc.id), Vec::new()),
        _ => {
            let container = doc.container.as_deref().expect("a comment or attachment has a container");
            (native(container), vec![container.to_owned()])
        }
    };
    let content = &site.contents[&holder];
    let kind = if content.kind == ContentKind::Page { Kind::Page } else { Kind::Blogpost };
    if doc.kind != Kind::Page && doc.kind != Kind::Blogpost {
        assert_eq!(want, vec![DocId::confluence(kind, holder.to_string()).to_string()], "{context}");
    }
    let mut ancestors = chain(site, holder);
    ancestors.append(&mut want);
    assert_eq!(doc.ancestors, ancestors, "{context}: ancestors of {}", doc.id);
    let space = &site.spaces[&content.space_id];
    assert_eq!(doc.space_name.as_deref(), Some(space.name.as_str()), "{context}: space of {}", doc.id);
}

fn assert_issue_facts(site: &Site, doc: &IndexDoc, context: &str) {
    let issue_id = match doc.kind {
        Kind::Issue => native(&doc.id),
        _ => native(doc.container.as_deref().expect("a Jira comment or attachment has its issue")),
    };
    let issue = &site.issues[&issue_id];
    assert_eq!(doc.issue_key.as_deref(), Some(issue.key.as_str()), "{context}: {}", doc.id);
    if doc.kind != Kind::Issue {
        assert_eq!((&doc.status, &doc.assignee), (&None, &None), "{context}: {}", doc.id);
        return;
    }
    assert_eq!(doc.issue_type.as_deref(), Some(issue.issue_type.name()), "{context}: {}", doc.id);
    assert_eq!(doc.status.as_deref(), Some(issue.status.as_str()), "{context}: {}", doc.id);
    let done = matches!(issue.status.as_str(), "Done" | "Closed" | "Resolved");
    let category = doc.status_category.as_deref().expect("the simulator sends a category");
    assert_eq!(category == "done", done, "{context}: {} is {:?} in {category}", doc.id, issue.status);
    assert!(["new", "indeterminate", "done"].contains(&category), "{context}: {category}");
    assert_eq!(doc.assignee, issue.assignee, "{context}: {}", doc.id);
    let name = issue.assignee.as_ref().map(|a| {
        site.users.iter().find(|u| u.account_id == *a).expect("a known account").display_name.clone()
    });
    assert_eq!(doc.assignee_name, name, "{context}: {}", doc.id);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn synced_documents_show_where_they_sit_and_follow_changes_that_move_no_version() {
    let features = SiteFeatures { inline_comments: true, ..SiteFeatures::NONE };
    let h = harness_with(SimConfig::new(4, Scale::Tiny), features).await;
    assert_eq!(h.sync(Mode::Full).await.outcome, RunOutcome::Completed);
    let checked = assert_glance_matches_site(&h, "full sync");
    assert!(checked > 20, "only {checked} documents");

    let site = h.site();
    // A page with a grandchild, so a move above the grandchild changes its breadcrumb alone.
    let (middle, parent) = site
        .contents
        .values()
        .filter(|c| c.kind == ContentKind::Page)
        .find_map(|c| {
            let child = site.index.children_of.get(&c.id)?.first()?;
            site.index.children_of.get(child).filter(|g| !g.is_empty())?;
            Some((*child, c.id))
        })
        .expect("a page with a grandchild");
    let space_id = site.contents[&parent].space_id;
    let unassign = site
        .issues
        .values()
        .find(|i| i.assignee.is_some() && !i.archived)
        .map(|i| i.id)
        .expect("an assignee");
    h.mutate(&[
        Mutation::RenameSpace { space_id, name: "Renamed Space".into() },
        Mutation::MovePage { id: middle, new_parent_id: None, new_space_id: None },
    ])
    .await;
    assert_eq!(h.sync(Mode::PermissionsOnly).await.outcome, RunOutcome::Completed);
    assert_glance_matches_site(&h, "after a rename and a move, permissions-only");

    h.mutate(&[
        Mutation::DeletePage { id: parent },
        Mutation::SetAssignee { id: unassign, account_id: None },
    ])
    .await;
    assert_eq!(h.sync(Mode::Incremental).await.outcome, RunOutcome::Completed);
    assert_glance_matches_site(&h, "after a deletion above pages and an unassignment, incremental");
}

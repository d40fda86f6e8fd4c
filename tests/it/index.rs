//! The index layer end to end on disk: writer → commit → reader, the commit protocol under simulated crashes and
//! corruption, the schema version check, issue keys, stemming and per-caller visibility.

use std::fs;
use std::path::Path;

use chrono::{DateTime, TimeZone, Utc};
use permdex::acl::{AclStore, ClauseKey, Principal, ProfileId};
use permdex::index::commit::{self, Generation, Layout};
use permdex::index::{Error, IndexDoc, IndexReader, IndexWriter, Kind, Product};
use tantivy::collector::Count;
use tantivy::query::{Query, QueryParser, TermQuery};
use tantivy::schema::{IndexRecordOption, Term, Value};

fn at(secs: i64, millis: u32) -> DateTime<Utc> {
    Utc.timestamp_opt(secs, millis * 1_000_000).single().expect("valid time")
}

/// A document with every field set to something distinctive.
fn full_doc(id: &str, profile: ProfileId) -> IndexDoc {
    IndexDoc {
        id: id.to_string(),
        product: Product::Jira,
        kind: Kind::Issue,
        title: format!("Title of {id}"),
        display_title: Some(format!("HADOOP-77: Title of {id}")),
        body: format!("Body of {id}, mentions HADOOP-1234."),
        space: Some("ENG".into()),
        space_name: Some("Engineering".into()),
        // Several values, kept in order (root first).
        ancestors: vec!["confluence:page:9".into(), "confluence:page:1".into(), "confluence:page:5".into()],
        project: Some("HADOOP".into()),
        container: Some("jira:project:10000".into()),
        labels: vec!["backend".into(), "Needs-Triage".into()],
        author: Some("557058:f0e1".into()),
        author_name: Some("Zoë Ng".into()),
        issue_key: Some("HADOOP-77".into()),
        issue_type: Some("Bug".into()),
        status: Some("In Progress".into()),
        status_category: Some("indeterminate".into()),
        assignee: Some("557058:a55e".into()),
        assignee_name: Some("Ana Sá".into()),
        created: at(1_600_000_000, 123),
        updated: at(1_700_000_000, 999),
        url: format!("https://example.atlassian.net/browse/{id}"),
        acl_profile: profile,
        version: 7,
    }
}

fn small_doc(id: &str, profile: ProfileId, version: u64) -> IndexDoc {
    let mut doc = IndexDoc::new(id, Product::Confluence, Kind::Page, profile);
    doc.version = version;
    doc
}

/// An ACL store with one public profile; returns it and the profile.
fn public_acl() -> (AclStore, ProfileId) {
    let mut acl = AclStore::default();
    let clause = acl.set_clause(ClauseKey("space:public".into()), &[Principal::Anyone]);
    let profile = acl.profile(&[clause]);
    (acl, profile)
}

fn anyone(reader: &IndexReader) -> permdex::acl::CallerPrincipals {
    reader.acl().caller(&[Principal::Anyone])
}

fn count(reader: &IndexReader, query: &dyn Query) -> usize {
    reader.searcher().search(query, &Count).expect("search")
}

fn keys_term(reader: &IndexReader, text: &str) -> TermQuery {
    TermQuery::new(Term::from_field_text(reader.fields().keys, text), IndexRecordOption::Basic)
}

#[test]
fn every_field_round_trips() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (acl, profile) = public_acl();
    let mut writer = IndexWriter::create(dir.path()).expect("create");
    let full = full_doc("jira:issue:1", profile);
    let mut sparse = IndexDoc::new("confluence:page:2", Product::Confluence, Kind::Blogpost, profile);
    sparse.created = at(0, 1);
    writer.upsert(&full).expect("upsert");
    writer.upsert(&sparse).expect("upsert");
    assert_eq!(writer.commit(&acl, b"state-1").expect("commit"), Generation(1));

    let reader = IndexReader::open(dir.path()).expect("open");
    assert_eq!(reader.integrity_problem(), None);
    assert_eq!(reader.generation(), Generation(1));
    assert_eq!(reader.state(), b"state-1");
    assert_eq!(**reader.acl(), acl);
    assert_eq!(reader.doc_count(), 2);
    assert_eq!(reader.get("jira:issue:1").expect("get"), Some(full));
    assert_eq!(reader.get("confluence:page:2").expect("get"), Some(sparse));
    assert_eq!(reader.get("jira:issue:3").expect("get"), None);
}

#[test]
fn times_keep_milliseconds_only() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (acl, profile) = public_acl();
    let mut writer = IndexWriter::create(dir.path()).expect("create");
    let mut doc = small_doc("p", profile, 1);
    doc.updated = Utc.timestamp_opt(1_700_000_000, 123_456_789).single().expect("valid");
    writer.upsert(&doc).expect("upsert");
    writer.commit(&acl, b"").expect("commit");
    let reader = IndexReader::open(dir.path()).expect("open");
    let back = reader.get("p").expect("get").expect("present");
    assert_eq!(back.updated, at(1_700_000_000, 123));
}

#[test]
fn upsert_replaces_within_a_batch_and_across_commits() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (acl, profile) = public_acl();
    let mut writer = IndexWriter::create(dir.path()).expect("create");
    writer.upsert(&small_doc("a", profile, 1)).expect("upsert");
    writer.upsert(&small_doc("a", profile, 2)).expect("upsert");
    writer.upsert(&small_doc("b", profile, 1)).expect("upsert");
    writer.commit(&acl, b"").expect("commit");

    let mut reader = IndexReader::open(dir.path()).expect("open");
    assert_eq!(reader.doc_count(), 2);
    assert_eq!(reader.all_ids().expect("ids"), vec![("a".to_string(), 2), ("b".to_string(), 1)]);

    let mut changed = small_doc("a", profile, 3);
    changed.title = "third".into();
    writer.upsert(&changed).expect("upsert");
    writer.commit(&acl, b"").expect("commit");
    // Not yet reloaded: the reader still shows the commit it opened.
    assert_eq!(reader.get("a").expect("get").map(|d| d.version), Some(2));
    reader.reload().expect("reload");
    assert_eq!(reader.doc_count(), 2);
    assert_eq!(reader.get("a").expect("get"), Some(changed));
    assert_eq!(reader.all_ids().expect("ids"), vec![("a".to_string(), 3), ("b".to_string(), 1)]);
}

#[test]
fn delete_removes_committed_and_pending_documents() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (acl, profile) = public_acl();
    let mut writer = IndexWriter::create(dir.path()).expect("create");
    for id in ["a", "b", "c"] {
        writer.upsert(&small_doc(id, profile, 1)).expect("upsert");
    }
    writer.commit(&acl, b"").expect("commit");
    writer.delete("a");
    writer.upsert(&small_doc("d", profile, 1)).expect("upsert");
    writer.delete("d");
    writer.delete("never-existed");
    writer.commit(&acl, b"").expect("commit");

    let reader = IndexReader::open(dir.path()).expect("open");
    assert_eq!(reader.doc_count(), 2);
    assert_eq!(reader.get("a").expect("get"), None);
    assert_eq!(reader.get("d").expect("get"), None);
    let ids: Vec<String> = reader.all_ids().expect("ids").into_iter().map(|(id, _)| id).collect();
    assert_eq!(ids, ["b", "c"]);
    assert_eq!(reader.visible_ids(&anyone(&reader)).expect("visible"), ["b", "c"]);
}

#[test]
fn all_ids_spans_segments_and_skips_deleted() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (acl, profile) = public_acl();
    let mut writer = IndexWriter::create(dir.path()).expect("create");
    // Several commits make several segments.
    for batch in 0..4u64 {
        for i in 0..50u64 {
            let n = batch * 50 + i;
            writer.upsert(&small_doc(&format!("doc-{n:04}"), profile, n)).expect("upsert");
        }
        writer.commit(&acl, b"").expect("commit");
    }
    for n in (0..200u64).step_by(3) {
        writer.delete(&format!("doc-{n:04}"));
    }
    writer.commit(&acl, b"").expect("commit");
    let reader = IndexReader::open(dir.path()).expect("open");
    let want: Vec<(String, u64)> =
        (0..200u64).filter(|n| n % 3 != 0).map(|n| (format!("doc-{n:04}"), n)).collect();
    assert_eq!(reader.all_ids().expect("ids"), want);
    assert_eq!(reader.doc_count(), want.len() as u64);
}

#[test]
fn uncommitted_generation_files_are_ignored_after_a_crash() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (acl, profile) = public_acl();
    let mut writer = IndexWriter::create(dir.path()).expect("create");
    writer.upsert(&small_doc("committed", profile, 1)).expect("upsert");
    writer.commit(&acl, b"state-1").expect("commit");

    // The next commit gets as far as writing generation 2's files, then the process dies.
    writer.upsert(&small_doc("lost", profile, 1)).expect("upsert");
    let mut other_acl = acl.clone();
    other_acl.set_clause(ClauseKey("space:public".into()), &[Principal::User("someone".into())]);
    let layout = Layout::new(dir.path());
    commit::write_generation(&layout, Generation(2), &other_acl.to_bytes(), b"state-2").expect("write files");
    drop(writer);

    let reader = IndexReader::open(dir.path()).expect("open");
    assert_eq!(reader.integrity_problem(), None);
    assert_eq!(reader.generation(), Generation(1));
    assert_eq!(reader.state(), b"state-1");
    assert_eq!(**reader.acl(), acl);
    assert_eq!(reader.visible_ids(&anyone(&reader)).expect("visible"), ["committed"]);

    // A restarted writer continues from generation 1 and overwrites the orphaned files.
    let mut writer = IndexWriter::open(dir.path()).expect("reopen");
    assert_eq!(writer.generation(), Generation(1));
    assert_eq!(writer.commit(&other_acl, b"state-2b").expect("commit"), Generation(2));
    let reader = IndexReader::open(dir.path()).expect("open");
    assert_eq!((reader.generation(), reader.state()), (Generation(2), &b"state-2b"[..]));
    assert_eq!(**reader.acl(), other_acl);
}

#[test]
fn only_the_last_two_generations_stay_on_disk() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (acl, _) = public_acl();
    let mut writer = IndexWriter::create(dir.path()).expect("create");
    for _ in 0..4 {
        writer.commit(&acl, b"s").expect("commit");
    }
    let mut names: Vec<String> = fs::read_dir(dir.path().join("meta"))
        .expect("meta dir")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    assert_eq!(names, ["gen-3.acl", "gen-3.state", "gen-4.acl", "gen-4.state", "schema.json"]);
}

/// Commits one public document and returns the directory; the caller then damages generation 1.
fn committed_index(dir: &Path) -> AclStore {
    let (acl, profile) = public_acl();
    let mut writer = IndexWriter::create(dir).expect("create");
    writer.upsert(&small_doc("doc", profile, 1)).expect("upsert");
    writer.commit(&acl, b"state").expect("commit");
    acl
}

#[test]
fn damaged_generation_files_make_everything_invisible() {
    type Damage = fn(&Layout);
    let cases: &[(&str, Damage, &str)] = &[
        ("acl file missing", |l| fs::remove_file(l.acl_file(Generation(1))).expect("remove"), "gen-1.acl"),
        (
            "state file missing",
            |l| fs::remove_file(l.state_file(Generation(1))).expect("remove"),
            "gen-1.state",
        ),
        (
            "acl file altered",
            |l| {
                let path = l.acl_file(Generation(1));
                let mut bytes = fs::read(&path).expect("read");
                let last = bytes.len() - 1;
                bytes[last] ^= 0xff;
                fs::write(&path, bytes).expect("write");
            },
            "does not match",
        ),
        ("acl file truncated", |l| fs::write(l.acl_file(Generation(1)), b"").expect("write"), "gen-1.acl"),
        (
            "state file altered",
            |l| fs::write(l.state_file(Generation(1)), b"stat3").expect("write"),
            "gen-1.state",
        ),
    ];
    for (case, damage, mentions) in cases {
        let dir = tempfile::tempdir().expect("tempdir");
        committed_index(dir.path());
        damage(&Layout::new(dir.path()));
        let reader = IndexReader::open(dir.path()).expect("a damaged acl store still opens");
        let problem = reader.integrity_problem().unwrap_or_else(|| panic!("{case}: no problem reported"));
        assert!(problem.contains(mentions), "{case}: {problem:?} does not mention {mentions:?}");
        assert_eq!(reader.doc_count(), 1, "{case}: the documents are still there");
        assert!(reader.visible_ids(&anyone(&reader)).expect("visible").is_empty(), "{case}: visible");
        assert!(reader.state().is_empty(), "{case}: state of a damaged generation is not handed out");
        assert_eq!(reader.acl().profile_count(), AclStore::default().profile_count(), "{case}");
    }
}

#[test]
fn a_good_commit_after_damage_restores_visibility_on_reload() {
    let dir = tempfile::tempdir().expect("tempdir");
    let acl = committed_index(dir.path());
    let layout = Layout::new(dir.path());
    fs::write(layout.acl_file(Generation(1)), b"garbage").expect("write");
    let mut reader = IndexReader::open(dir.path()).expect("open");
    assert!(reader.integrity_problem().is_some());

    let mut writer = IndexWriter::open(dir.path()).expect("open writer");
    writer.commit(&acl, b"state").expect("commit");
    reader.reload().expect("reload");
    assert_eq!(reader.integrity_problem(), None);
    assert_eq!(reader.visible_ids(&anyone(&reader)).expect("visible"), ["doc"]);
}

#[test]
fn documents_without_a_commit_record_are_invisible() {
    // Documents committed straight through tantivy, bypassing the protocol, have no ACL store behind them.
    let dir = tempfile::tempdir().expect("tempdir");
    let (_, profile) = public_acl();
    IndexWriter::create(dir.path()).expect("create").close().expect("close");
    let index = tantivy::Index::open_in_dir(dir.path().join("tantivy")).expect("open tantivy");
    permdex::index::IndexSchema::embedded().expect("schema").register_tokenizers(&index);
    let mut raw: tantivy::IndexWriter = index.writer(15_000_000).expect("writer");
    let schema = index.schema();
    let mut doc = tantivy::TantivyDocument::new();
    doc.add_text(schema.get_field("id").expect("id"), "sneaky");
    doc.add_u64(schema.get_field("acl_profile").expect("acl_profile"), u64::from(profile.0));
    raw.add_document(doc).expect("add");
    raw.commit().expect("commit");
    drop(raw);

    let reader = IndexReader::open(dir.path()).expect("open");
    assert_eq!(reader.doc_count(), 1);
    assert!(reader.integrity_problem().is_some_and(|p| p.contains("no commit")));
    assert!(reader.visible_ids(&anyone(&reader)).expect("visible").is_empty());
}

#[test]
fn an_empty_new_index_opens_without_a_problem() {
    let dir = tempfile::tempdir().expect("tempdir");
    IndexWriter::create(dir.path()).expect("create").close().expect("close");
    let reader = IndexReader::open(dir.path()).expect("open");
    assert_eq!(
        (reader.integrity_problem(), reader.doc_count(), reader.generation()),
        (None, 0, Generation::NONE)
    );
}

/// Rewrites the schema version an index records by `by`; returns the current version.
fn shift_recorded_version(dir: &Path, by: i64) -> u64 {
    let record = Layout::new(dir).schema_record();
    let mut json: serde_json::Value =
        serde_json::from_slice(&fs::read(&record).expect("read")).expect("json");
    let current = json["version"].as_u64().expect("version");
    json["version"] = current.checked_add_signed(by).expect("a version").into();
    fs::write(&record, json.to_string()).expect("write");
    current
}

#[test]
fn a_newer_schema_version_is_refused_with_advice_and_left_alone() {
    let dir = tempfile::tempdir().expect("tempdir");
    committed_index(dir.path());
    let current = shift_recorded_version(dir.path(), 1);

    let reader_err = IndexReader::open(dir.path()).expect_err("reader refuses");
    let writer_err = IndexWriter::open(dir.path()).expect_err("writer refuses");
    for err in [reader_err, writer_err] {
        assert!(
            matches!(err, Error::SchemaVersion { found, expected, .. } if found == current + 1 && expected == current)
        );
        assert!(!err.is_outdated_schema());
        let message = err.to_string();
        assert!(message.contains("written by a newer permdex"), "{message}");
        assert!(message.contains(&dir.path().display().to_string()), "{message}");
    }
    // Neither open_or_create nor open_or_rebuild papers over it by creating a new index on top.
    assert!(matches!(IndexWriter::open_or_create(dir.path()), Err(Error::SchemaVersion { .. })));
    assert!(matches!(IndexWriter::open_or_rebuild(dir.path()), Err(Error::SchemaVersion { .. })));
    let record = Layout::new(dir.path()).schema_record();
    assert!(fs::read_to_string(record).expect("still there").contains(&format!("{}", current + 1)));
}

#[test]
fn an_older_schema_version_is_replaced_by_a_new_index_on_rebuild() {
    let dir = tempfile::tempdir().expect("tempdir");
    committed_index(dir.path());
    let current = shift_recorded_version(dir.path(), -1);
    let err = IndexReader::open(dir.path()).expect_err("reader refuses");
    assert!(err.is_outdated_schema());
    assert!(err.to_string().contains("the next sync of its source rebuilds it"), "{err}");
    assert!(matches!(IndexWriter::open_or_create(dir.path()), Err(Error::SchemaVersion { .. })));

    let (writer, replaced) = IndexWriter::open_or_rebuild(dir.path()).expect("rebuilt");
    assert!(
        matches!(replaced, Some(Error::SchemaVersion { found, expected, .. }) if found == current - 1 && expected == current)
    );
    writer.close().expect("close");
    let reader = IndexReader::open(dir.path()).expect("the new index opens");
    assert_eq!((reader.doc_count(), reader.generation()), (0, Generation::NONE));
    // Nothing of the old index is left: no generation files, and the record is this version's.
    let meta: Vec<String> = fs::read_dir(Layout::new(dir.path()).meta_dir())
        .expect("meta")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(meta, vec!["schema.json".to_string()]);
    let (_, replaced) = IndexWriter::open_or_rebuild(dir.path()).expect("opens");
    assert!(replaced.is_none(), "a current index is opened, not replaced");
}

#[test]
fn a_missing_schema_record_is_not_an_index() {
    let dir = tempfile::tempdir().expect("tempdir");
    committed_index(dir.path());
    fs::remove_file(Layout::new(dir.path()).schema_record()).expect("remove");
    assert!(matches!(IndexReader::open(dir.path()), Err(Error::NotAnIndex { .. })));
    // A tantivy index is there, so creating over it is refused rather than clobbering it.
    assert!(matches!(IndexWriter::open_or_create(dir.path()), Err(Error::NotAnIndex { .. })));
}

#[test]
fn issue_keys_are_findable_whole_and_body_tokens_still_work() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (acl, profile) = public_acl();
    let mut writer = IndexWriter::create(dir.path()).expect("create");
    let mut key_doc = small_doc("jira:issue:1", profile, 1);
    key_doc.title = "NameNode crash".into();
    key_doc.display_title = Some("HADOOP-4321: NameNode crash".into());
    key_doc.body = "Regression from HADOOP-1234; see also hdfs-9 and XHADOOP-1234.".into();
    let mut longer = small_doc("jira:issue:2", profile, 1);
    longer.body = "Unrelated HADOOP-12345 here".into();
    let mut in_title = small_doc("jira:issue:3", profile, 1);
    in_title.title = "Backport HADOOP-1234 to 3.x".into();
    for d in [&key_doc, &longer, &in_title] {
        writer.upsert(d).expect("upsert");
    }
    writer.commit(&acl, b"").expect("commit");
    let reader = IndexReader::open(dir.path()).expect("open");

    let cases: &[(&str, usize)] = &[
        ("hadoop-1234", 2),  // whole key, lowercased; not HADOOP-12345, not XHADOOP-1234
        ("hadoop-12345", 1), //
        ("hadoop-4321", 1),  // an issue's own key, shown in its title but not searched as title words
        ("HADOOP-1234", 0),  // terms are lowercased at index time
        ("hdfs-9", 0),       // lowercase text is not a key
        ("hadoop", 0),       // keys are not split
    ];
    for (key, want) in cases {
        assert_eq!(count(&reader, &keys_term(&reader, key)), *want, "keys:{key}");
    }

    let fields = reader.fields();
    let parser = QueryParser::for_index(reader.index(), vec![fields.title, fields.body]);
    let body_cases: &[(&str, usize)] =
        &[("hadoop", 3), ("1234", 2), ("12345", 1), ("4321", 0), ("regression", 1)];
    for (text, want) in body_cases {
        let query = parser.parse_query(text).expect("parse");
        assert_eq!(count(&reader, query.as_ref()), *want, "text {text}");
    }
    // The keys field analyses query text the same way, so a user typing the key finds it.
    let key_parser = QueryParser::for_index(reader.index(), vec![fields.keys]);
    let query = key_parser.parse_query("HADOOP-1234").expect("parse");
    assert_eq!(count(&reader, query.as_ref()), 2);
}

#[test]
fn english_stemming_and_phrases() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (acl, profile) = public_acl();
    let mut writer = IndexWriter::create(dir.path()).expect("create");
    let mut rotating = small_doc("page:1", profile, 1);
    rotating.title = "Rotating the signing keys".into();
    let mut rotation = small_doc("page:2", profile, 1);
    rotation.body = "Key rotation schedule for the quarter.".into();
    let mut other = small_doc("page:3", profile, 1);
    other.body = "Rotas for the on-call keys signing party.".into();
    for d in [&rotating, &rotation, &other] {
        writer.upsert(d).expect("upsert");
    }
    writer.commit(&acl, b"").expect("commit");
    let reader = IndexReader::open(dir.path()).expect("open");
    let fields = reader.fields();
    let parser = QueryParser::for_index(reader.index(), vec![fields.title, fields.body]);
    let cases: &[(&str, &[&str])] = &[
        ("rotate", &["page:1", "page:2"]),
        ("ROTATED", &["page:1", "page:2"]),
        ("\"signing keys\"", &["page:1"]),
        // Order matters in a phrase: only page:3 has "keys signing".
        ("\"key signing\"", &["page:3"]),
    ];
    for (text, want) in cases {
        let query = parser.parse_query(text).expect("parse");
        let hits =
            reader.searcher().search(query.as_ref(), &tantivy::collector::DocSetCollector).expect("search");
        let mut ids: Vec<String> = hits
            .into_iter()
            .map(|address| {
                let doc: tantivy::TantivyDocument = reader.searcher().doc(address).expect("doc");
                doc.get_first(fields.id).and_then(|v| v.as_str().map(str::to_string)).expect("stored id")
            })
            .collect();
        ids.sort();
        assert_eq!(ids, *want, "query {text}");
    }
}

#[test]
fn visible_ids_follow_the_profiles() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut acl = AclStore::default();
    let user = |s: &str| Principal::User(s.into());
    let group = |s: &str| Principal::Group(s.into());
    let eng_space = acl.set_clause(ClauseKey("space:eng".into()), &[group("eng")]);
    let page_restriction = acl.set_clause(ClauseKey("page:7".into()), &[user("alice"), group("leads")]);
    let public_space = acl.set_clause(ClauseKey("space:pub".into()), &[Principal::Anyone]);
    let signed_in = acl.set_clause(ClauseKey("project:ops".into()), &[Principal::Authenticated]);
    let in_eng = acl.profile(&[eng_space]);
    let restricted = acl.profile(&[eng_space, page_restriction]);
    let public = acl.profile(&[public_space]);
    let ops = acl.profile(&[signed_in]);

    let mut writer = IndexWriter::create(dir.path()).expect("create");
    let docs = [
        ("eng-page", in_eng),
        ("eng-restricted", restricted),
        ("public-page", public),
        ("ops-issue", ops),
        ("unresolved", AclStore::NOBODY),
        ("dangling-profile", ProfileId(999)),
    ];
    for (id, profile) in docs {
        writer.upsert(&small_doc(id, profile, 1)).expect("upsert");
    }
    writer.commit(&acl, b"").expect("commit");
    let reader = IndexReader::open(dir.path()).expect("open");

    let cases: &[(&str, Vec<Principal>, &[&str])] = &[
        (
            "alice in eng",
            vec![user("alice"), group("eng"), Principal::Authenticated, Principal::Anyone],
            &["eng-page", "eng-restricted", "ops-issue", "public-page"],
        ),
        (
            "bob in eng",
            vec![user("bob"), group("eng"), Principal::Authenticated, Principal::Anyone],
            &["eng-page", "ops-issue", "public-page"],
        ),
        (
            "carol in leads only",
            vec![user("carol"), group("leads"), Principal::Authenticated, Principal::Anyone],
            &["ops-issue", "public-page"],
        ),
        ("anonymous", vec![Principal::Anyone], &["public-page"]),
        ("nobody at all", vec![], &[]),
    ];
    for (case, principals, want) in cases {
        let caller = reader.acl().caller(principals.iter());
        assert_eq!(reader.visible_ids(&caller).expect("visible"), *want, "{case}");
    }
}

#[test]
fn reader_types_move_across_threads() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (acl, profile) = public_acl();
    let dir_path = dir.path().to_path_buf();
    // The commit runs on another thread, as it would under spawn_blocking.
    let mut writer = IndexWriter::create(&dir_path).expect("create");
    writer.upsert(&small_doc("x", profile, 1)).expect("upsert");
    let writer = std::thread::spawn(move || {
        writer.commit(&acl, b"").expect("commit");
        writer
    })
    .join()
    .expect("thread");
    assert_eq!(writer.generation(), Generation(1));
    let reader = IndexReader::open(&dir_path).expect("open");
    let ids = std::thread::spawn(move || reader.all_ids().expect("ids")).join().expect("thread");
    assert_eq!(ids, vec![("x".to_string(), 1)]);
}

#[test]
fn same_version_but_different_fields_is_refused() {
    // A schema changed without a version bump: the record claims the current version, the index disagrees.
    let dir = tempfile::tempdir().expect("tempdir");
    let layout = Layout::new(dir.path());
    fs::create_dir_all(layout.tantivy_dir()).expect("tantivy dir");
    fs::create_dir_all(layout.meta_dir()).expect("meta dir");
    let mut builder = tantivy::schema::Schema::builder();
    builder.add_text_field("id", tantivy::schema::STRING | tantivy::schema::STORED);
    tantivy::Index::create_in_dir(layout.tantivy_dir(), builder.build()).expect("other index");
    fs::write(layout.schema_record(), permdex::index::schema::SCHEMA_JSON).expect("record");

    let err = IndexReader::open(dir.path()).expect_err("refused");
    assert!(matches!(err, Error::SchemaMismatch { .. }), "{err}");
    assert!(err.to_string().contains("the next sync of its source rebuilds it"), "{err}");
    assert!(matches!(IndexWriter::open(dir.path()), Err(Error::SchemaMismatch { .. })));
    let (_, replaced) = IndexWriter::open_or_rebuild(dir.path()).expect("rebuilt");
    assert!(matches!(replaced, Some(Error::SchemaMismatch { .. })));
    assert_eq!(IndexReader::open(dir.path()).expect("opens").doc_count(), 0);
}

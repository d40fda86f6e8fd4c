//! Integrity of what is on disk: a flipped bit in any segment file (stored documents, terms, postings,
//! positions, field norms, the fast columns that hold `acl_profile`) makes the index serve nothing, at open
//! and at reload, until a commit without the damaged segments; profile ids the ACL store does not know are
//! never allowed, whatever a column holds; `permdex status` and `permdex doctor` say so and the next sync
//! rebuilds; an index of an older schema is rebuilt by the next sync, one of a newer schema left alone; and
//! what the binary writes is private to its owner.

use std::fs;
use std::path::{Path, PathBuf};

use permdex::acl::{AclStore, ClauseKey, Principal, ProfileId};
use permdex::index::commit::{self, Generation, Layout};
use permdex::index::{IndexDoc, IndexReader, IndexWriter, Kind, Product};
use permdex::search::{SearchRequest, SearchService};
use permdex::sim::{Scale, SimConfig};

use crate::support;

/// Writes two public documents and one readable by nobody, deletes one so the segment has an alive-documents
/// file, and commits. Returns the store.
fn committed(dir: &Path) -> AclStore {
    let mut acl = AclStore::default();
    let public = acl.set_clause(ClauseKey("space:pub".into()), &[Principal::Anyone]);
    let public = acl.profile(&[public]);
    let mut writer = IndexWriter::create(dir).expect("create");
    for (id, profile) in
        [("page-1", public), ("page-2", public), ("secret", AclStore::NOBODY), ("gone", public)]
    {
        let mut doc = IndexDoc::new(id, Product::Confluence, Kind::Page, profile);
        doc.title = format!("release notes {id}");
        doc.body = format!("the body of {id} mentions the release");
        writer.upsert(&doc).expect("upsert");
    }
    writer.commit(&acl, b"state").expect("commit");
    writer.delete("gone");
    writer.commit(&acl, b"state").expect("commit");
    writer.close().expect("close");
    acl
}

/// The largest segment file of `dir` whose name ends with `extension` (tantivy's indexing threads may
/// split a commit into several segments).
fn segment_file(dir: &Path, extension: &str) -> PathBuf {
    fs::read_dir(Layout::new(dir).tantivy_dir())
        .expect("tantivy dir")
        .map(|e| e.expect("entry").path())
        .filter(|p| p.file_name().and_then(|n| n.to_str()).is_some_and(|n| n.ends_with(extension)))
        .max_by_key(|p| fs::metadata(p).expect("metadata").len())
        .unwrap_or_else(|| panic!("no {extension} file"))
}

fn flip_bit(path: &Path, offset: usize, bit: u8) {
    let mut bytes = fs::read(path).expect("read");
    bytes[offset] ^= 1 << bit;
    fs::write(path, bytes).expect("write");
}

/// The number of bytes before a tantivy file's footer (the bytes its checksum covers).
fn body_len(path: &Path) -> usize {
    let bytes = fs::read(path).expect("read");
    let footer_len = u32::from_le_bytes(bytes[bytes.len() - 8..bytes.len() - 4].try_into().expect("4 bytes"));
    bytes.len() - 8 - footer_len as usize
}

fn everyone(store: &AclStore) -> permdex::acl::CallerPrincipals {
    store.caller(&[Principal::Anyone, Principal::Authenticated, Principal::User("u".into())])
}

/// What a caller reading everything finds through the search path.
fn search_total(reader: IndexReader) -> u64 {
    let service = SearchService::new(reader);
    let caller = everyone(&service.acl());
    service.search(&caller, &SearchRequest::new("")).expect("search").total
        + service.search(&caller, &SearchRequest::new("release")).expect("search").total
}

#[test]
fn an_intact_index_opens_without_a_problem() {
    let dir = tempfile::tempdir().expect("tempdir");
    committed(dir.path());
    let reader = IndexReader::open(dir.path()).expect("open");
    assert_eq!(reader.integrity_problem(), None);
    assert_eq!(search_total(reader), 4, "two public pages, browsed and searched");
}

#[test]
fn a_flipped_bit_in_any_segment_file_serves_nothing() {
    for extension in [".store", ".term", ".idx", ".pos", ".fieldnorm", ".fast", ".del"] {
        let dir = tempfile::tempdir().expect("tempdir");
        committed(dir.path());
        let file = segment_file(dir.path(), extension);
        flip_bit(&file, body_len(&file) / 2, 3);

        let reader = IndexReader::open(dir.path()).expect("a damaged index still opens");
        let problem =
            reader.integrity_problem().unwrap_or_else(|| panic!("{extension}: no problem reported"));
        let name = file.file_name().and_then(|n| n.to_str()).expect("name");
        assert!(problem.contains(&format!("tantivy/{name} fails its checksum")), "{extension}: {problem}");
        assert!(!problem.contains(&dir.path().display().to_string()), "no absolute path: {problem}");
        assert_eq!(reader.doc_count(), 0, "{extension}: no segment is served");
        assert!(reader.state().is_empty(), "{extension}: no state to resume from");
        assert!(reader.visible_ids(&everyone(reader.acl())).expect("visible").is_empty(), "{extension}");
        assert_eq!(reader.generation(), Generation(2), "{extension}: the commit is still named");
        assert_eq!(search_total(reader), 0, "{extension}: searches find nothing");
    }
}

/// Every byte of the fast-field file's data — which holds the `acl_profile` column a flipped bit once
/// widened access through — is covered: a flipped bit anywhere in it makes the index serve nothing. (The
/// footer after the data holds the checksum itself, its length and the version that wrote it.)
#[test]
fn every_byte_of_the_fast_columns_is_covered() {
    let dir = tempfile::tempdir().expect("tempdir");
    committed(dir.path());
    let file = segment_file(dir.path(), ".fast");
    let original = fs::read(&file).expect("read");
    let tantivy_dir = Layout::new(dir.path()).tantivy_dir();
    let metas =
        tantivy::Index::open_in_dir(&tantivy_dir).expect("open").searchable_segment_metas().expect("metas");
    for offset in 0..body_len(&file) {
        let mut bytes = original.clone();
        bytes[offset] ^= 1 << (offset % 8);
        fs::write(&file, &bytes).expect("write");
        let damage = permdex::index::verify::damaged_files(&tantivy_dir, &metas);
        assert_eq!(damage.len(), 1, "a flip in byte {offset} of {} went unnoticed", original.len());
    }
    // And through the reader, for a flip in the columns themselves.
    let mut bytes = original.clone();
    bytes[body_len(&file) / 3] ^= 0x10;
    fs::write(&file, &bytes).expect("write");
    let reader = IndexReader::open(dir.path()).expect("open");
    assert!(reader.integrity_problem().is_some());
    assert!(reader.visible_ids(&everyone(reader.acl())).expect("visible").is_empty());
}

#[test]
fn damage_found_at_reload_serves_nothing_until_a_commit_without_it() {
    let dir = tempfile::tempdir().expect("tempdir");
    let acl = committed(dir.path());
    let mut reader = IndexReader::open(dir.path()).expect("open");
    assert_eq!(reader.integrity_problem(), None);

    let file = segment_file(dir.path(), ".store");
    flip_bit(&file, 0, 0);
    // A new commit leaves the damaged segment in place: the reload checks it again.
    let mut writer = IndexWriter::open(dir.path()).expect("writer");
    writer.upsert(&IndexDoc::new("page-3", Product::Confluence, Kind::Page, ProfileId(1))).expect("upsert");
    writer.commit(&acl, b"state").expect("commit");
    reader.reload().expect("reload");
    assert!(reader.integrity_problem().is_some_and(|p| p.contains(".store fails its checksum")));
    assert_eq!(reader.doc_count(), 0);

    // What a sync does with an untrusted commit: drop every committed segment unread, write again.
    writer.discard_committed().expect("discard");
    writer.upsert(&IndexDoc::new("page-4", Product::Confluence, Kind::Page, ProfileId(1))).expect("upsert");
    writer.commit(&acl, b"state").expect("commit");
    reader.reload().expect("reload");
    assert_eq!(reader.integrity_problem(), None);
    assert_eq!(reader.visible_ids(&everyone(reader.acl())).expect("visible"), ["page-4"]);
}

/// Documents whose `acl_profile` column holds an id the store does not know — one past the last profile,
/// the largest u32, and values beyond u32 written straight into the column — are never allowed, to a
/// caller holding every principal, through the listing and the search path.
#[test]
fn profile_ids_outside_the_store_are_never_allowed() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut acl = AclStore::default();
    let public = acl.set_clause(ClauseKey("space:pub".into()), &[Principal::Anyone]);
    let public = acl.profile(&[public]);
    let past_the_end = ProfileId(u32::try_from(acl.profile_count()).expect("small store"));
    let mut writer = IndexWriter::create(dir.path()).expect("create");
    for (id, profile) in [("known", public), ("past-the-end", past_the_end), ("u32-max", ProfileId(u32::MAX))]
    {
        let mut doc = IndexDoc::new(id, Product::Confluence, Kind::Page, profile);
        doc.body = "release".into();
        writer.upsert(&doc).expect("upsert");
    }
    writer.commit(&acl, b"").expect("commit");
    writer.close().expect("close");

    // Beyond u32: through tantivy directly, committed with the protocol's payload so the store is trusted.
    let layout = Layout::new(dir.path());
    let index = tantivy::Index::open_in_dir(layout.tantivy_dir()).expect("open tantivy");
    permdex::index::IndexSchema::embedded().expect("schema").register_tokenizers(&index);
    let schema = index.schema();
    let field = |name: &str| schema.get_field(name).expect(name);
    let mut raw: tantivy::IndexWriter = index.writer(15_000_000).expect("writer");
    for (id, profile) in [("beyond-u32", u64::from(u32::MAX) + 1), ("u64-max", u64::MAX)] {
        let mut doc = tantivy::TantivyDocument::new();
        doc.add_text(field("id"), id);
        doc.add_text(field("body"), "release");
        doc.add_u64(field("acl_profile"), profile);
        raw.add_document(doc).expect("add");
    }
    let payload = commit::write_generation(&layout, Generation(2), &acl.to_bytes(), b"").expect("files");
    let mut prepared = raw.prepare_commit().expect("prepare");
    prepared.set_payload(&payload.to_json());
    prepared.commit().expect("commit");
    drop(raw);

    let reader = IndexReader::open(dir.path()).expect("open");
    assert_eq!(reader.integrity_problem(), None);
    assert_eq!(reader.doc_count(), 5);
    let caller = everyone(reader.acl());
    assert_eq!(reader.visible_ids(&caller).expect("visible"), ["known"]);
    let service = SearchService::new(reader);
    for query in ["", "release"] {
        let found = service.search(&caller, &SearchRequest::new(query)).expect("search");
        let ids: Vec<&str> = found.hits.iter().map(|h| h.id.as_str()).collect();
        assert_eq!((found.total, ids), (1, vec!["known"]), "query {query:?}");
    }
}

#[cfg(unix)]
fn mode(path: &Path) -> u32 {
    use std::os::unix::fs::PermissionsExt;
    fs::symlink_metadata(path).expect("metadata").permissions().mode() & 0o777
}

/// Every directory and file under `root` whose mode is not 0700 (directories) or 0600 (files).
#[cfg(unix)]
fn not_private(root: &Path) -> Vec<String> {
    let mut wrong = Vec::new();
    let mut pending = vec![root.to_path_buf()];
    while let Some(path) = pending.pop() {
        let want = if path.is_dir() { 0o700 } else { 0o600 };
        if mode(&path) != want {
            wrong.push(format!("{:04o} {}", mode(&path), path.display()));
        }
        if path.is_dir() {
            pending.extend(fs::read_dir(&path).expect("read dir").map(|e| e.expect("entry").path()));
        }
    }
    wrong
}

/// The environment variable the binary reads the simulator's token from.
const TOKEN_ENV: &str = "PERMDEX_SIM_TOKEN";

/// Runs the `permdex` binary with `args`, `sim`'s token in [`TOKEN_ENV`] and no `RUST_LOG`.
fn run_permdex(sim: &permdex::sim::run::RunningSim, args: &[&str]) -> std::process::Output {
    tokio::task::block_in_place(|| {
        std::process::Command::new(env!("CARGO_BIN_EXE_permdex"))
            .args(args)
            .env(TOKEN_ENV, &sim.credentials.token)
            .env_remove("RUST_LOG")
            .output()
            .expect("permdex runs")
    })
}

/// The binary end to end: a sync writes a private data directory; a wider one is warned about; a damaged
/// segment is reported by `status` and `doctor` (exit 1), and the next sync rebuilds the source.
#[cfg(unix)]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_binary_keeps_its_data_private_and_rebuilds_what_is_damaged() {
    use std::os::unix::fs::PermissionsExt;
    let sim = support::start_generated(SimConfig::new(7, Scale::Tiny)).await;
    let root = tempfile::tempdir().expect("tempdir");
    let data = root.path().join("data");
    // The config lives beside the data directory, which the sync creates.
    let config = root.path().join("permdex.toml");
    fs::write(&config, support::sim_config_text(&sim, &data, TOKEN_ENV, "")).expect("config");
    let run = |args: &[&str]| run_permdex(&sim, args);
    let config_arg = config.to_str().expect("utf-8 path");
    let text = |bytes: &[u8]| String::from_utf8_lossy(bytes).into_owned();

    let sync = run(&["sync", "--config", config_arg]);
    assert!(matches!(sync.status.code(), Some(0 | 1)), "{}", text(&sync.stderr));
    assert_eq!(not_private(&data), Vec::<String>::new(), "everything the sync wrote is private");

    let doctor = run(&["doctor", "--data", data.to_str().expect("utf-8")]);
    assert_eq!(doctor.status.code(), Some(0), "{}", text(&doctor.stdout));
    assert!(text(&doctor.stdout).contains("sim: ok"), "{}", text(&doctor.stdout));

    fs::set_permissions(&data, fs::Permissions::from_mode(0o755)).expect("chmod");
    let status = run(&["status", "--config", config_arg]);
    assert!(status.status.success());
    assert!(
        text(&status.stderr).contains("mode 0755"),
        "a wider data directory is warned about: {}",
        text(&status.stderr)
    );
    let doctor = run(&["doctor", "--data", data.to_str().expect("utf-8")]);
    assert!(text(&doctor.stdout).contains("0755 "), "{}", text(&doctor.stdout));
    fs::set_permissions(&data, fs::Permissions::from_mode(0o700)).expect("chmod");

    let index = permdex::sync::index_dir(&data, "sim");
    let file = segment_file(&index, ".fast");
    flip_bit(&file, body_len(&file) / 2, 6);

    let status = run(&["status", "--config", config_arg, "--json"]);
    let json: serde_json::Value = serde_json::from_slice(&status.stdout).expect("status json");
    let problems = json["sources"][0]["problems"].to_string();
    assert!(problems.contains(".fast fails its checksum"), "{json}");
    let doctor = run(&["doctor", "--config", config_arg]);
    assert_eq!(doctor.status.code(), Some(1), "{}", text(&doctor.stdout));
    assert!(text(&doctor.stdout).contains("sim: DAMAGED"), "{}", text(&doctor.stdout));

    let sync = run(&["sync", "--config", config_arg]);
    assert!(text(&sync.stderr).contains("starting over"), "{}", text(&sync.stderr));
    let doctor = run(&["doctor", "--config", config_arg]);
    assert_eq!(doctor.status.code(), Some(0), "rebuilt: {}", text(&doctor.stdout));
    let reader = IndexReader::open(&index).expect("open");
    assert!(reader.doc_count() > 100, "the rebuild holds the site again: {}", reader.doc_count());
    assert_eq!(not_private(&data), Vec::<String>::new());
}

/// Upgrading permdex to a new index schema: `status` says the next sync rebuilds the source, and it does
/// (a full sync into a new index, saying why); an index written by a newer permdex is left alone.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_next_sync_rebuilds_an_index_of_an_older_schema_and_leaves_a_newer_one() {
    let sim = support::start_generated(SimConfig::new(3, Scale::Tiny)).await;
    let root = tempfile::tempdir().expect("tempdir");
    let data = root.path().join("data");
    let config = root.path().join("permdex.toml");
    fs::write(&config, support::sim_config_text(&sim, &data, TOKEN_ENV, "")).expect("config");
    let config_arg = config.to_str().expect("utf-8 path");
    let run = |args: &[&str]| run_permdex(&sim, &[args, &["--config", config_arg]].concat());
    let text = |bytes: &[u8]| String::from_utf8_lossy(bytes).into_owned();
    let index = permdex::sync::index_dir(&data, "sim");
    let set_version = |version: u64| {
        let record = Layout::new(&index).schema_record();
        let mut json: serde_json::Value =
            serde_json::from_slice(&fs::read(&record).expect("read")).expect("json");
        json["version"] = version.into();
        fs::write(&record, json.to_string()).expect("write");
    };
    let current = permdex::index::IndexSchema::embedded().expect("schema").version();

    let sync = run(&["sync"]);
    assert!(matches!(sync.status.code(), Some(0 | 1)), "{}", text(&sync.stderr));
    let held = IndexReader::open(&index).expect("open").doc_count();

    set_version(current - 1);
    let status = run(&["status"]);
    assert!(
        text(&status.stdout).contains("the next sync of its source rebuilds it"),
        "{}",
        text(&status.stdout)
    );
    let sync = run(&["sync"]);
    assert!(matches!(sync.status.code(), Some(0 | 1)), "{}", text(&sync.stderr));
    let why = format!(
        "starting over with a full sync into a new index: the index was written with schema version {}",
        current - 1
    );
    assert!(text(&sync.stderr).contains(&why), "{}", text(&sync.stderr));
    let reader = IndexReader::open(&index).expect("the rebuilt index opens");
    assert_eq!(reader.doc_count(), held, "the rebuild holds the site again");

    set_version(current + 1);
    let sync = run(&["sync"]);
    assert_eq!(sync.status.code(), Some(3), "{}", text(&sync.stderr));
    assert!(text(&sync.stderr).contains("written by a newer permdex"), "{}", text(&sync.stderr));
    let record = fs::read_to_string(Layout::new(&index).schema_record()).expect("record");
    assert!(record.contains(&format!("\"version\":{}", current + 1)), "left alone: {record}");
}

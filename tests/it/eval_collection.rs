//! `permdex eval collection` end to end on the real collections in `../shared/datasets`: each is loaded into
//! the simulator, synced, searched as several accounts, audited, indexed directly, and its numbers must
//! equal the collection's regression file (`eval/regression/`), so that ranking changes are deliberate.
//! Every account's rankings equal the unfiltered ones restricted to its documents, nothing leaks, and every
//! item the oracle lists is indexed with text.

use std::path::Path;

use permdex::eval::collection::{self, Kind};
use permdex::eval::pipeline::{evaluate_collection, CollectionOptions, CollectionReport};
use permdex::eval::regression::Expected;
use permdex::eval::Measure;
use permdex::sync::Silent;

const DATASETS: &str = "../shared/datasets";

/// The report, the expected numbers, and how many documents of the collection have no text of their own.
async fn measured(kind: Kind, regression: &str) -> (CollectionReport, Expected, usize) {
    let path = collection::dataset_path(Path::new(DATASETS), kind);
    let collection = collection::load(kind, &path, None, None).expect("the collection loads");
    let expected = Expected::parse(&std::fs::read_to_string(regression).expect("regression file")).unwrap();
    let options = CollectionOptions {
        seed: expected.seed,
        depth: expected.depth,
        accounts: Vec::new(),
        measures: Measure::parse_list(permdex::eval::metrics::DEFAULT_MEASURES).unwrap(),
        data_dir: None,
        sweep: false,
    };
    let report = evaluate_collection(&collection, &options, &mut Silent).await.expect("evaluation runs");
    let without_text = collection.documents.iter().filter(|d| d.body.trim().is_empty()).count();
    (report, expected, without_text)
}

fn check_permissions_and_coverage(report: &CollectionReport, without_text: usize) {
    assert!(
        report.accounts.len() >= 2,
        "several accounts: {:?}",
        report.accounts.iter().map(|a| a.readable).collect::<Vec<_>>()
    );
    let full = report.full_reader().expect("one account reads the whole collection");
    assert!(report.accounts.iter().any(|a| a.readable < full.readable), "and some read less");
    for account in &report.accounts {
        assert_eq!(account.ranking.topics, report.topics, "{}: every topic compared", account.account);
        assert_eq!(
            (account.ranking.topics_differing, account.ranking.positions_differing),
            (0, 0),
            "{}: filtered ranking = unfiltered ranking restricted to the account's documents: {:?}",
            account.account,
            account.ranking.examples
        );
        assert!(account.leaks.checked > 0);
        assert_eq!(account.leaks.leaks, 0, "{}: {:?}", account.account, account.leaks.examples);
    }
    let mut textless = 0;
    for (kind, c) in &report.coverage.kinds {
        assert_eq!(c.indexed, c.listed, "{kind}: every listed item is indexed");
        assert!(c.failed.is_empty(), "{kind}: {:?}", c.failed);
        textless += c.listed - c.with_text;
    }
    assert_eq!(textless, without_text, "only documents without text of their own are indexed without text");
    assert!(report.coverage.unexpected.is_empty(), "{:?}", report.coverage.unexpected);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cranfield_matches_its_regression_file() {
    let (report, expected, without_text) = measured(Kind::Cranfield, "eval/regression/cranfield.json").await;
    check_permissions_and_coverage(&report, without_text);
    let problems = expected.check(&report);
    assert!(problems.is_empty(), "{problems:#?}\nmeasured:\n{}", Expected::of(&report).to_json());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn gitbugs_matches_its_regression_file() {
    let (report, expected, without_text) = measured(Kind::JiraCsv, "eval/regression/hadoop_bugs.json").await;
    check_permissions_and_coverage(&report, without_text);
    let problems = expected.check(&report);
    assert!(problems.is_empty(), "{problems:#?}\nmeasured:\n{}", Expected::of(&report).to_json());
}

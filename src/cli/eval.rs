//! `permdex eval …`: the command line of evaluation. Flags are parsed here and handed to the library
//! (`permdex::eval`) as plain values; files are read and reports printed here, nothing else.

use std::io::Write;
use std::path::{Path, PathBuf};

use std::process::ExitCode;
use std::sync::atomic::AtomicBool;
use std::sync::Arc;

use clap::{Args, Subcommand};
use permdex::sync::StderrProgress;

use permdex::config::{AccountId, Config};
use permdex::eval::collection::{self, Docno};
use permdex::eval::metrics::{evaluate, Evaluation, Measure, ScoreOptions, DEFAULT_MEASURES};
use permdex::eval::pipeline::{evaluate_collection, CollectionOptions, CollectionReport};
use permdex::eval::run::{run_topics, ApiRanker, RunSpec};
use permdex::eval::trec::{parse_topics, Qrels, Run};
use permdex::eval::Error;
use permdex::server::auth::{Caller, Callers};
use permdex::server::backend::Indexes;

/// `permdex eval`.
#[derive(Debug, Clone, Args)]
pub struct EvalArgs {
    #[command(subcommand)]
    pub command: EvalCommand,
}

#[derive(Debug, Clone, Subcommand)]
pub enum EvalCommand {
    /// Run topics through permission-filtered search as an account; print a TREC run.
    Run(RunArgs),
    /// Score a TREC run against qrels with trec_eval's definitions.
    Score(ScoreArgs),
    /// Compare runs: per measure, paired t-test, randomization test, bootstrap intervals, Holm correction.
    Compare(CompareArgs),
    /// Load a test collection into the simulator, sync it, run and score its topics as several accounts,
    /// audit permissions and coverage, and compare with indexing the same text directly.
    Collection(CollectionArgs),
}

#[derive(Debug, Clone, Args)]
pub struct RunArgs {
    /// Topics: `qid<TAB>text` lines or TREC `<top>` blocks.
    #[arg(long)]
    pub topics: PathBuf,
    /// Search as this account: only what it may read.
    #[arg(long = "as", value_name = "ACCOUNT_ID")]
    pub account: String,
    /// The configuration file.
    #[arg(long, default_value = "permdex.toml")]
    pub config: PathBuf,
    /// Hits per topic.
    #[arg(long, default_value_t = 1000)]
    pub depth: usize,
    /// Document numbers: `id` (index ids) or `label:PREFIX` (the label with that prefix, e.g. `label:cran-`).
    #[arg(long, default_value = "id")]
    pub docno: String,
    /// Run tag (last column).
    #[arg(long, default_value = "permdex")]
    pub tag: String,
}

#[derive(Debug, Clone, Args)]
pub struct ScoreArgs {
    /// Relevance judgements: `qid iter docno rel`.
    #[arg(long)]
    pub qrels: PathBuf,
    /// The run: `qid Q0 docno rank score tag`.
    pub run: PathBuf,
    /// Measures, trec_eval's names: map, ndcg_cut.10, P.10, recall.100, recip_rank, recip_rank_cut.10, …
    #[arg(long, default_value = DEFAULT_MEASURES)]
    pub metrics: String,
    /// Print every query's values too.
    #[arg(long)]
    pub per_query: bool,
    /// Print JSON.
    #[arg(long)]
    pub json: bool,
    /// Least judgement that counts as relevant (trec_eval -l).
    #[arg(long, default_value_t = 1)]
    pub relevance_level: i32,
    /// Drop unjudged documents from rankings first (trec_eval -J).
    #[arg(long)]
    pub judged_only: bool,
    /// Average over every judged query, absent ones scoring 0 (trec_eval -c).
    #[arg(long)]
    pub complete: bool,
}

impl ScoreArgs {
    fn options(&self) -> ScoreOptions {
        ScoreOptions {
            relevance_level: self.relevance_level,
            judged_only: self.judged_only,
            complete: self.complete,
        }
    }
}

#[derive(Debug, Clone, Args)]
pub struct CompareArgs {
    /// Relevance judgements: `qid iter docno rel`.
    #[arg(long)]
    pub qrels: PathBuf,
    /// Runs; the first is the baseline the others are compared with.
    #[arg(required = true, num_args = 2..)]
    pub runs: Vec<PathBuf>,
    /// Measures, trec_eval's names.
    #[arg(long, default_value = "ndcg_cut.10,map,recip_rank,P.10")]
    pub metrics: String,
    /// Seed of the randomization test and the bootstrap.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Resamples of the randomization test and the bootstrap.
    #[arg(long, default_value_t = 10_000)]
    pub resamples: usize,
    /// Print JSON instead of Markdown.
    #[arg(long)]
    pub json: bool,
    /// Also write an HTML report with charts (it opens from disk, no network).
    #[arg(long, value_name = "FILE")]
    pub html: Option<PathBuf>,
}

#[derive(Debug, Clone, Args)]
pub struct CollectionArgs {
    /// cranfield (SMART files: documents, queries, cranqrel) or jira-csv (a Jira CSV and duplicate pairs).
    pub kind: String,
    /// The documents file (`cran.all.1400`, `hadoop_bugs.csv`).
    pub path: PathBuf,
    /// Judgements (default: `cranqrel`, or `{stem}-combined.csv` pairs, beside PATH).
    #[arg(long)]
    pub qrels: Option<PathBuf>,
    /// Topics (default: `cran.qry` beside PATH, or the issues named in the pairs).
    #[arg(long)]
    pub topics: Option<PathBuf>,
    /// Search as these accounts (repeatable; default: three chosen by the simulator's oracle).
    #[arg(long = "as", value_name = "ACCOUNT_ID")]
    pub accounts: Vec<String>,
    /// Seed of the simulated people and of how documents are dealt into permission parts.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Hits per topic.
    #[arg(long, default_value_t = 1000)]
    pub depth: usize,
    #[arg(long, default_value = DEFAULT_MEASURES)]
    pub metrics: String,
    /// Write the topics, qrels, runs and the JSON report into this directory.
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
    /// Keep the simulated site's configuration and index here (default: a temporary directory).
    #[arg(long, value_name = "DIR")]
    pub data: Option<PathBuf>,
    /// Also measure ranking variants (title boost, stop words, minimum should match, coordination) on the
    /// directly built index.
    #[arg(long)]
    pub sweep: bool,
    /// Fail (exit 1) when the measured numbers differ from this regression file.
    #[arg(long, value_name = "FILE")]
    pub check: Option<PathBuf>,
    /// Write the measured numbers as a regression file.
    #[arg(long, value_name = "FILE")]
    pub write_regression: Option<PathBuf>,
    /// Print the report as JSON instead of Markdown.
    #[arg(long)]
    pub json: bool,
}

/// Runs one `permdex eval` command: progress and problems on stderr, results on stdout; 1 when a
/// regression check fails.
pub fn dispatch(args: EvalArgs) -> anyhow::Result<ExitCode> {
    let mut out = std::io::stdout().lock();
    match args.command {
        EvalCommand::Run(args) => run(&args, &mut out)?,
        EvalCommand::Score(args) => score(&args, &mut out)?,
        EvalCommand::Compare(args) => compare(&args, &mut out)?,
        EvalCommand::Collection(args) => {
            let runtime = tokio::runtime::Runtime::new()?;
            let mut progress = StderrProgress::new("eval", Arc::new(AtomicBool::new(false)));
            if !runtime.block_on(collection(&args, &mut progress, &mut out))? {
                return Ok(ExitCode::FAILURE);
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn read(path: &Path) -> Result<String, Error> {
    std::fs::read_to_string(path).map_err(|e| Error::Format(format!("cannot read {}: {e}", path.display())))
}

fn write_file(path: &Path, text: &str) -> Result<(), Error> {
    std::fs::write(path, text).map_err(|e| Error::Format(format!("cannot write {}: {e}", path.display())))
}

fn stdout_error(e: std::io::Error) -> Error {
    Error::Format(format!("cannot write to stdout: {e}"))
}

/// `permdex eval run`.
pub fn run(args: &RunArgs, out: &mut dyn Write) -> Result<(), Error> {
    let config = Config::load(&args.config).map_err(|e| Error::Format(e.to_string()))?;
    super::warn_if_exposed(config.data_dir());
    let topics = parse_topics(&read(&args.topics)?)?;
    let docno: Docno = args.docno.parse()?;
    let account_id = AccountId::parse(&args.account)
        .map_err(|_| Error::Format(format!("{:?} is not an account id", args.account)))?;
    let indexes = Indexes::open(&config);
    let principals = indexes.principals(account_id.as_str()).ok_or_else(|| {
        Error::Format(format!(
            "account {} is not an active, in-scope user of any synced source",
            args.account
        ))
    })?;
    let ranker = ApiRanker { indexes: &indexes, caller: Caller { account_id, principals } };
    let spec = RunSpec { depth: args.depth, docno, exclude_self: false, tag: args.tag.clone() };
    let runs = run_topics(&ranker, &topics, &spec);
    for (topic, reason) in &runs.failures {
        eprintln!("permdex eval: topic {topic} refused: {reason}");
    }
    out.write_all(runs.run.to_trec().as_bytes()).map_err(stdout_error)
}

/// `permdex eval score`.
pub fn score(args: &ScoreArgs, out: &mut dyn Write) -> Result<(), Error> {
    let qrels = Qrels::parse(&read(&args.qrels)?)?;
    let run = Run::parse(&read(&args.run)?)?;
    let measures = Measure::parse_list(&args.metrics)?;
    let e = evaluate(&qrels, &run, &measures, args.options());
    let text = if args.json {
        evaluation_json(&e, &run.tag, args.per_query)
    } else {
        evaluation_text(&e, &run.tag, args.per_query)
    };
    out.write_all(text.as_bytes()).map_err(stdout_error)
}

/// trec_eval's layout: `measure<TAB>query<TAB>value`, the summary under `all`.
pub fn evaluation_text(e: &Evaluation, tag: &str, per_query: bool) -> String {
    let mut s = String::new();
    let value = |m: &Measure, v: f64| if m.is_count() { format!("{v}") } else { format!("{v:.4}") };
    if per_query {
        for (q, values) in &e.per_query {
            for (m, v) in e.measures.iter().zip(values) {
                s.push_str(&format!("{:<22}\t{q}\t{}\n", m.to_string(), value(m, *v)));
            }
        }
    }
    s.push_str(&format!("{:<22}\tall\t{tag}\n", "runid"));
    s.push_str(&format!("{:<22}\tall\t{}\n", "num_q", e.per_query.len()));
    for (m, v) in e.measures.iter().zip(&e.summary) {
        s.push_str(&format!("{:<22}\tall\t{}\n", m.to_string(), value(m, *v)));
    }
    s
}

fn evaluation_json(e: &Evaluation, tag: &str, per_query: bool) -> String {
    let named = |values: &[f64]| -> serde_json::Map<String, serde_json::Value> {
        e.measures.iter().zip(values).map(|(m, v)| (m.to_string(), serde_json::json!(v))).collect()
    };
    let mut json = serde_json::json!({ "runid": tag, "num_q": e.per_query.len(), "all": named(&e.summary) });
    if per_query {
        json["per_query"] =
            e.per_query.iter().map(|(q, v)| (q.clone(), serde_json::Value::Object(named(v)))).collect();
    }
    format!("{}\n", serde_json::to_string_pretty(&json).unwrap_or_default())
}

/// `permdex eval compare`.
pub fn compare(args: &CompareArgs, out: &mut dyn Write) -> Result<(), Error> {
    let qrels = Qrels::parse(&read(&args.qrels)?)?;
    let mut runs = Vec::new();
    for path in &args.runs {
        let run = Run::parse(&read(path)?)?;
        let name = path.file_name().map_or_else(|| run.tag.clone(), |n| n.to_string_lossy().into_owned());
        runs.push((name, run));
    }
    let measures = Measure::parse_list(&args.metrics)?;
    let comparisons = permdex::eval::compare::compare(&qrels, &runs, &measures, args.resamples, args.seed);
    if let Some(path) = &args.html {
        write_file(path, &permdex::eval::compare::html(&comparisons))?;
    }
    let text = if args.json {
        format!("{}\n", serde_json::to_string_pretty(&comparisons).unwrap_or_default())
    } else {
        permdex::eval::compare::markdown(&comparisons)
    };
    out.write_all(text.as_bytes()).map_err(stdout_error)
}

/// `permdex eval collection`. Returns whether the regression check (if asked for) passed.
pub async fn collection(
    args: &CollectionArgs,
    progress: &mut dyn permdex::sync::Progress,
    out: &mut dyn Write,
) -> Result<bool, Error> {
    let kind: collection::Kind = args.kind.parse()?;
    let collection = collection::load(kind, &args.path, args.topics.as_deref(), args.qrels.as_deref())?;
    let options = CollectionOptions {
        seed: args.seed,
        depth: args.depth,
        accounts: args.accounts.clone(),
        measures: Measure::parse_list(&args.metrics)?,
        data_dir: args.data.clone(),
        sweep: args.sweep,
    };
    let report = evaluate_collection(&collection, &options, progress).await?;
    if let Some(dir) = &args.out {
        write_outputs(dir, &collection, &report)?;
    }
    let text = if args.json {
        format!("{}\n", serde_json::to_string_pretty(&report).unwrap_or_default())
    } else {
        permdex::eval::report::collection_markdown(&report)
    };
    out.write_all(text.as_bytes()).map_err(stdout_error)?;
    if let Some(path) = &args.write_regression {
        write_file(path, &permdex::eval::regression::Expected::of(&report).to_json())?;
    }
    if let Some(path) = &args.check {
        let expected = permdex::eval::regression::Expected::parse(&read(path)?)?;
        let problems = expected.check(&report);
        for p in &problems {
            eprintln!("permdex eval: regression {}: {p}", path.display());
        }
        return Ok(problems.is_empty());
    }
    Ok(true)
}

fn write_outputs(
    dir: &Path,
    collection: &collection::Collection,
    report: &CollectionReport,
) -> Result<(), Error> {
    std::fs::create_dir_all(dir)
        .map_err(|e| Error::Format(format!("cannot create {}: {e}", dir.display())))?;
    write_file(&dir.join("topics.tsv"), &permdex::eval::trec::topics_to_tsv(&collection.topics))?;
    write_file(&dir.join("qrels.txt"), &collection.qrels.to_trec())?;
    for (n, account) in report.accounts.iter().enumerate() {
        write_file(&dir.join(format!("run-account{}.txt", n + 1)), &account.runs.run.to_trec())?;
    }
    write_file(&dir.join("run-direct.txt"), &report.direct_runs.run.to_trec())?;
    write_file(&dir.join("report.json"), &serde_json::to_string_pretty(report).unwrap_or_default())
}

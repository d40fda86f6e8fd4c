//! The command line around the service, run as the built binary against the simulator over loopback:
//! failures that end a run (credentials, a missing right, DNS, a refused connection, a host that is not
//! Atlassian Cloud) each with its diagnosis and exit status 3, at once; `check` and `check --list`
//! (with a token whose account lacks Jira's Administer right); `init --url` normalisation; `status`
//! showing what the index holds now apart from the last run; one sync of a source at a time.

use std::path::Path;
use std::time::{Duration, Instant};

use permdex::sim::{Scale, SimConfig};

use super::freshness::NO_SCHEDULE;
use super::{Deployment, TOKEN_ENV};
use crate::support;

/// Runs the built binary with `args` and `TOKEN_ENV` set to `token`; (exit code, stdout, stderr).
async fn permdex_with(args: &[&str], token: &str) -> (Option<i32>, String, String) {
    let output = tokio::process::Command::new(env!("CARGO_BIN_EXE_permdex"))
        .args(args)
        .env(TOKEN_ENV, token)
        .env("NO_COLOR", "1")
        .output()
        .await
        .expect("permdex runs");
    let text = |bytes: &[u8]| String::from_utf8_lossy(bytes).into_owned();
    (output.status.code(), text(&output.stdout), text(&output.stderr))
}

/// A config file in `dir` for one source at `url` with `email`; its path.
fn config_for(dir: &Path, url: &str, email: &str) -> String {
    config_with(dir, url, email, "")
}

/// [`config_for`] with more TOML for the source's table.
fn config_with(dir: &Path, url: &str, email: &str, extra: &str) -> String {
    let path = dir.join("permdex.toml");
    let text = format!(
        "data_dir = {data:?}\n[[sources]]\nname = \"site\"\nurl = {url:?}\nemail = {email:?}\n\
         token_env = \"{TOKEN_ENV}\"\n{NO_SCHEDULE}\n{extra}\n",
        data = dir.display().to_string(),
    );
    std::fs::write(&path, text).expect("config");
    path.display().to_string()
}

/// A sync against `url` as `email`/`token`: it must fail as a whole (exit 3), quickly, with a message
/// containing `diagnosis`, and leave a failed run on record.
async fn assert_run_fails(url: &str, email: &str, token: &str, diagnosis: &str) {
    let dir = tempfile::tempdir().expect("tempdir");
    let config = config_for(dir.path(), url, email);
    let started = Instant::now();
    let (code, _, stderr) = permdex_with(&["sync", "--config", &config], token).await;
    let took = started.elapsed();
    assert_eq!(code, Some(3), "{url}: {stderr}");
    assert!(stderr.contains(diagnosis), "{url}: expected {diagnosis:?} in\n{stderr}");
    assert!(!stderr.contains(token), "the token never appears in output");
    // No silent retries: the retry budget alone would take many seconds.
    assert!(took < Duration::from_secs(20), "{url}: failed after {took:?}, retries were spent");
    let (code, stdout, _) = permdex_with(&["status", "--json", "--config", &config], token).await;
    assert_eq!(code, Some(0));
    let status: serde_json::Value = serde_json::from_str(&stdout).expect("json");
    let run = &status["runs"][0];
    assert_eq!(run["outcome"]["status"], "aborted", "{status:#}");
    assert!(run["outcome"]["reason"].as_str().unwrap_or_default().contains(diagnosis), "{status:#}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn runs_that_cannot_succeed_fail_at_once_with_a_diagnosis_each() {
    let sim = support::start_generated(SimConfig::new(3, Scale::Tiny)).await;
    let (email, token) = (sim.credentials.email.clone(), sim.credentials.token.clone());
    assert_run_fails(&sim.url, &email, "not-the-token", "Atlassian refused this email/token pair (401)")
        .await;
    assert_run_fails(&sim.url, "someone.else@example.com", &token, "refused this email/token pair").await;
    assert_run_fails("http://permdex-no-such-site.invalid", &email, &token, "does not resolve").await;
    let closed = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        listener.local_addr().expect("address")
    };
    assert_run_fails(&format!("http://{closed}"), &email, &token, "refused the connection").await;
    // A base URL with a path, as a Data Center site or a pasted `/wiki` link has: 404 on "who am I".
    assert_run_fails(&format!("{}/wiki", sim.url), &email, &token, "does not answer as Atlassian Cloud")
        .await;
    let limited = sim.credentials.limited();
    assert_run_fails(&sim.url, &limited.email, &limited.token, "lacks a right that GET /rest/api/3/project/")
        .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn check_names_each_capability_and_what_is_missing() {
    let sim = support::start_generated(SimConfig::new(3, Scale::Tiny)).await;
    let d = Deployment::new(sim, &format!("{NO_SCHEDULE}\ninclude_spaces = [\"NOPE\"]")).await;
    let config = d.config_path.display().to_string();
    let admin = d.sim.credentials.token.clone();

    let (code, stdout, stderr) = permdex_with(&["check", "--config", &config], &admin).await;
    let passed: Vec<&str> = stdout.lines().filter(|l| l.trim_start().starts_with('✓')).collect();
    for capability in [
        "credentials",
        "spaces",
        "space permissions",
        "page restrictions",
        "group members",
        "permission schemes",
        "project roles",
        "user search",
    ] {
        assert!(passed.iter().any(|l| l.contains(capability)), "{capability} passes:\n{stdout}{stderr}");
    }
    assert!(stdout.contains("✗ scope: space key \"NOPE\""), "an unknown scope key is reported:\n{stdout}");
    assert_eq!(code, Some(1), "a ✗ exits non-zero");

    let (code, stdout, _) = permdex_with(&["check", "--list", "--config", &config], &admin).await;
    let site = d.sim.state.read().clone();
    for space in site
        .spaces
        .values()
        .filter(|s| !s.key.starts_with('~') && s.status == permdex::sim::model::Status::Current)
    {
        assert!(
            stdout.lines().any(|l| l.contains(&format!(" space    {:<16}", space.key))),
            "{} listed:\n{stdout}",
            space.key
        );
    }
    for project in site.projects.values().filter(|p| !p.archived) {
        assert!(
            stdout.lines().any(|l| l.contains(&format!(" project  {:<16}", project.key))),
            "{} listed",
            project.key
        );
    }
    assert_eq!(code, Some(1), "the unknown key is still reported");

    // A token whose account lacks Jira's Administer right: the calls that need it fail, by name.
    let limited = d.sim.credentials.limited();
    let dir = tempfile::tempdir().expect("tempdir");
    let config = config_for(dir.path(), &d.sim.url, &limited.email);
    let (code, stdout, _) = permdex_with(&["check", "--config", &config], &limited.token).await;
    assert_eq!(code, Some(1), "{stdout}");
    let failed: Vec<&str> = stdout.lines().filter(|l| l.trim_start().starts_with('✗')).collect();
    assert!(
        failed.iter().any(|l| l.contains("jira permission schemes") && l.contains("lacks a right")),
        "{stdout}"
    );
    assert!(
        stdout.lines().any(|l| l.contains("✓ jira credentials")),
        "the credential itself is fine:\n{stdout}"
    );
    assert!(stdout.lines().any(|l| l.contains("✓ confluence spaces")), "{stdout}");

    let (code, stdout, _) = permdex_with(&["check", "--config", &config], "wrong").await;
    assert_eq!(code, Some(1));
    assert!(
        stdout.contains("✗ confluence credentials") && stdout.contains("refused this email/token pair"),
        "{stdout}"
    );
}

#[tokio::test]
async fn init_takes_what_people_paste_and_prints_the_next_steps() {
    let dir = tempfile::tempdir().expect("tempdir");
    let output = dir.path().join("permdex.toml").display().to_string();
    let init = |url: &'static str| {
        let output = output.clone();
        async move {
            permdex_with(
                &[
                    "init",
                    "--url",
                    url,
                    "--email",
                    "bot@acme.example",
                    "--token-env",
                    "ACME_TOKEN",
                    "-o",
                    &output,
                    "--force",
                ],
                "",
            )
            .await
        }
    };
    let (code, _, stderr) = init("https://acme.atlassian.net/wiki/spaces/ENG/pages/123/Runbook").await;
    assert_eq!(code, Some(0), "{stderr}");
    assert!(stderr.contains("using the site root https://acme.atlassian.net"), "{stderr}");
    let written = std::fs::read_to_string(&output).expect("written");
    let url_line = written.lines().find(|l| l.starts_with("url = ")).expect("a url line");
    assert!(url_line.contains("\"https://acme.atlassian.net") && !url_line.contains("wiki"), "{url_line}");
    for step in ["api-tokens", "Administer Jira", "permdex check", "permdex sync", "permdex serve"] {
        assert!(stderr.contains(step), "next steps mention {step}:\n{stderr}");
    }
    let (code, _, stderr) = init("acme.atlassian.net").await;
    assert_eq!(code, Some(0), "{stderr}");
    let (code, _, stderr) = init("http://acme.atlassian.net").await;
    assert_eq!(code, Some(2), "{stderr}");
    assert!(stderr.contains("https only"), "{stderr}");
    let (code, _, stderr) = init("https://confluence.example.com").await;
    assert_eq!(code, Some(0), "{stderr}");
    assert!(stderr.contains("not an Atlassian Cloud host"), "{stderr}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn status_shows_what_the_index_holds_now_apart_from_the_last_run() {
    let sim = support::start_generated(SimConfig::new(3, Scale::Tiny)).await;
    let d = Deployment::new(sim, NO_SCHEDULE).await;
    let config = d.config_path.display().to_string();
    let token = d.sim.credentials.token.clone();
    let (code, _, stderr) = permdex_with(&["sync", "--full", "--config", &config], &token).await;
    assert!(matches!(code, Some(0 | 1)), "{stderr}");
    let status = |token: &'static str| {
        let config = config.clone();
        async move {
            let (code, stdout, _) = permdex_with(&["status", "--json", "--config", &config], token).await;
            assert_eq!(code, Some(0));
            serde_json::from_str::<serde_json::Value>(&stdout).expect("json")
        }
    };
    let synced = status("").await;
    let held = synced["sources"][0]["total"].as_u64().expect("total");
    assert!(held > 0, "{synced:#}");
    assert!(synced["sources"][0]["by_kind"]["confluence:page"].as_u64() > Some(0), "{synced:#}");
    assert!(synced["sources"][0]["permissions_refreshed"].is_string(), "{synced:#}");

    // A failed run (credentials refused) leaves the index as it was: status says so.
    let (code, _, _) = permdex_with(&["sync", "--config", &config], "revoked").await;
    assert_eq!(code, Some(3));
    let after = status("").await;
    assert_eq!(after["sources"][0]["total"].as_u64(), Some(held), "the index still holds what it held");
    let runs = after["runs"].as_array().expect("runs");
    assert_eq!(runs.last().expect("a run")["outcome"]["status"], "aborted");
    let (_, text, _) = permdex_with(&["status", "--config", &config], "").await;
    assert!(text.contains(&format!("the index holds {held} document(s) now")), "{text}");
    assert!(text.contains("last runs:"), "{text}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_run_of_a_source_at_a_time_across_processes() {
    let sim = support::start_generated(SimConfig::new(3, Scale::Tiny)).await;
    let d = Deployment::new(sim, NO_SCHEDULE).await;
    let lock = permdex::sync::lock::SourceLock::acquire(d.config.data_dir(), "sim").expect("lock");
    let (code, _, stderr) = d.permdex(&["sync"]).await;
    assert_eq!(code, Some(3), "{stderr}");
    assert!(stderr.contains("another sync or purge of source sim is running"), "{stderr}");
    assert_eq!(stderr.matches("another sync").count(), 1, "said once:\n{stderr}");
    drop(lock);
    let (code, _, stderr) = d.permdex(&["sync"]).await;
    assert!(matches!(code, Some(0 | 1)), "runs once the lock is free: {stderr}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_replaced_token_is_written_to_the_token_file_and_survives_a_restart() {
    use std::os::unix::fs::PermissionsExt;
    let sim = support::start_generated(SimConfig::new(3, Scale::Tiny)).await;
    let dir = tempfile::tempdir().expect("tempdir");
    let token_file = dir.path().join("atlassian-token");
    std::fs::write(&token_file, "old-token\n").expect("token file");
    std::fs::set_permissions(&token_file, std::fs::Permissions::from_mode(0o600)).expect("chmod");
    let text = format!(
        "data_dir = {data:?}\n[[sources]]\nname = \"sim\"\nurl = {url:?}\nemail = {email:?}\ntoken_file = \"atlassian-token\"\n\
         {NO_SCHEDULE}\n[server]\nlisten = \"127.0.0.1:0\"\nadmin_key_env = \"{admin}\"\n",
        data = dir.path().display().to_string(),
        url = sim.url,
        email = sim.credentials.email,
        admin = super::ADMIN_ENV,
    );
    let path = dir.path().join("permdex.toml");
    std::fs::write(&path, &text).expect("config");
    let env = std::collections::BTreeMap::from([(super::ADMIN_ENV.to_owned(), super::ADMIN_KEY.to_owned())]);
    let config = permdex::config::Config::from_toml(&text, &path, &env).expect("config");
    let service = permdex::server::backend::Service::open(config, Default::default()).await.expect("service");
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let base = format!("http://{}", listener.local_addr().expect("address"));
    tokio::spawn(service.serve(listener, std::future::pending()));

    let http = reqwest::Client::new();
    // "Test connection" with the old token: the site refuses it, and the answer says so by capability.
    let check = || async {
        let response = http
            .post(format!("{base}/api/v1/admin/sources/sim/check"))
            .bearer_auth(super::ADMIN_KEY)
            .send()
            .await
            .expect("check");
        assert_eq!(response.status(), 200);
        response.json::<serde_json::Value>().await.expect("json")
    };
    let before = check().await;
    assert_eq!(before["passed"], false, "{before}");
    let failed: Vec<&serde_json::Value> = before["capabilities"]
        .as_array()
        .expect("capabilities")
        .iter()
        .filter(|c| c["outcome"] == "failed")
        .collect();
    assert!(
        failed.iter().any(|c| c["name"] == "credentials"
            && c["detail"].as_str().unwrap_or_default().contains("refused this email/token pair")),
        "{before}"
    );
    assert!(!before.to_string().contains("old-token"), "the token never comes back: {before}");
    let answer: serde_json::Value = http
        .put(format!("{base}/api/v1/admin/sources/sim/token"))
        .bearer_auth(super::ADMIN_KEY)
        .json(&serde_json::json!({ "token": sim.credentials.token }))
        .send()
        .await
        .expect("put")
        .json()
        .await
        .expect("json");
    assert_eq!(answer["persisted"], true, "{answer}");
    // The next test uses the new token: every capability passes.
    let after = check().await;
    assert_eq!(after["passed"], true, "{after}");
    let capabilities = after["capabilities"].as_array().expect("capabilities");
    assert!(capabilities.len() >= 8 && capabilities.iter().all(|c| c["outcome"] != "failed"), "{after}");
    assert_eq!(std::fs::read_to_string(&token_file).expect("read").trim(), sim.credentials.token);
    let mode = std::fs::metadata(&token_file).expect("metadata").permissions().mode() & 0o777;
    assert_eq!(mode, 0o600);
    // A restart reads the new token: a sync with the file alone succeeds.
    let reloaded = permdex::config::Config::from_toml(&text, &path, &env).expect("config");
    assert_eq!(reloaded.sources()[0].token().expect("token").expose(), sim.credentials.token);
    let (code, _, stderr) =
        permdex_with(&["sync", "--permissions-only", "--config", &path.display().to_string()], "").await;
    assert!(matches!(code, Some(0 | 1)), "{stderr}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_killed_run_leaves_a_record_and_the_next_run_resumes_it() {
    let sim = support::start_generated(SimConfig::new(3, Scale::Tiny)).await;
    let dir = tempfile::tempdir().expect("tempdir");
    // Slow enough that the run is still going after its first checkpoints.
    let config = config_with(dir.path(), &sim.url, &sim.credentials.email, "requests_per_second = 30.0");
    let mut child = tokio::process::Command::new(env!("CARGO_BIN_EXE_permdex"))
        .args(["sync", "--full", "--checkpoint-interval", "0", "--config", &config])
        .env(TOKEN_ENV, &sim.credentials.token)
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("permdex sync starts");
    let status = || async {
        let (_, stdout, _) = permdex_with(&["status", "--json", "--config", &config], "").await;
        serde_json::from_str::<serde_json::Value>(&stdout).ok()
    };
    let running = super::eventually(1500, || async {
        let s = status().await?;
        s["sources"][0]["unfinished"].as_str().filter(|u| u.contains("is running")).map(str::to_owned)
    })
    .await;
    assert!(running.is_some(), "status shows the run going on after its first checkpoint");
    child.start_kill().expect("kill");
    child.wait().await.expect("killed");

    let after_kill = status().await.expect("status");
    let unfinished = after_kill["sources"][0]["unfinished"].as_str().unwrap_or_default();
    assert!(unfinished.contains("was killed before it ended"), "{after_kill:#}");

    let (code, _, stderr) = permdex_with(&["sync", "--config", &config], &sim.credentials.token).await;
    assert!(matches!(code, Some(0 | 1)), "{stderr}");
    let done = status().await.expect("status");
    let runs = done["runs"].as_array().expect("runs");
    assert_eq!(runs.len(), 2, "the killed run and the one that resumed it: {done:#}");
    assert_eq!(runs[0]["outcome"]["status"], "aborted");
    assert!(runs[0]["outcome"]["reason"].as_str().unwrap_or_default().contains("killed"), "{done:#}");
    assert_eq!(runs[1]["run_id"], runs[0]["run_id"], "the same full run, resumed");
    assert_eq!(runs[1]["resumed"], true);
    let notes = runs[1]["notes"].to_string();
    assert!(notes.contains("resumed a run that was killed"), "{notes}");
    assert!(done["sources"][0]["unfinished"].is_null(), "{done:#}");
}

//! Adding a source to `permdex.toml`, or removing one, the way a person would: the file's comments, order
//! and layout stay as written (`toml_edit`), the new `[[sources]]` table goes after the last one (at the
//! end of a file that has none), and its token goes to a new token file beside the configuration,
//! owner-only (the file itself never holds a secret). [`remove_source`] takes out one `[[sources]]` table,
//! with the comments written above it, and nothing else; [`set_schedule`] rewrites one source's schedule
//! keys, each comment beside them kept.
//!
//! [`add_source`] checks the new table with the same rules as a loaded file before it writes anything
//! for good: a name already used, a bad URL or key, or a file whose `sources` is not a list of tables is
//! refused with what is wrong, and leaves the configuration and the directory as they were.
//!
//! Both replace the file atomically (a temporary file renamed over it), so a reader, or a restart, sees the
//! file before or after the change, never half of it.
//!
//! This file does not contact a site (the caller lists what the token can see first), and deletes no token
//! file or index: what becomes of a removed source's data is the caller's choice.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use toml_edit::{value, Array, ArrayOfTables, DocumentMut, Item, Table};

use super::{replace_private, Config, ProcessEnv, Schedule, Secret, Secrets, SourceName};

/// The keys of a source's sync schedule: the only ones a running server takes without a restart.
pub const SCHEDULE_KEYS: [&str; 3] = ["interval", "permissions_interval", "full_interval"];

/// A source to add, as the admin chose it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewSource {
    pub name: String,
    pub url: String,
    pub email: String,
    /// Whether the site has each product (a product the token cannot reach is switched off).
    pub confluence: bool,
    pub jira: bool,
    /// Space keys to sync; empty: every space the token can see.
    pub include_spaces: Vec<String>,
    /// Project keys to sync; empty: every project the token can see.
    pub include_projects: Vec<String>,
}

/// What [`add_source`] wrote.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Added {
    pub config_file: PathBuf,
    pub token_file: PathBuf,
    /// What the new source's rules warn about (e.g. plain `http://` to another host).
    pub warnings: Vec<String>,
}

#[derive(Debug, thiserror::Error)]
pub enum EditError {
    /// The new source breaks a rule of the file; each message names its key.
    #[error("the new source is not valid: {}", .0.join("; "))]
    Invalid(Vec<String>),
    /// A source of that name exists, or its token file does.
    #[error("{0}")]
    Exists(String),
    /// The file cannot be changed as asked (it does not parse, `sources` is written another way).
    #[error("{0}")]
    Unsupported(String),
    #[error("{path}: {source}")]
    Io { path: PathBuf, source: std::io::Error },
}

/// Adds `new` to the configuration file `file`, its `token` written to `{name}.token` beside it (0600).
/// Blocks on file I/O. Nothing here loads the file again: a server that takes the new source while it
/// runs loads it itself, as a restart would.
pub fn add_source(file: &Path, new: &NewSource, token: &Secret) -> Result<Added, EditError> {
    let io = |path: &Path| {
        let path = path.to_owned();
        move |source| EditError::Io { path, source }
    };
    let name = SourceName::parse(&new.name).map_err(|e| EditError::Invalid(vec![format!("name: {e}")]))?;
    let text = std::fs::read_to_string(file).map_err(io(file))?;
    let edited = with_source(&text, new, &token_file_name(&name))?;
    let dir = file.parent().filter(|d| !d.as_os_str().is_empty()).unwrap_or(Path::new("."));
    let token_file = dir.join(token_file_name(&name));
    create_private(&token_file, token.expose()).map_err(|e| match e.kind() {
        std::io::ErrorKind::AlreadyExists => EditError::Exists(format!(
            "{} exists already: a source named {} was set up before; remove the file or choose another name",
            token_file.display(),
            name.as_str()
        )),
        _ => io(&token_file)(e),
    })?;
    let checked = check_new_table(&edited.table, file).and_then(|warnings| {
        replace_private(file, edited.text.as_bytes()).map_err(io(file))?;
        Ok(warnings)
    });
    match checked {
        Ok(warnings) => Ok(Added { config_file: file.to_owned(), token_file, warnings }),
        Err(e) => {
            let _ = std::fs::remove_file(&token_file);
            Err(e)
        }
    }
}

/// The token file of source `name`, relative to the configuration's directory.
fn token_file_name(name: &SourceName) -> String {
    format!("{}.token", name.as_str())
}

/// What [`remove_source`] did to the file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Removal {
    /// The source's table was taken out and the file replaced.
    Removed,
    /// The file had no table of that name (edited since the server started): it is left as it is.
    NotInFile,
}

/// Removes the `[[sources]]` table named `name` from the configuration file `file`, with the comments
/// written above it; every other line stays. Refused, with the file left as it was, when the file does
/// not parse, writes `sources` another way, or would keep no source (a file needs at least one). Blocks
/// on file I/O.
pub fn remove_source(file: &Path, name: &str) -> Result<Removal, EditError> {
    let io = |source| EditError::Io { path: file.to_owned(), source };
    let text = std::fs::read_to_string(file).map_err(io)?;
    match without_source(&text, name)? {
        Some(edited) => {
            replace_private(file, edited.as_bytes()).map_err(io)?;
            Ok(Removal::Removed)
        }
        None => Ok(Removal::NotInFile),
    }
}

/// The file's text without the table named `name`; `None` when it has no such table.
fn without_source(text: &str, name: &str) -> Result<Option<String>, EditError> {
    let mut document: DocumentMut = text
        .parse()
        .map_err(|e| EditError::Unsupported(format!("the configuration file does not parse: {e}")))?;
    let sources = match document.get_mut("sources") {
        None => return Ok(None),
        Some(Item::ArrayOfTables(sources)) => sources,
        Some(_) => {
            return Err(EditError::Unsupported(
                "the configuration writes `sources` in a form other than [[sources]] tables: remove the \
                 source by hand"
                    .into(),
            ))
        }
    };
    let Some(at) = sources.iter().position(|t| t.get("name").and_then(Item::as_str) == Some(name)) else {
        return Ok(None);
    };
    if sources.len() == 1 {
        return Err(EditError::Unsupported(format!(
            "{name} is the only source in the configuration file, which needs at least one: add another \
             source first"
        )));
    }
    sources.remove(at);
    Ok(Some(document.to_string()))
}

/// Sets schedule keys ([`SCHEDULE_KEYS`]) of the source `name` in the configuration file `file` to the
/// given texts (`"30m"`, `"off"`), each key's comments kept, a key not written yet added to the table;
/// answers the source's schedule as the whole file, loaded again, now gives it. Refused with every problem,
/// and the file left as it was, when the file would not load (a bad duration, say), does not parse or has
/// no such source. Blocks on file I/O.
pub fn set_schedule(file: &Path, name: &str, values: &[(&str, String)]) -> Result<Schedule, EditError> {
    let io = |source| EditError::Io { path: file.to_owned(), source };
    let text = std::fs::read_to_string(file).map_err(io)?;
    let edited = with_schedule(&text, name, values)?;
    // The tokens and keys are not needed to check the file, and may come from an environment this
    // process does not have.
    let config = match Config::from_toml_for(&edited, file, &ProcessEnv, Secrets::NONE) {
        Ok(config) => config,
        Err(super::Error::Invalid { problems, .. }) => return Err(EditError::Invalid(problems.0)),
        Err(other) => return Err(EditError::Invalid(vec![other.to_string()])),
    };
    let schedule = *config
        .source(name)
        .ok_or_else(|| EditError::Unsupported(format!("the configuration file has no source named {name}")))?
        .schedule();
    replace_private(file, edited.as_bytes()).map_err(io)?;
    Ok(schedule)
}

/// The file's text with `values` set in the table of source `name`.
fn with_schedule(text: &str, name: &str, values: &[(&str, String)]) -> Result<String, EditError> {
    let mut document: DocumentMut = text
        .parse()
        .map_err(|e| EditError::Unsupported(format!("the configuration file does not parse: {e}")))?;
    let Some(Item::ArrayOfTables(sources)) = document.get_mut("sources") else {
        return Err(EditError::Unsupported(format!(
            "the configuration file has no [[sources]] table named {name}: it was edited since the server \
             started; change the schedule there and restart"
        )));
    };
    let Some(table) = sources.iter_mut().find(|t| t.get("name").and_then(Item::as_str) == Some(name)) else {
        return Err(EditError::Unsupported(format!(
            "the configuration file has no [[sources]] table named {name}: it was edited since the server \
             started; change the schedule there and restart"
        )));
    };
    for (key, text) in values {
        match table.get_mut(key) {
            Some(Item::Value(old)) => {
                let decor = old.decor().clone();
                let mut new = toml_edit::Value::from(text.as_str());
                *new.decor_mut() = decor;
                *old = new;
            }
            _ => {
                table.insert(key, value(text.as_str()));
            }
        }
    }
    Ok(document.to_string())
}

/// The file's text with the new table, and the new table alone as a file of its own.
struct Edited {
    text: String,
    table: String,
}

fn with_source(text: &str, new: &NewSource, token_file: &str) -> Result<Edited, EditError> {
    let mut document: DocumentMut = text
        .parse()
        .map_err(|e| EditError::Unsupported(format!("the configuration file does not parse: {e}")))?;
    let mut table = Table::new();
    table.insert("name", value(&new.name));
    table.insert("url", value(&new.url));
    table.insert("email", value(&new.email));
    table.insert("token_file", value(token_file));
    for (key, on) in [("confluence", new.confluence), ("jira", new.jira)] {
        if !on {
            table.insert(key, value(false));
        }
    }
    for (key, keys) in [("include_spaces", &new.include_spaces), ("include_projects", &new.include_projects)]
    {
        if !keys.is_empty() {
            table.insert(key, value(keys.iter().collect::<Array>()));
        }
    }
    let date = chrono::Utc::now().format("%Y-%m-%d");
    table.decor_mut().set_prefix(format!("\n# Added from the integrations page on {date}.\n"));
    let mut alone = DocumentMut::new();
    let mut single = ArrayOfTables::new();
    single.push(table.clone());
    alone.insert("sources", Item::ArrayOfTables(single));
    match document.get_mut("sources") {
        None => {
            // The first source goes at the end of the file: comments that ended it stay before it.
            let trailing = document.trailing().as_str().unwrap_or_default().to_owned();
            document.set_trailing("");
            let prefix = table.decor().prefix().and_then(|p| p.as_str()).unwrap_or_default().to_owned();
            table.decor_mut().set_prefix(format!("{trailing}{prefix}"));
            document.insert("sources", Item::ArrayOfTables(ArrayOfTables::new()));
        }
        Some(Item::ArrayOfTables(sources)) => {
            let taken = sources.iter().any(|t| t.get("name").and_then(Item::as_str) == Some(&new.name));
            if taken {
                return Err(EditError::Exists(format!("a source named {} is configured already", new.name)));
            }
        }
        Some(_) => {
            return Err(EditError::Unsupported(
                "the configuration writes `sources` in a form other than [[sources]] tables: add the source \
                 by hand"
                    .into(),
            ))
        }
    }
    if let Some(Item::ArrayOfTables(sources)) = document.get_mut("sources") {
        sources.push(table);
    }
    Ok(Edited { text: document.to_string(), table: alone.to_string() })
}

/// Checks the new table by the rules of a loaded file (read beside `file`, so its token file is found);
/// answers its warnings.
fn check_new_table(table: &str, file: &Path) -> Result<Vec<String>, EditError> {
    // The token comes from its file: no environment variable is read.
    let env: BTreeMap<String, String> = BTreeMap::new();
    match Config::from_toml(table, file, &env) {
        Ok(config) => Ok(config.warnings().to_vec()),
        Err(super::Error::Invalid { problems, .. }) => Err(EditError::Invalid(problems.0)),
        Err(other) => Err(EditError::Invalid(vec![other.to_string()])),
    }
}

/// Writes `text` to a new file at `path`, owner-only (0600 on Unix); an existing file is an error.
fn create_private(path: &Path, text: &str) -> std::io::Result<()> {
    use std::io::Write as _;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut file = options.open(path)?;
    file.write_all(text.as_bytes())?;
    file.write_all(b"\n")?;
    file.sync_all()
}

#[cfg(test)]
mod tests {
    use super::*;

    const WRITTEN: &str = "\
# permdex for Acme: one site, written by hand.
data_dir = \"./data\"   # beside this file

[[sources]]
# The main site.
name = \"acme\"
url = \"https://acme.atlassian.net\"
email = \"bot@acme.example\"
token_env = \"ACME_TOKEN\"
exclude_spaces = [\"HR\"]   # never index HR

[server]
listen = \"127.0.0.1:7700\"
";

    fn new_source(name: &str) -> NewSource {
        NewSource {
            name: name.into(),
            url: "https://beta.atlassian.net".into(),
            email: "bot@beta.example".into(),
            confluence: true,
            jira: false,
            include_spaces: vec!["ENG".into(), "OPS".into()],
            include_projects: vec![],
        }
    }

    #[test]
    fn the_new_table_follows_the_last_and_every_comment_stays() {
        let edited = with_source(WRITTEN, &new_source("beta"), "beta.token").expect("edits");
        // Everything written before is there, byte for byte, in its order; the new table follows the
        // last source.
        let at = WRITTEN.find("\n[server]").expect("server");
        assert!(edited.text.starts_with(&WRITTEN[..at]), "{}", edited.text);
        assert!(edited.text.ends_with(&WRITTEN[at..]), "{}", edited.text);
        assert!(edited.text[at..].starts_with("\n# Added from the integrations page on "), "{}", edited.text);
        let parsed: toml::Value = toml::from_str(&edited.text).expect("still TOML");
        let sources = parsed["sources"].as_array().expect("sources");
        assert_eq!(sources.len(), 2);
        assert_eq!(sources[1]["name"].as_str(), Some("beta"));
        assert_eq!(sources[1]["token_file"].as_str(), Some("beta.token"));
        assert_eq!(sources[1]["jira"].as_bool(), Some(false));
        assert_eq!(sources[1].get("confluence"), None, "a product the site has is not written");
        assert_eq!(sources[1]["include_spaces"].as_array().map(Vec::len), Some(2));
        assert_eq!(sources[1].get("include_projects"), None, "no choice: everything");
        assert!(edited.text.contains("# Added from the integrations page on "), "{}", edited.text);
    }

    #[test]
    fn names_in_use_and_other_forms_of_sources_are_refused() {
        assert!(matches!(with_source(WRITTEN, &new_source("acme"), "acme.token"), Err(EditError::Exists(_))));
        let inline = "sources = [{ name = \"acme\" }]\n";
        assert!(matches!(
            with_source(inline, &new_source("beta"), "beta.token"),
            Err(EditError::Unsupported(_))
        ));
        assert!(matches!(
            with_source("sources = [[", &new_source("beta"), "b"),
            Err(EditError::Unsupported(_))
        ));
        let empty =
            with_source("# nothing yet\n", &new_source("beta"), "beta.token").expect("a first source");
        assert!(empty.text.starts_with("# nothing yet\n\n# Added"), "{}", empty.text);
        assert!(empty.text.contains("[[sources]]"), "{}", empty.text);
        let ended = with_source(&format!("{WRITTEN}# the end\n"), &new_source("beta"), "b").expect("edits");
        assert!(ended.text.ends_with("listen = \"127.0.0.1:7700\"\n# the end\n"), "{}", ended.text);
    }

    #[test]
    fn a_removed_table_takes_its_own_comments_and_leaves_every_other_line() {
        let added = with_source(WRITTEN, &new_source("beta"), "beta.token").expect("edits").text;
        // The table added, with the comment written above it, goes; the file is as it was before.
        assert_eq!(without_source(&added, "beta").expect("removes"), Some(WRITTEN.to_owned()));
        // The first of two: its comments inside the table go with it, the file's own notes stay.
        let first = without_source(&added, "acme").expect("removes").expect("there");
        assert!(first.starts_with("# permdex for Acme: one site, written by hand.\ndata_dir"), "{first}");
        assert!(!first.contains("acme") && !first.contains("never index HR"), "{first}");
        assert!(
            first.contains("name = \"beta\"") && first.ends_with("listen = \"127.0.0.1:7700\"\n"),
            "{first}"
        );
        let parsed: toml::Value = toml::from_str(&first).expect("still TOML");
        assert_eq!(parsed["sources"].as_array().map(Vec::len), Some(1));
        // A name the file does not have changes nothing; the last source and other forms are refused.
        assert_eq!(without_source(&added, "gamma").expect("nothing to do"), None);
        assert!(
            matches!(without_source(WRITTEN, "acme"), Err(EditError::Unsupported(m)) if m.contains("only source"))
        );
        assert!(matches!(
            without_source("sources = [{ name = \"a\" }]\n", "a"),
            Err(EditError::Unsupported(_))
        ));
        assert!(matches!(without_source("sources = [[", "a"), Err(EditError::Unsupported(_))));
    }

    #[test]
    fn a_source_is_removed_from_the_file_on_disk_and_a_refusal_leaves_it_as_it_was() {
        let dir = tempfile::tempdir().expect("tempdir");
        let file = dir.path().join("permdex.toml");
        std::fs::write(&file, WRITTEN).expect("write");
        add_source(&file, &new_source("beta"), &Secret::new("t".into())).expect("added");
        assert_eq!(remove_source(&file, "beta").expect("removed"), Removal::Removed);
        assert_eq!(std::fs::read_to_string(&file).expect("config"), WRITTEN);
        assert_eq!(remove_source(&file, "beta").expect("not there"), Removal::NotInFile);
        assert!(remove_source(&file, "acme").is_err(), "the last source stays");
        assert_eq!(std::fs::read_to_string(&file).expect("config"), WRITTEN);
        assert!(dir.path().join("beta.token").exists(), "the token file is the caller's to delete");
    }

    #[test]
    fn schedule_keys_are_set_in_place_with_their_comments_or_added() {
        let commented = WRITTEN.replace(
            "exclude_spaces = [\"HR\"]   # never index HR\n",
            "exclude_spaces = [\"HR\"]   # never index HR\ninterval = \"15m\"   # office hours\n",
        );
        let values = [("interval", "1h".to_owned()), ("full_interval", "off".to_owned())];
        let edited = with_schedule(&commented, "acme", &values).expect("edits");
        assert_eq!(
            edited,
            commented.replace(
                "interval = \"15m\"   # office hours\n",
                "interval = \"1h\"   # office hours\nfull_interval = \"off\"\n"
            )
        );
        assert!(matches!(with_schedule(&commented, "beta", &values), Err(EditError::Unsupported(_))));
    }

    #[test]
    fn a_schedule_is_written_only_when_the_file_loads_with_it() {
        let dir = tempfile::tempdir().expect("tempdir");
        let file = dir.path().join("permdex.toml");
        std::fs::write(&file, WRITTEN).expect("write");
        let schedule =
            set_schedule(&file, "acme", &[("permissions_interval", "off".to_owned())]).expect("set");
        assert_eq!(schedule.permissions, None);
        assert_eq!(schedule.incremental, Some(Schedule::DEFAULT_INTERVAL));
        let written = std::fs::read_to_string(&file).expect("config");
        assert!(written.contains("permissions_interval = \"off\""), "{written}");
        match set_schedule(&file, "acme", &[("interval", "often".to_owned())]) {
            Err(EditError::Invalid(problems)) => {
                assert!(
                    problems.iter().any(|p| p.contains("interval") && p.contains("often")),
                    "{problems:?}"
                )
            }
            other => panic!("{other:?}"),
        }
        assert_eq!(std::fs::read_to_string(&file).expect("config"), written, "nothing written");
    }

    fn private_mode(path: &Path) -> u32 {
        use std::os::unix::fs::PermissionsExt;
        std::fs::metadata(path).expect("metadata").permissions().mode() & 0o777
    }

    #[test]
    fn a_source_is_written_with_its_token_beside_the_file_and_a_bad_one_leaves_nothing() {
        let dir = tempfile::tempdir().expect("tempdir");
        let file = dir.path().join("permdex.toml");
        std::fs::write(&file, WRITTEN).expect("write");
        let token = Secret::new("t0ken-of-beta".into());
        let added = add_source(&file, &new_source("beta"), &token).expect("added");
        assert_eq!(added.token_file, dir.path().join("beta.token"));
        assert_eq!(std::fs::read_to_string(&added.token_file).expect("token"), "t0ken-of-beta\n");
        assert_eq!(private_mode(&added.token_file), 0o600);
        let text = std::fs::read_to_string(&file).expect("config");
        assert!(!text.contains("t0ken-of-beta"), "the file never holds the token");
        let env = BTreeMap::from([("ACME_TOKEN".to_owned(), "t".to_owned())]);
        let config = Config::from_toml(&text, &file, &env).expect("the whole file loads");
        let beta = config.source("beta").expect("beta");
        assert_eq!(beta.token().expect("read").expose(), "t0ken-of-beta");
        assert!(beta.space_in_scope("ENG") && !beta.space_in_scope("HR"));
        assert!(!beta.products().jira);

        // The same name again, or a rule broken: the file and the directory stay as they were.
        assert!(matches!(add_source(&file, &new_source("beta"), &token), Err(EditError::Exists(_))));
        let mut bad = new_source("gamma");
        bad.url = "not a url".into();
        bad.include_spaces = vec!["bad key!".into()];
        match add_source(&file, &bad, &token) {
            Err(EditError::Invalid(problems)) => {
                assert!(problems.iter().any(|p| p.contains("url")), "{problems:?}");
                assert!(problems.iter().any(|p| p.contains("include_spaces")), "{problems:?}");
            }
            other => panic!("{other:?}"),
        }
        assert_eq!(std::fs::read_to_string(&file).expect("config"), text);
        assert!(!dir.path().join("gamma.token").exists(), "the token file of a refused source is removed");
        assert!(matches!(add_source(&file, &new_source("bad name!"), &token), Err(EditError::Invalid(_))));
    }
}

//! Confluence's part of a run's permission snapshot: the spaces in scope with who may view them (space
//! permissions and, on sites with role-based access, viewing roles), the configured access and licensed
//! groups, and the access listing (ancestors and read restrictions of every page and blog post).
//!
//! Isolation: a space whose viewers cannot be read, or whose part of the access listing cannot be read, is
//! recorded with its reason and left out of the snapshot; its documents stay as last committed (or stay
//! unindexed on a first sync). The access listing asks for many spaces per query; a query that fails is
//! asked again one space at a time, so a space that breaks it costs only itself. Only what every space
//! depends on (the space listing, the site's role mode and roles) fails Confluence as a whole.
//!
//! This file decides no permission rule (`resolve.rs` does) and crawls no content.

use std::collections::{BTreeMap, BTreeSet};

use super::{note_unknown_keys, Permissions};
use crate::atlassian::confluence::{Confluence, SPACE_KEYS_PER_QUERY};
use crate::atlassian::model::{AccessClass, ContentAccess, ContentKind, Directory, RoleHolder};
use crate::config::Source;
use crate::index::{Kind, Product};
use crate::sync::ledger::Ledger;
use crate::sync::runs::Counted;
use crate::sync::scope::space_in_scope;

/// Reads Confluence's part of the snapshot into `permissions` and sets [`Permissions::confluence`]:
/// `false` when none of it could be read (then every Confluence document stays as last committed).
pub(super) async fn read(
    permissions: &mut Permissions,
    ledger: &mut Ledger<'_>,
    source: &Source,
    confluence: &Confluence,
) {
    let directory = &permissions.snapshot.directory;
    let access = source.confluence_access_groups();
    let access = group_ids(ledger, directory, "confluence_access_groups", access, "Confluence access");
    let licensed = source.confluence_licensed_groups();
    let licensed = group_ids(ledger, directory, "confluence_licensed_groups", licensed, "a licensed user");
    permissions.snapshot.products.confluence = access;
    permissions.snapshot.products.confluence_licensed = licensed;
    permissions.confluence = read_spaces(permissions, ledger, source, confluence).await;
}

/// A configured list of groups as group ids (each entry an id or a name of the directory's); `None` when
/// `key` is not set. An entry that names no group is recorded and makes nobody `what`.
fn group_ids(
    ledger: &mut Ledger<'_>,
    directory: &Directory,
    key: &str,
    configured: Option<&BTreeSet<String>>,
    what: &str,
) -> Option<BTreeSet<String>> {
    let groups = &directory.groups;
    let mut ids = BTreeSet::new();
    for entry in configured? {
        let by_name = || groups.iter().find(|(_, g)| g.name == *entry).map(|(id, _)| id.clone());
        match groups.contains_key(entry).then(|| entry.clone()).or_else(by_name) {
            Some(id) => {
                ids.insert(id);
            }
            None => ledger.record.fail(
                Counted::Directory,
                format!("{key} {entry:?}"),
                format!("no group has this id or name: it makes nobody {what}"),
            ),
        }
    }
    Some(ids)
}

/// Reads the spaces in scope with their viewers and the access listing of their content. A space that
/// cannot be read is recorded and left out; `false` when nothing could be read.
async fn read_spaces(
    permissions: &mut Permissions,
    ledger: &mut Ledger<'_>,
    source: &Source,
    confluence: &Confluence,
) -> bool {
    // Permissions are read only for spaces in scope: the others are never indexed.
    let on_site = std::sync::Mutex::new(BTreeSet::new());
    let listed = confluence
        .spaces_where(|s| {
            on_site.lock().unwrap_or_else(std::sync::PoisonError::into_inner).insert(s.key.clone());
            space_in_scope(source, s)
        })
        .await;
    let on_site = on_site.into_inner().unwrap_or_else(std::sync::PoisonError::into_inner);
    // Personal space keys (`~…`) are matched by owner, not listed by key.
    let unknown = source.spaces().unknown_keys(|k| k.starts_with('~') || on_site.contains(k));
    let read = match listed {
        Ok(read) => {
            note_unknown_keys(ledger, "space", unknown);
            read
        }
        Err(e) => {
            ledger.record.fail_call(
                Counted::Spaces,
                "spaces",
                &e,
                format!("spaces and who may view them: {e}"),
            );
            return false;
        }
    };
    for failure in read.unreadable {
        unreadable(
            permissions,
            ledger,
            &failure.id,
            &failure.key,
            &format!("who may view it: {}", failure.error),
        );
    }
    let snapshot = &mut permissions.snapshot;
    snapshot.spaces = read.spaces.into_iter().map(|s| (s.id.clone(), s)).collect();
    check_role_viewers(permissions, ledger);

    let keys: BTreeMap<String, String> =
        permissions.snapshot.spaces.values().map(|s| (s.key.clone(), s.id.clone())).collect();
    let keys: Vec<(String, String)> = keys.into_iter().collect();
    let archived = source.include_archived();
    for chunk in keys.chunks(SPACE_KEYS_PER_QUERY) {
        let chunk_keys: Vec<String> = chunk.iter().map(|(key, _)| key.clone()).collect();
        let listed = match access_listing(confluence, &chunk_keys, archived).await {
            Ok(listed) => Some(listed),
            Err(e) if chunk.len() > 1 => {
                tracing::warn!(error = %e, spaces = chunk.len(), "access listing failed; asking one space at a time");
                None
            }
            Err(e) => {
                let (key, id) = &chunk[0];
                unreadable(permissions, ledger, id, key, &format!("access listing: {e}"));
                continue;
            }
        };
        let listed = match listed {
            Some(listed) => listed,
            None => {
                let mut listed = Vec::new();
                for (key, id) in chunk {
                    match access_listing(confluence, std::slice::from_ref(key), archived).await {
                        Ok(items) => listed.extend(items),
                        Err(e) => unreadable(permissions, ledger, id, key, &format!("access listing: {e}")),
                    }
                }
                listed
            }
        };
        let snapshot = &mut permissions.snapshot;
        for access in listed {
            if snapshot.spaces.contains_key(&access.space_id) {
                permissions.listed_content.insert(access.id.clone());
                snapshot.access.insert(access.id.clone(), access);
            }
        }
    }
    // One space that cannot be read costs that space only; when every space failed, Confluence's
    // permissions were not read at all.
    if permissions.snapshot.spaces.is_empty() && !permissions.unreadable_spaces.is_empty() {
        return false;
    }
    read_missing_ancestors(permissions, ledger, confluence).await;
    true
}

/// Records a space whose viewers or access listing could not be read and leaves it out of the snapshot:
/// its documents stay as last committed.
fn unreadable(permissions: &mut Permissions, ledger: &mut Ledger<'_>, id: &str, key: &str, reason: &str) {
    ledger.record.fail(
        Counted::Spaces,
        format!("space {key}"),
        format!("{reason} (its documents kept as last indexed)"),
    );
    permissions.unreadable_spaces.insert(id.to_owned());
    permissions.snapshot.spaces.remove(id);
    let snapshot = &mut permissions.snapshot;
    snapshot.access.retain(|_, a| a.space_id != id);
    permissions.listed_content.retain(|c| snapshot.access.contains_key(c));
}

/// The whole access listing of some spaces, walked to its end.
async fn access_listing(
    confluence: &Confluence,
    keys: &[String],
    archived: bool,
) -> Result<Vec<ContentAccess>, crate::atlassian::Error> {
    let mut items = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let page = confluence.access(keys, archived, cursor.as_deref()).await?;
        items.extend(page.items);
        match page.next {
            Some(next) => cursor = Some(next),
            None => return Ok(items),
        }
    }
}

/// Records what the viewing roles of the spaces read cannot admit: a role for all licensed users while
/// `confluence_licensed_groups` is not set admits nobody (a failure: the site grants more than permdex
/// can show), and a role for an access class permdex does not model admits nobody (a note).
fn check_role_viewers(permissions: &Permissions, ledger: &mut Ledger<'_>) {
    let snapshot = &permissions.snapshot;
    let mut licensed = Vec::new();
    let mut unmodelled: BTreeSet<String> = BTreeSet::new();
    for space in snapshot.spaces.values() {
        for holder in &space.role_viewers {
            match holder {
                RoleHolder::AccessClass(AccessClass::AllLicensedUsers) => licensed.push(space.key.clone()),
                RoleHolder::AccessClass(AccessClass::AnonymousUsers)
                | RoleHolder::User(_)
                | RoleHolder::Group(_) => {}
                RoleHolder::AccessClass(class) => {
                    unmodelled.insert(format!("{} ({})", space.key, class.id()));
                }
                RoleHolder::Unknown(what) => {
                    unmodelled.insert(format!("{} ({what})", space.key));
                }
            }
        }
    }
    if !licensed.is_empty() && snapshot.products.confluence_licensed.is_none() {
        ledger.record.fail(
            Counted::Spaces,
            "all-licensed-users",
            format!(
                "spaces {} give a viewing role to all licensed users; without confluence_licensed_groups it \
                 admits nobody",
                licensed.join(", ")
            ),
        );
    }
    if !unmodelled.is_empty() {
        let spaces: Vec<String> = unmodelled.into_iter().collect();
        ledger.record.notes.push(format!(
            "viewing roles that admit nobody here (access classes permdex does not model): {}",
            spaces.join(", ")
        ));
    }
}

/// Ancestors the listing did not show (archived ones, when archived content is out of scope) still
/// restrict their children: read them one by one. One that cannot be read leaves its descendants
/// readable by nobody (resolution fails closed on a missing ancestor).
async fn read_missing_ancestors(
    permissions: &mut Permissions,
    ledger: &mut Ledger<'_>,
    confluence: &Confluence,
) {
    let snapshot = &mut permissions.snapshot;
    let missing: BTreeSet<String> = snapshot
        .access
        .values()
        .flat_map(|a| a.ancestors.iter())
        .filter(|id| !snapshot.access.contains_key(*id))
        .cloned()
        .collect();
    let pages = Counted::Docs(Product::Confluence, Kind::Page);
    for id in missing {
        match confluence.access_of(ContentKind::Page, &id).await {
            Ok(Some(access)) => {
                snapshot.access.insert(id, access);
            }
            Ok(None) => {}
            Err(e) => ledger.record.fail_call(pages, format!("ancestor {id}"), &e, e.to_string()),
        }
    }
}

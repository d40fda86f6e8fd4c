//! What a source's configured scope keeps: whether a space is indexed, the scope as one comparable summary
//! (a different summary forces a full sync), and dropping the documents a narrower scope no longer covers.
//!
//! The scope rules themselves (include and exclude lists, personal spaces, users) are the configuration's;
//! this file applies them to the sync state and fetches nothing.

use std::collections::BTreeSet;

use super::ledger::Ledger;
use super::Error;
use crate::atlassian::model::{Space, SpaceKind};
use crate::config::Source;
use crate::index::{DocId, Product};

/// Whether `space` is one `source` indexes.
pub(super) fn space_in_scope(source: &Source, space: &Space) -> bool {
    if space.archived && !source.include_archived() {
        return false;
    }
    match &space.kind {
        SpaceKind::Personal { owner: Some(owner) } => source.personal_space_in_scope(&space.key, owner),
        _ => source.space_in_scope(&space.key),
    }
}

/// Deletes documents that the configuration no longer covers (product off, space or project out).
pub(super) fn drop_out_of_scope(ledger: &mut Ledger<'_>, source: &Source) -> Result<(), Error> {
    let products = source.products();
    let out: Vec<DocId> = ledger
        .state
        .docs
        .iter()
        .filter(|(id, doc)| {
            let in_scope = match id.product {
                Product::Confluence => {
                    products.confluence
                        && match &doc.space_owner {
                            Some(owner) => source.personal_space_in_scope(&doc.scope_key, owner),
                            None => source.space_in_scope(&doc.scope_key),
                        }
                }
                Product::Jira => products.jira && source.project_in_scope(&doc.scope_key),
            };
            !in_scope
        })
        .map(|(id, _)| id.clone())
        .collect();
    for id in out {
        ledger.delete(&id)?;
    }
    Ok(())
}

/// What decides which documents a source holds, as one comparable string.
pub(super) fn summary(source: &Source) -> String {
    let products = source.products();
    let list = |set: &BTreeSet<String>| set.iter().cloned().collect::<Vec<_>>().join(",");
    let spaces = source.spaces();
    let projects = source.projects();
    let users = source.users();
    let strings = |it: &mut dyn Iterator<Item = &str>| it.map(str::to_string).collect::<BTreeSet<_>>();
    format!(
        "confluence={} jira={} archived={} spaces=+[{}]-[{}] projects=+[{}]-[{}] users=+[{}]-[{}]",
        products.confluence,
        products.jira,
        source.include_archived(),
        list(&strings(&mut spaces.include().iter().map(|k| k.as_str()))),
        list(&strings(&mut spaces.exclude().iter().map(|k| k.as_str()))),
        list(&strings(&mut projects.include().iter().map(|k| k.as_str()))),
        list(&strings(&mut projects.exclude().iter().map(|k| k.as_str()))),
        list(&strings(&mut users.include().iter().map(|k| k.as_str()))),
        list(&strings(&mut users.exclude().iter().map(|k| k.as_str()))),
    )
}

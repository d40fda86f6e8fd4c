//! What the code relies on in the schema: the field names the writer, the reader and the search layer
//! share ([`field`]), the options each needs ([`CODE_FIELDS`]) and the check of a definition against them,
//! and the tantivy handles of those fields ([`Fields`]).
//!
//! This file does not parse the JSON (`spec.rs` does).

use tantivy::schema::{Field, Schema};

use super::spec::{FieldType, SchemaSpec};
use crate::index::Error;

/// Field names, shared by the writer, the reader and the search layer.
pub mod field {
    pub const ID: &str = "id";
    pub const ID_HASH: &str = "id_hash";
    pub const SOURCE: &str = "source";
    pub const KIND: &str = "kind";
    pub const TITLE: &str = "title";
    pub const DISPLAY_TITLE: &str = "display_title";
    pub const BODY: &str = "body";
    pub const KEYS: &str = "keys";
    pub const SPACE: &str = "space";
    pub const SPACE_NAME: &str = "space_name";
    pub const ANCESTORS: &str = "ancestors";
    pub const PROJECT: &str = "project";
    pub const CONTAINER: &str = "container";
    pub const LABELS: &str = "labels";
    pub const AUTHOR: &str = "author";
    pub const AUTHOR_NAME: &str = "author_name";
    pub const ISSUE_KEY: &str = "issue_key";
    pub const ISSUE_TYPE: &str = "issue_type";
    pub const STATUS: &str = "status";
    pub const STATUS_CATEGORY: &str = "status_category";
    pub const ASSIGNEE: &str = "assignee";
    pub const ASSIGNEE_NAME: &str = "assignee_name";
    pub const CREATED: &str = "created";
    pub const UPDATED: &str = "updated";
    pub const URL: &str = "url";
    pub const ACL_PROFILE: &str = "acl_profile";
    pub const VERSION: &str = "version";
}

/// A capability of a field that some code relies on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Need {
    /// Looked up or filtered by term (the writer deletes by `id`).
    Indexed,
    /// Read back by [`crate::index::IndexReader::get`].
    Stored,
    /// Read per document from its column (ids, versions, ACL profiles, facets).
    Fast,
    /// Phrase queries.
    Positions,
}

/// What the code expects of one field.
#[derive(Debug, Clone, Copy)]
pub struct CodeField {
    pub name: &'static str,
    pub field_type: FieldType,
    pub multi: bool,
    pub needs: &'static [Need],
}

const fn code_field(name: &'static str, field_type: FieldType, needs: &'static [Need]) -> CodeField {
    CodeField { name, field_type, multi: false, needs }
}

/// Every field the index layer writes, with the options its readers rely on. The schema JSON must agree.
pub const CODE_FIELDS: &[CodeField] = {
    use FieldType::*;
    use Need::*;
    &[
        code_field(field::ID, Text, &[Indexed, Stored, Fast]),
        code_field(field::ID_HASH, U64, &[Fast]),
        code_field(field::SOURCE, Text, &[Indexed, Stored, Fast]),
        code_field(field::KIND, Text, &[Indexed, Stored, Fast]),
        code_field(field::TITLE, Text, &[Indexed, Stored, Positions]),
        code_field(field::DISPLAY_TITLE, Text, &[Stored]),
        code_field(field::BODY, Text, &[Indexed, Stored, Positions]),
        CodeField { name: field::KEYS, field_type: Text, multi: true, needs: &[Indexed] },
        code_field(field::SPACE, Text, &[Indexed, Stored, Fast]),
        code_field(field::SPACE_NAME, Text, &[Stored]),
        CodeField { name: field::ANCESTORS, field_type: Text, multi: true, needs: &[Stored] },
        code_field(field::PROJECT, Text, &[Indexed, Stored, Fast]),
        code_field(field::CONTAINER, Text, &[Indexed, Stored]),
        CodeField { name: field::LABELS, field_type: Text, multi: true, needs: &[Indexed, Stored, Fast] },
        code_field(field::AUTHOR, Text, &[Indexed, Stored]),
        code_field(field::AUTHOR_NAME, Text, &[Indexed, Stored]),
        code_field(field::ISSUE_KEY, Text, &[Stored]),
        code_field(field::ISSUE_TYPE, Text, &[Indexed, Stored]),
        code_field(field::STATUS, Text, &[Indexed, Stored]),
        code_field(field::STATUS_CATEGORY, Text, &[Stored]),
        code_field(field::ASSIGNEE, Text, &[Indexed, Stored]),
        code_field(field::ASSIGNEE_NAME, Text, &[Indexed, Stored]),
        code_field(field::CREATED, Date, &[Indexed, Stored, Fast]),
        code_field(field::UPDATED, Date, &[Indexed, Stored, Fast]),
        code_field(field::URL, Text, &[Stored]),
        code_field(field::ACL_PROFILE, U64, &[Indexed, Stored, Fast]),
        code_field(field::VERSION, U64, &[Stored, Fast]),
    ]
};

/// Tantivy handles of every field, resolved by name once.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Fields {
    pub id: Field,
    pub id_hash: Field,
    pub source: Field,
    pub kind: Field,
    pub title: Field,
    pub display_title: Field,
    pub body: Field,
    pub keys: Field,
    pub space: Field,
    pub space_name: Field,
    pub ancestors: Field,
    pub project: Field,
    pub container: Field,
    pub labels: Field,
    pub author: Field,
    pub author_name: Field,
    pub issue_key: Field,
    pub issue_type: Field,
    pub status: Field,
    pub status_category: Field,
    pub assignee: Field,
    pub assignee_name: Field,
    pub created: Field,
    pub updated: Field,
    pub url: Field,
    pub acl_profile: Field,
    pub version: Field,
}

impl Fields {
    /// Resolves every field in `schema`; a missing one is a schema definition error.
    pub fn resolve(schema: &Schema) -> Result<Fields, Error> {
        let get = |name: &str| {
            schema.get_field(name).map_err(|_| {
                Error::SchemaDefinition(format!("field {name} is missing from the tantivy schema"))
            })
        };
        Ok(Fields {
            id: get(field::ID)?,
            id_hash: get(field::ID_HASH)?,
            source: get(field::SOURCE)?,
            kind: get(field::KIND)?,
            title: get(field::TITLE)?,
            display_title: get(field::DISPLAY_TITLE)?,
            body: get(field::BODY)?,
            keys: get(field::KEYS)?,
            space: get(field::SPACE)?,
            space_name: get(field::SPACE_NAME)?,
            ancestors: get(field::ANCESTORS)?,
            project: get(field::PROJECT)?,
            container: get(field::CONTAINER)?,
            labels: get(field::LABELS)?,
            author: get(field::AUTHOR)?,
            author_name: get(field::AUTHOR_NAME)?,
            issue_key: get(field::ISSUE_KEY)?,
            issue_type: get(field::ISSUE_TYPE)?,
            status: get(field::STATUS)?,
            status_category: get(field::STATUS_CATEGORY)?,
            assignee: get(field::ASSIGNEE)?,
            assignee_name: get(field::ASSIGNEE_NAME)?,
            created: get(field::CREATED)?,
            updated: get(field::UPDATED)?,
            url: get(field::URL)?,
            acl_profile: get(field::ACL_PROFILE)?,
            version: get(field::VERSION)?,
        })
    }
}

impl SchemaSpec {
    /// Checks the definition against [`CODE_FIELDS`], both ways; the error names every disagreement.
    pub fn check_against_code(&self) -> Result<(), Error> {
        let mut problems = Vec::new();
        for expected in CODE_FIELDS {
            let Some(spec) = self.field(expected.name) else {
                problems
                    .push(format!("field {} is used by the code but missing from the schema", expected.name));
                continue;
            };
            if spec.field_type() != expected.field_type {
                problems.push(format!(
                    "field {} is {:?} in the schema but the code uses {:?}",
                    expected.name,
                    spec.field_type(),
                    expected.field_type
                ));
            }
            if spec.multi != expected.multi {
                problems.push(format!(
                    "field {} has multi: {} in the schema but the code writes {}",
                    expected.name,
                    spec.multi,
                    if expected.multi { "several values" } else { "one value" }
                ));
            }
            for need in expected.needs {
                let has = match need {
                    Need::Indexed => spec.is_indexed(),
                    Need::Stored => spec.stored,
                    Need::Fast => spec.fast,
                    Need::Positions => spec.has_positions(),
                };
                if !has {
                    problems.push(format!("field {} must be {need:?} for the code", expected.name));
                }
            }
        }
        for spec in &self.fields {
            if !CODE_FIELDS.iter().any(|c| c.name == spec.name) {
                problems.push(format!("field {} is in the schema but the code never writes it", spec.name));
            }
        }
        if problems.is_empty() {
            Ok(())
        } else {
            Err(Error::SchemaDefinition(problems.join("; ")))
        }
    }
}

//! The index schema as data: `index-schema/schema.json` (embedded with `include_str!`, so the binary does not
//! need the folder at run time), parsed into a [`SchemaSpec`], turned into a tantivy [`Schema`] and the
//! tokenizers it names, and checked against what the code reads and writes.
//!
//! - `spec.rs`: the definition as data ([`SchemaSpec`], [`FieldSpec`], [`TokenizerSpec`]), its validation,
//!   and the tantivy schema and analyzers built from it.
//! - `code.rs`: what the code relies on: the field names ([`field`]), [`CODE_FIELDS`] and the drift check,
//!   and the resolved field handles ([`Fields`]).
//! - this file: the loaded [`IndexSchema`], the extra fields an index may carry, the record an index keeps
//!   of its schema, and the version's canonical form.
//!
//! The check runs on every load, not only in tests: if the JSON names a field the code does not write, lacks one
//! the code needs, or gives it another type or too few options, loading fails with a message naming the field.
//! See `index-schema/README.md` for each field, each tokenizer and the version-bump rule.
//!
//! An index may also carry [`ExtraField`]s: fields declared when it is created and recorded with it, which the
//! product neither writes nor reads (the benchmark keeps its rival ACL encodings there). They never change
//! the product's fields, and an index is opened only when its fields are exactly the product's plus the
//! extras its record names.
//!
//! This module does not open indexes or check versions on disk; [`crate::index::commit`] does.

mod code;
mod spec;

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};
use tantivy::schema::{Field, IndexRecordOption, Schema, TextFieldIndexing, TextOptions, FAST};

pub use self::code::{field, CodeField, Fields, Need, CODE_FIELDS};
pub use self::spec::{
    FieldOptions, FieldSpec, FieldType, Filter, Precision, Record, SchemaSpec, Split, StemLanguage,
    TextIndexing, TokenizerSpec,
};
use super::Error;

/// The schema definition compiled into the binary.
pub const SCHEMA_JSON: &str = include_str!("../../../index-schema/schema.json");

/// The tokenizer tantivy uses for text fast fields: values are stored whole, as written.
const FAST_TOKENIZER: &str = "raw";

/// A field beyond the product's (see the module docs): a name and what it holds.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExtraField {
    pub name: String,
    pub kind: ExtraKind,
}

/// What an [`ExtraField`] holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ExtraKind {
    /// Whole-value tokens, several per document, indexed with document ids only.
    Tokens,
    /// One number per document, in a fast column.
    FastU64,
}

/// The loaded schema: definition, tantivy schema and field handles, consistent with the code.
#[derive(Debug, Clone)]
pub struct IndexSchema {
    spec: SchemaSpec,
    schema: Schema,
    fields: Fields,
    extra: Vec<ExtraField>,
}

impl IndexSchema {
    /// The schema compiled into the binary.
    pub fn embedded() -> Result<IndexSchema, Error> {
        IndexSchema::from_json(SCHEMA_JSON)
    }

    /// Parses `json`, checks it against the code and builds the tantivy schema.
    pub fn from_json(json: &str) -> Result<IndexSchema, Error> {
        let spec = SchemaSpec::parse(json)?;
        spec.check_against_code()?;
        let schema = spec.build_schema();
        let fields = Fields::resolve(&schema)?;
        Ok(IndexSchema { spec, schema, fields, extra: Vec::new() })
    }

    /// This schema plus `extra` fields after the product's. A name the product uses, or one given twice, is
    /// refused.
    pub fn with_extra_fields(&self, extra: &[ExtraField]) -> Result<IndexSchema, Error> {
        let mut builder = self.spec.schema_builder();
        let mut names = BTreeSet::new();
        for f in extra {
            if self.spec.field(&f.name).is_some() || !names.insert(f.name.as_str()) {
                return Err(Error::SchemaDefinition(format!(
                    "extra field {} is defined twice or is a product field",
                    f.name
                )));
            }
            match f.kind {
                ExtraKind::Tokens => {
                    let indexing = TextFieldIndexing::default()
                        .set_tokenizer(FAST_TOKENIZER)
                        .set_index_option(IndexRecordOption::Basic)
                        .set_fieldnorms(false);
                    builder.add_text_field(&f.name, TextOptions::default().set_indexing_options(indexing));
                }
                ExtraKind::FastU64 => {
                    builder.add_u64_field(&f.name, FAST);
                }
            }
        }
        let schema = builder.build();
        let fields = Fields::resolve(&schema)?;
        Ok(IndexSchema { spec: self.spec.clone(), schema, fields, extra: extra.to_vec() })
    }

    /// The fields beyond the product's that this schema carries.
    pub fn extra_fields(&self) -> &[ExtraField] {
        &self.extra
    }

    /// The handle of an extra field.
    pub fn extra_field(&self, name: &str) -> Option<Field> {
        self.extra.iter().find(|f| f.name == name).and_then(|f| self.schema.get_field(&f.name).ok())
    }

    /// What an index created with this schema records in `meta/schema.json`: the embedded definition as
    /// written, plus an `extra_fields` list when there are extras.
    pub fn record_json(&self) -> String {
        if self.extra.is_empty() {
            return SCHEMA_JSON.to_string();
        }
        let mut value: serde_json::Value = match serde_json::from_str(SCHEMA_JSON) {
            Ok(value) => value,
            // The embedded definition parsed when this schema was built.
            Err(_) => return SCHEMA_JSON.to_string(),
        };
        if let Some(object) = value.as_object_mut() {
            object.insert("extra_fields".into(), serde_json::json!(self.extra));
        }
        serde_json::to_string_pretty(&value).unwrap_or_else(|_| SCHEMA_JSON.to_string())
    }

    pub fn version(&self) -> u64 {
        self.spec.version
    }

    pub fn spec(&self) -> &SchemaSpec {
        &self.spec
    }

    pub fn schema(&self) -> &Schema {
        &self.schema
    }

    pub fn fields(&self) -> &Fields {
        &self.fields
    }

    /// Registers the schema's analyzers on `index`. Tantivy does not persist tokenizers, so every opened index
    /// needs this before indexing or parsing queries.
    pub fn register_tokenizers(&self, index: &tantivy::Index) {
        for (name, analyzer) in self.spec.analyzers() {
            index.tokenizers().register(&name, analyzer);
        }
    }

    /// A canonical form of everything the version covers (tokenizers and fields), independent of whitespace
    /// and key order in the JSON file.
    pub fn canonical_definition(json: &str) -> Result<String, Error> {
        let value: serde_json::Value =
            serde_json::from_str(json).map_err(|e| Error::SchemaDefinition(format!("bad json: {e}")))?;
        let covered: BTreeMap<&str, &serde_json::Value> =
            ["tokenizers", "fields"].into_iter().filter_map(|k| value.get(k).map(|v| (k, v))).collect();
        serde_json::to_string(&covered).map_err(|e| Error::SchemaDefinition(format!("bad json: {e}")))
    }
}

#[cfg(test)]
mod tests {
    use sha2::{Digest, Sha256};

    use super::*;

    fn embedded_value() -> serde_json::Value {
        serde_json::from_str(SCHEMA_JSON).expect("embedded schema is json")
    }

    /// The embedded schema with `edit` applied to its JSON.
    fn edited(edit: impl FnOnce(&mut serde_json::Value)) -> String {
        let mut v = embedded_value();
        edit(&mut v);
        v.to_string()
    }

    fn field_mut<'a>(v: &'a mut serde_json::Value, name: &str) -> &'a mut serde_json::Value {
        v["fields"]
            .as_array_mut()
            .expect("fields array")
            .iter_mut()
            .find(|f| f["name"] == name)
            .expect("field exists")
    }

    #[test]
    fn embedded_schema_loads_and_agrees_with_the_code() {
        let s = IndexSchema::embedded().expect("embedded schema is valid");
        assert!(s.version() >= 1);
        let json_names: BTreeSet<&str> = s.spec().fields.iter().map(|f| f.name.as_str()).collect();
        let code_names: BTreeSet<&str> = CODE_FIELDS.iter().map(|f| f.name).collect();
        assert_eq!(json_names, code_names);
    }

    #[test]
    fn drift_between_json_and_code_is_refused_with_the_field_named() {
        let cases: Vec<(&str, String, &str)> = vec![
            (
                "missing field",
                edited(|v| {
                    v["fields"].as_array_mut().expect("array").retain(|f| f["name"] != "acl_profile");
                }),
                "field acl_profile is used by the code but missing",
            ),
            (
                "unknown field",
                edited(|v| {
                    v["fields"].as_array_mut().expect("array").push(serde_json::json!(
                        {"name": "extra", "type": "u64", "stored": true}
                    ));
                }),
                "field extra is in the schema but the code never writes it",
            ),
            ("wrong type", edited(|v| field_mut(v, "version")["type"] = "date".into()), "field version"),
            ("not fast", edited(|v| field_mut(v, "id")["fast"] = false.into()), "field id must be Fast"),
            (
                "multi mismatch",
                edited(|v| field_mut(v, "labels")["multi"] = false.into()),
                "field labels has multi: false",
            ),
            (
                "no positions",
                edited(|v| field_mut(v, "body")["record"] = "freqs".into()),
                "field body must be Positions",
            ),
            (
                "undefined tokenizer",
                edited(|v| field_mut(v, "title")["tokenizer"] = "klingon".into()),
                "field title uses undefined tokenizer klingon",
            ),
            (
                "misspelled option",
                edited(|v| field_mut(v, "url")["stord"] = true.into()),
                "unknown field `stord`",
            ),
            (
                "indexed text without tokenizer",
                edited(|v| {
                    field_mut(v, "author").as_object_mut().expect("object").remove("tokenizer");
                }),
                "field author: an indexed text field needs",
            ),
            (
                "date without precision",
                edited(|v| {
                    field_mut(v, "created").as_object_mut().expect("object").remove("precision");
                }),
                "field created: a date field needs a precision",
            ),
        ];
        for (case, json, want) in cases {
            let err = IndexSchema::from_json(&json).expect_err(case).to_string();
            assert!(err.contains(want), "{case}: {err:?} lacks {want:?}");
        }
    }

    /// The version-bump rule, enforced: each version's definition is pinned by its hash. Changing any field or
    /// tokenizer without bumping `version` fails here; after a bump, add the new version's hash below.
    #[test]
    fn definition_changes_bump_the_version() {
        const PINNED: &[(u64, &str)] = &[
            (1, "a59a31aab20adedca5757c904195382324b96d69b23d2ec3f3b3a1a2f276e734"),
            (2, "711d7e2e5c4f3497f6e78642cebe54064f0bb573991b0213c815514139af3c2b"),
            (3, "8bdd0980c8aa4c4de9c426d7a5e9794435870d07530ddf8d54040456637a6379"),
            (4, "717badec795dea3f8b2f8022a5127de0efda25d7c661a44bd8b6c05873a71787"),
        ];
        let version = IndexSchema::embedded().expect("valid").version();
        let canonical = IndexSchema::canonical_definition(SCHEMA_JSON).expect("canonical");
        let hash: String = Sha256::digest(canonical.as_bytes()).iter().map(|b| format!("{b:02x}")).collect();
        let pinned = PINNED.iter().find(|(v, _)| *v == version).map(|(_, h)| *h);
        assert_eq!(
            pinned,
            Some(hash.as_str()),
            "schema.json differs from what version {version} pinned: bump the version and pin the new hash"
        );
    }

    #[test]
    fn canonical_definition_ignores_layout_but_not_content() {
        let reformatted = serde_json::to_string_pretty(&embedded_value()).expect("json");
        let canonical = IndexSchema::canonical_definition(SCHEMA_JSON).expect("canonical");
        assert_eq!(IndexSchema::canonical_definition(&reformatted).expect("canonical"), canonical);
        let changed = edited(|v| field_mut(v, "url")["fast"] = true.into());
        assert_ne!(IndexSchema::canonical_definition(&changed).expect("canonical"), canonical);
    }
}

//! The index schema as data: `index-schema/schema.json` (embedded with `include_str!`, so the binary does not
//! need the folder at run time), parsed into [`SchemaSpec`], turned into a tantivy [`Schema`] and the tokenizers
//! it names, and checked against what the code reads and writes.
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
//! This file does not open indexes or check versions on disk; [`crate::index::commit`] does.

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};
use tantivy::schema::{
    DateOptions, DateTimePrecision, Field, IndexRecordOption, NumericOptions, Schema, SchemaBuilder,
    TextFieldIndexing, TextOptions, FAST,
};
use tantivy::tokenizer::{
    AsciiFoldingFilter, Language, LowerCaser, RawTokenizer, RemoveLongFilter, SimpleTokenizer, Stemmer,
    TextAnalyzer, WhitespaceTokenizer,
};

use super::Error;

/// The schema definition compiled into the binary.
pub const SCHEMA_JSON: &str = include_str!("../../index-schema/schema.json");

/// Tokenizers tantivy registers by itself; the JSON may name them without defining them.
const BUILTIN_TOKENIZERS: &[&str] = &["raw"];

/// The tokenizer tantivy uses for text fast fields: values are stored whole, as written.
const FAST_TOKENIZER: &str = "raw";

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
    pub const PROJECT: &str = "project";
    pub const CONTAINER: &str = "container";
    pub const LABELS: &str = "labels";
    pub const AUTHOR: &str = "author";
    pub const AUTHOR_NAME: &str = "author_name";
    pub const CREATED: &str = "created";
    pub const UPDATED: &str = "updated";
    pub const URL: &str = "url";
    pub const ACL_PROFILE: &str = "acl_profile";
    pub const VERSION: &str = "version";
}

/// A field's value type.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum FieldType {
    Text,
    U64,
    Date,
}

/// What the postings of an indexed text field record.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Record {
    /// Document ids only: enough for filters and exact lookups.
    Basic,
    /// Plus term frequencies.
    Freqs,
    /// Plus positions: needed for phrase queries.
    Positions,
}

/// Precision of a date field's fast column (its inverted index always keeps seconds).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Precision {
    Seconds,
    Milliseconds,
    Microseconds,
}

/// How a tokenizer first splits text.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Split {
    /// On every character that is not alphanumeric.
    Simple,
    /// On whitespace only.
    Whitespace,
    /// Not at all: the whole value is one token.
    Raw,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum StemLanguage {
    English,
}

/// A token filter, applied in order after splitting.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Filter {
    Lowercase,
    /// Folds accented Latin letters to ASCII (`José` → `jose`).
    AsciiFolding,
    /// Drops tokens of this many bytes or more.
    RemoveLong(usize),
    Stemmer(StemLanguage),
}

/// A named analyzer pipeline.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TokenizerSpec {
    pub name: String,
    pub split: Split,
    pub filters: Vec<Filter>,
}

/// How an indexed text field is analysed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TextIndexing {
    pub tokenizer: String,
    pub record: Record,
    pub fieldnorms: bool,
}

/// Type-specific options of a field.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FieldOptions {
    /// `indexing` is `None` for a stored-only text field.
    Text {
        indexing: Option<TextIndexing>,
    },
    U64 {
        indexed: bool,
    },
    Date {
        indexed: bool,
        precision: Precision,
    },
}

/// One field of the schema, validated.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldSpec {
    pub name: String,
    /// A document may carry several values. Tantivy does not record this; it documents what the writer does
    /// and is checked against the code.
    pub multi: bool,
    pub stored: bool,
    pub fast: bool,
    pub options: FieldOptions,
}

impl FieldSpec {
    pub fn field_type(&self) -> FieldType {
        match self.options {
            FieldOptions::Text { .. } => FieldType::Text,
            FieldOptions::U64 { .. } => FieldType::U64,
            FieldOptions::Date { .. } => FieldType::Date,
        }
    }

    pub fn is_indexed(&self) -> bool {
        match &self.options {
            FieldOptions::Text { indexing } => indexing.is_some(),
            FieldOptions::U64 { indexed } | FieldOptions::Date { indexed, .. } => *indexed,
        }
    }

    /// Whether the field's postings carry positions (phrase queries work on it).
    pub fn has_positions(&self) -> bool {
        matches!(&self.options, FieldOptions::Text { indexing: Some(i) } if i.record == Record::Positions)
    }
}

/// The parsed, validated schema definition.
#[derive(Debug, Clone, PartialEq)]
pub struct SchemaSpec {
    pub version: u64,
    pub tokenizers: Vec<TokenizerSpec>,
    pub fields: Vec<FieldSpec>,
}

/// The JSON as written: every option optional, so that [`SchemaSpec::parse`] can say precisely what is wrong.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawSchema {
    version: u64,
    tokenizers: Vec<TokenizerSpec>,
    fields: Vec<RawField>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawField {
    name: String,
    #[serde(rename = "type")]
    field_type: FieldType,
    #[serde(default)]
    indexed: bool,
    #[serde(default)]
    stored: bool,
    #[serde(default)]
    fast: bool,
    #[serde(default)]
    multi: bool,
    tokenizer: Option<String>,
    record: Option<Record>,
    fieldnorms: Option<bool>,
    precision: Option<Precision>,
}

impl RawField {
    fn validate(self) -> Result<FieldSpec, String> {
        let name = self.name;
        let bad = |what: &str| format!("field {name}: {what}");
        let text_only = self.tokenizer.is_some() || self.record.is_some() || self.fieldnorms.is_some();
        let options = match self.field_type {
            FieldType::Text => {
                if self.precision.is_some() {
                    return Err(bad("precision applies to dates only"));
                }
                let indexing = match (self.indexed, self.tokenizer, self.record, self.fieldnorms) {
                    (true, Some(tokenizer), Some(record), Some(fieldnorms)) => {
                        Some(TextIndexing { tokenizer, record, fieldnorms })
                    }
                    (true, ..) => {
                        return Err(bad("an indexed text field needs tokenizer, record and fieldnorms"))
                    }
                    (false, None, None, None) => None,
                    (false, ..) => return Err(bad("tokenizer, record and fieldnorms need indexed: true")),
                };
                FieldOptions::Text { indexing }
            }
            FieldType::U64 => {
                if text_only || self.precision.is_some() {
                    return Err(bad("a u64 field takes only indexed, stored, fast and multi"));
                }
                FieldOptions::U64 { indexed: self.indexed }
            }
            FieldType::Date => {
                if text_only {
                    return Err(bad("tokenizer, record and fieldnorms apply to text fields only"));
                }
                let precision = self.precision.ok_or_else(|| bad("a date field needs a precision"))?;
                FieldOptions::Date { indexed: self.indexed, precision }
            }
        };
        if !(self.stored || self.fast || self.indexed) {
            return Err(bad("neither indexed, stored nor fast: it would hold nothing"));
        }
        Ok(FieldSpec { name, multi: self.multi, stored: self.stored, fast: self.fast, options })
    }
}

impl SchemaSpec {
    /// Parses and validates a schema definition: well-formed options, unique names, every tokenizer named by a
    /// field defined (or built in).
    pub fn parse(json: &str) -> Result<SchemaSpec, Error> {
        let raw: RawSchema =
            serde_json::from_str(json).map_err(|e| Error::SchemaDefinition(format!("bad json: {e}")))?;
        let fields: Vec<FieldSpec> = raw
            .fields
            .into_iter()
            .map(RawField::validate)
            .collect::<Result<_, _>>()
            .map_err(Error::SchemaDefinition)?;
        let mut tokenizer_names = BTreeSet::new();
        for t in &raw.tokenizers {
            if BUILTIN_TOKENIZERS.contains(&t.name.as_str()) || !tokenizer_names.insert(t.name.as_str()) {
                return Err(Error::SchemaDefinition(format!("tokenizer {} is defined twice", t.name)));
            }
        }
        let mut field_names = BTreeSet::new();
        for f in &fields {
            if !field_names.insert(f.name.as_str()) {
                return Err(Error::SchemaDefinition(format!("field {} is defined twice", f.name)));
            }
            if let FieldOptions::Text { indexing: Some(i) } = &f.options {
                let known = tokenizer_names.contains(i.tokenizer.as_str())
                    || BUILTIN_TOKENIZERS.contains(&i.tokenizer.as_str());
                if !known {
                    return Err(Error::SchemaDefinition(format!(
                        "field {} uses undefined tokenizer {}",
                        f.name, i.tokenizer
                    )));
                }
            }
        }
        Ok(SchemaSpec { version: raw.version, tokenizers: raw.tokenizers, fields })
    }

    pub fn field(&self, name: &str) -> Option<&FieldSpec> {
        self.fields.iter().find(|f| f.name == name)
    }

    /// The tantivy schema, fields in JSON order.
    pub fn build_schema(&self) -> Schema {
        self.schema_builder().build()
    }

    fn schema_builder(&self) -> SchemaBuilder {
        let mut builder = Schema::builder();
        for f in &self.fields {
            match &f.options {
                FieldOptions::Text { indexing } => {
                    let mut options = TextOptions::default();
                    if let Some(i) = indexing {
                        options = options.set_indexing_options(
                            TextFieldIndexing::default()
                                .set_tokenizer(&i.tokenizer)
                                .set_index_option(record_option(i.record))
                                .set_fieldnorms(i.fieldnorms),
                        );
                    }
                    if f.stored {
                        options = options.set_stored();
                    }
                    if f.fast {
                        options = options.set_fast(FAST_TOKENIZER);
                    }
                    builder.add_text_field(&f.name, options);
                }
                FieldOptions::U64 { indexed } => {
                    let mut options = NumericOptions::default();
                    if *indexed {
                        options = options.set_indexed();
                    }
                    if f.stored {
                        options = options.set_stored();
                    }
                    if f.fast {
                        options = options.set_fast();
                    }
                    builder.add_u64_field(&f.name, options);
                }
                FieldOptions::Date { indexed, precision } => {
                    let mut options = DateOptions::default().set_precision(date_precision(*precision));
                    if *indexed {
                        options = options.set_indexed();
                    }
                    if f.stored {
                        options = options.set_stored();
                    }
                    if f.fast {
                        options = options.set_fast();
                    }
                    builder.add_date_field(&f.name, options);
                }
            }
        }
        builder
    }

    /// The analyzers the schema defines, by name.
    pub fn analyzers(&self) -> Vec<(String, TextAnalyzer)> {
        self.tokenizers.iter().map(|t| (t.name.clone(), analyzer(t))).collect()
    }

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

fn record_option(record: Record) -> IndexRecordOption {
    match record {
        Record::Basic => IndexRecordOption::Basic,
        Record::Freqs => IndexRecordOption::WithFreqs,
        Record::Positions => IndexRecordOption::WithFreqsAndPositions,
    }
}

fn date_precision(precision: Precision) -> DateTimePrecision {
    match precision {
        Precision::Seconds => DateTimePrecision::Seconds,
        Precision::Milliseconds => DateTimePrecision::Milliseconds,
        Precision::Microseconds => DateTimePrecision::Microseconds,
    }
}

fn analyzer(spec: &TokenizerSpec) -> TextAnalyzer {
    let mut builder = match spec.split {
        Split::Simple => TextAnalyzer::builder(SimpleTokenizer::default()).dynamic(),
        Split::Whitespace => TextAnalyzer::builder(WhitespaceTokenizer::default()).dynamic(),
        Split::Raw => TextAnalyzer::builder(RawTokenizer::default()).dynamic(),
    };
    for filter in &spec.filters {
        builder = match *filter {
            Filter::Lowercase => builder.filter_dynamic(LowerCaser),
            Filter::AsciiFolding => builder.filter_dynamic(AsciiFoldingFilter),
            Filter::RemoveLong(limit) => builder.filter_dynamic(RemoveLongFilter::limit(limit)),
            Filter::Stemmer(StemLanguage::English) => builder.filter_dynamic(Stemmer::new(Language::English)),
        };
    }
    builder.build()
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
        code_field(field::PROJECT, Text, &[Indexed, Stored, Fast]),
        code_field(field::CONTAINER, Text, &[Indexed, Stored]),
        CodeField { name: field::LABELS, field_type: Text, multi: true, needs: &[Indexed, Stored, Fast] },
        code_field(field::AUTHOR, Text, &[Indexed, Stored]),
        code_field(field::AUTHOR_NAME, Text, &[Indexed, Stored]),
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
    pub project: Field,
    pub container: Field,
    pub labels: Field,
    pub author: Field,
    pub author_name: Field,
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
            project: get(field::PROJECT)?,
            container: get(field::CONTAINER)?,
            labels: get(field::LABELS)?,
            author: get(field::AUTHOR)?,
            author_name: get(field::AUTHOR_NAME)?,
            created: get(field::CREATED)?,
            updated: get(field::UPDATED)?,
            url: get(field::URL)?,
            acl_profile: get(field::ACL_PROFILE)?,
            version: get(field::VERSION)?,
        })
    }
}

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
    use tantivy::schema::FieldType as TantivyType;
    use tantivy::tokenizer::TokenStream;

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

    /// Every option in the JSON shows up, unchanged, in the tantivy schema built from it.
    #[test]
    fn json_fields_round_trip_into_the_tantivy_schema() {
        let s = IndexSchema::embedded().expect("valid");
        assert_eq!(s.schema().num_fields(), s.spec().fields.len());
        for spec in &s.spec().fields {
            let field = s.schema().get_field(&spec.name).expect("field in schema");
            let entry = s.schema().get_field_entry(field);
            assert_eq!(entry.is_indexed(), spec.is_indexed(), "{} indexed", spec.name);
            assert_eq!(entry.is_stored(), spec.stored, "{} stored", spec.name);
            assert_eq!(entry.is_fast(), spec.fast, "{} fast", spec.name);
            match (&spec.options, entry.field_type()) {
                (FieldOptions::Text { indexing }, TantivyType::Str(options)) => {
                    let got = options.get_indexing_options().map(|i| TextIndexing {
                        tokenizer: i.tokenizer().to_string(),
                        record: match i.index_option() {
                            IndexRecordOption::Basic => Record::Basic,
                            IndexRecordOption::WithFreqs => Record::Freqs,
                            IndexRecordOption::WithFreqsAndPositions => Record::Positions,
                        },
                        fieldnorms: i.fieldnorms(),
                    });
                    assert_eq!(&got, indexing, "{} indexing", spec.name);
                    let fast_tokenizer = options.get_fast_field_tokenizer_name();
                    assert_eq!(fast_tokenizer, spec.fast.then_some(FAST_TOKENIZER), "{}", spec.name);
                }
                (FieldOptions::U64 { indexed }, TantivyType::U64(options)) => {
                    assert_eq!(options.is_indexed(), *indexed, "{}", spec.name);
                }
                (FieldOptions::Date { indexed, precision }, TantivyType::Date(options)) => {
                    assert_eq!(options.is_indexed(), *indexed, "{}", spec.name);
                    assert_eq!(options.get_precision(), date_precision(*precision), "{}", spec.name);
                }
                (spec_options, tantivy_type) => {
                    panic!("{}: {spec_options:?} became {tantivy_type:?}", spec.name)
                }
            }
        }
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

    fn tokens(analyzer: &mut TextAnalyzer, text: &str) -> Vec<String> {
        let mut stream = analyzer.token_stream(text);
        let mut out = Vec::new();
        while stream.advance() {
            out.push(stream.token().text.clone());
        }
        out
    }

    #[test]
    fn analyzers_tokenize_as_documented() {
        let spec = SchemaSpec::parse(SCHEMA_JSON).expect("valid");
        let mut analyzers: BTreeMap<String, TextAnalyzer> = spec.analyzers().into_iter().collect();
        let long = "x".repeat(40);
        let cases: &[(&str, &str, &[&str])] = &[
            ("en_stem", "Rotating the Keys", &["rotat", "the", "key"]),
            ("en_stem", "rotate rotation", &["rotat", "rotat"]),
            ("en_stem", "HADOOP-1234 fails", &["hadoop", "1234", "fail"]),
            ("en_stem", &format!("short {long}"), &["short"]),
            ("name", "José Ó'Brien", &["jose", "o", "brien"]),
            ("key", "HADOOP-1234", &["hadoop-1234"]),
        ];
        for (name, text, want) in cases {
            let analyzer = analyzers.get_mut(*name).expect("analyzer defined");
            assert_eq!(tokens(analyzer, text), *want, "{name} on {text:?}");
        }
    }
}

//! The schema definition as data: the JSON's field and tokenizer options parsed and validated into a
//! [`SchemaSpec`], and the tantivy schema and analyzers built from it.
//!
//! This file knows nothing of the fields the code uses (`code.rs` checks the definition against them).

use std::collections::BTreeSet;

use serde::{Deserialize, Serialize};
use tantivy::schema::{
    DateOptions, DateTimePrecision, IndexRecordOption, NumericOptions, Schema, SchemaBuilder,
    TextFieldIndexing, TextOptions,
};
use tantivy::tokenizer::{
    AsciiFoldingFilter, Language, LowerCaser, RawTokenizer, RemoveLongFilter, SimpleTokenizer, Stemmer,
    TextAnalyzer, WhitespaceTokenizer,
};

use super::FAST_TOKENIZER;
use crate::index::Error;

/// Tokenizers tantivy registers by itself; the JSON may name them without defining them.
const BUILTIN_TOKENIZERS: &[&str] = &["raw"];

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

    pub(super) fn schema_builder(&self) -> SchemaBuilder {
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

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use tantivy::schema::FieldType as TantivyType;
    use tantivy::tokenizer::TokenStream;

    use super::*;
    use crate::index::schema::{IndexSchema, SCHEMA_JSON};

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

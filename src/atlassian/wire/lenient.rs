//! How wire types read a field: what real sites send besides what the spec promises, and never an error.
//!
//! The rule (see `STYLE.md` §19): a surprise in one field (`null`, `-1`, a number where a string is
//! promised or the other way round, an object where a list is, a value of an enum this code does not
//! know) costs that field, never the item around it, and an odd item in a list costs that item, never the
//! list. The field then reads as its type's default, which the crawlers take for "unknown": an empty id
//! names nobody, a missing holder type grants nothing, a missing list of grants grants nothing. Where
//! the mere presence of a field narrows who may read something (a comment's `visibility`, an issue's
//! `security`), [`present_or_default`] keeps "present but unreadable" apart from "absent".
//!
//! The one exception is [`required_items`], for the user and group lists of a Confluence restriction:
//! there an empty list means "not restricted", so a list that cannot be read must fail the restriction
//! (which the crawler then treats as unknown) rather than read as empty.
//!
//! Every function buffers its field into a `serde_json::Value` first; the cost is a copy of the field's
//! structure (strings are moved), paid only by the crawler's reading.

use serde::de::{DeserializeOwned, Deserializer, Error};
use serde::Deserialize;
use serde_json::Value;

/// For request bodies, which the simulator reads and must refuse when they are wrong: `null` is the
/// default, any other value must read as `T`.
pub fn null_default<'de, D, T>(d: D) -> Result<T, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de> + Default,
{
    Ok(Option::<T>::deserialize(d)?.unwrap_or_default())
}

/// The field as `T` when it reads as one, else `T`'s default.
pub fn or_default<'de, D, T>(d: D) -> Result<T, D::Error>
where
    D: Deserializer<'de>,
    T: DeserializeOwned + Default,
{
    Ok(T::deserialize(Value::deserialize(d)?).unwrap_or_default())
}

/// A list whose items each read as `T` or as `T`'s default; anything but a list is an empty one.
pub fn items<'de, D, T>(d: D) -> Result<Vec<T>, D::Error>
where
    D: Deserializer<'de>,
    T: DeserializeOwned + Default,
{
    Ok(match Value::deserialize(d)? {
        Value::Array(items) => items.into_iter().map(|v| T::deserialize(v).unwrap_or_default()).collect(),
        _ => Vec::new(),
    })
}

/// A list that may be absent or `null` (`None`); anything but a list reads as absent.
pub fn opt_items<'de, D, T>(d: D) -> Result<Option<Vec<T>>, D::Error>
where
    D: Deserializer<'de>,
    T: DeserializeOwned + Default,
{
    Ok(match Value::deserialize(d)? {
        Value::Array(items) => {
            Some(items.into_iter().map(|v| T::deserialize(v).unwrap_or_default()).collect())
        }
        _ => None,
    })
}

/// A list that must be one: anything else fails the object around it (see the module documentation).
pub fn required_items<'de, D, T>(d: D) -> Result<Vec<T>, D::Error>
where
    D: Deserializer<'de>,
    T: DeserializeOwned + Default,
{
    match Value::deserialize(d)? {
        Value::Array(items) => Ok(items.into_iter().map(|v| T::deserialize(v).unwrap_or_default()).collect()),
        other => Err(D::Error::custom(format!("expected a list, got {}", kind_of(&other)))),
    }
}

/// A field whose presence matters: absent or `null` is `None`; present but unreadable is `T`'s default,
/// which the crawler must take for "unknown".
pub fn present_or_default<'de, D, T>(d: D) -> Result<Option<T>, D::Error>
where
    D: Deserializer<'de>,
    T: DeserializeOwned + Default,
{
    Ok(match Value::deserialize(d)? {
        Value::Null => None,
        value => Some(T::deserialize(value).unwrap_or_default()),
    })
}

/// A field that may be absent (outer `None`, via `#[serde(default)]`), `null` (`Some(None)`) or set; an
/// unreadable value reads as `null`.
pub fn double_option<'de, D, T>(d: D) -> Result<Option<Option<T>>, D::Error>
where
    D: Deserializer<'de>,
    T: DeserializeOwned,
{
    Ok(Some(match Value::deserialize(d)? {
        Value::Null => None,
        value => T::deserialize(value).ok(),
    }))
}

fn scalar_text(v: Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

fn kind_of(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "a list",
        Value::Object(_) => "an object",
    }
}

fn integer(v: Value) -> Option<i64> {
    match v {
        Value::Number(n) => n.as_i64(),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

/// A whole number sent as a number or a numeric string; anything else (or out of range) is 0.
pub fn int<'de, D, T>(d: D) -> Result<T, D::Error>
where
    D: Deserializer<'de>,
    T: TryFrom<i64> + Default,
{
    Ok(integer(Value::deserialize(d)?).and_then(|n| T::try_from(n).ok()).unwrap_or_default())
}

/// An optional whole number sent as a number or a numeric string; anything else is absent.
pub fn opt_int<'de, D, T>(d: D) -> Result<Option<T>, D::Error>
where
    D: Deserializer<'de>,
    T: TryFrom<i64>,
{
    Ok(integer(Value::deserialize(d)?).and_then(|n| T::try_from(n).ok()))
}

/// A map of names to text: entries whose value is not text are left out; anything but an object is
/// an empty map.
pub fn string_map<'de, D: Deserializer<'de>>(
    d: D,
) -> Result<std::collections::BTreeMap<String, String>, D::Error> {
    Ok(match Value::deserialize(d)? {
        Value::Object(map) => map.into_iter().filter_map(|(k, v)| scalar_text(v).map(|v| (k, v))).collect(),
        _ => Default::default(),
    })
}

/// An id sent as a string or a number, kept as a string; anything else is empty.
pub fn id<'de, D: Deserializer<'de>>(d: D) -> Result<String, D::Error> {
    Ok(scalar_text(Value::deserialize(d)?).unwrap_or_default())
}

/// An optional id sent as a string or a number; anything else is absent.
pub fn opt_id<'de, D: Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    Ok(scalar_text(Value::deserialize(d)?))
}

/// Text that is sometimes sent as a number (the spec's examples have `"updated": 1`).
pub fn opt_text<'de, D: Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    opt_id(d)
}

fn number(v: Value) -> Option<u64> {
    match v {
        Value::Number(n) => n.as_u64(),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

/// An id sent as a number or a numeric string, kept as a number; anything else (`null`, `-1`, text) is 0.
pub fn id_number<'de, D: Deserializer<'de>>(d: D) -> Result<u64, D::Error> {
    Ok(number(Value::deserialize(d)?).unwrap_or_default())
}

/// An optional number sent as a number or a numeric string; anything else is absent.
pub fn opt_id_number<'de, D: Deserializer<'de>>(d: D) -> Result<Option<u64>, D::Error> {
    Ok(number(Value::deserialize(d)?))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[derive(Debug, Default, PartialEq, serde::Deserialize)]
    struct Item {
        #[serde(default, deserialize_with = "id")]
        id: String,
        #[serde(default, deserialize_with = "or_default")]
        n: u32,
    }

    #[derive(Debug, Default, PartialEq, serde::Deserialize)]
    struct Holder {
        #[serde(default, deserialize_with = "items")]
        items: Vec<Item>,
        #[serde(default, deserialize_with = "opt_items")]
        maybe: Option<Vec<Item>>,
        #[serde(default, deserialize_with = "present_or_default")]
        narrowing: Option<Item>,
        #[serde(default, deserialize_with = "id_number")]
        number: u64,
    }

    #[test]
    fn surprises_cost_the_field_or_the_item_never_the_whole() {
        let cases = [
            (json!({}), Holder::default()),
            (
                json!({"items": [{"id": 1, "n": 2}, -1, {"id": "x", "n": "three"}], "number": "-1"}),
                Holder {
                    items: vec![
                        Item { id: "1".into(), n: 2 },
                        Item::default(),
                        Item { id: "x".into(), n: 0 },
                    ],
                    ..Holder::default()
                },
            ),
            (
                json!({"items": {"id": 1}, "maybe": "no", "number": 7}),
                Holder { number: 7, ..Holder::default() },
            ),
            (json!({"maybe": [], "narrowing": null}), Holder { maybe: Some(vec![]), ..Holder::default() }),
            (json!({"narrowing": -1}), Holder { narrowing: Some(Item::default()), ..Holder::default() }),
            (
                json!({"narrowing": {"id": [1]}, "number": 1.5}),
                Holder { narrowing: Some(Item::default()), ..Holder::default() },
            ),
        ];
        for (input, expected) in cases {
            let read: Holder = serde_json::from_value(input.clone()).expect("never fails");
            assert_eq!(read, expected, "{input}");
        }
    }

    #[test]
    fn a_required_list_that_is_not_one_fails_its_object() {
        #[derive(Debug, serde::Deserialize)]
        struct Strict {
            #[serde(deserialize_with = "required_items")]
            #[allow(dead_code)]
            results: Vec<Item>,
        }
        assert!(serde_json::from_value::<Strict>(json!({"results": [{"id": 1}, null]})).is_ok());
        for bad in
            [json!({}), json!({"results": null}), json!({"results": {"id": 1}}), json!({"results": -1})]
        {
            assert!(serde_json::from_value::<Strict>(bad.clone()).is_err(), "{bad}");
        }
    }
}

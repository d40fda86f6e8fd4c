//! The variance real Atlassian sites send, served on the wire: a JSON answer rewritten the way answers of
//! one site differ from another's, or from the specs, without changing what they mean.
//!
//! [`vary`] walks a response body and, with seeded dice per field, sends ids as numbers or as text
//! (`"10001"` ↔ `10001`) and counts as text, leaves out optional fields a site may omit (`self`,
//! `description`, `_expandable`, avatars, …), sends `null` or the sentinel `-1` where an id nobody needs
//! for reading is expected (a space's homepage, an owner, an avatar), an enum value no spec lists in a
//! field nothing depends on, and fields no spec knows beside the known ones. A crawler that reads a site
//! exactly must read the varied answer exactly as the plain one.
//!
//! [`garble`] is the other kind: it breaks a field a permission depends on (a holder's or principal's type,
//! the id of a group, user or security level a grant, restriction or visibility names), the way a site
//! with data this crawler has never seen would. What a garbled field grants cannot be known, so a crawler
//! must read it as granting nobody: never wider than the plain answer, and, where a whole item's access is
//! garbled, the item invisible.
//!
//! Which answers are varied or garbled, and how often, is the guard's business (`FaultConfig::variance`,
//! `FaultConfig::garbled_permissions`); this module only rewrites a body it is handed, and does not know
//! any route.

use rand::Rng;
use serde_json::{json, Map, Value};

/// An enum value no site has sent yet.
const NEW_ENUM: &str = "SOMETHING_NEW_2031";

/// A field no spec knows, added beside the known ones.
const EXTRA_FIELD: &str = "someFieldAddedLater";

/// Fields a site may leave out, and nothing a crawler needs is in.
const OPTIONAL: &[&str] = &[
    "self",
    "description",
    "_expandable",
    "avatarUrls",
    "iconUrl",
    "timeZone",
    "locale",
    "expand",
    "message",
];

/// Ids nothing a crawler reads depends on: sites send `null` or `-1` in them.
const UNUSED_IDS: &[&str] = &["homepageId", "lastOwnerId", "avatarId", "resolutionLastModifierId"];

/// Enum fields nothing a crawler reads depends on.
const UNUSED_ENUMS: &[&str] = &["colorName", "mediaTypeDescription"];

/// Counts and offsets sent as text by some sites.
const COUNTS: &[&str] = &["startAt", "maxResults", "total", "start", "limit", "size"];

/// Share of the fields of a varied answer that vary, each way.
const SHARE: f64 = 0.3;

/// What [`vary`] changed in one answer.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Varied {
    /// Ids and counts sent as the other JSON type.
    pub flipped: u64,
    /// Optional fields left out.
    pub dropped: u64,
    /// Unused ids sent as `null` or `-1`.
    pub sentinels: u64,
    /// Unused enum fields sent with a value no spec lists.
    pub unknown_enums: u64,
    /// Unknown fields added.
    pub extra: u64,
}

impl Varied {
    /// How many changes in all.
    pub fn total(&self) -> u64 {
        self.flipped + self.dropped + self.sentinels + self.unknown_enums + self.extra
    }
}

/// Rewrites `value` the way sites vary, without changing its meaning (see the module documentation).
pub fn vary(value: &mut Value, rng: &mut impl Rng) -> Varied {
    let mut varied = Varied::default();
    vary_into(value, rng, &mut varied);
    varied
}

fn vary_into(value: &mut Value, rng: &mut impl Rng, varied: &mut Varied) {
    match value {
        Value::Object(map) => {
            vary_object(map, rng, varied);
            for child in map.values_mut() {
                vary_into(child, rng, varied);
            }
        }
        Value::Array(items) => {
            for item in items {
                vary_into(item, rng, varied);
            }
        }
        _ => {}
    }
}

fn vary_object(map: &mut Map<String, Value>, rng: &mut impl Rng, varied: &mut Varied) {
    // An object that maps names to links (`GET /project/{id}/role`) is data, not a record: a field added
    // there would be a new entry, so only records get one.
    let record = map.values().any(|v| !v.is_string());
    let keys: Vec<String> = map.keys().cloned().collect();
    for key in keys {
        if !rng.gen_bool(SHARE) {
            continue;
        }
        let Some(field) = map.get_mut(&key) else { continue };
        // An issue's `description` is its text (an ADF document), not a note about a record.
        if OPTIONAL.contains(&key.as_str()) && !(key == "description" && field.is_object()) {
            map.remove(&key);
            varied.dropped += 1;
        } else if UNUSED_IDS.contains(&key.as_str()) {
            *field = if rng.gen_bool(0.5) { Value::Null } else { json!(-1) };
            varied.sentinels += 1;
        } else if UNUSED_ENUMS.contains(&key.as_str()) && field.is_string() {
            *field = json!(NEW_ENUM);
            varied.unknown_enums += 1;
        } else if is_id_key(&key) || COUNTS.contains(&key.as_str()) {
            if let Some(flipped) = flip(field, is_id_key(&key)) {
                *field = flipped;
                varied.flipped += 1;
            }
        }
    }
    if record && !map.is_empty() && rng.gen_bool(SHARE) {
        map.insert(EXTRA_FIELD.into(), json!({"nested": [1, "two", null], "enabled": false}));
        varied.extra += 1;
    }
}

/// `id`, or a key naming an id (`spaceId`, `issueSecurityLevelId`).
fn is_id_key(key: &str) -> bool {
    key == "id" || key.ends_with("Id")
}

/// A number as text, or digits as a number (ids only: a count sent as text stays text).
fn flip(value: &Value, text_to_number: bool) -> Option<Value> {
    match value {
        Value::Number(n) if n.is_u64() => Some(json!(n.to_string())),
        Value::String(s)
            if text_to_number && !s.is_empty() && s.len() < 16 && s.bytes().all(|b| b.is_ascii_digit()) =>
        {
            // Leading zeros would not survive the round trip.
            s.parse::<u64>().ok().filter(|n| n.to_string() == *s).map(|n| json!(n))
        }
        _ => None,
    }
}

/// Fields a permission depends on, as (object key that holds it, field): a holder's or principal's type,
/// and the ids naming who a grant, member, restriction, actor or visibility admits.
const PERMISSION_FIELDS: &[(&str, &str)] = &[
    ("holder", "type"),
    ("holder", "parameter"),
    ("holder", "value"),
    ("principal", "type"),
    ("principal", "id"),
    ("principal", "principalType"),
    ("principal", "principalId"),
    ("visibility", "type"),
    ("visibility", "identifier"),
    ("visibility", "value"),
    ("actorGroup", "groupId"),
    ("actorUser", "accountId"),
    ("security", "id"),
];

/// Garbles fields a permission depends on (see the module documentation), each with probability `share`;
/// returns how many. A garbled type is an enum value no spec lists; a garbled id is `-1`, or `null` where
/// `null` cannot mean something else (`nullable_when_garbled`).
pub fn garble(value: &mut Value, share: f64, rng: &mut impl Rng) -> u64 {
    let mut count = 0;
    garble_into(value, None, share, rng, &mut count);
    count
}

fn garble_into(value: &mut Value, parent: Option<&str>, share: f64, rng: &mut impl Rng, count: &mut u64) {
    match value {
        Value::Object(map) => {
            if let Some(parent) = parent {
                for (_, field) in PERMISSION_FIELDS.iter().filter(|(p, _)| *p == parent) {
                    let Some(v) = map.get_mut(*field) else { continue };
                    if v.is_null() || !rng.gen_bool(share) {
                        continue;
                    }
                    *v = if field.ends_with("ype") {
                        json!(NEW_ENUM)
                    } else if nullable_when_garbled(parent, field) && rng.gen_bool(0.5) {
                        Value::Null
                    } else {
                        json!(-1)
                    };
                    *count += 1;
                }
            }
            for (key, child) in map.iter_mut() {
                garble_into(child, Some(key.as_str()), share, rng, count);
            }
        }
        Value::Array(items) => {
            for item in items {
                // Items of a list belong to the object that holds the list (`"group": {"results": [..]}`).
                garble_into(item, parent, share, rng, count);
            }
        }
        _ => {}
    }
}

/// Whether `null` in this field can only be garbage. An issue's level and a holder's parameter are not:
/// `"security": null` is an issue without a level, and an `applicationRole` holder without a parameter
/// admits the users of every Jira application, so garbling sends `-1` there.
fn nullable_when_garbled(parent: &str, field: &str) -> bool {
    !matches!((parent, field), ("security", _) | ("holder", "parameter"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;
    use rand_chacha::ChaCha8Rng;

    #[test]
    fn flips_are_exact_round_trips() {
        let cases = [
            (json!("10001"), true, Some(json!(10001))),
            (json!(10001), true, Some(json!("10001"))),
            (json!(25), false, Some(json!("25"))),
            (json!("25"), false, None),
            (json!("007"), true, None),
            (json!("abc"), true, None),
            (json!(-1), true, None),
            (json!(""), true, None),
        ];
        for (value, id, want) in cases {
            assert_eq!(flip(&value, id), want, "{value}");
        }
    }

    #[test]
    fn variance_keeps_every_field_it_may_not_touch() {
        let original = json!({
            "results": [{"id": "65537", "title": "Plan", "status": "current", "homepageId": "9",
                         "self": "x", "version": {"number": 3, "message": "m"}}],
            "roles": {"Developers": "https://site/rest/api/3/project/1/role/10001"},
            "start": 0, "limit": 25,
        });
        let mut rng = ChaCha8Rng::seed_from_u64(7);
        let mut changed = 0;
        for _ in 0..50 {
            let mut value = original.clone();
            changed += vary(&mut value, &mut rng).total();
            let item = &value["results"][0];
            assert_eq!(item["title"], "Plan");
            assert_eq!(item["status"], "current");
            assert!(item["id"] == json!("65537") || item["id"] == json!(65537), "{item}");
            assert!(item["version"]["number"] == json!(3) || item["version"]["number"] == json!("3"));
            // A map of names to links gets no new entry.
            assert_eq!(value["roles"].as_object().map(|m| m.len()), Some(1), "{value}");
        }
        assert!(changed > 50, "only {changed} changes in 50 answers");
    }

    #[test]
    fn garbling_touches_permission_fields_only_and_never_nulls_a_level() {
        let original = json!({
            "permissions": [{"id": 7, "permission": "BROWSE_PROJECTS",
                             "holder": {"type": "group", "parameter": "eng", "value": "g-1"}}],
            "fields": {"security": {"id": "5001", "name": "Staff"}, "summary": "s"},
        });
        let mut rng = ChaCha8Rng::seed_from_u64(3);
        let mut value = original.clone();
        assert_eq!(garble(&mut value, 1.0, &mut rng), 4);
        let holder = &value["permissions"][0]["holder"];
        assert_eq!(holder["type"], NEW_ENUM);
        assert!(holder["value"].is_null() || holder["value"] == json!(-1));
        assert_eq!(value["fields"]["security"]["id"], json!(-1));
        assert_eq!(value["permissions"][0]["id"], json!(7));
        assert_eq!(value["fields"]["summary"], "s");
        let mut untouched = original.clone();
        assert_eq!(garble(&mut untouched, 0.0, &mut rng), 0);
        assert_eq!(untouched, original);
    }
}

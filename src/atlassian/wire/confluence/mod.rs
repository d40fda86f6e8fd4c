//! Confluence Cloud wire types: the REST v2 shapes (`/wiki/api/v2`) in [`v2`] (`v2.rs`) and the v1 shapes
//! still needed (`/wiki/rest/api`: restrictions, CQL content search, groups, users) in [`v1`] (`v1.rs`).
//!
//! One struct per response shape, named after the spec's schema where one exists. Each serialises exactly
//! as the spec spells it (camelCase, `_links`, absent optionals skipped) because the simulator builds its
//! responses from them, and deserialises leniently because the crawler reads real sites with them: fields a
//! real site may omit or send as `null` are `Option` or fall back to their default, numeric ids are accepted
//! where strings are promised, and unknown fields are ignored.
//!
//! Status, type and principal kinds stay strings: Atlassian adds values (folders, whiteboards, new space
//! types) without notice, and the crawler decides what an unknown value means at its edge.
//!
//! Deliberately absent: anything the crawler does not read (likes, operations, properties, page versions).

pub mod v1;
pub mod v2;

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn nulls_and_numbers_are_accepted_where_strings_are_promised() {
        let page: v2::Page = serde_json::from_value(json!({
            "id": 7700526, "status": null, "title": "T", "spaceId": 98306, "parentId": null,
            "parentType": null, "position": null, "ownerId": null, "version": null, "_links": null,
            "somethingNew": {"x": 1}
        }))
        .expect("lenient page");
        assert_eq!(page.id, "7700526");
        assert_eq!(page.space_id, "98306");
        assert_eq!(page.status, "");
        assert_eq!(page.parent_id, None);
        assert_eq!(page.links, v2::EntityLinks::default());
    }

    #[test]
    fn absent_optionals_are_not_serialised() {
        let page = v2::Page { id: "1".into(), status: "current".into(), ..Default::default() };
        let value = serde_json::to_value(&page).expect("serialise");
        let keys: Vec<&str> = value.as_object().expect("object").keys().map(String::as_str).collect();
        assert_eq!(keys, ["_links", "id", "spaceId", "status", "title"]);
    }

    #[test]
    fn listing_without_links_parses_as_last_page() {
        let page: v2::MultiEntityResult<v2::Label> =
            serde_json::from_value(json!({"results": [{"id": "1", "name": "x", "prefix": "global"}]}))
                .expect("listing");
        assert_eq!(page.results.len(), 1);
        assert_eq!(page.links.next, None);
    }

    #[test]
    fn v1_user_with_null_email_and_unknown_type() {
        let user: v1::User = serde_json::from_value(json!({
            "type": "unknown", "accountId": "gone", "email": null, "displayName": null
        }))
        .expect("user");
        assert_eq!(user.kind, "unknown");
        assert_eq!(user.email, None);
    }
}

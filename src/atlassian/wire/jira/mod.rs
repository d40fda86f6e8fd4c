//! Jira Cloud platform REST v3 wire types: the JSON of the endpoints a permission-aware crawler reads.
//!
//! One struct per response shape of the official spec (`SearchAndReconcileResults`, `IssueBean`,
//! `PageOfComments`, `PageBean<T>`, `PermissionScheme`, `ProjectRole`, `SecurityScheme`, …). Field names
//! and JSON types follow the spec, so the simulator serialises them into responses that validate against
//! it; optional members are skipped rather than written as `null`.
//!
//! Reading is lenient, because real sites and the spec's own examples disagree with the schemas: ids
//! arrive as numbers or strings, `null` appears where a list or flag is promised, `fields.comment` is an
//! object on real sites and a bare array in the examples, time stamps are sometimes numbers. Unknown
//! members are ignored, and unknown issue fields (custom fields) are kept in [`IssueFields::other`].
//!
//! One file per topic, behind this flat facade (`wire::jira::IssueBean`): `search.rs` (search, count and
//! bulk fetch bodies and pages), `issues.rs` (an issue and its fields, attachments, change logs, the field
//! list), `comments.rs` (comments and their visibility), `projects.rs` (projects, permission schemes and
//! their holders, issue security schemes and levels), `users.rs` (users, groups, project roles and their
//! actors, application roles), `service_desk.rs` (Jira Service Management: service desks, organisations,
//! their users, and the values of its custom fields on an issue). This file holds what they share: the offset page envelope, avatars, the
//! error body, Jira's time stamps.
//!
//! These are wire shapes only: no conversion to permdex's own types and no HTTP happen here.

use std::collections::BTreeMap;

use chrono::{DateTime, FixedOffset};
use serde::{Deserialize, Serialize};

mod comments;
mod issues;
mod projects;
mod search;
mod service_desk;
mod users;

pub use comments::{Comment, CommentField, CommentListRequest, PageOfComments, Visibility, VisibilityType};
pub use issues::{
    AttachmentMetadata, ChangeItem, Changelog, FieldDetails, IssueAttachment, IssueBean, IssueChangeLog,
    IssueFields, IssueTypeDetails, JsonTypeBean, Priority, StatusCategory, StatusDetails,
};
pub use projects::{
    BulkPermissionGrants, BulkProjectPermissionGrants, HolderType, PermissionGrant, PermissionGrants,
    PermissionHolder, PermissionScheme, PermissionSchemes, Project, ProjectSecurityLevels, SecurityLevel,
    SecurityLevelMember, SecurityScheme, SecuritySchemeProject,
};
pub use search::{
    BulkChangelogResults, BulkFetchRequest, BulkIssueResults, IssueError, JqlCountRequest, JqlCountResults,
    SearchAndReconcileResults, SearchRequest,
};
pub use service_desk::{
    CustomerRequestType, Organization, PagedDto, PagedLinks, RequestType, SelfLink, ServiceDesk,
    ServiceDeskUser, ORGANIZATIONS_FIELD, PARTICIPANTS_FIELD, REQUEST_TYPE_FIELD,
};
pub use users::{
    role_id_from_url, ActorGroup, ActorUser, ApplicationRole, GroupName, ProjectRole, ProjectRoles,
    RoleActor, RoleActorType, RoleUrls, User,
};

/// Parses Jira's time stamp format `2021-02-26T01:45:03.821+0000`, and RFC 3339 as a fallback.
pub fn parse_jira_time(text: &str) -> Option<DateTime<FixedOffset>> {
    DateTime::parse_from_str(text, "%Y-%m-%dT%H:%M:%S%.f%z")
        .ok()
        .or_else(|| DateTime::parse_from_rfc3339(text).ok())
}

/// Jira's offset-paginated envelope. Stop on `is_last == Some(true)` or an empty `values`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", bound(deserialize = "T: serde::de::DeserializeOwned + Default"))]
pub struct PageBean<T> {
    #[serde(
        default,
        deserialize_with = "lenient::or_default",
        rename = "self",
        skip_serializing_if = "Option::is_none"
    )]
    pub self_url: Option<String>,
    #[serde(default, deserialize_with = "lenient::or_default", skip_serializing_if = "Option::is_none")]
    pub next_page: Option<String>,
    #[serde(default, deserialize_with = "lenient::opt_int", skip_serializing_if = "Option::is_none")]
    pub max_results: Option<u32>,
    #[serde(default, deserialize_with = "lenient::opt_int", skip_serializing_if = "Option::is_none")]
    pub start_at: Option<u64>,
    #[serde(default, deserialize_with = "lenient::opt_int", skip_serializing_if = "Option::is_none")]
    pub total: Option<u64>,
    #[serde(default, deserialize_with = "lenient::or_default", skip_serializing_if = "Option::is_none")]
    pub is_last: Option<bool>,
    #[serde(default = "Vec::new", deserialize_with = "lenient::items")]
    pub values: Vec<T>,
}

/// Avatar URLs by size (`16x16`, `24x24`, `32x32`, `48x48`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct AvatarUrls {
    #[serde(
        default,
        deserialize_with = "lenient::or_default",
        rename = "16x16",
        skip_serializing_if = "Option::is_none"
    )]
    pub x16: Option<String>,
    #[serde(
        default,
        deserialize_with = "lenient::or_default",
        rename = "24x24",
        skip_serializing_if = "Option::is_none"
    )]
    pub x24: Option<String>,
    #[serde(
        default,
        deserialize_with = "lenient::or_default",
        rename = "32x32",
        skip_serializing_if = "Option::is_none"
    )]
    pub x32: Option<String>,
    #[serde(
        default,
        deserialize_with = "lenient::or_default",
        rename = "48x48",
        skip_serializing_if = "Option::is_none"
    )]
    pub x48: Option<String>,
}

/// Jira's error body: `{"errorMessages": [...], "errors": {field: message}, "status": n}`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ErrorCollection {
    #[serde(default, deserialize_with = "lenient::items")]
    pub error_messages: Vec<String>,
    #[serde(default, deserialize_with = "lenient::or_default")]
    pub errors: BTreeMap<String, String>,
    #[serde(default, deserialize_with = "lenient::opt_int", skip_serializing_if = "Option::is_none")]
    pub status: Option<i32>,
}

/// The shared field readers, and the one only Jira needs.
mod lenient {
    pub use super::super::lenient::*;

    use serde::de::{DeserializeOwned, Deserializer, Error};
    use serde::Deserialize;
    use serde_json::Value;

    use super::{Comment, CommentField};

    /// `fields.comment`: the page object real sites send, or a bare array of comments (each item read
    /// leniently); anything else is absent.
    pub fn comment_field<'de, D: Deserializer<'de>>(d: D) -> Result<Option<CommentField>, D::Error> {
        fn parse<T: DeserializeOwned, E: Error>(v: Value) -> Result<T, E> {
            serde_json::from_value(v).map_err(E::custom)
        }
        Ok(match Value::deserialize(d)? {
            Value::Array(items) => {
                let comments: Vec<Comment> =
                    items.into_iter().map(|v| parse::<Comment, D::Error>(v).unwrap_or_default()).collect();
                Some(CommentField { total: Some(comments.len() as u64), comments, ..Default::default() })
            }
            object @ Value::Object(_) => parse::<CommentField, D::Error>(object).ok(),
            _ => None,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn ids_read_from_strings_and_numbers() {
        let cases = [
            (json!({"id": "10", "issueSecurityLevelId": 20}), ("10", "20")),
            (json!({"id": 10, "issueSecurityLevelId": "20"}), ("10", "20")),
            (json!({"id": null, "issueSecurityLevelId": "20"}), ("", "20")),
        ];
        for (input, (id, level)) in cases {
            let m: SecurityLevelMember = serde_json::from_value(input.clone()).expect("parses");
            assert_eq!((m.id.as_str(), m.issue_security_level_id.as_str()), (id, level), "{input}");
        }
        let grant: PermissionGrant =
            serde_json::from_value(json!({"id": "42", "permission": "X"})).expect("parses");
        assert_eq!(grant.id, 42);
        // An id that is no number reads as the "none" id rather than failing the grant (or its scheme).
        for odd in [json!("x42"), json!(-1), json!(null), json!({"id": 1})] {
            let grant: PermissionGrant =
                serde_json::from_value(json!({"id": odd, "permission": "BROWSE_PROJECTS"})).expect("parses");
            assert_eq!((grant.id, grant.permission.as_str()), (0, "BROWSE_PROJECTS"), "{odd}");
        }
    }

    #[test]
    fn double_option_tells_absent_from_null() {
        let absent: IssueFields = serde_json::from_value(json!({})).expect("parses");
        let null: IssueFields = serde_json::from_value(json!({"assignee": null})).expect("parses");
        let set: IssueFields =
            serde_json::from_value(json!({"assignee": {"accountId": "a"}})).expect("parses");
        assert_eq!(absent.assignee, None);
        assert_eq!(null.assignee, Some(None));
        assert_eq!(set.assignee.flatten().map(|u| u.account_id), Some("a".to_string()));
        assert_eq!(serde_json::to_value(&null).expect("serialises"), json!({"assignee": null}));
        assert_eq!(serde_json::to_value(&absent).expect("serialises"), json!({}));
    }

    #[test]
    fn comment_field_reads_object_and_array() {
        let object =
            json!({"comment": {"comments": [{"id": "1"}], "total": 5, "maxResults": 20, "startAt": 0}});
        let array = json!({"comment": [{"id": 1}, {"id": "2"}]});
        let a: IssueFields = serde_json::from_value(object).expect("parses");
        let b: IssueFields = serde_json::from_value(array).expect("parses");
        let a = a.comment.expect("present");
        let b = b.comment.expect("present");
        assert_eq!((a.comments.len(), a.total), (1, Some(5)));
        assert_eq!(b.comments.iter().map(|c| c.id.as_str()).collect::<Vec<_>>(), ["1", "2"]);
    }

    #[test]
    fn unknown_fields_are_kept_in_other() {
        let f: IssueFields = serde_json::from_value(
            json!({"summary": "s", "customfield_10010": {"type": "doc"}, "updated": 1}),
        )
        .expect("parses");
        assert_eq!(f.summary.as_deref(), Some("s"));
        assert_eq!(f.updated.as_deref(), Some("1"));
        assert_eq!(f.other.get("customfield_10010"), Some(&json!({"type": "doc"})));
    }

    #[test]
    fn type_enums_round_trip_and_keep_unknowns() {
        for (text, kind) in [
            ("group", HolderType::Group),
            ("projectRole", HolderType::ProjectRole),
            ("sd.customer.portal.only", HolderType::CustomerPortalOnly),
            ("someHolderNotYetKnown", HolderType::Other("someHolderNotYetKnown".into())),
        ] {
            let h: PermissionHolder = serde_json::from_value(json!({"type": text})).expect("parses");
            assert_eq!(h.kind, kind);
            assert_eq!(serde_json::to_value(&h).expect("serialises"), json!({"type": text}));
        }
        let h: PermissionHolder = serde_json::from_value(json!({"type": "projectrole"})).expect("parses");
        assert_eq!(h.kind, HolderType::ProjectRole);
        let v: Visibility = serde_json::from_value(json!({"type": "team", "value": "x"})).expect("parses");
        assert_eq!(v.kind, VisibilityType::Other("team".into()));
    }

    #[test]
    fn jira_times_parse_in_both_formats() {
        let cases = [
            ("2021-02-26T01:45:03.821+0000", Some(1_614_303_903_821)),
            ("2021-02-26T11:45:03.821+1000", Some(1_614_303_903_821)),
            ("2021-02-26T01:45:03.821Z", Some(1_614_303_903_821)),
            ("yesterday", None),
        ];
        for (text, ms) in cases {
            assert_eq!(parse_jira_time(text).map(|t| t.timestamp_millis()), ms, "{text}");
        }
    }

    #[test]
    fn role_ids_come_from_urls() {
        assert_eq!(
            role_id_from_url("https://x.atlassian.net/rest/api/3/project/MKY/role/10360"),
            Some(10360)
        );
        assert_eq!(role_id_from_url("https://x/role/"), None);
    }
}

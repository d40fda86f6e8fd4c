//! Confluence Cloud wire types: the REST v2 shapes (`/wiki/api/v2`) in [`v2`] and the v1 shapes still
//! needed (`/wiki/rest/api`: restrictions, CQL content search, groups, users) in [`v1`].
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

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::lenient;

/// Confluence REST v2 (`/wiki/api/v2`).
pub mod v2 {
    use super::*;

    /// `_links` of a cursor listing: `next` is relative and already starts with `/wiki/api/v2/`.
    #[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
    pub struct MultiEntityLinks {
        #[serde(default, deserialize_with = "lenient::or_default", skip_serializing_if = "Option::is_none")]
        pub next: Option<String>,
        #[serde(default, deserialize_with = "lenient::or_default", skip_serializing_if = "Option::is_none")]
        pub base: Option<String>,
    }

    /// Every v2 listing: one page of `results` and the link to the next page, absent on the last one.
    #[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
    #[serde(bound(deserialize = "T: serde::de::DeserializeOwned + Default"))]
    pub struct MultiEntityResult<T> {
        #[serde(default, deserialize_with = "lenient::items")]
        pub results: Vec<T>,
        #[serde(rename = "_links", default, deserialize_with = "lenient::or_default")]
        pub links: MultiEntityLinks,
    }

    /// `_links` of a single entity: `base` is only present when the entity is the whole response.
    #[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
    pub struct EntityLinks {
        #[serde(default, deserialize_with = "lenient::or_default", skip_serializing_if = "Option::is_none")]
        pub webui: Option<String>,
        #[serde(default, deserialize_with = "lenient::or_default", skip_serializing_if = "Option::is_none")]
        pub editui: Option<String>,
        #[serde(default, deserialize_with = "lenient::or_default", skip_serializing_if = "Option::is_none")]
        pub tinyui: Option<String>,
        /// Attachments only; API tokens get 401 from this path (`/download/attachments/…`).
        #[serde(default, deserialize_with = "lenient::or_default", skip_serializing_if = "Option::is_none")]
        pub download: Option<String>,
        #[serde(default, deserialize_with = "lenient::or_default", skip_serializing_if = "Option::is_none")]
        pub base: Option<String>,
    }

    /// A content representation (`storage`, `atlas_doc_format`, `view`, `plain`).
    #[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
    pub struct BodyType {
        #[serde(default, deserialize_with = "lenient::or_default")]
        pub representation: String,
        #[serde(default, deserialize_with = "lenient::or_default")]
        pub value: String,
    }

    /// `body` of pages, blog posts and comments: only the representations asked for with `body-format`.
    #[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
    pub struct Body {
        #[serde(default, deserialize_with = "lenient::or_default", skip_serializing_if = "Option::is_none")]
        pub storage: Option<BodyType>,
        #[serde(default, deserialize_with = "lenient::or_default", skip_serializing_if = "Option::is_none")]
        pub atlas_doc_format: Option<BodyType>,
        #[serde(default, deserialize_with = "lenient::or_default", skip_serializing_if = "Option::is_none")]
        pub view: Option<BodyType>,
    }

    /// The version of a page, blog post, comment or attachment.
    #[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
    #[serde(rename_all = "camelCase")]
    pub struct Version {
        #[serde(default, deserialize_with = "lenient::or_default", skip_serializing_if = "Option::is_none")]
        pub created_at: Option<String>,
        #[serde(default, deserialize_with = "lenient::or_default", skip_serializing_if = "Option::is_none")]
        pub message: Option<String>,
        #[serde(default, deserialize_with = "lenient::int")]
        pub number: u32,
        #[serde(default, deserialize_with = "lenient::or_default")]
        pub minor_edit: bool,
        #[serde(default, deserialize_with = "lenient::or_default", skip_serializing_if = "Option::is_none")]
        pub author_id: Option<String>,
    }

    /// A label: `prefix` is `global`, `my`, `team` or `system`.
    #[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
    pub struct Label {
        #[serde(default, deserialize_with = "lenient::id")]
        pub id: String,
        #[serde(default, deserialize_with = "lenient::or_default")]
        pub name: String,
        #[serde(default, deserialize_with = "lenient::or_default")]
        pub prefix: String,
    }

    #[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
    #[serde(rename_all = "camelCase")]
    pub struct OptionalFieldMeta {
        #[serde(default, deserialize_with = "lenient::or_default")]
        pub has_more: bool,
        #[serde(default, deserialize_with = "lenient::or_default", skip_serializing_if = "Option::is_none")]
        pub cursor: Option<String>,
    }

    #[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
    pub struct OptionalFieldLinks {
        #[serde(
            deserialize_with = "lenient::or_default",
            rename = "self",
            default,
            skip_serializing_if = "Option::is_none"
        )]
        pub self_link: Option<String>,
    }

    /// An `include-*` field of a single entity (labels, properties, …): the first results and whether more exist.
    #[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
    #[serde(bound(deserialize = "T: serde::de::DeserializeOwned + Default"))]
    pub struct OptionalField<T> {
        #[serde(default, deserialize_with = "lenient::items")]
        pub results: Vec<T>,
        #[serde(default, deserialize_with = "lenient::or_default", skip_serializing_if = "Option::is_none")]
        pub meta: Option<OptionalFieldMeta>,
        #[serde(
            deserialize_with = "lenient::or_default",
            rename = "_links",
            default,
            skip_serializing_if = "Option::is_none"
        )]
        pub links: Option<OptionalFieldLinks>,
    }

    #[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
    #[serde(rename_all = "camelCase")]
    pub struct SpaceIcon {
        #[serde(default, deserialize_with = "lenient::or_default", skip_serializing_if = "Option::is_none")]
        pub path: Option<String>,
        #[serde(default, deserialize_with = "lenient::or_default", skip_serializing_if = "Option::is_none")]
        pub api_download_link: Option<String>,
    }

    /// A space's description, in the representations asked for with `description-format`.
    #[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
    pub struct SpaceDescription {
        #[serde(default, deserialize_with = "lenient::or_default", skip_serializing_if = "Option::is_none")]
        pub plain: Option<BodyType>,
        #[serde(default, deserialize_with = "lenient::or_default", skip_serializing_if = "Option::is_none")]
        pub view: Option<BodyType>,
    }

    /// A space (`SpaceBulk` in listings, `SpaceSingle` from `GET /spaces/{id}`).
    #[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
    #[serde(rename_all = "camelCase")]
    pub struct Space {
        #[serde(default, deserialize_with = "lenient::id")]
        pub id: String,
        #[serde(default, deserialize_with = "lenient::or_default")]
        pub key: String,
        #[serde(default, deserialize_with = "lenient::or_default")]
        pub name: String,
        /// `global`, `personal`, `collaboration`, `knowledge_base`, …
        #[serde(rename = "type", default, deserialize_with = "lenient::or_default")]
        pub kind: String,
        /// `current` or `archived`.
        #[serde(default, deserialize_with = "lenient::or_default")]
        pub status: String,
        #[serde(default, deserialize_with = "lenient::or_default", skip_serializing_if = "Option::is_none")]
        pub author_id: Option<String>,
        #[serde(default, deserialize_with = "lenient::or_default", skip_serializing_if = "Option::is_none")]
        pub space_owner_id: Option<String>,
        #[serde(default, deserialize_with = "lenient::or_default", skip_serializing_if = "Option::is_none")]
        pub current_active_alias: Option<String>,
        #[serde(default, deserialize_with = "lenient::or_default", skip_serializing_if = "Option::is_none")]
        pub created_at: Option<String>,
        #[serde(default, skip_serializing_if = "Option::is_none", deserialize_with = "lenient::opt_id")]
        pub homepage_id: Option<String>,
        #[serde(default, deserialize_with = "lenient::or_default", skip_serializing_if = "Option::is_none")]
        pub description: Option<SpaceDescription>,
        #[serde(default, deserialize_with = "lenient::or_default", skip_serializing_if = "Option::is_none")]
        pub icon: Option<SpaceIcon>,
        #[serde(rename = "_links", default, deserialize_with = "lenient::or_default")]
        pub links: EntityLinks,
    }

    /// Who a space permission is granted to: `type` is `user`, `group` (by group id) or `role`
    /// (`ANONYMOUS` for anonymous access).
    #[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
    pub struct PermissionPrincipal {
        #[serde(rename = "type", default, deserialize_with = "lenient::or_default")]
        pub kind: String,
        #[serde(default, deserialize_with = "lenient::id")]
        pub id: String,
    }

    #[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
    #[serde(rename_all = "camelCase")]
    pub struct PermissionOperation {
        /// `read`, `create`, `administer`, …
        #[serde(default, deserialize_with = "lenient::or_default")]
        pub key: String,
        /// `space`, `page`, `blogpost`, …
        #[serde(default, deserialize_with = "lenient::or_default")]
        pub target_type: String,
    }

    /// One entry of `GET /spaces/{id}/permissions` (`SpacePermissionAssignment`).
    #[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
    pub struct SpacePermission {
        #[serde(default, deserialize_with = "lenient::id")]
        pub id: String,
        #[serde(default, deserialize_with = "lenient::or_default")]
        pub principal: PermissionPrincipal,
        #[serde(default, deserialize_with = "lenient::or_default")]
        pub operation: PermissionOperation,
    }

    #[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
    #[serde(rename_all = "camelCase")]
    pub struct RolePrincipal {
        /// `USER`, `GROUP` or `ACCESS_CLASS`.
        #[serde(default, deserialize_with = "lenient::or_default")]
        pub principal_type: String,
        #[serde(default, deserialize_with = "lenient::id")]
        pub principal_id: String,
    }

    /// One entry of `GET /spaces/{id}/role-assignments` on sites with role-based space access.
    #[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
    #[serde(rename_all = "camelCase")]
    pub struct SpaceRoleAssignment {
        #[serde(default, deserialize_with = "lenient::or_default")]
        pub principal: RolePrincipal,
        #[serde(default, deserialize_with = "lenient::id")]
        pub role_id: String,
    }

    /// `GET /space-role-mode`: `PRE_ROLES`, `ROLES_TRANSITION` or `ROLES`.
    #[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
    pub struct SpaceRoleMode {
        #[serde(default, deserialize_with = "lenient::or_default")]
        pub mode: String,
    }

    /// A space role (`GET /space-roles`, `/space-roles/{id}`): `type` is `SYSTEM` or `CUSTOM`;
    /// `spacePermissions` are space permission ids (`read/space` views the space).
    #[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
    #[serde(rename_all = "camelCase")]
    pub struct SpaceRole {
        #[serde(default, deserialize_with = "lenient::id")]
        pub id: String,
        #[serde(
            deserialize_with = "lenient::or_default",
            rename = "type",
            default,
            skip_serializing_if = "Option::is_none"
        )]
        pub kind: Option<String>,
        #[serde(default, deserialize_with = "lenient::or_default")]
        pub name: String,
        #[serde(default, deserialize_with = "lenient::or_default", skip_serializing_if = "Option::is_none")]
        pub description: Option<String>,
        #[serde(default, deserialize_with = "lenient::items")]
        pub space_permissions: Vec<String>,
        #[serde(
            deserialize_with = "lenient::or_default",
            rename = "_links",
            default,
            skip_serializing_if = "Option::is_none"
        )]
        pub links: Option<EntityLinks>,
    }

    /// One space permission a role can hold (`GET /space-permissions`).
    #[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
    #[serde(rename_all = "camelCase")]
    pub struct SpacePermissionDefinition {
        #[serde(default, deserialize_with = "lenient::id")]
        pub id: String,
        #[serde(default, deserialize_with = "lenient::or_default", skip_serializing_if = "Option::is_none")]
        pub display_name: Option<String>,
        #[serde(default, deserialize_with = "lenient::or_default", skip_serializing_if = "Option::is_none")]
        pub description: Option<String>,
        #[serde(default, deserialize_with = "lenient::items")]
        pub required_permission_ids: Vec<String>,
    }

    /// A page (`PageBulk` in listings, `PageSingle` from `GET /pages/{id}`).
    #[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
    #[serde(rename_all = "camelCase")]
    pub struct Page {
        #[serde(default, deserialize_with = "lenient::id")]
        pub id: String,
        /// `current`, `archived`, `draft`, `trashed`, …
        #[serde(default, deserialize_with = "lenient::or_default")]
        pub status: String,
        #[serde(default, deserialize_with = "lenient::or_default")]
        pub title: String,
        #[serde(default, deserialize_with = "lenient::id")]
        pub space_id: String,
        /// Absent (or `null`) for a page at the root of its space.
        #[serde(default, skip_serializing_if = "Option::is_none", deserialize_with = "lenient::opt_id")]
        pub parent_id: Option<String>,
        /// `page`, `folder`, `whiteboard`, `database` or `embed`.
        #[serde(default, deserialize_with = "lenient::or_default", skip_serializing_if = "Option::is_none")]
        pub parent_type: Option<String>,
        #[serde(default, deserialize_with = "lenient::opt_int", skip_serializing_if = "Option::is_none")]
        pub position: Option<i64>,
        #[serde(default, deserialize_with = "lenient::or_default", skip_serializing_if = "Option::is_none")]
        pub author_id: Option<String>,
        #[serde(default, deserialize_with = "lenient::or_default", skip_serializing_if = "Option::is_none")]
        pub owner_id: Option<String>,
        #[serde(default, deserialize_with = "lenient::or_default", skip_serializing_if = "Option::is_none")]
        pub last_owner_id: Option<String>,
        #[serde(default, deserialize_with = "lenient::or_default", skip_serializing_if = "Option::is_none")]
        pub subtype: Option<String>,
        #[serde(default, deserialize_with = "lenient::or_default", skip_serializing_if = "Option::is_none")]
        pub created_at: Option<String>,
        #[serde(default, deserialize_with = "lenient::or_default", skip_serializing_if = "Option::is_none")]
        pub version: Option<Version>,
        #[serde(default, deserialize_with = "lenient::or_default", skip_serializing_if = "Option::is_none")]
        pub body: Option<Body>,
        #[serde(default, deserialize_with = "lenient::or_default", skip_serializing_if = "Option::is_none")]
        pub labels: Option<OptionalField<Label>>,
        #[serde(rename = "_links", default, deserialize_with = "lenient::or_default")]
        pub links: EntityLinks,
    }

    /// A blog post (`BlogPostBulk`, `BlogPostSingle`). Blog posts have no parent.
    #[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
    #[serde(rename_all = "camelCase")]
    pub struct BlogPost {
        #[serde(default, deserialize_with = "lenient::id")]
        pub id: String,
        #[serde(default, deserialize_with = "lenient::or_default")]
        pub status: String,
        #[serde(default, deserialize_with = "lenient::or_default")]
        pub title: String,
        #[serde(default, deserialize_with = "lenient::id")]
        pub space_id: String,
        #[serde(default, deserialize_with = "lenient::or_default", skip_serializing_if = "Option::is_none")]
        pub author_id: Option<String>,
        #[serde(default, deserialize_with = "lenient::or_default", skip_serializing_if = "Option::is_none")]
        pub created_at: Option<String>,
        #[serde(default, deserialize_with = "lenient::or_default", skip_serializing_if = "Option::is_none")]
        pub version: Option<Version>,
        #[serde(default, deserialize_with = "lenient::or_default", skip_serializing_if = "Option::is_none")]
        pub body: Option<Body>,
        #[serde(default, deserialize_with = "lenient::or_default", skip_serializing_if = "Option::is_none")]
        pub labels: Option<OptionalField<Label>>,
        #[serde(rename = "_links", default, deserialize_with = "lenient::or_default")]
        pub links: EntityLinks,
    }

    /// Properties of an inline comment (the text it is anchored to).
    #[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
    #[serde(rename_all = "camelCase")]
    pub struct InlineCommentProperties {
        #[serde(default, deserialize_with = "lenient::or_default", skip_serializing_if = "Option::is_none")]
        pub text_selection: Option<String>,
        #[serde(default, deserialize_with = "lenient::opt_int", skip_serializing_if = "Option::is_none")]
        pub text_selection_match_count: Option<i64>,
        #[serde(default, deserialize_with = "lenient::opt_int", skip_serializing_if = "Option::is_none")]
        pub text_selection_match_index: Option<i64>,
    }

    /// A comment: one struct for every comment shape of v2 (`PageCommentModel`, `BlogPostCommentModel`,
    /// `ChildrenCommentModel`, `FooterCommentModel`, inline comments). Exactly one container id is set
    /// on a top-level comment; replies carry `parentCommentId` (and, from the single get, the container too).
    #[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
    #[serde(rename_all = "camelCase")]
    pub struct Comment {
        #[serde(default, deserialize_with = "lenient::id")]
        pub id: String,
        #[serde(default, deserialize_with = "lenient::or_default")]
        pub status: String,
        #[serde(default, deserialize_with = "lenient::or_default", skip_serializing_if = "Option::is_none")]
        pub title: Option<String>,
        #[serde(default, skip_serializing_if = "Option::is_none", deserialize_with = "lenient::opt_id")]
        pub page_id: Option<String>,
        #[serde(default, skip_serializing_if = "Option::is_none", deserialize_with = "lenient::opt_id")]
        pub blog_post_id: Option<String>,
        #[serde(default, skip_serializing_if = "Option::is_none", deserialize_with = "lenient::opt_id")]
        pub attachment_id: Option<String>,
        #[serde(default, skip_serializing_if = "Option::is_none", deserialize_with = "lenient::opt_id")]
        pub custom_content_id: Option<String>,
        #[serde(default, skip_serializing_if = "Option::is_none", deserialize_with = "lenient::opt_id")]
        pub parent_comment_id: Option<String>,
        #[serde(default, deserialize_with = "lenient::or_default", skip_serializing_if = "Option::is_none")]
        pub version: Option<Version>,
        #[serde(default, deserialize_with = "lenient::or_default", skip_serializing_if = "Option::is_none")]
        pub body: Option<Body>,
        #[serde(default, deserialize_with = "lenient::or_default", skip_serializing_if = "Option::is_none")]
        pub inline_comment_properties: Option<InlineCommentProperties>,
        /// Inline comments: `open`, `reopened`, `resolved` or `dangling`.
        #[serde(default, deserialize_with = "lenient::or_default", skip_serializing_if = "Option::is_none")]
        pub resolution_status: Option<String>,
        /// Inline comments: who last resolved or reopened the thread, and when.
        #[serde(default, deserialize_with = "lenient::or_default", skip_serializing_if = "Option::is_none")]
        pub resolution_last_modifier_id: Option<String>,
        #[serde(default, deserialize_with = "lenient::or_default", skip_serializing_if = "Option::is_none")]
        pub resolution_last_modified_at: Option<String>,
        /// Inline comments: the marker and the highlighted text.
        #[serde(default, deserialize_with = "lenient::or_default", skip_serializing_if = "Option::is_none")]
        pub properties: Option<InlineProperties>,
        #[serde(rename = "_links", default, deserialize_with = "lenient::or_default")]
        pub links: EntityLinks,
    }

    /// `properties` of an inline comment (`InlineCommentProperties` in the spec).
    #[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
    #[serde(rename_all = "camelCase")]
    pub struct InlineProperties {
        #[serde(default, deserialize_with = "lenient::or_default", skip_serializing_if = "Option::is_none")]
        pub inline_marker_ref: Option<String>,
        #[serde(default, deserialize_with = "lenient::or_default", skip_serializing_if = "Option::is_none")]
        pub inline_original_selection: Option<String>,
    }

    /// A footer comment: the comment shape served by the footer-comment endpoints.
    pub type FooterComment = Comment;

    /// An attachment (`AttachmentBulk`, `AttachmentSingle`); ids look like `att123`.
    #[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
    #[serde(rename_all = "camelCase")]
    pub struct Attachment {
        #[serde(default, deserialize_with = "lenient::id")]
        pub id: String,
        #[serde(default, deserialize_with = "lenient::or_default")]
        pub status: String,
        /// The file name.
        #[serde(default, deserialize_with = "lenient::or_default")]
        pub title: String,
        #[serde(default, deserialize_with = "lenient::or_default", skip_serializing_if = "Option::is_none")]
        pub created_at: Option<String>,
        #[serde(default, skip_serializing_if = "Option::is_none", deserialize_with = "lenient::opt_id")]
        pub page_id: Option<String>,
        #[serde(default, skip_serializing_if = "Option::is_none", deserialize_with = "lenient::opt_id")]
        pub blog_post_id: Option<String>,
        #[serde(default, skip_serializing_if = "Option::is_none", deserialize_with = "lenient::opt_id")]
        pub custom_content_id: Option<String>,
        #[serde(default, deserialize_with = "lenient::or_default", skip_serializing_if = "Option::is_none")]
        pub media_type: Option<String>,
        #[serde(default, deserialize_with = "lenient::or_default", skip_serializing_if = "Option::is_none")]
        pub media_type_description: Option<String>,
        #[serde(default, deserialize_with = "lenient::or_default", skip_serializing_if = "Option::is_none")]
        pub comment: Option<String>,
        /// The media-service file id.
        #[serde(default, deserialize_with = "lenient::or_default", skip_serializing_if = "Option::is_none")]
        pub file_id: Option<String>,
        #[serde(default, deserialize_with = "lenient::opt_int", skip_serializing_if = "Option::is_none")]
        pub file_size: Option<u64>,
        #[serde(default, deserialize_with = "lenient::or_default", skip_serializing_if = "Option::is_none")]
        pub webui_link: Option<String>,
        /// `/download/attachments/…`: answers 401 to API tokens; use the v1 download endpoint instead.
        #[serde(default, deserialize_with = "lenient::or_default", skip_serializing_if = "Option::is_none")]
        pub download_link: Option<String>,
        #[serde(default, deserialize_with = "lenient::or_default", skip_serializing_if = "Option::is_none")]
        pub version: Option<Version>,
        #[serde(default, deserialize_with = "lenient::or_default", skip_serializing_if = "Option::is_none")]
        pub labels: Option<OptionalField<Label>>,
        #[serde(rename = "_links", default, deserialize_with = "lenient::or_default")]
        pub links: EntityLinks,
    }

    /// One ancestor of a page, from `GET /pages/{id}/ancestors` (root first).
    #[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
    pub struct Ancestor {
        #[serde(default, deserialize_with = "lenient::id")]
        pub id: String,
        /// `page`, `folder`, `whiteboard`, `database` or `embed`.
        #[serde(
            deserialize_with = "lenient::or_default",
            rename = "type",
            default,
            skip_serializing_if = "Option::is_none"
        )]
        pub kind: Option<String>,
    }

    /// A child of a page: `ChildPage` from `/pages/{id}/children`, `ChildrenResponse` (with `type`)
    /// from `/pages/{id}/direct-children`.
    #[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
    #[serde(rename_all = "camelCase")]
    pub struct Child {
        #[serde(default, deserialize_with = "lenient::id")]
        pub id: String,
        #[serde(default, deserialize_with = "lenient::or_default")]
        pub status: String,
        #[serde(default, deserialize_with = "lenient::or_default")]
        pub title: String,
        #[serde(
            deserialize_with = "lenient::or_default",
            rename = "type",
            default,
            skip_serializing_if = "Option::is_none"
        )]
        pub kind: Option<String>,
        #[serde(default, skip_serializing_if = "Option::is_none", deserialize_with = "lenient::opt_id")]
        pub space_id: Option<String>,
        #[serde(default, deserialize_with = "lenient::opt_int", skip_serializing_if = "Option::is_none")]
        pub child_position: Option<i64>,
    }

    /// A profile picture; `null` when the user's privacy settings hide it.
    #[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
    #[serde(rename_all = "camelCase")]
    pub struct Icon {
        #[serde(default, deserialize_with = "lenient::or_default")]
        pub path: String,
        #[serde(default, deserialize_with = "lenient::or_default")]
        pub is_default: bool,
    }

    /// A user from `POST /users-bulk`. `email` is empty or missing when the profile hides it.
    #[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
    #[serde(rename_all = "camelCase")]
    pub struct User {
        #[serde(default, deserialize_with = "lenient::id")]
        pub account_id: String,
        /// `atlassian`, `app`, `customer` or `unknown`.
        #[serde(default, deserialize_with = "lenient::or_default", skip_serializing_if = "Option::is_none")]
        pub account_type: Option<String>,
        /// `active`, `inactive`, `closed` or `unknown`.
        #[serde(default, deserialize_with = "lenient::or_default", skip_serializing_if = "Option::is_none")]
        pub account_status: Option<String>,
        #[serde(default, deserialize_with = "lenient::or_default", skip_serializing_if = "Option::is_none")]
        pub display_name: Option<String>,
        #[serde(default, deserialize_with = "lenient::or_default", skip_serializing_if = "Option::is_none")]
        pub public_name: Option<String>,
        #[serde(default, deserialize_with = "lenient::or_default", skip_serializing_if = "Option::is_none")]
        pub email: Option<String>,
        #[serde(default, deserialize_with = "lenient::or_default", skip_serializing_if = "Option::is_none")]
        pub time_zone: Option<String>,
        #[serde(default, skip_serializing_if = "Option::is_none", deserialize_with = "lenient::opt_id")]
        pub personal_space_id: Option<String>,
        #[serde(default, deserialize_with = "lenient::or_default", skip_serializing_if = "Option::is_none")]
        pub is_external_collaborator: Option<bool>,
        #[serde(default, deserialize_with = "lenient::or_default", skip_serializing_if = "Option::is_none")]
        pub profile_picture: Option<Icon>,
    }

    /// Body of `POST /users-bulk`: at most 250 account ids.
    #[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
    #[serde(rename_all = "camelCase")]
    pub struct UsersBulkRequest {
        pub account_ids: Vec<String>,
    }

    /// One error of a v2 error body.
    #[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
    pub struct Error {
        #[serde(default, deserialize_with = "lenient::int")]
        pub status: u16,
        #[serde(default, deserialize_with = "lenient::or_default")]
        pub code: String,
        #[serde(default, deserialize_with = "lenient::or_default")]
        pub title: String,
        #[serde(default, deserialize_with = "lenient::or_default", skip_serializing_if = "Option::is_none")]
        pub detail: Option<String>,
    }

    /// A v2 error body: `{"errors": [...]}`.
    #[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
    pub struct ErrorBody {
        #[serde(default, deserialize_with = "lenient::items")]
        pub errors: Vec<Error>,
    }
}

/// Confluence REST v1 (`/wiki/rest/api`), only the endpoints v2 does not replace.
pub mod v1 {
    use super::*;

    /// `_expandable`: names of properties that could be expanded, mapped to where they live.
    pub type Expandable = BTreeMap<String, serde_json::Value>;

    /// `_links` (`GenericLinks`). `next` of a cursor listing is relative to `base` (it starts with `/rest/api`).
    #[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
    pub struct Links {
        #[serde(default, deserialize_with = "lenient::or_default", skip_serializing_if = "Option::is_none")]
        pub webui: Option<String>,
        #[serde(default, deserialize_with = "lenient::or_default", skip_serializing_if = "Option::is_none")]
        pub tinyui: Option<String>,
        #[serde(default, deserialize_with = "lenient::or_default", skip_serializing_if = "Option::is_none")]
        pub download: Option<String>,
        #[serde(
            deserialize_with = "lenient::or_default",
            rename = "self",
            default,
            skip_serializing_if = "Option::is_none"
        )]
        pub self_link: Option<String>,
        #[serde(default, deserialize_with = "lenient::or_default", skip_serializing_if = "Option::is_none")]
        pub next: Option<String>,
        #[serde(default, deserialize_with = "lenient::or_default", skip_serializing_if = "Option::is_none")]
        pub prev: Option<String>,
        #[serde(default, deserialize_with = "lenient::or_default", skip_serializing_if = "Option::is_none")]
        pub base: Option<String>,
        #[serde(default, deserialize_with = "lenient::or_default", skip_serializing_if = "Option::is_none")]
        pub context: Option<String>,
    }

    /// An offset listing (`UserArray`, `GroupArray`, `GroupArrayWithLinks`, `ContentArray`, spaces):
    /// keep asking with a larger `start` while `size == limit` (or follow `_links.next`).
    #[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
    #[serde(rename_all = "camelCase")]
    #[serde(bound(deserialize = "T: serde::de::DeserializeOwned + Default"))]
    pub struct ResultArray<T> {
        #[serde(deserialize_with = "lenient::required_items")]
        pub results: Vec<T>,
        #[serde(default, deserialize_with = "lenient::opt_int", skip_serializing_if = "Option::is_none")]
        pub start: Option<u32>,
        #[serde(default, deserialize_with = "lenient::opt_int", skip_serializing_if = "Option::is_none")]
        pub limit: Option<u32>,
        #[serde(default, deserialize_with = "lenient::opt_int", skip_serializing_if = "Option::is_none")]
        pub size: Option<u32>,
        /// Only when asked for with `shouldReturnTotalSize=true`.
        #[serde(default, deserialize_with = "lenient::opt_int", skip_serializing_if = "Option::is_none")]
        pub total_size: Option<u64>,
        #[serde(
            deserialize_with = "lenient::or_default",
            rename = "_links",
            default,
            skip_serializing_if = "Option::is_none"
        )]
        pub links: Option<Links>,
    }

    pub type UserArray = ResultArray<User>;
    pub type GroupArray = ResultArray<Group>;
    pub type ContentArray = ResultArray<Content>;
    pub type SpaceArray = ResultArray<Space>;

    #[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
    #[serde(rename_all = "camelCase")]
    pub struct Icon {
        #[serde(default, deserialize_with = "lenient::or_default")]
        pub path: String,
        #[serde(default, deserialize_with = "lenient::int")]
        pub width: u32,
        #[serde(default, deserialize_with = "lenient::int")]
        pub height: u32,
        #[serde(default, deserialize_with = "lenient::or_default")]
        pub is_default: bool,
    }

    /// A v1 user. `type` is `known`, `unknown` (an account that no longer exists), `anonymous` or `user`.
    /// `email` is empty or `null` when the profile hides it.
    #[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
    #[serde(rename_all = "camelCase")]
    pub struct User {
        #[serde(rename = "type", default, deserialize_with = "lenient::or_default")]
        pub kind: String,
        #[serde(default, deserialize_with = "lenient::or_default", skip_serializing_if = "Option::is_none")]
        pub account_id: Option<String>,
        /// `atlassian`, `app` or "".
        #[serde(default, deserialize_with = "lenient::or_default", skip_serializing_if = "Option::is_none")]
        pub account_type: Option<String>,
        #[serde(default, deserialize_with = "lenient::or_default", skip_serializing_if = "Option::is_none")]
        pub email: Option<String>,
        #[serde(default, deserialize_with = "lenient::or_default", skip_serializing_if = "Option::is_none")]
        pub public_name: Option<String>,
        #[serde(default, deserialize_with = "lenient::or_default", skip_serializing_if = "Option::is_none")]
        pub profile_picture: Option<Icon>,
        #[serde(default, deserialize_with = "lenient::or_default", skip_serializing_if = "Option::is_none")]
        pub display_name: Option<String>,
        /// An IANA zone name; CQL dates are read in it.
        #[serde(default, deserialize_with = "lenient::or_default", skip_serializing_if = "Option::is_none")]
        pub time_zone: Option<String>,
        #[serde(default, deserialize_with = "lenient::or_default", skip_serializing_if = "Option::is_none")]
        pub is_external_collaborator: Option<bool>,
        #[serde(default, deserialize_with = "lenient::or_default", skip_serializing_if = "Option::is_none")]
        pub is_guest: Option<bool>,
        /// Not in the spec's schema but sent by real sites: `active` or `inactive`.
        #[serde(default, deserialize_with = "lenient::or_default", skip_serializing_if = "Option::is_none")]
        pub account_status: Option<String>,
        #[serde(
            deserialize_with = "lenient::or_default",
            rename = "_expandable",
            default,
            skip_serializing_if = "Option::is_none"
        )]
        pub expandable: Option<Expandable>,
        #[serde(
            deserialize_with = "lenient::or_default",
            rename = "_links",
            default,
            skip_serializing_if = "Option::is_none"
        )]
        pub links: Option<Links>,
    }

    /// A group: `id` is stable, `name` can change.
    #[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
    #[serde(rename_all = "camelCase")]
    pub struct Group {
        #[serde(rename = "type", default, deserialize_with = "lenient::or_default")]
        pub kind: String,
        #[serde(default, deserialize_with = "lenient::or_default")]
        pub name: String,
        #[serde(default, deserialize_with = "lenient::id")]
        pub id: String,
        #[serde(default, deserialize_with = "lenient::or_default", skip_serializing_if = "Option::is_none")]
        pub usage_type: Option<String>,
        #[serde(default, deserialize_with = "lenient::or_default", skip_serializing_if = "Option::is_none")]
        pub managed_by: Option<String>,
        #[serde(
            deserialize_with = "lenient::or_default",
            rename = "_links",
            default,
            skip_serializing_if = "Option::is_none"
        )]
        pub links: Option<Links>,
    }

    /// The users and groups of one restriction; either may be left unexpanded.
    #[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
    pub struct Restrictions {
        #[serde(default, deserialize_with = "lenient::or_default", skip_serializing_if = "Option::is_none")]
        pub user: Option<UserArray>,
        #[serde(default, deserialize_with = "lenient::or_default", skip_serializing_if = "Option::is_none")]
        pub group: Option<GroupArray>,
        #[serde(
            deserialize_with = "lenient::or_default",
            rename = "_expandable",
            default,
            skip_serializing_if = "Option::is_none"
        )]
        pub expandable: Option<Expandable>,
    }

    /// The restriction of one operation (`read` or `update`) on a piece of content. Empty user and group
    /// lists mean the content has no restriction of its own for that operation (ancestors may still have one).
    #[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
    pub struct ContentRestriction {
        #[serde(default, deserialize_with = "lenient::or_default")]
        pub operation: String,
        #[serde(default, deserialize_with = "lenient::or_default", skip_serializing_if = "Option::is_none")]
        pub restrictions: Option<Restrictions>,
        #[serde(default, deserialize_with = "lenient::or_default", skip_serializing_if = "Option::is_none")]
        pub content: Option<Box<Content>>,
        #[serde(rename = "_expandable", default, deserialize_with = "lenient::or_default")]
        pub expandable: Expandable,
        #[serde(rename = "_links", default, deserialize_with = "lenient::or_default")]
        pub links: Links,
    }

    /// `GET /content/{id}/restriction/byOperation`: one restriction per operation. The same shape is
    /// content's `restrictions` expansion (`expand=restrictions.read.restrictions.user`), where the
    /// operations left unexpanded are named in `_expandable`.
    #[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
    pub struct RestrictionsByOperation {
        #[serde(default, deserialize_with = "lenient::or_default", skip_serializing_if = "Option::is_none")]
        pub read: Option<ContentRestriction>,
        #[serde(default, deserialize_with = "lenient::or_default", skip_serializing_if = "Option::is_none")]
        pub update: Option<ContentRestriction>,
        #[serde(
            deserialize_with = "lenient::or_default",
            rename = "_expandable",
            default,
            skip_serializing_if = "Option::is_none"
        )]
        pub expandable: Option<Expandable>,
        #[serde(
            deserialize_with = "lenient::or_default",
            rename = "_links",
            default,
            skip_serializing_if = "Option::is_none"
        )]
        pub links: Option<Links>,
    }

    /// A label as v1 shows it: `prefix` is `global`, `my` or `team`; `label` repeats the name.
    #[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
    pub struct Label {
        #[serde(default, deserialize_with = "lenient::or_default")]
        pub prefix: String,
        #[serde(default, deserialize_with = "lenient::or_default")]
        pub name: String,
        #[serde(default, deserialize_with = "lenient::id")]
        pub id: String,
        #[serde(default, deserialize_with = "lenient::or_default")]
        pub label: String,
    }

    pub type LabelArray = ResultArray<Label>;

    /// `metadata` of v1 content; only the labels are read (`expand=metadata.labels`).
    #[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
    pub struct ContentMetadata {
        #[serde(default, deserialize_with = "lenient::or_default", skip_serializing_if = "Option::is_none")]
        pub labels: Option<LabelArray>,
        #[serde(
            deserialize_with = "lenient::or_default",
            rename = "_expandable",
            default,
            skip_serializing_if = "Option::is_none"
        )]
        pub expandable: Option<Expandable>,
    }

    /// A v1 space, as embedded in content (`expand=space`).
    #[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
    #[serde(rename_all = "camelCase")]
    pub struct Space {
        #[serde(default, deserialize_with = "lenient::opt_int", skip_serializing_if = "Option::is_none")]
        pub id: Option<i64>,
        #[serde(default, deserialize_with = "lenient::or_default")]
        pub key: String,
        #[serde(default, deserialize_with = "lenient::or_default", skip_serializing_if = "Option::is_none")]
        pub alias: Option<String>,
        #[serde(default, deserialize_with = "lenient::or_default")]
        pub name: String,
        #[serde(rename = "type", default, deserialize_with = "lenient::or_default")]
        pub kind: String,
        #[serde(default, deserialize_with = "lenient::or_default")]
        pub status: String,
        #[serde(rename = "_expandable", default, deserialize_with = "lenient::or_default")]
        pub expandable: Expandable,
        #[serde(rename = "_links", default, deserialize_with = "lenient::or_default")]
        pub links: Links,
    }

    /// A v1 version (`expand=version`).
    #[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
    #[serde(rename_all = "camelCase")]
    pub struct Version {
        #[serde(default, deserialize_with = "lenient::or_default", skip_serializing_if = "Option::is_none")]
        pub by: Option<User>,
        /// When this version was made: `2024-03-01T10:02:11.004Z`.
        #[serde(default, deserialize_with = "lenient::or_default", skip_serializing_if = "Option::is_none")]
        pub when: Option<String>,
        #[serde(default, deserialize_with = "lenient::or_default", skip_serializing_if = "Option::is_none")]
        pub friendly_when: Option<String>,
        #[serde(default, deserialize_with = "lenient::or_default", skip_serializing_if = "Option::is_none")]
        pub message: Option<String>,
        #[serde(default, deserialize_with = "lenient::int")]
        pub number: u32,
        #[serde(default, deserialize_with = "lenient::or_default")]
        pub minor_edit: bool,
        #[serde(
            deserialize_with = "lenient::or_default",
            rename = "_expandable",
            default,
            skip_serializing_if = "Option::is_none"
        )]
        pub expandable: Option<Expandable>,
        #[serde(
            deserialize_with = "lenient::or_default",
            rename = "_links",
            default,
            skip_serializing_if = "Option::is_none"
        )]
        pub links: Option<Links>,
    }

    #[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
    #[serde(rename_all = "camelCase")]
    pub struct ContentBody {
        #[serde(default, deserialize_with = "lenient::or_default")]
        pub value: String,
        #[serde(default, deserialize_with = "lenient::or_default")]
        pub representation: String,
    }

    /// `body` of v1 content, with the representations asked for (`expand=body.storage`).
    #[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
    pub struct ContentBodies {
        #[serde(default, deserialize_with = "lenient::or_default", skip_serializing_if = "Option::is_none")]
        pub storage: Option<ContentBody>,
        #[serde(default, deserialize_with = "lenient::or_default", skip_serializing_if = "Option::is_none")]
        pub view: Option<ContentBody>,
        #[serde(
            deserialize_with = "lenient::or_default",
            rename = "_expandable",
            default,
            skip_serializing_if = "Option::is_none"
        )]
        pub expandable: Option<Expandable>,
    }

    /// Type-specific extras: attachments carry `mediaType`, `fileSize`, `comment`, `fileId`;
    /// comments carry `location` (`footer` or `inline`); pages carry `position`.
    #[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
    #[serde(rename_all = "camelCase")]
    pub struct ContentExtensions {
        #[serde(default, deserialize_with = "lenient::or_default", skip_serializing_if = "Option::is_none")]
        pub media_type: Option<String>,
        #[serde(default, deserialize_with = "lenient::or_default", skip_serializing_if = "Option::is_none")]
        pub media_type_description: Option<String>,
        #[serde(default, deserialize_with = "lenient::opt_int", skip_serializing_if = "Option::is_none")]
        pub file_size: Option<u64>,
        #[serde(default, deserialize_with = "lenient::or_default", skip_serializing_if = "Option::is_none")]
        pub file_id: Option<String>,
        #[serde(default, deserialize_with = "lenient::or_default", skip_serializing_if = "Option::is_none")]
        pub comment: Option<String>,
        #[serde(default, deserialize_with = "lenient::or_default", skip_serializing_if = "Option::is_none")]
        pub location: Option<String>,
        #[serde(default, deserialize_with = "lenient::or_default", skip_serializing_if = "Option::is_none")]
        pub position: Option<serde_json::Value>,
    }

    /// v1 content: a page, blog post, comment or attachment (`type`), as CQL content search returns it.
    /// Expanded properties (`space`, `version`, `ancestors`, `container`, `body`) are present only when asked.
    #[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
    pub struct Content {
        #[serde(default, deserialize_with = "lenient::id")]
        pub id: String,
        /// `page`, `blogpost`, `comment`, `attachment`, …; a space container carries its space type here.
        #[serde(rename = "type", default, deserialize_with = "lenient::or_default")]
        pub kind: String,
        #[serde(default, deserialize_with = "lenient::or_default")]
        pub status: String,
        #[serde(default, deserialize_with = "lenient::or_default", skip_serializing_if = "Option::is_none")]
        pub title: Option<String>,
        /// Set when the content is a space (a page's `container`).
        #[serde(default, deserialize_with = "lenient::or_default", skip_serializing_if = "Option::is_none")]
        pub key: Option<String>,
        /// Set when the content is a space (a page's `container`).
        #[serde(default, deserialize_with = "lenient::or_default", skip_serializing_if = "Option::is_none")]
        pub name: Option<String>,
        #[serde(default, deserialize_with = "lenient::or_default", skip_serializing_if = "Option::is_none")]
        pub space: Option<Space>,
        #[serde(default, deserialize_with = "lenient::or_default", skip_serializing_if = "Option::is_none")]
        pub version: Option<Version>,
        /// Root first. `null` is possible on real sites.
        #[serde(default, deserialize_with = "lenient::opt_items", skip_serializing_if = "Option::is_none")]
        pub ancestors: Option<Vec<Content>>,
        /// The page or blog post a comment or attachment belongs to; the space of a page.
        #[serde(default, deserialize_with = "lenient::or_default", skip_serializing_if = "Option::is_none")]
        pub container: Option<Box<Content>>,
        #[serde(default, deserialize_with = "lenient::or_default", skip_serializing_if = "Option::is_none")]
        pub body: Option<ContentBodies>,
        /// Labels (`expand=metadata.labels`).
        #[serde(default, deserialize_with = "lenient::or_default", skip_serializing_if = "Option::is_none")]
        pub metadata: Option<ContentMetadata>,
        /// Read and update restrictions (`expand=restrictions.read.restrictions.user,…`).
        #[serde(default, deserialize_with = "lenient::or_default", skip_serializing_if = "Option::is_none")]
        pub restrictions: Option<RestrictionsByOperation>,
        #[serde(default, deserialize_with = "lenient::or_default", skip_serializing_if = "Option::is_none")]
        pub extensions: Option<ContentExtensions>,
        #[serde(
            deserialize_with = "lenient::or_default",
            rename = "_expandable",
            default,
            skip_serializing_if = "Option::is_none"
        )]
        pub expandable: Option<Expandable>,
        #[serde(
            deserialize_with = "lenient::or_default",
            rename = "_links",
            default,
            skip_serializing_if = "Option::is_none"
        )]
        pub links: Option<Links>,
    }

    /// One result of `GET /wiki/rest/api/search` (the site search, not the content search).
    #[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
    #[serde(rename_all = "camelCase")]
    pub struct SearchResult {
        #[serde(default, deserialize_with = "lenient::or_default", skip_serializing_if = "Option::is_none")]
        pub content: Option<Content>,
        #[serde(default, deserialize_with = "lenient::or_default", skip_serializing_if = "Option::is_none")]
        pub title: Option<String>,
        #[serde(default, deserialize_with = "lenient::or_default", skip_serializing_if = "Option::is_none")]
        pub excerpt: Option<String>,
        #[serde(default, deserialize_with = "lenient::or_default", skip_serializing_if = "Option::is_none")]
        pub url: Option<String>,
        #[serde(default, deserialize_with = "lenient::or_default", skip_serializing_if = "Option::is_none")]
        pub entity_type: Option<String>,
        #[serde(default, deserialize_with = "lenient::or_default", skip_serializing_if = "Option::is_none")]
        pub last_modified: Option<String>,
    }

    /// `GET /wiki/rest/api/search`: results plus the CQL as the site understood it.
    #[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
    #[serde(rename_all = "camelCase")]
    pub struct SearchPage {
        #[serde(default, deserialize_with = "lenient::items")]
        pub results: Vec<SearchResult>,
        #[serde(default, deserialize_with = "lenient::opt_int", skip_serializing_if = "Option::is_none")]
        pub start: Option<u32>,
        #[serde(default, deserialize_with = "lenient::opt_int", skip_serializing_if = "Option::is_none")]
        pub limit: Option<u32>,
        #[serde(default, deserialize_with = "lenient::opt_int", skip_serializing_if = "Option::is_none")]
        pub size: Option<u32>,
        #[serde(default, deserialize_with = "lenient::opt_int", skip_serializing_if = "Option::is_none")]
        pub total_size: Option<u64>,
        #[serde(default, deserialize_with = "lenient::or_default", skip_serializing_if = "Option::is_none")]
        pub cql_query: Option<String>,
        #[serde(
            deserialize_with = "lenient::or_default",
            rename = "_links",
            default,
            skip_serializing_if = "Option::is_none"
        )]
        pub links: Option<Links>,
    }

    /// A v1 error body.
    #[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
    #[serde(rename_all = "camelCase")]
    pub struct ErrorBody {
        #[serde(default, deserialize_with = "lenient::int")]
        pub status_code: u16,
        #[serde(default, deserialize_with = "lenient::or_default", skip_serializing_if = "Option::is_none")]
        pub message: Option<String>,
    }
}

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

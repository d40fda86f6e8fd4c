//! Confluence REST v2 (`/wiki/api/v2`) wire types: spaces, space permissions and roles, pages, blog
//! posts, comments (footer and inline), attachments, labels, users, errors.
//!
//! Read by the crawler, written by the simulator; see the parent module for the rules every type keeps.
//! Deliberately absent: the v1 shapes (`v1.rs`).

use serde::{Deserialize, Serialize};

use crate::atlassian::wire::lenient;

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

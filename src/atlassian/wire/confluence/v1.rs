//! Confluence REST v1 (`/wiki/rest/api`) wire types, only for the endpoints v2 does not replace: read
//! restrictions, CQL content search, groups and their members, users.
//!
//! Read by the crawler, written by the simulator; see the parent module for the rules every type keeps.
//! Deliberately absent: everything v2 serves (`v2.rs`).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::atlassian::wire::lenient;

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

//! Who a Jira site names: users, groups (by id and mutable name), project roles with their actors (the
//! users and groups acting in a role in one project, and the role map of a project), and application roles
//! (the groups whose members may use a Jira application).
//!
//! See the parent module for the rules every type keeps.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::{lenient, AvatarUrls};

/// The project role map of `GET /project/{key}/role`: role name → role URL (the role id ends the URL).
pub type ProjectRoles = BTreeMap<String, String>;

/// How the crawler reads a [`ProjectRoles`] map: entries that are not text are left out.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(transparent)]
pub struct RoleUrls(#[serde(deserialize_with = "lenient::string_map")] pub ProjectRoles);

/// The role id at the end of a role URL from [`ProjectRoles`], e.g. `…/project/10000/role/10002` → 10002.
pub fn role_id_from_url(url: &str) -> Option<u64> {
    url.trim_end_matches('/').rsplit('/').next()?.parse().ok()
}

/// A group by id and (mutable) name; also the `GroupDetails` entries of `GET /group/bulk`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct GroupName {
    #[serde(default, deserialize_with = "lenient::or_default", skip_serializing_if = "Option::is_none")]
    pub group_id: Option<String>,
    #[serde(default, deserialize_with = "lenient::or_default", skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(
        default,
        deserialize_with = "lenient::or_default",
        rename = "self",
        skip_serializing_if = "Option::is_none"
    )]
    pub self_url: Option<String>,
}

/// A project role; from `GET /project/{key}/role/{id}` it lists the role's actors in that project.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ProjectRole {
    #[serde(
        default,
        deserialize_with = "lenient::or_default",
        rename = "self",
        skip_serializing_if = "Option::is_none"
    )]
    pub self_url: Option<String>,
    #[serde(default, deserialize_with = "lenient::or_default")]
    pub name: String,
    #[serde(default, deserialize_with = "lenient::id_number")]
    pub id: u64,
    #[serde(default, deserialize_with = "lenient::or_default", skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    #[serde(default, deserialize_with = "lenient::opt_items", skip_serializing_if = "Option::is_none")]
    pub actors: Option<Vec<RoleActor>>,
}

/// A user or group acting in a project role.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RoleActor {
    #[serde(default, deserialize_with = "lenient::opt_id_number", skip_serializing_if = "Option::is_none")]
    pub id: Option<u64>,
    #[serde(default, deserialize_with = "lenient::or_default", skip_serializing_if = "Option::is_none")]
    pub display_name: Option<String>,
    #[serde(deserialize_with = "lenient::or_default", rename = "type", default)]
    pub kind: RoleActorType,
    #[serde(default, deserialize_with = "lenient::or_default", skip_serializing_if = "Option::is_none")]
    pub actor_user: Option<ActorUser>,
    #[serde(default, deserialize_with = "lenient::or_default", skip_serializing_if = "Option::is_none")]
    pub actor_group: Option<ActorGroup>,
}

/// `atlassian-user-role-actor` or `atlassian-group-role-actor`; `Other` keeps anything else.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(from = "String", into = "String")]
pub enum RoleActorType {
    User,
    Group,
    Other(String),
    #[default]
    Missing,
}

impl From<String> for RoleActorType {
    fn from(s: String) -> Self {
        match s.as_str() {
            "atlassian-user-role-actor" => RoleActorType::User,
            "atlassian-group-role-actor" => RoleActorType::Group,
            "" => RoleActorType::Missing,
            _ => RoleActorType::Other(s),
        }
    }
}

impl From<RoleActorType> for String {
    fn from(t: RoleActorType) -> Self {
        match t {
            RoleActorType::User => "atlassian-user-role-actor".into(),
            RoleActorType::Group => "atlassian-group-role-actor".into(),
            RoleActorType::Other(s) => s,
            RoleActorType::Missing => String::new(),
        }
    }
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ActorUser {
    #[serde(default, deserialize_with = "lenient::or_default")]
    pub account_id: String,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ActorGroup {
    #[serde(default, deserialize_with = "lenient::or_default", skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(default, deserialize_with = "lenient::or_default", skip_serializing_if = "Option::is_none")]
    pub display_name: Option<String>,
    #[serde(default, deserialize_with = "lenient::or_default", skip_serializing_if = "Option::is_none")]
    pub group_id: Option<String>,
}

/// A Jira application and who may use it (`GET /applicationrole`, `GET /applicationrole/{key}`): the
/// groups granting access, by name (`groups`) and with their ids (`groupDetails`). Admin only.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ApplicationRole {
    #[serde(default, deserialize_with = "lenient::or_default")]
    pub key: String,
    #[serde(default, deserialize_with = "lenient::or_default", skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(default, deserialize_with = "lenient::items")]
    pub groups: Vec<String>,
    #[serde(default, deserialize_with = "lenient::items")]
    pub group_details: Vec<GroupName>,
    #[serde(default, deserialize_with = "lenient::items")]
    pub default_groups: Vec<String>,
    #[serde(default, deserialize_with = "lenient::items")]
    pub default_groups_details: Vec<GroupName>,
    #[serde(default, deserialize_with = "lenient::or_default", skip_serializing_if = "Option::is_none")]
    pub defined: Option<bool>,
    #[serde(default, deserialize_with = "lenient::or_default", skip_serializing_if = "Option::is_none")]
    pub selected_by_default: Option<bool>,
    #[serde(default, deserialize_with = "lenient::or_default", skip_serializing_if = "Option::is_none")]
    pub has_unlimited_seats: Option<bool>,
    #[serde(default, deserialize_with = "lenient::opt_int", skip_serializing_if = "Option::is_none")]
    pub number_of_seats: Option<i64>,
    #[serde(default, deserialize_with = "lenient::opt_int", skip_serializing_if = "Option::is_none")]
    pub remaining_seats: Option<i64>,
    #[serde(default, deserialize_with = "lenient::opt_int", skip_serializing_if = "Option::is_none")]
    pub user_count: Option<i64>,
    #[serde(default, deserialize_with = "lenient::or_default", skip_serializing_if = "Option::is_none")]
    pub user_count_description: Option<String>,
    #[serde(default, deserialize_with = "lenient::or_default", skip_serializing_if = "Option::is_none")]
    pub platform: Option<bool>,
}

/// A user (`User` / `UserDetails`): `/myself`, `/users/search`, `/group/member`, issue people.
/// `email_address` is absent when the profile hides it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct User {
    #[serde(
        default,
        deserialize_with = "lenient::or_default",
        rename = "self",
        skip_serializing_if = "Option::is_none"
    )]
    pub self_url: Option<String>,
    #[serde(default, deserialize_with = "lenient::or_default")]
    pub account_id: String,
    /// `atlassian`, `app`, `customer` or `unknown`.
    #[serde(default, deserialize_with = "lenient::or_default", skip_serializing_if = "Option::is_none")]
    pub account_type: Option<String>,
    #[serde(default, deserialize_with = "lenient::or_default", skip_serializing_if = "Option::is_none")]
    pub email_address: Option<String>,
    #[serde(default, deserialize_with = "lenient::or_default", skip_serializing_if = "Option::is_none")]
    pub avatar_urls: Option<AvatarUrls>,
    #[serde(default, deserialize_with = "lenient::or_default", skip_serializing_if = "Option::is_none")]
    pub display_name: Option<String>,
    #[serde(default, deserialize_with = "lenient::or_default", skip_serializing_if = "Option::is_none")]
    pub active: Option<bool>,
    /// IANA zone the user's JQL dates are read in, e.g. `Australia/Brisbane`.
    #[serde(default, deserialize_with = "lenient::or_default", skip_serializing_if = "Option::is_none")]
    pub time_zone: Option<String>,
    #[serde(default, deserialize_with = "lenient::or_default", skip_serializing_if = "Option::is_none")]
    pub locale: Option<String>,
}

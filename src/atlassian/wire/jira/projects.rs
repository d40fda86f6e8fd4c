//! Jira projects and who may see them: a project, permission schemes and their grants (a permission
//! given to a holder: a group, a user, a role, an application, anyone, …), issue security schemes, their
//! levels and the levels' members, and the answer of `POST /permissions/check`.
//!
//! Holder types this code does not know are kept as `Other`, so a reader can fail closed on them. See the
//! parent module for the rules every type keeps.

use serde::{Deserialize, Serialize};

use super::{lenient, AvatarUrls, GroupName, ProjectRole, ProjectRoles, User};

/// An issue security level: `fields.security`, or one level of a [`SecurityScheme`].
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SecurityLevel {
    #[serde(
        default,
        deserialize_with = "lenient::or_default",
        rename = "self",
        skip_serializing_if = "Option::is_none"
    )]
    pub self_url: Option<String>,
    #[serde(default, deserialize_with = "lenient::id")]
    pub id: String,
    #[serde(default, deserialize_with = "lenient::or_default", skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    #[serde(default, deserialize_with = "lenient::or_default")]
    pub name: String,
    #[serde(default, deserialize_with = "lenient::or_default", skip_serializing_if = "Option::is_none")]
    pub is_default: Option<bool>,
    #[serde(default, deserialize_with = "lenient::opt_id", skip_serializing_if = "Option::is_none")]
    pub issue_security_scheme_id: Option<String>,
}

/// A project: an entry of `GET /project/search`, `GET /project/{key}`, or `fields.project`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Project {
    #[serde(default, deserialize_with = "lenient::or_default", skip_serializing_if = "Option::is_none")]
    pub expand: Option<String>,
    #[serde(
        default,
        deserialize_with = "lenient::or_default",
        rename = "self",
        skip_serializing_if = "Option::is_none"
    )]
    pub self_url: Option<String>,
    #[serde(default, deserialize_with = "lenient::id")]
    pub id: String,
    #[serde(default, deserialize_with = "lenient::or_default")]
    pub key: String,
    #[serde(default, deserialize_with = "lenient::or_default", skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(default, deserialize_with = "lenient::or_default", skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    #[serde(default, deserialize_with = "lenient::or_default", skip_serializing_if = "Option::is_none")]
    pub lead: Option<User>,
    #[serde(default, deserialize_with = "lenient::or_default", skip_serializing_if = "Option::is_none")]
    pub avatar_urls: Option<AvatarUrls>,
    #[serde(default, deserialize_with = "lenient::or_default", skip_serializing_if = "Option::is_none")]
    pub project_type_key: Option<String>,
    /// `true` for team-managed projects, whose access is not governed by shared schemes.
    #[serde(default, deserialize_with = "lenient::or_default", skip_serializing_if = "Option::is_none")]
    pub simplified: Option<bool>,
    #[serde(default, deserialize_with = "lenient::or_default", skip_serializing_if = "Option::is_none")]
    pub style: Option<String>,
    #[serde(default, deserialize_with = "lenient::or_default", skip_serializing_if = "Option::is_none")]
    pub is_private: Option<bool>,
    #[serde(default, deserialize_with = "lenient::or_default", skip_serializing_if = "Option::is_none")]
    pub archived: Option<bool>,
    #[serde(default, deserialize_with = "lenient::or_default", skip_serializing_if = "Option::is_none")]
    pub roles: Option<ProjectRoles>,
}

/// A permission scheme; `permissions` is present when the request named any `expand`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct PermissionScheme {
    #[serde(default, deserialize_with = "lenient::or_default", skip_serializing_if = "Option::is_none")]
    pub expand: Option<String>,
    #[serde(default, deserialize_with = "lenient::id_number")]
    pub id: u64,
    #[serde(
        default,
        deserialize_with = "lenient::or_default",
        rename = "self",
        skip_serializing_if = "Option::is_none"
    )]
    pub self_url: Option<String>,
    #[serde(default, deserialize_with = "lenient::or_default")]
    pub name: String,
    #[serde(default, deserialize_with = "lenient::or_default", skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    #[serde(default, deserialize_with = "lenient::opt_items", skip_serializing_if = "Option::is_none")]
    pub permissions: Option<Vec<PermissionGrant>>,
}

/// Response of `GET /rest/api/3/permissionscheme`: every scheme, grants included only when expanded.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PermissionSchemes {
    #[serde(default, deserialize_with = "lenient::items")]
    pub permission_schemes: Vec<PermissionScheme>,
}

/// Response of `GET /rest/api/3/permissionscheme/{id}/permission`: the grants of one scheme.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct PermissionGrants {
    #[serde(default, deserialize_with = "lenient::or_default", skip_serializing_if = "Option::is_none")]
    pub expand: Option<String>,
    #[serde(default, deserialize_with = "lenient::items")]
    pub permissions: Vec<PermissionGrant>,
}

/// One grant: a permission key (`BROWSE_PROJECTS`, …) given to a holder.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct PermissionGrant {
    #[serde(default, deserialize_with = "lenient::id_number")]
    pub id: u64,
    #[serde(
        default,
        deserialize_with = "lenient::or_default",
        rename = "self",
        skip_serializing_if = "Option::is_none"
    )]
    pub self_url: Option<String>,
    #[serde(default, deserialize_with = "lenient::or_default")]
    pub holder: PermissionHolder,
    #[serde(default, deserialize_with = "lenient::or_default")]
    pub permission: String,
}

/// Who a grant or a security level membership is given to.
///
/// `parameter`/`value` by type: group → group name / group id; user → account id; projectRole → role id;
/// applicationRole → application key (absent: any application). `user`, `group` and `projectRole` carry
/// the holder's details when the request expanded them.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PermissionHolder {
    #[serde(deserialize_with = "lenient::or_default", rename = "type", default)]
    pub kind: HolderType,
    #[serde(default, deserialize_with = "lenient::opt_id", skip_serializing_if = "Option::is_none")]
    pub parameter: Option<String>,
    #[serde(default, deserialize_with = "lenient::opt_id", skip_serializing_if = "Option::is_none")]
    pub value: Option<String>,
    #[serde(default, deserialize_with = "lenient::or_default", skip_serializing_if = "Option::is_none")]
    pub expand: Option<String>,
    #[serde(default, deserialize_with = "lenient::or_default", skip_serializing_if = "Option::is_none")]
    pub user: Option<User>,
    #[serde(default, deserialize_with = "lenient::or_default", skip_serializing_if = "Option::is_none")]
    pub group: Option<GroupName>,
    #[serde(default, deserialize_with = "lenient::or_default", skip_serializing_if = "Option::is_none")]
    pub project_role: Option<ProjectRole>,
}

/// Holder `type`. `Other` keeps a type this crate does not know, so a reader can fail closed on it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(from = "String", into = "String")]
pub enum HolderType {
    Anyone,
    Group,
    User,
    /// Spelled `projectRole` in grants and sometimes `projectrole` in security level members.
    ProjectRole,
    ApplicationRole,
    ProjectLead,
    Reporter,
    Assignee,
    UserCustomField,
    GroupCustomField,
    /// `sd.customer.portal.only`: service desk customers, on the customer portal only.
    CustomerPortalOnly,
    Other(String),
    /// No `type` was sent.
    #[default]
    Missing,
}

impl From<String> for HolderType {
    fn from(s: String) -> Self {
        match s.as_str() {
            "anyone" => HolderType::Anyone,
            "group" => HolderType::Group,
            "user" => HolderType::User,
            "projectRole" | "projectrole" => HolderType::ProjectRole,
            "applicationRole" => HolderType::ApplicationRole,
            "projectLead" => HolderType::ProjectLead,
            "reporter" => HolderType::Reporter,
            "assignee" => HolderType::Assignee,
            "userCustomField" => HolderType::UserCustomField,
            "groupCustomField" => HolderType::GroupCustomField,
            "sd.customer.portal.only" => HolderType::CustomerPortalOnly,
            "" => HolderType::Missing,
            _ => HolderType::Other(s),
        }
    }
}

impl From<HolderType> for String {
    fn from(t: HolderType) -> Self {
        match t {
            HolderType::Anyone => "anyone".into(),
            HolderType::Group => "group".into(),
            HolderType::User => "user".into(),
            HolderType::ProjectRole => "projectRole".into(),
            HolderType::ApplicationRole => "applicationRole".into(),
            HolderType::ProjectLead => "projectLead".into(),
            HolderType::Reporter => "reporter".into(),
            HolderType::Assignee => "assignee".into(),
            HolderType::UserCustomField => "userCustomField".into(),
            HolderType::GroupCustomField => "groupCustomField".into(),
            HolderType::CustomerPortalOnly => "sd.customer.portal.only".into(),
            HolderType::Other(s) => s,
            HolderType::Missing => String::new(),
        }
    }
}

/// Response of `GET /project/{key}/issuesecuritylevelscheme` (`SecurityScheme`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SecurityScheme {
    #[serde(
        default,
        deserialize_with = "lenient::or_default",
        rename = "self",
        skip_serializing_if = "Option::is_none"
    )]
    pub self_url: Option<String>,
    #[serde(default, deserialize_with = "lenient::id_number")]
    pub id: u64,
    #[serde(default, deserialize_with = "lenient::or_default")]
    pub name: String,
    #[serde(default, deserialize_with = "lenient::or_default", skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    #[serde(default, deserialize_with = "lenient::opt_id_number", skip_serializing_if = "Option::is_none")]
    pub default_security_level_id: Option<u64>,
    #[serde(default, deserialize_with = "lenient::items")]
    pub levels: Vec<SecurityLevel>,
}

/// One project and the issue security scheme it uses (`IssueSecuritySchemeToProjectMapping`, the items of
/// `GET /issuesecurityschemes/project`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SecuritySchemeProject {
    #[serde(default, deserialize_with = "lenient::id")]
    pub issue_security_scheme_id: String,
    #[serde(default, deserialize_with = "lenient::id")]
    pub project_id: String,
}

/// Response of `GET /project/{key}/securitylevel`: the levels the caller may set.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ProjectSecurityLevels {
    #[serde(default, deserialize_with = "lenient::items")]
    pub levels: Vec<SecurityLevel>,
}

/// One member of an issue security level (`SecurityLevelMember`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SecurityLevelMember {
    #[serde(default, deserialize_with = "lenient::id")]
    pub id: String,
    #[serde(default, deserialize_with = "lenient::id")]
    pub issue_security_level_id: String,
    #[serde(default, deserialize_with = "lenient::opt_id", skip_serializing_if = "Option::is_none")]
    pub issue_security_scheme_id: Option<String>,
    #[serde(default, deserialize_with = "lenient::or_default")]
    pub holder: PermissionHolder,
}

/// Response of `POST /rest/api/3/permissions/check`: which of the asked projects and issues the user may
/// access, per permission.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct BulkPermissionGrants {
    #[serde(default, deserialize_with = "lenient::items")]
    pub global_permissions: Vec<String>,
    #[serde(default, deserialize_with = "lenient::items")]
    pub project_permissions: Vec<BulkProjectPermissionGrants>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct BulkProjectPermissionGrants {
    #[serde(default, deserialize_with = "lenient::or_default")]
    pub permission: String,
    #[serde(default, deserialize_with = "lenient::items")]
    pub issues: Vec<u64>,
    #[serde(default, deserialize_with = "lenient::items")]
    pub projects: Vec<u64>,
}

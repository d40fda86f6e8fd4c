//! Jira Service Management REST wire types (`/rest/servicedeskapi/...`) and the values of its custom
//! fields on an issue.
//!
//! The service desk API pages with its own envelope, [`PagedDto`]: `{size, start, limit, isLastPage,
//! values, _links}`. Service desks, customer organisations and users are [`ServiceDesk`],
//! [`Organization`] and [`ServiceDeskUser`]. On an issue, the request participants field
//! (`com.atlassian.servicedesk:sd-request-participants`) holds [`super::User`]s, the organisations field
//! (`com.atlassian.servicedesk:sd-customer-organizations`) [`Organization`]s, and the customer request
//! type field (`com.atlassian.servicedesk:vp-origin`) a [`CustomerRequestType`].
//!
//! Wire shapes only: no conversion and no HTTP here.

use serde::{Deserialize, Serialize};

use super::lenient;

/// `schema.custom` of the request participants field.
pub const PARTICIPANTS_FIELD: &str = "com.atlassian.servicedesk:sd-request-participants";
/// `schema.custom` of the organisations field.
pub const ORGANIZATIONS_FIELD: &str = "com.atlassian.servicedesk:sd-customer-organizations";
/// `schema.custom` of the customer request type field.
pub const REQUEST_TYPE_FIELD: &str = "com.atlassian.servicedesk:vp-origin";

/// The service desk API's page envelope. The last page says `isLastPage: true`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", bound(deserialize = "T: serde::de::DeserializeOwned + Default"))]
pub struct PagedDto<T> {
    #[serde(default, deserialize_with = "lenient::opt_int", skip_serializing_if = "Option::is_none")]
    pub size: Option<u64>,
    #[serde(default, deserialize_with = "lenient::opt_int", skip_serializing_if = "Option::is_none")]
    pub start: Option<u64>,
    #[serde(default, deserialize_with = "lenient::opt_int", skip_serializing_if = "Option::is_none")]
    pub limit: Option<u64>,
    #[serde(default, deserialize_with = "lenient::or_default", skip_serializing_if = "Option::is_none")]
    pub is_last_page: Option<bool>,
    #[serde(default = "Vec::new", deserialize_with = "lenient::items")]
    pub values: Vec<T>,
    #[serde(
        rename = "_links",
        default,
        deserialize_with = "lenient::or_default",
        skip_serializing_if = "Option::is_none"
    )]
    pub links: Option<PagedLinks>,
}

/// `_links` of a page: `base`, `context`, `self`, and `next`/`prev` where there are such pages.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PagedLinks {
    #[serde(default, deserialize_with = "lenient::or_default", skip_serializing_if = "Option::is_none")]
    pub base: Option<String>,
    #[serde(default, deserialize_with = "lenient::or_default", skip_serializing_if = "Option::is_none")]
    pub context: Option<String>,
    #[serde(
        default,
        deserialize_with = "lenient::or_default",
        rename = "self",
        skip_serializing_if = "Option::is_none"
    )]
    pub self_url: Option<String>,
    #[serde(default, deserialize_with = "lenient::or_default", skip_serializing_if = "Option::is_none")]
    pub next: Option<String>,
    #[serde(default, deserialize_with = "lenient::or_default", skip_serializing_if = "Option::is_none")]
    pub prev: Option<String>,
}

/// `_links` with only `self`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SelfLink {
    #[serde(
        default,
        deserialize_with = "lenient::or_default",
        rename = "self",
        skip_serializing_if = "Option::is_none"
    )]
    pub self_url: Option<String>,
}

/// A service desk (`GET /rest/servicedeskapi/servicedesk`): the service project it belongs to.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ServiceDesk {
    #[serde(default, deserialize_with = "lenient::id")]
    pub id: String,
    #[serde(default, deserialize_with = "lenient::id")]
    pub project_id: String,
    #[serde(default, deserialize_with = "lenient::or_default", skip_serializing_if = "Option::is_none")]
    pub project_name: Option<String>,
    #[serde(default, deserialize_with = "lenient::or_default", skip_serializing_if = "Option::is_none")]
    pub project_key: Option<String>,
    #[serde(
        rename = "_links",
        default,
        deserialize_with = "lenient::or_default",
        skip_serializing_if = "Option::is_none"
    )]
    pub links: Option<SelfLink>,
}

/// A customer organisation, as listed and as an entry of an issue's organisations field.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Organization {
    #[serde(default, deserialize_with = "lenient::id")]
    pub id: String,
    #[serde(default, deserialize_with = "lenient::or_default", skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(
        rename = "_links",
        default,
        deserialize_with = "lenient::or_default",
        skip_serializing_if = "Option::is_none"
    )]
    pub links: Option<SelfLink>,
}

/// A user as the service desk API lists one (`UserDTO`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ServiceDeskUser {
    #[serde(default, deserialize_with = "lenient::or_default")]
    pub account_id: String,
    #[serde(default, deserialize_with = "lenient::or_default", skip_serializing_if = "Option::is_none")]
    pub email_address: Option<String>,
    #[serde(default, deserialize_with = "lenient::or_default", skip_serializing_if = "Option::is_none")]
    pub display_name: Option<String>,
    #[serde(default, deserialize_with = "lenient::or_default", skip_serializing_if = "Option::is_none")]
    pub active: Option<bool>,
    #[serde(default, deserialize_with = "lenient::or_default", skip_serializing_if = "Option::is_none")]
    pub time_zone: Option<String>,
    #[serde(
        rename = "_links",
        default,
        deserialize_with = "lenient::or_default",
        skip_serializing_if = "Option::is_none"
    )]
    pub links: Option<SelfLink>,
}

/// The value of the customer request type field: which request type of the portal the issue was raised
/// as. `null` on an issue created in Jira without one.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CustomerRequestType {
    #[serde(default, deserialize_with = "lenient::or_default", skip_serializing_if = "Option::is_none")]
    pub request_type: Option<RequestType>,
    #[serde(
        rename = "_links",
        default,
        deserialize_with = "lenient::or_default",
        skip_serializing_if = "Option::is_none"
    )]
    pub links: Option<SelfLink>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RequestType {
    #[serde(default, deserialize_with = "lenient::id")]
    pub id: String,
    #[serde(default, deserialize_with = "lenient::or_default", skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(default, deserialize_with = "lenient::opt_id", skip_serializing_if = "Option::is_none")]
    pub service_desk_id: Option<String>,
}

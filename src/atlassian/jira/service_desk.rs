//! Jira Service Management: who a request's customers are.
//!
//! - [`Jira::request_fields`] finds the ids of the request participants, organisations and customer
//!   request type custom fields (`GET /rest/api/3/field`, by `schema.custom`); once found, the issue
//!   fetches (`issues.rs`) ask for them and read each request's [`PortalRequest`].
//! - [`Jira::service_desks`] (`GET /rest/servicedeskapi/servicedesk`): the service desk of each service
//!   project; [`Jira::desk_organisations`] (`GET /servicedesk/{id}/organization`) the organisations added to
//!   one; [`Jira::organisation_members`] (`GET /organization/{id}/user`) an organisation's members. Each is
//!   paged with `start`/`limit` in the API's `{size, start, limit, isLastPage, values}` envelope.
//!
//! A value this code cannot read exactly (a participants field that is not a list, an organisation whose
//! members cannot be listed) is handed back as unreadable, never as "no one" where "someone" was meant
//! and never wider: what that means for a document (agents only) is `sync::resolve`'s business.

use std::collections::BTreeSet;

use serde_json::Value;

use super::{account_id, is_id, malformed, Jira, API};
use crate::atlassian::model::{PortalRequest, RequestPeople};
use crate::atlassian::path::segment;
use crate::atlassian::wire::jira as wire;
use crate::atlassian::Error;

const SERVICE_DESK_API: &str = "/rest/servicedeskapi";
/// Items per page of the service desk API: its documented maximum.
const PAGE: usize = 100;
/// Pages one listing may take before it is taken as looping (a million items).
const MAX_PAGES: usize = 10_000;

/// The ids of Jira Service Management's custom fields on a site; `None` for one the site does not have.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RequestFields {
    pub participants: Option<String>,
    pub organisations: Option<String>,
    pub request_type: Option<String>,
}

impl RequestFields {
    /// The field ids, for a fetch's `fields` list.
    pub(super) fn ids(&self) -> impl Iterator<Item = &str> {
        [&self.participants, &self.organisations, &self.request_type]
            .into_iter()
            .flatten()
            .map(String::as_str)
    }

    /// What the portal shows of an issue with these custom field values (`fields.other`).
    pub(super) fn portal(&self, other: &std::collections::BTreeMap<String, Value>) -> PortalRequest {
        let (Some(participants), Some(organisations), Some(request_type)) =
            (&self.participants, &self.organisations, &self.request_type)
        else {
            return PortalRequest::None;
        };
        // Without a request type the portal shows the issue to nobody: nothing else matters.
        let is_request = other
            .get(request_type)
            .and_then(|v| serde_json::from_value::<wire::CustomerRequestType>(v.clone()).ok())
            .and_then(|t| t.request_type)
            .is_some_and(|t| is_id(&t.id));
        if !is_request {
            return PortalRequest::None;
        }
        let participants = match list_of(other.get(participants)) {
            Some(items) => items
                .into_iter()
                .filter_map(|v| serde_json::from_value::<wire::User>(v).ok())
                .filter_map(account_id)
                .collect(),
            None => return PortalRequest::Unreadable("request participants field is not a list".into()),
        };
        let organisations = match list_of(other.get(organisations)) {
            Some(items) => items
                .into_iter()
                .filter_map(|v| serde_json::from_value::<wire::Organization>(v).ok())
                .map(|o| o.id)
                .filter(|id| is_id(id))
                .collect(),
            None => return PortalRequest::Unreadable("organizations field is not a list".into()),
        };
        PortalRequest::Request(RequestPeople { participants, organisations })
    }
}

/// A list field's items: `null` or absent is an empty list; anything else but a list cannot be read.
fn list_of(value: Option<&Value>) -> Option<Vec<Value>> {
    match value {
        None | Some(Value::Null) => Some(Vec::new()),
        Some(Value::Array(items)) => Some(items.clone()),
        Some(_) => None,
    }
}

impl Jira {
    /// Finds the service desk custom fields (`GET /field`) and remembers them, so that the issue fetches
    /// that follow read each request's participants, organisations and request type.
    pub async fn request_fields(&self) -> Result<RequestFields, Error> {
        let listed: Vec<wire::FieldDetails> = self.client.get_json(&format!("{API}/field")).await?;
        let mut fields = RequestFields::default();
        for field in listed.into_iter().filter(|f| is_id(&f.id)) {
            let kind = field.schema.as_ref().and_then(|s| s.custom.as_deref());
            let slot = match kind {
                Some(wire::PARTICIPANTS_FIELD) => &mut fields.participants,
                Some(wire::ORGANIZATIONS_FIELD) => &mut fields.organisations,
                Some(wire::REQUEST_TYPE_FIELD) => &mut fields.request_type,
                _ => continue,
            };
            // Two fields of one type cannot be told apart: neither is read (fail closed).
            *slot = match slot.take() {
                None => Some(field.id),
                Some(_) => return Ok(RequestFields::default()),
            };
        }
        *self.request_fields.lock().unwrap_or_else(|e| e.into_inner()) = fields.clone();
        Ok(fields)
    }

    /// The fields remembered by the last [`request_fields`](Self::request_fields).
    pub(super) fn known_request_fields(&self) -> RequestFields {
        self.request_fields.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }

    /// Every service desk as (desk id, project id).
    pub async fn service_desks(&self) -> Result<Vec<(String, String)>, Error> {
        let desks: Vec<wire::ServiceDesk> = self.paged(&format!("{SERVICE_DESK_API}/servicedesk")).await?;
        Ok(desks
            .into_iter()
            .filter(|d| is_id(&d.id) && is_id(&d.project_id))
            .map(|d| (d.id, d.project_id))
            .collect())
    }

    /// The ids of the organisations added to a service desk.
    pub async fn desk_organisations(&self, desk_id: &str) -> Result<BTreeSet<String>, Error> {
        let path = format!("{SERVICE_DESK_API}/servicedesk/{}/organization", segment(desk_id));
        let orgs: Vec<wire::Organization> = self.paged(&path).await?;
        Ok(orgs.into_iter().map(|o| o.id).filter(|id| is_id(id)).collect())
    }

    /// The account ids of an organisation's members. A member listed without a usable account id fails
    /// the listing: leaving one out would narrow, but an id the listing garbled may be anyone's.
    pub async fn organisation_members(&self, org_id: &str) -> Result<BTreeSet<String>, Error> {
        let path = format!("{SERVICE_DESK_API}/organization/{}/user", segment(org_id));
        let users: Vec<wire::ServiceDeskUser> = self.paged(&path).await?;
        let mut members = BTreeSet::new();
        for user in users {
            if !is_id(&user.account_id) {
                return Err(malformed(&path, "a member without an account id".into()));
            }
            members.insert(user.account_id);
        }
        Ok(members)
    }

    /// Every item of a service desk API listing: pages of [`PAGE`] until `isLastPage` or an empty page.
    async fn paged<T: serde::de::DeserializeOwned + Default>(&self, path: &str) -> Result<Vec<T>, Error> {
        let mut items = Vec::new();
        for _ in 0..MAX_PAGES {
            let page: wire::PagedDto<T> =
                self.client.get_json(&format!("{path}?start={}&limit={PAGE}", items.len())).await?;
            let received = page.values.len();
            items.extend(page.values);
            if page.is_last_page != Some(false) || received == 0 {
                return Ok(items);
            }
        }
        Err(malformed(path, format!("more than {MAX_PAGES} pages")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn portal_requests_read_exactly_or_not_at_all() {
        let fields = RequestFields {
            participants: Some("cf_p".into()),
            organisations: Some("cf_o".into()),
            request_type: Some("cf_t".into()),
        };
        let request_type = json!({"requestType": {"id": "1", "name": "Get help"}});
        let people = |p: &[&str], o: &[&str]| {
            PortalRequest::Request(RequestPeople {
                participants: p.iter().map(|s| s.to_string()).collect(),
                organisations: o.iter().map(|s| s.to_string()).collect(),
            })
        };
        let cases: Vec<(Value, PortalRequest)> = vec![
            (json!({}), PortalRequest::None),
            (json!({"cf_t": null, "cf_p": [{"accountId": "a"}]}), PortalRequest::None),
            (json!({"cf_t": {"requestType": {"id": -1}}}), PortalRequest::None),
            (json!({"cf_t": request_type}), people(&[], &[])),
            (json!({"cf_t": request_type, "cf_p": null, "cf_o": null}), people(&[], &[])),
            (
                json!({"cf_t": request_type, "cf_p": [{"accountId": "a"}, {"accountId": ""}, 7], "cf_o": [{"id": 3}, {"id": "4"}, {"id": -1}]}),
                people(&["a"], &["3", "4"]),
            ),
            (
                json!({"cf_t": request_type, "cf_p": {"accountId": "a"}}),
                PortalRequest::Unreadable("request participants field is not a list".into()),
            ),
            (
                json!({"cf_t": request_type, "cf_o": "Initech"}),
                PortalRequest::Unreadable("organizations field is not a list".into()),
            ),
        ];
        for (other, expected) in cases {
            let map = serde_json::from_value(other.clone()).expect("object");
            assert_eq!(fields.portal(&map), expected, "{other}");
        }
        assert_eq!(RequestFields::default().portal(&Default::default()), PortalRequest::None);
    }
}

//! Users and groups: every group with its members (v1, 200 a page, member listings side by side) and
//! the display names and active flags of accounts (v2 `POST /users-bulk`).
//!
//! Unknown accounts are left out: unknown means no access.

use std::collections::{BTreeMap, BTreeSet};

use super::{account_of, is_id, Confluence, GROUP_LIMIT, USERS_PER_BULK};
use crate::atlassian::model::{Directory, DirectoryGroup, DirectoryUser};
use crate::atlassian::paginate::OffsetPager;
use crate::atlassian::path::segment;
use crate::atlassian::wire::confluence::{v1, v2};
use crate::atlassian::Error;

impl Confluence {
    /// Groups with their members, and the users they name (plus `extra_accounts`) with display name and
    /// active flag. Accounts `users-bulk` does not know are left out: unknown means no access.
    pub async fn directory(&self, extra_accounts: &[String]) -> Result<Directory, Error> {
        let groups = self.groups().await?;
        let accounts: BTreeSet<String> = extra_accounts
            .iter()
            .filter(|a| !a.is_empty())
            .cloned()
            .chain(groups.values().flat_map(|g| g.members.iter().cloned()))
            .collect();
        let accounts: Vec<String> = accounts.into_iter().collect();
        let users = self.users(&accounts).await?;
        Ok(Directory { users, groups })
    }

    /// Every group by id with its members' account ids (v1 `/group` and `membersByGroupId`, 200 a page).
    /// The member listings run side by side, as far as the client's concurrency allows.
    pub async fn groups(&self) -> Result<BTreeMap<String, DirectoryGroup>, Error> {
        let listed = OffsetPager::<v1::GroupArray>::new("/wiki/rest/api/group", GROUP_LIMIT)
            .collect_all(&self.client)
            .await?;
        let mut tasks = tokio::task::JoinSet::new();
        for group in listed.into_iter().filter(|g| is_id(&g.id)) {
            let client = self.client.clone();
            tasks.spawn(async move {
                let path = format!("/wiki/rest/api/group/{}/membersByGroupId", segment(&group.id));
                let members = OffsetPager::<v1::UserArray>::new(path, GROUP_LIMIT).collect_all(&client).await;
                (group, members)
            });
        }
        let mut groups = BTreeMap::new();
        while let Some(joined) = tasks.join_next().await {
            let (group, members) = joined.map_err(|e| Error::InvalidRequest {
                path: "/wiki/rest/api/group/{id}/membersByGroupId".into(),
                reason: format!("member listing task failed: {e}"),
            })?;
            let members: BTreeSet<String> = members?.iter().filter_map(account_of).collect();
            groups.insert(group.id, DirectoryGroup { name: group.name, members });
        }
        Ok(groups)
    }

    /// Display name and active flag of `accounts` (`POST /users-bulk`, 250 a request). Accounts the site
    /// does not know are left out: unknown means no access.
    pub async fn users(&self, accounts: &[String]) -> Result<BTreeMap<String, DirectoryUser>, Error> {
        let mut users = BTreeMap::new();
        for batch in accounts.chunks(USERS_PER_BULK) {
            let request = v2::UsersBulkRequest { account_ids: batch.to_vec() };
            let found: v2::MultiEntityResult<v2::User> =
                self.client.post_json("/wiki/api/v2/users-bulk", &request).await?;
            for user in found.results.into_iter().filter(|u| is_id(&u.account_id)) {
                let display_name = user.display_name.or(user.public_name).unwrap_or_default();
                let active = user.account_status.as_deref() == Some("active");
                // A hidden address comes as an empty string (or not at all).
                let email = user.email.filter(|e| !e.trim().is_empty());
                users.insert(user.account_id, DirectoryUser { display_name, active, email });
            }
        }
        Ok(users)
    }
}

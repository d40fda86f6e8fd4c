//! Users and groups: every user the site lists (`/users/search`) with display name and active flag, every
//! group (`/group/bulk`) with its members (`/group/member`, inactive users included, listings side by
//! side), and the group name → id map that grants and visibilities naming a group only by its name are
//! resolved with.
//!
//! A user or group without a usable id is left out: unknown means no access.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use serde::Deserialize;
use tokio::task::JoinSet;

use super::{is_id, joined, Jira, API, GROUPS_PAGE, GROUP_MEMBERS_PAGE, USERS_PAGE};
use crate::atlassian::model::{Directory, DirectoryGroup, DirectoryUser};
use crate::atlassian::paginate::{OffsetPage, OffsetPager, OffsetParts};
use crate::atlassian::path::query;
use crate::atlassian::wire::jira as wire;
use crate::atlassian::Error;

impl Jira {
    /// Users (`/users/search`, every page; display name and active flag) and groups (`/group/bulk`) with
    /// their members (`/group/member`, inactive users included). A member the user listing missed is
    /// added with what the member listing says about them.
    pub async fn directory(&self) -> Result<Directory, Error> {
        let mut directory = Directory { users: self.users().await?, groups: BTreeMap::new() };
        let groups = self.groups().await?;
        let mut tasks = JoinSet::new();
        for (group_id, name) in groups {
            let client = self.client.clone();
            tasks.spawn(async move {
                let path = format!(
                    "{API}/group/member?{}",
                    query(&[("groupId", &group_id), ("includeInactiveUsers", "true")])
                );
                let members = OffsetPager::<wire::PageBean<wire::User>>::new(path, GROUP_MEMBERS_PAGE)
                    .collect_all(&client)
                    .await;
                (group_id, name, members)
            });
        }
        while let Some(done) = tasks.join_next().await {
            let (group_id, name, members) = joined(done);
            let mut group = DirectoryGroup { name, members: BTreeSet::new() };
            for member in members? {
                if let Some((id, entry)) = directory_user(member) {
                    group.members.insert(id.clone());
                    directory.users.entry(id).or_insert(entry);
                }
            }
            directory.groups.insert(group_id, group);
        }
        Ok(directory)
    }

    /// Every user the site lists (`/users/search`, every page) with display name and active flag.
    pub async fn users(&self) -> Result<BTreeMap<String, DirectoryUser>, Error> {
        let listed = OffsetPager::<UserList>::new(format!("{API}/users/search"), USERS_PAGE)
            .collect_all(&self.client)
            .await?;
        Ok(listed.into_iter().filter_map(directory_user).collect())
    }

    /// Every group as (id, name), and the name → id map remembered for later resolution.
    async fn groups(&self) -> Result<Vec<(String, String)>, Error> {
        let listed =
            OffsetPager::<wire::PageBean<wire::GroupName>>::new(format!("{API}/group/bulk"), GROUPS_PAGE)
                .collect_all(&self.client)
                .await?;
        let mut groups = BTreeMap::new();
        for group in listed {
            // A group without an id cannot be named by any grant that permdex keeps (grants keep ids).
            if let Some(id) = group.group_id.filter(|id| is_id(id)) {
                groups.insert(id, group.name.unwrap_or_default());
            }
        }
        let by_name = groups.iter().map(|(id, name)| (name.clone(), id.clone())).collect();
        self.names().group_ids = Some(by_name);
        Ok(groups.into_iter().collect())
    }

    /// Group name → id: remembered from the last walk, or walked now.
    pub(super) async fn group_ids(&self) -> Result<HashMap<String, String>, Error> {
        if let Some(known) = self.names().group_ids.clone() {
            return Ok(known);
        }
        self.groups().await?;
        Ok(self.names().group_ids.clone().unwrap_or_default())
    }
}

/// `users/search` answers a bare array; the walk ends on the first empty page, because Jira may answer
/// fewer users than asked for before the end.
#[derive(Debug, Deserialize)]
#[serde(transparent)]
struct UserList(Vec<wire::User>);

impl OffsetPage for UserList {
    type Item = wire::User;
    const START_PARAM: &'static str = "startAt";
    const LIMIT_PARAM: &'static str = "maxResults";
    fn into_parts(self) -> OffsetParts<wire::User> {
        OffsetParts { items: self.0, limit: None, total: None, is_last: Some(false) }
    }
}

fn directory_user(user: wire::User) -> Option<(String, DirectoryUser)> {
    let id = Some(user.account_id).filter(|id| is_id(id))?;
    // An account whose state is not said is not treated as active.
    let entry = DirectoryUser {
        display_name: user.display_name.unwrap_or_default(),
        active: user.active.unwrap_or(false),
        email: user.email_address.filter(|e| !e.trim().is_empty()),
    };
    Some((id, entry))
}

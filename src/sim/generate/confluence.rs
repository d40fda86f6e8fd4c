//! Confluence for the simulated company: spaces and their permissions, page trees, restrictions, blog
//! posts, footer comments with replies, and attachments of every kind.
//!
//! Shapes the HTTP layer and the oracle rely on, all built here:
//! - a global space (or two) per department, personal spaces read by their owner (some shared), archived
//!   spaces, and a customer-facing space that anonymous users may read;
//! - space permissions beyond `read` (create, delete, export, administer, …), some given to principals
//!   without read, which must not count as read;
//! - page trees at most six pages deep (a page has at most five ancestors);
//! - read restrictions on about a tenth of the pages, at every depth, naming users and/or groups; exactly
//!   one of them names a departed account; update-only restrictions, which do not affect reading;
//! - a few archived leaf pages; blog posts, some restricted;
//! - attachments of every [`FileKind`], with exactly one corrupt PDF and one oversized file per site.
//!
//! Every id comes from [`IdSequences`], so later mutations continue the sequences.

use std::collections::BTreeSet;

use rand::seq::SliceRandom;
use rand::Rng;

use super::people::{People, Purpose};
use super::text::{self, Mention, PageContext};
use super::topics::{Topic, TOPICS};
use super::{later, uuid, Plan, DAY};
use crate::sim::model::*;

/// The deepest a page may sit: a root page has depth 1.
pub const MAX_DEPTH: usize = 6;

/// Retired spaces: `(key, name, department)`.
const ARCHIVED_SPACES: &[(&str, &str, usize)] = &[
    ("LEGACY", "Legacy Wiki", 0),
    ("PHOENIX", "Project Phoenix (retired)", 1),
    ("MOVE24", "Office Move 2024", 3),
];

/// Share of the item budget per kind of Confluence item.
const PAGE_SHARE: f64 = 0.30;
const BLOG_SHARE: f64 = 0.04;
const COMMENT_SHARE: f64 = 0.16;
const ATTACHMENT_SHARE: f64 = 0.06;

struct SpaceSpec {
    key: String,
    name: String,
    topic: usize,
    kind: SpaceKind,
    status: Status,
    /// Relative share of the page budget.
    weight: u32,
    /// Index into `TOPICS[topic].spaces` for global spaces: 0 main, 1 second.
    flavour: usize,
}

/// A page or blog post that comments and attachments can hang off.
struct Container {
    id: u64,
    topic: usize,
    created: Millis,
}

pub(super) fn generate<R: Rng>(rng: &mut R, site: &mut Site, people: &People, plan: &Plan) {
    let specs = space_specs(rng, people, plan);
    let mut space_ids = Vec::with_capacity(specs.len());
    for spec in &specs {
        space_ids.push(add_space(rng, site, people, spec));
    }

    // Personal spaces get a few pages each; the rest of the budget is shared by weight.
    let page_budget = plan.share(PAGE_SHARE, 40);
    let mut pages_per_space: Vec<usize> = specs
        .iter()
        .map(|s| if matches!(s.kind, SpaceKind::Personal { .. }) { rng.gen_range(1..=3) } else { 0 })
        .collect();
    let personal_pages: usize = pages_per_space.iter().sum();
    let shared_budget = page_budget.saturating_sub(personal_pages);
    let total_weight: u32 = specs.iter().map(|s| s.weight).sum();
    for (i, spec) in specs.iter().enumerate() {
        if spec.weight > 0 {
            pages_per_space[i] = (shared_budget * spec.weight as usize / total_weight as usize).max(3);
        }
    }

    let mut containers = Vec::new();
    for (i, spec) in specs.iter().enumerate() {
        add_page_tree(rng, site, people, space_ids[i], spec, pages_per_space[i], &mut containers);
    }
    add_blog_posts(rng, site, people, &specs, &space_ids, plan.share(BLOG_SHARE, 8), &mut containers);
    restrict_pages(rng, site, people);
    archive_some_leaves(rng, site);
    add_comments(rng, site, people, &containers, plan.share(COMMENT_SHARE, 20));
    add_attachments(rng, site, people, &containers, plan.share(ATTACHMENT_SHARE, 8));
}

fn space_specs<R: Rng>(rng: &mut R, people: &People, plan: &Plan) -> Vec<SpaceSpec> {
    let mut specs = Vec::new();
    let global = |topic: usize, flavour: usize, weight: u32| {
        let (key, name) = TOPICS[topic].spaces[flavour];
        SpaceSpec {
            key: key.into(),
            name: name.into(),
            topic,
            kind: SpaceKind::Global,
            status: Status::Current,
            weight,
            flavour,
        }
    };
    for topic in 0..plan.topics {
        specs.push(global(topic, 0, 3));
    }
    for topic in 0..plan.second_spaces.min(plan.topics) {
        specs.push(global(topic, 1, 2));
    }
    for &(key, name, topic) in ARCHIVED_SPACES.iter().take(plan.archived_spaces) {
        specs.push(SpaceSpec {
            key: key.into(),
            name: name.into(),
            topic: topic.min(plan.topics - 1),
            kind: SpaceKind::Global,
            status: Status::Archived,
            weight: 1,
            flavour: 0,
        });
    }
    let owners: Vec<&String> = people.active.choose_multiple(rng, plan.personal_spaces).collect();
    for owner in owners {
        let key: String =
            std::iter::once('~').chain(owner.chars().filter(char::is_ascii_alphanumeric)).collect();
        specs.push(SpaceSpec {
            key,
            name: people.display_name(owner).to_string(),
            topic: people.department_of.get(owner.as_str()).copied().unwrap_or(0),
            kind: SpaceKind::Personal { owner: owner.clone() },
            status: Status::Current,
            weight: 0,
            flavour: 0,
        });
    }
    specs
}

/// Who reads a global space, by department policy. Where a department has no group on a small site,
/// its people are granted one by one, as real small sites do.
fn global_readers<R: Rng>(rng: &mut R, people: &People, spec: &SpaceSpec) -> Vec<SpacePrincipal> {
    let group = |id: &str| SpacePrincipal::Group(id.to_string());
    let everyone = group(people.group(Purpose::ConfluenceUsers));
    let department: Vec<SpacePrincipal> = match people.department_group(spec.topic) {
        Some(id) => vec![group(id)],
        None => {
            let mut members: Vec<&String> =
                people.department_of.iter().filter(|(_, t)| **t == spec.topic).map(|(a, _)| a).collect();
            members.retain(|a| **a != people.admin);
            members.into_iter().map(|a| SpacePrincipal::User(a.clone())).collect()
        }
    };
    let mut readers = match (spec.topic, spec.flavour) {
        (0, 0) | (8, _) | (9, _) => vec![group(people.group(Purpose::Engineering))],
        (0, _) => vec![group(people.group(Purpose::Engineering)), group(people.group(Purpose::Contractors))],
        (1, _) | (2, _) => {
            let mut r = department;
            r.push(group(people.group(Purpose::Auditors)));
            r
        }
        (3, 0) => {
            let mut r = department;
            r.push(group(people.group(Purpose::Confidential)));
            r
        }
        (3, _) | (5, _) => vec![everyone],
        (4, 0) => vec![SpacePrincipal::Role("ANONYMOUS".into()), everyone],
        (4, _) => {
            let mut r = department;
            r.push(everyone);
            r
        }
        (6, _) => {
            let mut r = department;
            r.push(group(people.group(Purpose::Managers)));
            r
        }
        _ => department,
    };
    if spec.status == Status::Archived {
        readers = vec![group(people.group(Purpose::Engineering))];
    }
    // A guest from another department, granted by name.
    if rng.gen_bool(0.5) {
        if let Some(guest) = people.active.choose(rng) {
            readers.push(SpacePrincipal::User(guest.clone()));
        }
    }
    dedup(readers)
}

fn dedup(principals: Vec<SpacePrincipal>) -> Vec<SpacePrincipal> {
    let mut seen = BTreeSet::new();
    principals.into_iter().filter(|p| seen.insert(p.clone())).collect()
}

/// Operations people hold besides reading. None of these lets anyone read.
const CONTRIBUTOR_OPERATIONS: &[(&str, &str)] = &[
    ("create", "page"),
    ("create", "blogpost"),
    ("create", "comment"),
    ("create", "attachment"),
    ("delete", "page"),
    ("archive", "page"),
];

fn add_space<R: Rng>(rng: &mut R, site: &mut Site, people: &People, spec: &SpaceSpec) -> u64 {
    let id = IdSequences::take(&mut site.ids.space);
    let mut grants: Vec<(SpacePrincipal, &str, &str)> = Vec::new();
    let author = match &spec.kind {
        SpaceKind::Personal { owner } => {
            grants.push((SpacePrincipal::User(owner.clone()), "read", "space"));
            grants.push((SpacePrincipal::User(owner.clone()), "administer", "space"));
            for &(op, target) in CONTRIBUTOR_OPERATIONS {
                grants.push((SpacePrincipal::User(owner.clone()), op, target));
            }
            // Some owners share their space with a colleague or their department.
            if rng.gen_bool(0.35) {
                let shared = match people.department_group(spec.topic) {
                    Some(g) if rng.gen_bool(0.5) => SpacePrincipal::Group(g.to_string()),
                    _ => SpacePrincipal::User(pick_other(rng, people.colleagues(spec.topic), owner)),
                };
                grants.push((shared, "read", "space"));
            }
            owner.clone()
        }
        SpaceKind::Global => {
            let readers = global_readers(rng, people, spec);
            for reader in &readers {
                grants.push((reader.clone(), "read", "space"));
                if !matches!(reader, SpacePrincipal::Role(_)) {
                    for &(op, target) in CONTRIBUTOR_OPERATIONS.iter().take(rng.gen_range(2..=6)) {
                        grants.push((reader.clone(), op, target));
                    }
                }
            }
            // Permissions that look like access but are not read: the admin administers every space,
            // contractors may comment and managers export in some spaces they cannot read.
            grants.push((SpacePrincipal::User(people.admin.clone()), "administer", "space"));
            grants.push((SpacePrincipal::User(people.admin.clone()), "restrict_content", "space"));
            let contractors = SpacePrincipal::Group(people.group(Purpose::Contractors).to_string());
            if rng.gen_bool(0.4) && !readers.contains(&contractors) {
                grants.push((contractors, "create", "comment"));
            }
            let managers = SpacePrincipal::Group(people.group(Purpose::Managers).to_string());
            if rng.gen_bool(0.4) && !readers.contains(&managers) {
                grants.push((managers, "export", "space"));
            }
            text::pick(rng, people.colleagues(spec.topic)).clone()
        }
    };
    let permissions = grants
        .into_iter()
        .map(|(principal, operation, target)| SpacePermission {
            id: IdSequences::take(&mut site.ids.space_permission),
            principal,
            operation: operation.into(),
            target: target.into(),
        })
        .collect();
    let topic = &TOPICS[spec.topic];
    let description = match &spec.kind {
        SpaceKind::Personal { .. } => format!("Personal notes of {}.", spec.name),
        SpaceKind::Global => format!(
            "{} space of the {}: {}, {} and {}.",
            spec.name, topic.team, topic.systems[0], topic.objects[0], topic.objects[1]
        ),
    };
    site.spaces.insert(
        id,
        Space {
            id,
            key: spec.key.clone(),
            name: spec.name.clone(),
            description,
            kind: spec.kind.clone(),
            status: spec.status,
            created: text::START + rng.gen_range(0..20 * DAY),
            author,
            homepage_id: None,
            topic: spec.topic,
            permissions,
        },
    );
    id
}

/// Someone from `pool` other than `not`, or `not` itself when the pool has nobody else.
fn pick_other<R: Rng>(rng: &mut R, pool: &[String], not: &str) -> String {
    let others: Vec<&String> = pool.iter().filter(|a| *a != not).collect();
    others.choose(rng).map_or_else(|| not.to_string(), |a| (*a).clone())
}

/// An author for content of a department: usually an active colleague, sometimes someone who has since left.
fn author<R: Rng>(rng: &mut R, people: &People, topic: usize) -> String {
    if !people.inactive.is_empty() && rng.gen_bool(0.05) {
        text::pick(rng, &people.inactive).clone()
    } else {
        text::pick(rng, people.colleagues(topic)).clone()
    }
}

/// A title not yet used in the space (Confluence keeps titles unique per space).
fn unique_title(titles: &mut BTreeSet<String>, mut make: impl FnMut() -> String) -> String {
    for _ in 0..6 {
        let title = make();
        if titles.insert(title.clone()) {
            return title;
        }
    }
    let base = make();
    let title = (2..).map(|n| format!("{base} ({n})")).find(|t| !titles.contains(t)).unwrap_or(base);
    titles.insert(title.clone());
    title
}

fn labels<R: Rng>(rng: &mut R, topic: &Topic, first: &str) -> Vec<String> {
    let mut labels = vec![first.to_string()];
    for _ in 0..rng.gen_range(0..=2) {
        let label = text::pick(rng, topic.labels).to_string();
        if !labels.contains(&label) {
            labels.push(label);
        }
    }
    labels
}

#[allow(clippy::too_many_arguments)]
fn content<R: Rng>(
    rng: &mut R,
    people: &People,
    id: u64,
    kind: ContentKind,
    space_id: u64,
    parent_id: Option<u64>,
    title: String,
    body: String,
    topic: usize,
    created: Millis,
    labels: Vec<String>,
    position: i32,
) -> Content {
    let author = author(rng, people, topic);
    let version = if rng.gen_bool(0.5) { 1 } else { rng.gen_range(2..=8) };
    let (updated, last_editor) = if version == 1 {
        (created, author.clone())
    } else {
        (later(rng, created, 200 * DAY), text::pick(rng, people.colleagues(topic)).clone())
    };
    Content {
        id,
        kind,
        space_id,
        parent_id,
        title,
        body,
        status: Status::Current,
        version,
        created,
        updated,
        author,
        last_editor,
        read_restriction: Restriction::default(),
        update_restriction: Restriction::default(),
        labels,
        position,
    }
}

fn add_page_tree<R: Rng>(
    rng: &mut R,
    site: &mut Site,
    people: &People,
    space_id: u64,
    spec: &SpaceSpec,
    count: usize,
    containers: &mut Vec<Container>,
) {
    let topic = &TOPICS[spec.topic];
    let mentions: Vec<Mention> = people.mentions(spec.topic);
    let site_name = site.name.clone();
    let space_created = site.spaces.get(&space_id).map_or(text::START, |s| s.created);
    // Pages are created in order over the site's lifetime, leaving the last month for edits and comments.
    let step = ((text::END - 30 * DAY - space_created) / count.max(1) as i64).max(1);
    let mut titles = BTreeSet::new();
    let mut recent_titles: Vec<String> = Vec::new();
    // (id, depth, children so far) of every page of the space, in creation order.
    let mut tree: Vec<(u64, usize, i32)> = Vec::with_capacity(count);
    let mut roots = 0;
    for k in 0..count {
        let id = IdSequences::take(&mut site.ids.content);
        let created = space_created + step * k as i64 + rng.gen_range(0..step);
        let (parent, depth, position) = if k == 0 || rng.gen_bool(0.03) {
            roots += 1;
            (None, 1, roots - 1)
        } else {
            let slot = choose_parent(rng, &tree);
            tree[slot].2 += 1;
            (Some(tree[slot].0), tree[slot].1 + 1, tree[slot].2 - 1)
        };
        let (title, labels) = if k == 0 {
            let title = match spec.kind {
                SpaceKind::Personal { .. } => format!("{}'s home", spec.name),
                SpaceKind::Global => format!("{} Home", spec.name),
            };
            titles.insert(title.clone());
            (title, vec!["home".to_string()])
        } else {
            let mut label = "";
            let title = unique_title(&mut titles, || {
                let (t, l) = text::page_title(rng, topic);
                label = l;
                t
            });
            (title, labels(rng, topic, label))
        };
        let ctx =
            PageContext { topic, people: &mentions, related_titles: &recent_titles, site_name: &site_name };
        let body = text::storage_page_body(rng, &ctx);
        let page = content(
            rng,
            people,
            id,
            ContentKind::Page,
            space_id,
            parent,
            title.clone(),
            body,
            spec.topic,
            created,
            labels,
            position,
        );
        if recent_titles.len() == 20 {
            recent_titles.remove(0);
        }
        recent_titles.push(title);
        containers.push(Container { id, topic: spec.topic, created });
        site.contents.insert(id, page);
        tree.push((id, depth, 0));
    }
    if let (Some(space), Some(&(home, _, _))) = (site.spaces.get_mut(&space_id), tree.first()) {
        space.homepage_id = Some(home);
    }
}

/// Picks a parent slot in `tree` whose page has room for a child below it. Recent pages are favoured so
/// trees grow deep branches, not only wide ones.
fn choose_parent<R: Rng>(rng: &mut R, tree: &[(u64, usize, i32)]) -> usize {
    let last = tree.len() - 1;
    if tree[last].1 < MAX_DEPTH && rng.gen_bool(0.45) {
        return last;
    }
    for _ in 0..8 {
        let slot = rng.gen_range(0..tree.len());
        if tree[slot].1 < MAX_DEPTH {
            return slot;
        }
    }
    // The home page has depth 1, so it always has room.
    0
}

fn add_blog_posts<R: Rng>(
    rng: &mut R,
    site: &mut Site,
    people: &People,
    specs: &[SpaceSpec],
    space_ids: &[u64],
    count: usize,
    containers: &mut Vec<Container>,
) {
    let global: Vec<usize> = (0..specs.len())
        .filter(|&i| specs[i].kind == SpaceKind::Global && specs[i].status == Status::Current)
        .collect();
    let personal: Vec<usize> =
        (0..specs.len()).filter(|&i| matches!(specs[i].kind, SpaceKind::Personal { .. })).collect();
    let site_name = site.name.clone();
    // Blog titles stay clear of page titles in the same space.
    let slot_of: std::collections::BTreeMap<u64, usize> =
        space_ids.iter().enumerate().map(|(i, id)| (*id, i)).collect();
    let mut titles: Vec<BTreeSet<String>> = vec![BTreeSet::new(); specs.len()];
    for c in site.contents.values() {
        if let Some(&i) = slot_of.get(&c.space_id) {
            titles[i].insert(c.title.clone());
        }
    }
    let step = ((text::END - 40 * DAY - text::START) / count.max(1) as i64).max(1);
    let mentions: Vec<Vec<Mention>> = (0..TOPICS.len()).map(|t| people.mentions(t)).collect();
    for k in 0..count {
        let i = if !personal.is_empty() && rng.gen_bool(0.15) {
            *text::pick(rng, &personal)
        } else {
            *text::pick(rng, &global)
        };
        let spec = &specs[i];
        let topic = &TOPICS[spec.topic];
        let id = IdSequences::take(&mut site.ids.content);
        let created = text::START + 20 * DAY + step * k as i64 + rng.gen_range(0..step);
        let title = unique_title(&mut titles[i], || text::blog_title(rng, topic));
        let ctx =
            PageContext { topic, people: &mentions[spec.topic], related_titles: &[], site_name: &site_name };
        let body = text::storage_page_body(rng, &ctx);
        let labels = labels(rng, topic, "blog");
        let mut post = content(
            rng,
            people,
            id,
            ContentKind::BlogPost,
            space_ids[i],
            None,
            title,
            body,
            spec.topic,
            created,
            labels,
            0,
        );
        if let SpaceKind::Personal { owner } = &spec.kind {
            post.author = owner.clone();
            post.last_editor = owner.clone();
        }
        containers.push(Container { id, topic: spec.topic, created });
        site.contents.insert(id, post);
    }
}

/// A restriction naming people and/or groups relevant to the department.
fn restriction<R: Rng>(rng: &mut R, people: &People, topic: usize) -> Restriction {
    let mut r = Restriction::default();
    let (with_users, with_groups) = match rng.gen_range(0..20) {
        0..=8 => (true, false),
        9..=15 => (false, true),
        _ => (true, true),
    };
    if with_users {
        for _ in 0..rng.gen_range(1..=3) {
            r.users.insert(text::pick(rng, people.colleagues(topic)).clone());
        }
        if !people.inactive.is_empty() && rng.gen_bool(0.1) {
            r.users.insert(text::pick(rng, &people.inactive).clone());
        }
    }
    if with_groups {
        let specific = people.specific_groups();
        let preferred = people.department_group(topic).unwrap_or(people.group(Purpose::Confidential));
        r.groups.insert(preferred.to_string());
        if !specific.is_empty() && rng.gen_bool(0.4) {
            r.groups.insert(text::pick(rng, &specific).to_string());
        }
    }
    r
}

/// Read restrictions on about a tenth of pages and blog posts, update-only restrictions on some, and
/// exactly one read restriction naming the departed account.
fn restrict_pages<R: Rng>(rng: &mut R, site: &mut Site, people: &People) {
    let topics: std::collections::BTreeMap<u64, usize> =
        site.spaces.values().map(|s| (s.id, s.topic)).collect();
    let homepages: BTreeSet<u64> = site.spaces.values().filter_map(|s| s.homepage_id).collect();
    let mut restricted = Vec::new();
    for c in site.contents.values_mut() {
        let topic = topics.get(&c.space_id).copied().unwrap_or(0);
        let chance = if homepages.contains(&c.id) { 0.03 } else { 0.10 };
        if rng.gen_bool(chance) {
            c.read_restriction = restriction(rng, people, topic);
            restricted.push(c.id);
        }
        if rng.gen_bool(0.06) {
            let mut r = Restriction::default();
            r.users.insert(c.author.clone());
            if rng.gen_bool(0.5) {
                r.groups.insert(
                    people.department_group(topic).unwrap_or(people.group(Purpose::Admins)).to_string(),
                );
            }
            c.update_restriction = r;
        }
    }
    // The departed account goes on a page, not the home page, so the rest of its space stays visible.
    let candidates: Vec<u64> = restricted.iter().copied().filter(|id| !homepages.contains(id)).collect();
    let target = match candidates.choose(rng) {
        Some(id) => *id,
        None => {
            // Too few pages drew a restriction: restrict one explicitly.
            let pages: Vec<u64> = site
                .contents
                .values()
                .filter(|c| c.kind == ContentKind::Page && !homepages.contains(&c.id))
                .map(|c| c.id)
                .collect();
            match pages.choose(rng) {
                Some(id) => *id,
                None => return,
            }
        }
    };
    if let Some(c) = site.contents.get_mut(&target) {
        c.read_restriction.users.insert(people.departed.clone());
    }
}

/// Archives about three percent of the leaf pages (never a home page), at least one.
fn archive_some_leaves<R: Rng>(rng: &mut R, site: &mut Site) {
    let parents: BTreeSet<u64> = site.contents.values().filter_map(|c| c.parent_id).collect();
    let homepages: BTreeSet<u64> = site.spaces.values().filter_map(|s| s.homepage_id).collect();
    let leaves: Vec<u64> = site
        .contents
        .values()
        .filter(|c| c.kind == ContentKind::Page && !parents.contains(&c.id) && !homepages.contains(&c.id))
        .map(|c| c.id)
        .collect();
    let count = (leaves.len() * 3 / 100).max(1).min(leaves.len());
    for id in leaves.choose_multiple(rng, count) {
        if let Some(c) = site.contents.get_mut(id) {
            c.status = Status::Archived;
        }
    }
}

fn add_comments<R: Rng>(
    rng: &mut R,
    site: &mut Site,
    people: &People,
    containers: &[Container],
    count: usize,
) {
    // Top-level comments per container, so replies answer a comment on the same page.
    let mut top_level: Vec<Vec<(u64, Millis)>> = vec![Vec::new(); containers.len()];
    let mentions: Vec<Vec<Mention>> = (0..TOPICS.len()).map(|t| people.mentions(t)).collect();
    for _ in 0..count {
        let slot = rng.gen_range(0..containers.len());
        let container = &containers[slot];
        let id = IdSequences::take(&mut site.ids.content);
        let reply_to = if !top_level[slot].is_empty() && rng.gen_bool(0.35) {
            Some(*text::pick(rng, &top_level[slot]))
        } else {
            None
        };
        let after = reply_to.map_or(container.created, |(_, t)| t);
        let created = later(rng, after, 60 * DAY);
        let (version, updated) =
            if rng.gen_bool(0.1) { (2, later(rng, created, 10 * DAY)) } else { (1, created) };
        let body = text::storage_comment_body(rng, &TOPICS[container.topic], &mentions[container.topic]);
        site.comments.insert(
            id,
            Comment {
                id,
                container_id: container.id,
                parent_comment_id: reply_to.map(|(p, _)| p),
                body,
                version,
                created,
                updated,
                author: author(rng, people, container.topic),
            },
        );
        if reply_to.is_none() {
            top_level[slot].push((id, created));
        }
    }
}

/// The kinds of `count` attachments: each ordinary kind at least once, exactly one corrupt PDF and one
/// oversized file, the rest weighted towards PDFs and office documents.
fn attachment_kinds<R: Rng>(rng: &mut R, count: usize) -> Vec<FileKind> {
    let ordinary =
        [FileKind::Pdf, FileKind::Docx, FileKind::Xlsx, FileKind::Text, FileKind::Markdown, FileKind::Csv];
    let weighted = [
        FileKind::Pdf,
        FileKind::Pdf,
        FileKind::Pdf,
        FileKind::Docx,
        FileKind::Docx,
        FileKind::Xlsx,
        FileKind::Xlsx,
        FileKind::Text,
        FileKind::Markdown,
        FileKind::Csv,
    ];
    let mut kinds: Vec<FileKind> = ordinary.to_vec();
    kinds.push(FileKind::CorruptPdf);
    kinds.push(FileKind::Oversized);
    while kinds.len() < count {
        kinds.push(*text::pick(rng, &weighted));
    }
    kinds.shuffle(rng);
    kinds
}

const ATTACHMENT_COMMENTS: &[&str] =
    &["", "", "Exported from the {system}", "Latest version", "Numbers for {month}", "Draft for review"];

fn add_attachments<R: Rng>(
    rng: &mut R,
    site: &mut Site,
    people: &People,
    containers: &[Container],
    count: usize,
) {
    let kinds = attachment_kinds(rng, count);
    let blog_slots: Vec<usize> = (0..containers.len())
        .filter(|&i| site.contents.get(&containers[i].id).is_some_and(|c| c.kind == ContentKind::BlogPost))
        .collect();
    let mut names_per_container: std::collections::BTreeMap<u64, BTreeSet<String>> = Default::default();
    for (n, kind) in kinds.into_iter().enumerate() {
        // The first attachment goes on a blog post, so blog posts are known to carry attachments too.
        let slot = match blog_slots.first() {
            Some(_) if n == 0 => *text::pick(rng, &blog_slots),
            _ => rng.gen_range(0..containers.len()),
        };
        let container = &containers[slot];
        let topic = &TOPICS[container.topic];
        let about = site.contents.get(&container.id).map_or_else(String::new, |c| c.title.clone());
        let (filename, body) = text::attachment_text(rng, topic, kind, &about);
        let names = names_per_container.entry(container.id).or_default();
        let filename = unique_filename(names, filename);
        let id = IdSequences::take(&mut site.ids.content);
        let created = later(rng, container.created, 90 * DAY);
        let (version, updated) =
            if rng.gen_bool(0.15) { (2, later(rng, created, 30 * DAY)) } else { (1, created) };
        let comment_template = *text::pick(rng, ATTACHMENT_COMMENTS);
        site.attachments.insert(
            id,
            Attachment {
                id,
                container_id: container.id,
                file: FileBody::new(kind, filename, body),
                file_id: uuid(rng),
                comment: text::fill(rng, topic, comment_template),
                version,
                created,
                updated,
                author: author(rng, people, container.topic),
            },
        );
    }
}

/// `name`, or `name` with a counter before the extension when the container already has that file.
pub(super) fn unique_filename(names: &mut BTreeSet<String>, name: String) -> String {
    if names.insert(name.clone()) {
        return name;
    }
    let (stem, ext) = match name.find('.') {
        Some(dot) => (&name[..dot], &name[dot..]),
        None => (name.as_str(), ""),
    };
    let unique =
        (2..).map(|n| format!("{stem}-{n}{ext}")).find(|n| !names.contains(n)).unwrap_or(name.clone());
    names.insert(unique.clone());
    unique
}

#[cfg(test)]
mod tests {
    use rand::SeedableRng;
    use rand_chacha::ChaCha8Rng;

    use super::*;

    #[test]
    fn attachment_kinds_cover_everything_with_one_corrupt_and_one_oversized() {
        let mut rng = ChaCha8Rng::seed_from_u64(9);
        for count in [8, 18, 500] {
            let kinds = attachment_kinds(&mut rng, count);
            assert_eq!(kinds.len(), count);
            assert_eq!(kinds.iter().filter(|k| **k == FileKind::CorruptPdf).count(), 1);
            assert_eq!(kinds.iter().filter(|k| **k == FileKind::Oversized).count(), 1);
            for kind in [
                FileKind::Pdf,
                FileKind::Docx,
                FileKind::Xlsx,
                FileKind::Text,
                FileKind::Markdown,
                FileKind::Csv,
            ] {
                assert!(kinds.contains(&kind), "{kind:?} missing at {count}");
            }
        }
    }

    #[test]
    fn parents_always_have_room_below_them() {
        let mut rng = ChaCha8Rng::seed_from_u64(3);
        let mut tree: Vec<(u64, usize, i32)> = vec![(0, 1, 0)];
        for id in 1..2_000 {
            let slot = choose_parent(&mut rng, &tree);
            assert!(tree[slot].1 < MAX_DEPTH);
            tree.push((id, tree[slot].1 + 1, 0));
        }
        assert_eq!(tree.iter().map(|t| t.1).max(), Some(MAX_DEPTH), "deep branches do grow");
    }

    #[test]
    fn unique_filenames_get_a_counter_before_the_extension() {
        let mut names = BTreeSet::new();
        let got: Vec<String> = ["a.pdf", "a.pdf", "a.pdf", "b.log.txt", "b.log.txt", "c"]
            .into_iter()
            .map(|n| unique_filename(&mut names, n.to_string()))
            .collect();
        assert_eq!(got, ["a.pdf", "a-2.pdf", "a-3.pdf", "b.log.txt", "b-2.log.txt", "c"]);
    }

    #[test]
    fn unique_titles_never_repeat() {
        let mut titles = BTreeSet::new();
        let got: Vec<String> = (0..4).map(|_| unique_title(&mut titles, || "Same".to_string())).collect();
        assert_eq!(got, ["Same", "Same (2)", "Same (3)", "Same (4)"]);
    }
}

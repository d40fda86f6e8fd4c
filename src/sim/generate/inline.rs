//! The inline-comments feature: comments anchored to highlighted text of pages and blog posts.
//!
//! About one current page or blog post in four gets one to three threads on a few words of its title,
//! each with up to two replies. A third of the threads are resolved, a few reopened and a few dangling
//! (their text is gone). Replies share their thread's marker, selection and resolution, as in Confluence.
//! Ids come from the content sequence that pages, comments and attachments share.
//!
//! Who may read them is their container's business (see the oracle); this module only builds them.

use rand::seq::SliceRandom;
use rand::Rng;

use super::text::{self, xml_escape};
use super::topics::TOPICS;
use super::{later, uuid, DAY};
use crate::sim::model::*;

const QUESTIONS: &[&str] = &[
    "Is this still accurate?",
    "Can we link the source for this?",
    "Who owns this part?",
    "This contradicts the runbook.",
    "Should this be a separate page?",
    "Typo here, I think.",
    "Can we add a diagram?",
];
const ANSWERS: &[&str] =
    &["Fixed, thanks.", "Good catch, updating.", "Agreed.", "Not yet, tracking it.", "See the linked issue."];

/// Adds the inline comments of the feature to `site`.
pub fn add<R: Rng>(rng: &mut R, site: &mut Site) {
    let containers: Vec<(u64, Millis, usize)> = site
        .contents
        .values()
        .filter(|c| c.status == Status::Current)
        .map(|c| (c.id, c.updated, site.spaces.get(&c.space_id).map_or(0, |s| s.topic)))
        .collect();
    let authors: Vec<String> = site.users.iter().filter(|u| u.active).map(|u| u.account_id.clone()).collect();
    if authors.is_empty() {
        return;
    }
    for (container_id, since, topic) in containers {
        if !rng.gen_bool(0.25) {
            continue;
        }
        let title = site.contents.get(&container_id).map(|c| c.title.clone()).unwrap_or_default();
        for _ in 0..rng.gen_range(1..=3) {
            let resolution = match rng.gen_range(0..12) {
                0..=3 => Resolution::Resolved,
                4 => Resolution::Reopened,
                5 => Resolution::Dangling,
                _ => Resolution::Open,
            };
            let selection = selection_of(rng, &title, topic);
            let marker_ref = uuid(rng);
            let mut parent = None;
            let mut at = later(rng, since, 30 * DAY);
            for n in 0..rng.gen_range(1..=3) {
                let id = IdSequences::take(&mut site.ids.content);
                let author = authors.choose(rng).cloned().unwrap_or_default();
                let lines = if n == 0 { QUESTIONS } else { ANSWERS };
                let line = *text::pick::<&str, _>(rng, lines);
                let body = format!("<p>{}</p>", xml_escape(line));
                let resolution_changed = (resolution != Resolution::Open).then(|| (author.clone(), at + DAY));
                site.inline_comments.insert(
                    id,
                    InlineComment {
                        id,
                        container_id,
                        parent_comment_id: parent,
                        body,
                        version: 1,
                        created: at,
                        updated: at,
                        author,
                        resolution,
                        resolution_changed,
                        marker_ref: marker_ref.clone(),
                        selection: selection.clone(),
                    },
                );
                parent = parent.or(Some(id));
                at = later(rng, at, 5 * DAY);
            }
        }
    }
}

/// A few words of the title, or of the topic's vocabulary when the title is short.
fn selection_of<R: Rng>(rng: &mut R, title: &str, topic: usize) -> String {
    let words: Vec<&str> = title.split_whitespace().collect();
    if words.len() >= 2 {
        let take = rng.gen_range(2..=words.len().min(4));
        let start = rng.gen_range(0..=words.len() - take);
        return words[start..start + take].join(" ");
    }
    let topic = &TOPICS[topic.min(TOPICS.len() - 1)];
    format!("{} {}", topic.systems[0], topic.objects[0])
}

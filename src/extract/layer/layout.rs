//! From placed characters to lines of words, the way a reader sees them on the page.
//!
//! Characters that follow each other in the content stream on one baseline make a line; within it they
//! are ordered by position along the baseline, a character drawn again on top of itself (fake bold) is
//! dropped, and a gap wider than a tenth of the font size is a space (poppler's word break). Lines in a
//! right-to-left script come out in visual order from the positions, so their words are turned back into
//! reading order. Not here: columns, reading order of blocks, hyphenation (a word search needs the words,
//! not the page's design).

use super::content::Placed;

/// A gap between characters wider than this share of the font size separates words.
const WORD_GAP: f64 = 0.1;
/// Baselines closer than this share of the font size are the same line.
const SAME_LINE: f64 = 0.5;
/// Within a line, a shift of baseline wider than this share of the font size between characters of one
/// size starts a new word (a smaller raised or lowered character is an index of the word it follows).
const BASELINE_SHIFT: f64 = 0.1;
/// How far above and below a line's baseline, as shares of its font size, smaller characters belong to it.
const SUPERSCRIPT: f64 = 0.6;
const SUBSCRIPT: f64 = 0.3;

/// The text of one page (or one annotation), lines separated by newlines.
pub fn lines(placed: &[Placed]) -> String {
    let mut out = String::new();
    for line in split_lines(placed) {
        let text = line_text(line);
        let text = text.trim();
        if text.is_empty() {
            continue;
        }
        // A word hyphenated at the end of the last line continues here: joined, as poppler joins it.
        let hyphen = ["-\n", "\u{ad}\n"].into_iter().find(|ending| out.ends_with(ending));
        if let Some(hyphen) = hyphen {
            let before = &out[..out.len() - hyphen.len()];
            if before.ends_with(char::is_alphabetic) && text.starts_with(char::is_alphabetic) {
                out.truncate(before.len());
            }
        }
        out.push_str(text);
        out.push('\n');
    }
    out
}

/// Unit vector along the baseline of a character, and the character's position along it and across it.
fn frame(c: &Placed) -> ((f64, f64), f64, f64) {
    let (dx, dy) = (c.end.0 - c.start.0, c.end.1 - c.start.1);
    let length = (dx * dx + dy * dy).sqrt();
    let direction = if length > 1e-9 { (dx / length, dy / length) } else { (1.0, 0.0) };
    let along = c.start.0 * direction.0 + c.start.1 * direction.1;
    let across = -c.start.0 * direction.1 + c.start.1 * direction.0;
    (direction, along, across)
}

/// Runs of consecutive characters that share a baseline.
fn split_lines(placed: &[Placed]) -> Vec<Vec<Placed>> {
    let mut lines: Vec<Vec<Placed>> = Vec::new();
    for c in placed {
        let joins = lines.last().and_then(|line| line.last()).is_some_and(|last| same_line(last, c));
        if joins {
            if let Some(line) = lines.last_mut() {
                line.push(c.clone());
            }
        } else {
            lines.push(vec![c.clone()]);
        }
    }
    lines
}

fn same_line(last: &Placed, next: &Placed) -> bool {
    let (direction, _, _) = frame(last);
    let (next_direction, _, _) = frame(next);
    let parallel = direction.0 * next_direction.0 + direction.1 * next_direction.1 > 0.9
        || next.start == next.end
        || last.start == last.end;
    // Height of the next character's baseline over the last one's.
    let (ox, oy) = (next.start.0 - last.start.0, next.start.1 - last.start.1);
    let rise = -ox * direction.1 + oy * direction.0;
    parallel && within_line(rise, last.size, next.size)
}

/// Whether a baseline `rise` above another (negative: below) keeps two characters of these sizes on one
/// line: within half the size for text of one size; for a smaller character, the band of a superscript
/// or subscript of the larger one (small print under a large heading is not on its line).
fn within_line(rise: f64, last_size: f64, next_size: f64) -> bool {
    let (small, large) = (last_size.min(next_size).max(1e-6), last_size.max(next_size));
    if rise.abs() <= SAME_LINE * small {
        return true;
    }
    if !differ_in_size(last_size, next_size) {
        return false;
    }
    // The smaller character's height over the larger's baseline.
    let small_rise = if next_size < last_size { rise } else { -rise };
    (-SUBSCRIPT * large..=SUPERSCRIPT * large).contains(&small_rise)
}

/// Sizes more than a fifth apart: a superscript, a subscript, small print.
fn differ_in_size(a: f64, b: f64) -> bool {
    a.max(b) > 1.2 * a.min(b)
}

/// One line's characters in reading order, with spaces at word gaps.
fn line_text(mut line: Vec<Placed>) -> String {
    let (direction, _, _) = frame(&line[0]);
    let along = |c: &Placed| c.start.0 * direction.0 + c.start.1 * direction.1;
    let across = |c: &Placed| -c.start.0 * direction.1 + c.start.1 * direction.0;
    let end_along = |c: &Placed| c.end.0 * direction.0 + c.end.1 * direction.1;
    line.sort_by(|a, b| along(a).total_cmp(&along(b)));
    let (spaces, line): (Vec<Placed>, Vec<Placed>) = line.into_iter().partition(|c| c.text == " ");

    let mut words: Vec<Vec<Placed>> = vec![Vec::new()];
    let mut previous: Option<&Placed> = None;
    for c in &line {
        if let Some(p) = previous {
            let size = p.size.max(c.size);
            let overprint = c.text == p.text && (along(c) - along(p)).abs() < 0.1 * size;
            if overprint {
                continue;
            }
            let gap = along(c) - end_along(p);
            // A space glyph drawn where the last character ends separates it from the next one, unless the
            // next one starts back over the space.
            let first_space = spaces.partition_point(|s| along(s) < end_along(p) - 0.01 * size);
            let spaced = spaces
                .get(first_space)
                .is_some_and(|s| along(s) <= along(c) && along(c) >= (along(s) + end_along(s)) / 2.0);
            let shifted =
                (across(c) - across(p)).abs() > BASELINE_SHIFT * size && !differ_in_size(p.size, c.size);
            if spaced || gap > WORD_GAP * size || shifted {
                words.push(Vec::new());
            }
        }
        if let Some(word) = words.last_mut() {
            word.push(c.clone());
        }
        previous = Some(c);
    }
    words.retain(|word| !word.is_empty());

    let right_to_left = line.iter().filter(|c| is_rtl(&c.text)).count() * 2 > line.len();
    let mut texts: Vec<String> = words
        .into_iter()
        .map(|mut word| {
            // A word mostly in a right-to-left script was read in visual order. (A producer's `/ToUnicode`
            // may give one glyph a whole phrase; its text is already in reading order.)
            if word.iter().filter(|c| is_rtl(&c.text)).count() * 2 > word.len() {
                word.reverse();
                reattach_marks(&mut word);
            }
            word.into_iter().map(|c| c.text).collect()
        })
        .collect();
    if right_to_left {
        texts.reverse();
    }
    texts.join(" ")
}

/// After a word is reversed, a combining mark drawn after its letter comes before it: put it back after.
fn reattach_marks(word: &mut [Placed]) {
    let mut i = 0;
    while i + 1 < word.len() {
        if word[i].text.chars().all(is_combining) && !word[i + 1].text.chars().all(is_combining) {
            word.swap(i, i + 1);
            i += 2;
        } else {
            i += 1;
        }
    }
}

fn is_combining(c: char) -> bool {
    matches!(c as u32, 0x0300..=0x036F | 0x0591..=0x05C7 | 0x0610..=0x061A | 0x064B..=0x065F | 0x0670 | 0x06D6..=0x06ED)
}

/// Whether text is in a right-to-left script (Hebrew, Arabic, Syriac, Thaana, N'Ko and their
/// presentation forms).
fn is_rtl(text: &str) -> bool {
    text.chars().any(|c| matches!(c as u32, 0x0590..=0x08FF | 0xFB1D..=0xFDFF | 0xFE70..=0xFEFF))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Characters of one font size 10, each `width` wide, placed left to right from `x` on baseline `y`.
    fn run(text: &str, x: f64, y: f64, width: f64) -> Vec<Placed> {
        text.chars()
            .enumerate()
            .map(|(i, c)| {
                let start = x + i as f64 * width;
                Placed { text: c.to_string(), start: (start, y), end: (start + width, y), size: 10.0 }
            })
            .collect()
    }

    fn small(text: &str, x: f64, y: f64) -> Vec<Placed> {
        run(text, x, y, 2.0).into_iter().map(|c| Placed { size: 4.0, ..c }).collect()
    }

    #[test]
    fn gaps_lines_overprint_and_direction() {
        let cases: Vec<(&str, Vec<Placed>, &str)> = vec![
            ("one run", run("Hello", 0.0, 100.0, 5.0), "Hello\n"),
            (
                "kerned gap",
                [run("Hello", 0.0, 100.0, 5.0), run("world", 27.0, 100.0, 5.0)].concat(),
                "Hello world\n",
            ),
            ("tight gap", [run("Hel", 0.0, 100.0, 5.0), run("lo", 15.5, 100.0, 5.0)].concat(), "Hello\n"),
            ("two lines", [run("ab", 0.0, 100.0, 5.0), run("cd", 0.0, 88.0, 5.0)].concat(), "ab\ncd\n"),
            ("hyphenated", [run("pop-", 0.0, 100.0, 5.0), run("ular", 0.0, 88.0, 5.0)].concat(), "popular\n"),
            ("dash", [run("x -", 0.0, 100.0, 5.0), run("y", 0.0, 88.0, 5.0)].concat(), "x -\ny\n"),
            ("superscript", [run("750", 0.0, 100.0, 5.0), small("1", 15.0, 104.0)].concat(), "7501\n"),
            ("small print below", [run("Big", 0.0, 100.0, 15.0), small("x", 0.0, 96.0)].concat(), "Big\nx\n"),
            ("out of order", [run("lo", 15.0, 100.0, 5.0), run("Hel", 0.0, 100.0, 5.0)].concat(), "Hello\n"),
            ("raised", [run("ab", 0.0, 100.0, 5.0), run("cd", 10.0, 104.0, 5.0)].concat(), "ab cd\n"),
            ("fake bold", [run("Bold", 0.0, 100.0, 5.0), run("Bold", 0.3, 100.0, 5.0)].concat(), "Bold\n"),
            (
                "space glyph",
                run("a b", 0.0, 100.0, 5.0).into_iter().filter(|c| c.text != " ").collect(),
                "a b\n",
            ),
            // Hebrew drawn in visual order: the word אבג is ג, ב, א from left to right.
            ("hebrew", [run("גבא", 0.0, 100.0, 5.0), run("והד", 25.0, 100.0, 5.0)].concat(), "דהו אבג\n"),
            (
                "rotated",
                vec![
                    Placed { text: "u".into(), start: (100.0, 0.0), end: (100.0, 5.0), size: 10.0 },
                    Placed { text: "p".into(), start: (100.0, 5.0), end: (100.0, 10.0), size: 10.0 },
                ],
                "up\n",
            ),
        ];
        for (name, placed, expected) in cases {
            assert_eq!(lines(&placed), expected, "{name}");
        }
    }
}

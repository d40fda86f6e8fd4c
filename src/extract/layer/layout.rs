//! From placed characters to lines of words, the way a reader sees them on the page.
//!
//! Characters that follow each other in the content stream on one baseline make a line. Within it, as in
//! poppler, words are made in drawing order: a character drawn right where the last one ends continues
//! its word, while a gap wider than a tenth of the font size, a space glyph, a jump back or a shift of
//! baseline starts a new one; a word drawn twice over itself (fake bold) is read once; then the words are
//! ordered by position. Lines in a right-to-left script come out in visual order from the positions, so
//! their words are turned back into reading order, and a word hyphenated at a line's end is joined. Not
//! here: columns and the reading order of blocks (a word search needs the words, not the page's design).

use std::collections::HashMap;

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
fn line_text(line: Vec<Placed>) -> String {
    let (direction, _, _) = frame(&line[0]);
    let along = |c: &Placed| c.start.0 * direction.0 + c.start.1 * direction.1;
    let across = |c: &Placed| -c.start.0 * direction.1 + c.start.1 * direction.0;
    let end_along = |c: &Placed| c.end.0 * direction.0 + c.end.1 * direction.1;

    // Words in drawing order: a character joins the last one's word when it is drawn right after it (or,
    // in a right-to-left script drawn in reading order, right before it), with no space glyph between
    // them that it does not draw back over, on the same baseline.
    let mut words: Vec<Vec<Placed>> = Vec::new();
    let mut space: Option<&Placed> = None;
    for c in &line {
        if c.text == " " {
            space = Some(c);
            continue;
        }
        let joins = words.last().and_then(|word| word.last()).is_some_and(|p| {
            let size = p.size.max(c.size);
            let forward = (along(c) - end_along(p)).abs() <= WORD_GAP * size;
            let backward = !forward && (along(p) - end_along(c)).abs() <= WORD_GAP * size;
            let spaced = space.is_some_and(|s| {
                let middle = (along(s) + end_along(s)) / 2.0;
                if forward {
                    along(c) >= middle
                } else {
                    end_along(c) <= middle
                }
            });
            let shifted =
                (across(c) - across(p)).abs() > BASELINE_SHIFT * size && !differ_in_size(p.size, c.size);
            (forward || backward) && !spaced && !shifted
        });
        match words.last_mut() {
            Some(word) if joins => word.push(c.clone()),
            _ => words.push(vec![c.clone()]),
        }
        space = None;
    }
    // A word drawn again over itself (fake bold, shadows) is read once. Only the last few places of each
    // word are compared, so a line of one word repeated cannot take quadratic time.
    let mut kept: Vec<Vec<Placed>> = Vec::with_capacity(words.len());
    let mut places: HashMap<String, Vec<f64>> = HashMap::new();
    for word in words {
        let text: String = word.iter().map(|c| c.text.as_str()).collect();
        let at = along(&word[0]);
        let seen = places.entry(text).or_default();
        if seen.iter().rev().take(16).any(|&other| (other - at).abs() < 0.1 * word[0].size) {
            continue;
        }
        seen.push(at);
        kept.push(word);
    }
    // Then the words, and the characters of each, in their order on the line.
    for word in &mut kept {
        word.sort_by(|a, b| along(a).total_cmp(&along(b)));
    }
    kept.sort_by(|a, b| along(&a[0]).total_cmp(&along(&b[0])));
    let words = kept;

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
            (
                "drawn right to left",
                [run("right", 30.0, 100.0, 5.0), run("left", 0.0, 100.0, 5.0)].concat(),
                "left right\n",
            ),
            (
                "each drawn a point on",
                [run("word", 0.0, 100.0, 5.0), run("word", 1.0, 100.0, 5.0), run("word", 2.0, 100.0, 5.0)]
                    .concat(),
                "word word word\n",
            ),
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

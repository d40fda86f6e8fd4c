//! The content stream interpreter: runs a page's (or form's) operators with the graphics and text state
//! that place text, and records every shown character with where it starts and ends on the page.
//!
//! Form XObjects are entered (to a bounded depth, never into one already open, within a budget of
//! operators per document, so nested or cyclic forms cannot multiply the work); Type3 glyph procedures are
//! not (what a glyph draws is not text). Nothing is painted and clipping, colour and invisible rendering
//! modes are ignored: text drawn anywhere on the page is text. Not here: turning placed characters into
//! lines and words (`layout.rs`).

use std::collections::HashMap;
use std::rc::Rc;

use lopdf::{Dictionary, Document, Object, ObjectId};

use super::font::{numbers, Font};
use super::lexer::{Lexer, Operand, Token};
use super::resolve;

/// A shown character in page space.
#[derive(Debug, Clone, PartialEq)]
pub struct Placed {
    pub text: String,
    /// Where the glyph starts and where the next one would start, on the baseline.
    pub start: (f64, f64),
    pub end: (f64, f64),
    /// The font's size on the page: the distance between baselines of tightly set lines.
    pub size: f64,
}

/// A 2-D affine transform `[a b c d e f]` (PDF's row-vector convention).
pub type Matrix = [f64; 6];

pub const IDENTITY: Matrix = [1.0, 0.0, 0.0, 1.0, 0.0, 0.0];

/// `m` then `n`: a point mapped by `m`, then by `n`.
pub fn concat(m: &Matrix, n: &Matrix) -> Matrix {
    [
        m[0] * n[0] + m[1] * n[2],
        m[0] * n[1] + m[1] * n[3],
        m[2] * n[0] + m[3] * n[2],
        m[2] * n[1] + m[3] * n[3],
        m[4] * n[0] + m[5] * n[2] + n[4],
        m[4] * n[1] + m[5] * n[3] + n[5],
    ]
}

fn apply(m: &Matrix, (x, y): (f64, f64)) -> (f64, f64) {
    (x * m[0] + y * m[2] + m[4], x * m[1] + y * m[3] + m[5])
}

fn translate(tx: f64, ty: f64) -> Matrix {
    [1.0, 0.0, 0.0, 1.0, tx, ty]
}

/// Forms nested deeper than this are not entered.
const MAX_FORM_DEPTH: usize = 12;

#[derive(Debug, Clone)]
struct GraphicsState {
    ctm: Matrix,
    font: Option<Rc<Font>>,
    size: f64,
    char_space: f64,
    word_space: f64,
    horizontal_scale: f64,
    leading: f64,
    rise: f64,
}

impl GraphicsState {
    fn new(ctm: Matrix) -> Self {
        Self {
            ctm,
            font: None,
            size: 0.0,
            char_space: 0.0,
            word_space: 0.0,
            horizontal_scale: 1.0,
            leading: 0.0,
            rise: 0.0,
        }
    }
}

/// Runs content streams of one document, sharing its loaded fonts and its operator budget.
pub struct Interpreter<'a> {
    doc: &'a Document,
    /// Loaded fonts by the address of their dictionary.
    fonts: HashMap<usize, Rc<Font>>,
    /// Operators left to run in this document.
    budget: usize,
    /// Forms currently being run, to refuse cycles.
    open_forms: Vec<ObjectId>,
    pub placed: Vec<Placed>,
    /// Characters beyond this many are not recorded.
    max_chars: usize,
}

impl<'a> Interpreter<'a> {
    pub fn new(doc: &'a Document, budget: usize, max_chars: usize) -> Self {
        Self { doc, fonts: HashMap::new(), budget, open_forms: Vec::new(), placed: Vec::new(), max_chars }
    }

    pub fn exhausted(&self) -> bool {
        self.budget == 0 || self.placed.len() >= self.max_chars
    }

    /// Runs a content stream with the given resources, starting from the transform `ctm`.
    pub fn run(&mut self, content: &[u8], resources: &[&'a Dictionary], ctm: Matrix) {
        let mut state = GraphicsState::new(ctm);
        let mut saved: Vec<GraphicsState> = Vec::new();
        let (mut tm, mut tlm) = (IDENTITY, IDENTITY);
        let mut operands: Vec<Operand> = Vec::new();
        for token in Lexer::new(content) {
            let operator = match token {
                Token::Operand(operand) => {
                    // Operands without an operator are garbage; a bounded pile of them is enough.
                    if operands.len() < 64 {
                        operands.push(operand);
                    }
                    continue;
                }
                Token::Operator(operator) => operator,
            };
            if self.exhausted() {
                return;
            }
            self.budget -= 1;
            let n = |i: usize| operands.get(i).and_then(Operand::number).unwrap_or(0.0);
            match operator.as_slice() {
                // Saves nested deeper than this are not kept (their restores then find an outer state).
                b"q" if saved.len() < 256 => saved.push(state.clone()),
                b"Q" => {
                    if let Some(previous) = saved.pop() {
                        state = previous;
                    }
                }
                b"cm" if operands.len() >= 6 => {
                    state.ctm = concat(&[n(0), n(1), n(2), n(3), n(4), n(5)], &state.ctm);
                }
                b"BT" => {
                    tm = IDENTITY;
                    tlm = IDENTITY;
                }
                b"Tf" => {
                    if let Some(Operand::Name(name)) = operands.first() {
                        state.font = self.font(resources, name);
                    }
                    state.size = n(1);
                }
                b"Tc" => state.char_space = n(0),
                b"Tw" => state.word_space = n(0),
                b"Tz" => state.horizontal_scale = n(0) / 100.0,
                b"TL" => state.leading = n(0),
                b"Ts" => state.rise = n(0),
                b"Td" => {
                    tlm = concat(&translate(n(0), n(1)), &tlm);
                    tm = tlm;
                }
                b"TD" => {
                    state.leading = -n(1);
                    tlm = concat(&translate(n(0), n(1)), &tlm);
                    tm = tlm;
                }
                b"Tm" if operands.len() >= 6 => {
                    tlm = [n(0), n(1), n(2), n(3), n(4), n(5)];
                    tm = tlm;
                }
                b"T*" => {
                    tlm = concat(&translate(0.0, -state.leading), &tlm);
                    tm = tlm;
                }
                b"Tj" | b"'" | b"\"" => {
                    if operator == b"\"" {
                        state.word_space = n(0);
                        state.char_space = n(1);
                    }
                    if operator != b"Tj" {
                        tlm = concat(&translate(0.0, -state.leading), &tlm);
                        tm = tlm;
                    }
                    if let Some(Operand::String(bytes)) = operands.last() {
                        self.show(&state, &mut tm, bytes);
                    }
                }
                b"TJ" => {
                    if let Some(Operand::Array(items)) = operands.last() {
                        for item in items {
                            match item {
                                Operand::String(bytes) => self.show(&state, &mut tm, bytes),
                                Operand::Number(adjust) => {
                                    let shift = -adjust / 1000.0 * state.size;
                                    let vertical = state.font.as_ref().is_some_and(|f| f.vertical);
                                    let (tx, ty) = if vertical {
                                        (0.0, shift)
                                    } else {
                                        (shift * state.horizontal_scale, 0.0)
                                    };
                                    tm = concat(&translate(tx, ty), &tm);
                                }
                                _ => {}
                            }
                        }
                    }
                }
                b"Do" => {
                    if let Some(Operand::Name(name)) = operands.first() {
                        self.form(resources, name, &state.ctm);
                    }
                }
                _ => {}
            }
            operands.clear();
        }
    }

    /// Records the characters of one shown string and advances the text matrix past them.
    fn show(&mut self, state: &GraphicsState, tm: &mut Matrix, bytes: &[u8]) {
        let Some(font) = state.font.clone() else { return };
        let size = state.size;
        for glyph in font.glyphs(bytes) {
            let spacing = state.char_space + if glyph.word_space { state.word_space } else { 0.0 };
            let to_page = concat(tm, &state.ctm);
            let (tx, ty) = if font.vertical {
                (0.0, -(glyph.width * size + spacing))
            } else {
                ((glyph.width * size + spacing) * state.horizontal_scale, 0.0)
            };
            // A space is recorded as a single " " (whatever the font maps it to) for the layout to weigh: one
            // that the next character overprints separates nothing.
            if !glyph.text.is_empty() && self.placed.len() < self.max_chars {
                let text = if glyph.text.trim().is_empty() { " ".to_owned() } else { glyph.text };
                let start = apply(&to_page, (0.0, state.rise));
                let end = apply(&to_page, (tx, ty + state.rise));
                let scale = (to_page[2] * to_page[2] + to_page[3] * to_page[3]).sqrt();
                let size = (size * font.em * scale).abs();
                self.placed.push(Placed { text, start, end, size });
            }
            *tm = concat(&translate(tx, ty), tm);
        }
    }

    fn font(&mut self, resources: &[&'a Dictionary], name: &[u8]) -> Option<Rc<Font>> {
        let object = lookup(self.doc, resources, b"Font", name)?;
        let dict = resolve(self.doc, object).as_dict().ok()?;
        // The document is not changed while it is read, so a font dictionary's address names it, whether
        // it is an object of its own or written inline in a resource dictionary.
        let key = dict as *const Dictionary as usize;
        if let Some(font) = self.fonts.get(&key) {
            return Some(font.clone());
        }
        let font = Rc::new(Font::load(self.doc, dict));
        self.fonts.insert(key, font.clone());
        Some(font)
    }

    /// Runs a form XObject (images and unknown objects are skipped).
    fn form(&mut self, resources: &[&'a Dictionary], name: &[u8], ctm: &Matrix) {
        let doc = self.doc;
        let Some(object) = lookup(doc, resources, b"XObject", name) else { return };
        let Ok(id) = object.as_reference() else { return };
        if self.open_forms.len() >= MAX_FORM_DEPTH || self.open_forms.contains(&id) {
            return;
        }
        let Ok(Object::Stream(stream)) = doc.get_object(id) else { return };
        if stream.dict.get(b"Subtype").and_then(Object::as_name).ok() != Some(b"Form".as_slice()) {
            return;
        }
        let Some(content) = super::decoded(stream) else { return };
        self.open_forms.push(id);
        self.run_form(&content, &stream.dict, resources, ctm);
        self.open_forms.pop();
    }

    /// Runs a form's (or an annotation appearance's) content with its own matrix and resources, falling
    /// back to the resources of the content that draws it.
    pub fn run_form(&mut self, content: &[u8], dict: &'a Dictionary, outer: &[&'a Dictionary], ctm: &Matrix) {
        let matrix = numbers(self.doc, dict.get(b"Matrix").ok());
        let matrix: Matrix = matrix.try_into().unwrap_or(IDENTITY);
        let own = dict.get(b"Resources").ok().and_then(|r| resolve(self.doc, r).as_dict().ok());
        let resources: Vec<&'a Dictionary> = own.into_iter().chain(outer.iter().copied()).collect();
        self.run(content, &resources, concat(&matrix, ctm));
    }
}

/// A named resource of a category (`/Font /F1`), from the innermost resource dictionary that has it.
fn lookup<'a>(
    doc: &'a Document,
    resources: &[&'a Dictionary],
    category: &[u8],
    name: &[u8],
) -> Option<&'a Object> {
    resources.iter().find_map(|dict| {
        let entries = resolve(doc, dict.get(category).ok()?).as_dict().ok()?;
        entries.get(name).ok()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matrices_compose_in_pdf_order() {
        let scale = [2.0, 0.0, 0.0, 2.0, 0.0, 0.0];
        let shift = translate(10.0, 5.0);
        assert_eq!(apply(&concat(&scale, &shift), (1.0, 1.0)), (12.0, 7.0));
        assert_eq!(apply(&concat(&shift, &scale), (1.0, 1.0)), (22.0, 12.0));
    }
}

//! The text-layer PDF engine alone, through the isolated worker, on crafted files that each hold one thing
//! the other engines get wrong: word gaps made by position, `/ToUnicode` maps with one-byte and array
//! destinations, predefined CJK CMaps, Type3 fonts, right-to-left text drawn in visual order, forms that
//! draw each other, broken cross-reference tables and stream lengths, and form fields without appearances;
//! and corpus files in CJK encodings.

use permdex::extract::{Extractor, Hint, Outcome, PdfEngine};

use super::extract::{config, pdf_of_objects, CORPUS};

/// The text the text layer alone reads from a one-page PDF: `content` on the page, `resources` as the
/// page's resource dictionary, `more` as objects 5 on (object 4 is the content stream).
fn layer_text(content: &str, resources: &str, more: &[&str]) -> String {
    layer_text_of(&pdf(content, resources, "", more))
}

fn pdf(content: &str, resources: &str, page_extra: &str, more: &[&str]) -> Vec<u8> {
    let page = format!("<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R /Resources {resources} {page_extra} >>");
    let stream = format!("<< /Length {} >>\nstream\n{content}\nendstream", content.len());
    let mut objects = vec![page.into_bytes(), stream.into_bytes()];
    objects.extend(more.iter().map(|object| object.as_bytes().to_vec()));
    pdf_of_objects(&objects)
}

fn layer_text_of(bytes: &[u8]) -> String {
    let mut config = config();
    config.engines.pdf = vec![PdfEngine::TextLayer];
    match Extractor::new(config).extract(bytes, &Hint::from_filename("crafted.pdf")).outcome {
        Outcome::Ok { text, .. } => text,
        other => panic!("{other:?}"),
    }
}

/// Helvetica as object 5 with the widths of a monospaced font (600 units), so that positions are exact.
const MONO: &str = "<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /FirstChar 32 /LastChar 126 /Widths [600 600 600 600 600 600 600 600 600 600 600 600 600 600 600 600 600 600 600 600 600 600 600 600 600 600 600 600 600 600 600 600 600 600 600 600 600 600 600 600 600 600 600 600 600 600 600 600 600 600 600 600 600 600 600 600 600 600 600 600 600 600 600 600 600 600 600 600 600 600 600 600 600 600 600 600 600 600 600 600 600 600 600 600 600 600 600 600 600 600 600 600 600 600 600] >>";
const MONO_RESOURCES: &str = "<< /Font << /F1 5 0 R >> >>";

#[test]
fn words_are_separated_by_position_not_by_space_characters() {
    let cases = [
        // Kerning inside a word, a word gap made by TJ, spaces stretched by Tw.
        ("BT /F1 10 Tf 72 700 Td [(Hel) -20 (lo) -400 (world)] TJ ET", "Hello world"),
        ("BT /F1 10 Tf 72 700 Td 5 Tw (two words) Tj ET", "two words"),
        // Each piece placed on its own, no space character anywhere.
        ("BT /F1 10 Tf 72 700 Td (left) Tj 30 0 Td (right) Tj ET", "left right"),
        ("BT /F1 10 Tf 72 700 Td (glu) Tj 18 0 Td (ed) Tj ET", "glued"),
        // A space the next piece is drawn back over separates nothing (pairs of bytes with a trailing space).
        ("BT /F1 10 Tf 72 700 Td (ab ) Tj 12 0 Td (cd ) Tj ET", "abcd"),
        // Drawn twice, a hair apart (fake bold): read once.
        ("BT /F1 10 Tf 72 700 Td (bold) Tj 0.2 0 Td (bold) Tj ET", "bold"),
        // A word hyphenated across two lines.
        ("BT /F1 10 Tf 72 700 Td (extrac-) Tj 0 -12 Td (tion) Tj ET", "extraction"),
    ];
    for (content, expected) in cases {
        assert_eq!(layer_text(content, MONO_RESOURCES, &[MONO]), expected, "{content}");
    }
}

#[test]
fn fonts_are_decoded_by_their_maps_and_encodings() {
    let to_unicode = "/CIDInit /ProcSet findresource begin 12 dict begin begincmap 1 begincodespacerange <00> <ff> endcodespacerange 2 beginbfrange <00> <7f> <00> <80> <81> [<20ac> <00660069>] endbfrange endcmap end end";
    let cases: Vec<(&str, Vec<String>, &str)> = vec![
        (
            // One-byte destinations and an array destination holding a ligature.
            "BT /F1 12 Tf 72 700 Td (Hello \\201nd \\200) Tj ET",
            vec![
                "<< /Type /Font /Subtype /TrueType /BaseFont /Tahoma /ToUnicode 6 0 R >>".to_owned(),
                format!("<< /Length {} >>\nstream\n{to_unicode}\nendstream", to_unicode.len()),
            ],
            "Hello find €",
        ),
        (
            // Differences by glyph name over WinAnsi.
            "BT /F1 12 Tf 72 700 Td (\\001\\002 caf\\351) Tj ET",
            vec!["<< /Type /Font /Subtype /Type1 /BaseFont /X /Encoding << /Type /Encoding /BaseEncoding /WinAnsiEncoding /Differences [1 /O /uni004B] >> >>".to_owned()],
            "OK café",
        ),
        (
            // A predefined CJK CMap: Shift-JIS codes, no /ToUnicode.
            "BT /F1 12 Tf 72 700 Td <93fa967b8cea> Tj ET",
            vec!["<< /Type /Font /Subtype /Type0 /BaseFont /MS-Mincho /Encoding /90ms-RKSJ-H /DescendantFonts [<< /Type /Font /Subtype /CIDFontType2 /BaseFont /MS-Mincho /CIDSystemInfo << /Registry (Adobe) /Ordering (Japan1) /Supplement 2 >> >>] >>".to_owned()],
            "日本語",
        ),
        (
            // Identity-coded CIDs of Adobe-Japan1, no /ToUnicode: the collection's table gives the text.
            "BT /F1 12 Tf 72 700 Td <034B0CD4> Tj ET",
            vec!["<< /Type /Font /Subtype /Type0 /BaseFont /Ryumin-Light /Encoding /Identity-H /DescendantFonts [<< /Type /Font /Subtype /CIDFontType0 /BaseFont /Ryumin-Light /CIDSystemInfo << /Registry (Adobe) /Ordering (Japan1) /Supplement 2 >> >>] >>".to_owned()],
            "あ日",
        ),
        (
            // A Type3 font: glyph widths in its own glyph space, text from its encoding.
            "BT /F1 12 Tf 72 700 Td (ab) Tj 30 0 Td (ba) Tj ET",
            vec!["<< /Type /Font /Subtype /Type3 /FontBBox [0 0 750 750] /FontMatrix [0.01 0 0 0.01 0 0] /CharProcs << /a 6 0 R /b 6 0 R >> /Encoding << /Type /Encoding /Differences [97 /a /b] >> /FirstChar 97 /LastChar 98 /Widths [100 100] /Resources << >> >>".to_owned(), "<< /Length 8 >>\nstream\n100 0 d0\nendstream".to_owned()],
            "ab ba",
        ),
    ];
    for (content, more, expected) in cases {
        let more: Vec<&str> = more.iter().map(String::as_str).collect();
        assert_eq!(layer_text(content, MONO_RESOURCES, &more), expected, "{content}");
    }
}

#[test]
fn right_to_left_text_drawn_in_visual_order_reads_in_logical_order() {
    // Hebrew glyphs placed left to right as they look: the word אבג is drawn ג, ב, א.
    let font = "<< /Type /Font /Subtype /Type1 /BaseFont /X /FirstChar 1 /LastChar 6 /Widths [600 600 600 600 600 600] /ToUnicode 6 0 R >>";
    let cmap = "1 begincodespacerange <00> <ff> endcodespacerange 6 beginbfchar <01> <05D0> <02> <05D1> <03> <05D2> <04> <05D3> <05> <05D4> <06> <05D5> endbfchar";
    let content = "BT /F1 10 Tf 72 700 Td <030201> Tj 30 0 Td <060504> Tj ET";
    let cmap_stream = format!("<< /Length {} >>\nstream\n{cmap}\nendstream", cmap.len());
    assert_eq!(layer_text(content, MONO_RESOURCES, &[font, &cmap_stream]), "דהו אבג");
}

#[test]
fn cyclic_and_fanning_forms_end() {
    // Form 6 draws text and then itself (a cycle); form 7 draws form 8 twice, which draws form 9 twice, and
    // so on: entering them all without limit would take 2^40 steps.
    let mut more = vec![MONO.to_owned()];
    let cyclic = "BT /F1 10 Tf 72 600 Td (cyclic) Tj ET /Me Do";
    more.push(format!(
        "<< /Type /XObject /Subtype /Form /BBox [0 0 612 792] /Resources << /Font << /F1 5 0 R >> /XObject << /Me 6 0 R >> >> /Length {} >>\nstream\n{cyclic}\nendstream",
        cyclic.len()
    ));
    let fan = 40;
    for level in 0..fan {
        let next = 8 + level;
        let body = if level + 1 == fan { "".to_owned() } else { "/N Do /N Do".to_owned() };
        more.push(format!(
            "<< /Type /XObject /Subtype /Form /BBox [0 0 612 792] /Resources << /XObject << /N {next} 0 R >> >> /Length {} >>\nstream\n{body}\nendstream",
            body.len()
        ));
    }
    let resources = "<< /Font << /F1 5 0 R >> /XObject << /Cycle 6 0 R /Fan 7 0 R >> >>";
    let more: Vec<&str> = more.iter().map(String::as_str).collect();
    let text = layer_text("/Cycle Do /Fan Do BT /F1 10 Tf 72 500 Td (after) Tj ET", resources, &more);
    assert_eq!(text, "cyclic\nafter");
}

#[test]
fn broken_cross_reference_tables_and_stream_lengths_are_repaired() {
    let content = "BT /F1 10 Tf 72 700 Td (repaired text) Tj ET";
    let mut bytes = pdf(content, MONO_RESOURCES, "", &[MONO]);
    // Point startxref nowhere, and make the content stream's /Length wrong.
    let text = String::from_utf8_lossy(&bytes).into_owned();
    let at = text.rfind("startxref\n").unwrap() + "startxref\n".len();
    bytes.truncate(at);
    bytes.extend_from_slice(b"999999\n%%EOF\n");
    let broken = String::from_utf8_lossy(&bytes)
        .replace(&format!("<< /Length {} >>", content.len()), "<< /Length 7 >>");
    assert!(broken.contains("/Length 7 "), "the content stream's length was replaced");
    assert_eq!(layer_text_of(broken.as_bytes()), "repaired text");
}

#[test]
fn annotations_show_their_appearance_or_their_value() {
    let appearance = "BT /F1 10 Tf 2 2 Td (stamped) Tj ET";
    let more = [
        MONO.to_owned(),
        "<< /Type /Annot /Subtype /Stamp /Rect [100 100 200 150] /AP << /N 7 0 R >> >>".to_owned(),
        format!(
            "<< /Type /XObject /Subtype /Form /BBox [0 0 100 50] /Resources << /Font << /F1 5 0 R >> >> /Length {} >>\nstream\n{appearance}\nendstream",
            appearance.len()
        ),
        "<< /Type /Annot /Subtype /Widget /FT /Tx /T (name) /V <feff0041006c006900630065> /Rect [100 300 200 320] >>"
            .to_owned(),
        "<< /Type /Annot /Subtype /Widget /FT /Tx /V (hidden) /F 2 /Rect [100 400 200 420] >>".to_owned(),
    ];
    let more: Vec<&str> = more.iter().map(String::as_str).collect();
    let bytes = pdf("", MONO_RESOURCES, "/Annots [6 0 R 8 0 R 9 0 R]", &more);
    assert_eq!(layer_text_of(&bytes), "stamped\nAlice");
}

#[test]
fn corpus_files_in_cjk_encodings_read_alone() {
    // Each file's fonts lack what pdf-extract needs: a /ToUnicode map or a CMap it knows.
    let cases = [
        // Shift-JIS codes under 90ms-RKSJ-H.
        ("pdfjs-selected/90ms_rksj_h_sample.pdf", "日本語テスト"),
        // JIS X 0208 row-cell codes under the plain V CMap.
        ("pdfminer-samples/simple3.pdf", "あいうえお"),
        // Adobe-Japan1 CIDs of a font that is not embedded.
        ("pdfminer-samples/jo.pdf", "わたくしといふ現象は"),
        // An embedded TrueType CIDFont: its cmap table gives the text.
        ("pdfjs-selected/arial_unicode_en_cidfont.pdf", "This is an Arial Unicode PDF"),
    ];
    for (path, needle) in cases {
        let bytes = std::fs::read(format!("{CORPUS}/{path}")).expect("corpus file readable");
        let text = layer_text_of(&bytes);
        assert!(text.contains(needle), "{path}: {needle:?} not in {:?}", &text[..text.len().min(300)]);
    }
}

//! ZIP archives that are not documents (Office Open XML and OpenDocument are sniffed first) to text: every
//! member's name, and the text of the members that have any, each read as an attachment of its own
//! through [`Nested`] (so a PDF or a spreadsheet inside an archive is searchable).
//!
//! The same zip-bomb limits as for Office documents apply to the archive as a whole (entry count, total
//! inflated bytes, compression ratio per member). A member that breaks them, is encrypted or unreadable
//! keeps its name and loses its text; the archive still yields the rest. Not handled: other archive formats
//! (tar, gzip, 7z, rar), which are skipped.

use super::office::Package;
use super::sniff::Hint;
use super::{Error, Nested};

/// Extracts the member names and member texts of a zip archive.
pub fn zip_to_text(bytes: &[u8], nested: &Nested<'_>) -> Result<String, Error> {
    let mut package = Package::open(bytes, &nested.limits().zip)?;
    let mut out = Vec::new();
    let mut written = 0usize;
    for name in package.names() {
        if name.ends_with('/') {
            continue;
        }
        // Past the output cap or the inflation budget, names are all that is worth reading.
        let full = written >= nested.limits().max_output_bytes || package.budget_spent();
        let member = match package.read_bytes(&name) {
            Ok(Some(member)) if !full => member,
            _ => {
                written += name.len() + 1;
                out.push(name);
                continue;
            }
        };
        let file_name = name.rsplit('/').next().unwrap_or(&name).to_owned();
        let text = nested.attached(&name, &member, &Hint::from_filename(file_name));
        written += text.len() + 1;
        out.push(text);
    }
    Ok(out.join("\n"))
}

#[cfg(test)]
mod tests {
    use std::io::{Cursor, Write};

    use super::*;
    use crate::extract::office::tests::build_zip;
    use crate::extract::Settings;

    #[test]
    fn names_and_text_members() {
        let docx = build_zip(&[(
            "word/document.xml",
            "<w:document xmlns:w=\"w\"><w:body><w:p><w:r><w:t>inner docx words</w:t></w:r></w:p></w:body></w:document>",
        )]);
        let mut writer = zip::ZipWriter::new(Cursor::new(Vec::new()));
        let options = zip::write::SimpleFileOptions::default();
        for (name, content) in [
            ("notes/", &b""[..]),
            ("notes/readme.md", b"# Read me\n\nrelease steps"),
            ("data/rota.csv", b"name,day\nAna,Friday\n"),
            ("logo.png", b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR"),
            ("spec.docx", &docx),
        ] {
            if name.ends_with('/') {
                writer.add_directory(name, options).unwrap();
            } else {
                writer.start_file(name, options).unwrap();
                writer.write_all(content).unwrap();
            }
        }
        let zip = writer.finish().unwrap().into_inner();
        let settings = Settings::default();
        let text = zip_to_text(&zip, &Nested::top(&settings)).unwrap();
        assert_eq!(
            text,
            "notes/readme.md\n# Read me\n\nrelease steps\ndata/rota.csv\nname\tday\nAna\tFriday\nlogo.png\n\
             spec.docx\ninner docx words"
        );
    }

    #[test]
    fn a_member_over_the_budget_keeps_its_name() {
        let big = "word ".repeat(100_000);
        let zip = build_zip(&[("small.txt", "tiny text"), ("big.txt", &big), ("after.txt", "after text")]);
        let mut settings = Settings::default();
        settings.limits.zip.max_total_uncompressed = 1000;
        let text = zip_to_text(&zip, &Nested::top(&settings)).unwrap();
        assert_eq!(text, "small.txt\ntiny text\nbig.txt\nafter.txt\nafter text");
    }
}

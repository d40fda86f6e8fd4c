//! The attachment types beyond PDF and Office Open XML, through the real worker: OpenDocument, legacy Excel
//! (written by Python's xlwt), RTF, e-mail with attached files, zip archives with documents inside, HTML, and
//! OCR of an image and of a scanned PDF (rendered here by poppler's `pdftoppm`, recognised by Tesseract).

use std::io::{Cursor, Write};
use std::process::{Command, Stdio};

use permdex::extract::{Engines, ExtractConfig, Extraction, Extractor, FileType, Hint, Ocr, Outcome};

use super::extract::{config, pdf_of_objects as pdf};

fn extract(bytes: &[u8], filename: &str) -> Extraction {
    Extractor::new(config()).extract(bytes, &Hint::from_filename(filename))
}

fn text_of(extraction: &Extraction) -> &str {
    extraction.outcome.text().unwrap_or_else(|| panic!("{:?}", extraction.outcome))
}

fn zip(entries: &[(&str, &[u8])]) -> Vec<u8> {
    let mut writer = zip::ZipWriter::new(Cursor::new(Vec::new()));
    for (name, content) in entries {
        let options = zip::write::SimpleFileOptions::default();
        let options = if *name == "mimetype" {
            options.compression_method(zip::CompressionMethod::Stored)
        } else {
            options
        };
        writer.start_file(*name, options).unwrap();
        writer.write_all(content).unwrap();
    }
    writer.finish().unwrap().into_inner()
}

fn stream(dictionary: &str, data: &[u8]) -> Vec<u8> {
    let mut object = format!("<< {dictionary} /Length {} >>\nstream\n", data.len()).into_bytes();
    object.extend_from_slice(data);
    object.extend_from_slice(b"\nendstream");
    object
}

/// A PDF with a text layer: `text` in large Helvetica on a small page.
fn text_pdf(text: &str) -> Vec<u8> {
    pdf(&[
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 420 90] /Contents 4 0 R /Resources << /Font << /F1 5 0 R >> >> >>".to_vec(),
        stream("", format!("BT /F1 40 Tf 15 30 Td ({text}) Tj ET").as_bytes()),
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>".to_vec(),
    ])
}

fn run_with_input(program: &str, args: &[&str], input: &[u8]) -> Vec<u8> {
    let mut child = Command::new(program)
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap_or_else(|err| panic!("{program} runs (Debian package poppler-utils): {err}"));
    let mut stdin = child.stdin.take().unwrap();
    let input = input.to_vec();
    let writer = std::thread::spawn(move || stdin.write_all(&input));
    let output = child.wait_with_output().unwrap();
    writer.join().unwrap().unwrap();
    assert!(output.status.success(), "{program} {args:?}");
    output.stdout
}

#[test]
fn opendocument_rtf_and_html_read_as_text() {
    let content = |body: &str| {
        format!(
            "<office:document-content xmlns:office=\"o\" xmlns:text=\"t\" xmlns:table=\"ta\"><office:body>{body}</office:body></office:document-content>"
        )
    };
    let odt = zip(&[
        ("mimetype", b"application/vnd.oasis.opendocument.text"),
        ("content.xml", content("<office:text><text:h>Incident review</text:h><text:p>Root cause: expired certificate</text:p></office:text>").as_bytes()),
    ]);
    let ods = zip(&[
        ("mimetype", b"application/vnd.oasis.opendocument.spreadsheet"),
        ("content.xml", content("<office:spreadsheet><table:table table:name=\"Costs\"><table:table-row><table:table-cell><text:p>Servers</text:p></table:table-cell><table:table-cell><text:p>1200</text:p></table:table-cell></table:table-row></table:table></office:spreadsheet>").as_bytes()),
    ]);
    let rtf = br"{\rtf1\ansi\deff0{\fonttbl{\f0 Times;}}\pard Release {\b checklist}\par Caf\'e9 opens at nine\par}";
    let html = b"<!DOCTYPE html><html><head><title>Runbook</title><style>p{}</style></head><body><h1>Failover</h1><p>Promote the <b>replica</b>.</p></body></html>";
    let cases: [(&str, &[u8], FileType, &str); 4] = [
        ("review.odt", &odt, FileType::Odt, "Incident review\nRoot cause: expired certificate"),
        ("costs.ods", &ods, FileType::Ods, "Costs\nServers\t1200"),
        ("notes.rtf", rtf, FileType::Rtf, "Release checklist\nCafé opens at nine"),
        ("runbook.htm", html, FileType::Html, "Failover"),
    ];
    for (name, bytes, detected, expected) in cases {
        let extraction = extract(bytes, name);
        assert_eq!(extraction.detected, detected, "{name}");
        assert!(text_of(&extraction).contains(expected), "{name}: {:?}", extraction.outcome);
    }
    let runbook = extract(html, "runbook.htm");
    assert!(text_of(&runbook).contains("Promote the replica."), "{:?}", runbook.outcome);
}

#[test]
fn legacy_excel_workbooks_read_as_text() {
    // A real BIFF8 workbook, written by xlwt (PyPI; .ci/run installs it).
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("budget.xls");
    let script = format!(
        "import xlwt\nbook = xlwt.Workbook()\nsheet = book.add_sheet('Budget')\nsheet.write(0, 0, 'Licences')\n\
         sheet.write(0, 1, 4200)\nsheet.write(1, 0, 'Überstunden')\nbook.add_sheet('Empty')\nbook.save({:?})\n",
        path.display().to_string()
    );
    let status = Command::new("python3").args(["-c", &script]).status().expect("python3 runs");
    assert!(status.success(), "python3 with xlwt writes the workbook (pip install xlwt)");
    let bytes = std::fs::read(&path).unwrap();
    let extraction = extract(&bytes, "budget.xls");
    assert_eq!(extraction.detected, FileType::Xls);
    assert_eq!(text_of(&extraction), "Budget\nLicences\t4200\nÜberstunden\nEmpty");

    // The same bytes under another name are still a workbook; a Word binary is skipped with its reason.
    assert_eq!(extract(&bytes, "attachment.bin").detected, FileType::Xls);
}

#[test]
fn email_with_attached_documents_reads_recursively() {
    let pdf = text_pdf("Quarterly numbers");
    let encoded = base64_lines(&pdf);
    let message = format!(
        "Received: from mx.example.com\r\nFrom: Ana Lima <ana@example.com>\r\nTo: ops@example.com\r\n\
         Subject: Outage report\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=XX\r\n\r\n\
         --XX\r\nContent-Type: multipart/alternative; boundary=YY\r\n\r\n--YY\r\nContent-Type: text/plain\r\n\r\n\
         The database failed over at noon.\r\n--YY\r\nContent-Type: text/html\r\n\r\n<p>The database <b>failed over</b></p>\r\n\
         --YY--\r\n--XX\r\nContent-Type: application/pdf; name=\"numbers.pdf\"\r\nContent-Disposition: attachment; filename=\"numbers.pdf\"\r\n\
         Content-Transfer-Encoding: base64\r\n\r\n{encoded}\r\n--XX--\r\n"
    );
    let extraction = extract(message.as_bytes(), "outage.eml");
    assert_eq!(extraction.detected, FileType::Eml);
    let text = text_of(&extraction);
    for needle in [
        "From: Ana Lima",
        "Subject: Outage report",
        "failed over at noon",
        "numbers.pdf",
        "Quarterly numbers",
    ] {
        assert!(text.contains(needle), "{needle:?} not in {text:?}");
    }
    // Sniffed from the headers, whatever the name says.
    assert_eq!(extract(message.as_bytes(), "message.txt").detected, FileType::Eml);
}

fn base64_lines(bytes: &[u8]) -> String {
    use base64::Engine;
    let encoded = base64::engine::general_purpose::STANDARD.encode(bytes);
    encoded
        .as_bytes()
        .chunks(76)
        .map(|line| String::from_utf8_lossy(line).into_owned())
        .collect::<Vec<_>>()
        .join("\r\n")
}

#[test]
fn zip_archives_list_members_and_read_documents_inside() {
    let inner = zip(&[("deep/readme.txt", b"nested archive words")]);
    let archive = zip(&[
        ("report/summary.pdf", &text_pdf("Capacity plan")),
        ("report/data.csv", b"region,servers\nnorth,12\n"),
        ("photos/rack.jpg", b"\xFF\xD8\xFF\xE0\0\x10JFIF"),
        ("more.zip", &inner),
    ]);
    let extraction = extract(&archive, "bundle.zip");
    assert_eq!(extraction.detected, FileType::Zip);
    let text = text_of(&extraction);
    for needle in [
        "report/summary.pdf",
        "Capacity plan",
        "north\t12",
        "photos/rack.jpg",
        "more.zip",
        "deep/readme.txt",
        "nested archive words",
    ] {
        assert!(text.contains(needle), "{needle:?} not in {text:?}");
    }
}

#[test]
fn ocr_reads_a_rendered_image_and_a_scanned_pdf() {
    let ocr =
        Ocr::detect().expect("tesseract is installed (Debian package tesseract-ocr; .ci/run installs it)");
    assert!(ocr.pdftoppm.is_some(), "pdftoppm is installed (poppler-utils)");
    let with_ocr = Extractor::new(ExtractConfig {
        engines: Engines { ocr: Some(ocr), ..Engines::default() },
        ..config()
    });
    let source = text_pdf("Scanned invoice 4711");

    // An image of the page, as a phone or a scanner would attach it.
    let png = run_with_input("pdftoppm", &["-png", "-r", "150", "-"], &source);
    let image = with_ocr.extract(&png, &Hint::from_filename("scan.png"));
    assert_eq!(image.detected, FileType::Image);
    assert!(text_of(&image).contains("Scanned invoice 4711"), "{:?}", image.outcome);
    let without = extract(&png, "scan.png");
    assert!(
        matches!(&without.outcome, Outcome::Skipped { reason } if reason.contains("ocr is off")),
        "{:?}",
        without.outcome
    );

    // The same page as a scanned PDF: one grey image, no text layer.
    let pgm = run_with_input("pdftoppm", &["-gray", "-r", "150", "-"], &source);
    let (width, height, samples) = parse_pgm(&pgm);
    let scanned = pdf(&[
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 420 90] /Contents 4 0 R /Resources << /XObject << /Im1 5 0 R >> >> >>".to_vec(),
        stream("", b"q 420 0 0 90 0 0 cm /Im1 Do Q"),
        stream(&format!("/Type /XObject /Subtype /Image /Width {width} /Height {height} /ColorSpace /DeviceGray /BitsPerComponent 8"), samples),
    ]);
    let plain = extract(&scanned, "scan.pdf");
    assert_eq!(plain.outcome, Outcome::Ok { text: String::new(), truncated: false }, "no text layer, no ocr");
    let recognised = with_ocr.extract(&scanned, &Hint::from_filename("scan.pdf"));
    assert!(text_of(&recognised).contains("Scanned invoice 4711"), "{:?}", recognised.outcome);
}

/// Width, height and samples of a binary 8-bit PGM.
fn parse_pgm(pgm: &[u8]) -> (usize, usize, &[u8]) {
    let header_end = pgm.iter().enumerate().filter(|(_, b)| **b == b'\n').nth(2).map(|(i, _)| i + 1).unwrap();
    let header = std::str::from_utf8(&pgm[..header_end]).unwrap();
    let numbers: Vec<usize> = header.split_whitespace().skip(1).map(|n| n.parse().unwrap()).collect();
    (numbers[0], numbers[1], &pgm[header_end..header_end + numbers[0] * numbers[1]])
}

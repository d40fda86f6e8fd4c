//! E-mail messages (RFC 5322 `.eml`, MIME) to text, with the mailparse crate: the headers a reader looks at
//! (From, To, Cc, Date, Subject), the body (the plain-text alternative when there is one, else the HTML one
//! through html2text), and every attached file by name, with its own text extracted as any attachment is
//! (so a PDF or a forwarded message inside a message is searchable too).
//!
//! Bounded: attached files are read through [`Nested`], which stops at a fixed depth and shares the
//! worker's output cap; a message with more parts than [`MAX_PARTS`] is read up to that many. Not here:
//! S/MIME or PGP decryption, mailbox (mbox) files.

use mailparse::{DispositionType, MailHeaderMap, ParsedMail};

use super::html::html_to_text;
use super::sniff::Hint;
use super::text::plain_to_text;
use super::{Error, Nested};

/// Parts of one message that are read; the rest are ignored.
pub const MAX_PARTS: usize = 1000;

/// Headers kept as text, in this order.
const SHOWN_HEADERS: &[&str] = &["From", "To", "Cc", "Date", "Subject"];

/// Extracts a message's headers, body and attached files.
pub fn eml_to_text(bytes: &[u8], nested: &Nested<'_>) -> Result<String, Error> {
    let mail = mailparse::parse_mail(bytes).map_err(|err| Error::Mail { reason: err.to_string() })?;
    let mut out = Vec::new();
    for name in SHOWN_HEADERS {
        for value in mail.headers.get_all_values(name) {
            if !value.trim().is_empty() {
                out.push(format!("{name}: {}", value.trim()));
            }
        }
    }
    let mut budget = MAX_PARTS;
    part_text(&mail, nested, &mut budget, &mut out);
    Ok(out.join("\n\n"))
}

/// Appends the text of one MIME part (and of its children) to `out`.
fn part_text(part: &ParsedMail<'_>, nested: &Nested<'_>, budget: &mut usize, out: &mut Vec<String>) {
    if *budget == 0 {
        return;
    }
    *budget -= 1;
    let mime = part.ctype.mimetype.to_ascii_lowercase();
    let disposition = part.get_content_disposition();
    let filename = disposition.params.get("filename").or_else(|| part.ctype.params.get("name")).cloned();
    if mime == "multipart/alternative" {
        // The same content several ways: the plain one reads best, HTML when there is no plain one.
        let preferred = ["text/plain", "text/html"].iter().find_map(|wanted| {
            part.subparts.iter().rev().find(|p| p.ctype.mimetype.eq_ignore_ascii_case(wanted))
        });
        if let Some(choice) = preferred.or_else(|| part.subparts.last()) {
            part_text(choice, nested, budget, out);
        }
        return;
    }
    if mime.starts_with("multipart/") {
        for child in &part.subparts {
            part_text(child, nested, budget, out);
        }
        return;
    }
    let attached = disposition.disposition == DispositionType::Attachment || filename.is_some();
    if !attached && mime == "text/plain" {
        push_nonempty(out, plain_to_text(&part.get_body().unwrap_or_default()));
    } else if !attached && mime == "text/html" {
        push_nonempty(out, html_to_text(&part.get_body().unwrap_or_default()));
    } else {
        let shown_name = filename.clone().unwrap_or_else(|| mime.clone());
        let body = part.get_body_raw().unwrap_or_default();
        let hint = Hint { filename, media_type: Some(mime) };
        push_nonempty(out, nested.attached(&shown_name, &body, &hint));
    }
}

fn push_nonempty(out: &mut Vec<String>, text: String) {
    if !text.trim().is_empty() {
        out.push(text);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::extract::Settings;

    fn extract(message: &str) -> String {
        let settings = Settings::default();
        eml_to_text(message.replace('\n', "\r\n").as_bytes(), &Nested::top(&settings)).unwrap()
    }

    #[test]
    fn headers_and_plain_body() {
        let text = extract(
            "From: Ana Lima <ana@example.com>\nTo: ops@example.com\nSubject: =?UTF-8?Q?Caf=C3=A9_rota?=\n\
             Date: Tue, 3 Mar 2026 10:00:00 +0000\nMessage-ID: <1@x>\n\nPlease swap Friday's shift.\n",
        );
        assert_eq!(
            text,
            "From: Ana Lima <ana@example.com>\n\nTo: ops@example.com\n\nDate: Tue, 3 Mar 2026 10:00:00 +0000\n\n\
             Subject: Café rota\n\nPlease swap Friday's shift."
        );
    }

    #[test]
    fn alternatives_prefer_plain_and_html_alone_is_rendered() {
        let alternative = extract(
            "Subject: a\nMIME-Version: 1.0\nContent-Type: multipart/alternative; boundary=b\n\n--b\n\
             Content-Type: text/plain\n\nplain words\n--b\nContent-Type: text/html\n\n<p>html words</p>\n--b--\n",
        );
        assert!(alternative.contains("plain words") && !alternative.contains("html words"), "{alternative}");
        let html_only = extract(
            "Subject: b\nMIME-Version: 1.0\nContent-Type: text/html; charset=utf-8\n\
             Content-Transfer-Encoding: quoted-printable\n\n<p>caf=C3=A9 <b>bold</b></p><script>x()</script>\n",
        );
        assert_eq!(html_only, "Subject: b\n\ncafé bold");
    }

    #[test]
    fn attached_files_are_named_and_read_recursively() {
        let inner = "Subject: inner note\n\nforwarded body words\n";
        let text = extract(&format!(
            "Subject: outer\nMIME-Version: 1.0\nContent-Type: multipart/mixed; boundary=m\n\n--m\n\
             Content-Type: text/plain\n\nsee attached\n--m\nContent-Type: text/csv; name=\"costs.csv\"\n\
             Content-Disposition: attachment; filename=\"costs.csv\"\nContent-Transfer-Encoding: base64\n\n\
             aXRlbSxjb3N0CnNlcnZlcnMsMTIwMAo=\n--m\nContent-Type: message/rfc822\n\
             Content-Disposition: attachment; filename=\"fwd.eml\"\n\n{inner}\n--m\n\
             Content-Type: image/png; name=\"logo.png\"\nContent-Transfer-Encoding: base64\n\niVBORw0KGgo=\n--m--\n"
        ));
        for needle in [
            "see attached",
            "costs.csv",
            "servers\t1200",
            "fwd.eml",
            "Subject: inner note",
            "forwarded body words",
            "logo.png",
        ] {
            assert!(text.contains(needle), "{needle:?} not in {text:?}");
        }
    }
}

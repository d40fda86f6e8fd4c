//! Pieces every simulated product API shares: cursor and offset pagination, time formats, error bodies.
//!
//! Cursors are opaque to clients (base64 of the last id served) just as Atlassian's are; handlers list
//! ids in ascending order and let [`cursor_page`] cut them.

use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use base64::Engine;
use chrono::{DateTime, FixedOffset, NaiveDate, NaiveDateTime, NaiveTime, Utc};
use serde_json::{json, Value};

use crate::sim::model::Millis;

/// Encodes "continue after `last_id`" as an opaque cursor.
pub fn encode_cursor(last_id: u64) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(format!("after:{last_id}"))
}

/// Decodes a cursor made by [`encode_cursor`]; `None` for anything else.
pub fn decode_cursor(cursor: &str) -> Option<u64> {
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(cursor).ok()?;
    let text = String::from_utf8(bytes).ok()?;
    text.strip_prefix("after:")?.parse().ok()
}

/// One page of a cursor listing over ascending `ids`: the ids to serve and the cursor of the next page.
/// A bad cursor is `Err`, which handlers answer with 400 as Atlassian does.
pub fn cursor_page<'a>(
    ids: &'a [u64],
    cursor: Option<&str>,
    limit: usize,
) -> Result<(&'a [u64], Option<String>), BadCursor> {
    let start = match cursor {
        None | Some("") => 0,
        Some(c) => {
            let after = decode_cursor(c).ok_or(BadCursor)?;
            ids.partition_point(|&id| id <= after)
        }
    };
    let end = (start + limit.max(1)).min(ids.len());
    let page = &ids[start..end];
    let next = if end < ids.len() { page.last().map(|&id| encode_cursor(id)) } else { None };
    Ok((page, next))
}

/// A cursor this simulator did not hand out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BadCursor;

/// The limit a client asked for, defaulted and capped as the endpoint does.
pub fn clamp_limit(requested: Option<usize>, default: usize, max: usize) -> usize {
    requested.unwrap_or(default).clamp(1, max)
}

/// Confluence's time format: `2024-01-03T09:41:23.123Z`.
pub fn confluence_time(ms: Millis) -> String {
    utc(ms).format("%Y-%m-%dT%H:%M:%S%.3fZ").to_string()
}

/// Jira's time format, in the given offset: `2021-02-26T01:45:03.821+1000`.
pub fn jira_time(ms: Millis, offset_minutes: i32) -> String {
    let offset =
        FixedOffset::east_opt(offset_minutes * 60).unwrap_or(FixedOffset::east_opt(0).expect("zero offset"));
    utc(ms).with_timezone(&offset).format("%Y-%m-%dT%H:%M:%S%.3f%z").to_string()
}

fn utc(ms: Millis) -> DateTime<Utc> {
    DateTime::<Utc>::from_timestamp_millis(ms).unwrap_or_default()
}

/// Milliseconds in the interval a date literal names when it gives the time to the minute, or only the day.
pub const MINUTE_MS: i64 = 60_000;
pub const DAY_MS: i64 = 86_400_000;

/// A date literal as both JQL and CQL accept it — `yyyy/MM/dd HH:mm`, `yyyy-MM-dd HH:mm`, `yyyy/MM/dd` or
/// `yyyy-MM-dd`, in the user's time zone — with the length of the interval it names ([`MINUTE_MS`] or
/// [`DAY_MS`]). `None` for anything else.
pub fn local_date_literal(text: &str) -> Option<(NaiveDateTime, i64)> {
    let text = text.trim();
    for format in ["%Y/%m/%d %H:%M", "%Y-%m-%d %H:%M"] {
        if let Ok(start) = NaiveDateTime::parse_from_str(text, format) {
            return Some((start, MINUTE_MS));
        }
    }
    for format in ["%Y/%m/%d", "%Y-%m-%d"] {
        if let Ok(day) = NaiveDate::parse_from_str(text, format) {
            return Some((day.and_time(NaiveTime::MIN), DAY_MS));
        }
    }
    None
}

/// A JSON response with status and body.
pub fn json_response(status: StatusCode, body: Value) -> Response {
    (status, axum::Json(body)).into_response()
}

/// Adds `Link: <next>; rel="next"` as Confluence v2 does.
pub fn with_next_link(mut response: Response, next: Option<&str>) -> Response {
    if let Some(next) = next {
        if let Ok(v) = HeaderValue::from_str(&format!("<{next}>; rel=\"next\"")) {
            response.headers_mut().insert(header::LINK, v);
        }
    }
    response
}

/// Which product's error body to answer with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Product {
    ConfluenceV2,
    ConfluenceV1,
    Jira,
}

/// An error in the shape the product uses.
pub fn error_response(product: Product, status: StatusCode, message: &str) -> Response {
    let body = match product {
        Product::ConfluenceV2 => json!({
            "errors": [{
                "status": status.as_u16(),
                "code": status.canonical_reason().unwrap_or("Error").to_uppercase().replace(' ', "_"),
                "title": status.canonical_reason().unwrap_or("Error"),
                "detail": message,
            }]
        }),
        Product::ConfluenceV1 => json!({
            "statusCode": status.as_u16(),
            "data": {"authorized": status != StatusCode::UNAUTHORIZED, "valid": true, "errors": [], "successful": false},
            "message": message,
        }),
        Product::Jira => json!({"errorMessages": [message], "errors": {}}),
    };
    json_response(status, body)
}

/// The product a request path belongs to, for error bodies produced outside a handler (404s, auth).
pub fn product_of(path: &str) -> Product {
    if path.starts_with("/wiki/api/v2") {
        Product::ConfluenceV2
    } else if path.starts_with("/wiki") {
        Product::ConfluenceV1
    } else {
        Product::Jira
    }
}

/// Header map helper for tests and handlers.
pub fn header_str<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers.get(name).and_then(|v| v.to_str().ok())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursor_walk_visits_every_id_once() {
        let ids: Vec<u64> = (1..=23).map(|i| i * 7).collect();
        let mut seen = Vec::new();
        let mut cursor: Option<String> = None;
        loop {
            let (page, next) = cursor_page(&ids, cursor.as_deref(), 5).expect("valid cursor");
            seen.extend_from_slice(page);
            match next {
                Some(n) => cursor = Some(n),
                None => break,
            }
        }
        assert_eq!(seen, ids);
    }

    #[test]
    fn bad_cursor_is_rejected() {
        assert!(cursor_page(&[1, 2, 3], Some("garbage!"), 2).is_err());
    }

    #[test]
    fn time_formats() {
        assert_eq!(confluence_time(1_614_303_903_821), "2021-02-26T01:45:03.821Z");
        assert_eq!(jira_time(1_614_303_903_821, 0), "2021-02-26T01:45:03.821+0000");
        assert_eq!(jira_time(1_614_303_903_821, 600), "2021-02-26T11:45:03.821+1000");
    }
}

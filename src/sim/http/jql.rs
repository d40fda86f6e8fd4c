//! The bounded subset of JQL the simulated `search/jql` understands.
//!
//! Supported: `project = KEY|ID|"Name"`, `project in (…)`, `key|issuekey = X`, `key in (…)`,
//! `id <op> N`, `id in (…)`, `created|updated <op> DATE` with `=`, `<`, `<=`, `>`, `>=`, clauses joined
//! by `AND`, and `ORDER BY created|updated|id|key ASC|DESC` (at most 7 fields). Dates are
//! `"yyyy/MM/dd HH:mm"`, `"yyyy-MM-dd HH:mm"`, `"yyyy/MM/dd"`, `"yyyy-MM-dd"` (read in the searching
//! user's time zone), epoch milliseconds, or periods such as `-15m`, `-2d`, `"4w 2d"` (relative to now).
//! Keywords and field names are case-insensitive.
//!
//! Like Atlassian, a query with no restriction (empty, or only `ORDER BY`) is rejected as unbounded.
//! Everything else (`OR`, `NOT`, parentheses, functions, other fields and operators) is rejected with an
//! error naming the construct, never silently ignored. This module only parses: resolving keys, projects
//! and dates against a site happens in the handler.

use chrono::NaiveDateTime;

use crate::sim::model::Millis;

/// Most fields an `ORDER BY` may name, as on Jira Cloud.
pub const MAX_ORDER_FIELDS: usize = 7;

/// A parsed, bounded query: restrictions that must all hold, then the requested order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Jql {
    /// Never empty: [`parse`] rejects unbounded queries.
    pub clauses: Vec<Clause>,
    pub order_by: Vec<OrderBy>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Clause {
    /// The project is one of these.
    Project(Vec<ProjectRef>),
    /// The issue key is one of these (upper-cased, as Jira matches keys case-insensitively).
    Key(Vec<String>),
    /// The issue id is one of these.
    IdIn(Vec<u64>),
    /// `id <op> n`.
    Id(Comparison, u64),
    /// `created|updated <op> date`.
    Date(DateField, Comparison, DateValue),
}

/// How a query names a project: numerically by id, otherwise by key or name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ProjectRef {
    Id(u64),
    KeyOrName(String),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DateField {
    Created,
    Updated,
}

impl DateField {
    pub fn name(self) -> &'static str {
        match self {
            DateField::Created => "created",
            DateField::Updated => "updated",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Comparison {
    Eq,
    Lt,
    Le,
    Gt,
    Ge,
}

impl Comparison {
    /// Whether `left <op> right` holds.
    pub fn holds<T: Ord>(self, left: T, right: T) -> bool {
        match self {
            Comparison::Eq => left == right,
            Comparison::Lt => left < right,
            Comparison::Le => left <= right,
            Comparison::Gt => left > right,
            Comparison::Ge => left >= right,
        }
    }
}

/// A date literal before it is placed on the time line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DateValue {
    /// A wall-clock date/time in the searching user's time zone.
    Local(NaiveDateTime),
    /// Milliseconds since the epoch: independent of any time zone.
    EpochMillis(i64),
    /// A period relative to now, in milliseconds (negative is the past).
    Relative(i64),
}

impl DateValue {
    /// The instant this literal denotes for a user `utc_offset_minutes` east of UTC, at time `now`.
    pub fn resolve(self, utc_offset_minutes: i32, now: Millis) -> Millis {
        match self {
            DateValue::Local(t) => t.and_utc().timestamp_millis() - i64::from(utc_offset_minutes) * 60_000,
            DateValue::EpochMillis(ms) => ms,
            DateValue::Relative(delta) => now + delta,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OrderBy {
    pub field: SortField,
    pub direction: Direction,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SortField {
    Created,
    Updated,
    Id,
    /// By project key, then by issue number (not as text: `APP-10` follows `APP-9`).
    Key,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    Asc,
    Desc,
}

/// Why a query was refused. [`JqlError::atlassian_message`] words it as Jira does.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum JqlError {
    #[error("unbounded jql query")]
    Unbounded,
    #[error("jql syntax error at character {position}: {message}")]
    Syntax { position: usize, message: String },
    #[error("unsupported jql: {0}")]
    Unsupported(String),
    #[error("invalid date {value:?} for field {field}")]
    BadDate { field: &'static str, value: String },
    #[error("value {value:?} for field {field} is not a number")]
    NotANumber { field: &'static str, value: String },
    #[error("unknown jql field {0:?}")]
    UnknownField(String),
    #[error("order by names {0} fields, at most {MAX_ORDER_FIELDS} are allowed")]
    TooManyOrderFields(usize),
}

impl JqlError {
    /// The `errorMessages` entry Jira would answer with.
    pub fn atlassian_message(&self) -> String {
        match self {
            JqlError::Unbounded => {
                "Unbounded JQL queries are not allowed here. Please add a search restriction to your query."
                    .to_string()
            }
            JqlError::Syntax { position, message } => {
                format!("Error in the JQL Query: {message} (line 1, character {position}).")
            }
            JqlError::Unsupported(what) => format!(
                "Error in the JQL Query: {what} is not supported by this simulated Jira, which understands \
                 project, key, id, created and updated clauses joined by AND, and ORDER BY."
            ),
            JqlError::BadDate { field, value } => format!(
                "Date value '{value}' for field '{field}' is invalid. Valid formats include: \
                 'yyyy/MM/dd HH:mm', 'yyyy-MM-dd HH:mm', 'yyyy/MM/dd', 'yyyy-MM-dd', or a period format \
                 e.g. '-5d', '4w 2d'."
            ),
            JqlError::NotANumber { field, value } => {
                format!("Error in the JQL Query: the value '{value}' for field '{field}' is not a number.")
            }
            JqlError::UnknownField(name) => {
                format!("Field '{name}' does not exist or you do not have permission to view it.")
            }
            JqlError::TooManyOrderFields(n) => {
                format!("The ORDER BY clause names {n} fields; at most {MAX_ORDER_FIELDS} are allowed.")
            }
        }
    }
}

/// Parses `text`; an unbounded query (no restriction) is an error, as on Jira Cloud.
pub fn parse(text: &str) -> Result<Jql, JqlError> {
    let tokens = tokenize(text)?;
    let mut parser = Parser { tokens, next: 0, end: text.chars().count() + 1 };
    let jql = parser.query()?;
    if jql.clauses.is_empty() {
        return Err(JqlError::Unbounded);
    }
    Ok(jql)
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Tok {
    Word(String),
    Quoted(String),
    Op(&'static str),
    Open,
    Close,
    Comma,
}

impl Tok {
    fn describe(&self) -> String {
        match self {
            Tok::Word(w) => format!("'{w}'"),
            Tok::Quoted(q) => format!("'\"{q}\"'"),
            Tok::Op(op) => format!("'{op}'"),
            Tok::Open => "'('".into(),
            Tok::Close => "')'".into(),
            Tok::Comma => "','".into(),
        }
    }

    fn is_keyword(&self, keyword: &str) -> bool {
        matches!(self, Tok::Word(w) if w.eq_ignore_ascii_case(keyword))
    }
}

#[derive(Debug, Clone)]
struct Token {
    tok: Tok,
    /// 1-based character position, for error messages.
    position: usize,
}

const SPECIAL: &[char] = &['=', '!', '<', '>', '(', ')', ',', '"', '\'', '~'];

fn tokenize(text: &str) -> Result<Vec<Token>, JqlError> {
    let chars: Vec<char> = text.chars().collect();
    let mut tokens = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        let position = i + 1;
        if c.is_whitespace() {
            i += 1;
            continue;
        }
        let two: String = chars[i..(i + 2).min(chars.len())].iter().collect();
        let (tok, width) = match (c, two.as_str()) {
            (_, ">=") => (Tok::Op(">="), 2),
            (_, "<=") => (Tok::Op("<="), 2),
            (_, "!=") => (Tok::Op("!="), 2),
            (_, "!~") => (Tok::Op("!~"), 2),
            ('>', _) => (Tok::Op(">"), 1),
            ('<', _) => (Tok::Op("<"), 1),
            ('=', _) => (Tok::Op("="), 1),
            ('~', _) => (Tok::Op("~"), 1),
            ('(', _) => (Tok::Open, 1),
            (')', _) => (Tok::Close, 1),
            (',', _) => (Tok::Comma, 1),
            ('"' | '\'', _) => {
                let mut value = String::new();
                let mut j = i + 1;
                loop {
                    match chars.get(j) {
                        None => {
                            return Err(JqlError::Syntax {
                                position,
                                message: "the quoted string is not closed".into(),
                            })
                        }
                        Some('\\') => {
                            if let Some(&escaped) = chars.get(j + 1) {
                                value.push(escaped);
                            }
                            j += 2;
                        }
                        Some(&q) if q == c => break,
                        Some(&other) => {
                            value.push(other);
                            j += 1;
                        }
                    }
                }
                (Tok::Quoted(value), j + 1 - i)
            }
            ('!', _) => {
                return Err(JqlError::Syntax {
                    position,
                    message: "'!' must be followed by '=' or '~'".into(),
                })
            }
            _ => {
                let mut j = i;
                while j < chars.len() && !chars[j].is_whitespace() && !SPECIAL.contains(&chars[j]) {
                    j += 1;
                }
                (Tok::Word(chars[i..j].iter().collect()), j - i)
            }
        };
        tokens.push(Token { tok, position });
        i += width;
    }
    Ok(tokens)
}

struct Parser {
    tokens: Vec<Token>,
    next: usize,
    /// Position reported for "end of query".
    end: usize,
}

/// What a field name in a clause or `ORDER BY` refers to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Field {
    Project,
    Key,
    Id,
    Date(DateField),
}

fn field_named(name: &str) -> Option<Field> {
    match name.to_ascii_lowercase().as_str() {
        "project" => Some(Field::Project),
        "key" | "issuekey" => Some(Field::Key),
        "id" => Some(Field::Id),
        "created" | "createddate" => Some(Field::Date(DateField::Created)),
        "updated" | "updateddate" => Some(Field::Date(DateField::Updated)),
        _ => None,
    }
}

impl Parser {
    fn peek(&self) -> Option<&Token> {
        self.tokens.get(self.next)
    }

    fn bump(&mut self) -> Option<Token> {
        let t = self.tokens.get(self.next).cloned();
        self.next += 1;
        t
    }

    fn syntax(&self, expected: &str) -> JqlError {
        match self.peek() {
            Some(t) => JqlError::Syntax {
                position: t.position,
                message: format!("expecting {expected} but got {}", t.tok.describe()),
            },
            None => JqlError::Syntax {
                position: self.end,
                message: format!("expecting {expected} but reached the end of the query"),
            },
        }
    }

    fn query(&mut self) -> Result<Jql, JqlError> {
        let mut clauses = Vec::new();
        let starts_with_order = self.peek().is_some_and(|t| t.tok.is_keyword("order"));
        if self.peek().is_some() && !starts_with_order {
            loop {
                clauses.push(self.clause()?);
                match self.peek() {
                    None => break,
                    Some(t) if t.tok.is_keyword("and") => {
                        self.next += 1;
                    }
                    Some(t) if t.tok.is_keyword("or") => return Err(JqlError::Unsupported("'OR'".into())),
                    Some(t) if t.tok.is_keyword("order") => break,
                    Some(_) => return Err(self.syntax("'AND', 'OR' or 'ORDER BY'")),
                }
            }
        }
        let order_by = if self.peek().is_some() { self.order_by()? } else { Vec::new() };
        if self.peek().is_some() {
            return Err(self.syntax("the end of the query"));
        }
        Ok(Jql { clauses, order_by })
    }

    fn clause(&mut self) -> Result<Clause, JqlError> {
        let Some(first) = self.bump() else { return Err(self.syntax("a field name")) };
        let name = match first.tok {
            Tok::Open => return Err(JqlError::Unsupported("grouping with parentheses".into())),
            Tok::Word(w) if w.eq_ignore_ascii_case("not") => {
                return Err(JqlError::Unsupported("'NOT'".into()))
            }
            Tok::Word(w) | Tok::Quoted(w) => w,
            other => {
                return Err(JqlError::Syntax {
                    position: first.position,
                    message: format!("expecting a field name but got {}", other.describe()),
                })
            }
        };
        let field = field_named(&name).ok_or_else(|| JqlError::UnknownField(name.clone()))?;
        let Some(op_token) = self.bump() else { return Err(self.syntax("an operator")) };
        let comparison = match &op_token.tok {
            Tok::Word(w) if w.eq_ignore_ascii_case("in") => return self.in_list(field, &name),
            Tok::Word(w)
                if w.eq_ignore_ascii_case("not")
                    || w.eq_ignore_ascii_case("is")
                    || w.eq_ignore_ascii_case("was")
                    || w.eq_ignore_ascii_case("changed") =>
            {
                return Err(JqlError::Unsupported(format!("operator '{}'", w.to_ascii_uppercase())))
            }
            Tok::Op("=") => Comparison::Eq,
            Tok::Op("<") => Comparison::Lt,
            Tok::Op("<=") => Comparison::Le,
            Tok::Op(">") => Comparison::Gt,
            Tok::Op(">=") => Comparison::Ge,
            Tok::Op(op) => return Err(JqlError::Unsupported(format!("operator '{op}'"))),
            other => {
                return Err(JqlError::Syntax {
                    position: op_token.position,
                    message: format!("expecting an operator but got {}", other.describe()),
                })
            }
        };
        let value = self.value()?;
        match field {
            Field::Project if comparison == Comparison::Eq => Ok(Clause::Project(vec![project_ref(value)])),
            Field::Key if comparison == Comparison::Eq => Ok(Clause::Key(vec![value.to_ascii_uppercase()])),
            Field::Project | Field::Key => {
                Err(JqlError::Unsupported(format!("a range comparison on field '{name}'")))
            }
            Field::Id => Ok(Clause::Id(comparison, id_value(&value)?)),
            Field::Date(date_field) => {
                Ok(Clause::Date(date_field, comparison, date_value(date_field, &value)?))
            }
        }
    }

    fn in_list(&mut self, field: Field, name: &str) -> Result<Clause, JqlError> {
        if !matches!(self.bump().map(|t| t.tok), Some(Tok::Open)) {
            self.next -= 1;
            return Err(self.syntax("'('"));
        }
        let mut values = Vec::new();
        loop {
            values.push(self.value()?);
            match self.bump().map(|t| t.tok) {
                Some(Tok::Comma) => continue,
                Some(Tok::Close) => break,
                _ => {
                    self.next -= 1;
                    return Err(self.syntax("',' or ')'"));
                }
            }
        }
        match field {
            Field::Project => Ok(Clause::Project(values.into_iter().map(project_ref).collect())),
            Field::Key => Ok(Clause::Key(values.iter().map(|v| v.to_ascii_uppercase()).collect())),
            Field::Id => Ok(Clause::IdIn(values.iter().map(|v| id_value(v)).collect::<Result<_, _>>()?)),
            Field::Date(_) => Err(JqlError::Unsupported(format!("operator 'IN' on field '{name}'"))),
        }
    }

    /// A literal: a word or a quoted string. A word followed by `(` is a function call.
    fn value(&mut self) -> Result<String, JqlError> {
        match self.peek().map(|t| t.tok.clone()) {
            Some(Tok::Word(w)) => {
                self.next += 1;
                if matches!(self.peek().map(|t| &t.tok), Some(Tok::Open)) {
                    return Err(JqlError::Unsupported(format!("function '{w}()'")));
                }
                if w.eq_ignore_ascii_case("empty") || w.eq_ignore_ascii_case("null") {
                    return Err(JqlError::Unsupported(format!("'{}'", w.to_ascii_uppercase())));
                }
                Ok(w)
            }
            Some(Tok::Quoted(q)) => {
                self.next += 1;
                Ok(q)
            }
            _ => Err(self.syntax("a value")),
        }
    }

    fn order_by(&mut self) -> Result<Vec<OrderBy>, JqlError> {
        if !self.peek().is_some_and(|t| t.tok.is_keyword("order")) {
            return Err(self.syntax("'ORDER BY'"));
        }
        self.next += 1;
        if !self.peek().is_some_and(|t| t.tok.is_keyword("by")) {
            return Err(self.syntax("'BY'"));
        }
        self.next += 1;
        let mut order = Vec::new();
        loop {
            let name = match self.bump().map(|t| t.tok) {
                Some(Tok::Word(w) | Tok::Quoted(w)) => w,
                _ => {
                    self.next -= 1;
                    return Err(self.syntax("a field name"));
                }
            };
            let field = match field_named(&name) {
                Some(Field::Date(DateField::Created)) => SortField::Created,
                Some(Field::Date(DateField::Updated)) => SortField::Updated,
                Some(Field::Id) => SortField::Id,
                Some(Field::Key) => SortField::Key,
                Some(Field::Project) | None => {
                    return Err(JqlError::Unsupported(format!("ORDER BY field '{name}'")));
                }
            };
            let direction = match self.peek() {
                Some(t) if t.tok.is_keyword("asc") => {
                    self.next += 1;
                    Direction::Asc
                }
                Some(t) if t.tok.is_keyword("desc") => {
                    self.next += 1;
                    Direction::Desc
                }
                _ => Direction::Asc,
            };
            order.push(OrderBy { field, direction });
            match self.peek() {
                Some(t) if t.tok == Tok::Comma => self.next += 1,
                _ => break,
            }
        }
        if order.len() > MAX_ORDER_FIELDS {
            return Err(JqlError::TooManyOrderFields(order.len()));
        }
        Ok(order)
    }
}

fn project_ref(value: String) -> ProjectRef {
    match value.parse::<u64>() {
        Ok(id) => ProjectRef::Id(id),
        Err(_) => ProjectRef::KeyOrName(value),
    }
}

fn id_value(value: &str) -> Result<u64, JqlError> {
    value.trim().parse().map_err(|_| JqlError::NotANumber { field: "id", value: value.to_string() })
}

fn date_value(field: DateField, text: &str) -> Result<DateValue, JqlError> {
    let bad = || JqlError::BadDate { field: field.name(), value: text.to_string() };
    let trimmed = text.trim();
    if !trimmed.is_empty() && trimmed.chars().all(|c| c.is_ascii_digit()) {
        return trimmed.parse().map(DateValue::EpochMillis).map_err(|_| bad());
    }
    if let Some((start, _)) = super::common::local_date_literal(trimmed) {
        return Ok(DateValue::Local(start));
    }
    period(trimmed).map(DateValue::Relative).ok_or_else(bad)
}

/// A period such as `-15m`, `2d`, `-4w 2d`: the sign of the first part applies to the whole period.
fn period(text: &str) -> Option<i64> {
    let (sign, rest) = match text.strip_prefix('-') {
        Some(rest) => (-1, rest),
        None => (1, text.strip_prefix('+').unwrap_or(text)),
    };
    let mut total: i64 = 0;
    let mut parts = 0;
    for part in rest.split_whitespace() {
        let unit = part.chars().last()?;
        let amount: i64 = part[..part.len() - unit.len_utf8()].parse().ok()?;
        let unit_ms = match unit.to_ascii_lowercase() {
            'w' => 7 * 86_400_000,
            'd' => 86_400_000,
            'h' => 3_600_000,
            'm' => 60_000,
            _ => return None,
        };
        total = total.checked_add(amount.checked_mul(unit_ms)?)?;
        parts += 1;
    }
    (parts > 0).then_some(sign * total)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn local(text: &str) -> DateValue {
        DateValue::Local(NaiveDateTime::parse_from_str(text, "%Y-%m-%d %H:%M").expect("test date"))
    }

    #[test]
    fn accepted_queries() {
        use Clause::*;
        use Comparison::*;
        let cases: Vec<(&str, Jql)> = vec![
            (
                "project = APP",
                Jql { clauses: vec![Project(vec![ProjectRef::KeyOrName("APP".into())])], order_by: vec![] },
            ),
            (
                "PROJECT in (APP, 10001, \"Open project\") order by UPDATED desc, key",
                Jql {
                    clauses: vec![Project(vec![
                        ProjectRef::KeyOrName("APP".into()),
                        ProjectRef::Id(10001),
                        ProjectRef::KeyOrName("Open project".into()),
                    ])],
                    order_by: vec![
                        OrderBy { field: SortField::Updated, direction: Direction::Desc },
                        OrderBy { field: SortField::Key, direction: Direction::Asc },
                    ],
                },
            ),
            (
                "project = APP AND updated >= \"2024/01/02 03:04\" AND created < '2024-01-05' ORDER BY id ASC",
                Jql {
                    clauses: vec![
                        Project(vec![ProjectRef::KeyOrName("APP".into())]),
                        Date(DateField::Updated, Ge, local("2024-01-02 03:04")),
                        Date(DateField::Created, Lt, local("2024-01-05 00:00")),
                    ],
                    order_by: vec![OrderBy { field: SortField::Id, direction: Direction::Asc }],
                },
            ),
            (
                "updated > 1700000000000 and updatedDate <= -15m",
                Jql {
                    clauses: vec![
                        Date(DateField::Updated, Gt, DateValue::EpochMillis(1_700_000_000_000)),
                        Date(DateField::Updated, Le, DateValue::Relative(-15 * 60_000)),
                    ],
                    order_by: vec![],
                },
            ),
            (
                "issuekey = app-1 and id in (1, 2) and id >= 3 and key in (A-1,'b-2')",
                Jql {
                    clauses: vec![
                        Key(vec!["APP-1".into()]),
                        IdIn(vec![1, 2]),
                        Id(Ge, 3),
                        Key(vec!["A-1".into(), "B-2".into()]),
                    ],
                    order_by: vec![],
                },
            ),
            (
                "created >= \"-4w 2d\"",
                Jql {
                    clauses: vec![Date(DateField::Created, Ge, DateValue::Relative(-30 * 86_400_000))],
                    order_by: vec![],
                },
            ),
        ];
        for (text, expected) in cases {
            assert_eq!(parse(text), Ok(expected), "{text}");
        }
    }

    #[test]
    fn refused_queries() {
        type Check = fn(&JqlError) -> bool;
        let cases: Vec<(&str, Check)> = vec![
            ("", |e| *e == JqlError::Unbounded),
            ("   ", |e| *e == JqlError::Unbounded),
            ("ORDER BY key DESC", |e| *e == JqlError::Unbounded),
            ("project = A OR project = B", |e| matches!(e, JqlError::Unsupported(w) if w.contains("OR"))),
            ("NOT project = A", |e| matches!(e, JqlError::Unsupported(w) if w.contains("NOT"))),
            ("(project = A)", |e| matches!(e, JqlError::Unsupported(w) if w.contains("parentheses"))),
            ("project != A", |e| matches!(e, JqlError::Unsupported(w) if w.contains("!="))),
            ("summary ~ crash", |e| matches!(e, JqlError::UnknownField(f) if f == "summary")),
            ("assignee = currentUser()", |e| matches!(e, JqlError::UnknownField(f) if f == "assignee")),
            (
                "updated >= startOfDay()",
                |e| matches!(e, JqlError::Unsupported(w) if w.contains("startOfDay")),
            ),
            ("project is EMPTY", |e| matches!(e, JqlError::Unsupported(w) if w.contains("IS"))),
            ("project > A", |e| matches!(e, JqlError::Unsupported(w) if w.contains("range"))),
            ("updated in (1, 2)", |e| matches!(e, JqlError::Unsupported(w) if w.contains("IN"))),
            ("updated >= \"2024/13/01\"", |e| matches!(e, JqlError::BadDate { field: "updated", .. })),
            ("created < yesterday", |e| matches!(e, JqlError::BadDate { field: "created", .. })),
            (
                "project = A ORDER BY priority",
                |e| matches!(e, JqlError::Unsupported(w) if w.contains("priority")),
            ),
            ("project = A ORDER BY id, id, id, id, id, id, id, id", |e| {
                *e == JqlError::TooManyOrderFields(8)
            }),
            ("project = \"A", |e| matches!(e, JqlError::Syntax { position: 11, .. })),
            ("project = A B", |e| matches!(e, JqlError::Syntax { position: 13, .. })),
            ("project =", |e| matches!(e, JqlError::Syntax { .. })),
            ("project in (A, B", |e| matches!(e, JqlError::Syntax { .. })),
            ("id = ten", |e| matches!(e, JqlError::NotANumber { field: "id", .. })),
        ];
        for (text, check) in cases {
            let err = parse(text).expect_err(text);
            assert!(check(&err), "{text}: {err:?}");
        }
    }

    #[test]
    fn dates_resolve_in_the_users_zone() {
        // 2024-01-01 10:00 in UTC+10 is midnight UTC.
        let midnight_utc = 1_704_067_200_000;
        assert_eq!(local("2024-01-01 10:00").resolve(600, 0), midnight_utc);
        assert_eq!(local("2024-01-01 00:00").resolve(0, 0), midnight_utc);
        assert_eq!(local("2023-12-31 19:00").resolve(-300, 0), midnight_utc);
        assert_eq!(DateValue::EpochMillis(5).resolve(600, 0), 5);
        assert_eq!(DateValue::Relative(-60_000).resolve(600, midnight_utc), midnight_utc - 60_000);
    }

    #[test]
    fn comparisons() {
        let table = [
            (Comparison::Eq, [false, true, false]),
            (Comparison::Lt, [true, false, false]),
            (Comparison::Le, [true, true, false]),
            (Comparison::Gt, [false, false, true]),
            (Comparison::Ge, [false, true, true]),
        ];
        for (op, expected) in table {
            assert_eq!([op.holds(1, 2), op.holds(2, 2), op.holds(3, 2)], expected, "{op:?}");
        }
    }

    #[test]
    fn messages_match_atlassian() {
        assert_eq!(
            JqlError::Unbounded.atlassian_message(),
            "Unbounded JQL queries are not allowed here. Please add a search restriction to your query."
        );
        assert!(JqlError::Unsupported("'OR'".into()).atlassian_message().contains("'OR'"));
    }
}

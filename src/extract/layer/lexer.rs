//! A forgiving tokenizer for PDF content streams and CMaps: numbers, strings, names, arrays and
//! dictionaries as operands, and the operator words that consume them.
//!
//! Forgiving because the text of a damaged stream before and after the damage is still worth reading:
//! a byte that starts no token is skipped, an unterminated string or array ends at the end of the
//! stream, and nothing here fails. Inline images (`BI … ID <bytes> EI`) are stepped over whole, since
//! their bytes are not tokens. Not here: what the operators mean (`content.rs`, `cmap.rs`).

/// One operand of an operator.
#[derive(Debug, Clone, PartialEq)]
pub enum Operand {
    Number(f64),
    /// A literal `( )` or hexadecimal `< >` string, as bytes.
    String(Vec<u8>),
    Name(Vec<u8>),
    Array(Vec<Operand>),
    /// A dictionary's entries; content streams only use them for marked content, which is not read.
    Dictionary,
    /// `true`, `false`, `null` and words inside arrays.
    Other,
}

impl Operand {
    pub fn number(&self) -> Option<f64> {
        match self {
            Operand::Number(n) => Some(*n),
            _ => None,
        }
    }
}

/// A token at the top level of a stream.
#[derive(Debug, Clone, PartialEq)]
pub enum Token {
    Operand(Operand),
    Operator(Vec<u8>),
}

/// Arrays nested deeper than this are read as flat: a hostile stream cannot exhaust the stack.
const MAX_DEPTH: usize = 32;

/// Reads tokens from a byte stream.
pub struct Lexer<'a> {
    bytes: &'a [u8],
    at: usize,
}

impl<'a> Lexer<'a> {
    pub fn new(bytes: &'a [u8]) -> Self {
        Self { bytes, at: 0 }
    }

    fn peek(&self) -> Option<u8> {
        self.bytes.get(self.at).copied()
    }

    fn skip_space_and_comments(&mut self) {
        while let Some(byte) = self.peek() {
            if is_space(byte) {
                self.at += 1;
            } else if byte == b'%' {
                while self.peek().is_some_and(|b| b != b'\n' && b != b'\r') {
                    self.at += 1;
                }
            } else {
                break;
            }
        }
    }

    fn word(&mut self) -> &'a [u8] {
        let start = self.at;
        while self.peek().is_some_and(|b| !is_space(b) && !is_delimiter(b)) {
            self.at += 1;
        }
        &self.bytes[start..self.at]
    }

    /// Steps over an inline image's data, up to and including its `EI`.
    fn skip_inline_image(&mut self) {
        let rest = &self.bytes[self.at..];
        let end = rest
            .windows(4)
            .position(|w| {
                is_space(w[0]) && w[1] == b'E' && w[2] == b'I' && (is_space(w[3]) || is_delimiter(w[3]))
            })
            .map_or(rest.len(), |found| found + 3);
        self.at += end;
    }

    fn operand(&mut self, depth: usize) -> Option<Operand> {
        self.skip_space_and_comments();
        let byte = self.peek()?;
        Some(match byte {
            b'(' => {
                self.at += 1;
                Operand::String(self.literal_string())
            }
            b'<' if self.bytes.get(self.at + 1) == Some(&b'<') => {
                self.at += 2;
                self.skip_dictionary();
                Operand::Dictionary
            }
            b'<' => {
                self.at += 1;
                Operand::String(self.hex_string())
            }
            b'/' => {
                self.at += 1;
                Operand::Name(decode_name(self.word()))
            }
            b'[' => {
                self.at += 1;
                let mut items = Vec::new();
                loop {
                    self.skip_space_and_comments();
                    match self.peek() {
                        None => break,
                        Some(b']') => {
                            self.at += 1;
                            break;
                        }
                        Some(b'[') if depth >= MAX_DEPTH => self.at += 1,
                        Some(_) => match self.operand(depth + 1) {
                            Some(item) => items.push(item),
                            None => break,
                        },
                    }
                }
                Operand::Array(items)
            }
            b'+' | b'-' | b'.' | b'0'..=b'9' => {
                let word = self.word();
                match parse_number(word) {
                    Some(n) => Operand::Number(n),
                    None => Operand::Other,
                }
            }
            _ if is_delimiter(byte) => {
                self.at += 1;
                Operand::Other
            }
            _ => {
                self.word();
                Operand::Other
            }
        })
    }

    fn literal_string(&mut self) -> Vec<u8> {
        let mut out = Vec::new();
        let mut depth = 1usize;
        while let Some(byte) = self.peek() {
            self.at += 1;
            match byte {
                b'(' => {
                    depth += 1;
                    out.push(byte);
                }
                b')' => {
                    depth -= 1;
                    if depth == 0 {
                        break;
                    }
                    out.push(byte);
                }
                b'\\' => self.escape(&mut out),
                _ => out.push(byte),
            }
        }
        out
    }

    fn escape(&mut self, out: &mut Vec<u8>) {
        let Some(byte) = self.peek() else { return };
        self.at += 1;
        match byte {
            b'n' => out.push(b'\n'),
            b'r' => out.push(b'\r'),
            b't' => out.push(b'\t'),
            b'b' => out.push(8),
            b'f' => out.push(12),
            b'0'..=b'7' => {
                let mut value = u32::from(byte - b'0');
                for _ in 0..2 {
                    match self.peek() {
                        Some(digit @ b'0'..=b'7') => {
                            value = value * 8 + u32::from(digit - b'0');
                            self.at += 1;
                        }
                        _ => break,
                    }
                }
                out.push(value as u8);
            }
            // A backslash before a line end continues the string on the next line.
            b'\r' => {
                if self.peek() == Some(b'\n') {
                    self.at += 1;
                }
            }
            b'\n' => {}
            other => out.push(other),
        }
    }

    fn hex_string(&mut self) -> Vec<u8> {
        let mut digits = Vec::new();
        while let Some(byte) = self.peek() {
            self.at += 1;
            if byte == b'>' {
                break;
            }
            if let Some(digit) = (byte as char).to_digit(16) {
                digits.push(digit as u8);
            }
        }
        // An odd last digit is followed by an implicit zero.
        digits.chunks(2).map(|pair| pair[0] << 4 | pair.get(1).copied().unwrap_or(0)).collect()
    }

    fn skip_dictionary(&mut self) {
        let mut depth = 1usize;
        while depth > 0 {
            self.skip_space_and_comments();
            match self.peek() {
                None => return,
                Some(b'>') if self.bytes.get(self.at + 1) == Some(&b'>') => {
                    self.at += 2;
                    depth -= 1;
                }
                Some(b'<') if self.bytes.get(self.at + 1) == Some(&b'<') => {
                    self.at += 2;
                    depth += 1;
                }
                Some(_) => {
                    let before = self.at;
                    self.operand(MAX_DEPTH);
                    if self.at == before {
                        self.at += 1;
                    }
                }
            }
        }
    }
}

impl Iterator for Lexer<'_> {
    type Item = Token;

    fn next(&mut self) -> Option<Token> {
        self.skip_space_and_comments();
        let byte = self.peek()?;
        let starts_operand = matches!(byte, b'(' | b'<' | b'/' | b'[' | b'+' | b'-' | b'.' | b'0'..=b'9');
        if starts_operand {
            return self.operand(0).map(Token::Operand);
        }
        if is_delimiter(byte) {
            // A stray `]`, `>`, `)`, `{` or `}`: skipped.
            self.at += 1;
            return Some(Token::Operand(Operand::Other));
        }
        let word = self.word().to_vec();
        match word.as_slice() {
            b"true" | b"false" | b"null" => Some(Token::Operand(Operand::Other)),
            b"ID" => {
                self.skip_inline_image();
                Some(Token::Operator(word))
            }
            _ => Some(Token::Operator(word)),
        }
    }
}

fn is_space(byte: u8) -> bool {
    matches!(byte, b' ' | b'\t' | b'\n' | b'\r' | 0 | 12)
}

fn is_delimiter(byte: u8) -> bool {
    matches!(byte, b'(' | b')' | b'<' | b'>' | b'[' | b']' | b'{' | b'}' | b'/' | b'%')
}

fn parse_number(word: &[u8]) -> Option<f64> {
    let text = std::str::from_utf8(word).ok()?;
    // Producers write `--5` and `5.` and `.5`; the first two are read as PDF readers do.
    let text = text.trim_start_matches("--").trim_start_matches('+');
    let value: f64 = text.parse().ok().or_else(|| text.trim_end_matches('.').parse().ok())?;
    value.is_finite().then_some(value)
}

/// A name with its `#xx` escapes resolved.
fn decode_name(raw: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(raw.len());
    let mut i = 0;
    while i < raw.len() {
        let escaped = (raw[i] == b'#')
            .then(|| raw.get(i + 1..i + 3))
            .flatten()
            .and_then(|hex| std::str::from_utf8(hex).ok())
            .and_then(|hex| u8::from_str_radix(hex, 16).ok());
        match escaped {
            Some(byte) => {
                out.push(byte);
                i += 3;
            }
            None => {
                out.push(raw[i]);
                i += 1;
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tokens(text: impl AsRef<[u8]>) -> Vec<Token> {
        Lexer::new(text.as_ref()).collect()
    }

    fn op(word: &str) -> Token {
        Token::Operator(word.as_bytes().to_vec())
    }

    fn string(bytes: &[u8]) -> Token {
        Token::Operand(Operand::String(bytes.to_vec()))
    }

    #[test]
    fn operands_and_operators() {
        use Operand::*;
        let cases: Vec<(&[u8], Vec<Token>)> = vec![
            (
                b"BT /F1 12 Tf (a\\(b\\)\\101\\n) Tj ET",
                vec![
                    op("BT"),
                    Token::Operand(Name(b"F1".to_vec())),
                    Token::Operand(Number(12.0)),
                    op("Tf"),
                    string(b"a(b)A\n"),
                    op("Tj"),
                    op("ET"),
                ],
            ),
            (b"<48 65 6c6> Tj", vec![string(b"Hel`"), op("Tj")]),
            (
                b"[(a) -250 (b)] TJ",
                vec![
                    Token::Operand(Array(vec![String(b"a".to_vec()), Number(-250.0), String(b"b".to_vec())])),
                    op("TJ"),
                ],
            ),
            (
                b"/P <</MCID 3>> BDC",
                vec![Token::Operand(Name(b"P".to_vec())), Token::Operand(Dictionary), op("BDC")],
            ),
            (
                b"BI /W 4 ID \x00\xff EI x EI Q",
                vec![
                    op("BI"),
                    Token::Operand(Name(b"W".to_vec())),
                    Token::Operand(Number(4.0)),
                    op("ID"),
                    op("x"),
                    op("EI"),
                    op("Q"),
                ],
            ),
            (
                b"% comment\n/A#20B -.5 5. --3",
                vec![
                    Token::Operand(Name(b"A B".to_vec())),
                    Token::Operand(Number(-0.5)),
                    Token::Operand(Number(5.0)),
                    Token::Operand(Number(3.0)),
                ],
            ),
            (b"(unterminated", vec![string(b"unterminated")]),
            (b"[[[", vec![Token::Operand(Array(vec![Array(vec![Array(vec![])])]))]),
        ];
        for (text, expected) in cases {
            assert_eq!(tokens(text), expected, "{:?}", std::string::String::from_utf8_lossy(text));
        }
    }

    #[test]
    fn deep_nesting_does_not_recurse_without_bound() {
        let text = "[".repeat(100_000);
        assert_eq!(tokens(&text).len(), 1);
    }
}

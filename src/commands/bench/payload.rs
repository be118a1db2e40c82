//! What each connection sends: a fixed random payload made once per connection (so sending it
//! again is a reference count, not an allocation), or a `-x` template whose `${seq}`, `${conn}`
//! and `${now_ms}` are filled in per message.

use std::time::{SystemTime, UNIX_EPOCH};

use tokio_tungstenite::tungstenite::{Bytes, Message, Utf8Bytes};

/// The payload the user asked for, checked.
#[derive(Debug, Clone)]
pub enum Payload {
    /// `--size BYTES`: random printable ASCII, or random bytes with `--binary`.
    Random { size: usize, binary: bool },
    /// `-x TEMPLATE`, split into its pieces.
    Template { parts: Vec<Part>, binary: bool },
}

/// A piece of a template.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Part {
    Literal(String),
    Seq,
    Conn,
    NowMs,
}

/// Split a template into literals and the three variables; anything else in `${...}` is refused.
pub fn parse_template(t: &str) -> Result<Vec<Part>, String> {
    let mut parts = Vec::new();
    let mut rest = t;
    while let Some(i) = rest.find("${") {
        if i > 0 {
            parts.push(Part::Literal(rest[..i].to_string()));
        }
        let after = &rest[i + 2..];
        let Some(end) = after.find('}') else {
            return Err(format!(
                "-x '{}': '${{' without a closing '}}'",
                t.escape_debug()
            ));
        };
        parts.push(match &after[..end] {
            "seq" => Part::Seq,
            "conn" => Part::Conn,
            "now_ms" => Part::NowMs,
            other => {
                return Err(format!(
                    "-x '{}': unknown variable ${{{}}} (use ${{seq}}, ${{conn}} or ${{now_ms}})",
                    t.escape_debug(),
                    other.escape_debug()
                ))
            }
        });
        rest = &after[end + 1..];
    }
    if !rest.is_empty() {
        parts.push(Part::Literal(rest.to_string()));
    }
    Ok(parts)
}

/// One connection's source of messages.
pub struct Generator {
    fixed: Option<Message>,
    parts: Vec<Part>,
    binary: bool,
    conn: u32,
}

impl Generator {
    pub fn new(payload: &Payload, conn: u32) -> Generator {
        match payload {
            Payload::Random { size, binary } => Generator {
                fixed: Some(random(*size, *binary)),
                parts: Vec::new(),
                binary: *binary,
                conn,
            },
            Payload::Template { parts, binary } => Generator {
                fixed: None,
                parts: parts.clone(),
                binary: *binary,
                conn,
            },
        }
    }

    /// The message numbered `seq` (from 1).
    pub fn message(&self, seq: u64) -> Message {
        if let Some(m) = &self.fixed {
            return m.clone();
        }
        let mut s = String::with_capacity(64);
        for p in &self.parts {
            use std::fmt::Write;
            let _ = match p {
                Part::Literal(l) => {
                    s.push_str(l);
                    Ok(())
                }
                Part::Seq => write!(s, "{seq}"),
                Part::Conn => write!(s, "{}", self.conn),
                Part::NowMs => write!(s, "{}", now_ms()),
            };
        }
        if self.binary {
            Message::Binary(Bytes::from(s.into_bytes()))
        } else {
            Message::Text(Utf8Bytes::from(s))
        }
    }
}

fn now_ms() -> u128 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis())
        .unwrap_or(0)
}

/// Random printable ASCII (space to tilde) or random bytes.
fn random(size: usize, binary: bool) -> Message {
    if binary {
        let bytes: Vec<u8> = (0..size).map(|_| fastrand::u8(..)).collect();
        Message::Binary(Bytes::from(bytes))
    } else {
        let text: String = (0..size).map(|_| fastrand::char(' '..='~')).collect();
        Message::Text(Utf8Bytes::from(text))
    }
}

/// A data message's payload bytes (None for control frames).
pub fn body(m: &Message) -> Option<&[u8]> {
    match m {
        Message::Text(t) => Some(t.as_bytes()),
        Message::Binary(b) => Some(b),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn templates_fill_their_variables() {
        let parts = parse_template(r#"{"id":${seq},"c":${conn}}"#).unwrap();
        let g = Generator::new(
            &Payload::Template {
                parts,
                binary: false,
            },
            7,
        );
        assert_eq!(body(&g.message(42)).unwrap(), br#"{"id":42,"c":7}"#);
        let now = parse_template("${now_ms}").unwrap();
        let g = Generator::new(
            &Payload::Template {
                parts: now,
                binary: true,
            },
            1,
        );
        assert!(matches!(g.message(1), Message::Binary(b) if b.len() >= 13));
        assert!(parse_template("${nope}").unwrap_err().contains("${nope}"));
        assert!(parse_template("a ${seq").is_err());
    }

    #[test]
    fn random_payloads_have_the_size_and_are_printable() {
        let g = Generator::new(
            &Payload::Random {
                size: 100,
                binary: false,
            },
            1,
        );
        let m = g.message(1);
        let b = body(&m).unwrap();
        assert_eq!(b.len(), 100);
        assert!(b.iter().all(|c| (b' '..=b'~').contains(c)));
        assert_eq!(
            g.message(2),
            m,
            "the same payload every time (no allocation)"
        );
    }
}

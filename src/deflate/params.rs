//! Negotiating permessage-deflate (RFC 7692 §5, §7.1), pure: the offer we make (browsers' by
//! default, or the user's `--deflate PARAMS`), the rules a server's answer must follow, and the
//! answer `listen` gives to a client's offers. What both ends agreed on is an [`Agreed`].

use crate::wire::role::Role;

pub const NAME: &str = "permessage-deflate";

/// What the four parameters settle for a connection (§7.1). Window sizes are base-2 logarithms.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub struct Agreed {
    pub server_no_context_takeover: bool,
    pub client_no_context_takeover: bool,
    pub server_max_window_bits: u8,
    pub client_max_window_bits: u8,
}

impl Agreed {
    /// How `role` compresses what it sends: window bits, and whether each message starts afresh.
    pub fn sending(&self, role: Role) -> (u8, bool) {
        match role {
            Role::Client => (self.client_max_window_bits, self.client_no_context_takeover),
            Role::Server => (self.server_max_window_bits, self.server_no_context_takeover),
        }
    }

    /// Whether each message `role` receives starts with an empty window.
    pub fn receiving_fresh(&self, role: Role) -> bool {
        match role {
            Role::Client => self.server_no_context_takeover,
            Role::Server => self.client_no_context_takeover,
        }
    }

    /// `server 15-bit window, context kept; client 15-bit window, context reset per message`.
    pub fn describe(&self) -> String {
        let side = |bits: u8, fresh: bool| {
            let how = if fresh {
                "context reset per message"
            } else {
                "context kept"
            };
            let plain = if bits < 9 {
                " (sent uncompressed by wscope)"
            } else {
                ""
            };
            format!("{bits}-bit window{plain}, {how}")
        };
        format!(
            "server {}; client {}",
            side(self.server_max_window_bits, self.server_no_context_takeover),
            side(self.client_max_window_bits, self.client_no_context_takeover)
        )
    }
}

/// A permessage-deflate offer, as a client makes it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Offer {
    pub server_no_context_takeover: bool,
    pub client_no_context_takeover: bool,
    pub server_max_window_bits: Option<u8>,
    /// `Some(None)`: offered without a value (the server may pick any size).
    pub client_max_window_bits: Option<Option<u8>>,
}

/// One parameter as written: its name and value (quotes removed).
#[derive(Debug, Clone, PartialEq, Eq)]
struct Param {
    name: String,
    value: Option<String>,
}

/// Split an extension item `name; a; b=1` into its name and parameters.
fn split_item(item: &str) -> (String, Vec<Param>) {
    let mut parts = item.split(';').map(str::trim);
    let name = parts.next().unwrap_or("").to_string();
    let params = parts
        .filter(|p| !p.is_empty())
        .map(|p| match p.split_once('=') {
            Some((n, v)) => Param {
                name: n.trim().to_string(),
                value: Some(v.trim().trim_matches('"').to_string()),
            },
            None => Param {
                name: p.to_string(),
                value: None,
            },
        })
        .collect();
    (name, params)
}

/// Whether an extension item is permessage-deflate.
pub fn is_deflate(item: &str) -> bool {
    split_item(item).0.eq_ignore_ascii_case(NAME)
}

/// A window size value: 8 to 15, digits only.
fn bits(name: &str, value: &str) -> Result<u8, String> {
    match value.parse::<u8>() {
        Ok(b @ 8..=15) if value.bytes().all(|c| c.is_ascii_digit()) => Ok(b),
        _ => Err(format!(
            "{name}={value} is out of range (a window size is 8 to 15)"
        )),
    }
}

/// Parameters seen once each, names known: the checks common to offers and answers.
fn known_once(params: &[Param]) -> Result<(), String> {
    const KNOWN: [&str; 4] = [
        "server_no_context_takeover",
        "client_no_context_takeover",
        "server_max_window_bits",
        "client_max_window_bits",
    ];
    for (i, p) in params.iter().enumerate() {
        if !KNOWN.contains(&p.name.as_str()) {
            return Err(format!("unknown parameter '{}'", p.name));
        }
        if params[..i].iter().any(|q| q.name == p.name) {
            return Err(format!("parameter '{}' given twice", p.name));
        }
        if p.name.ends_with("_no_context_takeover") && p.value.is_some() {
            return Err(format!("{} takes no value", p.name));
        }
    }
    Ok(())
}

impl Offer {
    /// What browsers offer (Chromium, Firefox): `permessage-deflate; client_max_window_bits`.
    pub fn browser() -> Offer {
        Offer {
            client_max_window_bits: Some(None),
            ..Offer::default()
        }
    }

    /// `--deflate 'PARAMS'`, or an offered extension item (`permessage-deflate; ...`).
    pub fn parse(text: &str) -> Result<Offer, String> {
        let text = text.trim();
        let item = if split_item(text).0.eq_ignore_ascii_case(NAME) {
            text.to_string()
        } else {
            format!("{NAME}; {text}")
        };
        let (_, params) = split_item(&item);
        known_once(&params)?;
        let mut offer = Offer::default();
        for p in &params {
            let value = p.value.as_deref();
            match (p.name.as_str(), value) {
                ("server_no_context_takeover", _) => offer.server_no_context_takeover = true,
                ("client_no_context_takeover", _) => offer.client_no_context_takeover = true,
                ("server_max_window_bits", Some(v)) => {
                    offer.server_max_window_bits = Some(bits(&p.name, v)?)
                }
                ("server_max_window_bits", None) => {
                    return Err("server_max_window_bits needs a value (8 to 15)".into())
                }
                (_, v) => {
                    offer.client_max_window_bits = Some(v.map(|v| bits(&p.name, v)).transpose()?)
                }
            }
        }
        Ok(offer)
    }

    /// The Sec-WebSocket-Extensions value that makes this offer.
    pub fn header_value(&self) -> String {
        let mut v = NAME.to_string();
        if self.server_no_context_takeover {
            v.push_str("; server_no_context_takeover");
        }
        if self.client_no_context_takeover {
            v.push_str("; client_no_context_takeover");
        }
        if let Some(b) = self.server_max_window_bits {
            v.push_str(&format!("; server_max_window_bits={b}"));
        }
        match self.client_max_window_bits {
            Some(Some(b)) => v.push_str(&format!("; client_max_window_bits={b}")),
            Some(None) => v.push_str("; client_max_window_bits"),
            None => {}
        }
        v
    }

    /// Judge a server's answer to this offer (§7.1). Ok: what was agreed, with warnings about
    /// what is valid but known to trouble some clients.
    pub fn check_response(&self, item: &str) -> Result<(Agreed, Vec<String>), String> {
        let (_, params) = split_item(item);
        known_once(&params)?;
        let has = |n: &str| params.iter().find(|p| p.name == n);
        let mut warnings = Vec::new();
        let server_bits = match has("server_max_window_bits") {
            None if self.server_max_window_bits.is_some() => {
                return Err(
                    "the offer limited server_max_window_bits and the answer does not say it \
                     agrees (§7.1.2.1)"
                        .into(),
                )
            }
            None => 15,
            Some(Param { value: None, .. }) => {
                return Err("server_max_window_bits has no value (§7.1.2.1)".into())
            }
            Some(Param { value: Some(v), .. }) => {
                let b = bits("server_max_window_bits", v)?;
                match self.server_max_window_bits {
                    Some(max) if b > max => {
                        return Err(format!(
                            "server_max_window_bits={b} is larger than the {max} offered"
                        ))
                    }
                    Some(_) => {}
                    None => warnings.push(format!(
                        "server_max_window_bits={b} was not asked for: valid (RFC 7692 \
                         §7.1.2.1), but Firefox refuses such an answer"
                    )),
                }
                b
            }
        };
        let client_bits = match (has("client_max_window_bits"), self.client_max_window_bits) {
            (Some(_), None) => {
                return Err(
                    "client_max_window_bits in the answer, but the offer did not allow it \
                     (§7.1.2.2)"
                        .into(),
                )
            }
            (Some(Param { value: None, .. }), _) => {
                return Err(
                    "client_max_window_bits has no value: in an answer it needs one (§7.1.2.2)"
                        .into(),
                )
            }
            (Some(Param { value: Some(v), .. }), Some(offered)) => {
                let b = bits("client_max_window_bits", v)?;
                if let Some(max) = offered.filter(|&max| b > max) {
                    return Err(format!(
                        "client_max_window_bits={b} is larger than the {max} offered"
                    ));
                }
                b
            }
            (None, Some(Some(offered))) => offered,
            (None, _) => 15,
        };
        let server_fresh = has("server_no_context_takeover").is_some();
        if self.server_no_context_takeover && !server_fresh {
            return Err(
                "the offer asked for server_no_context_takeover and the answer does not agree \
                 (§7.1.1.1)"
                    .into(),
            );
        }
        Ok((
            Agreed {
                server_no_context_takeover: server_fresh,
                // Offered, it is our promise; answered, the server's demand.
                client_no_context_takeover: self.client_no_context_takeover
                    || has("client_no_context_takeover").is_some(),
                server_max_window_bits: server_bits,
                client_max_window_bits: client_bits,
            },
            warnings,
        ))
    }
}

/// `listen`'s answer to a client's extension offers: the first permessage-deflate offer it can
/// accept, answered within what the client allowed (its own `server_*` wishes granted, its
/// window left as it is: we inflate any size). None: nothing acceptable was offered.
pub fn accept(offered: &[String]) -> Option<(String, Agreed)> {
    offered
        .iter()
        .filter(|item| is_deflate(item))
        .find_map(|item| Offer::parse(item).ok())
        .map(|o| {
            let mut answer = NAME.to_string();
            if o.server_no_context_takeover {
                answer.push_str("; server_no_context_takeover");
            }
            if o.client_no_context_takeover {
                answer.push_str("; client_no_context_takeover");
            }
            if let Some(b) = o.server_max_window_bits {
                answer.push_str(&format!("; server_max_window_bits={b}"));
            }
            let agreed = Agreed {
                server_no_context_takeover: o.server_no_context_takeover,
                client_no_context_takeover: o.client_no_context_takeover,
                server_max_window_bits: o.server_max_window_bits.unwrap_or(15),
                client_max_window_bits: o.client_max_window_bits.flatten().unwrap_or(15),
            };
            (answer, agreed)
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_default_offer_is_the_browsers() {
        assert_eq!(
            Offer::browser().header_value(),
            "permessage-deflate; client_max_window_bits"
        );
        assert_eq!(
            Offer::parse("permessage-deflate; client_max_window_bits").unwrap(),
            Offer::browser()
        );
    }

    #[test]
    fn user_offers_are_checked() {
        let o = Offer::parse("server_no_context_takeover; server_max_window_bits=10").unwrap();
        assert_eq!(
            o.header_value(),
            "permessage-deflate; server_no_context_takeover; server_max_window_bits=10"
        );
        assert_eq!(Offer::parse("").unwrap(), Offer::default());
        for (bad, why) in [
            ("foo", "unknown parameter 'foo'"),
            ("server_max_window_bits=16", "out of range"),
            ("client_max_window_bits=7", "out of range"),
            ("server_max_window_bits", "needs a value"),
            ("client_no_context_takeover=1", "takes no value"),
            (
                "server_no_context_takeover; server_no_context_takeover",
                "twice",
            ),
            ("client_max_window_bits=+9", "out of range"),
        ] {
            let e = Offer::parse(bad).unwrap_err();
            assert!(e.contains(why), "{bad}: {e}");
        }
    }

    #[test]
    fn answers_are_judged_by_rfc7692_7_1() {
        let o = Offer::browser();
        let (a, w) = o.check_response("permessage-deflate").unwrap();
        assert_eq!(a.sending(Role::Client), (15, false));
        assert!(w.is_empty());
        let (a, _) = o
            .check_response(
                "permessage-deflate; client_max_window_bits=9; client_no_context_takeover",
            )
            .unwrap();
        assert_eq!(a.sending(Role::Client), (9, true));
        let (a, w) = o
            .check_response("permessage-deflate; server_max_window_bits=10")
            .unwrap();
        assert_eq!(a.server_max_window_bits, 10);
        assert!(w[0].contains("Firefox"), "{w:?}");
        for (offer, answer, why) in [
            (Offer::browser(), "permessage-deflate; x=1", "unknown"),
            (
                Offer::browser(),
                "permessage-deflate; server_no_context_takeover; server_no_context_takeover",
                "twice",
            ),
            (
                Offer::browser(),
                "permessage-deflate; server_max_window_bits=16",
                "out of range",
            ),
            (
                Offer::browser(),
                "permessage-deflate; client_max_window_bits",
                "needs one",
            ),
            (
                Offer::default(),
                "permessage-deflate; client_max_window_bits=10",
                "did not allow",
            ),
            (
                Offer::parse("server_no_context_takeover").unwrap(),
                "permessage-deflate",
                "does not agree",
            ),
            (
                Offer::parse("server_max_window_bits=10").unwrap(),
                "permessage-deflate; server_max_window_bits=12",
                "larger",
            ),
            (
                Offer::parse("client_max_window_bits=10").unwrap(),
                "permessage-deflate; client_max_window_bits=12",
                "larger",
            ),
        ] {
            let e = offer.check_response(answer).unwrap_err();
            assert!(e.contains(why), "{answer}: {e}");
        }
    }

    #[test]
    fn listen_accepts_within_what_the_client_allowed() {
        let chromium = ["permessage-deflate; client_max_window_bits".to_string()];
        let (answer, agreed) = accept(&chromium).unwrap();
        assert_eq!(answer, "permessage-deflate");
        assert_eq!(agreed.sending(Role::Server), (15, false));
        let firefox_like = [
            "permessage-deflate; server_max_window_bits=99".to_string(),
            "permessage-deflate; server_no_context_takeover; server_max_window_bits=10".into(),
        ];
        let (answer, agreed) = accept(&firefox_like).unwrap();
        assert_eq!(
            answer,
            "permessage-deflate; server_no_context_takeover; server_max_window_bits=10"
        );
        assert_eq!(agreed.sending(Role::Server), (10, true));
        // The client's answer to our answer is judged by the client's own rules: it passes.
        let offer = Offer::parse(&firefox_like[1]).unwrap();
        assert!(offer.check_response(&answer).unwrap().1.is_empty());
        assert!(accept(&["x-webkit-deflate-frame".into()]).is_none());
    }
}

//! A list of HTTP header fields as they came (names keep their spelling, order and repeats are
//! kept), looked up without regard to case, as RFC 9110 wants.

use serde::Serialize;

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[serde(transparent)]
pub struct Headers(Vec<(String, String)>);

impl Headers {
    pub fn new() -> Headers {
        Headers::default()
    }

    pub fn push(&mut self, name: impl Into<String>, value: impl Into<String>) {
        self.0.push((name.into(), value.into()));
    }

    /// The first value of `name`.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// Every value of `name`, in order (a header that may repeat).
    pub fn all(&self, name: &str) -> Vec<&str> {
        self.0
            .iter()
            .filter(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
            .collect()
    }

    /// Every comma-separated item of every `name` field.
    pub fn items(&self, name: &str) -> Vec<String> {
        let values = self.all(name);
        values
            .into_iter()
            .flat_map(list)
            .map(String::from)
            .collect()
    }

    pub fn contains(&self, name: &str) -> bool {
        self.get(name).is_some()
    }

    /// Remove every `name` field.
    pub fn remove(&mut self, name: &str) {
        self.0.retain(|(n, _)| !n.eq_ignore_ascii_case(name));
    }

    /// Keep the fields for which `keep(name)` holds.
    pub fn retain_names(&mut self, mut keep: impl FnMut(&str) -> bool) {
        self.0.retain(|(n, _)| keep(n));
    }

    pub fn iter(&self) -> impl Iterator<Item = (&str, &str)> {
        self.0.iter().map(|(n, v)| (n.as_str(), v.as_str()))
    }

    pub fn len(&self) -> usize {
        self.0.len()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl FromIterator<(String, String)> for Headers {
    fn from_iter<I: IntoIterator<Item = (String, String)>>(iter: I) -> Headers {
        Headers(iter.into_iter().collect())
    }
}

/// The items of a comma-separated header value, trimmed, empty ones skipped.
pub fn list(value: &str) -> impl Iterator<Item = &str> {
    value.split(',').map(str::trim).filter(|s| !s.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lookups_ignore_case_and_keep_repeats() {
        let mut h = Headers::new();
        h.push("Sec-WebSocket-Protocol", "a, b");
        h.push("X-Case", "1");
        h.push("sec-websocket-protocol", ",c");
        assert_eq!(h.get("SEC-WEBSOCKET-PROTOCOL"), Some("a, b"));
        assert_eq!(h.items("Sec-WebSocket-Protocol"), ["a", "b", "c"]);
        assert_eq!(h.iter().nth(1), Some(("X-Case", "1")));
        h.remove("sec-WebSocket-protocol");
        assert_eq!(h.len(), 1);
        assert!(!h.contains("Sec-WebSocket-Protocol"));
    }
}

//! What the query language (`crate::query`) reads from the header reader.
//! One impl for every front end: the inspector's rows and `list`/`clean`
//! rows wrap the same `HeaderSummary`.

use crate::mail::HeaderSummary;
use crate::query::HeaderFacts;

impl HeaderFacts for HeaderSummary {
    fn from(&self) -> &str {
        &self.from
    }

    fn to(&self) -> &str {
        &self.to
    }

    fn cc(&self) -> &str {
        &self.cc
    }

    fn subject(&self) -> &str {
        &self.subject
    }

    fn message_id(&self) -> &str {
        &self.message_id
    }

    fn timestamp(&self) -> Option<i64> {
        self.timestamp
    }

    // The header reader does not record these yet; until it does, the
    // flags match nothing rather than guess.
    fn is_broken(&self) -> bool {
        false
    }

    fn has_attachment(&self) -> bool {
        false
    }

    fn any_header_value(&self, name: &str, test: &mut dyn FnMut(&str) -> bool) -> bool {
        let known = [
            ("from", self.from.as_str()),
            ("to", self.to.as_str()),
            ("cc", self.cc.as_str()),
            ("subject", self.subject.as_str()),
            ("message-id", self.message_id.as_str()),
            ("content-type", self.content_type.as_str()),
            ("date", self.date.as_deref().unwrap_or("")),
        ];
        known
            .iter()
            .any(|(known_name, value)| known_name.eq_ignore_ascii_case(name) && !value.is_empty() && test(value))
    }
}

//! What the query language (`crate::query`) reads from the header reader.
//! One impl for every front end: the inspector's rows and `list`/`clean`
//! rows wrap the same `HeaderSummary`.

use crate::mail::HeaderSummary;
use crate::query::HeaderFacts;

impl HeaderFacts for HeaderSummary {
    fn from(&self) -> &str {
        HeaderSummary::from(self)
    }

    fn to(&self) -> &str {
        HeaderSummary::to(self)
    }

    fn cc(&self) -> &str {
        HeaderSummary::cc(self)
    }

    fn subject(&self) -> &str {
        HeaderSummary::subject(self)
    }

    fn message_id(&self) -> &str {
        HeaderSummary::message_id(self)
    }

    fn timestamp(&self) -> Option<i64> {
        self.timestamp
    }

    fn is_broken(&self) -> bool {
        !self.broken.is_empty()
    }

    fn has_attachment(&self) -> bool {
        self.has_attachment
    }

    fn any_header_value(&self, name: &str, test: &mut dyn FnMut(&str) -> bool) -> bool {
        self.header_values(name).any(test)
    }
}

#[cfg(test)]
mod tests {
    use crate::mail::HeaderSummary;
    use crate::query::{MatchContext, MessageFacts, Query, Verdict};

    struct Row(HeaderSummary);

    impl MessageFacts for Row {
        type Headers = HeaderSummary;
        fn number(&self) -> u32 {
            1
        }
        fn uid(&self) -> Option<&str> {
            None
        }
        fn size(&self) -> u64 {
            100
        }
        fn headers(&self) -> Option<&HeaderSummary> {
            Some(&self.0)
        }
        fn is_dup(&self) -> Option<bool> {
            Some(false)
        }
    }

    fn verdict(query: &str, block: &[u8]) -> Verdict {
        let row = Row(HeaderSummary::parse(block));
        Query::parse(query).unwrap().evaluate(&row, &MatchContext::at(0))
    }

    #[test]
    fn the_header_readers_findings_reach_the_query_language() {
        let plain = b"From: a@example.org\r\nDate: 1 Jul 2025 10:00:00 +0000\r\nX-Mailer: Bulk 9000\r\n\r\n";
        let dateless = b"From: a@example.org\r\nSubject: hi\r\n\r\n";
        let mixed = b"From: a@example.org\r\nDate: 1 Jul 2025 10:00:00 +0000\r\nContent-Type: multipart/mixed; boundary=x\r\n\r\n";
        assert_eq!(verdict("broken", plain), Verdict::NoMatch);
        assert_eq!(verdict("broken", dateless), Verdict::Match);
        assert_eq!(verdict("has:attachment", plain), Verdict::NoMatch);
        assert_eq!(verdict("has:attachment", mixed), Verdict::Match);
        assert_eq!(verdict("header:x-mailer=bulk", plain), Verdict::Match);
        assert_eq!(verdict("header:X-Mailer=other", plain), Verdict::NoMatch);
    }
}

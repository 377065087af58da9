//! Table tests of the whole language: parse, evaluate, display, errors.

use super::*;

/// 2024-03-01 00:00 UTC.
const NOW: i64 = 1_709_251_200;
const DAY: i64 = 86_400;
const MIB: u64 = 1024 * 1024;

#[derive(Default)]
struct TestHeaders {
    from: &'static str,
    to: &'static str,
    cc: &'static str,
    subject: &'static str,
    message_id: &'static str,
    timestamp: Option<i64>,
    broken: bool,
    attachment: bool,
    others: Vec<(&'static str, &'static str)>,
}

impl HeaderFacts for TestHeaders {
    fn from(&self) -> &str {
        self.from
    }
    fn to(&self) -> &str {
        self.to
    }
    fn cc(&self) -> &str {
        self.cc
    }
    fn subject(&self) -> &str {
        self.subject
    }
    fn message_id(&self) -> &str {
        self.message_id
    }
    fn timestamp(&self) -> Option<i64> {
        self.timestamp
    }
    fn is_broken(&self) -> bool {
        self.broken
    }
    fn has_attachment(&self) -> bool {
        self.attachment
    }
    fn any_header_value(&self, name: &str, test: &mut dyn FnMut(&str) -> bool) -> bool {
        self.others
            .iter()
            .any(|(header, value)| header.eq_ignore_ascii_case(name) && test(value))
    }
}

struct Row {
    number: u32,
    uid: Option<&'static str>,
    size: u64,
    headers: Option<TestHeaders>,
    dup: Option<bool>,
}

impl MessageFacts for Row {
    type Headers = TestHeaders;
    fn number(&self) -> u32 {
        self.number
    }
    fn uid(&self) -> Option<&str> {
        self.uid
    }
    fn size(&self) -> u64 {
        self.size
    }
    fn headers(&self) -> Option<&TestHeaders> {
        self.headers.as_ref()
    }
    fn is_dup(&self) -> Option<bool> {
        self.dup
    }
}

/// The mailbox every match test runs on. Row 5's headers are not loaded,
/// row 4 has no UID yet; the dates sit on the edges of the date terms.
fn mailbox() -> Vec<Row> {
    let row = |number, uid, size, headers: Option<TestHeaders>| Row {
        number,
        uid,
        size,
        dup: headers.as_ref().map(|_| false),
        headers,
    };
    let mut rows = vec![
        row(
            1,
            Some("UID-0001"),
            500,
            Some(TestHeaders {
                from: "Alice Example <alice@example.org>",
                to: "bob@example.net",
                subject: "Disk full on /var",
                message_id: "a1@example.org",
                timestamp: Some(NOW - 30 * DAY), // 2024-01-31 00:00:00
                others: vec![("X-Spam-Flag", "NO"), ("Received", "from a"), ("Received", "from b")],
                ..TestHeaders::default()
            }),
        ),
        row(
            2,
            Some("UID-0002"),
            2048,
            Some(TestHeaders {
                from: "junk <spam@junk.example>",
                to: "alice@example.org",
                cc: "carol@example.net",
                subject: "Invoice 42",
                message_id: "j2@junk.example",
                timestamp: Some(NOW - 30 * DAY - 1), // 2024-01-30 23:59:59
                attachment: true,
                others: vec![("x-spam-flag", "YES")],
                ..TestHeaders::default()
            }),
        ),
        row(
            3,
            Some("uid-0003"),
            11 * MIB,
            Some(TestHeaders {
                from: "Ünïcødé <u@example.com>",
                to: "bob@example.net",
                subject: "Grüße aus Köln — DISK FULL",
                message_id: "a1@example.org",
                timestamp: Some(1_704_153_599), // 2024-01-01 23:59:59
                broken: true,
                ..TestHeaders::default()
            }),
        ),
        row(
            4,
            None,
            MIB,
            Some(TestHeaders {
                from: "receipts@shop.example",
                subject: "Your receipt",
                message_id: "r4@shop.example",
                others: vec![("X-Mailer", "Shop Bot 2.0")],
                ..TestHeaders::default()
            }),
        ),
        row(5, Some("UID-0005"), 100, None),
        row(
            6,
            Some("UID-0006"),
            20 * MIB,
            Some(TestHeaders {
                from: "Bob <bob@example.net>",
                subject: "re: \"quoted\" (paren)",
                message_id: "b6@example.net",
                timestamp: Some(1_704_153_600), // 2024-01-02 00:00:00
                ..TestHeaders::default()
            }),
        ),
        row(
            7,
            Some("UID-0007"),
            0,
            Some(TestHeaders {
                broken: true,
                ..TestHeaders::default()
            }),
        ),
    ];
    rows[2].dup = Some(true);
    rows
}

/// (matching numbers, unknown numbers) of `query` on `rows`.
fn outcome(query: &Query, rows: &[Row], context: &MatchContext) -> (Vec<u32>, Vec<u32>) {
    let numbers = |wanted: Verdict| {
        rows.iter()
            .filter(|row| query.evaluate(*row, context) == wanted)
            .map(|row| row.number)
            .collect()
    };
    (numbers(Verdict::Match), numbers(Verdict::Unknown))
}

fn parsed(input: &str) -> Query {
    Query::parse(input).unwrap_or_else(|error| panic!("{input:?} did not parse:\n{}", error.render()))
}

/// Query, the numbers it matches, the numbers it cannot decide.
const MATCHES: &[(&str, &[u32], &[u32])] = &[
    // Bare words and quoting: From or Subject, any case.
    ("disk", &[1, 3], &[5]),
    ("DISK", &[1, 3], &[5]),
    ("\"disk full\"", &[1, 3], &[5]),
    ("alice", &[1], &[5]),
    ("\"re:\"", &[6], &[5]),
    ("\"\\\"quoted\\\"\"", &[6], &[5]),
    ("\"(paren)\"", &[6], &[5]),
    ("\"big\"", &[], &[5]),
    ("köln", &[3], &[5]),
    ("ÜNÏ", &[3], &[5]),
    ("nothing-like-this", &[], &[5]),
    // Text fields.
    ("from:example.org", &[1], &[5]),
    ("FROM:EXAMPLE.ORG", &[1], &[5]),
    ("from:alice", &[1], &[5]),
    ("to:alice", &[2], &[5]),
    ("to:bob@example.net", &[1, 3], &[5]),
    ("cc:example.net", &[2], &[5]),
    ("subject:\"disk full\"", &[1, 3], &[5]),
    ("subject:receipt", &[4], &[5]),
    ("msgid:a1@example.org", &[1, 3], &[5]),
    ("msgid:<a1@example.org>", &[1, 3], &[5]),
    ("uid:uid-000", &[1, 2, 3, 5, 6, 7], &[4]),
    ("uid:0003", &[3], &[4]),
    ("header:X-Spam-Flag=yes", &[2], &[5]),
    ("header:x-spam-flag", &[1, 2], &[5]),
    ("header:Received=\"from b\"", &[1], &[5]),
    ("header:X-Mailer=\"shop bot\"", &[4], &[5]),
    ("header:\"X-Mailer=Shop Bot\"", &[4], &[5]),
    ("header:List-Id", &[], &[5]),
    // Sizes: decided without headers.
    ("size>1M", &[3, 6], &[]),
    ("size>=1M", &[3, 4, 6], &[]),
    ("size<2k", &[1, 5, 7], &[]),
    ("size<=2k", &[1, 2, 5, 7], &[]),
    ("size=0", &[7], &[]),
    ("size=500", &[1], &[]),
    ("size>1.5k", &[2, 3, 4, 6], &[]),
    ("SIZE>10m", &[3, 6], &[]),
    ("size>10MB", &[3, 6], &[]),
    ("big", &[3, 6], &[]),
    // Dates, on both edges of each boundary.
    ("before:2024-01-31", &[2, 3, 6], &[5]),
    ("before:2024-01-02", &[3], &[5]),
    ("after:2024-01-01", &[1, 2, 6], &[5]),
    ("after:2024-01-30", &[1], &[5]),
    ("after:2024/1/30", &[1], &[5]),
    ("-after:2024-01-01", &[3, 4, 7], &[5]),
    ("after:2024-01-01 before:2024-01-31", &[2, 6], &[5]),
    ("older:30d", &[2, 3, 6], &[5]),
    ("newer:30d", &[1], &[5]),
    ("newer:1w", &[], &[5]),
    ("older:1s", &[1, 2, 3, 6], &[5]),
    ("older:43200m", &[2, 3, 6], &[5]),
    ("newer:720h", &[1], &[5]),
    ("nodate", &[4, 7], &[5]),
    // Message numbers.
    ("num:2-4", &[2, 3, 4], &[]),
    ("num:-2", &[1, 2], &[]),
    ("num:6-", &[6, 7], &[]),
    ("num:5", &[5], &[]),
    ("num:8-", &[], &[]),
    // Regexes on From and Subject.
    ("/invoice|receipt/", &[2, 4], &[5]),
    ("/^alice/", &[1], &[5]),
    ("/^ALICE/i", &[1], &[5]),
    ("/k(ö|oe)ln/", &[3], &[5]),
    ("/\\/var$/", &[1], &[5]),
    ("/\\d{2}/", &[2], &[5]),
    ("/disk full/", &[1, 3], &[5]),
    // Flags.
    ("dup", &[3], &[5]),
    ("DUP", &[3], &[5]),
    ("broken", &[3, 7], &[5]),
    ("has:attachment", &[2], &[5]),
    ("has:Attachment", &[2], &[5]),
    // Negation.
    ("-dup", &[1, 2, 4, 6, 7], &[5]),
    ("!dup", &[1, 2, 4, 6, 7], &[5]),
    ("not dup", &[1, 2, 4, 6, 7], &[5]),
    ("NOT dup", &[1, 2, 4, 6, 7], &[5]),
    ("--disk", &[1, 3], &[5]),
    ("not not disk", &[1, 3], &[5]),
    ("-size>1M", &[1, 2, 4, 5, 7], &[]),
    ("-uid:0003", &[1, 2, 5, 6, 7], &[4]),
    // And, or, precedence, grouping.
    ("disk full", &[1, 3], &[5]),
    ("disk and full", &[1, 3], &[5]),
    ("disk or invoice", &[1, 2, 3], &[5]),
    ("disk OR invoice", &[1, 2, 3], &[5]),
    ("disk | invoice", &[1, 2, 3], &[5]),
    ("disk invoice or receipt", &[4], &[5]),
    ("(disk invoice) or receipt", &[4], &[5]),
    ("disk (invoice or receipt)", &[], &[5]),
    ("disk or invoice receipt", &[1, 3], &[5]),
    ("-(disk or invoice)", &[4, 6, 7], &[5]),
    ("-disk invoice", &[2], &[5]),
    ("((disk))", &[1, 3], &[5]),
    ("from:example.org or size>10M", &[1, 3, 6], &[5]),
    ("num:1-3 disk", &[1, 3], &[]),
    ("num:5 or disk", &[1, 3, 5], &[]),
    ("-dup older:30d", &[2, 6], &[5]),
    ("size>1M -dup", &[6], &[]),
    // NeoMutt aliases.
    ("~f junk.example", &[2], &[5]),
    ("~fjunk", &[2], &[5]),
    ("~s \"disk full\"", &[1, 3], &[5]),
    ("~s\"disk full\"", &[1, 3], &[5]),
    ("~t bob", &[1, 3], &[5]),
    ("~c carol", &[2], &[5]),
    ("~i <j2@junk.example>", &[2], &[5]),
    ("~z>1M", &[3, 6], &[]),
    ("~z <2k", &[1, 5, 7], &[]),
    ("~d<30d", &[1], &[5]),
    ("~d>30d", &[2, 3, 6], &[5]),
    ("!~f junk or ~s receipt", &[1, 3, 4, 6, 7], &[5]),
];

#[test]
fn every_field_flag_alias_and_operator_matches_as_documented() {
    let rows = mailbox();
    let context = MatchContext::at(NOW);
    for &(input, matching, unknown) in MATCHES {
        let query = parsed(input);
        let (got_matching, got_unknown) = outcome(&query, &rows, &context);
        assert_eq!(
            (got_matching.as_slice(), got_unknown.as_slice()),
            (matching, unknown),
            "{input:?} (shown as {query})"
        );
    }
}

#[test]
fn big_and_ages_use_the_context() {
    let rows = mailbox();
    let small = MatchContext {
        now: NOW,
        big_threshold: 1000,
    };
    assert_eq!(outcome(&parsed("big"), &rows, &small).0, [2, 3, 4, 6]);
    assert_eq!(outcome(&parsed("big"), &rows, &MatchContext::at(NOW)).0, [3, 6]);
    let later = MatchContext::at(NOW + 1);
    assert_eq!(outcome(&parsed("older:30d"), &rows, &later).0, [1, 2, 3, 6]);
    assert_eq!(outcome(&parsed("newer:30d"), &rows, &later).0, [] as [u32; 0]);
    assert_eq!(DEFAULT_BIG_THRESHOLD, 10 * MIB);
}

#[test]
fn unknown_is_neither_match_nor_mismatch() {
    let mut rows = mailbox();
    // Headers in, but the model cannot tell duplicates yet.
    rows[0].dup = None;
    let context = MatchContext::at(NOW);
    let query = parsed("dup");
    assert_eq!(query.evaluate(&rows[0], &context), Verdict::Unknown);
    assert_eq!(parsed("-dup").evaluate(&rows[0], &context), Verdict::Unknown);
    assert_eq!(parsed("dup or disk").evaluate(&rows[0], &context), Verdict::Match);
    assert_eq!(parsed("dup invoice").evaluate(&rows[0], &context), Verdict::NoMatch);
    // Kleene logic on a row without headers.
    let row = &rows[4];
    for (input, verdict) in [
        ("disk", Verdict::Unknown),
        ("-disk", Verdict::Unknown),
        ("disk or size<1k", Verdict::Match),
        ("disk size>1k", Verdict::NoMatch),
        ("disk size<1k", Verdict::Unknown),
        ("disk or size>1k", Verdict::Unknown),
    ] {
        assert_eq!(parsed(input).evaluate(row, &context), verdict, "{input}");
        assert!(!parsed(input).evaluate(row, &context).is_match() || verdict == Verdict::Match);
    }
}

#[test]
fn needs_headers_only_for_header_terms_and_dup() {
    for (input, needs) in [
        ("size>1M", false),
        ("num:1-5 or big", false),
        ("uid:abc", false),
        ("-(num:3 size=0)", false),
        ("dup", true),
        ("-disk", true),
        ("size>1M or disk", true),
        ("nodate", true),
        ("/x/", true),
        ("header:X-A", true),
        ("has:attachment", true),
    ] {
        assert_eq!(parsed(input).needs_headers(), needs, "{input}");
    }
}

/// Input, canonical form.
const CANONICAL: &[(&str, &str)] = &[
    ("disk", "disk"),
    ("\"disk full\"", "\"disk full\""),
    ("~s \"disk full\"", "subject:\"disk full\""),
    ("~f junk", "from:junk"),
    ("~z>1M", "size>1M"),
    ("size>1024k", "size>1M"),
    ("size>=1.5M", "size>=1536k"),
    ("size<=100B", "size<=100"),
    ("~d<30d", "newer:30d"),
    ("~d>2w", "older:2w"),
    ("a b or c", "a b or c"),
    ("a (b or c)", "a (b or c)"),
    ("(a b) or c", "a b or c"),
    ("((a))", "a"),
    ("a and b", "a b"),
    ("a (b c) d", "a b c d"),
    ("a | b", "a or b"),
    ("(a or b) or c", "a or b or c"),
    ("not a", "-a"),
    ("!a", "-a"),
    ("--a", "--a"),
    ("-(a b)", "-(a b)"),
    ("not (a or b) c", "-(a or b) c"),
    ("msgid:<x@y>", "msgid:x@y"),
    ("header:x-spam-flag=YES", "header:x-spam-flag=YES"),
    ("header:X-Mailer=\"Shop Bot\"", "header:\"X-Mailer=Shop Bot\""),
    ("header:X-A", "header:X-A"),
    ("\"re:\"", "\"re:\""),
    ("\"big\"", "\"big\""),
    ("\"OR\"", "\"OR\""),
    ("\"-x\"", "\"-x\""),
    ("\"/x/\"", "\"/x/\""),
    ("\"~f\"", "\"~f\""),
    ("\"size>3\"", "\"size>3\""),
    ("\"a\\\"b\"", "\"a\\\"b\""),
    ("from:\"a\\\\b\"", "from:a\\b"),
    ("from:\"a(b\"", "from:\"a(b\""),
    ("ab\"cd ef\"", "\"abcd ef\""),
    ("a\\b", "a\\b"),
    ("x-y", "x-y"),
    ("/a\\/b/i", "/a\\/b/"),
    ("FROM:Alice", "from:Alice"),
    ("num:5-5", "num:5"),
    ("num:-50", "num:-50"),
    ("num:4000-", "num:4000-"),
    ("before:2024/1/5", "before:2024-01-05"),
    ("after:2024-01-01", "after:2024-01-01"),
    ("has:ATTACHMENT", "has:attachment"),
    ("Dup BIG nodate Broken", "dup big nodate broken"),
    ("from:x or -(y z) size<2k", "from:x or -(y z) size<2k"),
    ("uid:\"a b\"", "uid:\"a b\""),
    ("to:-x cc::y", "to:-x cc::y"),
];

#[test]
fn display_is_canonical_and_parses_back() {
    for &(input, canonical) in CANONICAL {
        let shown = parsed(input).to_string();
        assert_eq!(shown, canonical, "{input:?}");
        assert_eq!(parsed(&shown).to_string(), canonical, "{input:?} does not round-trip");
    }
}

#[test]
fn canonical_form_selects_the_same_messages() {
    let rows = mailbox();
    let context = MatchContext::at(NOW);
    for &(input, ..) in MATCHES {
        let query = parsed(input);
        let again = parsed(&query.to_string());
        assert_eq!(again.to_string(), query.to_string(), "{input:?}");
        assert_eq!(
            outcome(&again, &rows, &context),
            outcome(&query, &rows, &context),
            "{input:?} shown as {query}"
        );
    }
}

/// Input, column, the error expected there.
fn error_table() -> Vec<(String, usize, QueryErrorKind)> {
    use QueryErrorKind::*;
    let nothing_before = |operator: &str| NothingBefore {
        operator: operator.to_string(),
    };
    let nothing_after = |operator: &str| NothingAfter {
        operator: operator.to_string(),
    };
    let empty_value = |field: &str, example| EmptyValue {
        field: field.to_string(),
        example,
    };
    let text = |text: &str| text.to_string();
    let table: Vec<(&str, usize, QueryErrorKind)> = vec![
        ("", 1, Empty),
        ("   ", 1, Empty),
        ("subject:\"disk full", 9, UnclosedQuote),
        ("\"abc", 1, UnclosedQuote),
        ("a \"b\\\"", 3, UnclosedQuote),
        ("(a or b", 1, UnclosedParen),
        ("a (b (c)", 3, UnclosedParen),
        ("a)", 2, StrayParen),
        (")", 1, StrayParen),
        ("(a))", 4, StrayParen),
        ("()", 1, EmptyParens),
        ("a ()", 3, EmptyParens),
        ("from:", 6, empty_value("from:", "from:example.org")),
        ("from: x", 6, empty_value("from:", "from:example.org")),
        ("a subject:\"\"", 11, empty_value("subject:", "subject:\"disk full\"")),
        ("before:", 8, empty_value("before:", "before:2024-01-31")),
        ("\"\"", 1, empty_value("a quoted search", "\"disk full\"")),
        ("msgid:<>", 7, empty_value("msgid:", "msgid:1234@example.org")),
        (
            "header:X=",
            10,
            empty_value(
                "header:X=",
                "header:X-Spam-Flag=YES (or header:X-Spam-Flag for any value)",
            ),
        ),
        ("~s", 3, empty_value("~s", "~s \"disk full\"")),
        ("(~f)", 4, empty_value("~f", "~f junk.example")),
        ("~i <>", 4, empty_value("~i", "~i 1234@example.org")),
        ("foo:x", 1, UnknownField { field: text("foo:") }),
        ("a Re:hello", 3, UnknownField { field: text("Re:") }),
        ("size>x", 5, BadSize { text: text(">x") }),
        ("size>", 5, BadSize { text: text(">") }),
        ("size>10T", 5, BadSize { text: text(">10T") }),
        ("size:10M", 5, BadSize { text: text(":10M") }),
        ("~z1M", 3, BadSize { text: text("1M") }),
        (
            "~z >99999999999999999999",
            4,
            BadSize {
                text: text(">99999999999999999999"),
            },
        ),
        (
            "before:2024-13-01",
            8,
            BadDate {
                text: text("2024-13-01"),
            },
        ),
        (
            "after:2023-02-29",
            7,
            BadDate {
                text: text("2023-02-29"),
            },
        ),
        (
            "after:yesterday",
            7,
            BadDate {
                text: text("yesterday"),
            },
        ),
        ("older:30", 7, BadAge { text: text("30") }),
        ("newer:3y", 7, BadAge { text: text("3y") }),
        ("~d=30d", 3, BadDateAlias),
        ("~d<30", 3, BadDateAlias),
        ("num:x", 5, BadNumRange { text: text("x") }),
        ("num:-", 5, BadNumRange { text: text("-") }),
        ("num:1-2-3", 5, BadNumRange { text: text("1-2-3") }),
        (
            "num:99999999999",
            5,
            BadNumRange {
                text: text("99999999999"),
            },
        ),
        ("num:200-100", 5, ReversedNumRange { low: 100, high: 200 }),
        ("header:=x", 8, BadHeaderName { text: text("") }),
        ("header:Bad:Name=x", 8, BadHeaderName { text: text("Bad:Name") }),
        ("has:pdf", 5, UnknownHas { text: text("pdf") }),
        ("~x foo", 1, UnknownAlias { alias: text("~x") }),
        ("~", 1, UnknownAlias { alias: text("~") }),
        ("/abc", 1, UnclosedRegex),
        ("a /b\\/", 3, UnclosedRegex),
        ("//", 1, EmptyRegex),
        ("/a/x", 4, BadRegexFlag { flag: 'x' }),
        ("/foo/bar", 6, BadRegexFlag { flag: 'b' }),
        ("/a/i\"b\"", 5, TextAfterRegex),
        (
            "/(unclosed/",
            2,
            BadRegex {
                detail: text("unclosed group"),
            },
        ),
        (
            "x /a\\/(/",
            7,
            BadRegex {
                detail: text("unclosed group"),
            },
        ),
        (
            "/a)/",
            3,
            BadRegex {
                detail: text("unopened group"),
            },
        ),
        (
            "/a{2,1}/",
            3,
            BadRegex {
                detail: text("invalid repetition count range, the start must be <= the end"),
            },
        ),
        ("or a", 1, nothing_before("or")),
        ("| a", 1, nothing_before("|")),
        ("and a", 1, nothing_before("and")),
        ("(or a)", 2, nothing_before("or")),
        ("a or", 3, nothing_after("or")),
        ("a OR", 3, nothing_after("OR")),
        ("a or or b", 3, nothing_after("or")),
        ("(a or)", 4, nothing_after("or")),
        ("a and", 3, nothing_after("and")),
        ("a and or b", 3, nothing_after("and")),
        ("-", 1, nothing_after("-")),
        ("!", 1, nothing_after("!")),
        ("a - b", 3, nothing_after("-")),
        ("a -", 3, nothing_after("-")),
        ("(a -)", 4, nothing_after("-")),
        ("-or a", 1, nothing_after("-")),
        ("not", 1, nothing_after("not")),
        ("a not", 3, nothing_after("not")),
        ("not or a", 1, nothing_after("not")),
        ("(not)", 2, nothing_after("not")),
    ];
    table
        .into_iter()
        .map(|(input, column, kind)| (input.to_string(), column, kind))
        .collect()
}

#[test]
fn every_error_names_its_column() {
    let mut table = error_table();
    table.push((
        "a ".repeat(MAX_QUERY_CHARS),
        MAX_QUERY_CHARS + 1,
        QueryErrorKind::TooLong { limit: MAX_QUERY_CHARS },
    ));
    for (input, column, kind) in table {
        let error = Query::parse(&input).expect_err(&input);
        assert_eq!(
            (error.column(), error.kind()),
            (column, &kind),
            "{input:?}:\n{}",
            error.render()
        );
        assert!(!error.message().is_empty());
    }
}

#[test]
fn render_puts_a_caret_under_the_column() {
    let error = Query::parse("from:x or").unwrap_err();
    assert_eq!(error.render(), "from:x or\n       ^ \"or\" needs a term after it");
    assert_eq!(error.to_string(), "column 8: \"or\" needs a term after it");
    // Wide characters take two columns on a terminal.
    let error = Query::parse("日本 or").unwrap_err();
    assert_eq!(error.render(), "日本 or\n     ^ \"or\" needs a term after it");
    // Something missing at the end points just past it.
    let error = Query::parse("from:").unwrap_err();
    assert!(
        error.render().starts_with("from:\n     ^ from: needs a value here"),
        "{}",
        error.render()
    );
    // A control character in the query cannot reach the terminal.
    let error = Query::parse("\u{1b}[2J foo:x").unwrap_err();
    assert!(
        crate::sanitize::is_terminal_safe(&error.render()),
        "{:?}",
        error.render()
    );
    assert_eq!(error.column(), 6);
}

#[test]
fn error_messages_tell_what_to_write() {
    let message = |input: &str| Query::parse(input).unwrap_err().message();
    assert!(message("subject:\"x").contains("add a \""));
    assert!(message("Re:x").contains("quote it"));
    assert!(message("size>x").contains("size>10M"));
    assert!(message("before:x").contains("YYYY-MM-DD"));
    assert!(message("older:3").contains("30d"));
    assert!(message("num:9-1").contains("num:1-9"));
    assert!(message("/a(/").contains("unclosed group"));
}

/// Every short string over the language's special characters parses or
/// fails cleanly, and whatever parses round-trips through its display.
#[test]
fn short_inputs_never_panic_and_round_trip() {
    const ALPHABET: [&str; 22] = [
        " ", "(", ")", "\"", "\\", "-", "!", "/", "~", ":", "<", ">", "=", "|", "a", "or", "f", "size", "num:", "é",
        "i", "1",
    ];
    let mut inputs = vec![String::new()];
    for _ in 0..3 {
        let longer: Vec<String> = inputs
            .iter()
            .flat_map(|prefix| ALPHABET.iter().map(move |part| format!("{prefix}{part}")))
            .collect();
        inputs.extend(longer);
    }
    for input in inputs {
        match Query::parse(&input) {
            Ok(query) => {
                let shown = query.to_string();
                let again =
                    Query::parse(&shown).unwrap_or_else(|error| panic!("{input:?} shown as {shown:?}: {error}"));
                assert_eq!(again.to_string(), shown, "{input:?}");
            }
            Err(error) => {
                let length = input.chars().count();
                assert!((1..=length + 1).contains(&error.column()), "{input:?}: {error}");
            }
        }
    }
}

use super::*;

fn ok(name: &str, age_days: Option<i64>, bytes: u64) -> Row {
    let mut row = Row::new(name);
    row.messages = Some(3);
    row.bytes = Some(bytes);
    row.oldest_age_seconds = age_days.map(|d| d * 86_400);
    row
}

fn failed(name: &str, kind: FailureKind, message: &str) -> Row {
    let mut row = Row::new(name);
    row.fail(&Failure::new(kind, message));
    row
}

#[test]
fn failures_come_first_then_unavailable_then_the_oldest_and_largest() {
    let mut rows = vec![
        ok("fresh", Some(1), 10),
        ok("big", Some(1), 5_000),
        failed(
            "locked",
            FailureKind::Mailbox,
            "the server refused access to the maildrop: -ERR [IN-USE] locked",
        ),
        ok("stale", Some(400), 1),
        ok("unknown-age", None, 1_000_000),
        failed("dead", FailureKind::Connect, "cannot connect"),
    ];
    sort_rows(&mut rows);
    let order: Vec<&str> = rows.iter().map(|r| r.account.as_str()).collect();
    assert_eq!(order, ["dead", "locked", "stale", "big", "fresh", "unknown-age"]);
}

#[test]
fn a_mailbox_failure_names_its_code_and_in_use_is_a_lock() {
    let row = failed("a", FailureKind::Mailbox, "refused: -ERR [IN-USE] Mailbox is locked");
    assert_eq!(
        (row.state, row.code.as_deref(), row.locked),
        (State::Unavailable, Some("IN-USE"), true)
    );
    let row = failed("a", FailureKind::Mailbox, "refused: -ERR [LOGIN-DELAY] wait");
    assert_eq!(
        (row.state, row.code.as_deref(), row.locked),
        (State::Unavailable, Some("LOGIN-DELAY"), false)
    );
    let row = failed("a", FailureKind::Auth, "-ERR [AUTH] wrong password");
    assert_eq!((row.state, row.code, row.locked), (State::Failed, None, false));
    let error = row.error.unwrap();
    assert_eq!((error.kind, error.exit_code), (FailureKind::Auth, 5));
}

#[test]
fn the_table_has_a_header_a_line_per_row_and_the_reason_for_a_failure() {
    let mut good = ok("home", Some(43), 2_048);
    good.tls_version = Some("TLS 1.3".into());
    good.cert_expires_days = Some(364);
    good.login_ms = Some(12);
    good.mechanism = Some("SCRAM-SHA-256".into());
    let rows = vec![
        failed("dead\x1b[31m", FailureKind::Connect, "cannot connect to 127.0.0.1:9"),
        failed("work", FailureKind::Mailbox, "-ERR [IN-USE] locked"),
        good,
    ];
    let table = render_table(&rows);
    let lines: Vec<&str> = table.lines().collect();
    assert_eq!(lines.len(), 4, "{table}");
    assert!(
        lines[0].starts_with("ACCOUNT") && lines[0].contains("OLDEST"),
        "{table}"
    );
    assert!(lines[1].contains("FAILED") && lines[1].ends_with("connection failed: cannot connect to 127.0.0.1:9"));
    assert!(!table.contains('\x1b'), "{table:?}");
    assert!(lines[2].contains("IN-USE"), "{table}");
    for cell in ["ok", "TLS 1.3", "364d", "12 ms", "SCRAM-SHA-256", "2.0 KB", "43d"] {
        assert!(lines[3].contains(cell), "{cell}: {table}");
    }
}

#[test]
fn ages_use_the_largest_whole_unit() {
    assert_eq!(
        [-5, 0, 59, 60, 3_599, 3_600, 86_399, 86_400, 864_000].map(age),
        ["future", "0s", "59s", "1m", "59m", "1h", "23h", "1d", "10d"]
    );
}

#[test]
fn json_rows_carry_the_state_and_the_error() {
    let row = failed("dead", FailureKind::Timeout, "no result within 1 s (--deadline)");
    let value = serde_json::to_value(&row).unwrap();
    assert_eq!(value["state"], "failed");
    assert_eq!(value["error"]["exit_code"], 8);
    assert_eq!(value["error"]["kind"], "timed out");
    assert_eq!(value["messages"], serde_json::Value::Null);
    assert_eq!(summary(&[row, ok("a", None, 1)]), "2 accounts: 1 ok, 1 failed");
}

#[test]
fn certificate_days_fit_their_column() {
    assert_eq!(
        [-3, 0, 364, 999, 1_000, 755_719].map(cert_days),
        ["-3d", "0d", "364d", "999d", "2y", "2070y"]
    );
    let mut row = ok("a", None, 1);
    row.cert_expires_days = Some(755_719);
    let table = render_table(&[row]);
    let lines: Vec<&str> = table.lines().collect();
    let header_cert_end = lines[0].find("CERT").unwrap() + "CERT".len();
    assert_eq!(&lines[1][header_cert_end - 5..header_cert_end], "2070y", "{table}");
}

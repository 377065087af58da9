//! The inspector's model against the scripted fake server, headless: what
//! it asks and how it reads the answers, on servers real ones resemble.

#[path = "support/fake_server.rs"]
mod fake_server;
#[path = "support/headless.rs"]
mod headless;

use fake_server::{FakeServer, Step, capa, expect, greeting, multiline, send_line, user_pass_login};
use headless::Headless;
use popscope::pop3::auth::Mechanism;
use popscope::secret::Secret;
use popscope::session::{Credential, SessionConfig, StartTlsPolicy, TlsMode};
use std::time::Duration;

const USER: &str = "alice";
const PASSWORD: &str = "s3cret-pw";
const LIMIT: Duration = Duration::from_secs(20);

fn config(port: u16) -> SessionConfig {
    SessionConfig::builder("127.0.0.1", port, USER, Credential::Password(Secret::from(PASSWORD)))
        .tls(TlsMode::None)
        .starttls(StartTlsPolicy::Optional)
        .mechanism(Some(Mechanism::User))
        .allow_plaintext(true)
        .connect_timeout(Duration::from_secs(10))
        .response_timeout(Duration::from_secs(10))
        .build()
}

fn top(subject: &str) -> fake_server::Step {
    let subject = format!("Subject: {subject}");
    multiline("+OK", &["From: bob@example.org", &subject, ""])
}

/// popa3d and solid-pop3d answer CAPA with `-ERR`: the inspector tries
/// UIDL and TOP like `list` does, shows the real UIDs and headers, and the
/// missing CAPA is said once.
#[tokio::test]
async fn without_capa_the_inspector_tries_uidl_and_top() {
    let mut script = vec![greeting(), expect("CAPA"), send_line("-ERR unknown command")];
    script.extend(user_pass_login(USER, PASSWORD));
    script.extend([expect("CAPA"), send_line("-ERR unknown command")]);
    script.extend([
        expect("STAT"),
        send_line("+OK 2 320"),
        expect("LIST"),
        multiline("+OK", &["1 120", "2 200"]),
        expect("UIDL"),
        multiline("+OK", &["1 uid-one", "2 uid-two"]),
        expect("TOP 1 0"),
        top("first"),
        expect("TOP 2 0"),
        top("second"),
    ]);
    let server = FakeServer::start(script);
    let mut inspector = Headless::open(&config(server.port())).await;
    let warnings = &inspector.session.report.warnings;
    assert_eq!(
        warnings.iter().filter(|w| w.contains("CAPA")).count(),
        1,
        "{warnings:?}"
    );
    assert!(
        !warnings.iter().any(|w| w.contains("does not offer UIDL")),
        "nothing is known yet: {warnings:?}"
    );
    inspector
        .run_until(LIMIT, |app| {
            app.headers_progress() == (2, 2) && app.list.rows.iter().all(|r| r.uid.is_some())
        })
        .await;
    let uids: Vec<_> = inspector.app.list.rows.iter().map(|r| r.uid.as_deref()).collect();
    assert_eq!(uids, [Some("uid-one"), Some("uid-two")]);
    server.wait_done_async(LIMIT).await.expect("script");
}

/// A listed maildrop: login with UIDL and TOP, STAT, LIST, UIDL and the
/// TOPs, for messages with these UIDs.
fn listing(uids: &[&str]) -> Vec<Step> {
    let mut script = vec![greeting()];
    script.extend(capa(&["USER", "UIDL", "TOP"]));
    script.extend(user_pass_login(USER, PASSWORD));
    script.extend(capa(&["USER", "UIDL", "TOP"]));
    let n = uids.len();
    let sizes: Vec<String> = (1..=n).map(|i| format!("{i} {}", 100 + i)).collect();
    let uidl: Vec<String> = uids.iter().enumerate().map(|(i, u)| format!("{} {u}", i + 1)).collect();
    script.extend([
        expect("STAT"),
        send_line(&format!("+OK {n} 0")),
        expect("LIST"),
        multiline("+OK", &sizes.iter().map(String::as_str).collect::<Vec<_>>()),
        expect("UIDL"),
        multiline("+OK", &uidl.iter().map(String::as_str).collect::<Vec<_>>()),
    ]);
    for (i, uid) in uids.iter().enumerate() {
        script.push(expect(&format!("TOP {} 0", i + 1)));
        script.push(top(uid));
    }
    script
}

/// The connection is reset under the inspector with marks staged: it
/// reconnects once by itself, lists again, and puts the marks back by UID
/// (the message expunged meanwhile is said and unmarked). Neither server
/// ever sees DELE or QUIT.
#[tokio::test]
async fn a_reset_connection_reconnects_with_the_marks_by_uid() {
    let mut first = listing(&["u1", "u2", "u3"]);
    first.push(Step::Reset);
    // u1 was expunged by another client meanwhile.
    let second = FakeServer::start(listing(&["u2", "u3"]));
    let first_server = FakeServer::start(first);
    let mut inspector = Headless::open(&config(first_server.port())).await;
    inspector.reconnect_to = Some(config(second.port()));
    inspector.run_until(LIMIT, |app| app.headers_progress() == (3, 3)).await;
    inspector.app.list.set_mark(0, true);
    inspector.app.list.set_mark(2, true);
    first_server.wait_done_async(LIMIT).await.expect("first script");
    inspector
        .run_until(LIMIT, |app| app.activity.contains("restored by UID"))
        .await;
    let app = &inspector.app;
    let marked: Vec<(u32, Option<&str>)> = app.list.marked_rows().map(|r| (r.number, r.uid.as_deref())).collect();
    assert_eq!(marked, [(2, Some("u3"))]);
    assert!(app.activity.contains("1 marks restored by UID"), "{}", app.activity);
    assert!(
        app.activity.contains("1 marked messages are no longer on the server"),
        "{}",
        app.activity
    );
    inspector.run_until(LIMIT, |app| app.headers_progress() == (2, 2)).await;
    second.wait_done_async(LIMIT).await.expect("second script");
    for server in [&first_server, &second] {
        let received = server.received();
        assert!(
            !received.iter().any(|l| l.starts_with("DELE") || l == "QUIT"),
            "{received:?}"
        );
    }
}

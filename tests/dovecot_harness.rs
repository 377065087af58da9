//! Self-tests of the Dovecot harness (tests/support/dovecot.rs), the maildrop
//! generator and the raw POP3 oracle client.

mod support;

use std::collections::HashSet;
use std::io::Write;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use base64::Engine as _;
use sha2::{Digest, Sha256};
use support::dovecot::Dovecot;
use support::maildrop::{self, HOSTILE};
use support::raw_pop3::RawPop3;

#[test]
fn starts_greets_on_both_ports_and_serves_its_certificate() {
    require_dovecot!();
    let t = Instant::now();
    let dc = Dovecot::start();
    eprintln!("dovecot start took {:?}", t.elapsed());
    assert_ne!(dc.pop3_port(), dc.pop3s_port());

    let mut pop = RawPop3::connect(dc.pop3_port()).expect("connect plain");
    assert!(pop.greeting().starts_with("+OK"), "{}", pop.greeting());
    assert!(pop.greeting().contains(dc.greeting_token()));
    assert!(
        pop.apop_timestamp().is_some(),
        "APOP timestamp expected in {:?}",
        pop.greeting()
    );
    let capa = pop.capa();
    for want in ["TOP", "UIDL", "USER", "PIPELINING", "RESP-CODES", "STLS"] {
        assert!(capa.iter().any(|c| c == want), "CAPA lacks {want}: {capa:?}");
    }
    let sasl = capa
        .iter()
        .find(|c| c.starts_with("SASL "))
        .unwrap_or_else(|| panic!("no SASL in {capa:?}"));
    for mech in ["PLAIN", "LOGIN", "CRAM-MD5", "SCRAM-SHA-1", "SCRAM-SHA-256"] {
        assert!(sasl.split(' ').any(|m| m == mech), "{sasl} lacks {mech}");
    }
    pop.quit().expect("QUIT");

    let tls_greeting = dc.pop3s_greeting().expect("TLS greeting");
    assert!(tls_greeting.starts_with("+OK"), "{tls_greeting}");

    // The fingerprint is the SHA-256 of the DER inside cert.pem.
    let pem = std::fs::read_to_string(dc.cert_pem_path()).unwrap();
    let b64: String = pem
        .lines()
        .filter(|l| !l.starts_with("-----"))
        .collect::<Vec<_>>()
        .concat();
    let der = base64::engine::general_purpose::STANDARD.decode(b64).unwrap();
    assert_eq!(der, dc.cert_der());
    let fp: String = Sha256::digest(&der).iter().map(|b| format!("{b:02x}")).collect();
    assert_eq!(fp, dc.cert_sha256_hex());
    assert_eq!(fp.len(), 64);

    // Optional cross-check with OpenSSL when it is installed.
    if let Some(out) = openssl_s_client(dc.pop3s_port(), dc.cert_pem_path()) {
        assert!(out.contains("+OK"), "openssl s_client saw: {out}");
    }
}

/// `openssl s_client` against the pop3s port, verifying with our cert.
fn openssl_s_client(port: u16, ca: &std::path::Path) -> Option<String> {
    let mut child = Command::new("openssl")
        .args(["s_client", "-quiet", "-verify_return_error"])
        .args(["-verify_hostname", "localhost", "-servername", "localhost"])
        .arg("-connect")
        .arg(format!("127.0.0.1:{port}"))
        .arg("-CAfile")
        .arg(ca)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .ok()?;
    // Give the handshake a moment before QUIT; s_client exits when the
    // server closes after QUIT.
    std::thread::sleep(Duration::from_millis(300));
    let _ = child.stdin.as_mut().unwrap().write_all(b"QUIT\r\n");
    let out = child.wait_with_output().ok()?;
    assert!(
        out.status.success(),
        "openssl s_client failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    Some(String::from_utf8_lossy(&out.stdout).into_owned())
}

#[test]
fn mixed_maildrop_is_served_faithfully() {
    require_dovecot!();
    let dc = Dovecot::start();
    dc.add_user("alice", "secret");
    let msgs = maildrop::mixed_maildrop(50);
    assert_eq!(dc.deliver_many("alice", &msgs), 50);

    let mut pop = RawPop3::login(dc.pop3_port(), "alice", "secret");
    let (count, octets) = pop.stat();
    assert_eq!(count, 50);
    let expected_octets: u64 = msgs.iter().map(|m| maildrop::virtual_size(m)).sum();
    assert_eq!(octets, expected_octets, "STAT octets");

    let list = pop.list();
    assert_eq!(list.len(), 50);
    for (k, (n, size)) in list.iter().enumerate() {
        assert_eq!(*n as usize, k + 1);
        assert_eq!(
            *size,
            maildrop::virtual_size(&msgs[k]),
            "LIST size of message {n} ({:?})",
            maildrop::kind_at(k)
        );
    }

    let uidl = pop.uidl();
    assert_eq!(uidl.len(), 50);
    let distinct: HashSet<&str> = uidl.iter().map(|(_, u)| u.as_str()).collect();
    assert_eq!(distinct.len(), 50, "UIDs must be distinct: {uidl:?}");
    for (_, u) in &uidl {
        assert!(
            (1..=70).contains(&u.len()) && u.bytes().all(|b| (0x21..=0x7e).contains(&b)),
            "bad UID {u:?}"
        );
    }

    // Delivery order is message order.
    for k in [0usize, 2, 3, 49] {
        let top = pop.top(k as u32 + 1, 0);
        let mid = maildrop::ordinary_meta(k).message_id;
        assert!(
            String::from_utf8_lossy(&top).contains(&mid),
            "message {} should be ordinary({k})",
            k + 1
        );
    }

    // All hostile messages are in, and TOP/RETR give back exactly the file
    // (LF -> CRLF, dot-unstuffed).
    let positions = maildrop::hostile_positions(50);
    assert_eq!(positions.len(), HOSTILE.len());
    for (index, name) in positions {
        let n = index as u32 + 1;
        let msg = &msgs[index];
        let top0 = pop.top(n, 0);
        assert_eq!(
            top0,
            maildrop::top0(msg),
            "TOP {n} 0 of {name}:\n{}",
            String::from_utf8_lossy(&top0)
        );
        let retr = pop.retr(n);
        assert_eq!(retr.len(), maildrop::to_wire(msg).len(), "RETR {n} ({name}) length");
        assert!(retr == maildrop::to_wire(msg), "RETR {n} ({name}) differs");
    }

    // dot-lines: TOP with a body line count stops after that many lines.
    let dots = maildrop::HOSTILE.iter().position(|(n, _)| *n == "dot-lines").unwrap();
    let n = maildrop::hostile_index(dots) as u32 + 1;
    let top = pop.top(n, 4);
    assert!(
        top.ends_with(b"\r\n\r\n.\r\n..\r\n...\r\n. \r\n"),
        "{:?}",
        String::from_utf8_lossy(&top)
    );

    // Dropping the connection without QUIT deletes nothing.
    pop.dele(1);
    drop(pop);
    let mut pop = RawPop3::login(dc.pop3_port(), "alice", "secret");
    assert_eq!(pop.stat().0, 50);
    pop.quit().unwrap();
}

#[test]
fn second_session_on_the_same_maildrop_gets_in_use() {
    require_dovecot!();
    let dc = Dovecot::start();
    dc.add_user("alice", "secret");
    dc.deliver("alice", &maildrop::ordinary(0));
    let mut first = RawPop3::login(dc.pop3_port(), "alice", "secret");
    assert_eq!(first.stat().0, 1);

    let t = Instant::now();
    let err = match RawPop3::try_login(dc.pop3_port(), "alice", "secret") {
        Ok(_) => panic!("second session was let in while the first is open"),
        Err(e) => e,
    };
    eprintln!("[IN-USE] answer after {:?}: {err}", t.elapsed());
    assert!(err.starts_with("-ERR"), "{err}");
    assert!(err.contains("[IN-USE]"), "{err}");

    // The first session is unaffected, and after it quits a new one works.
    first.noop();
    first.quit().unwrap();
    let mut again = RawPop3::login(dc.pop3_port(), "alice", "secret");
    assert_eq!(again.stat().0, 1);
    again.quit().unwrap();
}

#[test]
fn wrong_password_and_unknown_user_are_refused_quickly() {
    require_dovecot!();
    let dc = Dovecot::builder().user("alice", "secret").start();
    let t = Instant::now();
    for (user, pass) in [
        ("alice", "wrong"),
        ("nobody-here", "secret"),
        ("ALICE", "secret"),
        ("alice", "secret "),
    ] {
        match RawPop3::try_login(dc.pop3_port(), user, pass) {
            Ok(_) => panic!("{user}/{pass} was accepted"),
            Err(e) => {
                assert!(e.starts_with("-ERR"), "{e}");
                assert!(e.contains("[AUTH]"), "{e}");
            }
        }
    }
    RawPop3::login(dc.pop3_port(), "alice", "secret").quit().unwrap();
    // No auth penalty: ~0.5 s per failure, not 4 + 8 + 15 s.
    let took = t.elapsed();
    eprintln!("4 failed logins + 1 good one took {took:?}");
    assert!(took < Duration::from_secs(8), "took {took:?}");
    assert!(dc.log_tail().contains("Password mismatch"), "{}", dc.log_tail());
}

#[test]
fn users_and_mail_added_after_start_and_deletions_reach_the_maildir() {
    require_dovecot!();
    let dc = Dovecot::start();
    dc.add_user("bob", "pw1");
    dc.add_user("carol", "pw2");
    dc.deliver("bob", &maildrop::ordinary(10));

    let mut pop = RawPop3::login(dc.pop3_port(), "bob", "pw1");
    assert_eq!(pop.stat().0, 1);
    let first_uidl = pop.uidl();
    pop.quit().unwrap();

    dc.deliver_many("bob", (11..13).map(maildrop::ordinary));
    let mut pop = RawPop3::login(dc.pop3_port(), "bob", "pw1");
    assert_eq!(pop.stat().0, 3);
    let uidl = pop.uidl();
    assert_eq!(uidl[0], first_uidl[0], "UIDs are stable across sessions");
    for (k, i) in (10..13).enumerate() {
        let top = pop.top(k as u32 + 1, 0);
        assert!(String::from_utf8_lossy(&top).contains(&maildrop::ordinary_meta(i).message_id));
    }
    pop.dele(2);
    assert!(pop.command("RETR 2").is_err(), "deleted message is gone");
    assert_eq!(pop.stat().0, 2);
    pop.quit().unwrap();
    assert_eq!(dc.maildir_files("bob").len(), 2);

    let mut pop = RawPop3::login(dc.pop3_port(), "bob", "pw1");
    let after: Vec<String> = pop.uidl().into_iter().map(|(_, u)| u).collect();
    assert_eq!(after, vec![uidl[0].1.clone(), uidl[2].1.clone()]);
    pop.quit().unwrap();

    let mut pop = RawPop3::login(dc.pop3_port(), "carol", "pw2");
    assert_eq!(pop.stat(), (0, 0));
    pop.quit().unwrap();
}

#[test]
fn instances_run_in_parallel_without_sharing() {
    require_dovecot!();
    let handles: Vec<_> = (0..3)
        .map(|k| {
            std::thread::spawn(move || {
                let dc = Dovecot::start();
                dc.add_user("alice", "secret");
                dc.deliver_many("alice", (0..=k).map(maildrop::ordinary));
                let mut pop = RawPop3::login(dc.pop3_port(), "alice", "secret");
                assert_eq!(pop.stat().0 as usize, k + 1);
                pop.quit().unwrap();
                (dc.pop3_port(), dc.pop3s_port(), dc.dir().to_path_buf())
            })
        })
        .collect();
    let results: Vec<_> = handles.into_iter().map(|h| h.join().unwrap()).collect();
    let ports: HashSet<u16> = results.iter().flat_map(|r| [r.0, r.1]).collect();
    assert_eq!(ports.len(), 6);
    for (_, _, dir) in &results {
        assert!(!dir.exists(), "temp dir {} left behind", dir.display());
    }
}

#[test]
fn two_thousand_messages() {
    require_dovecot!();
    let t0 = Instant::now();
    let dc = Dovecot::start();
    let started = t0.elapsed();
    dc.add_user("alice", "secret");
    let msgs = maildrop::mixed_maildrop(2000);
    let total: usize = msgs.iter().map(Vec::len).sum();
    let t1 = Instant::now();
    dc.deliver_many("alice", &msgs);
    let delivered = t1.elapsed();
    let t2 = Instant::now();
    let mut pop = RawPop3::login(dc.pop3_port(), "alice", "secret");
    let (count, octets) = pop.stat();
    let first_login = t2.elapsed();
    assert_eq!(count, 2000);
    assert_eq!(octets, msgs.iter().map(|m| maildrop::virtual_size(m)).sum::<u64>());
    let t3 = Instant::now();
    let uidl = pop.uidl();
    let uidl_time = t3.elapsed();
    assert_eq!(uidl.len(), 2000);
    assert_eq!(uidl.iter().map(|(_, u)| u).collect::<HashSet<_>>().len(), 2000);
    pop.quit().unwrap();
    let t4 = Instant::now();
    let mut pop = RawPop3::login(dc.pop3_port(), "alice", "secret");
    assert_eq!(pop.stat().0, 2000);
    let second_login = t4.elapsed();
    pop.quit().unwrap();
    let t5 = Instant::now();
    drop(dc);
    let stopped = t5.elapsed();
    eprintln!(
        "2000 messages ({:.1} MB): start {started:?}, deliver {delivered:?}, \
         first login+STAT {first_login:?}, UIDL {uidl_time:?}, second login+STAT {second_login:?}, \
         stop {stopped:?}",
        total as f64 / 1e6
    );
}

// ---------------------------------------------------------------------------
// Generator and oracle checks that need no server.

#[test]
fn maildrop_is_deterministic_and_has_what_it_promises() {
    assert_eq!(maildrop::mixed_maildrop(40), maildrop::mixed_maildrop(40));
    assert_eq!(maildrop::ordinary(7), maildrop::ordinary(7));
    assert_ne!(maildrop::ordinary(7), maildrop::ordinary(8));
    assert_eq!(maildrop::hostile_positions(32).len(), HOSTILE.len());

    let m0 = maildrop::ordinary_meta(0);
    assert!(m0.date.starts_with("Mon, 01 Jan 2024 00:"), "{}", m0.date);
    let m1 = String::from_utf8(maildrop::ordinary(1)).unwrap();
    assert!(m1.contains(&format!("Subject: {}\n", maildrop::ordinary_meta(1).subject_raw)));
    let sizes: Vec<usize> = (0..46).map(|i| maildrop::ordinary(i).len()).collect();
    assert!(sizes.iter().any(|&s| s < 2_000), "{sizes:?}");
    assert!(sizes.iter().any(|&s| s > 50_000), "{sizes:?}");

    let long = maildrop::hostile("long-header-line");
    let line = long
        .split(|&b| b == b'\n')
        .find(|l| l.starts_with(b"X-Long-Header:"))
        .unwrap();
    assert_eq!(line.len() + 1, maildrop::LONG_HEADER_LINE_LEN);

    let huge = maildrop::hostile("huge-body");
    let body_start = huge.windows(2).position(|w| w == b"\n\n").unwrap() + 2;
    assert!(huge.len() - body_start >= maildrop::HUGE_BODY_LEN);

    assert!(maildrop::hostile("nul-bytes").contains(&0));
    assert!(maildrop::hostile("no-headers").starts_with(b"\n"));
    let esc = maildrop::hostile("terminal-escapes");
    for needle in [&b"\x1b[2J"[..], b"\x1b]0;pwned\x07", b"\x1b]52;", "\u{202E}".as_bytes()] {
        assert!(esc.windows(needle.len()).any(|w| w == needle));
    }
    for msg in maildrop::mixed_maildrop(40) {
        assert!(!msg.contains(&b'\r'), "generated messages use LF only");
    }

    assert_eq!(maildrop::to_wire(b"a\nb"), b"a\r\nb\r\n");
    assert_eq!(maildrop::to_wire(b"a\r\n\n"), b"a\r\n\r\n");
    assert_eq!(maildrop::to_wire(b""), b"\r\n");
    assert_eq!(maildrop::top0(b"A: 1\n\nbody"), b"A: 1\r\n\r\n");
    assert_eq!(maildrop::top0(b""), b"\r\n");
    assert_eq!(maildrop::virtual_size(b"a\nb"), 4);
    assert_eq!(maildrop::header_block(b"A: 1\nB: 2\n\nbody\n"), b"A: 1\nB: 2\n");
    assert_eq!(maildrop::header_block(b"\nbody\n"), b"");
}

#[test]
fn raw_pop3_unstuffs_and_bounds_against_a_scripted_peer() {
    use std::io::{BufRead, BufReader};
    use std::net::TcpListener;

    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let server = std::thread::spawn(move || {
        let (s, _) = listener.accept().unwrap();
        let mut w = s.try_clone().unwrap();
        let mut r = BufReader::new(s);
        w.write_all(b"+OK hi <1.2@x>\r\n").unwrap();
        let mut line = String::new();
        let mut next = |r: &mut BufReader<_>| {
            line.clear();
            r.read_line(&mut line).unwrap();
            line.trim_end().to_owned()
        };
        assert_eq!(next(&mut r), "USER u");
        w.write_all(b"+OK\r\n").unwrap();
        assert_eq!(next(&mut r), "PASS p");
        w.write_all(b"+OK in\r\n").unwrap();
        assert_eq!(next(&mut r), "TOP 1 9");
        w.write_all(b"+OK\r\nA: b\r\n\r\n..\r\n...\r\n.. \r\nx.\r\n.\r\n")
            .unwrap();
        assert_eq!(next(&mut r), "UIDL");
        w.write_all(b"+OK\r\n1 aa\r\n2 bb\r\n.\r\n").unwrap();
        assert_eq!(next(&mut r), "DELE 9");
        w.write_all(b"-ERR no such message\r\n").unwrap();
        assert_eq!(next(&mut r), "QUIT");
        w.write_all(b"+OK bye\r\n").unwrap();
    });
    let mut pop = RawPop3::login(port, "u", "p");
    assert_eq!(pop.apop_timestamp(), Some("<1.2@x>"));
    assert_eq!(pop.top(1, 9), b"A: b\r\n\r\n.\r\n..\r\n. \r\nx.\r\n");
    assert_eq!(pop.uidl(), vec![(1, "aa".to_owned()), (2, "bb".to_owned())]);
    assert_eq!(pop.command("DELE 9"), Err("-ERR no such message".to_owned()));
    assert_eq!(pop.quit(), Ok("+OK bye".to_owned()));
    server.join().unwrap();
}

#[test]
fn a_startup_failure_panics_with_the_log_tail() {
    require_dovecot!();
    let result = std::panic::catch_unwind(|| {
        Dovecot::builder()
            .extra_config("no_such_setting_for_popscope = 1")
            .start()
    });
    let err = match result {
        Ok(_) => panic!("a broken config should not start"),
        Err(e) => e,
    };
    let msg = err
        .downcast_ref::<String>()
        .cloned()
        .or_else(|| err.downcast_ref::<&str>().map(|s| s.to_string()))
        .unwrap_or_default();
    assert!(msg.contains("--- log tail ---"), "{msg}");
    assert!(msg.contains("no_such_setting_for_popscope"), "{msg}");
}

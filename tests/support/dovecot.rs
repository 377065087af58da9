//! A private Dovecot POP3 server for integration tests.
//!
//! Each `Dovecot` owns a fresh temporary directory holding everything the
//! instance uses: its config file (written from scratch, the system's
//! /etc/dovecot is never read), `base_dir` (sockets, master.pid), `state_dir`,
//! the log, a passwd-file, a self-signed certificate and the users' homes.
//! Ports are free loopback ports picked at start, so any number of instances
//! can run in parallel test threads.
//!
//! ```ignore
//! mod support;
//! use support::dovecot::Dovecot;
//!
//! #[test]
//! fn lists_messages() {
//!     require_dovecot!();
//!     let dc = Dovecot::start();
//!     dc.add_user("alice", "secret");
//!     dc.deliver_many("alice", support::maildrop::mixed_maildrop(50));
//!     // run popscope against 127.0.0.1:dc.pop3_port() / dc.pop3s_port(),
//!     // with --ca-file dc.cert_pem_path() ...
//! }
//! ```
//!
//! Dovecot runs in the foreground (`dovecot -F -c CONFIG`) as a child of the
//! test process: it is reaped properly, stops on Ctrl-C together with the test
//! run, and `Drop` stops it with `dovecot -c CONFIG stop` (falling back to
//! SIGKILL). Stopping takes about one second (the master waits 1 s for its
//! log process).
//!
//! Facts about Dovecot 2.3 this harness relies on:
//! * Running as root, Dovecot refuses to run its login processes as root:
//!   `default_login_user = dovenull`, `default_internal_user = dovecot`, and
//!   mail is owned by a uid/gid of our own (`MAIL_ID`, 64123). The temp dir is
//!   made world-traversable (0755) because the auth process (user `dovecot`)
//!   reads the passwd-file and the pop3 process (uid 64123) opens the home.
//! * Not running as root (best effort): every service runs as the current
//!   user, and the chroots (`pop3-login`, `anvil`, `ipc`, `old-stats`) must be
//!   switched off because chroot() needs root.
//! * `pop3_lock_session = yes` is needed for a second session on the same
//!   maildrop to be refused (`-ERR [IN-USE] Mailbox is locked by another POP3
//!   session.`); the default is `no`. Dovecot waits a hard-coded 10 s for the
//!   lock before answering, so an `[IN-USE]` test takes 10 s.
//! * Failed logins are slowed down twice. `auth_failure_delay` (default 2 s)
//!   is set to 0 (`DovecotBuilder::auth_failure_delay` restores it); even then
//!   a failure is answered after ~0.5 s (auth flushes failures on a 500 ms
//!   timer). And the auth "penalty" makes every later login attempt from the
//!   same IP wait 4, 8, then 15 s after consecutive failures. Only clients in
//!   `login_trusted_networks` are exempt, and that setting also changes other
//!   behaviour, so this harness instead moves anvil's `anvil-auth-penalty`
//!   socket: auth finds no socket and silently skips penalties.
//!   `DovecotBuilder::auth_penalty(true)` keeps Dovecot's behaviour.
//! * `ssl_dh` is not needed on 2.3.19 (no DHE without it, no warning);
//!   `ssl_min_protocol = TLSv1.2` is the default and is set explicitly.
//! * Maildir files are written with LF line ends; Dovecot sends CRLF. Files
//!   are written to `tmp/` and renamed into `new/` with names whose leading
//!   `<secs>.M<usecs>` part grows with every delivery, because Dovecot assigns
//!   UIDs to new files in that order: delivery order = POP3 message order.
//! * The passwd-file is rewritten atomically (write + rename); Dovecot re-reads
//!   it when its mtime or size changes, so users can be added after start.
//! * What Dovecot sends back: RETR gives the file with LF -> CRLF, NUL bytes
//!   and 8-bit bytes untouched, plus a CRLF if the file does not end with a
//!   line end (an empty file gives one empty line); see `maildrop::to_wire`,
//!   `maildrop::top0` and `maildrop::virtual_size` (LIST/STAT sizes).
//! * `mail_max_userip_connections` keeps its default of 10 sessions per user
//!   and IP; with the session lock only one can be in TRANSACTION anyway.
//! * A popscope session left open holds the lock: quit it before checking
//!   the maildrop with `RawPop3`, or that login waits 10 s for `[IN-USE]`.

use std::fmt::Write as _;
use std::fs;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{Ipv4Addr, SocketAddr, TcpListener, TcpStream};
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use sha2::{Digest, Sha256};
use tokio_rustls::rustls;

/// uid and gid that own the mail when the tests run as root.
pub const MAIL_ID: u32 = 64123;
/// How long `start` waits for both ports to greet.
pub const START_TIMEOUT: Duration = Duration::from_secs(30);
/// How many times `start` retries with new ports after a port clash.
pub const PORT_ATTEMPTS: usize = 5;
/// Lines of log shown by `log_tail`.
pub const LOG_TAIL_LINES: usize = 60;
/// Set this environment variable (non-empty) to keep each instance's temp
/// dir (config, log, Maildirs) after the test, for debugging.
pub const KEEP_ENV: &str = "POPSCOPE_KEEP_DOVECOT";

const TEMP_PREFIX: &str = "popscope-dc-";
const BINARY_CANDIDATES: &[&str] = &["/usr/sbin/dovecot", "/usr/local/sbin/dovecot"];

/// Path of the dovecot binary: `$DOVECOT_BIN` if set, else the usual places,
/// else `dovecot` on `$PATH`.
pub fn dovecot_binary() -> Option<PathBuf> {
    if let Some(p) = std::env::var_os("DOVECOT_BIN") {
        let p = PathBuf::from(p);
        return p.is_file().then_some(p);
    }
    for c in BINARY_CANDIDATES {
        let p = Path::new(c);
        if p.is_file() {
            return Some(p.to_path_buf());
        }
    }
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|d| d.join("dovecot"))
        .find(|p| p.is_file())
}

/// The availability rule for Dovecot tests. Returns true if Dovecot is
/// installed. If it is not: panics when `$CI` is set (non-empty), otherwise
/// prints a loud SKIPPED line to stderr and returns false (the test should
/// return early; `require_dovecot!()` does that).
pub fn dovecot_or_skip(test: &str) -> bool {
    if dovecot_binary().is_some() {
        return true;
    }
    // libtest names the thread after the test; fall back to what we were given.
    let current = std::thread::current();
    let test = current.name().filter(|n| *n != "main").unwrap_or(test);
    if std::env::var_os("CI").is_some_and(|v| !v.is_empty()) {
        panic!(
            "CI is set but dovecot is not installed: apt-get install -y dovecot-pop3d \
             (needed by {test})"
        );
    }
    // Written to the real stderr, not eprintln!, so libtest's output capture
    // does not swallow it for a test that "passes".
    let _ = writeln!(
        std::io::stderr(),
        "\n*** SKIPPED: dovecot not installed ({test}); \
         apt-get install -y dovecot-pop3d to run it ***"
    );
    false
}

/// First statement of a Dovecot test: returns from the test (after a loud
/// SKIPPED line) when Dovecot is missing and `$CI` is unset; panics when it is
/// missing and `$CI` is set. Needs the test crate to declare `mod support;`.
#[macro_export]
macro_rules! require_dovecot {
    () => {
        if !$crate::support::dovecot::dovecot_or_skip(module_path!()) {
            return;
        }
    };
}

/// Options for a `Dovecot` instance. `Dovecot::start()` is
/// `Dovecot::builder().start()`.
#[derive(Clone, Debug)]
pub struct DovecotBuilder {
    lock_session: bool,
    auth_failure_delay: Duration,
    auth_penalty: bool,
    users: Vec<(String, String)>,
    extra_config: String,
    certificate: Option<(String, String)>,
}

impl Default for DovecotBuilder {
    fn default() -> Self {
        DovecotBuilder {
            lock_session: true,
            auth_failure_delay: Duration::ZERO,
            auth_penalty: false,
            users: Vec::new(),
            extra_config: String::new(),
            certificate: None,
        }
    }
}

impl DovecotBuilder {
    /// `pop3_lock_session` (default true: a second session gets `[IN-USE]`).
    pub fn lock_session(mut self, on: bool) -> Self {
        self.lock_session = on;
        self
    }

    /// `auth_failure_delay` (default 0; Dovecot's own default is 2 s).
    /// Whole seconds only.
    pub fn auth_failure_delay(mut self, delay: Duration) -> Self {
        self.auth_failure_delay = delay;
        self
    }

    /// Dovecot's per-IP auth penalty (default false: off, see the module
    /// docs). When on, each login attempt after consecutive failures from
    /// 127.0.0.1 waits 4, 8, then 15 s before it is even checked.
    pub fn auth_penalty(mut self, on: bool) -> Self {
        self.auth_penalty = on;
        self
    }

    /// A user to create before start (same as `Dovecot::add_user`).
    pub fn user(mut self, name: &str, password: &str) -> Self {
        self.users.push((name.to_owned(), password.to_owned()));
        self
    }

    /// Config text appended at the end of the generated config (later
    /// settings override earlier ones).
    pub fn extra_config(mut self, text: &str) -> Self {
        self.extra_config.push_str(text);
        self.extra_config.push('\n');
        self
    }

    /// The server's certificate (PEM; after it, any chain certificates to
    /// send) and its private key (PEM), instead of a self-signed
    /// certificate made at start.
    pub fn certificate(mut self, chain_pem: &str, key_pem: &str) -> Self {
        self.certificate = Some((chain_pem.to_owned(), key_pem.to_owned()));
        self
    }

    /// Starts the instance; panics (with the log tail) if it does not come up.
    pub fn start(self) -> Dovecot {
        Dovecot::launch(self)
    }
}

/// Who runs the services and owns the mail.
#[derive(Clone, Debug)]
struct Identity {
    root: bool,
    mail_uid: u32,
    mail_gid: u32,
    login_user: String,
    internal_user: String,
    internal_group: String,
}

/// A running private Dovecot instance. Stopped and deleted on drop.
pub struct Dovecot {
    child: Option<Child>,
    binary: PathBuf,
    config_path: PathBuf,
    log_path: PathBuf,
    stderr_path: PathBuf,
    passwd_path: PathBuf,
    cert_pem_path: PathBuf,
    cert_der: Vec<u8>,
    cert_sha256_hex: String,
    pop3_port: u16,
    pop3s_port: u16,
    token: String,
    id: Identity,
    users: Mutex<Vec<(String, String)>>,
    delivery_seq: AtomicU64,
    delivery_base: u64,
    // Last field: dropped after the instance is stopped in Drop.
    dir: tempfile::TempDir,
}

impl Dovecot {
    /// Whether the dovecot binary is installed.
    pub fn available() -> bool {
        dovecot_binary().is_some()
    }

    /// Options; see `DovecotBuilder`.
    pub fn builder() -> DovecotBuilder {
        DovecotBuilder::default()
    }

    /// Starts an instance with the default options.
    pub fn start() -> Dovecot {
        DovecotBuilder::default().start()
    }

    fn launch(opts: DovecotBuilder) -> Dovecot {
        let binary = dovecot_binary().expect("dovecot is not installed: apt-get install -y dovecot-pop3d");
        let dir = make_temp_dir();
        let root_path = dir.path().to_path_buf();
        let id = identity(&root_path);
        // The temp dir's random suffix: marks this instance's greeting.
        let token: String = root_path
            .file_name()
            .and_then(|n| n.to_str())
            .and_then(|n| n.strip_prefix(TEMP_PREFIX))
            .unwrap_or("instance")
            .chars()
            .filter(char::is_ascii_alphanumeric)
            .collect();

        for sub in ["run", "state", "home"] {
            fs::create_dir(root_path.join(sub)).expect("create dir in temp dir");
        }

        // Certificate for "localhost" and 127.0.0.1, unless one was given.
        let (cert_pem, key_pem) = opts.certificate.clone().unwrap_or_else(|| {
            let rcgen::CertifiedKey { cert, key_pair } =
                rcgen::generate_simple_self_signed(vec!["localhost".to_owned(), "127.0.0.1".to_owned()])
                    .expect("rcgen: generate certificate");
            (cert.pem(), key_pair.serialize_pem())
        });
        let cert_pem_path = root_path.join("cert.pem");
        let key_path = root_path.join("key.pem");
        fs::write(&cert_pem_path, &cert_pem).expect("write cert.pem");
        fs::write(&key_path, key_pem).expect("write key.pem");
        fs::set_permissions(&key_path, fs::Permissions::from_mode(0o600)).expect("chmod key");
        let cert_der = rustls_pemfile::certs(&mut cert_pem.as_bytes())
            .next()
            .expect("a certificate in the PEM")
            .expect("PEM certificate")
            .to_vec();
        let cert_sha256_hex = hex(&Sha256::digest(&cert_der));

        let dc = Dovecot {
            child: None,
            binary,
            config_path: root_path.join("dovecot.conf"),
            log_path: root_path.join("dovecot.log"),
            stderr_path: root_path.join("dovecot.stderr"),
            passwd_path: root_path.join("passwd"),
            cert_pem_path,
            cert_der,
            cert_sha256_hex,
            pop3_port: 0,
            pop3s_port: 0,
            token,
            id,
            users: Mutex::new(Vec::new()),
            delivery_seq: AtomicU64::new(0),
            delivery_base: SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .map(|d| d.as_secs())
                .unwrap_or(1_700_000_000),
            dir,
        };
        dc.write_passwd(&[]);
        for (name, password) in &opts.users {
            dc.add_user(name, password);
        }
        dc.run_with_free_ports(&opts, &key_path)
    }

    fn run_with_free_ports(mut self, opts: &DovecotBuilder, key_path: &Path) -> Dovecot {
        let mut clashes = Vec::new();
        for _attempt in 0..PORT_ATTEMPTS {
            let (p1, p2) = free_port_pair();
            self.pop3_port = p1;
            self.pop3s_port = p2;
            let config = self.render_config(opts, key_path);
            fs::write(&self.config_path, config).expect("write dovecot.conf");
            // Fresh log per attempt so a clash message does not linger.
            let _ = fs::remove_file(&self.log_path);
            let stderr = fs::File::create(&self.stderr_path).expect("create dovecot.stderr");
            let child = Command::new(&self.binary)
                .arg("-F")
                .arg("-c")
                .arg(&self.config_path)
                .env_remove("LISTEN_PID")
                .env_remove("LISTEN_FDS")
                .stdin(Stdio::null())
                .stdout(stderr.try_clone().expect("dup stderr file"))
                .stderr(stderr)
                .spawn()
                .unwrap_or_else(|e| panic!("cannot run {}: {e}", self.binary.display()));
            self.child = Some(child);
            match self.wait_ready() {
                Ok(()) => return self,
                Err(Failure::Exited(status)) => {
                    let tail = self.log_tail();
                    self.child = None;
                    if tail.contains("Address already in use") {
                        clashes.push((p1, p2));
                        continue;
                    }
                    panic!(
                        "dovecot exited during startup ({status})\n--- log tail ---\n{tail}\
                         --- {} ---\n{}\n(set {KEEP_ENV}=1 to keep {})",
                        self.config_path.display(),
                        fs::read_to_string(&self.config_path).unwrap_or_default(),
                        self.dir.path().display()
                    );
                }
                Err(Failure::Timeout(why)) => {
                    panic!(
                        "dovecot did not come up within {START_TIMEOUT:?} on ports {p1}/{p2}: \
                         {why}\n--- log tail ---\n{}",
                        self.log_tail()
                    );
                }
            }
        }
        panic!(
            "dovecot could not bind free ports after {PORT_ATTEMPTS} attempts ({clashes:?})\n\
             --- log tail ---\n{}",
            self.log_tail()
        );
    }

    fn render_config(&self, opts: &DovecotBuilder, key_path: &Path) -> String {
        let root = self.dir.path();
        let p = |s: &str| root.join(s).display().to_string();
        let mut c = String::new();
        let _ = writeln!(c, "# Private Dovecot instance for popscope tests (generated).");
        let _ = writeln!(c, "base_dir = {}", p("run"));
        let _ = writeln!(c, "state_dir = {}", p("state"));
        let _ = writeln!(c, "instance_name = popscope-{}", self.token);
        let _ = writeln!(c, "log_path = {}", self.log_path.display());
        let _ = writeln!(c, "info_log_path = {}", self.log_path.display());
        let _ = writeln!(c, "debug_log_path = {}", self.log_path.display());
        let _ = writeln!(c, "log_timestamp = \"%Y-%m-%d %H:%M:%S \"");
        let _ = writeln!(c, "listen = 127.0.0.1");
        let _ = writeln!(c, "protocols = pop3");
        let _ = writeln!(c, "shutdown_clients = yes");
        let _ = writeln!(c, "login_greeting = Dovecot ready ({}).", self.token);
        let _ = writeln!(c);
        let _ = writeln!(c, "ssl = yes");
        let _ = writeln!(c, "ssl_cert = <{}", self.cert_pem_path.display());
        let _ = writeln!(c, "ssl_key = <{}", key_path.display());
        let _ = writeln!(c, "ssl_min_protocol = TLSv1.2");
        let _ = writeln!(c, "disable_plaintext_auth = no");
        let _ = writeln!(c);
        let _ = writeln!(
            c,
            "auth_mechanisms = plain login cram-md5 apop scram-sha-1 scram-sha-256"
        );
        let _ = writeln!(c, "auth_username_format = %u");
        let _ = writeln!(c, "auth_verbose = yes");
        let _ = writeln!(c, "auth_failure_delay = {} secs", opts.auth_failure_delay.as_secs());
        let _ = writeln!(c, "passdb {{");
        let _ = writeln!(c, "  driver = passwd-file");
        let _ = writeln!(
            c,
            "  args = scheme=PLAIN username_format=%u {}",
            self.passwd_path.display()
        );
        let _ = writeln!(c, "}}");
        let _ = writeln!(c, "userdb {{");
        let _ = writeln!(c, "  driver = passwd-file");
        let _ = writeln!(c, "  args = username_format=%u {}", self.passwd_path.display());
        let _ = writeln!(c, "}}");
        let _ = writeln!(c);
        let _ = writeln!(c, "mail_location = maildir:~/Maildir");
        let _ = writeln!(c, "first_valid_uid = {}", self.id.mail_uid);
        let _ = writeln!(c, "first_valid_gid = {}", self.id.mail_gid);
        let _ = writeln!(c, "default_login_user = {}", self.id.login_user);
        let _ = writeln!(c, "default_internal_user = {}", self.id.internal_user);
        let _ = writeln!(c, "default_internal_group = {}", self.id.internal_group);
        let _ = writeln!(c);
        let _ = writeln!(c, "pop3_uidl_format = %08Xu%08Xv");
        let yes_no = if opts.lock_session { "yes" } else { "no" };
        let _ = writeln!(c, "pop3_lock_session = {yes_no}");
        let _ = writeln!(c);
        let _ = writeln!(c, "service pop3-login {{");
        let _ = writeln!(c, "  inet_listener pop3 {{");
        let _ = writeln!(c, "    port = {}", self.pop3_port);
        let _ = writeln!(c, "  }}");
        let _ = writeln!(c, "  inet_listener pop3s {{");
        let _ = writeln!(c, "    port = {}", self.pop3s_port);
        let _ = writeln!(c, "    ssl = yes");
        let _ = writeln!(c, "  }}");
        if !self.id.root {
            let _ = writeln!(c, "  chroot =");
        }
        let _ = writeln!(c, "}}");
        if !self.id.root {
            for service in ["ipc", "old-stats"] {
                let _ = writeln!(c, "service {service} {{\n  chroot =\n}}");
            }
        }
        let _ = writeln!(c, "service anvil {{");
        if !self.id.root {
            let _ = writeln!(c, "  chroot =");
        }
        if !opts.auth_penalty {
            // auth finds no socket at the fixed path and skips penalties.
            let _ = writeln!(c, "  unix_listener anvil-auth-penalty {{");
            let _ = writeln!(c, "    path = anvil-auth-penalty-disabled");
            let _ = writeln!(c, "  }}");
        }
        let _ = writeln!(c, "}}");
        if !opts.extra_config.is_empty() {
            let _ = writeln!(c, "\n# extra_config");
            c.push_str(&opts.extra_config);
        }
        c
    }

    /// Polls until the plain port greets with our `+OK` and the TLS port
    /// completes a verified handshake and greets too.
    fn wait_ready(&mut self) -> Result<(), Failure> {
        let deadline = Instant::now() + START_TIMEOUT;
        loop {
            if let Some(child) = self.child.as_mut()
                && let Ok(Some(status)) = child.try_wait()
            {
                return Err(Failure::Exited(status));
            }
            let problem = match self.probe() {
                Ok(()) => return Ok(()),
                Err(e) => e,
            };
            if Instant::now() >= deadline {
                return Err(Failure::Timeout(problem));
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    fn probe(&self) -> Result<(), String> {
        let greeting = plain_greeting(self.pop3_port).map_err(|e| format!("pop3: {e}"))?;
        if !greeting.starts_with("+OK") || !greeting.contains(&self.token) {
            return Err(format!("pop3: unexpected greeting {greeting:?}"));
        }
        let greeting = self.pop3s_greeting().map_err(|e| format!("pop3s: {e}"))?;
        if !greeting.starts_with("+OK") || !greeting.contains(&self.token) {
            return Err(format!("pop3s: unexpected greeting {greeting:?}"));
        }
        Ok(())
    }

    /// Connects to the pop3s port with TLS (trusting exactly this
    /// instance's certificate, whatever its names, dates or CA flag),
    /// returns the greeting line and closes with QUIT.
    pub fn pop3s_greeting(&self) -> Result<String, String> {
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let verifier = Arc::new(ExactCertificate {
            der: self.cert_der.clone(),
            provider: provider.clone(),
        });
        let config = rustls::ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .map_err(|e| format!("tls config: {e}"))?
            .dangerous()
            .with_custom_certificate_verifier(verifier)
            .with_no_client_auth();
        let name = rustls::pki_types::ServerName::try_from("localhost").map_err(|e| format!("server name: {e}"))?;
        let conn = rustls::ClientConnection::new(Arc::new(config), name).map_err(|e| format!("tls client: {e}"))?;
        let tcp = connect_loopback(self.pop3s_port).map_err(|e| format!("connect: {e}"))?;
        let mut tls = rustls::StreamOwned::new(conn, tcp);
        let line = read_status_line(&mut tls).map_err(|e| format!("tls greeting: {e}"))?;
        let _ = tls.write_all(b"QUIT\r\n");
        let _ = tls.flush();
        Ok(line)
    }

    /// Port of the plain POP3 listener (127.0.0.1).
    pub fn pop3_port(&self) -> u16 {
        self.pop3_port
    }

    /// Port of the implicit-TLS POP3 listener (127.0.0.1).
    pub fn pop3s_port(&self) -> u16 {
        self.pop3s_port
    }

    /// The token in this instance's greeting (`+OK Dovecot ready (TOKEN).`).
    pub fn greeting_token(&self) -> &str {
        &self.token
    }

    /// PEM file of the server certificate (self-signed, SANs "localhost" and
    /// 127.0.0.1, unless `DovecotBuilder::certificate` gave another); usable
    /// as a client's `--ca-file`.
    pub fn cert_pem_path(&self) -> &Path {
        &self.cert_pem_path
    }

    /// DER bytes of the server certificate.
    pub fn cert_der(&self) -> &[u8] {
        &self.cert_der
    }

    /// Lowercase hex SHA-256 of the certificate's DER (for a fingerprint pin).
    pub fn cert_sha256_hex(&self) -> &str {
        &self.cert_sha256_hex
    }

    /// The instance's temporary directory.
    pub fn dir(&self) -> &Path {
        self.dir.path()
    }

    /// The generated dovecot.conf.
    pub fn config_path(&self) -> &Path {
        &self.config_path
    }

    /// The Dovecot log file (errors and info).
    pub fn log_path(&self) -> &Path {
        &self.log_path
    }

    /// uid and gid owning the mail.
    pub fn mail_owner(&self) -> (u32, u32) {
        (self.id.mail_uid, self.id.mail_gid)
    }

    /// The last `LOG_TAIL_LINES` lines of Dovecot's log, preceded by
    /// anything Dovecot printed on stdout/stderr.
    pub fn log_tail(&self) -> String {
        let mut out = String::new();
        if let Ok(err) = fs::read(&self.stderr_path)
            && !err.is_empty()
        {
            out.push_str("[stderr]\n");
            out.push_str(&String::from_utf8_lossy(&err));
            if !out.ends_with('\n') {
                out.push('\n');
            }
            out.push_str("[log]\n");
        }
        match fs::read(&self.log_path) {
            Ok(log) => {
                let log = String::from_utf8_lossy(&log);
                let lines: Vec<&str> = log.lines().collect();
                let from = lines.len().saturating_sub(LOG_TAIL_LINES);
                for l in &lines[from..] {
                    out.push_str(l);
                    out.push('\n');
                }
            }
            Err(e) => {
                let _ = writeln!(out, "(no log at {}: {e})", self.log_path.display());
            }
        }
        out
    }

    // -----------------------------------------------------------------
    // Users and mail

    /// Adds a user with a `{PLAIN}` password (so APOP, CRAM-MD5 and SCRAM
    /// work) and creates `~/Maildir/{cur,new,tmp}` owned by the mail uid.
    /// Works before or after start. Panics if the user exists, or if the
    /// name or password cannot be stored in a passwd-file.
    pub fn add_user(&self, name: &str, password: &str) {
        assert!(
            !name.is_empty()
                && !name.starts_with('.')
                && name.chars().all(|c| c.is_ascii_alphanumeric() || ".-_@".contains(c)),
            "user name {name:?}: use [A-Za-z0-9.-_@] (Dovecot's auth_username_chars)"
        );
        assert!(
            !password.contains([':', '\n', '\r', '\0']),
            "password {password:?} cannot hold ':', CR, LF or NUL in a passwd-file"
        );
        let mut users = self.users.lock().unwrap();
        assert!(users.iter().all(|(n, _)| n != name), "user {name:?} already exists");
        let home = self.home(name);
        let maildir = home.join("Maildir");
        fs::create_dir(&home).expect("create home");
        fs::create_dir(&maildir).expect("create Maildir");
        for sub in ["cur", "new", "tmp"] {
            fs::create_dir(maildir.join(sub)).expect("create Maildir subdir");
        }
        for path in [
            &home,
            &maildir,
            &maildir.join("cur"),
            &maildir.join("new"),
            &maildir.join("tmp"),
        ] {
            fs::set_permissions(path, fs::Permissions::from_mode(0o700)).expect("chmod");
            self.chown(path);
        }
        users.push((name.to_owned(), password.to_owned()));
        self.write_passwd(&users);
    }

    /// Users added so far, with their passwords.
    pub fn users(&self) -> Vec<(String, String)> {
        self.users.lock().unwrap().clone()
    }

    fn write_passwd(&self, users: &[(String, String)]) {
        let mut text = String::new();
        for (name, password) in users {
            // user:password:uid:gid:gecos:home:shell:extra_fields
            let _ = writeln!(
                text,
                "{name}:{{PLAIN}}{password}:{uid}:{gid}::{home}::",
                uid = self.id.mail_uid,
                gid = self.id.mail_gid,
                home = self.home(name).display()
            );
        }
        let tmp = self.passwd_path.with_extension("new");
        fs::write(&tmp, text).expect("write passwd");
        fs::set_permissions(&tmp, fs::Permissions::from_mode(0o644)).expect("chmod passwd");
        fs::rename(&tmp, &self.passwd_path).expect("rename passwd");
    }

    /// Home directory of `user`.
    pub fn home(&self, user: &str) -> PathBuf {
        self.dir.path().join("home").join(user)
    }

    /// `~user/Maildir`.
    pub fn maildir(&self, user: &str) -> PathBuf {
        self.home(user).join("Maildir")
    }

    /// Delivers one message (LF line ends; Dovecot sends CRLF) into
    /// `~user/Maildir/new`, owned by the mail uid. It becomes visible at the
    /// next login, after every message delivered before it. Returns the
    /// file's path.
    pub fn deliver(&self, user: &str, message: &[u8]) -> PathBuf {
        let maildir = self.maildir(user);
        assert!(
            maildir.join("new").is_dir(),
            "no such user {user:?} (call add_user first)"
        );
        self.deliver_into(&maildir, message)
    }

    /// Delivers many messages in order (message k becomes POP3 message
    /// number existing + k + 1 at the next login). Returns how many.
    pub fn deliver_many<I, M>(&self, user: &str, messages: I) -> usize
    where
        I: IntoIterator<Item = M>,
        M: AsRef<[u8]>,
    {
        let maildir = self.maildir(user);
        assert!(
            maildir.join("new").is_dir(),
            "no such user {user:?} (call add_user first)"
        );
        let mut count = 0;
        for m in messages {
            self.deliver_into(&maildir, m.as_ref());
            count += 1;
        }
        count
    }

    fn deliver_into(&self, maildir: &Path, message: &[u8]) -> PathBuf {
        // <secs>.M<usecs>P<pid>Q<seq>.<host>: Dovecot sorts new files by secs,
        // then usecs, when it assigns UIDs, so both grow with `seq`.
        let seq = self.delivery_seq.fetch_add(1, Ordering::SeqCst);
        let secs = self.delivery_base + seq / 1_000_000;
        let usecs = seq % 1_000_000;
        let name = format!("{secs}.M{usecs}P{pid}Q{seq}.popscope-test", pid = std::process::id());
        let tmp = maildir.join("tmp").join(&name);
        let dest = maildir.join("new").join(&name);
        let mut f = fs::File::create(&tmp).expect("create message in tmp/");
        f.write_all(message).expect("write message");
        drop(f);
        self.chown(&tmp);
        fs::rename(&tmp, &dest).expect("move message to new/");
        dest
    }

    /// Message files currently in `~user/Maildir/cur` and `new` (sorted by
    /// name): an independent view of what is left on the server, e.g. after
    /// deletions.
    pub fn maildir_files(&self, user: &str) -> Vec<PathBuf> {
        let mut files = Vec::new();
        for sub in ["cur", "new"] {
            if let Ok(rd) = fs::read_dir(self.maildir(user).join(sub)) {
                files.extend(rd.filter_map(|e| e.ok()).map(|e| e.path()));
            }
        }
        files.sort();
        files
    }

    fn chown(&self, path: &Path) {
        if self.id.root {
            std::os::unix::fs::chown(path, Some(self.id.mail_uid), Some(self.id.mail_gid))
                .unwrap_or_else(|e| panic!("chown {}: {e}", path.display()));
        }
    }

    // -----------------------------------------------------------------
    // Stop

    /// Stops the instance now (also done on drop).
    pub fn stop(&mut self) {
        let Some(mut child) = self.child.take() else {
            return;
        };
        if let Ok(Some(_)) = child.try_wait() {
            return;
        }
        // `dovecot stop` sends SIGTERM to master.pid and waits until that pid
        // is gone, which happens only once we reap our child, so run it in
        // the background while polling.
        let mut stopper = Command::new(&self.binary)
            .arg("-c")
            .arg(&self.config_path)
            .arg("stop")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .ok();
        let deadline = Instant::now() + Duration::from_secs(10);
        let mut exited = false;
        while Instant::now() < deadline {
            if let Ok(Some(_)) = child.try_wait() {
                exited = true;
                break;
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        if !exited {
            let _ = child.kill();
            let _ = child.wait();
        }
        if let Some(s) = stopper.as_mut() {
            let deadline = Instant::now() + Duration::from_secs(5);
            loop {
                match s.try_wait() {
                    Ok(Some(_)) | Err(_) => break,
                    Ok(None) if Instant::now() >= deadline => {
                        let _ = s.kill();
                        let _ = s.wait();
                        break;
                    }
                    Ok(None) => std::thread::sleep(Duration::from_millis(10)),
                }
            }
        }
    }
}

impl Drop for Dovecot {
    fn drop(&mut self) {
        self.stop();
    }
}

enum Failure {
    Exited(ExitStatus),
    Timeout(String),
}

/// A temp dir whose paths stay short enough for Unix socket names (108
/// bytes) and that Dovecot's unprivileged processes can traverse.
fn make_temp_dir() -> tempfile::TempDir {
    let mut parent = std::env::temp_dir();
    if parent.as_os_str().len() > 40 {
        parent = PathBuf::from("/tmp");
    }
    let mut dir = tempfile::Builder::new()
        .prefix(TEMP_PREFIX)
        .tempdir_in(&parent)
        .expect("create temp dir");
    if std::env::var_os(KEEP_ENV).is_some_and(|v| !v.is_empty()) {
        dir.disable_cleanup(true);
        let _ = writeln!(
            std::io::stderr(),
            "{KEEP_ENV}: keeping Dovecot dir {}",
            dir.path().display()
        );
    }
    fs::set_permissions(dir.path(), fs::Permissions::from_mode(0o755)).expect("chmod temp dir");
    dir
}

fn identity(dir: &Path) -> Identity {
    let meta = fs::metadata(dir).expect("stat temp dir");
    if meta.uid() == 0 {
        return Identity {
            root: true,
            mail_uid: MAIL_ID,
            mail_gid: MAIL_ID,
            login_user: "dovenull".into(),
            internal_user: "dovecot".into(),
            internal_group: "dovecot".into(),
        };
    }
    let user = id_name("-un")
        .or_else(|| std::env::var("USER").ok())
        .expect("cannot tell the current user name (id -un)");
    let group = id_name("-gn").unwrap_or_else(|| user.clone());
    Identity {
        root: false,
        mail_uid: meta.uid(),
        mail_gid: meta.gid(),
        login_user: user.clone(),
        internal_user: user,
        internal_group: group,
    }
}

fn id_name(flag: &str) -> Option<String> {
    let out = Command::new("id").arg(flag).output().ok()?;
    let name = String::from_utf8(out.stdout).ok()?.trim().to_owned();
    (out.status.success() && !name.is_empty()).then_some(name)
}

/// Two distinct free loopback ports (bound together, then released).
fn free_port_pair() -> (u16, u16) {
    let a = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).expect("bind 127.0.0.1:0");
    let b = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).expect("bind 127.0.0.1:0");
    (a.local_addr().unwrap().port(), b.local_addr().unwrap().port())
}

fn connect_loopback(port: u16) -> std::io::Result<TcpStream> {
    let addr = SocketAddr::from((Ipv4Addr::LOCALHOST, port));
    let s = TcpStream::connect_timeout(&addr, Duration::from_millis(500))?;
    s.set_read_timeout(Some(Duration::from_secs(5)))?;
    s.set_write_timeout(Some(Duration::from_secs(5)))?;
    Ok(s)
}

fn plain_greeting(port: u16) -> Result<String, String> {
    let mut s = connect_loopback(port).map_err(|e| format!("connect: {e}"))?;
    let line = read_status_line(&mut s).map_err(|e| format!("greeting: {e}"))?;
    let _ = s.write_all(b"QUIT\r\n");
    Ok(line)
}

/// Reads one line (at most 1 KB) without its line end.
fn read_status_line<R: Read>(r: &mut R) -> std::io::Result<String> {
    let mut line = Vec::new();
    BufReader::new(r.take(1024)).read_until(b'\n', &mut line)?;
    if !line.ends_with(b"\n") {
        return Err(std::io::Error::new(
            std::io::ErrorKind::UnexpectedEof,
            format!("incomplete line {:?}", String::from_utf8_lossy(&line)),
        ));
    }
    Ok(String::from_utf8_lossy(&line).trim_end().to_owned())
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().fold(String::new(), |mut s, b| {
        let _ = write!(s, "{b:02x}");
        s
    })
}

/// Accepts exactly one certificate (a pin), so that the readiness probe
/// works with any test certificate, expired or for other names included.
#[derive(Debug)]
struct ExactCertificate {
    der: Vec<u8>,
    provider: Arc<rustls::crypto::CryptoProvider>,
}

impl rustls::client::danger::ServerCertVerifier for ExactCertificate {
    fn verify_server_cert(
        &self,
        end_entity: &rustls::pki_types::CertificateDer<'_>,
        _intermediates: &[rustls::pki_types::CertificateDer<'_>],
        _server_name: &rustls::pki_types::ServerName<'_>,
        _ocsp_response: &[u8],
        _now: rustls::pki_types::UnixTime,
    ) -> Result<rustls::client::danger::ServerCertVerified, rustls::Error> {
        if end_entity.as_ref() == self.der.as_slice() {
            Ok(rustls::client::danger::ServerCertVerified::assertion())
        } else {
            Err(rustls::Error::General("not this instance's certificate".into()))
        }
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &rustls::pki_types::CertificateDer<'_>,
        dss: &rustls::DigitallySignedStruct,
    ) -> Result<rustls::client::danger::HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(message, cert, dss, &self.provider.signature_verification_algorithms)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &rustls::pki_types::CertificateDer<'_>,
        dss: &rustls::DigitallySignedStruct,
    ) -> Result<rustls::client::danger::HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(message, cert, dss, &self.provider.signature_verification_algorithms)
    }

    fn supported_verify_schemes(&self) -> Vec<rustls::SignatureScheme> {
        self.provider.signature_verification_algorithms.supported_schemes()
    }
}

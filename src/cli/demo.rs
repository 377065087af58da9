//! `popscope demo`: the inspector on an embedded POP3 server with a
//! generated maildrop, so a newcomer sees the real thing with nothing else
//! installed. Plain TCP on loopback: nothing leaves this machine.

use super::{ConnectArgs, DemoArgs};
use crate::demo::{DemoOptions, DemoServer, Maildrop};
use crate::error::{Failure, FailureKind};
use crate::secret::Secret;
use crate::session::{Credential, SessionConfig, StartTlsPolicy, TlsMode};
use std::time::Duration;

pub async fn run(args: &DemoArgs) -> Result<(), Failure> {
    super::inspect::require_terminal()?;
    let maildrop = Maildrop::generate(args.messages, args.seed);
    let options = DemoOptions {
        latency: (args.latency_ms > 0).then(|| Duration::from_millis(args.latency_ms)),
        ..DemoOptions::default()
    };
    let server = DemoServer::start(maildrop, options)
        .await
        .map_err(|e| Failure::new(FailureKind::Local, format!("cannot start the demo server: {e}")))?;
    let config = demo_session_config(&server);
    let connect = ConnectArgs {
        trace: args.trace.clone(),
        color: args.color,
        ..ConnectArgs::for_demo()
    };
    let result = super::inspect::inspect(&config, &connect, true, None).await;
    server.shutdown().await;
    result
}

/// How popscope logs in to a demo server.
pub fn demo_session_config(server: &DemoServer) -> SessionConfig {
    let credential = Credential::Password(Secret::from(server.password()));
    SessionConfig::builder("127.0.0.1", server.port(), server.user(), credential)
        .tls(TlsMode::None)
        .starttls(StartTlsPolicy::Optional)
        // Loopback to our own process: there is no wire to eavesdrop on.
        .allow_plaintext(true)
        .connect_timeout(Duration::from_secs(5))
        .build()
}

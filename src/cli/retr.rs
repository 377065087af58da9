//! `popscope retr URL N [-o FILE]`: one message, streamed to a file or
//! standard output exactly as the server sent it (dot-unstuffed, CRLF).
//! Memory stays flat whatever the message size. Never marks anything.

use super::{RetrArgs, TraceFile};
use crate::error::{Failure, FailureKind};
use crate::mailbox::outcome_failure;
use crate::pop3::client::{Body, Outcome, Priority, Reply};
use crate::session::{self, Session};
use crate::text::human_size;
use tokio::io::{AsyncWrite, AsyncWriteExt};

/// Chunks that may wait between the driver and the writer before the driver
/// stops reading (and TCP pushes back on the server).
const STREAM_DEPTH: usize = 8;

pub async fn run(args: &RetrArgs) -> Result<(), Failure> {
    let config = args.connect.session_config().await?;
    let mut trace = TraceFile::open(&args.connect)?;
    let session = session::open(&config, trace.observers(None)).await?;
    let result = match &args.output {
        Some(path) => {
            let file = tokio::fs::File::create(path)
                .await
                .map_err(|e| Failure::new(FailureKind::Local, format!("cannot create {}: {e}", path.display())))?;
            retr_to(
                &session,
                args.message,
                tokio::io::BufWriter::with_capacity(256 * 1024, file),
            )
            .await
        }
        None => retr_to(&session, args.message, tokio::io::stdout()).await,
    };
    session.quit(false).await;
    trace.finish().await;
    let bytes = result?;
    eprintln!("message {}: {} ({bytes} octets)", args.message, human_size(bytes));
    Ok(())
}

/// Streams message `msg` into `out`; returns the bytes written.
pub async fn retr_to(session: &Session, msg: u32, mut out: impl AsyncWrite + Unpin) -> Result<u64, Failure> {
    let (mut data, done) = session.retr_stream(msg, STREAM_DEPTH, Priority::Urgent)?;
    let mut written = 0u64;
    let mut write_error = None;
    while let Some(chunk) = data.recv().await {
        if write_error.is_none() {
            match out.write_all(&chunk).await {
                Ok(()) => written += chunk.len() as u64,
                // Keep draining so the session stays in step; report after.
                Err(e) => write_error = Some(e),
            }
        }
    }
    let outcome = done.await.map_err(|_| {
        session
            .failure()
            .unwrap_or_else(|| Failure::new(FailureKind::Connect, "the session ended"))
    })??;
    if let Some(e) = write_error {
        return Err(Failure::new(
            FailureKind::Local,
            format!("cannot write the message: {e}"),
        ));
    }
    out.flush()
        .await
        .map_err(|e| Failure::new(FailureKind::Local, format!("cannot write the message: {e}")))?;
    match outcome {
        Outcome::Ok(Reply {
            body: Some(Body::Streamed { .. }),
            ..
        }) => Ok(written),
        // A session that ended knows why (a timeout names its step).
        Outcome::Lost(_) | Outcome::NotSent(_) if let Some(failure) = session.failure() => Err(failure),
        other => Err(outcome_failure(&format!("RETR {msg}"), &other)),
    }
}

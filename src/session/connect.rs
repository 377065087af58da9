//! Reaching the server: TCP connect (every resolved address in turn) and
//! the TLS handshake, each with a time limit, and the stream the driver
//! reads and writes, plain or encrypted.

use super::tls::{TlsInfo, TlsSetup, describe};
use crate::error::{Failure, FailureKind};
use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::task::Poll;
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt, ReadBuf};
use tokio::net::TcpStream;
use tokio_rustls::TlsConnector;
use tokio_rustls::client::TlsStream;
use tokio_rustls::rustls::pki_types::ServerName;

/// A TCP connection, plain or inside TLS.
pub enum Connection {
    Plain(TcpStream),
    Tls(Box<TlsStream<TcpStream>>),
    /// Only while an STLS upgrade is in progress.
    Upgrading,
}

impl AsyncRead for Connection {
    fn poll_read(self: Pin<&mut Self>, cx: &mut std::task::Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<io::Result<()>> {
        match self.get_mut() {
            Connection::Plain(s) => Pin::new(s).poll_read(cx, buf),
            Connection::Tls(s) => Pin::new(s).poll_read(cx, buf),
            Connection::Upgrading => Poll::Ready(Err(io::Error::other("connection is being upgraded"))),
        }
    }
}

impl AsyncWrite for Connection {
    fn poll_write(self: Pin<&mut Self>, cx: &mut std::task::Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        match self.get_mut() {
            Connection::Plain(s) => Pin::new(s).poll_write(cx, buf),
            Connection::Tls(s) => Pin::new(s).poll_write(cx, buf),
            Connection::Upgrading => Poll::Ready(Err(io::Error::other("connection is being upgraded"))),
        }
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut std::task::Context<'_>) -> Poll<io::Result<()>> {
        match self.get_mut() {
            Connection::Plain(s) => Pin::new(s).poll_flush(cx),
            Connection::Tls(s) => Pin::new(s).poll_flush(cx),
            Connection::Upgrading => Poll::Ready(Ok(())),
        }
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut std::task::Context<'_>) -> Poll<io::Result<()>> {
        match self.get_mut() {
            Connection::Plain(s) => Pin::new(s).poll_shutdown(cx),
            Connection::Tls(s) => Pin::new(s).poll_shutdown(cx),
            Connection::Upgrading => Poll::Ready(Ok(())),
        }
    }
}

/// A TCP connection made, and how long its handshake took (one round
/// trip, as good a measure of the network as there is).
pub(crate) struct Connected {
    pub stream: TcpStream,
    pub address: SocketAddr,
    pub handshake: Duration,
}

/// Resolves `host` and connects to the first address that answers.
pub(crate) async fn connect_tcp(host: &str, port: u16, limit: Duration) -> Result<Connected, Failure> {
    let attempt = async {
        let addresses: Vec<SocketAddr> = tokio::net::lookup_host((host, port))
            .await
            .map_err(|e| {
                Failure::new(FailureKind::Connect, format!("cannot resolve {host:?}: {e}"))
                    .with_hint("check the host name and this machine's DNS")
            })?
            .collect();
        let mut last_error = None;
        for address in &addresses {
            let started = tokio::time::Instant::now();
            match TcpStream::connect(address).await {
                Ok(stream) => {
                    let _ = stream.set_nodelay(true);
                    return Ok(Connected {
                        stream,
                        address: *address,
                        handshake: started.elapsed(),
                    });
                }
                Err(e) => last_error = Some((address, e)),
            }
        }
        Err(match last_error {
            Some((address, e)) => Failure::new(FailureKind::Connect, format!("cannot connect to {address}: {e}"))
                .with_hint(
                    "check the host and port, and that a POP3 server listens there (110 for pop3://, 995 for pop3s://)",
                ),
            None => Failure::new(FailureKind::Connect, format!("{host:?} has no addresses")),
        })
    };
    match tokio::time::timeout(limit, attempt).await {
        Ok(result) => result,
        Err(_) => Err(Failure::new(
            FailureKind::Timeout,
            format!(
                "connecting to {host}:{port} did not succeed within {} s",
                limit.as_secs_f32()
            ),
        )
        .with_hint("check the host, the port and any firewall; raise --connect-timeout for slow links")),
    }
}

/// Runs a TLS handshake over `tcp`, with a time limit.
pub async fn handshake(
    tcp: TcpStream,
    tls: &TlsSetup,
    host: &str,
    limit: Duration,
) -> Result<(TlsStream<TcpStream>, TlsInfo), Failure> {
    let name = ServerName::try_from(host.to_string()).map_err(|_| {
        Failure::new(
            FailureKind::Usage,
            format!("{host:?} is not a valid server name for TLS"),
        )
    })?;
    let connector = TlsConnector::from(tls.config.clone());
    let stream = match tokio::time::timeout(limit, connector.connect(name, tcp)).await {
        Err(_) => {
            return Err(Failure::new(
                FailureKind::Timeout,
                format!("the TLS handshake did not finish within {} s", limit.as_secs_f32()),
            )
            .with_hint("check that the port speaks TLS: pop3s:// expects implicit TLS (port 995)"));
        }
        Ok(Err(e)) => return Err(tls.explain_failure(&e, host)),
        Ok(Ok(stream)) => stream,
    };
    let info = describe(stream.get_ref().1, &tls.verification);
    Ok((stream, info))
}

/// Whether the server at `address` answers a TLS ClientHello with a TLS
/// record (a handshake or an alert): asked on a second connection when a
/// plain connection got no greeting, to tell a TLS port reached with
/// `pop3://` from a slow server. Nothing is authenticated or kept.
pub(crate) async fn speaks_tls(address: SocketAddr, host: &str, limit: Duration) -> bool {
    let probe = async {
        let setup = TlsSetup::new(&super::tls::TlsOptions {
            insecure: true,
            ..Default::default()
        })
        .ok()?;
        let name = ServerName::try_from(host.to_string()).ok()?;
        let mut hello = Vec::new();
        tokio_rustls::rustls::ClientConnection::new(setup.config.clone(), name)
            .ok()?
            .write_tls(&mut hello)
            .ok()?;
        let mut tcp = TcpStream::connect(address).await.ok()?;
        tcp.write_all(&hello).await.ok()?;
        let mut first = [0u8; 2];
        tcp.read_exact(&mut first).await.ok()?;
        Some(matches!(first, [0x15 | 0x16, 0x03]))
    };
    matches!(tokio::time::timeout(limit, probe).await, Ok(Some(true)))
}

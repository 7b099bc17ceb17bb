//! Receiving authentication logs over syslog: RFC 5426 (UDP, one message a datagram) and
//! RFC 6587 (TCP, each message either octet-counted, `123 <34>1 …`, or ended by a line
//! feed), as rsyslog, syslog-ng, `logger` and Vector send them. Messages are read in
//! batches through [`Service::ingest_log`], so what arrives over the network is judged
//! exactly as a file would be.
//!
//! UDP has no acknowledgement: a datagram lost on the wire is lost. A batch whose ingest
//! fails (the database is down) is kept and tried again at the next flush.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use tokio::io::{AsyncBufReadExt, AsyncReadExt, BufReader};
use tokio::net::{TcpListener, TcpStream, UdpSocket};
use tokio::sync::mpsc;

use crate::service::{Actor, Service};

/// The longest message kept (RFC 5425 asks receivers to take at least 2 KiB; rsyslog
/// sends up to 8 KiB by default).
const MAX_MESSAGE: usize = 64 * 1024;
/// A batch is read at once when it reaches this many messages, or at the flush interval.
const BATCH: usize = 10_000;

/// Where the receiver listens, once bound.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SyslogAddresses {
    pub udp: Option<SocketAddr>,
    pub tcp: Option<SocketAddr>,
}

/// Binds the given addresses and receives until the process ends, reading what arrived
/// every `flush`.
pub async fn receive_syslog(
    service: Arc<Service>,
    udp: Option<SocketAddr>,
    tcp: Option<SocketAddr>,
    flush: Duration,
) -> std::io::Result<SyslogAddresses> {
    let (sender, receiver) = mpsc::channel::<Vec<u8>>(BATCH * 4);
    let mut bound = SyslogAddresses { udp: None, tcp: None };
    if let Some(addr) = udp {
        let socket = UdpSocket::bind(addr).await?;
        bound.udp = Some(socket.local_addr()?);
        tokio::spawn(udp_loop(socket, sender.clone()));
    }
    if let Some(addr) = tcp {
        let listener = TcpListener::bind(addr).await?;
        bound.tcp = Some(listener.local_addr()?);
        tokio::spawn(tcp_loop(listener, sender.clone()));
    }
    drop(sender);
    tokio::spawn(ingest_loop(service, receiver, flush));
    Ok(bound)
}

async fn udp_loop(socket: UdpSocket, sender: mpsc::Sender<Vec<u8>>) {
    let mut buffer = vec![0u8; MAX_MESSAGE];
    loop {
        match socket.recv_from(&mut buffer).await {
            Ok((n, _)) => {
                if sender.send(message(&buffer[..n])).await.is_err() {
                    return;
                }
            }
            Err(e) => tracing::warn!("syslog over UDP: {e}"),
        }
    }
}

async fn tcp_loop(listener: TcpListener, sender: mpsc::Sender<Vec<u8>>) {
    loop {
        match listener.accept().await {
            Ok((stream, peer)) => {
                let sender = sender.clone();
                tokio::spawn(async move {
                    if let Err(e) = tcp_connection(stream, sender).await {
                        tracing::warn!("syslog over TCP from {peer}: {e}");
                    }
                });
            }
            Err(e) => tracing::warn!("syslog over TCP: {e}"),
        }
    }
}

/// One sender's stream: octet-counted frames (`LEN SP MSG`) or lines.
async fn tcp_connection(stream: TcpStream, sender: mpsc::Sender<Vec<u8>>) -> std::io::Result<()> {
    let mut reader = BufReader::new(stream);
    loop {
        let first = match reader.fill_buf().await?.first() {
            None => return Ok(()),
            Some(&b) => b,
        };
        let frame = if first.is_ascii_digit() {
            // At most "65536 ": a sender that never sends the space cannot grow this.
            let mut length = Vec::new();
            (&mut reader).take(8).read_until(b' ', &mut length).await?;
            let length = std::str::from_utf8(&length)
                .ok()
                .and_then(|l| l.trim().parse::<usize>().ok())
                .filter(|&l| l <= MAX_MESSAGE)
                .ok_or_else(|| std::io::Error::other("an octet count that is not a number"))?;
            let mut frame = vec![0u8; length];
            reader.read_exact(&mut frame).await?;
            frame
        } else {
            let mut line = Vec::new();
            (&mut reader).take(MAX_MESSAGE as u64).read_until(b'\n', &mut line).await?;
            line
        };
        if sender.send(message(&frame)).await.is_err() {
            return Ok(());
        }
    }
}

/// A message as one log line: line breaks inside it would split it in two.
fn message(raw: &[u8]) -> Vec<u8> {
    let trimmed = raw.strip_suffix(b"\n").unwrap_or(raw);
    let trimmed = trimmed.strip_suffix(b"\r").unwrap_or(trimmed);
    trimmed.iter().map(|&b| if b == b'\n' || b == b'\r' { b' ' } else { b }).collect()
}

async fn ingest_loop(
    service: Arc<Service>,
    mut receiver: mpsc::Receiver<Vec<u8>>,
    flush: Duration,
) {
    let actor = Actor::system("syslog");
    let mut batch: Vec<u8> = Vec::new();
    let mut count = 0;
    let mut tick = tokio::time::interval(flush);
    loop {
        let full = tokio::select! {
            received = receiver.recv() => match received {
                Some(line) => {
                    batch.extend_from_slice(&line);
                    batch.push(b'\n');
                    count += 1;
                    count >= BATCH
                }
                None if batch.is_empty() => return,
                None => true,
            },
            _ = tick.tick() => true,
        };
        if !full || batch.is_empty() {
            continue;
        }
        let context = service.log_context();
        match service.ingest_log(&actor, "syslog", batch.as_slice(), &context).await {
            Ok(ingested) => {
                if !ingested.opened.is_empty() {
                    tracing::info!("syslog: {} findings opened", ingested.opened.len());
                }
                batch.clear();
                count = 0;
            }
            // Kept, and tried again at the next flush.
            Err(e) => tracing::warn!("syslog: {count} messages not yet read: {e}"),
        }
    }
}

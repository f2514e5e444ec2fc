//! A logical replication connection (PostgreSQL's streaming replication protocol, which sqlx
//! does not speak): start-up with `replication=database`, authentication (trust, password,
//! MD5, SCRAM-SHA-256), a TEMPORARY `pgoutput` slot, then `START_REPLICATION` and the
//! CopyBoth stream of XLogData and keepalive messages. The server pushes each transaction as
//! it commits, so nothing here polls.
//!
//! The slot is temporary: PostgreSQL drops it when this connection ends, however it ends
//! (shutdown, crash, a killed process), so a restart never finds a stale slot holding WAL.

use super::pgoutput::Cursor;
use anyhow::{anyhow, bail, Context};
use bytes::{Buf, BufMut, BytesMut};
use postgres_protocol::authentication::sasl::{self, ChannelBinding, ScramSha256};
use postgres_protocol::message::frontend;
use sqlx::postgres::PgConnectOptions;
use std::time::{Duration, SystemTime, UNIX_EPOCH};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};

/// The largest backend message accepted (a row of a published table, as text).
const MAX_MESSAGE: usize = 256 * 1024 * 1024;

trait Stream: AsyncRead + AsyncWrite + Unpin + Send {}
impl<T: AsyncRead + AsyncWrite + Unpin + Send> Stream for T {}

/// One backend message: its tag and body.
struct Message {
    tag: u8,
    body: BytesMut,
}

/// A replication-mode connection to the app's database, streaming one slot once started.
pub struct ReplicationConnection {
    stream: Box<dyn Stream>,
    read: BytesMut,
    write: BytesMut,
}

/// What the stream delivers.
pub enum Event {
    /// An XLogData message: one pgoutput message.
    Data {
        /// XLogData's WAL end: the server's current end of WAL when it sent this.
        wal_end: u64,
        /// The pgoutput message ([`super::pgoutput::parse`] decodes it).
        data: BytesMut,
    },
    /// The server asks for a status update now.
    KeepaliveReply,
    /// A keepalive that needs no answer.
    Keepalive,
}

/// Microseconds since 2000-01-01, the protocol's clock.
fn pg_now() -> i64 {
    const PG_EPOCH: u64 = 946_684_800;
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or(Duration::ZERO);
    let micros = now.as_micros() as i64;
    micros - (PG_EPOCH as i64) * 1_000_000
}

/// `ErrorResponse` fields → "SEVERITY: message (code)".
fn error_text(mut body: &[u8]) -> String {
    let (mut severity, mut message, mut code) = (String::new(), String::new(), String::new());
    while let Some((&kind, rest)) = body.split_first() {
        if kind == 0 {
            break;
        }
        let end = rest.iter().position(|&b| b == 0).unwrap_or(rest.len());
        let value = String::from_utf8_lossy(&rest[..end]).into_owned();
        match kind {
            b'S' => severity = value,
            b'M' => message = value,
            b'C' => code = value,
            _ => {}
        }
        body = rest.get(end + 1..).unwrap_or(&[]);
    }
    format!("{severity}: {message} ({code})")
}

impl ReplicationConnection {
    /// Connects with the pool's host, port, user and database; the password, when the server
    /// asks for one, comes from `PGPASSWORD` (sqlx does not give it back).
    pub async fn connect(options: &PgConnectOptions) -> anyhow::Result<ReplicationConnection> {
        let stream: Box<dyn Stream> = match options.get_socket() {
            #[cfg(unix)]
            Some(dir) => {
                let path = dir.join(format!(".s.PGSQL.{}", options.get_port()));
                Box::new(
                    tokio::net::UnixStream::connect(&path)
                        .await
                        .with_context(|| format!("cannot connect to {}", path.display()))?,
                )
            }
            _ => {
                let stream =
                    tokio::net::TcpStream::connect((options.get_host(), options.get_port()))
                        .await
                        .with_context(|| {
                            format!(
                                "cannot connect to {}:{}",
                                options.get_host(),
                                options.get_port()
                            )
                        })?;
                stream.set_nodelay(true)?;
                Box::new(stream)
            }
        };
        let mut conn = ReplicationConnection {
            stream,
            read: BytesMut::with_capacity(64 * 1024),
            write: BytesMut::new(),
        };
        let user = options.get_username().to_owned();
        let database = options.get_database().unwrap_or(&user).to_owned();
        frontend::startup_message(
            [
                ("user", user.as_str()),
                ("database", database.as_str()),
                ("replication", "database"),
                ("application_name", "localbase realtime"),
                ("client_encoding", "UTF8"),
            ],
            &mut conn.write,
        )?;
        conn.flush().await?;
        conn.authenticate(&user).await?;
        Ok(conn)
    }

    async fn flush(&mut self) -> anyhow::Result<()> {
        self.stream.write_all(&self.write).await?;
        self.stream.flush().await?;
        self.write.clear();
        Ok(())
    }

    async fn next_message(&mut self) -> anyhow::Result<Message> {
        loop {
            if self.read.len() >= 5 {
                let len =
                    u32::from_be_bytes([self.read[1], self.read[2], self.read[3], self.read[4]])
                        as usize;
                if !(4..=MAX_MESSAGE).contains(&len) {
                    bail!("replication stream: invalid message length {len}");
                }
                if self.read.len() > len {
                    let tag = self.read[0];
                    self.read.advance(5);
                    let body = self.read.split_to(len - 4);
                    return Ok(Message { tag, body });
                }
                self.read.reserve(len + 1 - self.read.len());
            }
            if self.read.capacity() - self.read.len() < 8192 {
                self.read.reserve(64 * 1024);
            }
            let n = self.stream.read_buf(&mut self.read).await?;
            if n == 0 {
                bail!("the replication connection was closed by the server");
            }
        }
    }

    fn password() -> anyhow::Result<String> {
        std::env::var("PGPASSWORD").map_err(|_| {
            anyhow!("the database asks the replication connection for a password: set PGPASSWORD")
        })
    }

    async fn authenticate(&mut self, user: &str) -> anyhow::Result<()> {
        let mut scram: Option<ScramSha256> = None;
        loop {
            let message = self.next_message().await?;
            match message.tag {
                b'R' => {
                    let mut c = Cursor::new(&message.body);
                    let kind = c.u32()?;
                    let body = &message.body[4..];
                    match kind {
                        0 => {}
                        3 => {
                            frontend::password_message(
                                Self::password()?.as_bytes(),
                                &mut self.write,
                            )?;
                            self.flush().await?;
                        }
                        5 => {
                            let s = c.take(4)?;
                            let salt = [s[0], s[1], s[2], s[3]];
                            let hash = postgres_protocol::authentication::md5_hash(
                                user.as_bytes(),
                                Self::password()?.as_bytes(),
                                salt,
                            );
                            frontend::password_message(hash.as_bytes(), &mut self.write)?;
                            self.flush().await?;
                        }
                        10 => {
                            let offers_scram = body
                                .split(|&b| b == 0)
                                .any(|m| m == sasl::SCRAM_SHA_256.as_bytes());
                            if !offers_scram {
                                bail!("the database offers no SASL mechanism localbase supports");
                            }
                            let state = ScramSha256::new(
                                Self::password()?.as_bytes(),
                                ChannelBinding::unsupported(),
                            );
                            frontend::sasl_initial_response(
                                sasl::SCRAM_SHA_256,
                                state.message(),
                                &mut self.write,
                            )?;
                            self.flush().await?;
                            scram = Some(state);
                        }
                        11 => {
                            let state = scram.as_mut().context("SASL continue without a start")?;
                            state.update(body)?;
                            frontend::sasl_response(state.message(), &mut self.write)?;
                            self.flush().await?;
                        }
                        12 => {
                            let state = scram.as_mut().context("SASL final without a start")?;
                            state.finish(body)?;
                        }
                        other => bail!("unsupported authentication method {other}"),
                    }
                }
                b'E' => bail!("replication connection: {}", error_text(&message.body)),
                b'Z' => return Ok(()),
                _ => {}
            }
        }
    }

    /// Runs one replication command and returns the rows of its result (text columns).
    async fn command(&mut self, sql: &str) -> anyhow::Result<Vec<Vec<Option<String>>>> {
        frontend::query(sql, &mut self.write)?;
        self.flush().await?;
        let mut rows = Vec::new();
        let mut error = None;
        loop {
            let message = self.next_message().await?;
            match message.tag {
                b'D' => {
                    let mut c = Cursor::new(&message.body);
                    let n = c.i16()?;
                    let mut row = Vec::with_capacity(n.max(0) as usize);
                    for _ in 0..n {
                        let len = c.i32()?;
                        match usize::try_from(len) {
                            Ok(len) => {
                                row.push(Some(String::from_utf8_lossy(c.take(len)?).into_owned()))
                            }
                            Err(_) => row.push(None),
                        }
                    }
                    rows.push(row);
                }
                b'E' => error = Some(error_text(&message.body)),
                b'Z' => break,
                _ => {}
            }
        }
        match error {
            Some(e) => bail!("{sql}: {e}"),
            None => Ok(rows),
        }
    }

    /// Creates the temporary slot and starts streaming `publication` from it.
    pub async fn start(&mut self, slot: &str, publication: &str) -> anyhow::Result<()> {
        // Both names are ours (letters, digits, underscores), never from a request.
        let valid = |s: &str| s.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
        if !valid(slot) || !valid(publication) {
            bail!("invalid slot or publication name");
        }
        self.command(&format!(
            "CREATE_REPLICATION_SLOT {slot} TEMPORARY LOGICAL pgoutput NOEXPORT_SNAPSHOT"
        ))
        .await?;
        frontend::query(
            &format!(
                "START_REPLICATION SLOT {slot} LOGICAL 0/0 (proto_version '1', publication_names '{publication}')"
            ),
            &mut self.write,
        )?;
        self.flush().await?;
        loop {
            let message = self.next_message().await?;
            match message.tag {
                b'W' => return Ok(()),
                b'E' => bail!("START_REPLICATION: {}", error_text(&message.body)),
                _ => {}
            }
        }
    }

    /// The next XLogData or keepalive.
    pub async fn next_event(&mut self) -> anyhow::Result<Event> {
        loop {
            let message = self.next_message().await?;
            match message.tag {
                b'd' => {
                    let mut body = message.body;
                    if body.is_empty() {
                        continue;
                    }
                    match body.get_u8() {
                        b'w' if body.len() >= 24 => {
                            let _start = body.get_u64();
                            let wal_end = body.get_u64();
                            let _time = body.get_i64();
                            return Ok(Event::Data {
                                wal_end,
                                data: body,
                            });
                        }
                        b'k' if body.len() >= 17 => {
                            let _wal_end = body.get_u64();
                            let _time = body.get_i64();
                            return Ok(if body.get_u8() == 1 {
                                Event::KeepaliveReply
                            } else {
                                Event::Keepalive
                            });
                        }
                        _ => continue,
                    }
                }
                b'E' => bail!("replication stream: {}", error_text(&message.body)),
                b'c' => bail!("the server ended the replication stream"),
                _ => {}
            }
        }
    }

    /// Standby status update: everything up to `lsn` is handled, the slot may let it go.
    pub async fn acknowledge(&mut self, lsn: u64) -> anyhow::Result<()> {
        let mut data = BytesMut::with_capacity(34);
        data.put_u8(b'r');
        data.put_u64(lsn);
        data.put_u64(lsn);
        data.put_u64(lsn);
        data.put_i64(pg_now());
        data.put_u8(0);
        frontend::CopyData::new(&data[..])?.write(&mut self.write);
        self.flush().await
    }
}

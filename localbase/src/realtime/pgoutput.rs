//! The `pgoutput` logical decoding messages (protocol version 1) that Realtime needs:
//! Begin, Commit, Relation, Insert, Update, Delete (Truncate, Type, Origin are skipped).
//! Values arrive in PostgreSQL's text format.

use anyhow::{bail, Context};

/// A bounds-checked reader: a short or malformed message is an error, never a panic.
pub struct Cursor<'a>(&'a [u8]);

impl<'a> Cursor<'a> {
    /// Reads `data` from its first byte.
    pub fn new(data: &'a [u8]) -> Self {
        Cursor(data)
    }
    /// The next `n` bytes.
    pub fn take(&mut self, n: usize) -> anyhow::Result<&'a [u8]> {
        if self.0.len() < n {
            bail!("pgoutput: message ends early");
        }
        let (head, rest) = self.0.split_at(n);
        self.0 = rest;
        Ok(head)
    }
    /// A `Byte1`.
    pub fn u8(&mut self) -> anyhow::Result<u8> {
        Ok(self.take(1)?[0])
    }
    /// A big-endian `Int16`.
    pub fn i16(&mut self) -> anyhow::Result<i16> {
        let b = self.take(2)?;
        Ok(i16::from_be_bytes([b[0], b[1]]))
    }
    /// A big-endian `Int32`.
    pub fn i32(&mut self) -> anyhow::Result<i32> {
        let b = self.take(4)?;
        Ok(i32::from_be_bytes([b[0], b[1], b[2], b[3]]))
    }
    /// A big-endian `Int32` read as unsigned (an OID, an authentication code).
    pub fn u32(&mut self) -> anyhow::Result<u32> {
        let b = self.take(4)?;
        Ok(u32::from_be_bytes([b[0], b[1], b[2], b[3]]))
    }
    /// A big-endian `Int64` (an LSN, a timestamp).
    pub fn i64(&mut self) -> anyhow::Result<i64> {
        let b = self.take(8)?;
        let mut a = [0u8; 8];
        a.copy_from_slice(b);
        Ok(i64::from_be_bytes(a))
    }
    /// A NUL-terminated `String`, invalid UTF-8 replaced; the NUL is consumed.
    pub fn cstr(&mut self) -> anyhow::Result<String> {
        let end = self
            .0
            .iter()
            .position(|&b| b == 0)
            .context("pgoutput: unterminated string")?;
        let s = String::from_utf8_lossy(&self.0[..end]).into_owned();
        self.0 = &self.0[end + 1..];
        Ok(s)
    }
}

/// One column of a Relation message.
#[derive(Debug, Clone)]
pub struct RelationColumn {
    /// The column's name (`attname`).
    pub name: String,
    /// The OID of the column's data type.
    pub type_oid: u32,
    /// Flag bit 1: the column is part of the replica identity (usually the primary key).
    pub is_key: bool,
}

/// A Relation message: the table that later changes name by its OID. Sent before the first
/// change of a table in a session, and again after its definition changes.
#[derive(Debug, Clone)]
pub struct Relation {
    /// The relation's OID, as Insert, Update and Delete messages give it.
    pub id: u32,
    /// The relation's namespace (empty for `pg_catalog`).
    pub schema: String,
    /// The relation's name.
    pub table: String,
    /// The published columns, in the order a tuple lists their values.
    pub columns: Vec<RelationColumn>,
}

/// One column of a tuple.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    /// `n`: a null.
    Null,
    /// An unchanged TOASTed value the server did not send.
    Unchanged,
    /// `t`: a value in the type's text format.
    Text(String),
}

/// The old row an Update or Delete message carries.
#[derive(Debug)]
pub struct OldTuple {
    /// `O`: the whole old row (replica identity full); `K`: only the key columns are set,
    /// the others are null.
    pub full: bool,
    /// One value per column of the relation.
    pub values: Vec<Value>,
}

/// One pgoutput message, as far as Realtime needs it.
#[derive(Debug)]
pub enum Message {
    /// `B`: a transaction begins.
    Begin {
        /// Its commit time, in microseconds since 2000-01-01.
        commit_time: i64,
    },
    /// `C`: the transaction committed.
    Commit {
        /// Where the transaction's WAL ends: what the slot may let go once it is handled.
        end_lsn: u64,
    },
    /// `R`: the description of a table the following changes refer to.
    Relation(Relation),
    /// `I`: a row was inserted.
    Insert {
        /// The table's OID ([`Relation::id`]).
        relation: u32,
        /// The new row, one value per column.
        new: Vec<Value>,
    },
    /// `U`: a row was updated.
    Update {
        /// The table's OID ([`Relation::id`]).
        relation: u32,
        /// The old row: the whole of it with replica identity full, else (`full` false) only
        /// its key columns and only when the key changed; `None` when the server sent none.
        old: Option<OldTuple>,
        /// The new row; TOASTed values that did not change are [`Value::Unchanged`].
        new: Vec<Value>,
    },
    /// `D`: a row was deleted.
    Delete {
        /// The table's OID ([`Relation::id`]).
        relation: u32,
        /// The deleted row: its key columns, or all of it with replica identity full.
        old: OldTuple,
    },
    /// A message Realtime does not use (Truncate, Type, Origin, …).
    Other,
}

fn tuple(c: &mut Cursor<'_>) -> anyhow::Result<Vec<Value>> {
    let n = c.i16()?;
    let mut values = Vec::with_capacity(n.max(0) as usize);
    for _ in 0..n {
        values.push(match c.u8()? {
            b'n' => Value::Null,
            b'u' => Value::Unchanged,
            b't' => {
                let len = usize::try_from(c.i32()?).context("pgoutput: negative length")?;
                Value::Text(String::from_utf8_lossy(c.take(len)?).into_owned())
            }
            other => bail!("pgoutput: unexpected tuple column kind {other}"),
        });
    }
    Ok(values)
}

/// Decodes one pgoutput message (an XLogData payload).
pub fn parse(data: &[u8]) -> anyhow::Result<Message> {
    let mut c = Cursor::new(data);
    Ok(match c.u8()? {
        b'B' => {
            let _final_lsn = c.i64()?;
            let commit_time = c.i64()?;
            Message::Begin { commit_time }
        }
        b'C' => {
            let _flags = c.u8()?;
            let _commit_lsn = c.i64()?;
            let end_lsn = c.i64()? as u64;
            Message::Commit { end_lsn }
        }
        b'R' => {
            let id = c.u32()?;
            let schema = c.cstr()?;
            let table = c.cstr()?;
            let _identity = c.u8()?;
            let n = c.i16()?;
            let mut columns = Vec::with_capacity(n.max(0) as usize);
            for _ in 0..n {
                let flags = c.u8()?;
                let name = c.cstr()?;
                let type_oid = c.u32()?;
                let _typmod = c.i32()?;
                columns.push(RelationColumn {
                    name,
                    type_oid,
                    is_key: flags & 1 == 1,
                });
            }
            Message::Relation(Relation {
                id,
                schema,
                table,
                columns,
            })
        }
        b'I' => {
            let relation = c.u32()?;
            if c.u8()? != b'N' {
                bail!("pgoutput: insert without a new tuple");
            }
            Message::Insert {
                relation,
                new: tuple(&mut c)?,
            }
        }
        b'U' => {
            let relation = c.u32()?;
            let mut old = None;
            let mut kind = c.u8()?;
            if kind == b'K' || kind == b'O' {
                old = Some(OldTuple {
                    full: kind == b'O',
                    values: tuple(&mut c)?,
                });
                kind = c.u8()?;
            }
            if kind != b'N' {
                bail!("pgoutput: update without a new tuple");
            }
            Message::Update {
                relation,
                old,
                new: tuple(&mut c)?,
            }
        }
        b'D' => {
            let relation = c.u32()?;
            let kind = c.u8()?;
            Message::Delete {
                relation,
                old: OldTuple {
                    full: kind == b'O',
                    values: tuple(&mut c)?,
                },
            }
        }
        _ => Message::Other,
    })
}

/// A commit time (µs since 2000-01-01) as Realtime writes it: `2025-01-01T10:00:00.123Z`.
pub fn commit_timestamp(pg_micros: i64) -> String {
    const PG_EPOCH_SECS: i64 = 946_684_800;
    let micros = pg_micros + PG_EPOCH_SECS * 1_000_000;
    chrono::DateTime::from_timestamp_micros(micros)
        .map(|t| t.format("%Y-%m-%dT%H:%M:%S%.3fZ").to_string())
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn commit_times_use_realtimes_format() {
        // 2025-01-02T03:04:05.678Z
        let unix_micros = 1_735_787_045_678_000_i64;
        assert_eq!(
            commit_timestamp(unix_micros - 946_684_800_000_000),
            "2025-01-02T03:04:05.678Z"
        );
    }

    #[test]
    fn short_messages_are_errors_not_panics() {
        assert!(parse(b"I\0\0").is_err());
        assert!(parse(b"R\0\0\0\x01public").is_err());
        assert!(parse(b"").is_err());
    }
}

//! The worker's database handle: a pool that knows whether it sits behind a connection
//! pooler in transaction mode (`WORKER_TRANSACTION_POOLER`).
//!
//! Every query of the worker runs through a [`Db`] (`.execute(&db)`, `.fetch_all(&db)`, …)
//! or a transaction from [`Db::begin`] (`.execute(&mut tx)`):
//!
//! - Default (a direct connection or a session pooler): [`Db`] is the pool itself, and each
//!   statement is prepared once per connection (named, cached) and runs on its own, as with
//!   a plain [`PgPool`]. Nothing is added.
//! - Transaction pooler (PgBouncer `pool_mode = transaction`, Supabase's pooler on port
//!   6543): the pooler hands a server connection to a client for one transaction at a time,
//!   so nothing may outlive a transaction: no named prepared statements (the next
//!   transaction may run on a server connection that has other statements, or none) and no
//!   session state. Each statement then goes unnamed (`persistent = false`), and one run
//!   on the pool is wrapped in its own `BEGIN … COMMIT`: sqlx sends an unnamed statement as
//!   Parse + Describe + Sync, then Bind + Execute + Sync, and between the two Syncs, outside
//!   a transaction, the pooler may give the server connection to another client. Inside a
//!   transaction it keeps it.

use std::fmt;

use futures_util::future::BoxFuture;
use futures_util::stream::BoxStream;
use futures_util::{StreamExt, TryStreamExt};
use sqlx::postgres::{PgQueryResult, PgRow, PgStatement, PgTypeInfo};
use sqlx::{Describe, Either, Execute, Executor, PgConnection, PgPool, Postgres};

/// The worker's connections: a [`PgPool`], and whether a transaction-mode pooler stands
/// between it and PostgreSQL. Cheap to clone. `&Db` is an [`Executor`].
#[derive(Clone, Debug)]
pub struct Db {
    pool: PgPool,
    transaction_pooler: bool,
}

impl Db {
    /// Queries on `pool`; with `transaction_pooler`, each one unnamed in its own
    /// transaction (see the module's documentation).
    pub fn new(pool: PgPool, transaction_pooler: bool) -> Self {
        Self {
            pool,
            transaction_pooler,
        }
    }

    /// The pool underneath. Queries run on it directly bypass the pooler rules: use `&Db`.
    pub fn pool(&self) -> &PgPool {
        &self.pool
    }

    /// Whether a transaction-mode pooler stands in front of the database.
    pub fn transaction_pooler(&self) -> bool {
        self.transaction_pooler
    }

    /// Starts a transaction; its statements go unnamed behind a transaction pooler.
    pub async fn begin(&self) -> Result<Tx<'static>, sqlx::Error> {
        Ok(Tx {
            inner: self.pool.begin().await?,
            persistent: !self.transaction_pooler,
        })
    }
}

/// A transaction from [`Db::begin`] (or a savepoint in one, [`Tx::savepoint`]).
/// `&mut Tx` is an [`Executor`]. Dropped without [`Tx::commit`], it is rolled back.
pub struct Tx<'c> {
    inner: sqlx::Transaction<'c, Postgres>,
    persistent: bool,
}

impl fmt::Debug for Tx<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Tx")
            .field("persistent", &self.persistent)
            .finish_non_exhaustive()
    }
}

impl Tx<'_> {
    /// Commits (releases the savepoint of a nested one).
    pub async fn commit(self) -> Result<(), sqlx::Error> {
        self.inner.commit().await
    }

    /// Rolls back (to the savepoint of a nested one).
    pub async fn rollback(self) -> Result<(), sqlx::Error> {
        self.inner.rollback().await
    }

    /// A savepoint in this transaction: rolling it back leaves the rest alone.
    pub async fn savepoint(&mut self) -> Result<Tx<'_>, sqlx::Error> {
        Ok(Tx {
            inner: sqlx::Connection::begin(&mut *self.inner).await?,
            persistent: self.persistent,
        })
    }
}

/// A query with its `persistent` flag turned off when `persistent` is false (a prepared
/// statement, cached or not, is then the unnamed one, gone at the next Parse).
struct Statement<E> {
    query: E,
    persistent: bool,
}

impl<'q, E: Execute<'q, Postgres>> Execute<'q, Postgres> for Statement<E> {
    fn sql(&self) -> &'q str {
        self.query.sql()
    }

    fn statement(&self) -> Option<&PgStatement<'q>> {
        self.query.statement()
    }

    fn take_arguments(
        &mut self,
    ) -> Result<Option<sqlx::postgres::PgArguments>, sqlx::error::BoxDynError> {
        self.query.take_arguments()
    }

    fn persistent(&self) -> bool {
        self.persistent && self.query.persistent()
    }
}

fn unnamed<E>(query: E) -> Statement<E> {
    Statement {
        query,
        persistent: false,
    }
}

impl<'c> Executor<'c> for &'c Db {
    type Database = Postgres;

    fn fetch_many<'e, 'q: 'e, E>(
        self,
        query: E,
    ) -> BoxStream<'e, Result<Either<PgQueryResult, PgRow>, sqlx::Error>>
    where
        'c: 'e,
        E: 'q + Execute<'q, Postgres>,
    {
        if !self.transaction_pooler {
            return self.pool.fetch_many(query);
        }
        // The whole result is read inside the transaction, then handed on: a statement
        // cannot stream out of a transaction that has to end. (Long results stream inside
        // a transaction of their own: `Db::begin`, then `.fetch(&mut tx)`.)
        let pool = self.pool.clone();
        futures_util::stream::once(async move {
            let mut tx = pool.begin().await?;
            let items: Vec<_> = (&mut *tx).fetch_many(unnamed(query)).try_collect().await?;
            tx.commit().await?;
            Ok::<_, sqlx::Error>(futures_util::stream::iter(items.into_iter().map(Ok)))
        })
        .try_flatten()
        .boxed()
    }

    fn fetch_optional<'e, 'q: 'e, E>(
        self,
        query: E,
    ) -> BoxFuture<'e, Result<Option<PgRow>, sqlx::Error>>
    where
        'c: 'e,
        E: 'q + Execute<'q, Postgres>,
    {
        if !self.transaction_pooler {
            return self.pool.fetch_optional(query);
        }
        let pool = self.pool.clone();
        Box::pin(async move {
            let mut tx = pool.begin().await?;
            let row = (&mut *tx).fetch_optional(unnamed(query)).await?;
            tx.commit().await?;
            Ok(row)
        })
    }

    fn prepare_with<'e, 'q: 'e>(
        self,
        sql: &'q str,
        parameters: &'e [PgTypeInfo],
    ) -> BoxFuture<'e, Result<PgStatement<'q>, sqlx::Error>>
    where
        'c: 'e,
    {
        self.pool.prepare_with(sql, parameters)
    }

    fn describe<'e, 'q: 'e>(
        self,
        sql: &'q str,
    ) -> BoxFuture<'e, Result<Describe<Postgres>, sqlx::Error>>
    where
        'c: 'e,
    {
        self.pool.describe(sql)
    }
}

impl<'t> Executor<'t> for &'t mut Tx<'_> {
    type Database = Postgres;

    fn fetch_many<'e, 'q: 'e, E>(
        self,
        query: E,
    ) -> BoxStream<'e, Result<Either<PgQueryResult, PgRow>, sqlx::Error>>
    where
        't: 'e,
        E: 'q + Execute<'q, Postgres>,
    {
        let persistent = self.persistent;
        let connection: &'t mut PgConnection = &mut self.inner;
        connection.fetch_many(Statement { query, persistent })
    }

    fn fetch_optional<'e, 'q: 'e, E>(
        self,
        query: E,
    ) -> BoxFuture<'e, Result<Option<PgRow>, sqlx::Error>>
    where
        't: 'e,
        E: 'q + Execute<'q, Postgres>,
    {
        let persistent = self.persistent;
        let connection: &'t mut PgConnection = &mut self.inner;
        connection.fetch_optional(Statement { query, persistent })
    }

    fn prepare_with<'e, 'q: 'e>(
        self,
        sql: &'q str,
        parameters: &'e [PgTypeInfo],
    ) -> BoxFuture<'e, Result<PgStatement<'q>, sqlx::Error>>
    where
        't: 'e,
    {
        let connection: &'t mut PgConnection = &mut self.inner;
        connection.prepare_with(sql, parameters)
    }

    fn describe<'e, 'q: 'e>(
        self,
        sql: &'q str,
    ) -> BoxFuture<'e, Result<Describe<Postgres>, sqlx::Error>>
    where
        't: 'e,
    {
        let connection: &'t mut PgConnection = &mut self.inner;
        connection.describe(sql)
    }
}

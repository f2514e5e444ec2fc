//! PostgREST's schema cache: the tables, views, columns, keys, relationships and functions of
//! the exposed schema, read from the catalog. Every identifier that reaches generated SQL
//! comes from here, never from the request.

use sqlx::PgPool;
use std::collections::BTreeMap;
use std::sync::Arc;
use tokio::sync::RwLock;

/// The one exposed schema (PostgREST's `db-schemas`, Supabase's default).
pub const SCHEMA: &str = "public";

/// The schema cache, shared and reloadable (`NOTIFY pgrst, 'reload schema'`).
#[derive(Debug, Clone, Default)]
pub struct SchemaCacheHandle(Arc<RwLock<Arc<SchemaCache>>>);

impl SchemaCacheHandle {
    /// The current snapshot. Requests keep the snapshot they started with.
    pub async fn get(&self) -> Arc<SchemaCache> {
        self.0.read().await.clone()
    }

    /// Replaces the snapshot.
    pub async fn set(&self, cache: SchemaCache) {
        *self.0.write().await = Arc::new(cache);
    }

    /// Reads the catalog again and replaces the snapshot.
    pub async fn reload(&self, db: &PgPool) -> Result<(), sqlx::Error> {
        let cache = SchemaCache::load(db).await?;
        tracing::info!(
            tables = cache.tables.len(),
            functions = cache.functions.values().map(Vec::len).sum::<usize>(),
            "schema cache loaded"
        );
        self.set(cache).await;
        Ok(())
    }
}

/// Tables, columns, foreign keys and functions of the exposed schema.
#[derive(Debug, Default)]
pub struct SchemaCache {
    /// Tables, views and materialized views, by name.
    pub tables: BTreeMap<String, Table>,
    /// Overloads by name.
    pub functions: BTreeMap<String, Vec<Function>>,
    /// Settings of the API roles (`alter role authenticated set statement_timeout = '8s'`),
    /// applied to each request as PostgREST 12+ does: `SET LOCAL ROLE` alone does not.
    pub role_settings: BTreeMap<String, Vec<(String, String)>>,
}

/// Role settings PostgREST's impersonation applies that matter here.
const ROLE_SETTINGS: [&str; 4] = [
    "statement_timeout",
    "lock_timeout",
    "idle_in_transaction_session_timeout",
    "work_mem",
];

/// A table, view or materialized view.
#[derive(Debug, Clone, Default)]
pub struct Table {
    /// The relation's name (`relname`) in [`SCHEMA`].
    pub name: String,
    /// A view or materialized view (`relkind` `v` or `m`).
    pub is_view: bool,
    /// In attribute order.
    pub columns: Vec<Column>,
    /// The primary key's columns, in key order; empty without one (and for views).
    pub primary_key: Vec<String>,
    /// Foreign keys declared on this table (many-to-one from here).
    pub foreign_keys: Vec<ForeignKey>,
}

impl Table {
    /// The column named `name`, if the table has one.
    pub fn column(&self, name: &str) -> Option<&Column> {
        self.columns.iter().find(|c| c.name == name)
    }
}

/// A column of a table or view, or an output column of a function.
#[derive(Debug, Clone)]
pub struct Column {
    /// The column's name (`attname`).
    pub name: String,
    /// `format_type()` of the column: a type name the catalog produced, used in casts.
    pub type_name: String,
    /// No `NOT NULL` constraint.
    pub nullable: bool,
    /// A value is supplied when none is given: a default, an identity or a generated column.
    pub has_default: bool,
    /// A generated column (`GENERATED ALWAYS AS (…) STORED`).
    pub generated: bool,
    /// The column default (`pg_get_expr`, from the catalog), for `Prefer: missing=default`.
    /// None for identity and generated columns.
    pub default_expr: Option<String>,
}

/// `table(columns) references foreign_table(foreign_columns)`.
#[derive(Debug, Clone)]
pub struct ForeignKey {
    /// The constraint's name, which a `!hint` in `select=` may give.
    pub constraint: String,
    /// The referencing table.
    pub table: String,
    /// The referencing columns, in key order.
    pub columns: Vec<String>,
    /// The referenced table.
    pub foreign_table: String,
    /// The referenced columns, paired with `columns` by position.
    pub foreign_columns: Vec<String>,
}

/// A function argument (input mode).
#[derive(Debug, Clone)]
pub struct FunctionArg {
    /// The argument's name, the key a call passes it by.
    pub name: String,
    /// `format_type()` of the argument's type, which the call casts its value to.
    pub type_name: String,
    /// It has a default, so a call may leave it out.
    pub has_default: bool,
}

/// A function's volatility (`provolatile`): PostgREST runs a POST to a `VOLATILE` function
/// in a read-write transaction, every other call read-only.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Volatility {
    /// `i`: `IMMUTABLE`.
    Immutable,
    /// `s`: `STABLE`.
    Stable,
    /// `v`: `VOLATILE`, the default.
    Volatile,
}

/// What a function returns, as PostgREST distinguishes it.
#[derive(Debug, Clone)]
pub enum Returns {
    /// A base type, domain, enum, range or pseudo type other than record: the JSON value.
    Scalar,
    /// A composite (a table's row type or `returns table`/OUT parameters), with its columns.
    Composite(Vec<Column>),
}

/// One overload of a function in [`SCHEMA`] callable by named arguments (`/rpc/{name}`).
#[derive(Debug, Clone)]
pub struct Function {
    /// The function's name (`proname`).
    pub name: String,
    /// The input arguments (IN, INOUT, VARIADIC), in order.
    pub args: Vec<FunctionArg>,
    /// `format_type()` of the return type (`void`, `record`, `integer`…).
    pub return_type: String,
    /// How the result is shaped.
    pub returns: Returns,
    /// `returns setof …` or `returns table (…)`: the result is rows.
    pub returns_set: bool,
    /// Whether a POST may write.
    pub volatility: Volatility,
}

impl Function {
    /// Whether a call naming exactly these arguments can reach this overload.
    pub fn accepts(&self, names: &[&str]) -> bool {
        names.iter().all(|n| self.args.iter().any(|a| a.name == *n))
            && self
                .args
                .iter()
                .all(|a| a.has_default || names.contains(&a.name.as_str()))
    }
}

impl SchemaCache {
    /// The table or view named `name` in [`SCHEMA`], if any.
    pub fn table(&self, name: &str) -> Option<&Table> {
        self.tables.get(name)
    }

    /// Loads the cache from the catalog.
    pub async fn load(db: &PgPool) -> Result<SchemaCache, sqlx::Error> {
        let mut cache = SchemaCache::default();

        type ColumnRow = (
            String,
            String,
            String,
            String,
            bool,
            bool,
            bool,
            Option<String>,
        );
        let rows: Vec<ColumnRow> = sqlx::query_as(
            "select c.relname::text, c.relkind::text, a.attname::text, \
                    format_type(a.atttypid, a.atttypmod), not a.attnotnull, \
                    a.atthasdef or a.attidentity <> '' or a.attgenerated <> '', a.attgenerated <> '', \
                    case when a.attgenerated = '' and a.attidentity = '' \
                         then pg_get_expr(d.adbin, d.adrelid) end \
               from pg_class c \
               join pg_namespace n on n.oid = c.relnamespace \
               join pg_attribute a on a.attrelid = c.oid \
               left join pg_attrdef d on d.adrelid = a.attrelid and d.adnum = a.attnum \
              where n.nspname = $1 and c.relkind in ('r', 'v', 'm', 'p', 'f') \
                and a.attnum > 0 and not a.attisdropped \
              order by c.relname, a.attnum",
        )
        .bind(SCHEMA)
        .fetch_all(db)
        .await?;
        for (table, kind, name, type_name, nullable, has_default, generated, default_expr) in rows {
            let entry = cache.tables.entry(table.clone()).or_insert_with(|| Table {
                name: table,
                is_view: kind == "v" || kind == "m",
                ..Table::default()
            });
            entry.columns.push(Column {
                name,
                type_name,
                nullable,
                has_default,
                generated,
                default_expr,
            });
        }

        type KeyRow = (String, String, String, Vec<String>, String, Vec<String>);
        let keys: Vec<KeyRow> = sqlx::query_as(
            "select con.contype::text, con.conname::text, c.relname::text, \
                    array(select a.attname::text from unnest(con.conkey) with ordinality k(num, ord) \
                            join pg_attribute a on a.attrelid = con.conrelid and a.attnum = k.num \
                           order by k.ord), \
                    coalesce(fc.relname::text, ''), \
                    array(select a.attname::text from unnest(con.confkey) with ordinality k(num, ord) \
                            join pg_attribute a on a.attrelid = con.confrelid and a.attnum = k.num \
                           order by k.ord) \
               from pg_constraint con \
               join pg_class c on c.oid = con.conrelid \
               join pg_namespace n on n.oid = c.relnamespace \
               left join pg_class fc on fc.oid = con.confrelid \
               left join pg_namespace fn on fn.oid = fc.relnamespace \
              where n.nspname = $1 and (con.contype = 'p' or (con.contype = 'f' and fn.nspname = $1)) \
              order by con.conname",
        )
        .bind(SCHEMA)
        .fetch_all(db)
        .await?;
        for (kind, constraint, table, columns, foreign_table, foreign_columns) in keys {
            let Some(entry) = cache.tables.get_mut(&table) else {
                continue;
            };
            if kind == "p" {
                entry.primary_key = columns;
            } else {
                entry.foreign_keys.push(ForeignKey {
                    constraint,
                    table,
                    columns,
                    foreign_table,
                    foreign_columns,
                });
            }
        }

        type FnRow = (
            String,
            String,
            bool,
            String,
            Option<String>,
            i16,
            Vec<String>,
            Vec<String>,
            Vec<String>,
        );
        let functions: Vec<FnRow> = sqlx::query_as(
            "select p.proname::text, p.provolatile::text, p.proretset, format_type(p.prorettype, null), \
                    case when t.typtype = 'c' then rc.relname::text end, \
                    p.pronargdefaults, \
                    array(select format_type(x, null) \
                            from unnest(coalesce(p.proallargtypes, p.proargtypes::oid[])) with ordinality u(x, o) \
                           order by o), \
                    coalesce(p.proargmodes::text[], array_fill('i'::text, array[p.pronargs::int])), \
                    coalesce(p.proargnames, '{}') \
               from pg_proc p \
               join pg_namespace n on n.oid = p.pronamespace \
               join pg_type t on t.oid = p.prorettype \
               left join pg_class rc on rc.oid = t.typrelid \
              where n.nspname = $1 and p.prokind = 'f' \
                and t.typname not in ('trigger', 'event_trigger') \
              order by p.proname, p.oid",
        )
        .bind(SCHEMA)
        .fetch_all(db)
        .await?;
        for (name, volatility, returns_set, return_type, rel, n_defaults, types, modes, names) in
            functions
        {
            let mut inputs = Vec::new();
            let mut outputs = Vec::new();
            for (i, type_name) in types.into_iter().enumerate() {
                let arg_name = names.get(i).cloned().unwrap_or_default();
                let mode = modes.get(i).map(String::as_str).unwrap_or("i");
                if matches!(mode, "i" | "b" | "v") {
                    inputs.push(FunctionArg {
                        name: arg_name.clone(),
                        type_name: type_name.clone(),
                        has_default: false,
                    });
                }
                if matches!(mode, "o" | "b" | "t") {
                    outputs.push(Column {
                        name: arg_name,
                        type_name,
                        nullable: true,
                        has_default: false,
                        generated: false,
                        default_expr: None,
                    });
                }
            }
            let n_defaults = usize::try_from(n_defaults).unwrap_or(0).min(inputs.len());
            let first_default = inputs.len() - n_defaults;
            for arg in inputs.iter_mut().skip(first_default) {
                arg.has_default = true;
            }
            // Unnamed arguments cannot be passed by name: such overloads are unreachable.
            if inputs.iter().any(|a| a.name.is_empty()) {
                continue;
            }
            let returns = if let Some(rel) = rel {
                let columns = cache
                    .tables
                    .get(&rel)
                    .map(|t| t.columns.clone())
                    .unwrap_or_default();
                Returns::Composite(columns)
            } else if return_type == "record" && !outputs.is_empty() {
                if outputs.len() == 1 && !returns_set {
                    Returns::Scalar
                } else {
                    Returns::Composite(outputs)
                }
            } else {
                Returns::Scalar
            };
            let volatility = match volatility.as_str() {
                "i" => Volatility::Immutable,
                "s" => Volatility::Stable,
                _ => Volatility::Volatile,
            };
            cache
                .functions
                .entry(name.clone())
                .or_default()
                .push(Function {
                    name,
                    args: inputs,
                    return_type,
                    returns,
                    returns_set,
                    volatility,
                });
        }
        let settings: Vec<(String, Vec<String>)> = sqlx::query_as(
            "select r.rolname::text, s.setconfig \
               from pg_db_role_setting s \
               join pg_roles r on r.oid = s.setrole \
              where r.rolname = any($1) \
                and s.setdatabase in (0, (select oid from pg_database where datname = current_database())) \
              order by s.setdatabase",
        )
        .bind(crate::request::API_ROLES.map(str::to_owned).to_vec())
        .fetch_all(db)
        .await?;
        for (role, config) in settings {
            let entry = cache.role_settings.entry(role).or_default();
            for item in config {
                if let Some((name, value)) = item.split_once('=') {
                    if ROLE_SETTINGS.contains(&name) {
                        // Database-specific settings come last and win.
                        entry.retain(|(n, _)| n != name);
                        entry.push((name.to_owned(), value.to_owned()));
                    }
                }
            }
        }
        Ok(cache)
    }

    /// Relationships from `from` to `to` usable for embedding `to` inside `from`.
    pub fn relationships(&self, from: &str, to: &str) -> Vec<Relationship> {
        let mut out = Vec::new();
        if let Some(table) = self.tables.get(from) {
            for fk in table
                .foreign_keys
                .iter()
                .filter(|fk| fk.foreign_table == to)
            {
                out.push(Relationship {
                    fk: fk.clone(),
                    kind: Cardinality::ManyToOne,
                });
            }
        }
        if let Some(target) = self.tables.get(to) {
            for fk in target
                .foreign_keys
                .iter()
                .filter(|fk| fk.foreign_table == from)
            {
                out.push(Relationship {
                    fk: fk.clone(),
                    kind: Cardinality::OneToMany,
                });
            }
        }
        out
    }
}

/// Which side of a relationship holds the foreign key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cardinality {
    /// The parent holds the foreign key: the embedded resource is one object (or null).
    ManyToOne,
    /// The embedded resource holds the foreign key: an array.
    OneToMany,
}

/// One way to join an embedded resource to its parent.
#[derive(Debug, Clone)]
pub struct Relationship {
    /// The foreign key joining the two.
    pub fk: ForeignKey,
    /// Whether the embedded resource is one object or an array.
    pub kind: Cardinality,
}

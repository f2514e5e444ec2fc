//! SQL generation from the AST. Identifiers come only from the schema cache and go through
//! [`ident`]; every request value is a bind parameter, cast to the column's catalog type.
//! PostgreSQL builds the JSON (`json_agg`, `row_to_json`).

use super::error::ApiError;
use super::query::{
    Condition, Embed, IsValue, Operand, Operator, OrderTerm, QueryParams, SelectItem,
};
use super::schema::{Cardinality, Column, Function, Returns, SchemaCache, Table, SCHEMA};

/// Double-quotes an identifier (`"` doubled), as `quote_ident` does.
pub fn ident(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

/// `"public"."name"`.
pub fn qualified(name: &str) -> String {
    format!("{}.{}", ident(SCHEMA), ident(name))
}

/// Parameters collected while writing one statement; all are bound as text and cast in SQL.
#[derive(Debug, Default, Clone)]
pub struct Params {
    /// The values in placeholder order: `values[0]` is `$1`.
    pub values: Vec<Option<String>>,
    aliases: usize,
}

impl Params {
    /// Adds a value and returns its placeholder.
    pub fn push(&mut self, value: impl Into<String>) -> String {
        self.values.push(Some(value.into()));
        format!("${}", self.values.len())
    }

    /// A fresh table alias for a subquery.
    fn alias(&mut self, prefix: &str) -> String {
        self.aliases += 1;
        format!("\"_lb_{prefix}{}\"", self.aliases)
    }
}

/// A statement ready to run.
#[derive(Debug)]
pub struct Statement {
    /// The SQL text, with `$n` placeholders.
    pub sql: String,
    /// The values bound to `$1`, `$2`…, as text (`None` binds null).
    pub params: Vec<Option<String>>,
}

impl Statement {
    fn new(sql: String, params: Params) -> Statement {
        Statement {
            sql,
            params: params.values,
        }
    }
}

/// Casts accepted in `select=col::type` (a fixed list: no type name comes from the request).
fn cast_type(name: &str) -> Option<&'static str> {
    Some(match name.trim().to_ascii_lowercase().as_str() {
        "text" | "varchar" => "text",
        "int" | "int4" | "integer" => "integer",
        "int8" | "bigint" => "bigint",
        "int2" | "smallint" => "smallint",
        "numeric" | "decimal" => "numeric",
        "float4" | "real" => "real",
        "float8" | "double precision" => "double precision",
        "bool" | "boolean" => "boolean",
        "date" => "date",
        "timestamp" => "timestamp",
        "timestamptz" => "timestamptz",
        "time" => "time",
        "json" => "json",
        "jsonb" => "jsonb",
        "uuid" => "uuid",
        _ => return None,
    })
}

fn column<'t>(table: &'t Table, name: &str) -> Result<&'t Column, ApiError> {
    table
        .column(name)
        .ok_or_else(|| ApiError::column_not_found(&table.name, name))
}

/// A column, optionally followed by a JSON path (`data->a->>b`): its SQL, the type values
/// compared with it are cast to, and the key it is output under.
struct Field {
    sql: String,
    value_type: String,
    name: String,
    json_path: bool,
}

fn field(table: &Table, alias: &str, raw: &str, params: &mut Params) -> Result<Field, ApiError> {
    let (col_name, mut rest) = match raw.find("->") {
        Some(i) => (&raw[..i], &raw[i..]),
        None => (raw, ""),
    };
    let col = column(table, col_name.trim())?;
    let mut out = Field {
        sql: format!("{alias}.{}", ident(&col.name)),
        value_type: col.type_name.clone(),
        name: col.name.clone(),
        json_path: false,
    };
    while !rest.is_empty() {
        let (as_text, after) = if let Some(r) = rest.strip_prefix("->>") {
            (true, r)
        } else if let Some(r) = rest.strip_prefix("->") {
            (false, r)
        } else {
            break;
        };
        let end = after.find("->").unwrap_or(after.len());
        let key = after[..end].trim();
        if key.is_empty() {
            return Err(ApiError::pgrst(
                400,
                "PGRST100",
                format!("\"failed to parse JSON path ({raw})\""),
                None,
                None,
            ));
        }
        // Array indexes are integers (formatted by us); keys are bound parameters.
        let key_sql = match key.parse::<i64>() {
            Ok(n) => n.to_string(),
            Err(_) => format!("{}::text", params.push(key)),
        };
        let arrow = if as_text { "->>" } else { "->" };
        out.sql = format!("({} {arrow} {key_sql})", out.sql);
        out.value_type = if as_text { "text" } else { "jsonb" }.to_owned();
        out.name = key.to_owned();
        out.json_path = true;
        rest = &after[end..];
    }
    if out.json_path && out.value_type == "jsonb" {
        // `json` has no equality operator: compare as jsonb.
        out.sql = format!("{}::jsonb", out.sql);
    }
    Ok(out)
}

/// One `select=` list over `alias` (a row of `table`).
fn select_list(
    cache: &SchemaCache,
    table: &Table,
    alias: &str,
    items: &[SelectItem],
    query: &QueryParams,
    path: &[String],
    params: &mut Params,
) -> Result<String, ApiError> {
    let mut out = Vec::new();
    for item in items {
        match item {
            SelectItem::Star => out.push(format!("{alias}.*")),
            SelectItem::Column {
                name,
                alias: label,
                cast,
            } => {
                let f = field(table, alias, name, params)?;
                let mut expr = f.sql;
                if let Some(cast) = cast {
                    let ty = cast_type(cast).ok_or_else(|| {
                        ApiError::pgrst(
                            400,
                            "PGRST100",
                            format!("\"failed to parse select parameter\" (cast to {cast} is not supported by localbase)"),
                            None,
                            None,
                        )
                    })?;
                    expr = format!("{expr}::{ty}");
                }
                out.push(format!(
                    "{expr} as {}",
                    ident(label.as_deref().unwrap_or(&f.name))
                ));
            }
            SelectItem::Embed(embed) => {
                let mut child_path = path.to_vec();
                child_path.push(embed.key().to_owned());
                let expr = embed_expr(cache, table, alias, embed, query, &child_path, params)?;
                out.push(format!("{expr} as {}", ident(embed.key())));
            }
        }
    }
    if out.is_empty() {
        out.push(format!("{alias}.*"));
    }
    Ok(out.join(", "))
}

/// The relationship an embed uses, or PGRST200/PGRST201.
fn relationship(
    cache: &SchemaCache,
    parent: &Table,
    embed: &Embed,
) -> Result<super::schema::Relationship, ApiError> {
    let not_found = || {
        ApiError::pgrst(
            400,
            "PGRST200",
            format!("Could not find a relationship between '{}' and '{}' in the schema cache", parent.name, embed.relation),
            Some(format!(
                "Searched for a foreign key relationship between '{}' and '{}' in the schema '{SCHEMA}', but no matches were found.",
                parent.name, embed.relation
            )),
            None,
        )
    };
    if cache.table(&embed.relation).is_none() {
        return Err(not_found());
    }
    let mut rels = cache.relationships(&parent.name, &embed.relation);
    if let Some(hint) = &embed.hint {
        rels.retain(|r| {
            &r.fk.constraint == hint || r.fk.columns.len() == 1 && &r.fk.columns[0] == hint
        });
        if rels.len() > 1 {
            // A column hint on a self-reference names the parent's side (many-to-one).
            rels.retain(|r| r.kind == Cardinality::ManyToOne);
        }
    }
    match rels.len() {
        0 => Err(not_found()),
        1 => Ok(rels.remove(0)),
        _ => Err(ApiError::pgrst(
            300,
            "PGRST201",
            format!(
                "Could not embed because more than one relationship was found for '{}' and '{}'",
                parent.name, embed.relation
            ),
            Some(rels.iter().map(|r| r.fk.constraint.clone()).collect::<Vec<_>>().join(", ")),
            Some(format!(
                "Try changing '{}' to one of the following: {}. Find the desired relationship in the 'details' key.",
                embed.relation,
                rels.iter().map(|r| format!("'{}!{}'", embed.relation, r.fk.constraint)).collect::<Vec<_>>().join(", ")
            )),
        )),
    }
}

/// The join condition between the parent alias and the child alias.
fn join_condition(
    rel: &super::schema::Relationship,
    parent_alias: &str,
    child_alias: &str,
) -> String {
    let pairs = rel.fk.columns.iter().zip(rel.fk.foreign_columns.iter());
    let conds: Vec<String> = match rel.kind {
        Cardinality::ManyToOne => pairs
            .map(|(own, foreign)| {
                format!(
                    "{child_alias}.{} = {parent_alias}.{}",
                    ident(foreign),
                    ident(own)
                )
            })
            .collect(),
        Cardinality::OneToMany => pairs
            .map(|(own, foreign)| {
                format!(
                    "{child_alias}.{} = {parent_alias}.{}",
                    ident(own),
                    ident(foreign)
                )
            })
            .collect(),
    };
    conds.join(" and ")
}

fn embed_expr(
    cache: &SchemaCache,
    parent: &Table,
    parent_alias: &str,
    embed: &Embed,
    query: &QueryParams,
    path: &[String],
    params: &mut Params,
) -> Result<String, ApiError> {
    let rel = relationship(cache, parent, embed)?;
    let target = cache
        .table(&embed.relation)
        .ok_or_else(|| ApiError::table_not_found(&embed.relation))?;
    let node = query.nodes.get(path).cloned().unwrap_or_default();
    let alias = params.alias("e");
    let row = params.alias("r");
    let list = select_list(cache, target, &alias, &embed.select, query, path, params)?;
    let mut conds = vec![join_condition(&rel, parent_alias, &alias)];
    conds.extend(node_conditions(
        cache,
        target,
        &alias,
        &embed.select,
        &node.conditions,
        query,
        path,
        params,
    )?);
    conds.extend(inner_conditions(
        cache,
        target,
        &alias,
        &embed.select,
        query,
        path,
        params,
    )?);
    let filter = conds.join(" and ");
    let order = order_by(target, &alias, &node.order, params)?;
    let paging = paging(node.limit, node.offset);
    Ok(match rel.kind {
        Cardinality::ManyToOne => format!(
            "(select row_to_json({row}) from (select {list} from {} as {alias} where {filter} limit 1) as {row})",
            qualified(&target.name)
        ),
        Cardinality::OneToMany => format!(
            "(select coalesce(json_agg({row}), '[]'::json) from (select {list} from {} as {alias} where {filter}{order}{paging}) as {row})",
            qualified(&target.name)
        ),
    })
}

/// `exists (…)` conditions for the `!inner` embeds of a select list.
fn inner_conditions(
    cache: &SchemaCache,
    table: &Table,
    alias: &str,
    items: &[SelectItem],
    query: &QueryParams,
    path: &[String],
    params: &mut Params,
) -> Result<Vec<String>, ApiError> {
    let mut out = Vec::new();
    for item in items {
        let SelectItem::Embed(embed) = item else {
            continue;
        };
        if !embed.inner {
            continue;
        }
        let rel = relationship(cache, table, embed)?;
        let target = cache
            .table(&embed.relation)
            .ok_or_else(|| ApiError::table_not_found(&embed.relation))?;
        let mut child_path = path.to_vec();
        child_path.push(embed.key().to_owned());
        let node = query.nodes.get(&child_path).cloned().unwrap_or_default();
        let child = params.alias("i");
        let mut conds = vec![join_condition(&rel, alias, &child)];
        conds.extend(node_conditions(
            cache,
            target,
            &child,
            &embed.select,
            &node.conditions,
            query,
            &child_path,
            params,
        )?);
        conds.extend(inner_conditions(
            cache,
            target,
            &child,
            &embed.select,
            query,
            &child_path,
            params,
        )?);
        out.push(format!(
            "exists (select 1 from {} as {child} where {})",
            qualified(&target.name),
            conds.join(" and ")
        ));
    }
    Ok(out)
}

/// The conditions of one resource, where `rel=is.null` / `rel=not.is.null` on an embedded
/// resource of `items` filters by whether a related row exists (PostgREST's null filtering
/// on embedded resources); every other condition is a column filter.
#[allow(clippy::too_many_arguments)]
fn node_conditions(
    cache: &SchemaCache,
    table: &Table,
    alias: &str,
    items: &[SelectItem],
    conds: &[Condition],
    query: &QueryParams,
    path: &[String],
    params: &mut Params,
) -> Result<Vec<String>, ApiError> {
    let mut out = Vec::new();
    for cond in conds {
        let embed = match cond {
            Condition::Filter {
                column,
                op: Operator::Is,
                operand: Operand::Is(IsValue::Null),
                ..
            } => items.iter().find_map(|i| match i {
                SelectItem::Embed(e) if e.key() == column => Some(e),
                _ => None,
            }),
            _ => None,
        };
        let (Some(embed), Condition::Filter { negate, .. }) = (embed, cond) else {
            out.push(condition(table, alias, cond, params)?);
            continue;
        };
        let rel = relationship(cache, table, embed)?;
        let target = cache
            .table(&embed.relation)
            .ok_or_else(|| ApiError::table_not_found(&embed.relation))?;
        let mut child_path = path.to_vec();
        child_path.push(embed.key().to_owned());
        let node = query.nodes.get(&child_path).cloned().unwrap_or_default();
        let child = params.alias("n");
        let mut inner = vec![join_condition(&rel, alias, &child)];
        inner.extend(node_conditions(
            cache,
            target,
            &child,
            &embed.select,
            &node.conditions,
            query,
            &child_path,
            params,
        )?);
        let exists = format!(
            "exists (select 1 from {} as {child} where {})",
            qualified(&target.name),
            inner.join(" and ")
        );
        out.push(if *negate {
            exists
        } else {
            format!("not {exists}")
        });
    }
    Ok(out)
}

/// Each condition as SQL over `alias`.
fn conditions(
    table: &Table,
    alias: &str,
    conds: &[Condition],
    params: &mut Params,
) -> Result<Vec<String>, ApiError> {
    conds
        .iter()
        .map(|c| condition(table, alias, c, params))
        .collect()
}

fn condition(
    table: &Table,
    alias: &str,
    cond: &Condition,
    params: &mut Params,
) -> Result<String, ApiError> {
    match cond {
        Condition::Logic {
            and,
            negate,
            children,
        } => {
            let parts = conditions(table, alias, children, params)?;
            let joined = if parts.is_empty() {
                "true".to_owned()
            } else {
                format!("({})", parts.join(if *and { " and " } else { " or " }))
            };
            Ok(if *negate {
                format!("not {joined}")
            } else {
                joined
            })
        }
        Condition::Filter {
            column: name,
            negate,
            op,
            operand,
        } => {
            let f = field(table, alias, name, params)?;
            let target = f.sql;
            let ty = &f.value_type;
            let value = |params: &mut Params, v: &str| format!("{}::{ty}", params.push(v));
            let sql = match (op, operand) {
                (Operator::Is, Operand::Is(v)) => {
                    let word = match v {
                        IsValue::Null => "null",
                        IsValue::True => "true",
                        IsValue::False => "false",
                        IsValue::Unknown => "unknown",
                    };
                    format!("{target} is {word}")
                }
                (Operator::In, Operand::List(items)) => {
                    if items.is_empty() {
                        "false".to_owned()
                    } else {
                        let placeholders: Vec<String> =
                            items.iter().map(|v| value(params, v)).collect();
                        format!("{target} in ({})", placeholders.join(", "))
                    }
                }
                (Operator::Like | Operator::Ilike, Operand::Value(v)) => {
                    let keyword = if *op == Operator::Like {
                        "like"
                    } else {
                        "ilike"
                    };
                    format!(
                        "{target}::text {keyword} {}",
                        params.push(v.replace('*', "%"))
                    )
                }
                (Operator::Match | Operator::Imatch, Operand::Value(v)) => {
                    let keyword = if *op == Operator::Match { "~" } else { "~*" };
                    format!("{target}::text {keyword} {}", params.push(v.as_str()))
                }
                (Operator::IsDistinct, Operand::Value(v)) => {
                    format!("{target} is distinct from {}", value(params, v))
                }
                (op, Operand::Value(v)) => {
                    let symbol = match op {
                        Operator::Eq => "=",
                        Operator::Neq => "<>",
                        Operator::Gt => ">",
                        Operator::Gte => ">=",
                        Operator::Lt => "<",
                        Operator::Lte => "<=",
                        Operator::Contains => "@>",
                        Operator::ContainedIn => "<@",
                        Operator::Overlaps => "&&",
                        _ => {
                            return Err(ApiError::pgrst(
                                400,
                                "PGRST100",
                                "\"failed to parse filter\"",
                                None,
                                None,
                            ))
                        }
                    };
                    format!("{target} {symbol} {}", value(params, v))
                }
                _ => {
                    return Err(ApiError::pgrst(
                        400,
                        "PGRST100",
                        "\"failed to parse filter\"",
                        None,
                        None,
                    ))
                }
            };
            Ok(if *negate { format!("not ({sql})") } else { sql })
        }
    }
}

fn order_by(
    table: &Table,
    alias: &str,
    terms: &[OrderTerm],
    params: &mut Params,
) -> Result<String, ApiError> {
    if terms.is_empty() {
        return Ok(String::new());
    }
    let mut parts = Vec::new();
    for term in terms {
        let f = field(table, alias, &term.column, params)?;
        let mut part = format!("{} {}", f.sql, if term.desc { "desc" } else { "asc" });
        match term.nulls_first {
            Some(true) => part.push_str(" nulls first"),
            Some(false) => part.push_str(" nulls last"),
            None => {}
        }
        parts.push(part);
    }
    Ok(format!(" order by {}", parts.join(", ")))
}

fn paging(limit: Option<i64>, offset: Option<i64>) -> String {
    let mut out = String::new();
    if let Some(limit) = limit {
        out.push_str(&format!(" limit {limit}"));
    }
    if let Some(offset) = offset.filter(|o| *o > 0) {
        out.push_str(&format!(" offset {offset}"));
    }
    out
}

/// The WHERE clause of the root (filters plus `!inner` embeds), or `true`.
fn root_where(
    cache: &SchemaCache,
    table: &Table,
    alias: &str,
    query: &QueryParams,
    params: &mut Params,
) -> Result<String, ApiError> {
    let root = query.root();
    let mut conds = node_conditions(
        cache,
        table,
        alias,
        &query.select,
        &root.conditions,
        query,
        &[],
        params,
    )?;
    conds.extend(inner_conditions(
        cache,
        table,
        alias,
        &query.select,
        query,
        &[],
        params,
    )?);
    Ok(if conds.is_empty() {
        "true".to_owned()
    } else {
        conds.join(" and ")
    })
}

/// Validates every name the query uses on embedded resources that are not selected
/// (PostgREST's PGRST108 otherwise).
fn check_embed_paths(query: &QueryParams) -> Result<(), ApiError> {
    fn collect(items: &[SelectItem], prefix: &[String], out: &mut Vec<Vec<String>>) {
        for item in items {
            if let SelectItem::Embed(e) = item {
                let mut path = prefix.to_vec();
                path.push(e.key().to_owned());
                out.push(path.clone());
                collect(&e.select, &path, out);
            }
        }
    }
    let mut known = vec![Vec::new()];
    collect(&query.select, &[], &mut known);
    for path in query.nodes.keys() {
        if !known.contains(path) {
            return Err(ApiError::pgrst(
                400,
                "PGRST108",
                format!(
                    "'{}' is not an embedded resource in this request",
                    path.join(".")
                ),
                None,
                Some(format!(
                    "Verify that '{}' is included in the 'select' query parameter.",
                    path.join(".")
                )),
            ));
        }
    }
    Ok(())
}

/// A read of `table` from `from` (a table or a subquery) named `alias`: one row with the
/// JSON body (array, or the single object) and the number of rows in it.
pub fn read(
    cache: &SchemaCache,
    table: &Table,
    from: &str,
    query: &QueryParams,
    limit: Option<i64>,
    offset: i64,
    singular: bool,
) -> Result<Statement, ApiError> {
    read_with(
        cache,
        table,
        from,
        query,
        limit,
        offset,
        singular,
        Params::default(),
    )
}

/// [`read`] continuing a parameter list that `from` already uses.
#[allow(clippy::too_many_arguments)]
fn read_with(
    cache: &SchemaCache,
    table: &Table,
    from: &str,
    query: &QueryParams,
    limit: Option<i64>,
    offset: i64,
    singular: bool,
    mut params: Params,
) -> Result<Statement, ApiError> {
    check_embed_paths(query)?;
    let alias = ident(&table.name);
    let list = select_list(cache, table, &alias, &query.select, query, &[], &mut params)?;
    let filter = root_where(cache, table, &alias, query, &mut params)?;
    let order = order_by(table, &alias, &query.root().order, &mut params)?;
    let paging = paging(limit, Some(offset));
    let body = if singular {
        "(json_agg(_lb_r) -> 0)::text"
    } else {
        "coalesce(json_agg(_lb_r), '[]'::json)::text"
    };
    let sql = format!(
        "select {body}, count(*) from (select {list} from {from} as {alias} where {filter}{order}{paging}) as _lb_r"
    );
    Ok(Statement::new(sql, params))
}

/// The rows a read's count counts: `select 1` with the read's filters, no order or paging.
pub struct CountSource {
    sql: String,
    params: Params,
}

impl CountSource {
    /// `select count(*)` of every matching row (`Prefer: count=exact`).
    pub fn exact(&self) -> Statement {
        Statement::new(
            format!("select count(*) from ({}) as _lb_c", self.sql),
            self.params.clone(),
        )
    }

    /// `select count(*)` of at most `cap` matching rows (`count=estimated` below max-rows).
    pub fn capped(&self, cap: i64) -> Statement {
        let mut params = self.params.clone();
        let n = params.push(cap.to_string());
        Statement::new(
            format!(
                "select count(*) from ({} limit {n}::bigint) as _lb_c",
                self.sql
            ),
            params,
        )
    }

    /// `explain (format json)` of the rows, whose top node's `Plan Rows` is the planned count.
    pub fn planned(&self) -> Statement {
        Statement::new(
            format!("explain (format json) {}", self.sql),
            self.params.clone(),
        )
    }
}

/// The count source of a read, with the read's filters (for `Prefer: count=…`).
pub fn count(
    cache: &SchemaCache,
    table: &Table,
    from: &str,
    query: &QueryParams,
) -> Result<CountSource, ApiError> {
    let alias = ident(&table.name);
    let mut params = Params::default();
    let filter = root_where(cache, table, &alias, query, &mut params)?;
    Ok(CountSource {
        sql: format!("select 1 from {from} as {alias} where {filter}"),
        params,
    })
}

/// `select count(*)` over a set-returning function's rows with the request's filters
/// (`Prefer: count=exact` on `/rpc/fn`); `None` for functions that do not return rows.
pub fn call_count(
    cache: &SchemaCache,
    function: &Function,
    names: &[String],
    args_json: String,
    query: &QueryParams,
) -> Result<Option<Statement>, ApiError> {
    let (Returns::Composite(columns), true) = (&function.returns, function.returns_set) else {
        return Ok(None);
    };
    let table = Table {
        name: function.name.clone(),
        columns: columns.clone(),
        ..Table::default()
    };
    let mut params = Params::default();
    let from = call_from(function, names, &mut params, args_json, "_lb_f");
    let alias = ident(&table.name);
    let filter = root_where(cache, &table, &alias, query, &mut params)?;
    Ok(Some(Statement::new(
        format!("select count(*) from (select _lb_f.* from {from}) as {alias} where {filter}"),
        params,
    )))
}

/// Wraps a data-modifying statement that ends in `returning "t".*` so that it answers
/// like a read of the affected rows.
fn wrap_returning(
    cache: &SchemaCache,
    table: &Table,
    dml: String,
    query: &QueryParams,
    mut params: Params,
    singular: bool,
) -> Result<Statement, ApiError> {
    check_embed_paths(query)?;
    let alias = ident(&table.name);
    let list = select_list(cache, table, &alias, &query.select, query, &[], &mut params)?;
    let body = if singular {
        "(json_agg(_lb_r) -> 0)::text"
    } else {
        "coalesce(json_agg(_lb_r), '[]'::json)::text"
    };
    let sql = format!(
        "with _lb_src as ({dml} returning {alias}.*) \
         select {body}, count(*) from (select {list} from _lb_src as {alias}) as _lb_r"
    );
    Ok(Statement::new(sql, params))
}

/// What a write answers with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Returning {
    /// No RETURNING clause: only the number of affected rows.
    Nothing,
    /// The affected rows, shaped by `select=`.
    Rows {
        /// One JSON object, not an array (`Accept: application/vnd.pgrst.object+json`).
        singular: bool,
    },
}

/// Insert options.
pub struct InsertSpec<'a> {
    /// The body as a JSON array of objects.
    pub rows_json: String,
    /// The columns inserted (from `columns=` or the body's keys), each checked against the table.
    pub columns: &'a [String],
    /// `on conflict (…) do update/nothing`.
    pub upsert: Option<(Vec<String>, bool)>,
    /// `Prefer: missing=default`: keys missing from an object take the column default.
    pub missing_default: bool,
}

/// `insert … select … from json_populate_recordset(null::t, $1)`.
pub fn insert(
    cache: &SchemaCache,
    table: &Table,
    spec: InsertSpec<'_>,
    query: &QueryParams,
    returning: Returning,
) -> Result<Statement, ApiError> {
    let alias = ident(&table.name);
    let mut params = Params::default();
    let body = params.push(spec.rows_json);
    let mut dml = if spec.columns.is_empty() {
        format!(
            "insert into {} as {alias} default values",
            qualified(&table.name)
        )
    } else {
        let cols: Vec<String> = spec
            .columns
            .iter()
            .map(|c| {
                column(table, c)
                    .map(|c| ident(&c.name))
                    .map_err(|_| ApiError::body_column_not_found(&table.name, c))
            })
            .collect::<Result<_, _>>()?;
        let list = cols.join(", ");
        if spec.missing_default {
            // Per row: the body's value when the key is present, else the catalog default.
            let mut values = Vec::new();
            for (name, quoted) in spec.columns.iter().zip(cols.iter()) {
                let default = table
                    .column(name)
                    .and_then(|c| c.default_expr.clone())
                    .unwrap_or_else(|| "null".to_owned());
                let key = params.push(name.as_str());
                values.push(format!(
                    "case when _lb_j.j ? {key}::text then _lb_b.{quoted} else {default} end"
                ));
            }
            format!(
                "insert into {} as {alias} ({list}) select {} from jsonb_array_elements({body}::jsonb) as _lb_j(j), \
                 lateral jsonb_populate_record(null::{}, _lb_j.j) as _lb_b",
                qualified(&table.name),
                values.join(", "),
                qualified(&table.name)
            )
        } else {
            format!(
                "insert into {} as {alias} ({list}) select {list} from json_populate_recordset(null::{}, {body}::json) as _lb_b",
                qualified(&table.name),
                qualified(&table.name)
            )
        }
    };
    if let Some((conflict, merge)) = spec.upsert {
        let target: Vec<String> = conflict
            .iter()
            .map(|c| column(table, c).map(|c| ident(&c.name)))
            .collect::<Result<_, _>>()?;
        if target.is_empty() {
            return Err(ApiError::pgrst(
                400,
                "PGRST100",
                "\"failed to parse on_conflict\"",
                Some(format!(
                    "table {} has no primary key: pass on_conflict=columns",
                    table.name
                )),
                None,
            ));
        }
        let updates: Vec<String> = spec
            .columns
            .iter()
            .map(|c| format!("{} = excluded.{}", ident(c), ident(c)))
            .collect();
        if merge && !updates.is_empty() {
            dml.push_str(&format!(
                " on conflict ({}) do update set {}",
                target.join(", "),
                updates.join(", ")
            ));
        } else {
            dml.push_str(&format!(" on conflict ({}) do nothing", target.join(", ")));
        }
    }
    match returning {
        Returning::Nothing => Ok(Statement::new(dml, params)),
        Returning::Rows { singular } => wrap_returning(cache, table, dml, query, params, singular),
    }
}

/// `update t set c = _lb_b.c … from (select * from json_populate_record(null::t, $1)) _lb_b where …`.
pub fn update(
    cache: &SchemaCache,
    table: &Table,
    body_json: String,
    columns: &[String],
    query: &QueryParams,
    returning: Returning,
) -> Result<Statement, ApiError> {
    let alias = ident(&table.name);
    let mut params = Params::default();
    let body = params.push(body_json);
    let sets: Vec<String> = columns
        .iter()
        .map(|c| {
            column(table, c)
                .map(|col| format!("{} = _lb_b.{}", ident(&col.name), ident(&col.name)))
                .map_err(|_| ApiError::body_column_not_found(&table.name, c))
        })
        .collect::<Result<_, _>>()?;
    let filter = root_where(cache, table, &alias, query, &mut params)?;
    let dml = format!(
        "update {} as {alias} set {} from (select * from json_populate_record(null::{}, {body}::json)) as _lb_b where {filter}",
        qualified(&table.name),
        sets.join(", "),
        qualified(&table.name)
    );
    match returning {
        Returning::Nothing => Ok(Statement::new(dml, params)),
        Returning::Rows { singular } => wrap_returning(cache, table, dml, query, params, singular),
    }
}

/// `delete from t where …`.
pub fn delete(
    cache: &SchemaCache,
    table: &Table,
    query: &QueryParams,
    returning: Returning,
) -> Result<Statement, ApiError> {
    let alias = ident(&table.name);
    let mut params = Params::default();
    let filter = root_where(cache, table, &alias, query, &mut params)?;
    let dml = format!(
        "delete from {} as {alias} where {filter}",
        qualified(&table.name)
    );
    match returning {
        Returning::Nothing => Ok(Statement::new(dml, params)),
        Returning::Rows { singular } => wrap_returning(cache, table, dml, query, params, singular),
    }
}

/// The FROM item calling `function` with the named arguments of `args_json` (a JSON
/// object), converted by `json_to_record` to the argument types from the catalog.
fn call_from(
    function: &Function,
    names: &[String],
    params: &mut Params,
    args_json: String,
    result: &str,
) -> String {
    let call_args: Vec<&super::schema::FunctionArg> = function
        .args
        .iter()
        .filter(|a| names.contains(&a.name))
        .collect();
    if call_args.is_empty() {
        return format!("{}() as {result}", qualified(&function.name));
    }
    let json = params.push(args_json);
    let defs: Vec<String> = call_args
        .iter()
        .map(|a| format!("{} {}", ident(&a.name), a.type_name))
        .collect();
    let named: Vec<String> = call_args
        .iter()
        .map(|a| format!("{} => _lb_a.{}", ident(&a.name), ident(&a.name)))
        .collect();
    format!(
        "json_to_record({json}::json) as _lb_a({}), lateral {}({}) as {result}",
        defs.join(", "),
        qualified(&function.name),
        named.join(", ")
    )
}

/// How an RPC result is read back.
pub enum RpcShape {
    /// One JSON value (scalar, or a single composite as an object).
    Value,
    /// A JSON array.
    Rows,
    /// `returns void`.
    Void,
}

/// `select … from fn(arg => …)`, answering one row: the JSON body and a row count.
pub fn call(
    cache: &SchemaCache,
    function: &Function,
    names: &[String],
    args_json: String,
    query: &QueryParams,
    limit: Option<i64>,
    offset: i64,
) -> Result<(Statement, RpcShape), ApiError> {
    let mut params = Params::default();
    match (&function.returns, function.returns_set) {
        (Returns::Scalar, false) => {
            let from = call_from(function, names, &mut params, args_json, "_lb_f(v)");
            if function.return_type == "void" {
                return Ok((
                    Statement::new(format!("select null::text, 1::bigint from {from}"), params),
                    RpcShape::Void,
                ));
            }
            let sql = format!("select to_json(_lb_f.v)::text, 1::bigint from {from}");
            Ok((Statement::new(sql, params), RpcShape::Value))
        }
        (Returns::Scalar, true) => {
            let from = call_from(function, names, &mut params, args_json, "_lb_f(v)");
            let sql = format!(
                "select coalesce(json_agg(_lb_f.v), '[]'::json)::text, count(*) from (select _lb_f.v from {from}{}) as _lb_f",
                paging(limit, Some(offset))
            );
            Ok((Statement::new(sql, params), RpcShape::Rows))
        }
        (Returns::Composite(_), false) => {
            let from = call_from(function, names, &mut params, args_json, "_lb_f");
            let sql = format!("select row_to_json(_lb_f)::text, 1::bigint from {from}");
            Ok((Statement::new(sql, params), RpcShape::Value))
        }
        (Returns::Composite(columns), true) => {
            // A set of rows: read it like a table, with select, filters, order and paging.
            let table = Table {
                name: function.name.clone(),
                columns: columns.clone(),
                ..Table::default()
            };
            let from = call_from(function, names, &mut params, args_json, "_lb_f");
            let source = format!("(select _lb_f.* from {from})");
            let statement = read_with(cache, &table, &source, query, limit, offset, false, params)?;
            Ok((statement, RpcShape::Rows))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rest::query;

    fn table() -> Table {
        let col = |name: &str, ty: &str| Column {
            name: name.to_owned(),
            type_name: ty.to_owned(),
            nullable: true,
            has_default: false,
            generated: false,
            default_expr: None,
        };
        Table {
            name: "tasks".to_owned(),
            columns: vec![
                col("id", "uuid"),
                col("title", "text"),
                col("parameters", "jsonb"),
            ],
            primary_key: vec!["id".to_owned()],
            ..Table::default()
        }
    }

    #[test]
    fn identifiers_are_quoted_and_values_bound() {
        assert_eq!(ident("a\"b"), "\"a\"\"b\"");
        let cache = SchemaCache::default();
        let pairs = vec![
            (
                "select".to_owned(),
                "id,t:title,p:parameters->>format".to_owned(),
            ),
            ("title".to_owned(), "eq.'; drop table tasks; --".to_owned()),
            ("order".to_owned(), "title.desc.nullslast".to_owned()),
        ];
        let q = query::parse(&pairs, &|_| false).expect("parses");
        let s = read(
            &cache,
            &table(),
            "\"public\".\"tasks\"",
            &q,
            Some(10),
            5,
            false,
        )
        .expect("builds");
        assert!(!s.sql.contains("drop table"), "{}", s.sql);
        assert!(
            s.sql.contains("\"tasks\".\"title\" = $2::text"),
            "{}",
            s.sql
        );
        assert!(
            s.sql
                .contains("order by \"tasks\".\"title\" desc nulls last limit 10 offset 5"),
            "{}",
            s.sql
        );
        assert_eq!(
            s.params,
            vec![
                Some("format".to_owned()),
                Some("'; drop table tasks; --".to_owned())
            ]
        );

        let bad = query::parse(&[("select".to_owned(), "id;drop".to_owned())], &|_| false)
            .expect("parses");
        let err = read(&cache, &table(), "x", &bad, None, 0, false).expect_err("unknown column");
        assert_eq!(err.code, "42703");
        assert_eq!(err.message, "column tasks.id;drop does not exist");
    }
}

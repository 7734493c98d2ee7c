//! [`SqlVisibilityStore`]: setup, custom attributes, upsert, delete, list, count.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use visibility_query::{
    CustomAttribute, ExecutionStatus, FieldAssignment, FieldLayout, RecordValues,
    SearchAttributeType, SearchAttributes, compile,
};

use crate::aliases;
use crate::engine::{Pool, redact};
use crate::error::{Error, Result};
use crate::row::{self, Columns};
use crate::schema;
use crate::token;
use visibility_query::sql::{self as sql, Dialect, PageKey, SqlStatement};

/// Builds a [`SqlVisibilityStore`].
///
/// ```no_run
/// # async fn demo() -> visibility_sql::Result<()> {
/// use visibility_sql::SqlVisibilityStore;
/// let store = SqlVisibilityStore::builder()
///     .url("sqlite:/var/lib/visibility.db")
///     .max_connections(8)
///     .build()
///     .await?;
/// store.setup().await?;
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct SqlVisibilityStoreBuilder {
    url: String,
    layout: FieldLayout,
    max_connections: u32,
    timeout: Duration,
}

impl fmt::Debug for SqlVisibilityStoreBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SqlVisibilityStoreBuilder")
            .field("url", &redact(&self.url))
            .field("layout", &self.layout)
            .field("max_connections", &self.max_connections)
            .field("timeout", &self.timeout)
            .finish()
    }
}

impl Default for SqlVisibilityStoreBuilder {
    fn default() -> Self {
        SqlVisibilityStoreBuilder {
            url: "sqlite::memory:".to_owned(),
            layout: FieldLayout::temporal_sql(),
            max_connections: 8,
            timeout: Duration::from_secs(30),
        }
    }
}

impl SqlVisibilityStoreBuilder {
    /// The engine URL: `sqlite:path.db` (created if missing), `sqlite::memory:` (the default),
    /// `postgres://user:pass@host:port/db`, `mysql://user:pass@host:port/db`.
    pub fn url(mut self, url: impl Into<String>) -> Self {
        self.url = url.into();
        self
    }

    /// The preallocated custom-attribute fields of the schema (default
    /// [`FieldLayout::temporal_sql`]). It must match the tables [`SqlVisibilityStore::setup`]
    /// created.
    pub fn field_layout(mut self, layout: FieldLayout) -> Self {
        self.layout = layout;
        self
    }

    /// The pool size (default 8; an in-memory SQLite database always uses one connection).
    pub fn max_connections(mut self, n: u32) -> Self {
        self.max_connections = n.max(1);
        self
    }

    /// How long to wait for a connection (connecting or from a busy pool) before failing
    /// with a retryable error (default 30 s).
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// Connects. Tables are not touched until [`SqlVisibilityStore::setup`]; a database that
    /// records another schema version or field layout is refused
    /// ([`Error::SchemaMismatch`]).
    pub async fn build(self) -> Result<SqlVisibilityStore> {
        let pool = Pool::connect(&self.url, self.max_connections, self.timeout).await?;
        schema::check(&pool, &self.layout).await?;
        Ok(SqlVisibilityStore {
            dialect: pool.dialect(),
            columns: Arc::new(Columns::of(pool.dialect(), &self.layout)),
            pool,
            layout: self.layout,
            url: redact(&self.url),
        })
    }
}

/// A visibility store on SQLite, PostgreSQL or MySQL, with Temporal's
/// `executions_visibility` schema and per-namespace custom search attributes
/// aliased to preallocated fields.
///
/// Lists and counts compile the filter with the namespace's attributes and run
/// the statement of [`visibility_query::sql`]; their results equal evaluating
/// the filter in memory ([`visibility_query::CheckedQuery::matches`], ordered
/// by [`visibility_query::CheckedQuery::compare`]).
///
/// Custom attributes follow Temporal's rules: the next free field of the type,
/// per-type limits. Removing one frees its field, and the field's old values
/// stay in existing rows; a later [`create_search_attribute`](Self::create_search_attribute)
/// that is handed that field *tells the caller*, in
/// [`FieldAssignment::previously_used_by`], whose values the new attribute will
/// see until those records are rewritten or deleted.
#[derive(Clone)]
pub struct SqlVisibilityStore {
    pool: Pool,
    dialect: Dialect,
    layout: FieldLayout,
    columns: Arc<Columns>,
    /// Redacted: for Debug.
    url: String,
}

impl fmt::Debug for SqlVisibilityStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SqlVisibilityStore")
            .field("url", &self.url)
            .field("dialect", &self.dialect)
            .finish_non_exhaustive()
    }
}

/// One page of [`SqlVisibilityStore::list`].
#[derive(Debug, Clone, PartialEq)]
pub struct Page {
    /// The records, in the query's order.
    pub records: Vec<RecordValues>,
    /// Where the next page starts; `None` after the last page. Pass it back with the same
    /// namespace and filter.
    pub next_page_token: Option<Vec<u8>>,
}

/// The answer of [`SqlVisibilityStore::count`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Count {
    /// `SELECT COUNT(*)`: the number of matching records.
    Total(u64),
    /// `GROUP BY`: one entry per value present, by value. ExecutionStatus values are
    /// status names (`Running`); a NULL group is `None`.
    Groups(Vec<(Option<String>, u64)>),
}

impl SqlVisibilityStore {
    /// A builder (default: in-memory SQLite, [`FieldLayout::temporal_sql`]).
    pub fn builder() -> SqlVisibilityStoreBuilder {
        SqlVisibilityStoreBuilder::default()
    }

    /// The engine's dialect.
    pub fn dialect(&self) -> Dialect {
        self.dialect
    }

    /// Creates the tables and indexes if they do not exist (idempotent), and records the
    /// schema version and field layout in the database. A database that records others is
    /// refused before anything is created ([`Error::SchemaMismatch`]): existing tables are
    /// never migrated or altered.
    pub async fn setup(&self) -> Result<()> {
        let recorded = schema::check_before_setup(&self.pool, &self.layout).await?;
        let stmts: Vec<SqlStatement> = self
            .dialect
            .schema(&self.layout)
            .into_iter()
            .chain([aliases::table_ddl(self.dialect)])
            .map(|sql| SqlStatement {
                sql,
                params: vec![],
            })
            .collect();
        // One statement at a time: MySQL commits DDL implicitly anyway.
        for s in &stmts {
            self.pool.execute(s).await.map_err(Error::db("setup", ""))?;
        }
        if !recorded {
            schema::record(&self.pool, &self.layout).await?;
        }
        Ok(())
    }

    /// Refreshes the planner's statistics (`ANALYZE`; bounded on SQLite). Run it after a
    /// bulk load: without statistics SQLite may pick the order's index over a selective one.
    /// PostgreSQL's autovacuum and SQLite's optimize-on-close also keep them current over time.
    pub async fn optimize(&self) -> Result<()> {
        let sql = match self.dialect {
            Dialect::Sqlite => "ANALYZE",
            Dialect::Postgres => "ANALYZE executions_visibility",
            Dialect::MySql => "ANALYZE TABLE executions_visibility",
        };
        // SQLite connections carry `analysis_limit`, so its ANALYZE reads a bounded sample.
        let stmt = SqlStatement {
            sql: sql.to_owned(),
            params: vec![],
        };
        self.pool
            .execute(&stmt)
            .await
            .map_err(Error::db("optimize", ""))?;
        Ok(())
    }

    /// Closes the pool.
    pub async fn close(&self) {
        self.pool.close().await;
    }

    /// The namespace's attributes as filters see them (system, predefined, custom with fields).
    pub async fn search_attributes(&self, ns: &str) -> Result<SearchAttributes> {
        Ok(aliases::load(&self.pool, &self.layout, ns).await?.attrs)
    }

    /// Creates a custom attribute on the next free field of its type. The assignment names
    /// earlier attributes whose values that field still holds (see the type's docs).
    pub async fn create_search_attribute(
        &self,
        ns: &str,
        name: &str,
        ty: SearchAttributeType,
    ) -> Result<FieldAssignment> {
        aliases::create(&self.pool, &self.layout, ns, name, ty).await
    }

    /// Removes a custom attribute; its field becomes free (its values stay in the rows).
    pub async fn remove_search_attribute(&self, ns: &str, name: &str) -> Result<CustomAttribute> {
        aliases::remove(&self.pool, &self.layout, ns, name).await
    }

    /// The namespace's custom attributes, by name.
    pub async fn list_search_attributes(&self, ns: &str) -> Result<Vec<CustomAttribute>> {
        Ok(self
            .search_attributes(ns)
            .await?
            .custom()
            .cloned()
            .collect())
    }

    /// Inserts or replaces a record (by namespace and run ID) in one statement.
    /// StartTime is required; times are floored to microseconds.
    pub async fn upsert(&self, ns: &str, record: &RecordValues) -> Result<()> {
        let attrs = self.search_attributes(ns).await?;
        let stmt = row::upsert(self.dialect, &self.columns, ns, record, &attrs)?;
        self.pool
            .execute(&stmt)
            .await
            .map_err(|e| write_error(ns, Some(&record.run_id), e))?;
        Ok(())
    }

    /// Upserts many records in one transaction (bulk loads): the namespace's attributes are
    /// read once, and either every record is stored or none.
    pub async fn upsert_many(&self, ns: &str, records: &[RecordValues]) -> Result<()> {
        let attrs = self.search_attributes(ns).await?;
        let stmts = records
            .iter()
            .map(|r| row::upsert(self.dialect, &self.columns, ns, r, &attrs))
            .collect::<Result<Vec<_>>>()?;
        self.pool
            .execute_all(&stmts)
            .await
            .map_err(|e| write_error(ns, None, e))
    }

    /// Deletes a record; whether it existed.
    pub async fn delete(&self, ns: &str, run_id: &str) -> Result<bool> {
        let d = self.dialect;
        let stmt = SqlStatement {
            sql: format!(
                "DELETE FROM executions_visibility WHERE namespace_id = {} AND run_id = {}",
                d.placeholder(1),
                d.placeholder(2)
            ),
            params: vec![
                sql::SqlParam::Text(ns.to_owned()),
                sql::SqlParam::Text(run_id.to_owned()),
            ],
        };
        let n = self
            .pool
            .execute(&stmt)
            .await
            .map_err(Error::db("delete", ns))?;
        Ok(n > 0)
    }

    /// One page of the records matching `filter`, in the default order (CloseTime DESC,
    /// open runs first, then StartTime DESC, RunId, WorkflowId). `page_size` is clamped to
    /// 1..=10 000.
    pub async fn list(
        &self,
        ns: &str,
        filter: &str,
        page_size: u32,
        page_token: Option<&[u8]>,
    ) -> Result<Page> {
        let attrs = self.search_attributes(ns).await?;
        let q = compile(filter, &attrs).map_err(|source| Error::Query {
            namespace: ns.to_owned(),
            source,
        })?;
        let fp = token::fingerprint(ns, &q.filter().to_string());
        let after = page_token
            .map(|t| token::decode(t, fp))
            .transpose()
            .map_err(|reason| Error::PageToken {
                namespace: ns.to_owned(),
                reason,
            })?;
        let limit = page_size.clamp(1, 10_000);
        // One row more than asked tells whether another page exists.
        let stmt = sql::list(&q, &attrs, self.dialect, ns, after.as_ref(), limit + 1).map_err(
            |source| Error::Unsupported {
                namespace: ns.to_owned(),
                source,
            },
        )?;
        let rows = self
            .pool
            .fetch(&stmt)
            .await
            .map_err(Error::db("list", ns))?;
        let mut records = rows
            .iter()
            .map(|r| row::record(r, ns))
            .collect::<Result<Vec<_>>>()?;
        let more = records.len() > limit as usize;
        records.truncate(limit as usize);
        let next_page_token = match (more, records.last()) {
            (true, Some(last)) => Some(token::encode(
                fp,
                &PageKey {
                    close_time: last.close_time,
                    start_time: last.start_time.unwrap_or_default(),
                    run_id: last.run_id.clone(),
                    workflow_id: last.workflow_id.clone(),
                },
            )),
            _ => None,
        };
        Ok(Page {
            records,
            next_page_token,
        })
    }

    /// Counts the records matching `filter`; with `GROUP BY ExecutionStatus` (or
    /// `TemporalNamespaceDivision`), per group.
    pub async fn count(&self, ns: &str, filter: &str) -> Result<Count> {
        let attrs = self.search_attributes(ns).await?;
        let q = compile(filter, &attrs).map_err(|source| Error::Query {
            namespace: ns.to_owned(),
            source,
        })?;
        let stmt =
            sql::count(&q, &attrs, self.dialect, ns).map_err(|source| Error::Unsupported {
                namespace: ns.to_owned(),
                source,
            })?;
        let rows = self
            .pool
            .fetch(&stmt)
            .await
            .map_err(Error::db("count", ns))?;
        let db = Error::db("count", ns);
        let n = |r: &crate::engine::DbRow, i| -> Result<u64> {
            Ok(r.int(i).map_err(&db)?.unwrap_or_default().max(0) as u64)
        };
        let Some(group) = q.group_by() else {
            let total = rows.first().map(|r| n(r, 0)).transpose()?;
            return Ok(Count::Total(total.unwrap_or(0)));
        };
        let mut groups = Vec::with_capacity(rows.len());
        for r in &rows {
            let value = if group == "ExecutionStatus" {
                let s = r.int(0).map_err(&db)?;
                s.map(|s| {
                    i32::try_from(s)
                        .ok()
                        .and_then(ExecutionStatus::from_i32)
                        .map_or_else(|| s.to_string(), |st| st.name().to_owned())
                })
            } else {
                r.text(0).map_err(&db)?
            };
            groups.push((value, n(r, 1)?));
        }
        groups.sort();
        Ok(Count::Groups(groups))
    }
}

/// An engine refusing a value (PostgreSQL text cannot hold NUL) is the record's fault, not
/// the database's.
fn write_error(ns: &str, run_id: Option<&str>, e: sqlx::Error) -> Error {
    match e {
        sqlx::Error::Database(db) if is_bad_value(db.code().as_deref()) => Error::InvalidRecord {
            namespace: ns.to_owned(),
            run_id: run_id.unwrap_or("(one of the batch)").to_owned(),
            reason: db.message().to_owned(),
        },
        e => Error::db("upsert", ns)(e),
    }
}

/// SQLSTATEs of values an engine refuses: PostgreSQL's NUL in text (22021), string too long
/// (22001), invalid JSON text (22P02 / 22032), MySQL's data too long (22001).
fn is_bad_value(code: Option<&str>) -> bool {
    matches!(code, Some("22021" | "22001" | "22P02" | "22032" | "22P05"))
}

//! The engines behind one small interface: connect from a URL, run a
//! parameterised statement, read cells by column name.
//!
//! Each engine has its own sqlx pool type; `dispatch!` expands one body per
//! enabled engine so that binding and decoding stay monomorphic and the store
//! code above never matches on the engine.

use std::fmt;
use std::str::FromStr;
use std::time::Duration;

use jiff::Timestamp;
use sqlx::Row;

use crate::error::{Error, Result};
use visibility_query::sql::{Dialect, SqlParam, SqlStatement};

/// A connection pool of one engine.
#[derive(Clone)]
pub(crate) enum Pool {
    #[cfg(feature = "sqlite")]
    Sqlite(sqlx::SqlitePool),
    #[cfg(feature = "postgres")]
    Postgres(sqlx::PgPool),
    #[cfg(feature = "mysql")]
    MySql(sqlx::MySqlPool),
}

impl fmt::Debug for Pool {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // The pools' own Debug would print connect options; say only which engine.
        write!(f, "Pool({:?})", self.dialect())
    }
}

/// Runs `$body` with `$p` bound to the concrete pool of whichever engine `$pool` is.
macro_rules! dispatch {
    ($pool:expr, $p:ident => $body:expr) => {
        match $pool {
            #[cfg(feature = "sqlite")]
            Pool::Sqlite($p) => $body,
            #[cfg(feature = "postgres")]
            Pool::Postgres($p) => $body,
            #[cfg(feature = "mysql")]
            Pool::MySql($p) => $body,
        }
    };
}

/// Binds the parameters of `$stmt` to a fresh `sqlx::query`.
macro_rules! bound {
    ($stmt:expr) => {{
        let mut q = sqlx::query(&$stmt.sql);
        for p in &$stmt.params {
            q = match p {
                SqlParam::Text(s) => q.bind(s.as_str()),
                SqlParam::Int(n) => q.bind(*n),
                SqlParam::Float(x) => q.bind(*x),
                SqlParam::Bool(b) => q.bind(*b),
            };
        }
        q
    }};
}

/// The URL with the password (if any) replaced, safe for errors and Debug.
pub(crate) fn redact(url: &str) -> String {
    let url = &redact_query(url);
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_owned();
    };
    let authority_end = rest.find(['/', '?']).unwrap_or(rest.len());
    match rest[..authority_end].rfind('@') {
        Some(at) => {
            let userinfo = &rest[..at];
            let user = userinfo.split_once(':').map_or(userinfo, |(u, _)| u);
            let masked = if userinfo.contains(':') { ":***" } else { "" };
            format!("{scheme}://{user}{masked}{}", &rest[at..])
        }
        None => url.to_owned(),
    }
}

/// Masks a `password=` query parameter (PostgreSQL and MySQL accept one).
fn redact_query(url: &str) -> String {
    let Some((base, query)) = url.split_once('?') else {
        return url.to_owned();
    };
    let params: Vec<String> = query
        .split('&')
        .map(|p| match p.split_once('=') {
            Some((k, _)) if k.eq_ignore_ascii_case("password") => format!("{k}=***"),
            _ => p.to_owned(),
        })
        .collect();
    format!("{base}?{}", params.join("&"))
}

fn config(url: &str, reason: impl Into<String>) -> Error {
    Error::Config {
        url: redact(url),
        reason: reason.into(),
    }
}

impl Pool {
    /// Connects to `url`: `sqlite:path` / `sqlite::memory:`, `postgres://...`, `mysql://...`
    /// (or `mariadb://...`).
    pub(crate) async fn connect(
        url: &str,
        max_connections: u32,
        timeout: Duration,
    ) -> Result<Pool> {
        let scheme = url.split(':').next().unwrap_or_default();
        // The driver's parse errors may quote the URL: report the scheme only.
        let bad_url = |_| config(url, format!("cannot parse the {scheme} URL"));
        let connect = Error::db("connect", "");
        match scheme {
            #[cfg(feature = "sqlite")]
            "sqlite" => {
                use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions};
                let opts = SqliteConnectOptions::from_str(url)
                    .map_err(bad_url)?
                    .create_if_missing(true)
                    .journal_mode(SqliteJournalMode::Wal)
                    .busy_timeout(Duration::from_secs(10))
                    // Planner statistics kept fresh cheaply (bounded ANALYZE when a
                    // connection closes); without them SQLite sorts by the close-time
                    // index even for a WorkflowId lookup.
                    .analysis_limit(1000)
                    .optimize_on_close(true, 1000);
                // Every connection to `:memory:` is its own database: keep exactly one, forever.
                let memory = url.contains(":memory:") || url.contains("mode=memory");
                let pool = SqlitePoolOptions::new()
                    .max_connections(if memory { 1 } else { max_connections })
                    .min_connections(u32::from(memory))
                    .idle_timeout((!memory).then_some(Duration::from_secs(600)))
                    .max_lifetime((!memory).then_some(Duration::from_secs(1800)))
                    .acquire_timeout(timeout)
                    .connect_with(opts)
                    .await
                    .map_err(connect)?;
                Ok(Pool::Sqlite(pool))
            }
            #[cfg(feature = "postgres")]
            "postgres" | "postgresql" => {
                let opts = sqlx::postgres::PgConnectOptions::from_str(url).map_err(bad_url)?;
                let pool = sqlx::postgres::PgPoolOptions::new()
                    .max_connections(max_connections)
                    .acquire_timeout(timeout)
                    .connect_with(opts)
                    .await
                    .map_err(connect)?;
                Ok(Pool::Postgres(pool))
            }
            #[cfg(feature = "mysql")]
            "mysql" | "mariadb" => {
                let url2 = url.replacen("mariadb:", "mysql:", 1);
                let opts = sqlx::mysql::MySqlConnectOptions::from_str(&url2).map_err(bad_url)?;
                let pool = sqlx::mysql::MySqlPoolOptions::new()
                    .max_connections(max_connections)
                    .acquire_timeout(timeout)
                    .connect_with(opts)
                    .await
                    .map_err(connect)?;
                Ok(Pool::MySql(pool))
            }
            s if ["sqlite", "postgres", "postgresql", "mysql", "mariadb"].contains(&s) => {
                Err(config(
                    url,
                    format!("the {scheme} engine is not enabled (crate feature)"),
                ))
            }
            _ => Err(config(
                url,
                "unknown engine: use sqlite:, postgres:// or mysql://",
            )),
        }
    }

    /// The SQL dialect of this engine.
    pub(crate) fn dialect(&self) -> Dialect {
        match self {
            #[cfg(feature = "sqlite")]
            Pool::Sqlite(_) => Dialect::Sqlite,
            #[cfg(feature = "postgres")]
            Pool::Postgres(_) => Dialect::Postgres,
            #[cfg(feature = "mysql")]
            Pool::MySql(_) => Dialect::MySql,
        }
    }

    /// Runs one statement; the number of rows it changed.
    pub(crate) async fn execute(&self, stmt: &SqlStatement) -> Result<u64, sqlx::Error> {
        dispatch!(self, p => Ok(bound!(stmt).execute(p).await?.rows_affected()))
    }

    /// Runs statements in order in one transaction.
    pub(crate) async fn execute_all(&self, stmts: &[SqlStatement]) -> Result<(), sqlx::Error> {
        dispatch!(self, p => {
            let mut tx = p.begin().await?;
            for s in stmts {
                bound!(s).execute(&mut *tx).await?;
            }
            tx.commit().await
        })
    }

    /// Runs a query and returns its rows.
    pub(crate) async fn fetch(&self, stmt: &SqlStatement) -> Result<Vec<DbRow>, sqlx::Error> {
        dispatch!(self, p => Ok(bound!(stmt).fetch_all(p).await?.into_iter().map(Into::into).collect()))
    }

    /// Closes every connection (waits for checked-out ones to come back).
    pub(crate) async fn close(&self) {
        dispatch!(self, p => p.close().await)
    }
}

/// A result row of any engine.
pub(crate) enum DbRow {
    #[cfg(feature = "sqlite")]
    Sqlite(sqlx::sqlite::SqliteRow),
    #[cfg(feature = "postgres")]
    Postgres(sqlx::postgres::PgRow),
    #[cfg(feature = "mysql")]
    MySql(sqlx::mysql::MySqlRow),
}

#[cfg(feature = "sqlite")]
impl From<sqlx::sqlite::SqliteRow> for DbRow {
    fn from(r: sqlx::sqlite::SqliteRow) -> Self {
        DbRow::Sqlite(r)
    }
}
#[cfg(feature = "postgres")]
impl From<sqlx::postgres::PgRow> for DbRow {
    fn from(r: sqlx::postgres::PgRow) -> Self {
        DbRow::Postgres(r)
    }
}
#[cfg(feature = "mysql")]
impl From<sqlx::mysql::MySqlRow> for DbRow {
    fn from(r: sqlx::mysql::MySqlRow) -> Self {
        DbRow::MySql(r)
    }
}

/// Decodes the first type the column is compatible with (the last type's error otherwise).
#[cfg(any(feature = "postgres", feature = "mysql"))]
macro_rules! first_of {
    ($row:expr, $col:expr, $t:ty => $conv:expr) => {
        $row.try_get::<Option<$t>, _>($col).map(|v| v.map($conv))
    };
    ($row:expr, $col:expr, $t:ty => $conv:expr, $($rest:tt)+) => {
        match $row.try_get::<Option<$t>, _>($col) {
            Ok(v) => Ok(v.map($conv)),
            Err(_) => first_of!($row, $col, $($rest)+),
        }
    };
}

impl DbRow {
    /// A text cell (NULL as `None`).
    pub(crate) fn text(&self, col: usize) -> Result<Option<String>, sqlx::Error> {
        match self {
            #[cfg(feature = "sqlite")]
            DbRow::Sqlite(r) => r.try_get(col),
            #[cfg(feature = "postgres")]
            DbRow::Postgres(r) => r.try_get(col),
            #[cfg(feature = "mysql")]
            DbRow::MySql(r) => {
                first_of!(r, col, String => |s| s, Vec<u8> => |b| String::from_utf8_lossy(&b).into_owned())
            }
        }
    }

    /// An integer cell of any integer width.
    pub(crate) fn int(&self, col: usize) -> Result<Option<i64>, sqlx::Error> {
        match self {
            #[cfg(feature = "sqlite")]
            DbRow::Sqlite(r) => r.try_get(col),
            #[cfg(feature = "postgres")]
            DbRow::Postgres(r) => {
                first_of!(r, col, i64 => |v| v, i32 => i64::from, i16 => i64::from)
            }
            #[cfg(feature = "mysql")]
            DbRow::MySql(r) => {
                first_of!(r, col, i64 => |v| v, i32 => i64::from, i8 => i64::from, u64 => |v: u64| v as i64)
            }
        }
    }

    /// A datetime cell: the dialect's text form on SQLite, `timestamp` / `DATETIME(6)` elsewhere.
    pub(crate) fn time(&self, col: usize) -> Result<Option<Timestamp>, sqlx::Error> {
        let decode = |e: String| sqlx::Error::ColumnDecode {
            index: col.to_string(),
            source: e.into(),
        };
        match self {
            #[cfg(feature = "sqlite")]
            DbRow::Sqlite(r) => r
                .try_get::<Option<String>, _>(col)?
                .map(|s| parse_sqlite_time(&s).ok_or_else(|| decode(format!("datetime {s:?}"))))
                .transpose(),
            #[cfg(feature = "postgres")]
            DbRow::Postgres(r) => {
                use sqlx::types::time::{OffsetDateTime, PrimitiveDateTime};
                let ns: Option<i128> = first_of!(r, col,
                    PrimitiveDateTime => |t: PrimitiveDateTime| t.assume_utc().unix_timestamp_nanos(),
                    OffsetDateTime => |t: OffsetDateTime| t.unix_timestamp_nanos())?;
                ns.map(|n| Timestamp::from_nanosecond(n).map_err(|e| decode(e.to_string())))
                    .transpose()
            }
            #[cfg(feature = "mysql")]
            DbRow::MySql(r) => {
                use sqlx::types::time::PrimitiveDateTime;
                let t: Option<PrimitiveDateTime> = r.try_get(col)?;
                t.map(|t| {
                    Timestamp::from_nanosecond(t.assume_utc().unix_timestamp_nanos())
                        .map_err(|e| decode(e.to_string()))
                })
                .transpose()
            }
        }
    }
}

/// `YYYY-MM-DD HH:MM:SS.ffffff+00:00`, the SQLite dialect's datetime text.
#[cfg(feature = "sqlite")]
fn parse_sqlite_time(s: &str) -> Option<Timestamp> {
    s.replacen(' ', "T", 1).parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_never_shown() {
        assert_eq!(
            redact("postgres://u:s3cr%40t@h:5432/db?x=1"),
            "postgres://u:***@h:5432/db?x=1"
        );
        assert_eq!(redact("mysql://u@h/db"), "mysql://u@h/db");
        assert_eq!(
            redact("postgres://h/db?user=u&password=pw&x=1"),
            "postgres://h/db?user=u&password=***&x=1"
        );
        assert_eq!(redact("sqlite::memory:"), "sqlite::memory:");
        assert_eq!(redact("postgres://h/db?a=b@c"), "postgres://h/db?a=b@c");
    }

    #[cfg(feature = "sqlite")]
    #[test]
    fn sqlite_time_text() {
        let t = parse_sqlite_time("2020-02-15 20:30:40.123456+00:00").unwrap();
        assert_eq!(t.to_string(), "2020-02-15T20:30:40.123456Z");
    }
}

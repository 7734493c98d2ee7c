//! The database's record of the schema it was set up with: the schema version and the field
//! layout. `CREATE TABLE IF NOT EXISTS` leaves an existing table as it is, whatever columns it
//! has, so without this record a store built with another layout (or a later version of this
//! crate) would run against tables it does not match and fail late, on some query, with an
//! engine error about a missing column. With it, [`SqlVisibilityStore::build`] and
//! [`SqlVisibilityStore::setup`] refuse at once and say what differs.
//!
//! A database set up before the record existed gets it on its next `setup`.
//!
//! [`SqlVisibilityStore::build`]: crate::SqlVisibilityStoreBuilder::build
//! [`SqlVisibilityStore::setup`]: crate::SqlVisibilityStore::setup

use std::fmt::Write as _;

use visibility_query::sql::{Dialect, SqlParam, SqlStatement};
use visibility_query::{FieldLayout, SearchAttributeType};

use crate::engine::Pool;
use crate::error::{Error, Result};

/// The version of the tables [`Dialect::schema`] and the alias table describe. Bump it with any
/// change to their DDL: a database set up by another version is refused, not silently used.
pub(crate) const SCHEMA_VERSION: i64 = 1;

/// The one-row table holding the record.
pub(crate) fn table_ddl(d: Dialect) -> String {
    let text = match d {
        Dialect::MySql => "VARCHAR(255)",
        Dialect::Sqlite | Dialect::Postgres => "TEXT",
    };
    format!(
        "CREATE TABLE IF NOT EXISTS visibility_schema (\
         id INT NOT NULL PRIMARY KEY, \
         version BIGINT NOT NULL, \
         field_layout {text} NOT NULL)"
    )
}

/// What a store expects to find: `version 1, fields Keyword=10 Text=3 ...`.
pub(crate) fn expected(layout: &FieldLayout) -> String {
    describe(SCHEMA_VERSION, &layout_text(layout))
}

fn describe(version: i64, layout: &str) -> String {
    format!("version {version}, fields {layout}")
}

/// The preallocated fields per type, e.g. `Bool=3 Datetime=3 Double=3 Int=3 Keyword=10 ...`.
fn layout_text(layout: &FieldLayout) -> String {
    let mut out = String::new();
    for ty in SearchAttributeType::ALL {
        if !out.is_empty() {
            out.push(' ');
        }
        let _ = write!(out, "{ty}={}", layout.limit(ty));
    }
    out
}

/// The record, or `None` when the database has none (not set up yet, or set up before the
/// record existed).
async fn read(pool: &Pool) -> Result<Option<String>> {
    let stmt = SqlStatement {
        sql: "SELECT version, field_layout FROM visibility_schema WHERE id = 1".to_owned(),
        params: vec![],
    };
    let rows = pool
        .fetch(&stmt)
        .await
        .map_err(Error::db("read the schema record", ""))?;
    let Some(row) = rows.first() else {
        return Ok(None);
    };
    let db = Error::db("read the schema record", "");
    let version = row.int(0).map_err(&db)?.unwrap_or_default();
    let layout = row.text(1).map_err(&db)?.unwrap_or_default();
    Ok(Some(describe(version, &layout)))
}

/// Whether the record's table exists, without touching anything.
async fn table_exists(pool: &Pool) -> Result<bool> {
    let sql = match pool.dialect() {
        Dialect::Sqlite => {
            "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'visibility_schema'"
        }
        Dialect::Postgres => {
            "SELECT 1 FROM information_schema.tables \
             WHERE table_schema = current_schema() AND table_name = 'visibility_schema'"
        }
        Dialect::MySql => {
            "SELECT 1 FROM information_schema.tables \
             WHERE table_schema = DATABASE() AND table_name = 'visibility_schema'"
        }
    };
    let stmt = SqlStatement {
        sql: sql.to_owned(),
        params: vec![],
    };
    let rows = pool
        .fetch(&stmt)
        .await
        .map_err(Error::db("look for the schema record", ""))?;
    Ok(!rows.is_empty())
}

fn mismatch(found: String, layout: &FieldLayout) -> Error {
    Error::SchemaMismatch {
        found,
        expected: expected(layout),
    }
}

/// At connect time: a recorded schema must be the one `layout` expects; no record is fine
/// (`setup` has not run, or ran before records existed).
pub(crate) async fn check(pool: &Pool, layout: &FieldLayout) -> Result<()> {
    if !table_exists(pool).await? {
        return Ok(());
    }
    match read(pool).await? {
        Some(found) if found != expected(layout) => Err(mismatch(found, layout)),
        _ => Ok(()),
    }
}

/// At setup, before any other table is touched: creates the record's table and refuses a
/// database whose record differs. Returns whether there is a record yet.
pub(crate) async fn check_before_setup(pool: &Pool, layout: &FieldLayout) -> Result<bool> {
    let ddl = SqlStatement {
        sql: table_ddl(pool.dialect()),
        params: vec![],
    };
    pool.execute(&ddl).await.map_err(Error::db("setup", ""))?;
    match read(pool).await? {
        Some(found) if found != expected(layout) => Err(mismatch(found, layout)),
        Some(_) => Ok(true),
        None => Ok(false),
    }
}

/// After setup created every table: records the schema. Of concurrent setups one row wins;
/// a loser with another layout is refused like a later store would be.
pub(crate) async fn record(pool: &Pool, layout: &FieldLayout) -> Result<()> {
    let d = pool.dialect();
    let insert = match d {
        Dialect::Sqlite => "INSERT OR IGNORE INTO",
        Dialect::MySql => "INSERT IGNORE INTO",
        Dialect::Postgres => "INSERT INTO",
    };
    let conflict = match d {
        Dialect::Postgres => " ON CONFLICT (id) DO NOTHING",
        Dialect::Sqlite | Dialect::MySql => "",
    };
    let stmt = SqlStatement {
        sql: format!(
            "{insert} visibility_schema (id, version, field_layout) VALUES (1, {}, {}){conflict}",
            d.placeholder(1),
            d.placeholder(2)
        ),
        params: vec![
            SqlParam::Int(SCHEMA_VERSION),
            SqlParam::Text(layout_text(layout)),
        ],
    };
    pool.execute(&stmt)
        .await
        .map_err(Error::db("record the schema", ""))?;
    match read(pool).await? {
        Some(found) if found == expected(layout) => Ok(()),
        Some(found) => Err(mismatch(found, layout)),
        None => Err(Error::SchemaMismatch {
            found: "no record after writing it".to_owned(),
            expected: expected(layout),
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The DDL this version sets up, pinned by a hash: if this fails, the tables changed, so
    /// bump [`SCHEMA_VERSION`] (databases set up before will then be refused, as they should)
    /// and update the hash.
    #[test]
    fn the_schema_version_changes_with_the_ddl() {
        let mut ddl = String::new();
        for d in [Dialect::Sqlite, Dialect::Postgres, Dialect::MySql] {
            for stmt in d.schema(&FieldLayout::temporal_sql()) {
                ddl.push_str(&stmt);
                ddl.push('\n');
            }
            for table in [crate::aliases::table_ddl(d), table_ddl(d)] {
                ddl.push_str(&table);
                ddl.push('\n');
            }
        }
        // FNV-1a: stable across Rust releases, unlike std's hasher.
        let hash = ddl.bytes().fold(0xcbf2_9ce4_8422_2325_u64, |h, b| {
            (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
        });
        assert_eq!(
            (SCHEMA_VERSION, hash),
            (1, 2_853_810_656_348_410_147),
            "the DDL changed: bump SCHEMA_VERSION"
        );
    }

    #[test]
    fn the_layout_is_described_per_type() {
        let text = expected(&FieldLayout::temporal_sql());
        assert!(text.starts_with("version 1, fields "), "{text}");
        assert!(text.contains("Keyword=10"), "{text}");
        let other = expected(&FieldLayout::temporal_sql().with_limit(SearchAttributeType::Int, 5));
        assert!(other.contains("Int=5"), "{other}");
        assert_ne!(text, other);
    }
}

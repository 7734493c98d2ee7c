//! Custom search attributes per namespace, persisted as an event log.
//!
//! Each row is one attribute's life: created at `seq` on a preallocated field,
//! removed at `removed_seq` (NULL while it exists). Loading replays creations
//! and removals in sequence order through [`SearchAttributes::create`] /
//! [`SearchAttributes::remove`], so the field choice, the per-type limits and
//! the reuse record ([`FieldAssignment::previously_used_by`]) follow
//! `visibility_query`'s rules and survive a reopen; a replayed field that
//! differs from the stored one means the table was edited by hand.

use visibility_query::{
    CustomAttribute, FieldAssignment, FieldLayout, SearchAttributeType, SearchAttributes,
};

use crate::engine::Pool;
use crate::error::{Error, Result};
use visibility_query::sql::{Dialect, SqlParam, SqlStatement};

/// The alias table. Names compare byte-wise on every engine (attribute names are
/// case-sensitive): MySQL gets binary strings, whatever the server's collation.
pub(crate) fn table_ddl(d: Dialect) -> String {
    let (text, short) = match d {
        Dialect::MySql => ("VARBINARY(255)", "VARBINARY(32)"),
        Dialect::Sqlite | Dialect::Postgres => ("TEXT", "TEXT"),
    };
    format!(
        "CREATE TABLE IF NOT EXISTS custom_search_attributes (\
         namespace_id {text} NOT NULL, \
         seq BIGINT NOT NULL, \
         name {text} NOT NULL, \
         type {short} NOT NULL, \
         field {short} NOT NULL, \
         removed_seq BIGINT NULL, \
         PRIMARY KEY (namespace_id, seq))"
    )
}

/// A namespace's attributes as stored, with the next sequence number.
pub(crate) struct Loaded {
    pub(crate) attrs: SearchAttributes,
    next_seq: i64,
}

fn stmt(d: Dialect, sql: &str, params: Vec<SqlParam>) -> SqlStatement {
    // Written with `?` for readability; numbered per dialect here.
    let mut out = String::with_capacity(sql.len() + 8);
    let mut n = 0;
    for c in sql.chars() {
        if c == '?' {
            n += 1;
            out.push_str(&d.placeholder(n));
        } else {
            out.push(c);
        }
    }
    SqlStatement { sql: out, params }
}

pub(crate) async fn load(pool: &Pool, layout: &FieldLayout, ns: &str) -> Result<Loaded> {
    let d = pool.dialect();
    let rows = pool
        .fetch(&stmt(
            d,
            "SELECT seq, name, type, field, removed_seq FROM custom_search_attributes \
             WHERE namespace_id = ?",
            vec![SqlParam::Text(ns.to_owned())],
        ))
        .await
        .map_err(Error::db("load search attributes", ns))?;
    let corrupt = |reason: String| Error::Corrupt {
        namespace: ns.to_owned(),
        reason,
    };
    enum Event {
        Create(String, SearchAttributeType, String),
        Remove(String),
    }
    let mut events = Vec::with_capacity(rows.len() * 2);
    let db = Error::db("load search attributes", ns);
    for r in &rows {
        let cell = |i| {
            r.text(i)
                .map_err(Error::db("load search attributes", ns))?
                .ok_or_else(|| corrupt(format!("NULL in column {i} of custom_search_attributes")))
        };
        let seq = r.int(0).map_err(&db)?.unwrap_or_default();
        let (name, ty, field) = (cell(1)?, cell(2)?, cell(3)?);
        let ty: SearchAttributeType = ty
            .parse()
            .map_err(|e| corrupt(format!("attribute {name}: {e}")))?;
        if let Some(removed) = r.int(4).map_err(&db)? {
            events.push((removed, Event::Remove(name.clone())));
        }
        events.push((seq, Event::Create(name, ty, field)));
    }
    events.sort_by_key(|(seq, _)| *seq);
    let mut attrs = SearchAttributes::new().with_field_layout(layout.clone());
    for (_, e) in &events {
        match e {
            Event::Create(name, ty, field) => {
                let got = attrs
                    .create(name.clone(), *ty)
                    .map_err(|e| corrupt(format!("replaying {name}: {e}")))?;
                if got.field.as_deref() != Some(field.as_str()) {
                    return Err(corrupt(format!(
                        "attribute {name} is stored on {field} but the layout assigns {:?}",
                        got.field
                    )));
                }
            }
            Event::Remove(name) => {
                attrs.remove(name);
            }
        }
    }
    let next_seq = events.last().map_or(1, |(s, _)| s + 1);
    Ok(Loaded { attrs, next_seq })
}

pub(crate) async fn create(
    pool: &Pool,
    layout: &FieldLayout,
    ns: &str,
    name: &str,
    ty: SearchAttributeType,
) -> Result<FieldAssignment> {
    // Two concurrent creators race for the same (namespace, seq): the loser's insert is a
    // unique violation that writes nothing, so it replays the log again and retries.
    let mut attempts = 0;
    loop {
        attempts += 1;
        let Loaded {
            mut attrs,
            next_seq,
        } = load(pool, layout, ns).await?;
        let assigned = attrs.create(name, ty).map_err(|source| Error::Attribute {
            namespace: ns.to_owned(),
            name: name.to_owned(),
            source,
        })?;
        // A layout is always set, so a field is always assigned.
        let field = assigned.field.clone().unwrap_or_default();
        let insert = stmt(
            pool.dialect(),
            "INSERT INTO custom_search_attributes (namespace_id, seq, name, type, field, removed_seq) \
             VALUES (?, ?, ?, ?, ?, NULL)",
            vec![
                SqlParam::Text(ns.to_owned()),
                SqlParam::Int(next_seq),
                SqlParam::Text(name.to_owned()),
                SqlParam::Text(ty.name().to_owned()),
                SqlParam::Text(field),
            ],
        );
        match pool.execute(&insert).await {
            Ok(_) => return Ok(assigned),
            Err(sqlx::Error::Database(db))
                if db.kind() == sqlx::error::ErrorKind::UniqueViolation && attempts < 5 => {}
            Err(e) => return Err(Error::db("create search attribute", ns)(e)),
        }
    }
}

pub(crate) async fn remove(
    pool: &Pool,
    layout: &FieldLayout,
    ns: &str,
    name: &str,
) -> Result<CustomAttribute> {
    let Loaded {
        mut attrs,
        next_seq,
    } = load(pool, layout, ns).await?;
    let removed = attrs.remove(name).ok_or_else(|| Error::NoSuchAttribute {
        namespace: ns.to_owned(),
        name: name.to_owned(),
    })?;
    pool.execute(&stmt(
        pool.dialect(),
        "UPDATE custom_search_attributes SET removed_seq = ? \
         WHERE namespace_id = ? AND name = ? AND removed_seq IS NULL",
        vec![
            SqlParam::Int(next_seq),
            SqlParam::Text(ns.to_owned()),
            SqlParam::Text(name.to_owned()),
        ],
    ))
    .await
    .map_err(Error::db("remove search attribute", ns))?;
    Ok(removed)
}

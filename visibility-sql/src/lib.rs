//! A SQL visibility store: Temporal's `executions_visibility` schema on SQLite
//! (embedded, bundled, the default), PostgreSQL or MySQL 8, queried with the
//! list-filter language of [`visibility_query`].
//!
//! - [`SqlVisibilityStore::setup`] creates the tables of
//!   [`Dialect::schema`](visibility_query::sql::Dialect::schema) and the
//!   per-namespace alias table of custom search attributes, and records the schema
//!   version and field layout: a store whose layout differs from the database's is refused
//!   ([`Error::SchemaMismatch`]), never run against tables it does not match.
//! - Custom attributes are aliases of preallocated fields (`Keyword01`...), created
//!   and removed per namespace with Temporal's rules; field reuse is reported.
//! - [`SqlVisibilityStore::list`] and [`SqlVisibilityStore::count`] compile the
//!   filter, translate it ([`visibility_query::sql`]) with every value bound as a
//!   parameter, and page by keyset with opaque tokens bound to the query.
//!
//! ```
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> visibility_sql::Result<()> {
//! use visibility_query::{ExecutionStatus, RecordValues, SearchAttributeType};
//! use visibility_sql::SqlVisibilityStore;
//!
//! let store = SqlVisibilityStore::builder().url("sqlite::memory:").build().await?;
//! store.setup().await?;
//! store.create_search_attribute("ns", "Region", SearchAttributeType::Keyword).await?;
//! let rec = RecordValues::new("wf-1", "run-1", "Payment")
//!     .with_status(ExecutionStatus::Completed)
//!     .with_start_time("2024-05-01T10:00:00Z".parse().unwrap())
//!     .with_attribute("Region", "eu");
//! store.upsert("ns", &rec).await?;
//! let page = store.list("ns", "Region = 'eu' AND ExecutionStatus = 'Completed'", 10, None).await?;
//! assert_eq!(page.records, [rec]);
//! # Ok(()) }
//! ```
//!
//! Crate features pick the engines: `sqlite` (default), `postgres`, `mysql`.

mod aliases;
mod engine;
mod error;
mod row;
mod schema;
mod store;
mod token;

pub use error::{Error, Result};
pub use store::{Count, Page, SqlVisibilityStore, SqlVisibilityStoreBuilder};

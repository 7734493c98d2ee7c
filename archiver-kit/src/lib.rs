//! The machinery archiver providers share.
//!
//! Today this crate holds [`segment`]: visibility records as Parquet files that both the
//! providers and outside engines (DuckDB, Spark, Trino, Athena) read. The rest of the shared
//! machinery (history iterator, pager, codec, page tokens, the object engine) moves here from
//! `archiver-core` as the workspace restructure proceeds (`docs/design.md`).

pub mod segment;
pub mod store;
pub mod table;
#[cfg(feature = "testing")]
pub mod testing;

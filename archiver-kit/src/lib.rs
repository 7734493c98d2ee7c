//! The machinery archiver providers share.
//!
//! Today this crate holds [`memory`], the in-memory provider (the reference behaviour every
//! provider reproduces); [`object`], the object-store engine S3 and GCS share (a provider
//! implements [`object::ObjectStore`] and gets the history archiver); [`table`], the visibility
//! table over any object store (the providers' visibility archiver); [`segment`]: visibility
//! records as Parquet files that both the providers and outside engines (DuckDB, Spark, Trino,
//! Athena) read; and [`store`], the object stores that are not a service. The rest of the shared
//! machinery (history iterator, pager, codec, page tokens) moves here from `archiver-core` as the
//! workspace restructure proceeds (`docs/design.md`).

pub mod memory;
pub mod object;
pub mod segment;
pub mod store;
pub mod table;
#[cfg(feature = "testing")]
pub mod testing;

//! What the DuckDB tests share. Each test binary uses only part of it.

#![allow(dead_code, unreachable_pub)]

pub mod duckdb;

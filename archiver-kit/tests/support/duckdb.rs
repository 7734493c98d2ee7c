//! Real DuckDB for the tests, through a Python with PyPI's `duckdb` (`.ci/duckdb.sh` installs it
//! and exports `ARCHIVER_DUCKDB_PYTHON`): one subprocess runs a whole batch of statements.

use std::io::Write;
use std::process::{Command, Stdio};

use serde_json::{Value, json};

/// The Python to run DuckDB with, or `None` (the test is skipped, and says so) when
/// `ARCHIVER_DUCKDB_PYTHON` is unset. Under `CI=true` a missing DuckDB fails the test instead.
pub fn python() -> Option<String> {
    match std::env::var("ARCHIVER_DUCKDB_PYTHON") {
        Ok(python) if !python.is_empty() => Some(python),
        _ => {
            let ci = std::env::var("CI").is_ok_and(|v| v == "true" || v == "1");
            assert!(
                !ci,
                "CI=true but ARCHIVER_DUCKDB_PYTHON is not set (a Python with PyPI's duckdb)"
            );
            eprintln!("skipped: set ARCHIVER_DUCKDB_PYTHON to a Python with duckdb installed");
            None
        }
    }
}

/// A bind parameter, as `duckdb_run.py` takes it.
#[derive(Debug, Clone, PartialEq)]
pub enum Param {
    Text(String),
    Int(i64),
    Float(f64),
    Bool(bool),
}

impl Param {
    fn to_json(&self) -> Value {
        match self {
            Param::Text(s) => json!(["text", s]),
            Param::Int(n) => json!(["int", n]),
            Param::Float(x) => json!(["float", x.to_string()]),
            Param::Bool(b) => json!(["bool", b]),
        }
    }
}

/// A statement and its parameters (`$1`, `$2`, ... or `?` in the SQL).
#[derive(Debug, Clone, PartialEq)]
pub struct Statement {
    pub sql: String,
    pub params: Vec<Param>,
}

impl Statement {
    /// A statement without parameters.
    pub fn plain(sql: impl Into<String>) -> Self {
        Statement {
            sql: sql.into(),
            params: Vec::new(),
        }
    }
}

/// What a batch gave back: DuckDB's version and, per statement, its rows or its error.
#[derive(Debug)]
pub struct Answer {
    pub version: String,
    pub results: Vec<Result<Vec<Vec<Value>>, String>>,
}

/// Runs `statements` in order on one DuckDB connection (session time zone UTC).
pub fn run(python: &str, statements: &[Statement]) -> Answer {
    let request = json!({
        "statements": statements
            .iter()
            .map(|s| json!({
                "sql": s.sql,
                "params": s.params.iter().map(Param::to_json).collect::<Vec<_>>(),
            }))
            .collect::<Vec<_>>(),
    });
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/support/duckdb_run.py");
    let mut child = Command::new(python)
        .arg(script)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot run {python}: {e}"));
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(request.to_string().as_bytes())
        .expect("write the request");
    let output = child.wait_with_output().expect("wait for DuckDB");
    assert!(output.status.success(), "duckdb_run.py failed");
    let answer: Value = serde_json::from_slice(&output.stdout).expect("DuckDB's answer");
    let results = answer["results"]
        .as_array()
        .expect("results")
        .iter()
        .map(|r| match r.get("rows") {
            Some(rows) => Ok(rows
                .as_array()
                .expect("rows")
                .iter()
                .map(|row| row.as_array().expect("a row").clone())
                .collect()),
            None => Err(r["error"].as_str().unwrap_or("?").to_owned()),
        })
        .collect::<Vec<_>>();
    assert_eq!(results.len(), statements.len(), "one result per statement");
    Answer {
        version: answer["version"].as_str().unwrap_or("?").to_owned(),
        results,
    }
}

//! Checks list filters from the command line.
//!
//! ```text
//! cargo run --example list_filter -- --sa CustomerId=Keyword --query "CustomerId = 'c1'"
//! printf '%s\n' "WorkflowId = 'a'" "Foo = 1" | cargo run --example list_filter
//! ```
//!
//! Prints one line per filter, `ok <canonical text>` or `err <kind> <offset> <message>`,
//! and exits 0 when every filter is valid, 1 otherwise (2 for bad arguments).

use std::io::{self, BufRead, Write};
use std::process::ExitCode;

use archiver::query::{SearchAttributeType, SearchAttributes, compile};

const USAGE: &str = "usage: list_filter [--sa Name=Type]... [--query FILTER]
  Reads filters one per line from stdin unless --query is given.
  Types: Keyword, Text, Int, Double, Bool, Datetime, KeywordList.";

fn main() -> ExitCode {
    match run() {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::from(1),
        Err(msg) => {
            eprintln!("list_filter: {msg}\n{USAGE}");
            ExitCode::from(2)
        }
    }
}

fn run() -> Result<bool, String> {
    let mut attrs = SearchAttributes::new();
    let mut query = None;
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        // Both `--sa X=T` and `--sa=X=T`.
        let (flag, inline) = match arg.split_once('=') {
            Some((f, v)) if f.starts_with("--") => (f.to_owned(), Some(v.to_owned())),
            _ => (arg.clone(), None),
        };
        let mut value = || {
            inline
                .clone()
                .or_else(|| args.next())
                .ok_or(format!("{flag} needs a value"))
        };
        match flag.as_str() {
            "--sa" => {
                let spec = value()?;
                let (name, ty) = spec
                    .split_once('=')
                    .ok_or(format!("--sa expects Name=Type, got '{spec}'"))?;
                let ty: SearchAttributeType =
                    ty.parse().map_err(|e| format!("--sa {spec}: {e}"))?;
                attrs = attrs
                    .try_with_custom(name, ty)
                    .map_err(|e| format!("--sa {spec}: {e}"))?;
            }
            "--query" | "-q" => query = Some(value()?),
            "--help" | "-h" => {
                println!("{USAGE}");
                return Ok(true);
            }
            other => return Err(format!("unknown argument '{other}'")),
        }
    }

    let stdout = io::stdout();
    let mut out = stdout.lock();
    let mut all_ok = true;
    let mut check = |filter: &str| -> io::Result<()> {
        match compile(filter, &attrs) {
            Ok(q) => writeln!(out, "ok {}", q.filter()),
            Err(e) => {
                all_ok = false;
                // One line per filter: newlines in the message would break that.
                let msg = e.message().replace(['\n', '\r'], " ");
                writeln!(out, "err {} {} {msg}", e.kind(), e.offset())
            }
        }
    };
    match query {
        Some(q) => check(&q).map_err(|e| e.to_string())?,
        None => {
            for line in io::stdin().lock().lines() {
                check(&line.map_err(|e| e.to_string())?).map_err(|e| e.to_string())?;
            }
        }
    }
    Ok(all_ok)
}

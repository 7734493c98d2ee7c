//! Engines for the integration tests: SQLite always (a fresh file per call),
//! PostgreSQL when `VISIBILITY_SQL_POSTGRES_URL` is set, MySQL/MariaDB when
//! `VISIBILITY_SQL_MYSQL_URL` is set. Under `CI=true` a missing PostgreSQL URL
//! fails the test; a missing MySQL URL is skipped with a printed reason.
//!
//! Tests share a server database, so each one works in namespaces of its own
//! ([`unique_ns`]).

#![allow(dead_code, unreachable_pub)]

pub mod diff;

use std::sync::atomic::{AtomicU64, Ordering};

use visibility_sql::SqlVisibilityStore;

/// A store under test and the engine's name.
pub struct Engine {
    pub name: &'static str,
    pub store: SqlVisibilityStore,
    /// Where the store connects, for a second store on the same database.
    pub url: String,
    /// Keeps the SQLite file alive.
    _dir: Option<tempfile::TempDir>,
}

fn ci() -> bool {
    std::env::var("CI").is_ok_and(|v| v == "true" || v == "1")
}

fn server_url(var: &str, required_in_ci: bool, feature_on: bool) -> Option<String> {
    match std::env::var(var) {
        Ok(url) if !url.is_empty() => {
            if feature_on {
                Some(url)
            } else {
                assert!(
                    !ci(),
                    "{var} is set but the crate feature for it is off: run with --all-features"
                );
                eprintln!("skipping {var}: crate feature off (use --all-features)");
                None
            }
        }
        _ => {
            assert!(
                !(required_in_ci && ci()),
                "CI=true but {var} is not set: start a server with visibility-sql/tests/support/start-*.sh"
            );
            eprintln!("skipping the engine of {var}: not set");
            None
        }
    }
}

/// Every engine available, each set up (tables created).
pub async fn engines() -> Vec<Engine> {
    let mut out = Vec::new();
    let dir = tempfile::tempdir().expect("temp dir");
    let url = format!("sqlite:{}", dir.path().join("visibility.db").display());
    let store = SqlVisibilityStore::builder()
        .url(&url)
        .build()
        .await
        .expect("sqlite");
    out.push(Engine {
        name: "sqlite",
        store,
        url,
        _dir: Some(dir),
    });
    let servers = [
        (
            "postgres",
            "VISIBILITY_SQL_POSTGRES_URL",
            true,
            cfg!(feature = "postgres"),
        ),
        (
            "mysql",
            "VISIBILITY_SQL_MYSQL_URL",
            false,
            cfg!(feature = "mysql"),
        ),
    ];
    for (name, var, required, feature) in servers {
        if let Some(url) = server_url(var, required, feature) {
            let store = SqlVisibilityStore::builder()
                .url(&url)
                .build()
                .await
                .unwrap_or_else(|e| panic!("{name}: {e}"));
            out.push(Engine {
                name,
                store,
                url,
                _dir: None,
            });
        }
    }
    for e in &out {
        e.store
            .setup()
            .await
            .unwrap_or_else(|err| panic!("{}: setup: {err}", e.name));
    }
    out
}

/// A namespace no other test (or earlier run against the same server) uses.
pub fn unique_ns(prefix: &str) -> String {
    static N: AtomicU64 = AtomicU64::new(0);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos());
    format!(
        "{prefix}-{}-{nanos}-{}",
        std::process::id(),
        N.fetch_add(1, Ordering::Relaxed)
    )
}

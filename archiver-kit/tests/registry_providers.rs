//! `ProviderRegistry`: scheme dispatch, config checks by the factories, one cached instance per
//! scheme (also under concurrent first use), and custom registrations overriding built-ins.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Barrier, Mutex};
use std::time::Duration;

use archiver_core::config::{
    ArchivalConfig, ArchivalState, ArchivalTarget, FilestoreConfig, ProviderConfig, S3Config,
    TargetArchivalConfig,
};
use archiver_core::{
    Error, HistoryArchiver, HistoryArchiverFactory, MemoryHistorySource, ProviderContext,
    ProviderRegistry, VisibilityArchiver, VisibilityArchiverFactory,
};
use archiver_kit::memory::{MemoryHistoryArchiver, MemoryVisibilityArchiver};

/// Which factory built what, in order: "<name>:<target>".
type Log = Arc<Mutex<Vec<String>>>;

/// A history factory named `name` that first runs `check` on the context.
fn history_factory(
    name: &'static str,
    log: &Log,
    check: fn(&ProviderContext) -> archiver_core::Result<()>,
) -> HistoryArchiverFactory {
    let log = Arc::clone(log);
    Arc::new(move |ctx: &ProviderContext| {
        check(ctx)?;
        log.lock().unwrap().push(format!("{name}:{}", ctx.target));
        Ok(
            Arc::new(MemoryHistoryArchiver::new(Arc::clone(&ctx.history_source)))
                as Arc<dyn HistoryArchiver>,
        )
    })
}

fn visibility_factory(
    name: &'static str,
    log: &Log,
    check: fn(&ProviderContext) -> archiver_core::Result<()>,
) -> VisibilityArchiverFactory {
    let log = Arc::clone(log);
    Arc::new(move |ctx: &ProviderContext| {
        check(ctx)?;
        log.lock().unwrap().push(format!("{name}:{}", ctx.target));
        Ok(Arc::new(MemoryVisibilityArchiver::new()) as Arc<dyn VisibilityArchiver>)
    })
}

// The built-in factories' config checks, as the provider crates do them.
fn needs_filestore(ctx: &ProviderContext) -> archiver_core::Result<()> {
    ctx.filestore().map(drop)
}
fn needs_s3store(ctx: &ProviderContext) -> archiver_core::Result<()> {
    ctx.s3store().map(drop)
}
fn needs_gstorage(ctx: &ProviderContext) -> archiver_core::Result<()> {
    ctx.gstorage().map(drop)
}
fn needs_custom_store(ctx: &ProviderContext) -> archiver_core::Result<()> {
    match ctx.custom_store() {
        Some(config) if config["bucket"] == "b1" => Ok(()),
        Some(other) => panic!("custom factory got {other}"),
        None => Err(ctx.not_configured()),
    }
}
fn needs_nothing(_: &ProviderContext) -> archiver_core::Result<()> {
    Ok(())
}

/// filestore and s3store configured for both targets, gstorage not, custom store `custom`.
fn config() -> ArchivalConfig {
    let provider = ProviderConfig::default()
        .with_filestore(FilestoreConfig::new(0o644, 0o755))
        .with_s3store(S3Config::new("us-east-1"))
        .with_custom_store("custom", serde_json::json!({"bucket": "b1"}));
    let target = TargetArchivalConfig::new(ArchivalState::Enabled).with_provider(provider);
    ArchivalConfig::default()
        .with_history(target.clone())
        .with_visibility(target)
}

fn registry(log: &Log) -> ProviderRegistry {
    let mut registry = ProviderRegistry::new(config(), Arc::new(MemoryHistorySource::new()));
    for (scheme, name, check) in [
        (
            "file",
            "filestore",
            needs_filestore as fn(&ProviderContext) -> _,
        ),
        ("s3", "s3store", needs_s3store),
        ("gs", "gstorage", needs_gstorage),
    ] {
        registry
            .register_builtin_history(scheme, history_factory(name, log, check))
            .register_builtin_visibility(scheme, visibility_factory(name, log, check));
    }
    registry
        .register_history("custom", history_factory("custom", log, needs_custom_store))
        .register_visibility(
            "custom",
            visibility_factory("custom", log, needs_custom_store),
        );
    registry
}

/// What asking for a scheme gives.
#[derive(Debug, PartialEq)]
enum Outcome {
    Built(&'static str),
    NotConfigured,
    Unsupported(Vec<String>),
}

#[test]
fn dispatch_by_scheme_table() {
    let all = || ["custom", "file", "gs", "s3"].map(String::from).to_vec();
    let table = [
        ("file", Outcome::Built("filestore")),
        ("s3", Outcome::Built("s3store")),
        ("gs", Outcome::NotConfigured),
        ("custom", Outcome::Built("custom")),
        ("unknown", Outcome::Unsupported(all())),
        ("", Outcome::Unsupported(all())),
    ];
    for target in [ArchivalTarget::History, ArchivalTarget::Visibility] {
        let log = Log::default();
        let registry = registry(&log);
        for (scheme, want) in &table {
            let result = match target {
                ArchivalTarget::History => registry.history_archiver(scheme).map(drop),
                ArchivalTarget::Visibility => registry.visibility_archiver(scheme).map(drop),
            };
            let got = match result {
                Ok(()) => {
                    let built = log.lock().unwrap().pop().expect("a factory ran");
                    let (name, built_target) = built.split_once(':').unwrap();
                    assert_eq!(built_target, target.as_str());
                    Outcome::Built(match name {
                        "filestore" => "filestore",
                        "s3store" => "s3store",
                        "custom" => "custom",
                        other => panic!("{other}"),
                    })
                }
                Err(Error::ProviderNotConfigured { scheme: s }) => {
                    assert_eq!(s, *scheme);
                    Outcome::NotConfigured
                }
                Err(Error::UnsupportedScheme {
                    scheme: s,
                    available,
                }) => {
                    assert_eq!(s, *scheme);
                    Outcome::Unsupported(available)
                }
                Err(other) => panic!("{target} {scheme}: {other}"),
            };
            assert_eq!(&got, want, "{target} {scheme}");
        }
    }
}

#[test]
fn unsupported_scheme_message_lists_sorted_schemes() {
    let registry = registry(&Log::default());
    let err = registry.history_archiver("ftp").err().unwrap();
    assert_eq!(
        err.to_string(),
        "no archiver registered for scheme \"ftp\" (registered: custom, file, gs, s3)"
    );
    assert_eq!(registry.schemes(), ["custom", "file", "gs", "s3"]);
    let debug = format!("{registry:?}");
    assert!(
        debug.contains("\"file\"") && debug.contains("visibility"),
        "{debug}"
    );
}

#[test]
fn one_instance_per_scheme_and_kind() {
    let log = Log::default();
    let registry = registry(&log);
    let first = registry.history_archiver("file").unwrap();
    let again = registry.history_archiver("file").unwrap();
    assert!(Arc::ptr_eq(&first, &again));
    registry.visibility_archiver("file").unwrap();
    registry.visibility_archiver("file").unwrap();
    assert_eq!(
        *log.lock().unwrap(),
        ["filestore:history", "filestore:visibility"]
    );
    // Another scheme is another instance.
    assert!(!Arc::ptr_eq(
        &first,
        &registry.history_archiver("s3").unwrap()
    ));
}

#[test]
fn concurrent_first_use_builds_once() {
    const THREADS: usize = 16;
    let builds = Arc::new(AtomicUsize::new(0));
    let mut registry = ProviderRegistry::new(config(), Arc::new(MemoryHistorySource::new()));
    let counter = Arc::clone(&builds);
    registry.register_builtin_history(
        "file",
        Arc::new(move |ctx: &ProviderContext| {
            counter.fetch_add(1, Ordering::SeqCst);
            // Slow enough that every thread arrives while the first is still building.
            std::thread::sleep(Duration::from_millis(50));
            Ok(
                Arc::new(MemoryHistoryArchiver::new(Arc::clone(&ctx.history_source)))
                    as Arc<dyn HistoryArchiver>,
            )
        }),
    );
    let registry = Arc::new(registry);
    let barrier = Arc::new(Barrier::new(THREADS));
    let handles: Vec<_> = (0..THREADS)
        .map(|_| {
            let (registry, barrier) = (Arc::clone(&registry), Arc::clone(&barrier));
            std::thread::spawn(move || {
                barrier.wait();
                registry.history_archiver("file").unwrap()
            })
        })
        .collect();
    let archivers: Vec<_> = handles.into_iter().map(|h| h.join().unwrap()).collect();
    assert_eq!(builds.load(Ordering::SeqCst), 1);
    assert!(archivers.iter().all(|a| Arc::ptr_eq(a, &archivers[0])));
}

#[test]
fn custom_overrides_built_in_in_either_order() {
    for custom_first in [true, false] {
        let log = Log::default();
        let mut registry = ProviderRegistry::new(config(), Arc::new(MemoryHistorySource::new()));
        let custom = history_factory("mine", &log, needs_nothing);
        let built_in = history_factory("filestore", &log, needs_filestore);
        if custom_first {
            registry.register_history("file", custom);
            registry.register_builtin_history("file", built_in);
        } else {
            registry.register_builtin_history("file", built_in);
            registry.register_history("file", custom);
        }
        registry.history_archiver("file").unwrap();
        assert_eq!(
            *log.lock().unwrap(),
            ["mine:history"],
            "custom first: {custom_first}"
        );
        assert_eq!(registry.schemes(), ["file"]);
    }
}

#[test]
fn re_registering_replaces_the_built_instance() {
    let log = Log::default();
    let mut registry = ProviderRegistry::new(config(), Arc::new(MemoryHistorySource::new()));
    registry.register_history("x", history_factory("one", &log, needs_nothing));
    let first = registry.history_archiver("x").unwrap();
    registry.register_history("x", history_factory("two", &log, needs_nothing));
    let second = registry.history_archiver("x").unwrap();
    assert!(!Arc::ptr_eq(&first, &second));
    assert_eq!(*log.lock().unwrap(), ["one:history", "two:history"]);
}

#[test]
fn factory_errors_propagate_and_are_not_cached() {
    let attempts = Arc::new(AtomicUsize::new(0));
    let mut registry = ProviderRegistry::new(config(), Arc::new(MemoryHistorySource::new()));
    let counter = Arc::clone(&attempts);
    registry.register_history(
        "flaky",
        Arc::new(move |ctx: &ProviderContext| {
            if counter.fetch_add(1, Ordering::SeqCst) == 0 {
                return Err(Error::backend(
                    "flaky",
                    "connect",
                    std::io::Error::other("refused"),
                    true,
                ));
            }
            Ok(
                Arc::new(MemoryHistoryArchiver::new(Arc::clone(&ctx.history_source)))
                    as Arc<dyn HistoryArchiver>,
            )
        }),
    );
    let err = registry.history_archiver("flaky").err().unwrap();
    assert!(
        matches!(
            err,
            Error::Backend {
                provider: "flaky",
                ..
            }
        ),
        "{err}"
    );
    registry.history_archiver("flaky").unwrap();
    registry.history_archiver("flaky").unwrap();
    assert_eq!(attempts.load(Ordering::SeqCst), 2);
}

#[test]
fn a_missing_custom_store_section_is_the_factory_s_call() {
    let log = Log::default();
    let mut registry = ProviderRegistry::new(
        ArchivalConfig::default(),
        Arc::new(MemoryHistorySource::new()),
    );
    registry
        .register_history(
            "strict",
            history_factory("strict", &log, needs_custom_store),
        )
        .register_history("lenient", history_factory("lenient", &log, needs_nothing));
    assert!(matches!(
        registry.history_archiver("strict"),
        Err(Error::ProviderNotConfigured { scheme }) if scheme == "strict"
    ));
    registry.history_archiver("lenient").unwrap();
}

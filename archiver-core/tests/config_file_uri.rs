//! `file://` URIs that would fail on first use are refused when the config is validated,
//! naming the key, by the rule `ArchiveUri::file_directory` that every user of them shares.

use archiver_core::config::{
    ArchivalConfig, ArchivalState, FilestoreConfig, NamespaceArchivalState, NamespaceDefault,
    NamespaceDefaults, ProviderConfig, TargetArchivalConfig,
};
use archiver_core::{ArchiveUri, Error};

/// Each unusable URI, with a word its reason must contain. All parse as URIs.
const UNUSABLE: &[(&str, &str)] = &[
    ("file://relative/x", "no host"),
    ("file://", "empty"),
    ("file:relative", "empty"),
    ("file:///a/%00/b", "NUL"),
    ("file:///a%00", "NUL"),
    ("file:///a/%2e%2e/b", ".."),
    ("file:///a/%2E%2E", ".."),
    ("file:///a/../b", ".."),
    ("file://me@/a", "user info"),
    ("file://me:secret@localhost/a", "user info"),
    ("file://localhost:8080/a", "port"),
    ("file://:8080/a", "port"),
    ("file://localhost:/a", "port"),
    ("file://[::1]/a", "no host"),
];

/// Usable spellings and the directory each names.
const USABLE: &[(&str, &str)] = &[
    ("file:///var/archive", "/var/archive"),
    ("file://localhost/var/archive", "/var/archive"),
    ("file:/var/archive", "/var/archive"),
    ("file:///", "/"),
    ("file:///a%20b/%2e/..c/c..", "/a b/./..c/c.."),
    ("FILE:///a%2Fb", "/a/b"),
];

fn uri(text: &str) -> ArchiveUri {
    text.parse().unwrap_or_else(|e| panic!("{text}: {e}"))
}

#[test]
fn file_directory_refuses_what_cannot_be_a_local_directory() {
    for (text, reason) in UNUSABLE {
        let uri = uri(text);
        match uri.file_directory() {
            Err(err @ Error::InvalidUri { .. }) => {
                assert!(!err.is_retryable());
                assert!(err.to_string().contains(reason), "{text}: {err}");
                assert!(!err.to_string().contains("secret"), "{err}");
            }
            other => panic!("{text}: expected InvalidUri, got {other:?}"),
        }
        // The check does not change what the URI is: it still writes back as it parsed.
        assert_eq!(uri.to_string().parse::<ArchiveUri>().unwrap(), uri);
    }
    for (text, directory) in USABLE {
        assert_eq!(uri(text).file_directory().unwrap(), *directory, "{text}");
    }
    assert!(matches!(
        uri("s3://bucket/x").file_directory(),
        Err(Error::SchemeMismatch { .. })
    ));
}

fn config_error(yaml: &str) -> Error {
    ArchivalConfig::from_yaml(yaml).expect_err(yaml)
}

#[test]
fn config_refuses_unusable_file_uris_naming_the_key() {
    for target in ["history", "visibility"] {
        for (text, reason) in UNUSABLE {
            let yaml = format!(
                "archival: {{{target}: {{state: enabled, provider: {{filestore: {{fileMode: '0666', dirMode: '0766'}}}}}}}}\n\
                 namespaceDefaults: {{archival: {{{target}: {{state: enabled, URI: '{text}'}}}}}}"
            );
            let err = config_error(&yaml);
            assert!(!err.is_retryable());
            let Error::InvalidConfig { key, reason: got } = err else {
                panic!("{text}: expected InvalidConfig, got {err:?}");
            };
            assert_eq!(key, format!("namespaceDefaults.archival.{target}.URI"));
            assert!(got.contains(reason), "{text}: {got}");
            assert!(!got.contains("secret"), "{got}");
        }
        for (text, _) in USABLE {
            let yaml = format!(
                "archival: {{{target}: {{state: enabled, provider: {{filestore: {{fileMode: '0666', dirMode: '0766'}}}}}}}}\n\
                 namespaceDefaults: {{archival: {{{target}: {{state: enabled, URI: '{text}'}}}}}}"
            );
            ArchivalConfig::from_yaml(&yaml).unwrap_or_else(|e| panic!("{text}: {e}"));
        }
    }
}

#[test]
fn validate_checks_file_uris_of_builder_made_configs() {
    // Also while archival is disabled: the URI is kept for when it is switched on.
    let parked = |text: &str| {
        ArchivalConfig::default()
            .with_history(
                TargetArchivalConfig::new(ArchivalState::Disabled).with_provider(
                    ProviderConfig::default().with_filestore(FilestoreConfig::new(0o644, 0o755)),
                ),
            )
            .with_namespace_defaults(NamespaceDefaults {
                history: NamespaceDefault::new(NamespaceArchivalState::Disabled, Some(uri(text))),
                ..NamespaceDefaults::default()
            })
    };
    parked("file:///a").validate().unwrap();
    assert!(matches!(
        parked("file://").validate(),
        Err(Error::InvalidConfig { key, .. }) if key == "namespaceDefaults.archival.history.URI"
    ));
}

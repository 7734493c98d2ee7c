//! Reading Temporal's `archival:` / `namespaceDefaults:` YAML, and the validation rules, each
//! failure naming its dotted key.

use archiver_core::config::{
    ArchivalConfig, ArchivalState, ArchivalTarget, FilestoreConfig, GcsConfig,
    NamespaceArchivalState, NamespaceDefault, NamespaceDefaults, ProviderConfig, S3Config,
    TargetArchivalConfig,
};
use archiver_core::{ArchiveUri, Error};

/// A Temporal `config/development.yaml`-style file: other sections around ours, the dev modes,
/// localstack S3, GCS credentials, a custom store, and YAML's quirks (unquoted octal, mixed case).
const DEVELOPMENT_YAML: &str = r#"
log:
  stdout: true
  level: info

persistence:
  defaultStore: sqlite-default
  numHistoryShards: 4

global:
  membership:
    maxJoinDuration: 30s

archival:
  history:
    state: "enabled"
    enableRead: true
    provider:
      filestore:
        fileMode: "0666"
        dirMode: "0766"
      s3store:
        region: "us-east-1"
        endpoint: "http://127.0.0.1:4566"
        s3ForcePathStyle: true
        logLevel: 0
      gstorage:
        credentialsPath: "/tmp/gcloud/keyfile.json"
  visibility:
    state: " Enabled "
    enableRead: false
    provider:
      filestore:
        fileMode: 0644
        dirMode: 0o755
      customStores:
        vault:
          token: "t0ps3cret"
          shards: [1, 2]

namespaceDefaults:
  archival:
    history:
      state: "disabled"
      URI: "file:///tmp/temporal_archival/development"
    visibility:
      state: "ENABLED"
      URI: "vault://archive/visibility"

dynamicConfigClient:
  filepath: "config/dynamicconfig/development-sql.yaml"
"#;

#[test]
fn reads_a_development_config() {
    let config = ArchivalConfig::from_yaml(DEVELOPMENT_YAML).unwrap();

    let history = &config.history;
    assert_eq!(history.state, ArchivalState::Enabled);
    assert!(history.read_enabled());
    assert_eq!(
        history.provider.filestore,
        Some(FilestoreConfig::new(0o666, 0o766))
    );
    assert_eq!(
        history.provider.s3store,
        Some(
            S3Config::new("us-east-1")
                .with_endpoint("http://127.0.0.1:4566")
                .with_force_path_style(true)
        )
    );
    assert_eq!(
        history.provider.gstorage,
        Some(GcsConfig::default().with_credentials_path("/tmp/gcloud/keyfile.json"))
    );
    assert!(history.provider.custom_stores.is_empty());

    let visibility = config.target(ArchivalTarget::Visibility);
    assert_eq!(
        visibility.state,
        ArchivalState::Enabled,
        "trimmed, case-insensitive"
    );
    assert!(!visibility.read_enabled());
    assert_eq!(
        visibility.provider.filestore,
        Some(FilestoreConfig::new(0o644, 0o755))
    );
    assert_eq!(
        visibility.provider.custom_store("vault"),
        Some(&serde_json::json!({"token": "t0ps3cret", "shards": [1, 2]}))
    );
    assert!(
        !format!("{config:?}").contains("t0ps3cret"),
        "custom stores stay out of Debug"
    );

    let defaults = &config.namespace_defaults;
    assert_eq!(defaults.history.state, NamespaceArchivalState::Disabled);
    assert_eq!(
        defaults.history.uri.as_ref().map(ArchiveUri::path),
        Some("/tmp/temporal_archival/development")
    );
    assert_eq!(
        config.namespace_default(ArchivalTarget::Visibility).state,
        NamespaceArchivalState::Enabled
    );
    assert_eq!(defaults.visibility.uri.as_ref().unwrap().scheme(), "vault");
}

#[test]
fn the_same_config_built_in_code_is_equal() {
    let filestore = ProviderConfig::default().with_filestore(FilestoreConfig::new(0o666, 0o766));
    let built = ArchivalConfig::default()
        .with_history(
            TargetArchivalConfig::new(ArchivalState::Enabled)
                .with_enable_read(true)
                .with_provider(
                    filestore
                        .clone()
                        .with_s3store(
                            S3Config::new("us-east-1")
                                .with_endpoint("http://127.0.0.1:4566")
                                .with_force_path_style(true),
                        )
                        .with_gstorage(
                            GcsConfig::default().with_credentials_path("/tmp/gcloud/keyfile.json"),
                        ),
                ),
        )
        .with_visibility(
            TargetArchivalConfig::new(ArchivalState::Enabled).with_provider(
                ProviderConfig::default()
                    .with_filestore(FilestoreConfig::new(0o644, 0o755))
                    .with_custom_store(
                        "vault",
                        serde_json::json!({"token": "t0ps3cret", "shards": [1, 2]}),
                    ),
            ),
        )
        .with_namespace_defaults(NamespaceDefaults {
            history: NamespaceDefault::new(
                NamespaceArchivalState::Disabled,
                Some("file:///tmp/temporal_archival/development".parse().unwrap()),
            ),
            visibility: NamespaceDefault::new(
                NamespaceArchivalState::Enabled,
                Some("vault://archive/visibility".parse().unwrap()),
            ),
        });
    built.validate().unwrap();
    assert_eq!(built, ArchivalConfig::from_yaml(DEVELOPMENT_YAML).unwrap());
}

#[test]
fn missing_sections_mean_disabled() {
    for yaml in [
        "",
        "~",
        "log: {level: info}",
        "archival:",
        "archival: {history: {}}",
    ] {
        let config = ArchivalConfig::from_yaml(yaml).unwrap_or_else(|e| panic!("{yaml:?}: {e}"));
        assert_eq!(config, ArchivalConfig::default(), "{yaml:?}");
        assert!(!config.history.cluster_enabled() && !config.visibility.read_enabled());
    }
    let paused =
        ArchivalConfig::from_yaml("archival: {history: {state: paused, enableRead: true}}")
            .unwrap();
    assert_eq!(paused.history.state, ArchivalState::Paused);
    assert!(
        !paused.history.cluster_enabled() && !paused.history.read_enabled(),
        "paused acts as disabled"
    );
}

fn config_error(yaml: &str) -> (String, String) {
    match ArchivalConfig::from_yaml(yaml) {
        Err(Error::InvalidConfig { key, reason }) => (key, reason),
        other => panic!("{yaml}\nshould be InvalidConfig, got {other:?}"),
    }
}

/// Every rule, one YAML each, with the key it must name.
#[test]
fn each_failure_names_its_key() {
    let fs = r#"provider: {filestore: {fileMode: "0666", dirMode: "0766"}}"#;
    let cases: &[(String, &str, &str)] = &[
        ("archival: {history: {state: on}}".into(), "archival.history.state", "invalid archival state \"on\""),
        ("archival: {visibility: {state: paused!}}".into(), "archival.visibility.state", "\"paused\""),
        (
            "namespaceDefaults: {archival: {history: {state: paused}}}".into(),
            "namespaceDefaults.archival.history.state",
            "for namespaces",
        ),
        (
            r#"archival: {history: {provider: {filestore: {fileMode: "0999", dirMode: "0766"}}}}"#.into(),
            "archival.history.provider.filestore.fileMode",
            "octal",
        ),
        (
            r#"archival: {visibility: {provider: {filestore: {fileMode: "0666", dirMode: "755"}}}}"#.into(),
            "archival.visibility.provider.filestore.dirMode",
            "leading 0",
        ),
        (
            r#"archival: {history: {provider: {filestore: {dirMode: "0755"}}}}"#.into(),
            "archival.history.provider.filestore.fileMode",
            "is required",
        ),
        (
            r#"archival: {history: {provider: {s3store: {endpoint: "http://x"}}}}"#.into(),
            "archival.history.provider.s3store.region",
            "is required",
        ),
        (
            format!("archival: {{history: {{state: disabled, {fs}}}}}\nnamespaceDefaults: {{archival: {{history: {{state: enabled, URI: 'file:///a'}}}}}}"),
            "namespaceDefaults.archival.history.state",
            "cannot default to enabled",
        ),
        (
            format!("archival: {{visibility: {{state: enabled, {fs}}}}}"),
            "namespaceDefaults.archival.visibility.URI",
            "is required when archival.visibility.state is \"enabled\"",
        ),
        (
            format!("archival: {{history: {{state: enabled, {fs}}}}}\nnamespaceDefaults: {{archival: {{history: {{URI: 'file://host:port/x'}}}}}}"),
            "namespaceDefaults.archival.history.URI",
            "invalid port",
        ),
        (
            format!("archival: {{history: {{state: enabled, {fs}}}}}\nnamespaceDefaults: {{archival: {{history: {{URI: 's3://bucket/x'}}}}}}"),
            "archival.history.provider.s3store",
            "uses scheme \"s3\"",
        ),
        (
            format!("archival: {{history: {{state: enabled, {fs}}}}}\nnamespaceDefaults: {{archival: {{history: {{URI: 'gs://bucket/x'}}}}}}"),
            "archival.history.provider.gstorage",
            "is missing",
        ),
        (
            "namespaceDefaults: {archival: {visibility: {URI: 'mine://x'}}}".into(),
            "archival.visibility.provider.customStores.mine",
            "is missing",
        ),
        ("archival: {history: {enableRead: maybe}}".into(), "<document>", "line 1"),
        ("archival: [".into(), "<document>", "line 1"),
        ("archival: {history: {state: a}, history: {state: b}}".into(), "<document>", "duplicate"),
    ];
    for (yaml, key, reason) in cases {
        let (got_key, got_reason) = config_error(yaml);
        assert_eq!(got_key, *key, "{yaml}");
        assert!(
            got_reason.contains(reason),
            "{yaml}\nreason {got_reason:?} lacks {reason:?}"
        );
    }
}

#[test]
fn uri_passwords_stay_out_of_config_errors() {
    let yaml = "namespaceDefaults: {archival: {history: {URI: 's3://me:hunter2@bucket/x'}}}";
    let err = ArchivalConfig::from_yaml(yaml).unwrap_err();
    assert!(!err.to_string().contains("hunter2"), "{err}");
    let yaml = "namespaceDefaults: {archival: {history: {URI: 's3://me:hunter2@bucket:x/'}}}";
    let err = ArchivalConfig::from_yaml(yaml).unwrap_err();
    assert!(!err.to_string().contains("hunter2"), "{err}");
}

#[test]
fn validate_checks_builder_made_configs() {
    let bad_mode = ArchivalConfig::default().with_history(
        TargetArchivalConfig::new(ArchivalState::Disabled).with_provider(
            ProviderConfig::default().with_filestore(FilestoreConfig::new(0o644, 0o17777)),
        ),
    );
    assert!(matches!(
        bad_mode.validate(),
        Err(Error::InvalidConfig { key, .. }) if key == "archival.history.provider.filestore.dirMode"
    ));
    // A disabled target may keep its providers and default URI (Temporal refuses this).
    let parked = ArchivalConfig::default()
        .with_history(
            TargetArchivalConfig::new(ArchivalState::Disabled).with_provider(
                ProviderConfig::default().with_filestore(FilestoreConfig::new(0o644, 0o755)),
            ),
        )
        .with_namespace_defaults(NamespaceDefaults {
            history: NamespaceDefault::new(
                NamespaceArchivalState::Disabled,
                Some("file:///a".parse().unwrap()),
            ),
            ..NamespaceDefaults::default()
        });
    parked.validate().unwrap();
}

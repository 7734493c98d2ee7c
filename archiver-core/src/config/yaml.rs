//! Reading the YAML: serde structs that mirror Temporal's keys exactly (strings where Temporal
//! has strings), turned into the typed config with errors that name the key.

use std::collections::BTreeMap;

use serde::Deserialize;

use super::providers::parse_mode;
use super::{
    ArchivalConfig, FilestoreConfig, GcsConfig, NamespaceDefault, NamespaceDefaults,
    ProviderConfig, S3Config, TargetArchivalConfig, invalid, invalid_uri,
};
use crate::{ArchiveUri, Error, Result};

/// A Temporal server config document; only our two sections are read.
#[derive(Deserialize, Default)]
#[serde(default)]
struct Document {
    archival: Option<Archival>,
    #[serde(rename = "namespaceDefaults")]
    namespace_defaults: Option<NamespaceDefaultsSection>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct Archival {
    history: Option<Target>,
    visibility: Option<Target>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct Target {
    state: Option<String>,
    #[serde(rename = "enableRead")]
    enable_read: Option<bool>,
    provider: Option<Provider>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct Provider {
    filestore: Option<Filestore>,
    s3store: Option<S3>,
    gstorage: Option<Gstorage>,
    #[serde(rename = "customStores")]
    custom_stores: Option<BTreeMap<String, serde_json::Value>>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct Filestore {
    #[serde(rename = "fileMode")]
    file_mode: Option<String>,
    #[serde(rename = "dirMode")]
    dir_mode: Option<String>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct S3 {
    region: Option<String>,
    endpoint: Option<String>,
    #[serde(rename = "s3ForcePathStyle")]
    s3_force_path_style: Option<bool>,
    #[serde(rename = "logLevel")]
    log_level: Option<u32>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct Gstorage {
    #[serde(rename = "credentialsPath")]
    credentials_path: Option<String>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct NamespaceDefaultsSection {
    archival: Option<NamespaceArchival>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct NamespaceArchival {
    history: Option<NamespaceTarget>,
    visibility: Option<NamespaceTarget>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct NamespaceTarget {
    state: Option<String>,
    #[serde(rename = "URI")]
    uri: Option<String>,
}

/// Parses the YAML into the typed config, without the cross-key rules of `validate`.
pub(super) fn parse(yaml: &str) -> Result<ArchivalConfig> {
    // Without the snippet the message is one line ("line 3 column 7: invalid boolean").
    let mut options = serde_saphyr::Options::default();
    options.with_snippet = false;
    let document: Option<Document> = serde_saphyr::from_str_with_options(yaml, options)
        .map_err(|e| invalid("<document>", e.to_string()))?;
    let document = document.unwrap_or_default();
    let archival = document.archival.unwrap_or_default();
    let defaults = document
        .namespace_defaults
        .and_then(|d| d.archival)
        .unwrap_or_default();
    Ok(ArchivalConfig {
        history: target(archival.history, "archival.history")?,
        visibility: target(archival.visibility, "archival.visibility")?,
        namespace_defaults: NamespaceDefaults {
            history: namespace_default(defaults.history, "namespaceDefaults.archival.history")?,
            visibility: namespace_default(
                defaults.visibility,
                "namespaceDefaults.archival.visibility",
            )?,
        },
    })
}

fn target(raw: Option<Target>, key: &str) -> Result<TargetArchivalConfig> {
    let raw = raw.unwrap_or_default();
    Ok(TargetArchivalConfig {
        state: raw
            .state
            .unwrap_or_default()
            .parse()
            .map_err(|reason| invalid(format!("{key}.state"), reason))?,
        enable_read: raw.enable_read.unwrap_or(false),
        provider: provider(raw.provider.unwrap_or_default(), &format!("{key}.provider"))?,
    })
}

fn provider(raw: Provider, key: &str) -> Result<ProviderConfig> {
    let filestore = raw
        .filestore
        .map(|f| {
            let mode = |text: Option<String>, name: &str| {
                parse_mode(&text.unwrap_or_default())
                    .map_err(|reason| invalid(format!("{key}.filestore.{name}"), reason))
            };
            Ok::<_, Error>(FilestoreConfig::new(
                mode(f.file_mode, "fileMode")?,
                mode(f.dir_mode, "dirMode")?,
            ))
        })
        .transpose()?;
    Ok(ProviderConfig {
        filestore,
        s3store: raw.s3store.map(|s| S3Config {
            region: s.region.unwrap_or_default(),
            endpoint: s.endpoint.filter(|e| !e.is_empty()),
            s3_force_path_style: s.s3_force_path_style.unwrap_or(false),
            log_level: s.log_level.unwrap_or(0),
        }),
        gstorage: raw.gstorage.map(|g| GcsConfig {
            credentials_path: g.credentials_path.filter(|p| !p.is_empty()).map(Into::into),
        }),
        custom_stores: raw.custom_stores.unwrap_or_default(),
    })
}

fn namespace_default(raw: Option<NamespaceTarget>, key: &str) -> Result<NamespaceDefault> {
    let raw = raw.unwrap_or_default();
    let state = raw
        .state
        .unwrap_or_default()
        .parse()
        .map_err(|reason| invalid(format!("{key}.state"), reason))?;
    let uri = match raw.uri.as_deref().map(str::trim) {
        None | Some("") => None,
        Some(text) => {
            Some(ArchiveUri::parse(text).map_err(|e| invalid_uri(&format!("{key}.URI"), e))?)
        }
    };
    Ok(NamespaceDefault { state, uri })
}

//! The `provider:` section of a target: one sub-section per storage backend.

use std::collections::BTreeMap;
use std::fmt;
use std::path::PathBuf;

use super::invalid;
use crate::Result;

/// The provider sections of `archival.history.provider` or `archival.visibility.provider`.
///
/// A scheme can be used only if its section is present: `file` needs `filestore`, `s3` needs
/// `s3store`, `gs` needs `gstorage` (Temporal's name), and any other scheme needs
/// `customStores.<scheme>`. Custom store configs are kept as raw values for their factory to
/// read; `Debug` lists their names only, since they may hold credentials.
#[derive(Clone, Default, PartialEq)]
pub struct ProviderConfig {
    /// `filestore`: the `file://` provider.
    pub filestore: Option<FilestoreConfig>,
    /// `s3store`: the `s3://` provider.
    pub s3store: Option<S3Config>,
    /// `gstorage`: the `gs://` provider.
    pub gstorage: Option<GcsConfig>,
    /// `customStores`: scheme -> the provider's own config, as written.
    pub custom_stores: BTreeMap<String, serde_json::Value>,
}

/// Built-in schemes and the name of their config section.
const BUILT_IN_SECTIONS: [(&str, &str); 3] =
    [("file", "filestore"), ("s3", "s3store"), ("gs", "gstorage")];

impl ProviderConfig {
    /// Sets the `filestore` section.
    pub fn with_filestore(mut self, filestore: FilestoreConfig) -> Self {
        self.filestore = Some(filestore);
        self
    }

    /// Sets the `s3store` section.
    pub fn with_s3store(mut self, s3store: S3Config) -> Self {
        self.s3store = Some(s3store);
        self
    }

    /// Sets the `gstorage` section.
    pub fn with_gstorage(mut self, gstorage: GcsConfig) -> Self {
        self.gstorage = Some(gstorage);
        self
    }

    /// Adds the `customStores.<scheme>` section.
    pub fn with_custom_store(
        mut self,
        scheme: impl Into<String>,
        config: serde_json::Value,
    ) -> Self {
        self.custom_stores.insert(scheme.into(), config);
        self
    }

    /// The raw config of a custom store.
    pub fn custom_store(&self, scheme: &str) -> Option<&serde_json::Value> {
        self.custom_stores.get(scheme)
    }

    /// Whether the section that `scheme` needs is present.
    pub fn has_section(&self, scheme: &str) -> bool {
        match scheme {
            "file" => self.filestore.is_some(),
            "s3" => self.s3store.is_some(),
            "gs" => self.gstorage.is_some(),
            _ => self.custom_stores.contains_key(scheme),
        }
    }

    /// The key of the section `scheme` needs, relative to `provider`: `filestore`, `s3store`,
    /// `gstorage` or `customStores.<scheme>`.
    pub fn section_key(scheme: &str) -> String {
        BUILT_IN_SECTIONS
            .iter()
            .find(|(s, _)| *s == scheme)
            .map_or_else(
                || format!("customStores.{scheme}"),
                |(_, key)| (*key).to_owned(),
            )
    }

    /// Checks the sections' own rules; `key` is the dotted key of this `provider` section.
    pub(super) fn validate(&self, key: &str) -> Result<()> {
        if let Some(filestore) = &self.filestore {
            filestore.validate(&format!("{key}.filestore"))?;
        }
        if let Some(s3) = &self.s3store
            && s3.region.trim().is_empty()
        {
            return Err(invalid(format!("{key}.s3store.region"), "is required"));
        }
        Ok(())
    }
}

impl fmt::Debug for ProviderConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ProviderConfig")
            .field("filestore", &self.filestore)
            .field("s3store", &self.s3store)
            .field("gstorage", &self.gstorage)
            .field(
                "custom_stores",
                &self.custom_stores.keys().collect::<Vec<_>>(),
            )
            .finish()
    }
}

/// `filestore`: permissions for the files and directories the `file://` provider creates.
///
/// In YAML both are octal strings, as in Temporal's configs: `fileMode: "0666"`,
/// `dirMode: "0766"` (`"0o666"` is accepted too). A mode without the leading `0` is rejected
/// rather than read as decimal, as Go would, because `"644"` almost always means `0644`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FilestoreConfig {
    /// `fileMode`: permission bits of archived files.
    pub file_mode: u32,
    /// `dirMode`: permission bits of created directories.
    pub dir_mode: u32,
}

/// The largest permission value: rwx for all plus setuid, setgid and sticky bits.
const MAX_MODE: u32 = 0o7777;

impl FilestoreConfig {
    /// A filestore section with these permission bits.
    pub fn new(file_mode: u32, dir_mode: u32) -> Self {
        FilestoreConfig {
            file_mode,
            dir_mode,
        }
    }

    fn validate(&self, key: &str) -> Result<()> {
        for (name, mode) in [("fileMode", self.file_mode), ("dirMode", self.dir_mode)] {
            if mode > MAX_MODE {
                return Err(invalid(
                    format!("{key}.{name}"),
                    format!("{mode:#o} is not a permission mode (at most 0o7777)"),
                ));
            }
        }
        Ok(())
    }
}

/// Parses an octal permission string (`"0666"`, `"0o666"`); the reason on failure.
pub(super) fn parse_mode(text: &str) -> std::result::Result<u32, String> {
    const HINT: &str = "must be an octal permission mode such as \"0644\"";
    let text = text.trim();
    let digits = match text.strip_prefix("0o").or_else(|| text.strip_prefix("0O")) {
        Some(digits) => digits,
        None if text.starts_with('0') => text,
        None if text.is_empty() => return Err(format!("is required: it {HINT}")),
        None => return Err(format!("{text:?} {HINT} (with the leading 0)")),
    };
    let octal = !digits.is_empty() && digits.bytes().all(|b| (b'0'..=b'7').contains(&b));
    match u32::from_str_radix(digits, 8) {
        Ok(mode) if octal && mode <= MAX_MODE => Ok(mode),
        _ => Err(format!("{text:?} {HINT}")),
    }
}

/// `s3store`: the `s3://` provider's client settings, as Temporal reads them.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct S3Config {
    /// `region`, required, e.g. `"us-east-1"`.
    pub region: String,
    /// `endpoint`: an S3-compatible server, e.g. `"http://127.0.0.1:4566"`; AWS when unset.
    pub endpoint: Option<String>,
    /// `s3ForcePathStyle`: `http://host/bucket/key` instead of `http://bucket.host/key`.
    pub s3_force_path_style: bool,
    /// `logLevel`: the SDK's log level (kept for compatibility; providers map it to tracing).
    pub log_level: u32,
}

impl S3Config {
    /// An `s3store` section for `region`.
    pub fn new(region: impl Into<String>) -> Self {
        S3Config {
            region: region.into(),
            ..S3Config::default()
        }
    }

    /// Sets `endpoint`.
    pub fn with_endpoint(mut self, endpoint: impl Into<String>) -> Self {
        self.endpoint = Some(endpoint.into());
        self
    }

    /// Sets `s3ForcePathStyle`.
    pub fn with_force_path_style(mut self, force: bool) -> Self {
        self.s3_force_path_style = force;
        self
    }

    /// Sets `logLevel`.
    pub fn with_log_level(mut self, level: u32) -> Self {
        self.log_level = level;
        self
    }
}

/// `gstorage`: the `gs://` provider's settings.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct GcsConfig {
    /// `credentialsPath`: a service-account key file; the environment's default credentials
    /// when unset (or empty in YAML).
    pub credentials_path: Option<PathBuf>,
}

impl GcsConfig {
    /// Sets `credentialsPath`.
    pub fn with_credentials_path(mut self, path: impl Into<PathBuf>) -> Self {
        self.credentials_path = Some(path.into());
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn modes_are_octal_with_a_leading_zero() {
        assert_eq!(parse_mode("0666"), Ok(0o666));
        assert_eq!(parse_mode(" 0766 "), Ok(0o766));
        assert_eq!(parse_mode("0o640"), Ok(0o640));
        assert_eq!(parse_mode("0"), Ok(0));
        assert_eq!(parse_mode("04755"), Ok(0o4755));
        for bad in [
            "",
            "666",
            "0999",
            "0x1b6",
            "0o",
            "0-1",
            "0+1",
            "010000",
            "0o77777777777",
            "abc",
        ] {
            assert!(parse_mode(bad).is_err(), "{bad:?}");
        }
        assert!(parse_mode("644").unwrap_err().contains("leading 0"));
    }

    #[test]
    fn section_keys_use_temporal_names() {
        assert_eq!(ProviderConfig::section_key("gs"), "gstorage");
        assert_eq!(ProviderConfig::section_key("file"), "filestore");
        assert_eq!(ProviderConfig::section_key("s3"), "s3store");
        assert_eq!(ProviderConfig::section_key("mine"), "customStores.mine");
    }

    #[test]
    fn debug_hides_custom_store_contents() {
        let config = ProviderConfig::default()
            .with_custom_store("vault", serde_json::json!({"token": "s3cr3t"}));
        let debug = format!("{config:?}");
        assert!(
            debug.contains("vault") && !debug.contains("s3cr3t"),
            "{debug}"
        );
    }
}

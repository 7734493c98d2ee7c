//! [`ArchivalConfig`]: the cluster's archival settings for history and visibility.

use std::fmt;
use std::str::FromStr;

use super::{
    NamespaceArchivalState, NamespaceDefault, NamespaceDefaults, ProviderConfig, invalid,
    invalid_uri,
};
use crate::{Error, Result};

/// Temporal's `archival:` section (history and visibility) with its `namespaceDefaults:`.
///
/// ```
/// use archiver_core::config::{ArchivalConfig, ArchivalState, ArchivalTarget};
/// let config = ArchivalConfig::from_yaml(r#"
/// archival:
///   history:
///     state: "enabled"
///     enableRead: true
///     provider:
///       filestore: { fileMode: "0666", dirMode: "0766" }
/// namespaceDefaults:
///   archival:
///     history: { state: "enabled", URI: "file:///tmp/temporal_archival/development" }
/// "#)?;
/// assert_eq!(config.history.state, ArchivalState::Enabled);
/// assert!(config.target(ArchivalTarget::History).read_enabled());
/// assert_eq!(config.history.provider.filestore.unwrap().dir_mode, 0o766);
/// # Ok::<(), archiver_core::Error>(())
/// ```
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ArchivalConfig {
    /// `archival.history`.
    pub history: TargetArchivalConfig,
    /// `archival.visibility`.
    pub visibility: TargetArchivalConfig,
    /// `namespaceDefaults.archival`: what new namespaces get.
    pub namespace_defaults: NamespaceDefaults,
}

/// What is archived: a workflow's history, or its visibility record.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ArchivalTarget {
    /// Workflow histories.
    History,
    /// Visibility records.
    Visibility,
}

impl ArchivalTarget {
    /// `"history"` or `"visibility"`: the YAML key.
    pub fn as_str(self) -> &'static str {
        match self {
            ArchivalTarget::History => "history",
            ArchivalTarget::Visibility => "visibility",
        }
    }
}

impl fmt::Display for ArchivalTarget {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// `archival.history` or `archival.visibility`.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct TargetArchivalConfig {
    /// `state`: whether the cluster archives this target.
    pub state: ArchivalState,
    /// `enableRead`: whether archives may be read back (only when `state` is enabled).
    pub enable_read: bool,
    /// `provider`: one section per storage backend that may be used.
    pub provider: ProviderConfig,
}

impl TargetArchivalConfig {
    /// A target in `state`, with reads off and no providers.
    pub fn new(state: ArchivalState) -> Self {
        TargetArchivalConfig {
            state,
            ..TargetArchivalConfig::default()
        }
    }

    /// Sets `enableRead`.
    pub fn with_enable_read(mut self, enable_read: bool) -> Self {
        self.enable_read = enable_read;
        self
    }

    /// Sets `provider`.
    pub fn with_provider(mut self, provider: ProviderConfig) -> Self {
        self.provider = provider;
        self
    }

    /// Whether the cluster archives this target (Temporal's `ClusterConfiguredForArchival`).
    pub fn cluster_enabled(&self) -> bool {
        self.state == ArchivalState::Enabled
    }

    /// Whether archives may be read: `enableRead` on a cluster that archives this target.
    pub fn read_enabled(&self) -> bool {
        self.cluster_enabled() && self.enable_read
    }
}

/// The cluster-level `state` of a target.
///
/// Parsed like Temporal: trimmed, case-insensitive, `""` meaning disabled. `paused` is accepted
/// and, as in Temporal, behaves like disabled.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum ArchivalState {
    /// `"disabled"` or `""`.
    #[default]
    Disabled,
    /// `"paused"` (not implemented by Temporal either: nothing is archived).
    Paused,
    /// `"enabled"`.
    Enabled,
}

impl ArchivalState {
    /// The canonical YAML spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            ArchivalState::Disabled => "disabled",
            ArchivalState::Paused => "paused",
            ArchivalState::Enabled => "enabled",
        }
    }
}

impl FromStr for ArchivalState {
    type Err = String;

    /// Parses a cluster state; the error is the reason, for the caller to name the key.
    fn from_str(s: &str) -> std::result::Result<Self, String> {
        match s.trim().to_ascii_lowercase().as_str() {
            "" | "disabled" => Ok(ArchivalState::Disabled),
            "paused" => Ok(ArchivalState::Paused),
            "enabled" => Ok(ArchivalState::Enabled),
            _ => Err(format!(
                "invalid archival state {s:?} for the cluster; valid states are \"\", \"disabled\", \"paused\", \"enabled\""
            )),
        }
    }
}

impl ArchivalConfig {
    /// Reads the `archival:` and `namespaceDefaults:` sections of a Temporal server config
    /// (everything else in the document is ignored), then [`validate`](Self::validate)s them.
    ///
    /// Errors are [`Error::InvalidConfig`] naming the key, or the key `<document>` with the
    /// line and column when the YAML itself does not parse.
    pub fn from_yaml(yaml: &str) -> Result<Self> {
        let config = super::yaml::parse(yaml)?;
        config.validate()?;
        Ok(config)
    }

    /// Sets `archival.history`.
    pub fn with_history(mut self, history: TargetArchivalConfig) -> Self {
        self.history = history;
        self
    }

    /// Sets `archival.visibility`.
    pub fn with_visibility(mut self, visibility: TargetArchivalConfig) -> Self {
        self.visibility = visibility;
        self
    }

    /// Sets `namespaceDefaults.archival`.
    pub fn with_namespace_defaults(mut self, defaults: NamespaceDefaults) -> Self {
        self.namespace_defaults = defaults;
        self
    }

    /// The cluster config of `target`.
    pub fn target(&self, target: ArchivalTarget) -> &TargetArchivalConfig {
        match target {
            ArchivalTarget::History => &self.history,
            ArchivalTarget::Visibility => &self.visibility,
        }
    }

    /// The namespace defaults of `target`.
    pub fn namespace_default(&self, target: ArchivalTarget) -> &NamespaceDefault {
        match target {
            ArchivalTarget::History => &self.namespace_defaults.history,
            ArchivalTarget::Visibility => &self.namespace_defaults.visibility,
        }
    }

    /// Checks the rules that span keys, for history then visibility:
    ///
    /// - provider sections are well-formed (modes at most `0o7777`, an S3 region);
    /// - a namespace default state of `enabled` needs the cluster state `enabled`;
    /// - a cluster state of `enabled` needs a namespace default URI (Temporal requires it too:
    ///   a namespace that enables archival without a URI gets this one);
    /// - a namespace default URI needs the provider section of its scheme;
    /// - a `file://` default URI names a directory the file store can use
    ///   ([`ArchiveUri::file_directory`](crate::ArchiveUri::file_directory)), so a URI that would
    ///   fail on first use fails here, naming its key.
    ///
    /// Unlike Temporal, a disabled target may keep its provider sections and default URI, so
    /// archival can be switched off without deleting its settings.
    pub fn validate(&self) -> Result<()> {
        for target in [ArchivalTarget::History, ArchivalTarget::Visibility] {
            self.validate_target(target)?;
        }
        Ok(())
    }

    fn validate_target(&self, target: ArchivalTarget) -> Result<(), Error> {
        let cluster = self.target(target);
        let default = self.namespace_default(target);
        let cluster_key = format!("archival.{target}");
        let default_key = format!("namespaceDefaults.archival.{target}");
        cluster
            .provider
            .validate(&format!("{cluster_key}.provider"))?;
        if default.state == NamespaceArchivalState::Enabled && !cluster.cluster_enabled() {
            return Err(invalid(
                format!("{default_key}.state"),
                format!(
                    "namespaces cannot default to enabled archival while {cluster_key}.state is {:?}",
                    cluster.state.as_str()
                ),
            ));
        }
        if let Some(uri) = &default.uri
            && uri.scheme() == "file"
        {
            uri.file_directory()
                .map_err(|e| invalid_uri(&format!("{default_key}.URI"), e))?;
        }
        match &default.uri {
            None if cluster.cluster_enabled() => Err(invalid(
                format!("{default_key}.URI"),
                format!("is required when {cluster_key}.state is \"enabled\""),
            )),
            Some(uri) if !cluster.provider.has_section(uri.scheme()) => Err(invalid(
                format!(
                    "{cluster_key}.provider.{}",
                    ProviderConfig::section_key(uri.scheme())
                ),
                format!(
                    "is missing, but {default_key}.URI {} uses scheme {:?}",
                    uri.redacted(),
                    uri.scheme()
                ),
            )),
            _ => Ok(()),
        }
    }
}

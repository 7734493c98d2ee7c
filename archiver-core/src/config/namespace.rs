//! Namespace-level archival: the cluster's defaults for new namespaces, the state machine that
//! applies a namespace's archival settings (Temporal's `archival_config_state_machine.go`), and
//! the retention rule.

use std::str::FromStr;
use std::time::Duration;

use crate::{ArchiveUri, Error, Result};

/// `namespaceDefaults.archival`: the archival settings a new namespace starts with.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct NamespaceDefaults {
    /// `namespaceDefaults.archival.history`.
    pub history: NamespaceDefault,
    /// `namespaceDefaults.archival.visibility`.
    pub visibility: NamespaceDefault,
}

/// The default state and URI of one target (`state`, `URI` in YAML).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct NamespaceDefault {
    /// `state`.
    pub state: NamespaceArchivalState,
    /// `URI`: where namespaces that enable archival without a URI archive to.
    pub uri: Option<ArchiveUri>,
}

impl NamespaceDefault {
    /// A default of `state` and `uri`.
    pub fn new(state: NamespaceArchivalState, uri: Option<ArchiveUri>) -> Self {
        NamespaceDefault { state, uri }
    }
}

/// Whether a namespace archives a target.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum NamespaceArchivalState {
    /// Not archiving (Temporal's `ARCHIVAL_STATE_DISABLED`; also `""` in config).
    #[default]
    Disabled,
    /// Archiving (`ARCHIVAL_STATE_ENABLED`).
    Enabled,
}

impl FromStr for NamespaceArchivalState {
    type Err = String;

    /// Trimmed and case-insensitive: `""`, `"disabled"` or `"enabled"` (no `paused` here).
    fn from_str(s: &str) -> std::result::Result<Self, String> {
        match s.trim().to_ascii_lowercase().as_str() {
            "" | "disabled" => Ok(NamespaceArchivalState::Disabled),
            "enabled" => Ok(NamespaceArchivalState::Enabled),
            _ => Err(format!(
                "invalid archival state {s:?} for namespaces; valid states are \"\", \"disabled\", \"enabled\""
            )),
        }
    }
}

/// A namespace's archival setting for one target. Enabled always has a URI (Temporal's one
/// invalid state, enabled without a URI, cannot be built), and once a URI is set it never
/// changes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NamespaceArchival {
    /// Archiving to `uri`.
    Enabled {
        /// Where to archive.
        uri: ArchiveUri,
    },
    /// Not archiving; `uri` stays once it was set.
    Disabled {
        /// The URI set earlier, if any.
        uri: Option<ArchiveUri>,
    },
}

impl Default for NamespaceArchival {
    fn default() -> Self {
        NamespaceArchival::never_enabled()
    }
}

/// A change requested for a namespace's archival (on register or update).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NamespaceArchivalEvent {
    /// The cluster's default URI for the target, used when enabling without a URI.
    pub default_uri: ArchiveUri,
    /// The URI asked for, if any.
    pub uri: Option<ArchiveUri>,
    /// The state asked for; `None` is Temporal's `UNSPECIFIED`.
    pub state: Option<NamespaceArchivalState>,
}

/// The outcome of [`NamespaceArchival::apply`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NamespaceArchivalTransition {
    /// The setting to store.
    pub next: NamespaceArchival,
    /// Whether it differs from the current one.
    pub changed: bool,
}

impl NamespaceArchival {
    /// Disabled with no URI: a namespace that never archived.
    pub fn never_enabled() -> Self {
        NamespaceArchival::Disabled { uri: None }
    }

    /// The state.
    pub fn state(&self) -> NamespaceArchivalState {
        match self {
            NamespaceArchival::Enabled { .. } => NamespaceArchivalState::Enabled,
            NamespaceArchival::Disabled { .. } => NamespaceArchivalState::Disabled,
        }
    }

    /// The URI, if one was ever set.
    pub fn uri(&self) -> Option<&ArchiveUri> {
        match self {
            NamespaceArchival::Enabled { uri } => Some(uri),
            NamespaceArchival::Disabled { uri } => uri.as_ref(),
        }
    }

    /// Applies `event` with Temporal's rules:
    ///
    /// - A set URI is immutable: an event with another URI is an
    ///   [`Error::InvalidRequest`] on field `archival_uri`.
    /// - Enabled: only a `Disabled` event changes anything (to disabled, same URI).
    /// - Disabled with a URI: only an `Enabled` event changes anything (to enabled, same URI).
    /// - Never enabled: `Enabled` takes the event's URI, or else the default URI; `Disabled` or
    ///   unspecified with a URI records that URI, still disabled; anything else is no change.
    ///
    /// Before storing the result, check its [`uri`](Self::uri) with the provider's
    /// `validate_uri` (Temporal validates every non-empty resulting URI).
    pub fn apply(&self, event: &NamespaceArchivalEvent) -> Result<NamespaceArchivalTransition> {
        use NamespaceArchivalState::{Disabled, Enabled};
        if let (Some(current), Some(asked)) = (self.uri(), &event.uri)
            && current != asked
        {
            return Err(Error::invalid_request(
                "archival_uri",
                format!(
                    "cannot update the existing archival URI {} to {}",
                    current.redacted(),
                    asked.redacted()
                ),
            ));
        }
        let next = match (self, event.state, &event.uri) {
            (NamespaceArchival::Enabled { uri }, Some(Disabled), _) => {
                NamespaceArchival::Disabled {
                    uri: Some(uri.clone()),
                }
            }
            (NamespaceArchival::Disabled { uri: Some(uri) }, Some(Enabled), _) => {
                NamespaceArchival::Enabled { uri: uri.clone() }
            }
            (NamespaceArchival::Disabled { uri: None }, Some(Enabled), asked) => {
                NamespaceArchival::Enabled {
                    uri: asked.as_ref().unwrap_or(&event.default_uri).clone(),
                }
            }
            (NamespaceArchival::Disabled { uri: None }, Some(Disabled) | None, Some(asked)) => {
                NamespaceArchival::Disabled {
                    uri: Some(asked.clone()),
                }
            }
            _ => self.clone(),
        };
        let changed = next != *self;
        Ok(NamespaceArchivalTransition { next, changed })
    }
}

/// How long a namespace keeps closed workflows before deleting them (and their archival tasks
/// run before that). Between one and thirty days; two days when not set.
///
/// ```
/// use archiver_core::config::namespace::NamespaceRetention;
/// assert_eq!(NamespaceRetention::default().days(), 2);
/// assert!(NamespaceRetention::from_days(0).is_err());
/// assert!(NamespaceRetention::from_days(31).is_err());
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct NamespaceRetention(Duration);

const DAY: Duration = Duration::from_secs(24 * 60 * 60);

impl NamespaceRetention {
    /// The retention of a namespace registered without one: two days.
    pub const DEFAULT: NamespaceRetention = NamespaceRetention(DAY.saturating_mul(2));
    /// The shortest retention allowed: one day.
    pub const MIN: Duration = DAY;
    /// The longest retention allowed: thirty days.
    pub const MAX: Duration = DAY.saturating_mul(30);

    /// A retention of `period`, or [`Error::InvalidRequest`] on field `retention` when it is
    /// shorter than [`MIN`](Self::MIN) (zero included) or longer than [`MAX`](Self::MAX).
    pub fn new(period: Duration) -> Result<Self> {
        if (Self::MIN..=Self::MAX).contains(&period) {
            Ok(NamespaceRetention(period))
        } else {
            Err(Error::invalid_request(
                "retention",
                format!(
                    "must be between 1 and 30 days, got {:.2} days",
                    period.as_secs_f64() / DAY.as_secs_f64()
                ),
            ))
        }
    }

    /// A retention of `days` whole days (see [`new`](Self::new)).
    pub fn from_days(days: u32) -> Result<Self> {
        Self::new(DAY.saturating_mul(days))
    }

    /// The period.
    pub fn as_duration(self) -> Duration {
        self.0
    }

    /// The period in whole days, rounded down.
    pub fn days(self) -> u64 {
        self.0.as_secs() / DAY.as_secs()
    }
}

impl Default for NamespaceRetention {
    fn default() -> Self {
        NamespaceRetention::DEFAULT
    }
}

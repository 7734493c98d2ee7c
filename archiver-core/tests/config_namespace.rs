//! The namespace archival state machine (every row of Temporal's table) and the retention rule.

use std::time::Duration;

use archiver_core::config::NamespaceArchivalState::{self, Disabled, Enabled};
use archiver_core::config::namespace::{
    NamespaceArchival, NamespaceArchivalEvent, NamespaceRetention,
};
use archiver_core::{ArchiveUri, Error};

fn uri(s: &str) -> ArchiveUri {
    s.parse().unwrap()
}

const DEFAULT: &str = "file:///default";
const SET: &str = "file:///set";
const OTHER: &str = "file:///other";

fn event(state: Option<NamespaceArchivalState>, asked: Option<&str>) -> NamespaceArchivalEvent {
    NamespaceArchivalEvent {
        default_uri: uri(DEFAULT),
        uri: asked.map(uri),
        state,
    }
}

fn enabled(u: &str) -> NamespaceArchival {
    NamespaceArchival::Enabled { uri: uri(u) }
}

fn disabled(u: Option<&str>) -> NamespaceArchival {
    NamespaceArchival::Disabled { uri: u.map(uri) }
}

/// A current state, the event's state and URI, the expected next state, whether it changed.
type Row = (
    NamespaceArchival,
    Option<NamespaceArchivalState>,
    Option<&'static str>,
    NamespaceArchival,
    bool,
);

/// Temporal's three valid states times its six event shapes (event URI equal to the state's
/// URI where one is set), each with the expected next state and `changed` flag.
#[test]
fn every_row_of_the_transition_table() {
    let rows: Vec<Row> = vec![
        // {enabled, uri}: only a disable changes it, keeping the URI.
        (enabled(SET), Some(Enabled), Some(SET), enabled(SET), false),
        (enabled(SET), Some(Enabled), None, enabled(SET), false),
        (
            enabled(SET),
            Some(Disabled),
            Some(SET),
            disabled(Some(SET)),
            true,
        ),
        (
            enabled(SET),
            Some(Disabled),
            None,
            disabled(Some(SET)),
            true,
        ),
        (enabled(SET), None, Some(SET), enabled(SET), false),
        (enabled(SET), None, None, enabled(SET), false),
        // {disabled, uri}: only an enable changes it, keeping the URI.
        (
            disabled(Some(SET)),
            Some(Enabled),
            Some(SET),
            enabled(SET),
            true,
        ),
        (disabled(Some(SET)), Some(Enabled), None, enabled(SET), true),
        (
            disabled(Some(SET)),
            Some(Disabled),
            Some(SET),
            disabled(Some(SET)),
            false,
        ),
        (
            disabled(Some(SET)),
            Some(Disabled),
            None,
            disabled(Some(SET)),
            false,
        ),
        (
            disabled(Some(SET)),
            None,
            Some(SET),
            disabled(Some(SET)),
            false,
        ),
        (disabled(Some(SET)), None, None, disabled(Some(SET)), false),
        // {disabled, ""}: the event's URI (or the default, when enabling) is taken.
        (
            disabled(None),
            Some(Enabled),
            Some(OTHER),
            enabled(OTHER),
            true,
        ),
        (disabled(None), Some(Enabled), None, enabled(DEFAULT), true),
        (
            disabled(None),
            Some(Disabled),
            Some(OTHER),
            disabled(Some(OTHER)),
            true,
        ),
        (disabled(None), Some(Disabled), None, disabled(None), false),
        (
            disabled(None),
            None,
            Some(OTHER),
            disabled(Some(OTHER)),
            true,
        ),
        (disabled(None), None, None, disabled(None), false),
    ];
    for (current, state, asked, want, want_changed) in rows {
        let got = current
            .apply(&event(state, asked))
            .unwrap_or_else(|e| panic!("{current:?} + {state:?}/{asked:?}: {e}"));
        assert_eq!(got.next, want, "{current:?} + {state:?}/{asked:?}");
        assert_eq!(
            got.changed, want_changed,
            "{current:?} + {state:?}/{asked:?}"
        );
    }
}

/// Once set, a URI never changes: every event naming another URI fails, whatever its state.
#[test]
fn a_set_uri_is_immutable() {
    for current in [enabled(SET), disabled(Some(SET))] {
        for state in [Some(Enabled), Some(Disabled), None] {
            match current.apply(&event(state, Some(OTHER))) {
                Err(Error::InvalidRequest {
                    field: "archival_uri",
                    reason,
                }) => {
                    assert!(reason.contains("cannot update"), "{reason}")
                }
                other => panic!("{current:?} + {state:?}/other: {other:?}"),
            }
        }
    }
    // Equal URIs compare as parsed values: the scheme's case does not matter.
    let same = enabled(SET)
        .apply(&event(Some(Enabled), Some("FILE:///set")))
        .unwrap();
    assert!(!same.changed);
}

#[test]
fn accessors_and_default() {
    assert_eq!(
        NamespaceArchival::default(),
        NamespaceArchival::never_enabled()
    );
    assert_eq!(NamespaceArchival::never_enabled().state(), Disabled);
    assert_eq!(NamespaceArchival::never_enabled().uri(), None);
    assert_eq!(enabled(SET).state(), Enabled);
    assert_eq!(disabled(Some(SET)).uri(), Some(&uri(SET)));
}

#[test]
fn namespace_states_parse_like_temporal() {
    assert_eq!("".parse::<NamespaceArchivalState>(), Ok(Disabled));
    assert_eq!(" Enabled ".parse::<NamespaceArchivalState>(), Ok(Enabled));
    assert_eq!("DISABLED".parse::<NamespaceArchivalState>(), Ok(Disabled));
    assert!("paused".parse::<NamespaceArchivalState>().is_err());
}

#[test]
fn retention_defaults_to_two_days_and_allows_one_to_thirty() {
    assert_eq!(
        NamespaceRetention::default().as_duration(),
        Duration::from_secs(2 * 86_400)
    );
    assert_eq!(NamespaceRetention::from_days(1).unwrap().days(), 1);
    assert_eq!(NamespaceRetention::from_days(30).unwrap().days(), 30);
    assert_eq!(
        NamespaceRetention::new(Duration::from_secs(36 * 3600))
            .unwrap()
            .as_duration(),
        Duration::from_secs(36 * 3600)
    );
    for bad in [
        Duration::ZERO,
        Duration::from_secs(86_399),
        Duration::from_secs(30 * 86_400 + 1),
    ] {
        assert!(
            matches!(
                NamespaceRetention::new(bad),
                Err(Error::InvalidRequest {
                    field: "retention",
                    ..
                })
            ),
            "{bad:?}"
        );
    }
    let zero = NamespaceRetention::from_days(0).unwrap_err();
    assert_eq!(
        zero.to_string(),
        "invalid request: retention must be between 1 and 30 days, got 0.00 days"
    );
    assert!(NamespaceRetention::from_days(u32::MAX).is_err());
}

//! The "history mutated" rule of Temporal's archivers, in one place for every provider.

use super::History;
use crate::{ArchiveHistoryRequest, Error, Result};

/// Checks a blob's last batch against what the engine said the history ends with.
///
/// The history was mutated when an event carries a version above the close failover version, or
/// when the final batch does not end exactly at `next_event_id - 1` with the close version.
/// Only the last blob (`is_last`) is checked for the end position.
pub fn check_history_mutated(
    request: &ArchiveHistoryRequest,
    last_batch: &History,
    is_last: bool,
) -> Result<()> {
    match last_batch.last_event() {
        Some(event) => check_last_event(request, event.event_id, event.version, is_last),
        None => Err(Error::HistoryMutated {
            reason: "a batch has no events".into(),
        }),
    }
}

pub(crate) fn check_last_event(
    request: &ArchiveHistoryRequest,
    last_event_id: i64,
    last_version: i64,
    is_last: bool,
) -> Result<()> {
    if last_version > request.close_failover_version {
        return Err(Error::HistoryMutated {
            reason: format!(
                "event {last_event_id} has version {last_version}, above the close failover version {}",
                request.close_failover_version
            ),
        });
    }
    if is_last
        && (last_version != request.close_failover_version
            || last_event_id.checked_add(1) != Some(request.next_event_id))
    {
        return Err(Error::HistoryMutated {
            reason: format!(
                "history ends at event {last_event_id} version {last_version}, expected event {} version {}",
                request.next_event_id - 1,
                request.close_failover_version
            ),
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::history::HistoryEvent;

    fn batch(event_id: i64, version: i64) -> History {
        History::new(vec![HistoryEvent {
            event_id,
            version,
            ..Default::default()
        }])
    }

    #[test]
    fn rule_of_ref_section_5() {
        let request = ArchiveHistoryRequest {
            next_event_id: 11,
            close_failover_version: 3,
            ..Default::default()
        };
        let mutated = |b: History, last| {
            matches!(
                check_history_mutated(&request, &b, last),
                Err(Error::HistoryMutated { .. })
            )
        };
        assert!(!mutated(batch(10, 3), true));
        assert!(
            !mutated(batch(5, 2), false),
            "middle blobs only check the version"
        );
        assert!(
            mutated(batch(5, 4), false),
            "a newer version anywhere is a mutation"
        );
        assert!(mutated(batch(9, 3), true), "history ends early");
        assert!(mutated(batch(11, 3), true), "history grew");
        assert!(mutated(batch(10, 2), true), "closed under another version");
        assert!(mutated(History::default(), false));
    }
}

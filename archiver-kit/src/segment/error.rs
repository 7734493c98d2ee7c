//! Why a segment cannot be written or read.

/// A segment error. None of them is helped by a retry: the input or the stored bytes are wrong.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SegmentError {
    /// The stored bytes are not a segment this version reads (damaged, truncated, foreign).
    #[error("corrupted segment: {0}")]
    Corrupted(String),
    /// The segment was written by a newer format version.
    #[error("segment format version {0} is not supported (this build reads version 1)")]
    UnsupportedVersion(u32),
    /// Records given to a writer were not in `CloseTime` order.
    #[error("records out of CloseTime order at row {row}: a segment's rows are sorted")]
    OutOfOrder {
        /// The row that came too early.
        row: usize,
    },
    /// A value cannot be written (a partition value too long for a path segment, say).
    #[error("invalid segment input: {0}")]
    InvalidInput(String),
}

impl SegmentError {
    /// Whether retrying can help: never, for a segment.
    pub fn is_retryable(&self) -> bool {
        false
    }

    pub(super) fn corrupted(reason: impl Into<String>) -> SegmentError {
        SegmentError::Corrupted(reason.into())
    }
}

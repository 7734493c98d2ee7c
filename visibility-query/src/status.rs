//! Temporal's workflow execution status enum.

use std::fmt;
use std::str::FromStr;

/// Temporal's `WorkflowExecutionStatus`, numbered as in the protobuf enum.
///
/// ```
/// use visibility_query::ExecutionStatus;
/// let s: ExecutionStatus = "continued_as_new".parse().unwrap();
/// assert_eq!(s, ExecutionStatus::ContinuedAsNew);
/// assert_eq!(s.as_i32(), 6);
/// assert_eq!(s.to_string(), "ContinuedAsNew");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub enum ExecutionStatus {
    /// 0: not set (protobuf's zero value, hence the `Default`).
    #[default]
    Unspecified,
    /// 1: open.
    Running,
    /// 2: closed successfully.
    Completed,
    /// 3: closed with a failure.
    Failed,
    /// 4: closed by cancellation.
    Canceled,
    /// 5: closed by termination.
    Terminated,
    /// 6: closed and continued as a new run.
    ContinuedAsNew,
    /// 7: closed by a timeout.
    TimedOut,
    /// 8: paused (newer servers).
    Paused,
}

impl ExecutionStatus {
    /// Every status, in protobuf order.
    pub const ALL: [ExecutionStatus; 9] = [
        Self::Unspecified,
        Self::Running,
        Self::Completed,
        Self::Failed,
        Self::Canceled,
        Self::Terminated,
        Self::ContinuedAsNew,
        Self::TimedOut,
        Self::Paused,
    ];

    /// The protobuf number.
    pub fn as_i32(self) -> i32 {
        self as i32
    }

    /// The status with this protobuf number.
    pub fn from_i32(n: i32) -> Option<Self> {
        usize::try_from(n)
            .ok()
            .and_then(|i| Self::ALL.get(i).copied())
    }

    /// The PascalCase name Temporal uses in visibility (`"Completed"`).
    pub fn name(self) -> &'static str {
        match self {
            Self::Unspecified => "Unspecified",
            Self::Running => "Running",
            Self::Completed => "Completed",
            Self::Failed => "Failed",
            Self::Canceled => "Canceled",
            Self::Terminated => "Terminated",
            Self::ContinuedAsNew => "ContinuedAsNew",
            Self::TimedOut => "TimedOut",
            Self::Paused => "Paused",
        }
    }
}

impl fmt::Display for ExecutionStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// The error of [`ExecutionStatus::from_str`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid ExecutionStatus value '{0}'")]
pub struct ParseStatusError(pub String);

impl FromStr for ExecutionStatus {
    type Err = ParseStatusError;

    /// Accepts the PascalCase name, the SCREAMING or protobuf name
    /// (`WORKFLOW_EXECUTION_STATUS_COMPLETED`), the lower-case spellings of the
    /// old archivers (`continuedasnew`, `timed_out`) and the number.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        if let Some(exact) = Self::ALL.into_iter().find(|st| st.name() == s) {
            return Ok(exact);
        }
        let err = || ParseStatusError(s.to_owned());
        let t = s.trim();
        if !t.is_empty() && t.bytes().all(|b| b.is_ascii_digit()) {
            return t.parse().ok().and_then(Self::from_i32).ok_or_else(err);
        }
        let t = strip_prefix_ignore_case(t, "WORKFLOW_EXECUTION_STATUS_").unwrap_or(t);
        // Underscores and case are the only differences between the spellings
        // in use, so compare on letters alone.
        let letters = t.bytes().filter(|&b| b != b'_');
        let found = Self::ALL.into_iter().find(|st| {
            let mut name = st.name().bytes();
            let mut l = letters.clone();
            loop {
                match (name.next(), l.next()) {
                    (None, None) => return true,
                    (Some(a), Some(b)) if a.eq_ignore_ascii_case(&b) => {}
                    _ => return false,
                }
            }
        });
        found.ok_or_else(err)
    }
}

fn strip_prefix_ignore_case<'a>(s: &'a str, prefix: &str) -> Option<&'a str> {
    let head = s.get(..prefix.len())?;
    head.eq_ignore_ascii_case(prefix)
        .then(|| &s[prefix.len()..])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spellings() {
        for (text, want) in [
            ("Completed", ExecutionStatus::Completed),
            ("COMPLETED", ExecutionStatus::Completed),
            ("completed", ExecutionStatus::Completed),
            (
                "WORKFLOW_EXECUTION_STATUS_COMPLETED",
                ExecutionStatus::Completed,
            ),
            ("2", ExecutionStatus::Completed),
            ("continuedasnew", ExecutionStatus::ContinuedAsNew),
            ("CONTINUED_AS_NEW", ExecutionStatus::ContinuedAsNew),
            ("TIMED_OUT", ExecutionStatus::TimedOut),
            ("Timedout", ExecutionStatus::TimedOut),
            ("0", ExecutionStatus::Unspecified),
            ("8", ExecutionStatus::Paused),
        ] {
            assert_eq!(text.parse::<ExecutionStatus>(), Ok(want), "{text}");
        }
        for bad in [
            "",
            "9",
            "-1",
            "Invalid",
            "Complete",
            "Completedd",
            "WORKFLOW_EXECUTION_STATUS_",
        ] {
            assert!(bad.parse::<ExecutionStatus>().is_err(), "{bad}");
        }
    }

    #[test]
    fn numbers_round_trip() {
        for s in ExecutionStatus::ALL {
            assert_eq!(ExecutionStatus::from_i32(s.as_i32()), Some(s));
            assert_eq!(s.name().parse::<ExecutionStatus>(), Ok(s));
        }
        assert_eq!(ExecutionStatus::from_i32(9), None);
    }
}

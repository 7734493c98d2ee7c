//! `temporal.api.enums.v1.EventType`, with protojson's canonical names and Temporal's lenient
//! reading (legacy CamelCase names, numbers).

use std::fmt;

macro_rules! event_types {
    ($($number:literal => $variant:ident = $name:literal,)*) => {
        /// The type of a history event.
        ///
        /// Written as the canonical protojson name (`"EVENT_TYPE_WORKFLOW_EXECUTION_STARTED"`); read
        /// from that, from the legacy CamelCase name without prefix (`"WorkflowExecutionStarted"`)
        /// or from the enum number.
        #[derive(Debug, Clone, PartialEq, Eq, Hash, Default)]
        #[non_exhaustive]
        pub enum EventType {
            /// `EVENT_TYPE_UNSPECIFIED` (0): the zero value, omitted when written.
            #[default]
            Unspecified,
            $(
                #[doc = concat!("`EVENT_TYPE_", $name, "` (", $number, ").")]
                $variant,
            )*
            /// A type newer than this crate, kept by its canonical name (`EVENT_TYPE_…`).
            Other(String),
        }

        impl EventType {
            /// The canonical protojson name, e.g. `"EVENT_TYPE_TIMER_FIRED"`.
            pub fn name(&self) -> &str {
                match self {
                    EventType::Unspecified => "EVENT_TYPE_UNSPECIFIED",
                    $(EventType::$variant => concat!("EVENT_TYPE_", $name),)*
                    EventType::Other(name) => name,
                }
            }

            /// The type with enum number `number`, if this crate knows it.
            pub fn from_number(number: i64) -> Option<Self> {
                match number {
                    0 => Some(EventType::Unspecified),
                    $($number => Some(EventType::$variant),)*
                    _ => None,
                }
            }

            fn from_canonical(name: &str) -> Self {
                match name {
                    "EVENT_TYPE_UNSPECIFIED" => EventType::Unspecified,
                    $(concat!("EVENT_TYPE_", $name) => EventType::$variant,)*
                    other => EventType::Other(other.to_owned()),
                }
            }
        }
    };
}

event_types! {
    1 => WorkflowExecutionStarted = "WORKFLOW_EXECUTION_STARTED",
    2 => WorkflowExecutionCompleted = "WORKFLOW_EXECUTION_COMPLETED",
    3 => WorkflowExecutionFailed = "WORKFLOW_EXECUTION_FAILED",
    4 => WorkflowExecutionTimedOut = "WORKFLOW_EXECUTION_TIMED_OUT",
    5 => WorkflowTaskScheduled = "WORKFLOW_TASK_SCHEDULED",
    6 => WorkflowTaskStarted = "WORKFLOW_TASK_STARTED",
    7 => WorkflowTaskCompleted = "WORKFLOW_TASK_COMPLETED",
    8 => WorkflowTaskTimedOut = "WORKFLOW_TASK_TIMED_OUT",
    9 => WorkflowTaskFailed = "WORKFLOW_TASK_FAILED",
    10 => ActivityTaskScheduled = "ACTIVITY_TASK_SCHEDULED",
    11 => ActivityTaskStarted = "ACTIVITY_TASK_STARTED",
    12 => ActivityTaskCompleted = "ACTIVITY_TASK_COMPLETED",
    13 => ActivityTaskFailed = "ACTIVITY_TASK_FAILED",
    14 => ActivityTaskTimedOut = "ACTIVITY_TASK_TIMED_OUT",
    15 => ActivityTaskCancelRequested = "ACTIVITY_TASK_CANCEL_REQUESTED",
    16 => ActivityTaskCanceled = "ACTIVITY_TASK_CANCELED",
    17 => TimerStarted = "TIMER_STARTED",
    18 => TimerFired = "TIMER_FIRED",
    19 => TimerCanceled = "TIMER_CANCELED",
    20 => WorkflowExecutionCancelRequested = "WORKFLOW_EXECUTION_CANCEL_REQUESTED",
    21 => WorkflowExecutionCanceled = "WORKFLOW_EXECUTION_CANCELED",
    22 => RequestCancelExternalWorkflowExecutionInitiated = "REQUEST_CANCEL_EXTERNAL_WORKFLOW_EXECUTION_INITIATED",
    23 => RequestCancelExternalWorkflowExecutionFailed = "REQUEST_CANCEL_EXTERNAL_WORKFLOW_EXECUTION_FAILED",
    24 => ExternalWorkflowExecutionCancelRequested = "EXTERNAL_WORKFLOW_EXECUTION_CANCEL_REQUESTED",
    25 => MarkerRecorded = "MARKER_RECORDED",
    26 => WorkflowExecutionSignaled = "WORKFLOW_EXECUTION_SIGNALED",
    27 => WorkflowExecutionTerminated = "WORKFLOW_EXECUTION_TERMINATED",
    28 => WorkflowExecutionContinuedAsNew = "WORKFLOW_EXECUTION_CONTINUED_AS_NEW",
    29 => StartChildWorkflowExecutionInitiated = "START_CHILD_WORKFLOW_EXECUTION_INITIATED",
    30 => StartChildWorkflowExecutionFailed = "START_CHILD_WORKFLOW_EXECUTION_FAILED",
    31 => ChildWorkflowExecutionStarted = "CHILD_WORKFLOW_EXECUTION_STARTED",
    32 => ChildWorkflowExecutionCompleted = "CHILD_WORKFLOW_EXECUTION_COMPLETED",
    33 => ChildWorkflowExecutionFailed = "CHILD_WORKFLOW_EXECUTION_FAILED",
    34 => ChildWorkflowExecutionCanceled = "CHILD_WORKFLOW_EXECUTION_CANCELED",
    35 => ChildWorkflowExecutionTimedOut = "CHILD_WORKFLOW_EXECUTION_TIMED_OUT",
    36 => ChildWorkflowExecutionTerminated = "CHILD_WORKFLOW_EXECUTION_TERMINATED",
    37 => SignalExternalWorkflowExecutionInitiated = "SIGNAL_EXTERNAL_WORKFLOW_EXECUTION_INITIATED",
    38 => SignalExternalWorkflowExecutionFailed = "SIGNAL_EXTERNAL_WORKFLOW_EXECUTION_FAILED",
    39 => ExternalWorkflowExecutionSignaled = "EXTERNAL_WORKFLOW_EXECUTION_SIGNALED",
    40 => UpsertWorkflowSearchAttributes = "UPSERT_WORKFLOW_SEARCH_ATTRIBUTES",
    41 => WorkflowExecutionUpdateAccepted = "WORKFLOW_EXECUTION_UPDATE_ACCEPTED",
    42 => WorkflowExecutionUpdateRejected = "WORKFLOW_EXECUTION_UPDATE_REJECTED",
    43 => WorkflowExecutionUpdateCompleted = "WORKFLOW_EXECUTION_UPDATE_COMPLETED",
    44 => WorkflowPropertiesModifiedExternally = "WORKFLOW_PROPERTIES_MODIFIED_EXTERNALLY",
    45 => ActivityPropertiesModifiedExternally = "ACTIVITY_PROPERTIES_MODIFIED_EXTERNALLY",
    46 => WorkflowPropertiesModified = "WORKFLOW_PROPERTIES_MODIFIED",
    47 => WorkflowExecutionUpdateAdmitted = "WORKFLOW_EXECUTION_UPDATE_ADMITTED",
}

const PREFIX: &str = "EVENT_TYPE_";

impl EventType {
    /// Reads a name leniently: canonical (`EVENT_TYPE_TIMER_FIRED`), canonical without prefix
    /// (`TIMER_FIRED`) or legacy CamelCase (`TimerFired`). Unknown names become
    /// [`EventType::Other`]; `None` for text that is no enum name at all.
    pub fn from_name(name: &str) -> Option<Self> {
        if name.is_empty() || !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
            return None;
        }
        if name.starts_with(PREFIX) {
            return Some(Self::from_canonical(name));
        }
        let mut canonical = String::with_capacity(PREFIX.len() + name.len() + 8);
        canonical.push_str(PREFIX);
        if name.contains('_') || name.chars().all(|c| !c.is_ascii_lowercase()) {
            canonical.push_str(&name.to_ascii_uppercase());
        } else {
            // Legacy CamelCase: a word starts at each upper-case letter.
            for (i, c) in name.chars().enumerate() {
                if i > 0 && c.is_ascii_uppercase() {
                    canonical.push('_');
                }
                canonical.push(c.to_ascii_uppercase());
            }
        }
        Some(Self::from_canonical(&canonical))
    }
}

impl fmt::Display for EventType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn all_spellings_agree() {
        for spelling in [
            "EVENT_TYPE_WORKFLOW_EXECUTION_STARTED",
            "WORKFLOW_EXECUTION_STARTED",
            "WorkflowExecutionStarted",
        ] {
            assert_eq!(
                EventType::from_name(spelling),
                Some(EventType::WorkflowExecutionStarted),
                "{spelling}"
            );
        }
        assert_eq!(
            EventType::from_name("RequestCancelExternalWorkflowExecutionInitiated"),
            Some(EventType::RequestCancelExternalWorkflowExecutionInitiated)
        );
        assert_eq!(EventType::from_number(18), Some(EventType::TimerFired));
        assert_eq!(EventType::from_number(9999), None);
        assert_eq!(EventType::from_name("not a name"), None);
    }

    #[test]
    fn unknown_types_are_kept_by_canonical_name() {
        let t = EventType::from_name("NexusOperationScheduled").unwrap();
        assert_eq!(
            t,
            EventType::Other("EVENT_TYPE_NEXUS_OPERATION_SCHEDULED".into())
        );
        assert_eq!(t.name(), "EVENT_TYPE_NEXUS_OPERATION_SCHEDULED");
    }
}

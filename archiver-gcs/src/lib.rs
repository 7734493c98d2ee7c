//! The `gs://` provider (under construction).

//! The `s3://` provider (under construction).

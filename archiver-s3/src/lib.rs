//! The `s3://` provider (under construction).

mod config;
mod error;
mod history;
mod location;
mod store;
mod validate;
mod visibility;

pub use config::{RetrySettings, S3Settings, Secret, StaticCredentials, TimeoutSettings};
pub use history::S3HistoryArchiver;
pub use store::S3Store;
pub use visibility::S3VisibilityArchiver;

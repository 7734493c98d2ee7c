//! Visibility records and the paging every provider shares.

mod paging;
mod record;

pub use paging::{compile_query, page_of};
pub use record::VisibilityRecord;

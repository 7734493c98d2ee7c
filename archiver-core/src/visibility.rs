//! Visibility records and the paging every provider shares.

mod cutoff;
mod paging;
mod record;

pub use cutoff::{PageCutoff, TimeOrder};
pub use paging::{compile_query, page_of};
pub use record::{MAX_MEMO_DEPTH, VisibilityRecord};

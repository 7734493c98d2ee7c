//! archiver: archive workflow histories and visibility records, query them back.
pub use archiver_core as core;
#[cfg(feature = "filestore")]
pub use archiver_filestore as filestore;
pub use visibility_query as query;

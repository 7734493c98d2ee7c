//! The history model (Temporal's `HistoryEvent` / `History` in protobuf-JSON shape), where
//! histories come from ([`HistorySource`]), how they are cut into blobs ([`HistoryIterator`]) and
//! encoded ([`encode_batch`], [`decode_batches`]), the history-mutated rule, and the archive loop
//! providers share ([`archive_staged`] over a provider's [`StagedArchive`]).

mod codec;
mod event;
mod event_type;
mod fields;
mod iterator;
mod mutated;
mod pager;
mod source;
mod staged;

pub use codec::{decode_batches, decode_batches_at, encode_batch, encode_batch_into};
pub use event::{History, HistoryEvent};
pub use event_type::EventType;
pub use fields::EventFields;
pub use iterator::{DEFAULT_TARGET_BLOB_SIZE, HistoryBlob, HistoryIterator, IteratorState};
pub use mutated::check_history_mutated;
pub use pager::HistoryPager;
pub use source::{HistoryPage, HistorySource, MemoryHistorySource, ReadHistoryRequest, RunKey};
pub use staged::{ArchiveRun, Put, StagedArchive, archive_staged};

//! [`ObjectStore`](crate::object::ObjectStore)s that are not a cloud service: in
//! memory ([`MemoryStore`]), and a local directory ([`LocalStore`]), so the machinery written
//! once over object stores runs on `memory://` and `file://` too.

mod local;
mod memory;

pub use local::LocalStore;
pub use memory::MemoryStore;

//! tair-common: what the six tair-modules would otherwise each write.
//!
//! - [`command`]: the lean command entry (borrowed byte-slice arguments, panic guard, error replies) and
//!   registration with flags, arity and key specs;
//! - [`ctx`]: replies, keys, replication, notifications;
//! - [`value`]: the data-type trait and its guarded callbacks;
//! - [`args`]: the argument cursor and Valkey's number syntax;
//! - [`rdb`]: typed, fallible RDB/AOF/digest IO;
//! - [`clock`], [`propagate`], [`guard`], [`load_args`], [`module`] (OnLoad and the allocator choice).

// Server handles (contexts, keys, strings) are raw pointers the server hands us and keeps valid for the
// call; wrapping every accessor in `unsafe fn` would only move the same promise to every call site.
#![allow(clippy::not_unsafe_ptr_arg_deref)]
#![cfg_attr(
    test,
    allow(clippy::unwrap_used, clippy::panic, clippy::indexing_slicing)
)]

pub mod alloc;
pub mod args;
pub mod clock;
pub mod command;
pub mod ctx;
pub mod error;
pub mod events;
pub mod ffi;
pub mod glob;
pub mod guard;
pub mod load_args;
pub mod log;
pub mod module;
pub mod propagate;
pub mod rdb;
pub mod string;
pub mod value;

pub use command::{CommandDef, KeyAccess, Keys, RO, RW};
pub use ctx::{BlockOnKeys, Ctx, Entry, ExactArray, KeyKind, Origin, ReadKey, Vacant, WriteKey};
pub use error::{CmdError, CmdResult};
pub use string::{Args, OwnedString, RawStr, Word};
pub use value::{DataType, ModuleValue};

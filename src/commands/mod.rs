//! The commands, one module each: `connect` (`wscope URL`: a REPL or pipe mode), `inspect` (the
//! handshake report), `probe` (a battery of checks of a server), `replay` (a recording sent
//! again), `listen` (a server whose clients run on the same session engine), `proxy` (a relay that
//! shows both sides, on the same engine), `bench` (load and latency)
//! and `completions`.
//! Each reads its clap arguments, asks [`crate::config`] for the checked configuration, and runs
//! the engine; [`crate::run`] picks one.

pub(crate) mod bench;
pub mod completions;
pub(crate) mod connect;
pub(crate) mod inspect;
pub(crate) mod listen;
pub(crate) mod probe;
pub(crate) mod proxy;
pub(crate) mod replay;

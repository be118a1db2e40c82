//! The WebSocket wire below the library, in both directions: the frame format and its decoder
//! ([`frame`]), close codes ([`close`]), frames built by hand for `/frame` and `probe`
//! ([`craft`]), the tap that copies raw bytes for `--dump` ([`tap`]), the dump's rendering
//! (`dump`, `hexdump`), and the [`guard`] that reads ahead of tungstenite (invalid UTF-8, the
//! real close code, reserved bits, over-limit messages, pongs it cannot send).

pub(crate) mod close;
pub(crate) mod craft;
pub(crate) mod dump;
pub mod frame;
pub mod guard;
pub(crate) mod h2dump;
pub mod header;
pub(crate) mod hexdump;
pub mod role;
pub(crate) mod tap;

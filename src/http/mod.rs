//! HTTP/1.1 as the WebSocket opening handshake needs it, in one place for every role: the header
//! list type ([`Headers`]) and the one reader of a message head ([`head::read`]) with its limits,
//! used for the server's answer to our upgrade, a client's request to `listen`, and a proxy's
//! answer to CONNECT.

pub mod head;
mod headers;

pub use head::{Head, HeadError, Kind, Start};
pub use headers::{list, Headers};

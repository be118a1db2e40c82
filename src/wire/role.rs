//! Which end of a connection we are: the vocabulary the wire (masking), permessage-deflate (whose
//! window is whose) and the session (who may send what) share.

/// Which end of the connection we are. One engine runs both; where the protocol treats the ends
/// differently (who masks, who may send what) or messages must name the other end, the role
/// decides.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    /// `wscope URL`: our connection to a server.
    Client,
    /// A client's connection to `wscope listen`.
    Server,
}

impl Role {
    /// The other end, as messages name it.
    pub fn peer(self) -> &'static str {
        match self {
            Role::Client => "server",
            Role::Server => "client",
        }
    }

    pub fn ws(self) -> tokio_tungstenite::tungstenite::protocol::Role {
        match self {
            Role::Client => tokio_tungstenite::tungstenite::protocol::Role::Client,
            Role::Server => tokio_tungstenite::tungstenite::protocol::Role::Server,
        }
    }
}

//! permessage-deflate (RFC 7692), which tungstenite 0.30 does not have: [`params`] negotiates it,
//! [`codec`] compresses and inflates.

pub mod codec;
pub mod params;

//! The integration tests, in one binary (one link, one run): each module spawns the real `wscope`
//! against servers it starts itself on 127.0.0.1 port 0 (see `support`).

mod support;

mod crafted;
mod deflate;
mod dump;
mod expect;
mod generated;
mod handshake;
mod lens;
mod listen;
mod liveness;
mod manners;
mod network;
mod probe;
mod reconnect;
mod record;
mod repl;
mod replay;
mod session;
mod terminal;
mod tls;
mod urls;
mod usage;

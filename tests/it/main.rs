//! The integration tests, in one binary (one link, one run): each module spawns the real `wscope`
//! against servers it starts itself on 127.0.0.1 port 0 (see `support`).

mod support;

mod bench;
mod crafted;
mod deflate;
mod dump;
mod expect;
mod generated;
mod handshake;
mod hostile_script;
mod hostile_session;
mod http2;
mod http2_hostile;
mod http2_listen;
mod lens;
mod listen;
mod listen_hostile;
mod liveness;
mod manners;
mod network;
mod polish;
mod probe;
mod probe_hostile;
mod reconnect;
mod record;
mod repl;
mod replay;
mod session;
mod terminal;
mod tls;
mod urls;
mod usage;
mod wire;

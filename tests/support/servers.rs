//! Well-behaved servers for tests: a recording tokio-tungstenite server, TLS with rcgen.

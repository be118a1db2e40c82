//! Dialing a server on a Unix domain socket (`ws+unix://` URLs): no DNS, no proxy, no TLS, just the
//! socket file. Failures name the path, since that is what the user got wrong.

use std::path::Path;

use super::BoxStream;
use crate::error::{Error, Result};

#[cfg(unix)]
pub async fn connect(path: &Path) -> Result<BoxStream> {
    tokio::net::UnixStream::connect(path)
        .await
        .map(|s| Box::new(s) as BoxStream)
        .map_err(|source| Error::Connect {
            addr: format!("Unix socket {}", path.display()),
            source,
        })
}

#[cfg(not(unix))]
pub async fn connect(path: &Path) -> Result<BoxStream> {
    Err(Error::usage(format!(
        "cannot connect to Unix socket {}: Unix sockets are not supported on this platform",
        path.display()
    )))
}

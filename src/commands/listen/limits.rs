//! listen's share of the system: each client holds one file descriptor, so the open-file limit is
//! how many clients it can hold. [`raise_open_files`] lifts the soft limit to the hard one at start
//! (the common default of 1024 would cap a test server at about a thousand clients), and
//! [`AcceptFailures`] keeps a limit that is reached anyway to one log line per burst of failures.

use std::time::Duration;

/// File descriptors kept for ourselves: stdio, the listener, the runtime, the output thread, a
/// `--record` file.
const RESERVED_FDS: u64 = 16;

/// How long accepting pauses after a failure, so a limit that holds does not spin the loop.
pub const ACCEPT_PAUSE: Duration = Duration::from_millis(100);

/// Raise the soft RLIMIT_NOFILE to the hard limit; the line that says how many clients fit.
pub fn raise_open_files() -> Option<String> {
    let mut lim = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: getrlimit and setrlimit write and read the struct we own, nothing else.
    if unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut lim) } != 0 {
        return None;
    }
    let before = lim.rlim_cur;
    if lim.rlim_max > lim.rlim_cur {
        let raised = libc::rlimit {
            rlim_cur: lim.rlim_max,
            rlim_max: lim.rlim_max,
        };
        // SAFETY: as above.
        if unsafe { libc::setrlimit(libc::RLIMIT_NOFILE, &raised) } == 0 {
            lim.rlim_cur = lim.rlim_max;
        }
    }
    let now = lim.rlim_cur;
    let clients = now.saturating_sub(RESERVED_FDS);
    Some(if now == libc::RLIM_INFINITY {
        "no open-file limit: clients are bounded by memory".to_string()
    } else if now > before {
        format!("open-file limit raised from {before} to {now}: room for about {clients} clients")
    } else {
        format!(
            "open-file limit {now}: room for about {clients} clients (raise the hard limit, ulimit -Hn, for more)"
        )
    })
}

/// Accept failures, counted per burst: the first one of a burst is reported, the rest are not,
/// until an accept succeeds again.
#[derive(Debug, Default)]
pub struct AcceptFailures {
    in_burst: u64,
}

impl AcceptFailures {
    /// An accept failed: the line to log, for the first failure of a burst only.
    pub fn failed(&mut self, e: &std::io::Error) -> Option<String> {
        self.in_burst += 1;
        if self.in_burst > 1 {
            return None;
        }
        let why = match e.raw_os_error() {
            Some(libc::EMFILE | libc::ENFILE) => {
                " (out of file descriptors: new clients wait until some leave)"
            }
            _ => "",
        };
        Some(format!("accepting a connection failed: {e}{why}"))
    }

    /// An accept worked: the burst, if any, is over.
    pub fn succeeded(&mut self) {
        self.in_burst = 0;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_line_per_burst() {
        let mut f = AcceptFailures::default();
        let emfile = std::io::Error::from_raw_os_error(libc::EMFILE);
        let first = f.failed(&emfile).unwrap();
        assert!(first.contains("out of file descriptors"), "{first}");
        assert_eq!(f.failed(&emfile), None);
        assert_eq!(f.failed(&emfile), None);
        f.succeeded();
        assert!(f.failed(&emfile).is_some());
    }
}

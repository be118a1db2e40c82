//! wscope on a pseudo-terminal, as a person at a terminal runs it: stdin, stdout and stderr are the
//! pty's slave side, and it leads a session with the pty as its controlling terminal.

use std::fs::File;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::os::unix::process::CommandExt;
use std::path::Path;
use std::process::{Child, Command, Stdio};

pub struct Spawned {
    /// The master side: read the screen from it, type into it.
    pub master: File,
    pub child: Child,
    /// The terminal's modes before wscope ran: what it must leave behind.
    pub initial: libc::termios,
}

/// Start wscope with `args` on a new 120x30 pty, in a scrubbed environment whose HOME and data
/// directory live under `home`.
pub fn spawn(args: &[&str], home: &Path) -> Spawned {
    let (mut master_fd, mut slave_fd) = (-1, -1);
    let size = libc::winsize {
        ws_row: 30,
        ws_col: 120,
        ws_xpixel: 0,
        ws_ypixel: 0,
    };
    // SAFETY: openpty fills the two fds; the name and termios arguments may be null.
    let rc = unsafe {
        libc::openpty(
            &mut master_fd,
            &mut slave_fd,
            std::ptr::null_mut(),
            std::ptr::null(),
            &size,
        )
    };
    assert_eq!(rc, 0, "openpty failed");
    // SAFETY: both fds were just opened and are owned here.
    let (master, slave) = unsafe { (File::from_raw_fd(master_fd), OwnedFd::from_raw_fd(slave_fd)) };
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_wscope"));
    cmd.args(args)
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("HOME", home)
        .env("XDG_DATA_HOME", home.join("data"))
        .env("TERM", "xterm")
        .env("NO_COLOR", "1")
        .stdin(Stdio::from(slave.try_clone().unwrap()))
        .stdout(Stdio::from(slave.try_clone().unwrap()))
        .stderr(Stdio::from(slave));
    // SAFETY: only async-signal-safe calls between fork and exec.
    unsafe {
        cmd.pre_exec(|| {
            // A session of its own with the pty as controlling terminal, like a shell gives it.
            if libc::setsid() < 0 {
                return Err(std::io::Error::last_os_error());
            }
            libc::ioctl(0, libc::TIOCSCTTY as _, 0);
            Ok(())
        });
    }
    // Read before the child exists: once it runs it may already be in raw mode.
    let initial = termios_of(&master);
    let child = cmd.spawn().expect("spawn wscope on the pty");
    Spawned {
        master,
        child,
        initial,
    }
}

/// The pty's current modes.
pub fn termios_of(fd: &File) -> libc::termios {
    // SAFETY: tcgetattr writes into the struct we own; on a pty master Linux reports the pair's
    // termios, which is what the program on the slave side changed.
    unsafe {
        let mut t: libc::termios = std::mem::zeroed();
        assert_eq!(libc::tcgetattr(fd.as_raw_fd(), &mut t), 0);
        t
    }
}

//! Colour and time decisions, made once. Colour is on when asked for, or when the human-readable
//! stream is a terminal and NO_COLOR is unset; data written to a pipe is never coloured.

use std::io::IsTerminal;
use std::time::{SystemTime, UNIX_EPOCH};

/// `--color WHEN`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ColorChoice {
    Auto,
    Always,
    Never,
}

/// Decide and install the colour setting for the whole process.
pub fn init_color(choice: ColorChoice, human_stream_is_stdout: bool) -> bool {
    let on = match choice {
        ColorChoice::Always => true,
        ColorChoice::Never => false,
        ColorChoice::Auto => {
            let no_color = std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty());
            let tty = if human_stream_is_stdout {
                std::io::stdout().is_terminal()
            } else {
                std::io::stderr().is_terminal()
            };
            tty && !no_color
        }
    };
    colored::control::set_override(on);
    on
}

/// Seconds since the Unix epoch, for JSON events.
pub fn unix_time() -> f64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs_f64())
        .unwrap_or(0.0)
}

/// The terminal's width in columns (stdout's, else stderr's), for text that wraps to it (`/help`);
/// None when neither is a terminal.
pub fn screen_width() -> Option<usize> {
    [libc::STDOUT_FILENO, libc::STDERR_FILENO]
        .into_iter()
        .find_map(|fd| {
            // SAFETY: TIOCGWINSZ writes a winsize into the struct we own; a non-terminal fd fails.
            let mut ws: libc::winsize = unsafe { std::mem::zeroed() };
            let ok = unsafe { libc::ioctl(fd, libc::TIOCGWINSZ, &mut ws) } == 0;
            (ok && ws.ws_col > 0).then_some(usize::from(ws.ws_col))
        })
}

/// Local wall-clock time as HH:MM:SS.mmm, for -T.
pub fn clock() -> String {
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default();
    let secs = now.as_secs() as libc::time_t;
    // SAFETY: localtime_r only writes into the tm we pass; a zeroed tm is a valid initial value.
    let mut tm: libc::tm = unsafe { std::mem::zeroed() };
    let ok = unsafe { !libc::localtime_r(&secs, &mut tm).is_null() };
    if !ok {
        return format!("{:.3}", now.as_secs_f64());
    }
    format!(
        "{:02}:{:02}:{:02}.{:03}",
        tm.tm_hour,
        tm.tm_min,
        tm.tm_sec,
        now.subsec_millis()
    )
}

//! Reading a `--script` file before connecting, by `/file`'s rule (SPEC.md "Limits and
//! liveness"): a file that could block or never end is refused, not read.

/// The most a `--script` file may hold.
pub const MAX_SCRIPT_BYTES: u64 = 1 << 20;

/// Read a `--script` file before connecting, by `/file`'s rule: a regular file only (a FIFO or
/// a device could block or never end), at most [`MAX_SCRIPT_BYTES`]. The error says why.
pub fn read_script(path: &std::path::Path) -> Result<String, String> {
    use std::io::Read;
    use std::os::unix::fs::OpenOptionsExt;
    // Non-blocking, so that opening a FIFO does not wait for a writer.
    let file = std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NONBLOCK)
        .open(path)
        .map_err(|e| format!("cannot read it: {e}"))?;
    let meta = file
        .metadata()
        .map_err(|e| format!("cannot read it: {e}"))?;
    if !meta.is_file() {
        return Err("it is not a regular file (a script is read whole before connecting)".into());
    }
    if meta.len() > MAX_SCRIPT_BYTES {
        return Err(format!(
            "it is {} bytes; a script may hold at most {} KiB",
            meta.len(),
            MAX_SCRIPT_BYTES >> 10
        ));
    }
    let mut text = String::new();
    file.take(MAX_SCRIPT_BYTES)
        .read_to_string(&mut text)
        .map_err(|e| format!("cannot read it: {e}"))?;
    Ok(text)
}

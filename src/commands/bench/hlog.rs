//! The round-trip histogram as an HdrHistogram interval log (`--hist FILE`: one compressed V2
//! histogram per second, values in microseconds, the format HdrHistogram's own tools read), and
//! `--merge`: the logs of several runs (several machines) added up, losslessly.

use std::io::{self, Write};
use std::path::Path;
use std::time::{Duration, SystemTime};

use base64::Engine;
use hdrhistogram::serialization::interval_log::{
    IntervalLogIterator, IntervalLogWriter, IntervalLogWriterBuilder, LogEntry,
};
use hdrhistogram::serialization::{Deserializer, V2DeflateSerializer};
use hdrhistogram::Histogram;

use super::stats::histogram;
use crate::error::{Error, Result};

/// The comment that says what the values are.
const UNITS: &str = "wscope bench: WebSocket round trips, values in microseconds";

/// Begin a log on `out`, whose intervals count from `start`.
pub fn begin<'a, 'b, W: Write>(
    out: &'a mut W,
    ser: &'b mut V2DeflateSerializer,
    start: SystemTime,
) -> io::Result<IntervalLogWriter<'a, 'b, W, V2DeflateSerializer>> {
    IntervalLogWriterBuilder::new()
        .add_comment(UNITS)
        .with_start_time(start)
        .with_base_time(start)
        .with_max_value_divisor(1000.0)
        .begin_log_with(out, ser)
}

/// Add one interval (`from` after the start, lasting `len`).
pub fn interval<W: Write>(
    log: &mut IntervalLogWriter<'_, '_, W, V2DeflateSerializer>,
    h: &Histogram<u64>,
    from: Duration,
    len: Duration,
) -> io::Result<()> {
    log.write_histogram(h, from, len, None)
        .map_err(|e| io::Error::other(format!("{e:?}")))
}

/// What the merged logs hold.
pub struct Merged {
    pub rtt: Histogram<u64>,
    pub intervals: u64,
    /// From the earliest interval's start to the latest one's end, per log, the longest.
    pub span: Duration,
}

/// Read and add up every interval of every log.
pub fn merge(files: &[std::path::PathBuf]) -> Result<Merged> {
    let mut merged = Merged {
        rtt: histogram(),
        intervals: 0,
        span: Duration::ZERO,
    };
    for f in files {
        read_one(f, &mut merged)?;
    }
    Ok(merged)
}

fn read_one(path: &Path, merged: &mut Merged) -> Result<()> {
    let shown = path.display().to_string();
    let bad = |why: String| {
        Error::usage_hint(
            format!("--merge {shown}: {why}"),
            "give files written by `wscope bench --hist FILE` (HdrHistogram interval logs)",
        )
    };
    let bytes =
        std::fs::read(path).map_err(|e| Error::io(format!("reading --merge {shown}"), e))?;
    let mut de = Deserializer::new();
    let mut span = Duration::ZERO;
    let mut seen = 0;
    for entry in IntervalLogIterator::new(&bytes) {
        let entry = entry.map_err(|e| bad(format!("not an interval log ({e:?})")))?;
        let LogEntry::Interval(h) = entry else {
            continue;
        };
        let raw = base64::engine::general_purpose::STANDARD
            .decode(h.encoded_histogram())
            .map_err(|e| bad(format!("interval {} is not base64 ({e})", seen + 1)))?;
        let one: Histogram<u64> = de
            .deserialize(&mut raw.as_slice())
            .map_err(|e| bad(format!("interval {} is not a histogram ({e:?})", seen + 1)))?;
        merged
            .rtt
            .add(&one)
            .map_err(|e| bad(format!("interval {} does not fit ({e:?})", seen + 1)))?;
        span = span.max(h.start_timestamp() + h.duration());
        seen += 1;
    }
    if seen == 0 {
        return Err(bad("no histogram intervals in it".into()));
    }
    merged.intervals += seen;
    merged.span = merged.span.max(span);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_log_written_reads_back_and_two_merge_to_the_sum() {
        let dir = tempfile::tempdir().unwrap();
        let mut paths = Vec::new();
        for (i, values) in [[100u64, 200, 300], [1000, 2000, 3000]].iter().enumerate() {
            let path = dir.path().join(format!("{i}.hlog"));
            let mut out = Vec::new();
            let mut ser = V2DeflateSerializer::new();
            {
                let mut log = begin(&mut out, &mut ser, SystemTime::now()).unwrap();
                for (s, v) in values.iter().enumerate() {
                    let mut h = histogram();
                    h.record(*v).unwrap();
                    let at = Duration::from_secs(s as u64);
                    interval(&mut log, &h, at, Duration::from_secs(1)).unwrap();
                }
            }
            std::fs::write(&path, out).unwrap();
            paths.push(path);
        }
        let m = merge(&paths).unwrap();
        assert_eq!(m.rtt.len(), 6);
        assert_eq!(m.intervals, 6);
        assert_eq!(m.rtt.max(), m.rtt.highest_equivalent(3000));
        assert_eq!(m.span, Duration::from_secs(3));
        let junk = dir.path().join("junk");
        std::fs::write(&junk, "hello\n").unwrap();
        assert_eq!(merge(&[junk]).err().map(|e| e.exit_code()), Some(2));
    }
}

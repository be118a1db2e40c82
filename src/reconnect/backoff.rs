//! The delays between reconnection attempts: 0.5 s doubling to 30 s, each one jittered so that
//! many clients dropped together by one server restart do not all come back at the same instant.

use std::time::Duration;

const FIRST: Duration = Duration::from_millis(500);
const LONGEST: Duration = Duration::from_secs(30);
/// A connection that stayed open this long ends an outage: the next one starts at [`FIRST`]
/// again. One that dropped sooner (a server that accepts and closes at once) keeps the delay
/// growing, so a flapping server is not hammered twice a second.
pub const STABLE: Duration = Duration::from_secs(10);

#[derive(Debug, Clone)]
pub struct Backoff {
    next: Duration,
}

impl Default for Backoff {
    fn default() -> Backoff {
        Backoff { next: FIRST }
    }
}

impl Backoff {
    /// The delay before the next attempt; the one after it is twice as long (up to 30 s).
    pub fn delay(&mut self) -> Duration {
        let nominal = self.next;
        self.next = (self.next * 2).min(LONGEST);
        jitter(nominal, fastrand::f64())
    }

    /// A connection opened and lived this long before it ended.
    pub fn lived(&mut self, d: Duration) {
        if d >= STABLE {
            self.next = FIRST;
        }
    }
}

/// `nominal` scaled by 0.75 to 1.25 (`r` in [0, 1)), never over the longest delay.
fn jitter(nominal: Duration, r: f64) -> Duration {
    nominal.mul_f64(0.75 + r / 2.0).min(LONGEST)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn doubles_from_half_a_second_to_thirty_with_jitter_around_each() {
        let mut b = Backoff::default();
        let nominal = [0.5, 1.0, 2.0, 4.0, 8.0, 16.0, 30.0, 30.0];
        for want in nominal {
            let got = b.delay().as_secs_f64();
            assert!(
                got >= want * 0.75 && got <= (want * 1.25).min(30.0),
                "{got} for {want}"
            );
        }
        assert_eq!(jitter(FIRST, 0.0), Duration::from_millis(375));
        assert_eq!(jitter(LONGEST, 0.99), LONGEST);
    }

    #[test]
    fn only_a_connection_that_lasted_starts_over() {
        let mut b = Backoff::default();
        b.delay();
        b.delay();
        b.lived(Duration::from_secs(1));
        assert!(b.delay() >= Duration::from_millis(1500));
        b.lived(STABLE);
        assert!(b.delay() <= Duration::from_millis(625));
    }
}

//! A session's view of its input, which may outlive the session: with `--reconnect` one input
//! (piped stdin, the REPL) feeds connection after connection. It reads, in order, this
//! connection's script (the `-x`/`--script` lines, which start again on every connection), the
//! inputs a previous connection took but never sent (handed back), then the channel. What a
//! session takes and does not use is put back where it came from, so nothing read is lost and
//! nothing is read twice.

use std::collections::VecDeque;

use tokio::sync::mpsc;
use tokio_tungstenite::tungstenite::Message;

use super::{Charge, Input};

/// Where the last input came from, so that [`Feed::unread`] puts it back there.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Source {
    Script,
    Carried,
}

#[derive(Debug)]
pub struct Feed {
    script: VecDeque<Input>,
    carried: VecDeque<Input>,
    rx: mpsc::Receiver<Input>,
    last: Source,
}

impl Feed {
    pub fn new(rx: mpsc::Receiver<Input>) -> Feed {
        Feed {
            script: VecDeque::new(),
            carried: VecDeque::new(),
            rx,
            last: Source::Carried,
        }
    }

    /// A new connection begins: its script is `lines`, from the top. What is left of the last
    /// connection's script is dropped (it was that connection's); carried inputs stay.
    pub fn start_script(&mut self, lines: &[String]) {
        self.script = lines.iter().map(|l| script_input(l)).collect();
    }

    /// Messages a connection queued but never wrote: they go first on the next one, in order.
    pub fn hand_back(&mut self, unsent: Vec<Message>) {
        for m in unsent.into_iter().rev() {
            self.carried.push_front(Input::Resend(m));
        }
    }

    /// The next input, waiting for the channel when nothing is queued here. None: the channel is
    /// closed (no more input).
    pub async fn recv(&mut self) -> Option<Input> {
        if let Some(i) = self.take_queued() {
            return Some(i);
        }
        self.last = Source::Carried;
        self.rx.recv().await
    }

    /// The next input if one is ready now.
    pub fn try_recv(&mut self) -> Option<Input> {
        if let Some(i) = self.take_queued() {
            return Some(i);
        }
        self.last = Source::Carried;
        self.rx.try_recv().ok()
    }

    /// Put back the input just taken: it is the next one again.
    pub fn unread(&mut self, input: Input) {
        match self.last {
            Source::Script => self.script.push_front(input),
            Source::Carried => self.carried.push_front(input),
        }
    }

    /// Count the inputs left that would have sent something (the rest of the script, what was
    /// handed back, the channel up to its end), reading until `deadline` at most: a pipe that
    /// does not end is counted as far as it came (`false`: the count is a lower bound).
    pub async fn count_unsent(&mut self, deadline: std::time::Instant) -> (u64, bool) {
        let sends = |i: &Input| !matches!(i, Input::End | Input::Failed(_) | Input::Notice(_));
        let mut n = self.script.drain(..).filter(|i| sends(i)).count() as u64;
        n += self.carried.drain(..).filter(|i| sends(i)).count() as u64;
        let until = tokio::time::Instant::from_std(deadline);
        loop {
            match tokio::time::timeout_at(until, self.rx.recv()).await {
                Ok(Some(Input::End)) | Ok(None) => return (n, true),
                Ok(Some(i)) => n += u64::from(sends(&i)),
                Err(_) => return (n, false),
            }
        }
    }

    /// The channel itself, for a caller that reads it while no session runs.
    pub fn channel(&mut self) -> &mut mpsc::Receiver<Input> {
        &mut self.rx
    }

    fn take_queued(&mut self) -> Option<Input> {
        if let Some(i) = self.script.pop_front() {
            self.last = Source::Script;
            return Some(i);
        }
        let i = self.carried.pop_front()?;
        self.last = Source::Carried;
        Some(i)
    }
}

/// A `-x`/`--script` line as input: `-x ''` sends an empty text message (in the REPL an empty
/// line means nothing).
pub fn script_input(line: &str) -> Input {
    if line.is_empty() {
        Input::Text(String::new(), Charge::default())
    } else {
        Input::Line(line.to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(i: Option<Input>) -> String {
        match i {
            Some(Input::Line(l)) => l,
            Some(Input::Text(t, _)) => format!("text:{t}"),
            Some(Input::Resend(m)) => format!("resend:{}", m.to_text().unwrap_or("?")),
            other => format!("{other:?}"),
        }
    }

    #[tokio::test]
    async fn script_then_handed_back_then_channel_and_unread_goes_back_where_it_came_from() {
        let (tx, rx) = mpsc::channel(8);
        let mut feed = Feed::new(rx);
        tx.send(Input::Line("piped".into())).await.unwrap();
        feed.start_script(&["/ping".into(), String::new()]);
        feed.hand_back(vec![Message::text("a"), Message::text("b")]);
        assert_eq!(text(feed.recv().await), "/ping");
        let second = feed.try_recv().unwrap();
        feed.unread(second);
        assert_eq!(text(feed.try_recv()), "text:");
        assert_eq!(text(feed.try_recv()), "resend:a");
        let b = feed.try_recv().unwrap();
        feed.unread(b);
        // A new connection: its script again from the top, the unread `b` still before the pipe.
        feed.start_script(&["/ping".into()]);
        assert_eq!(text(feed.try_recv()), "/ping");
        assert_eq!(text(feed.try_recv()), "resend:b");
        let piped = feed.try_recv().unwrap();
        feed.unread(piped);
        assert_eq!(text(feed.recv().await), "piped");
        drop(tx);
        assert!(feed.recv().await.is_none());
    }
}

//! The session's side of a lens (`crate::lens`): each data message sent or received is decoded
//! into a view for its event, lens commands (read as written by the script, before its values go
//! in: `crate::script::Run::Lens`) go to the lens, and the lens's duties (its handshake, pongs,
//! deadlines) are carried out here. A duty that fails ends the connection with a protocol error
//! (exit 6) in the lens's words.

use super::*;
use crate::lens::{Dir, Out, Step, View};

/// The least time between two firings of a lens's timer.
pub(super) const LENS_GAP: Duration = Duration::from_millis(50);

impl Loop<'_> {
    /// What the lens makes of a data message; None without a lens.
    pub(super) fn lens_view(&mut self, dir: Dir, kind: DataKind, data: &[u8]) -> Option<View> {
        let lens = self.lens.as_mut()?;
        Some(View {
            lens: lens.name(),
            decoded: lens.decode(dir, kind, data),
        })
    }

    /// The lens's duties as the connection opens.
    pub(super) async fn lens_start(&mut self, sink: &mut dyn EventSink) {
        if let Some(lens) = self.lens.as_mut() {
            let step = lens.start(Instant::now());
            self.lens_step(step, sink).await;
        }
    }

    /// The duties a received message calls for.
    pub(super) async fn lens_after(&mut self, view: &View, sink: &mut dyn EventSink) {
        let (Some(lens), Ok(d)) = (self.lens.as_mut(), &view.decoded) else {
            return;
        };
        let step = lens.after(d, Instant::now());
        self.lens_step(step, sink).await;
    }

    /// False while the lens's handshake holds the user's input back.
    pub(super) fn lens_ready(&self) -> bool {
        self.lens.as_ref().is_none_or(|l| l.ready())
    }

    /// When the lens wants its timer, but never sooner than [`LENS_GAP`] after it last fired
    /// (`fired`): a deadline the lens did not move on cannot keep the arm ready for ever.
    pub(super) fn lens_deadline(&self, fired: Option<TokioInstant>) -> Option<TokioInstant> {
        let at = TokioInstant::from_std(self.lens.as_ref()?.deadline()?);
        Some(fired.map_or(at, |f| at.max(f + LENS_GAP)))
    }

    pub(super) async fn on_lens_deadline(&mut self, sink: &mut dyn EventSink) {
        if let Some(lens) = self.lens.as_mut() {
            let step = lens.on_deadline(Instant::now());
            self.lens_step(step, sink).await;
        }
    }

    async fn lens_step(&mut self, step: Step, sink: &mut dyn EventSink) {
        if let Some(note) = &step.note {
            sink.event(Event::Notice(note));
        }
        if !self.close.we_sent() && !self.close.peer_sent() {
            for out in step.send {
                self.lens_send(out, sink).await;
            }
        }
        if let Some(why) = step.fail {
            let hint = Some("--lens-passive decodes without the protocol's handshake and pings; --lens none turns the lens off".into());
            self.failure.get_or_insert(if step.refused {
                Error::Handshake { message: why, hint }
            } else {
                Error::Protocol { message: why, hint }
            });
            self.dead_peer = true;
            self.input_open = false;
            self.begin_close(None, sink).await;
        }
    }

    async fn lens_send(&mut self, out: Out, sink: &mut dyn EventSink) {
        let m = match out {
            Out::Text(t) => Message::text(t),
            Out::Binary(b) => Message::binary(b),
        };
        self.send_data(m, Origin::User, sink).await;
    }

    /// A lens command (`/emit ...`, read as written by the script: `crate::script::Run::Lens`),
    /// carried out or refused.
    pub(super) async fn lens_command(&mut self, name: &str, arg: &str, sink: &mut dyn EventSink) {
        let Some(lens) = self.lens.as_mut() else {
            let owners: Vec<&str> = crate::lens::TABLE
                .iter()
                .filter(|e| e.commands.iter().any(|c| c.name == name))
                .map(|e| e.name)
                .collect();
            sink.event(Event::Refused {
                message: &format!(
                    "/{name} is a command of the {} lens, and no lens is on",
                    owners.join(" and ")
                ),
                hint: Some(&format!(
                    "start with --lens {}",
                    owners.first().copied().unwrap_or("NAME")
                )),
            });
            return;
        };
        let lens_name = lens.name();
        match lens.command(name, arg) {
            Some(Ok(outs)) => {
                for out in outs {
                    self.lens_send(out, sink).await;
                }
            }
            Some(Err(e)) => {
                let usage = self
                    .opts
                    .lens
                    .as_ref()
                    .and_then(|c| c.entry.commands.iter().find(|c| c.name == name))
                    .map(|c| format!("usage: /{} {}, e.g. {}", c.name, c.args, c.example));
                sink.event(Event::Refused {
                    message: &format!("/{name}: {e}"),
                    hint: usage.as_deref(),
                })
            }
            None => sink.event(Event::Refused {
                message: &format!("/{name} is not a command of the {lens_name} lens"),
                hint: Some("/help lists the commands of the lens in use"),
            }),
        }
    }

    /// The lens's last words before our close frame (MQTT's DISCONNECT), queued like the close
    /// itself: never waiting for room, so a peer that stopped reading cannot hold the close up.
    pub(super) fn lens_closing(&mut self, sink: &mut dyn EventSink) {
        let Some(outs) = self.lens.as_mut().map(|l| l.closing()) else {
            return;
        };
        for out in outs {
            let (kind, data) = match out {
                Out::Text(t) => (DataKind::Text, t.into_bytes()),
                Out::Binary(b) => (DataKind::Binary, b),
            };
            let m = match kind {
                DataKind::Text => Message::text(String::from_utf8_lossy(&data).into_owned()),
                DataKind::Binary => Message::binary(data.clone()),
            };
            let view = self.lens_view(Dir::Sent, kind, &data);
            self.stats.messages_sent += 1;
            self.stats.bytes_sent += data.len() as u64;
            sink.event(Event::Sent {
                kind,
                data: &data,
                wire: crate::deflate::Wire {
                    compressed: false,
                    size: data.len() as u64,
                },
                origin: Origin::User,
                lens: view.as_ref(),
            });
            self.send_control(m);
        }
    }

    /// `/help` adds the lens's commands.
    pub(super) fn lens_help(&self, sink: &mut dyn EventSink) {
        if let Some(c) = &self.opts.lens {
            sink.event(Event::Notice(crate::lens::help(c.entry).trim_end()));
        }
    }
}

/// Sleep until the lens's deadline; pending for ever without one.
pub(super) async fn lens_timer(at: Option<TokioInstant>) {
    match at {
        Some(at) => tokio::time::sleep_until(at).await,
        None => std::future::pending().await,
    }
}

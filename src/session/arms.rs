//! What each arm of the session loop does when it wakes: a burst of readable messages, a burst
//! of queued input, the ping timer, the writer's errors and room, and the report of the ending.
//! `run` in `mod.rs` is the table of what wakes the loop; the work is here.

use futures_util::stream::SplitStream;

use super::*;

/// What a burst of reads came to.
pub(super) enum Read {
    /// The connection is over.
    Ended(Ending),
    /// The socket was drained after this many messages: reads may nap (crate::coalesce).
    Drained(usize),
    /// More may be readable; the loop comes back for it.
    More,
}

/// The writer task's ends: the queue into it, its first error, what it has handed to the library,
/// and the task (which gives back what it could not send).
pub(super) type WriterEnds = (
    mpsc::Sender<Outgoing>,
    mpsc::Receiver<WsError>,
    Arc<writer::Handed>,
    tokio::task::JoinHandle<Vec<Message>>,
);

/// Start the writer task on the socket's sending half.
pub(super) fn spawn_writer(
    sink_half: SplitSink<Ws, Message>,
    raw: Option<raw::Injector>,
) -> WriterEnds {
    let (wtx, wrx) = mpsc::channel::<Outgoing>(WRITE_QUEUE);
    let (werr_tx, werr_rx) = mpsc::channel::<WsError>(1);
    let handed = Arc::new(writer::Handed::default());
    let writer = tokio::spawn(write_loop(sink_half, wrx, werr_tx, raw, handed.clone()));
    (wtx, werr_rx, handed, writer)
}

impl<'a> Loop<'a> {
    pub(super) fn new(opts: Options, wtx: mpsc::Sender<Outgoing>, stats: &'a mut Stats) -> Self {
        Loop {
            script: crate::script::Script::new(&opts.script),
            lens: opts.lens.as_ref().map(|c| c.make()),
            opts,
            wtx,
            handed: Arc::default(),
            stats,
            input_open: true,
            input_ended_at: None,
            ended_by_wait: None,
            last_data: Instant::now(),
            received_data: 0,
            close: close::CloseState::default(),
            pings: VecDeque::new(),
            ping_seq: 0,
            failure: None,
            backlog: VecDeque::new(),
            close_wait: CLOSE_TIMEOUT,
            last_ping: None,
            raw_noted: false,
            keep_unsent: false,
            dead_peer: false,
            local_failure: false,
            stopped: None,
            input_cut: false,
        }
    }
}

impl Loop<'_> {
    /// With --echo, wait for room to echo before reading; once the peer's close is here, the
    /// echoes before it go to the library first.
    pub(super) async fn echo_room(&self) {
        if self.opts.echo && !self.close.we_sent() {
            let _ = self.wtx.reserve().await;
            if self.close_arrived() {
                self.handed.wait(&self.wtx).await;
            }
        }
    }

    /// The next input, once the writer has room: whether it still takes messages, and the input.
    pub(super) async fn next_input(&self, input: &mut Feed) -> (bool, Option<Input>) {
        let permit = self.wtx.reserve().await;
        (permit.is_ok(), input.recv().await)
    }

    /// The user's stop (a signal): begin the close; its deadline moves closer, so it is computed
    /// again on the next pass.
    pub(super) async fn on_stop(&mut self, t: &mut timers::Timers, sink: &mut dyn EventSink) {
        self.on_signal(sink).await;
        t.close_armed = false;
    }

    /// Something is readable: handle the burst, and let reads nap once the socket was drained.
    pub(super) async fn on_read_arm(
        &mut self,
        first: Option<std::result::Result<Message, WsError>>,
        stream: &mut SplitStream<Ws>,
        frames: &mut Option<crate::wire::tap::TapReceiver>,
        t: &mut timers::Timers,
        sink: &mut dyn EventSink,
    ) -> Option<Ending> {
        match self.on_readable(first, stream, frames, sink).await {
            Read::Ended(ending) => return Some(ending),
            // A server never holds reads: its peers pace themselves on its answers, and the hold
            // is slept out on the one runtime thread that serves every client (docs/BENCHMARKS.md,
            // B5: websocat -> wscope listen took 3.4-4.3 s against 1.3-1.9 s for Node ws).
            Read::Drained(n) if self.opts.role == Role::Client => t.after_burst(n),
            Read::Drained(_) | Read::More => {}
        }
        None
    }

    /// The lens's timer fired: note when (it waits at least `lens::LENS_GAP` after) and run it.
    pub(super) async fn on_lens_arm(
        &mut self,
        fired: &mut Option<TokioInstant>,
        sink: &mut dyn EventSink,
    ) {
        *fired = Some(TokioInstant::now());
        self.on_lens_deadline(sink).await;
    }

    /// The --wait timer fired: if its deadline has really passed, begin the close.
    pub(super) async fn on_wait_timer(&mut self, t: &mut timers::Timers, sink: &mut dyn EventSink) {
        if t.wait_fired(self.wait_deadline()) {
            self.ended_by_wait = Some(self.wait_flag());
            self.begin_close(None, sink).await;
        }
    }

    /// The ping timer fired: do its work and set it for when it is next due.
    pub(super) async fn on_ping_arm(&mut self, t: &mut timers::Timers, sink: &mut dyn EventSink) {
        let every = t.ping_every.unwrap_or(Duration::from_secs(30));
        let next = self.on_ping_timer(every, sink).await;
        t.ping.as_mut().reset(next);
    }

    /// The peer's close frame has reached the guard (the library may not have read it yet).
    pub(super) fn close_arrived(&self) -> bool {
        self.opts.wire.as_ref().is_some_and(|w| w.close_seen())
    }

    /// Handle what is already readable in one go: a pass of the loop per burst of messages, not
    /// per message (and, echoing, only while there is room to echo).
    pub(super) async fn on_readable(
        &mut self,
        first: Option<std::result::Result<Message, WsError>>,
        stream: &mut SplitStream<Ws>,
        frames: &mut Option<crate::wire::tap::TapReceiver>,
        sink: &mut dyn EventSink,
    ) -> Read {
        let mut next = Some(first);
        let mut budget = READ_BURST;
        let mut drained = false;
        while let Some(msg) = next.take() {
            match msg {
                Some(Ok(m)) => {
                    // The tap queued this message's frames when they were read: show them
                    // first, so the dump reads in wire order.
                    show_queued_frames(frames, sink);
                    self.on_message(m, sink).await
                }
                Some(Err(e)) => {
                    if let Some(ending) = self.on_read_error(e, sink).await {
                        return Read::Ended(ending);
                    }
                }
                None => return Read::Ended(self.ended_by_eof()),
            }
            budget -= 1;
            let room = !self.opts.echo
                || self.close.we_sent()
                || (self.wtx.capacity() > 0
                    // A close behind: it waits for every echo before it to be handed over.
                    && (!self.close_arrived() || self.handed.all(&self.wtx)));
            if budget > 0 && room && !sink.broken() && !sink.backlogged() {
                next = stream.next().now_or_never();
                drained = next.is_none();
            }
        }
        if drained {
            Read::Drained(READ_BURST - budget)
        } else {
            Read::More
        }
    }

    /// An input (and what else is already queued while the writer has room: one pass of the
    /// loop per burst, not per line). `item`: whether the writer still takes messages, and the
    /// input.
    pub(super) async fn on_input_burst(
        &mut self,
        item: (bool, Option<Input>),
        input: &mut Feed,
        sink: &mut dyn EventSink,
    ) -> Option<Ending> {
        match item {
            (true, Some(Input::End)) | (true, None) => self.end_of_input(),
            (true, Some(i)) => {
                self.on_input(i, sink).await;
                for _ in 0..INPUT_BURST {
                    if !self.input_open
                        || self.close.we_sent()
                        || self.wtx.capacity() == 0
                        || !self.script.ready()
                        || !self.lens_ready()
                    {
                        break;
                    }
                    match input.try_recv() {
                        Some(Input::End) => self.end_of_input(),
                        Some(i) => self.on_input(i, sink).await,
                        None => break,
                    }
                }
            }
            (false, item) => {
                // The writer is gone: what was taken was not sent, and is the next one's.
                if let Some(i) = item {
                    input.unread(i);
                }
                return Some(self.ended_by_eof());
            }
        }
        None
    }

    /// The ping timer: the oldest ping may have timed out, or the next one is due. Returns when
    /// to wake next: the next ping, or the oldest unanswered one's deadline if sooner.
    pub(super) async fn on_ping_timer(
        &mut self,
        every: Duration,
        sink: &mut dyn EventSink,
    ) -> TokioInstant {
        let now = Instant::now();
        if let Some(limit) = self.opts.ping_timeout {
            if self
                .pings
                .front()
                .is_some_and(|(_, at)| at.elapsed() >= limit)
            {
                let peer = self.opts.role.peer();
                self.dead_peer = true;
                self.failure = Some(Error::Protocol {
                    message: format!(
                        "the {peer} stopped answering pings: no pong within {}",
                        crate::error::secs(limit)
                    ),
                    hint: Some(
                        "the peer looks dead; raise --ping-timeout if it is just slow".into(),
                    ),
                });
                // A dead peer will not answer our close either: do not wait long for it.
                self.close_wait = limit.min(CLOSE_TIMEOUT);
                self.begin_close(Some((1001, "ping timeout".into())), sink)
                    .await;
                // The timer is off once the close has begun.
                return TokioInstant::from_std(now + every);
            }
        }
        if self.last_ping.is_none_or(|at| now >= at + every) {
            self.ping_seq += 1;
            let payload = format!("wscope-{}", self.ping_seq).into_bytes();
            self.send_ping(payload, sink).await;
            self.last_ping = Some(now);
        }
        let mut next = self.last_ping.unwrap_or(now) + every;
        if let (Some(limit), Some((_, at))) = (self.opts.ping_timeout, self.pings.front()) {
            next = next.min(*at + limit);
        }
        TokioInstant::from_std(next.max(now))
    }

    /// The writer failed: the connection is over.
    pub(super) fn on_write_error(&mut self, e: WsError) -> Ending {
        let peer = self.opts.role.peer();
        self.failure
            .get_or_insert_with(|| Error::protocol(format!("writing to the {peer} failed: {e}")));
        Ending {
            closer: Closer::Nobody,
            code: None,
            reason: String::new(),
            clean: false,
        }
    }

    /// The writer has room again: the oldest held-back control frame goes.
    pub(super) fn on_writer_room(
        &mut self,
        permit: std::result::Result<mpsc::OwnedPermit<Outgoing>, mpsc::error::SendError<()>>,
    ) {
        match (permit, self.backlog.pop_front()) {
            (Ok(p), Some(m)) => {
                p.send(m.into());
            }
            // The writer is gone (it reported why): nothing queued can go out any more.
            _ => self.backlog.clear(),
        }
    }
}

/// The last events of a session: its error (for a listen client, whose caller reports nothing),
/// then its ending.
pub(super) fn report_ending(
    role: Role,
    failure: Option<&Error>,
    ending: &Ending,
    sink: &mut dyn EventSink,
) {
    if let (Role::Server, Some(e)) = (role, failure) {
        let hint = e.hint();
        sink.event(Event::Failed {
            message: &e.to_string(),
            hint: hint.as_deref(),
        });
    }
    sink.event(Event::Closed(ending));
    sink.flush();
}

//! The recorder a page runs: what `init()` in the npm package creates. It owns the session, the
//! batcher and the delivery queue; the JavaScript wrapper drives it with a clock tick, sends the
//! batches it hands out and reports the collector's answers, and tells it when the page goes
//! away.
//!
//! Every entry point catches its own failures: a recorder that fails does nothing, and the page
//! goes on as if it weren't there.

use std::cell::RefCell;
use std::rc::Rc;

use sightline_protocol::{EventData, Navigation, NavigationKind, PageMeta, TraceKey};
use wasm_bindgen::prelude::*;

use crate::batcher::Batcher;
use crate::browser::{random_writer, save, session_for_page_load};
use crate::session::Session;
use crate::transport::{parse_retry_after, Outbox, Pending};
use crate::{intake, tape};

/// A batch is cut at least this often while events arrive.
const BATCH_INTERVAL_MS: f64 = 5_000.0;
/// And this often while a support engineer watches the session live.
const WATCHED_BATCH_INTERVAL_MS: f64 = 1_000.0;
/// A session stops counting as watched this long after an answer last said it was.
const WATCHED_FOR_MS: f64 = 30_000.0;
/// A batch is cut as soon as this many events wait.
const BATCH_MAX_EVENTS: usize = 2_000;
/// A batch is cut as soon as its events hold about this many bytes of text, well under the
/// collector's limit on a batch.
const BATCH_MAX_BYTES: usize = 128 * 1024;
/// Batches waiting for delivery are capped at this many bytes.
const QUEUE_MAX_BYTES: usize = 2 * 1024 * 1024;
/// Refusals ask for a keyframe at most this often: a collector that refuses what a keyframe
/// weighs (a batch too large) would otherwise have the page walked again and again.
const REFUSAL_KEYFRAME_GAP_MS: f64 = 60_000.0;
/// A dropped tape asks for a keyframe at most this often after the first.
const TAPE_KEYFRAME_GAP_MS: f64 = 60_000.0;

struct State {
    session: Session,
    batcher: Batcher,
    outbox: Outbox,
    last_cut: f64,
    pending_bytes: usize,
    meta: Option<PageMeta>,
    stopped: bool,
    /// The page should be snapshotted again: batches were dropped or refused, or a new session
    /// began.
    keyframe_due: bool,
    /// When refusals last asked for a keyframe.
    refusal_keyframe_at: f64,
    /// When a dropped tape last asked for a keyframe.
    tape_keyframe_at: f64,
    /// Until when the session counts as watched live (see [`Recorder::watched`]).
    watched_until: f64,
}

impl State {
    /// How often a batch is cut now.
    fn batch_interval(&self, now: f64) -> f64 {
        if now < self.watched_until {
            WATCHED_BATCH_INTERVAL_MS
        } else {
            BATCH_INTERVAL_MS
        }
    }
}

/// Records one page into the current session and ships it to the collector.
#[wasm_bindgen]
pub struct Recorder {
    state: Rc<RefCell<State>>,
}

#[wasm_bindgen]
impl Recorder {
    /// Starts recording the page into the tab's session. `now` is `Date.now()`.
    #[wasm_bindgen(constructor)]
    pub fn new(key: String, now: f64) -> Result<Recorder, JsError> {
        let session =
            session_for_page_load(now as u64).map_err(|_| JsError::new("no session storage or random source"))?;
        let batcher = Batcher::new(key, session.id, session.writer, session.page);
        let state = State {
            session,
            batcher,
            outbox: Outbox::new(QUEUE_MAX_BYTES),
            last_cut: now,
            pending_bytes: 0,
            meta: None,
            stopped: false,
            keyframe_due: false,
            refusal_keyframe_at: f64::NEG_INFINITY,
            tape_keyframe_at: f64::NEG_INFINITY,
            watched_until: f64::NEG_INFINITY,
        };
        Ok(Recorder { state: Rc::new(RefCell::new(state)) })
    }

    /// The session id, as 32 hex digits.
    #[wasm_bindgen(js_name = sessionId)]
    pub fn session_id(&self) -> String {
        let mut hex = String::with_capacity(32);
        self.state.borrow().session.id.push_hex(&mut hex);
        hex
    }

    /// Records one event the wrapper describes: its [kind and fields](crate::intake), stamped
    /// `now` (ms since the epoch). Returns whether the page should be snapshotted right away:
    /// the event began a new session, which must show what the user acted on.
    pub fn record(&self, kind: u8, nums: &[f64], texts: &str, now: f64) -> Result<bool, JsError> {
        if kind == intake::TIMEZONE {
            self.set_timezone(texts);
            return Ok(false);
        }
        if kind == intake::TRACE_KEY {
            let mut key = [0u8; 32];
            if nums.len() != key.len() {
                return Err(JsError::new("malformed trace key"));
            }
            for (byte, num) in key.iter_mut().zip(nums) {
                *byte = *num as u8;
            }
            self.state.borrow_mut().batcher.trace_key = Some(TraceKey(key));
            return Ok(false);
        }
        let data = intake::event(kind, nums, texts).map_err(|_| JsError::new("malformed event"))?;
        let size = texts.len() + nums.len() * 2 + 8;
        let active = kind != intake::SCROLL_POSITION && is_user_activity(&data);
        Ok(match data {
            EventData::Meta(mut meta) => {
                meta.sdk = env!("CARGO_PKG_VERSION").into();
                let first = self.state.borrow_mut().meta.replace((*meta).clone()).is_none();
                let load = Navigation { kind: NavigationKind::Load, url: meta.url.clone(), title: meta.title.clone() };
                self.push(now, EventData::Meta(meta), size, false);
                first && self.push(now, EventData::Navigation(load), 64, false)
            }
            // An image cut short would not decode: one too big for a field is not recorded.
            EventData::Canvas(canvas) if canvas.data_url.len() > tape::MAX_FIELD => false,
            data => self.push(now, data, size, active),
        })
    }

    /// Records a full snapshot of the page from the DOM walker's [tape](crate::tape). Returns
    /// false, or true when the tape was malformed and dropped (see [`Recorder::dropped_tape`]).
    pub fn snapshot(&self, nums: Vec<u32>, texts: String, now: f64) -> bool {
        let Ok(snapshot) = tape::snapshot(&nums, &texts) else { return self.dropped_tape(now) };
        self.state.borrow_mut().keyframe_due = false;
        self.push(now, EventData::Snapshot(snapshot), texts.len() + nums.len() * 2, false);
        false
    }

    /// Records DOM changes from the DOM walker's [tape](crate::tape). Returns false, or true
    /// when the tape was malformed and dropped.
    pub fn mutation(&self, nums: Vec<u32>, texts: String, now: f64) -> bool {
        let Ok(mutation) = tape::mutation(&nums, &texts) else { return self.dropped_tape(now) };
        self.push(now, EventData::Mutation(mutation), texts.len() + nums.len() * 2, false);
        false
    }

    /// Called about once a second: cuts a batch when one is due, and starts the next session
    /// when the current one has lasted 12 hours. Returns whether the page should be snapshotted
    /// again because what came before can no longer be replayed on its own; it keeps asking
    /// until a snapshot is recorded (the DOM walker may be busy).
    pub fn tick(&self, now: f64) -> bool {
        let mut state = self.state.borrow_mut();
        if !state.stopped {
            let session = state.session;
            if session.has_run_out(now as u64) && !session.is_idle(now as u64) {
                // The user is still at it: the next session starts now, page changes and all.
                state.rotate(now);
            } else if !state.batcher.is_empty()
                && (session.is_idle(now as u64) || now - state.last_cut >= state.batch_interval(now))
            {
                // An idle session's last events go out now; the next one starts with the user's
                // next action (see `push`).
                state.cut(now);
            }
        }
        !state.stopped && state.keyframe_due
    }

    /// The batch to post now, if one is due (also after `stop`, until everything recorded is
    /// delivered); the wrapper reports the answer to [`Recorder::answered`].
    #[wasm_bindgen(js_name = nextBatch)]
    pub fn next_batch(&self, now: f64) -> Option<Vec<u8>> {
        self.state.borrow_mut().outbox.next_to_send(now)
    }

    /// The collector answered the batch in flight with `status` (0 when no response arrived) and
    /// the `Retry-After` header, if any. Returns whether the next batch should go right away.
    pub fn answered(&self, status: u16, retry_after: Option<String>, now: f64) -> bool {
        let status = (status != 0).then_some(status);
        let retry_after = retry_after.as_deref().and_then(parse_retry_after);
        let mut state = self.state.borrow_mut();
        let before = state.outbox.refused_in_a_row();
        let next = state.outbox.answered(status, retry_after, js_sys::Math::random(), now);
        let after = state.outbox.refused_in_a_row();
        // A batch the collector refused for good is lost like one dropped from a full queue.
        // While it refuses every batch (a wrong key, an origin it doesn't allow), one keyframe
        // is enough; once it stores batches again, it needs another, the first having been
        // refused too. Never more than one a minute.
        let wanted = (before == 0 && after == 1) || (before > 1 && after == 0);
        if wanted && now - state.refusal_keyframe_at >= REFUSAL_KEYFRAME_GAP_MS {
            state.refusal_keyframe_at = now;
            state.keyframe_due = true;
        }
        next
    }

    /// The collector's answer said a support engineer follows the session live: batches are
    /// cut every second rather than every five, until answers have not said so for 30 s.
    pub fn watched(&self, now: f64) {
        self.state.borrow_mut().watched_until = now + WATCHED_FOR_MS;
    }

    /// The collector holds as much of session `session` (32 hex digits) as a session may: if it
    /// is the current one, recording goes on in a new session, which starts with a keyframe.
    /// Batches of the full session still queued are refused in turn and dropped.
    #[wasm_bindgen(js_name = sessionFull)]
    pub fn session_full(&self, session: &str, now: f64) {
        if session.eq_ignore_ascii_case(&self.session_id()) {
            let mut state = self.state.borrow_mut();
            if !state.stopped {
                state.rotate(now);
            }
        }
    }

    /// Cuts what was recorded into a batch now (used by `flush()`, `stop()` and tests).
    pub fn flush(&self, now: f64) {
        self.state.borrow_mut().cut(now);
    }

    /// The page is going away, or may be (a hidden tab can be discarded without notice): hands
    /// what waits to `beacon` (which calls `sendBeacon` and returns whether the browser took
    /// it) within the browser's budget, unless the collector asked to wait, and returns a copy
    /// of the rest, oldest first, for the wrapper to keep for the next page; while the
    /// collector isn't answering, the rest is everything. The rest stays queued, in case this
    /// page lives on.
    pub fn unload(&self, now: f64, beacon: &js_sys::Function) -> Vec<js_sys::Uint8Array> {
        {
            let mut state = self.state.borrow_mut();
            state.cut(now);
            state.outbox.leave(now);
        }
        // The page may have wrapped `sendBeacon`: no borrow is held while it runs.
        loop {
            let Some(bytes) = self.state.borrow_mut().outbox.next_beacon() else { break };
            let sent = beacon.call1(&JsValue::NULL, &js_sys::Uint8Array::from(bytes.as_slice()));
            let accepted = sent.is_ok_and(|taken| taken.is_truthy());
            self.state.borrow_mut().outbox.beaconed(accepted);
        }
        let state = self.state.borrow();
        save(&state.session);
        state.outbox.waiting().map(js_sys::Uint8Array::from).collect()
    }

    /// Queues a batch an earlier page could not deliver (or this one, before it was hidden or
    /// went into the back-forward cache), unless it is queued already. It keeps its own session
    /// and numbers.
    pub fn resend(&self, batch: Vec<u8>) {
        let mut state = self.state.borrow_mut();
        let dropped = state.outbox.dropped();
        state.outbox.resend(batch);
        // Making room may have dropped this page's own batches.
        state.keyframe_due |= state.outbox.dropped() != dropped;
    }

    /// Whether nothing recorded is still waiting for delivery.
    #[wasm_bindgen(js_name = isIdle)]
    pub fn is_idle(&self) -> bool {
        let state = self.state.borrow();
        state.batcher.is_empty() && state.outbox.is_idle()
    }

    /// Stops recording; what was recorded so far is still delivered.
    pub fn stop(&self, now: f64) {
        self.flush(now);
        self.state.borrow_mut().stopped = true;
    }
}

impl Recorder {
    /// A tape the walker and the recorder disagree on is a bug, but one chunk of one walk: the
    /// recording goes on without it, and the page is walked again, since later changes may
    /// refer to the nodes it held. The first time at once, then at most once a minute, so a
    /// page that keeps producing such tapes is not walked over and over.
    fn dropped_tape(&self, now: f64) -> bool {
        let mut state = self.state.borrow_mut();
        if now - state.tape_keyframe_at >= TAPE_KEYFRAME_GAP_MS {
            state.tape_keyframe_at = now;
            state.keyframe_due = true;
        }
        true
    }

    /// Fills in the IANA time zone of the page's metadata once it is known (looking it up can
    /// wait until the page is idle): in the metadata still waiting to be sent, and in what a new
    /// session would repeat.
    fn set_timezone(&self, timezone: &str) {
        let timezone = tape::clip(timezone, 64);
        let mut state = self.state.borrow_mut();
        if let Some(meta) = state.meta.as_mut() {
            meta.timezone = timezone.clone();
        }
        if let Some(meta) = state.batcher.meta_mut() {
            meta.timezone = timezone;
        }
    }

    /// Records one event, `active` if it is the user's doing; returns whether it began a new
    /// session.
    fn push(&self, now: f64, data: EventData, size: usize, active: bool) -> bool {
        let mut state = self.state.borrow_mut();
        if state.stopped {
            return false;
        }
        let session = state.session;
        let began = if session.is_idle(now as u64) {
            // A page left open with nobody at it (a dashboard that refreshes itself) records
            // nothing until someone acts, and then into a new session.
            if !active {
                return false;
            }
            state.rotate(now)
        } else if session.has_run_out(now as u64) {
            // 12 hours with the user at it: the next session starts at once (see `tick`).
            state.rotate(now)
        } else {
            false
        };
        if active {
            state.session.touch(now as u64);
        }
        state.pending_bytes += size;
        state.batcher.push(now as u64, data);
        if state.batcher.len() >= BATCH_MAX_EVENTS || state.pending_bytes >= BATCH_MAX_BYTES {
            state.cut(now);
        }
        began
    }
}

/// Whether an event is the user's doing, which keeps the session alive. What the page does on
/// its own does not: changes, requests, logs, its own calls (`track`, `identify`,
/// `replaceState`), a tab going into the background, a blur, a resize (which an app or a
/// rotating phone can cause), a scroll the page made ([`intake::SCROLL_POSITION`]), form state
/// its script set. Route
/// changes (`pushState`, back and forward) count: usually the user's.
fn is_user_activity(data: &EventData) -> bool {
    match data {
        EventData::Pointer(_)
        | EventData::MouseMove(_)
        | EventData::Scroll(_)
        | EventData::Key(_)
        | EventData::Submit(_)
        | EventData::Feedback(_) => true,
        EventData::Input(input) => !input.scripted,
        // A blur also comes of the window losing focus, or of the focused element removed.
        EventData::Focus(focus) => focus.focused,
        EventData::Navigation(navigation) => navigation.kind != NavigationKind::Replace,
        EventData::Visibility(visibility) => visibility.visible,
        _ => false,
    }
}

impl State {
    /// The session ended while the page stayed open: what was recorded goes out under the old
    /// session, and recording continues in a new one. Returns whether it did (it needs a random
    /// id).
    fn rotate(&mut self, now: f64) -> bool {
        self.cut(now);
        let Ok(writer) = random_writer() else { return false };
        let id = writer.session_id();
        // After 12 hours the user may be idle already; after idling, the event is their action.
        self.session = if self.session.has_run_out(now as u64) && !self.session.is_idle(now as u64) {
            self.session.next(id, now as u64)
        } else {
            Session::start(id, now as u64)
        };
        self.session.writer = Some(writer);
        self.batcher.restart(self.session.id, self.session.writer, self.session.page);
        save(&self.session);
        // The new session needs to know who is on what too.
        if let Some(meta) = self.meta.clone() {
            self.batcher.push(now as u64, EventData::Meta(Box::new(meta)));
        }
        // And what the page looks like.
        self.keyframe_due = true;
        true
    }

    fn cut(&mut self, now: f64) {
        self.last_cut = now;
        self.pending_bytes = 0;
        if let Ok(Some(shipment)) = self.batcher.take(now as u64) {
            let dropped = self.outbox.dropped();
            self.outbox.push(Pending::new(shipment.bytes));
            // Changes recorded after a dropped batch refer to nodes the player may never see.
            self.keyframe_due |= self.outbox.dropped() != dropped;
        }
        save(&self.session);
    }
}

//! The recorder a page runs: what `init()` in the npm package creates. It owns the session, the
//! batcher and the delivery queue; the JavaScript wrapper drives it with a clock tick, sends the
//! batches it hands out and reports the collector's answers, and tells it when the page goes
//! away.
//!
//! Every entry point catches its own failures: a recorder that fails does nothing, and the page
//! goes on as if it weren't there.

use std::cell::RefCell;
use std::rc::Rc;

use sightline_protocol::{
    AdoptedStyleSheets, Body, CanvasFrame, Console, ConsoleLevel, Custom, DeviceType, ErrorEvent, ErrorKind, EventData,
    Focus, HttpMessage, Identify, Initiator, Input, MouseMove, MovePoint, Navigation, NavigationKind, Network,
    PageMeta, Pointer, PointerKind, Scroll, Size, Software, StyleRule, StyleSheet, TraceContext, Value, Viewport,
    Visibility,
};
use wasm_bindgen::prelude::*;

use crate::batcher::Batcher;
use crate::browser::{random_session_id, save, save_stash, session_for_page_load, take_stash};
use crate::session::Session;
use crate::tape;
use crate::transport::{parse_retry_after, Outbox, Pending};

/// A batch is cut at least this often while events arrive.
const BATCH_INTERVAL_MS: f64 = 5_000.0;
/// A batch is cut as soon as this many events wait.
const BATCH_MAX_EVENTS: usize = 2_000;
/// A batch is cut as soon as its events hold about this many bytes of text, well under the
/// collector's limit on a batch.
const BATCH_MAX_BYTES: usize = 128 * 1024;
/// Batches waiting for delivery are capped at this many bytes.
const QUEUE_MAX_BYTES: usize = 2 * 1024 * 1024;
/// Property values of `track` are capped, in bytes of text.
const MAX_PROPS_TEXT: usize = 8 * 1024;

struct State {
    key: String,
    session: Session,
    batcher: Batcher,
    outbox: Outbox,
    last_cut: f64,
    pending_bytes: usize,
    meta: Option<PageMeta>,
    stopped: bool,
    /// The page should be snapshotted again: batches were dropped, or a new session began.
    keyframe_due: bool,
    /// Requests recorded on this page so far.
    requests: u32,
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
        let batcher = Batcher::new(key.clone(), session.id, session.page);
        let mut outbox = Outbox::new(QUEUE_MAX_BYTES);
        // What earlier pages could not deliver goes first; it keeps its own session and numbers.
        for pending in take_stash(&key) {
            outbox.push(pending);
        }
        let state = State {
            key,
            session,
            batcher,
            outbox,
            last_cut: now,
            pending_bytes: 0,
            meta: None,
            stopped: false,
            keyframe_due: false,
            requests: 0,
        };
        Ok(Recorder { state: Rc::new(RefCell::new(state)) })
    }

    /// The session id, as 32 hex digits.
    #[wasm_bindgen(js_name = sessionId)]
    pub fn session_id(&self) -> String {
        self.state.borrow().session.id.to_string()
    }

    /// Records an application event with plain-JSON properties.
    pub fn track(&self, name: String, props: JsValue, now: f64) {
        if self.state.borrow().stopped {
            return;
        }
        // Reading the properties can run the page's code (getters, proxies), which may call
        // back into the recorder: no borrow is held while it runs.
        let mut budget = MAX_PROPS_TEXT;
        let props = to_value(&props, 0, &mut budget);
        let size = name.len() + (MAX_PROPS_TEXT - budget) + 16;
        self.record(now, EventData::Custom(Custom { name, props }), size);
    }

    /// Records a client-side route change: `kind` is 1 for `pushState`, 2 for `replaceState`, 3
    /// for back/forward (`popstate`), 4 for `hashchange`.
    pub fn navigate(&self, kind: u8, url: String, title: String, now: f64) {
        let size = url.len() + title.len() + 8;
        let kind = NavigationKind::from_u8(kind);
        self.record(now, EventData::Navigation(Navigation { kind, url, title }), size);
    }

    /// Records the tab becoming visible or hidden.
    pub fn visibility(&self, visible: bool, now: f64) {
        self.record(now, EventData::Visibility(Visibility { visible }), 8);
    }

    /// Records the viewport's size in CSS pixels.
    pub fn viewport(&self, width: u32, height: u32, now: f64) {
        self.record(now, EventData::Viewport(Viewport { size: Size { width, height } }), 8);
    }

    /// Records who is on what, first thing on a page, followed by the page's load (and again,
    /// alone, if the session rotates while the page stays open). The wrapper gathers the values
    /// from the browser; the SDK's version is added here.
    #[allow(clippy::too_many_arguments)]
    pub fn meta(
        &self,
        url: String,
        referrer: String,
        title: String,
        user_agent: String,
        browser: Vec<String>,
        os: Vec<String>,
        device: u8,
        screen: Vec<u32>,
        viewport: Vec<u32>,
        pixel_ratio: f32,
        language: String,
        timezone: String,
        utc_offset: i16,
        now: f64,
    ) {
        let pair = |v: &[String]| Software {
            name: clip(v.first().map_or("", String::as_str), 256),
            version: clip(v.get(1).map_or("", String::as_str), 256),
        };
        let size = |v: &[u32]| Size { width: v.first().copied().unwrap_or(0), height: v.get(1).copied().unwrap_or(0) };
        let meta = PageMeta {
            url: clip(&url, 4096),
            referrer: clip(&referrer, 4096),
            title: clip(&title, 1024),
            user_agent: clip(&user_agent, 1024),
            browser: pair(&browser),
            os: pair(&os),
            device: DeviceType::from_u8(device),
            screen: size(&screen),
            viewport: size(&viewport),
            pixel_ratio,
            language: clip(&language, 64),
            timezone: clip(&timezone, 64),
            utc_offset,
            sdk: env!("CARGO_PKG_VERSION").into(),
        };
        let first = self.state.borrow_mut().meta.replace(meta.clone()).is_none();
        let load = Navigation { kind: NavigationKind::Load, url: meta.url.clone(), title: meta.title.clone() };
        self.record(now, EventData::Meta(Box::new(meta)), 512);
        if first {
            self.record(now, EventData::Navigation(load), 64);
        }
    }

    /// Fills in the IANA time zone of the page's metadata once it is known (looking it up can
    /// wait until the page is idle): in the metadata still waiting to be sent, and in what a new
    /// session would repeat.
    pub fn timezone(&self, timezone: String) {
        let timezone = clip(&timezone, 64);
        let mut state = self.state.borrow_mut();
        if let Some(meta) = state.meta.as_mut() {
            meta.timezone = timezone.clone();
        }
        if let Some(meta) = state.batcher.meta_mut() {
            meta.timezone = timezone;
        }
    }

    /// Records who the user is: the application's user id and plain-JSON traits.
    pub fn identify(&self, user_id: String, traits: JsValue, now: f64) {
        if self.state.borrow().stopped {
            return;
        }
        let mut budget = MAX_PROPS_TEXT;
        let traits = to_value(&traits, 0, &mut budget);
        let user_id = clip(&user_id, 256);
        let size = user_id.len() + (MAX_PROPS_TEXT - budget) + 8;
        self.record(now, EventData::Identify(Identify { user_id, traits }), size);
    }

    /// Records a console call: `level` 0 debug, 1 log, 2 info, 3 warn, 4 error; `args` already
    /// rendered as text by the caller.
    pub fn console(&self, level: u8, args: Vec<String>, stack: Option<String>, now: f64) {
        let size = args.iter().map(String::len).sum::<usize>() + stack.as_ref().map_or(0, String::len) + 8;
        let level = ConsoleLevel::from_u8(level);
        self.record(now, EventData::Console(Console { level, args, stack }), size);
    }

    /// Records an error: `kind` 0 uncaught exception, 1 unhandled rejection, 2 failed resource.
    #[allow(clippy::too_many_arguments)]
    pub fn error(
        &self,
        kind: u8,
        name: String,
        message: String,
        stack: Option<String>,
        source: String,
        line: u32,
        column: u32,
        now: f64,
    ) {
        let size = name.len() + message.len() + source.len() + stack.as_ref().map_or(0, String::len) + 16;
        let error =
            ErrorEvent { kind: ErrorKind::from_u8(kind), name, message, stack, source, line, column, target: 0 };
        self.record(now, EventData::Error(Box::new(error)), size);
    }

    /// Records a full snapshot of the page from the DOM walker's [tape](crate::tape).
    pub fn snapshot(&self, nums: Vec<u32>, texts: String, now: f64) -> Result<(), JsError> {
        let snapshot = tape::snapshot(&nums, &texts).map_err(|_| JsError::new("malformed snapshot tape"))?;
        self.state.borrow_mut().keyframe_due = false;
        self.record(now, EventData::Snapshot(snapshot), texts.len() + nums.len() * 2);
        Ok(())
    }

    /// Records DOM changes from the DOM walker's [tape](crate::tape).
    pub fn mutation(&self, nums: Vec<u32>, texts: String, now: f64) -> Result<(), JsError> {
        let mutation = tape::mutation(&nums, &texts).map_err(|_| JsError::new("malformed mutation tape"))?;
        self.record(now, EventData::Mutation(mutation), texts.len() + nums.len() * 2);
        Ok(())
    }

    /// Records a stylesheet's rules: `rules` joined by NUL, `owner` the `<style>` or `<link>`
    /// node (0 for a constructed sheet), `media` its media query.
    #[wasm_bindgen(js_name = styleSheet)]
    pub fn style_sheet(&self, id: u32, owner: u32, rules: String, media: String, now: f64) {
        let size = rules.len() + media.len() + 8;
        let rules =
            if rules.is_empty() { Vec::new() } else { rules.split('\0').map(|r| clip(r, tape::MAX_FIELD)).collect() };
        let sheet = StyleSheet { id, owner, rules, media: clip(&media, 4096) };
        self.record(now, EventData::StyleSheet(sheet), size);
    }

    /// Records a rule inserted (`rule` set) into or deleted from a sheet through the CSSOM, at
    /// the index `path` (more than one index for rules inside grouping rules).
    #[wasm_bindgen(js_name = styleRule)]
    pub fn style_rule(&self, sheet: u32, path: Vec<u32>, rule: Option<String>, now: f64) {
        let rule = rule.map(|r| clip(&r, tape::MAX_FIELD));
        let size = rule.as_ref().map_or(0, String::len) + path.len() * 2 + 8;
        self.record(now, EventData::StyleRule(StyleRule { sheet, path, rule }), size);
    }

    /// Records the sheets a document or shadow root (`host`) adopted, in order.
    #[wasm_bindgen(js_name = adoptedStyleSheets)]
    pub fn adopted_style_sheets(&self, host: u32, sheets: Vec<u32>, now: f64) {
        let size = sheets.len() * 2 + 8;
        self.record(now, EventData::AdoptedStyleSheets(AdoptedStyleSheets { host, sheets }), size);
    }

    /// Records a request that ended at `end` (ms since the epoch) after starting at `start`:
    /// `initiator` 0 fetch, 1 XHR, 2 beacon; `status` 0 without a response; sizes negative when
    /// unknown. Headers (names and values joined by NUL) and bodies come only for allow-listed
    /// URLs, already redacted and capped by the wrapper; `traceparent` is the header the request
    /// carried, whether the SDK added it or the page did.
    #[allow(clippy::too_many_arguments)]
    pub fn network(
        &self,
        initiator: u8,
        method: String,
        url: String,
        status: u16,
        start: f64,
        end: f64,
        request_size: f64,
        response_size: f64,
        request_headers: Option<String>,
        request_body: Option<String>,
        request_body_size: f64,
        request_truncated: bool,
        response_headers: Option<String>,
        response_body: Option<String>,
        response_body_size: f64,
        response_truncated: bool,
        error: Option<String>,
        traceparent: Option<String>,
    ) {
        let size = |n: f64| (n >= 0.0).then_some(n as u64);
        let message = |headers: Option<String>, text: Option<String>, body_size: f64, truncated: bool| {
            let headers = headers?;
            let headers = headers.split('\0').collect::<Vec<_>>();
            let headers = headers.chunks_exact(2).map(|h| (clip(h[0], 256), clip(h[1], 4096))).collect();
            let body = (text.is_some() || body_size >= 0.0).then(|| Body {
                text: text.map(|t| clip(&t, tape::MAX_FIELD)),
                size: size(body_size).unwrap_or(0),
                truncated,
            });
            Some(HttpMessage { headers, body })
        };
        let request = message(request_headers, request_body, request_body_size, request_truncated);
        let response = message(response_headers, response_body, response_body_size, response_truncated);
        let bytes = url.len()
            + [&request, &response]
                .iter()
                .filter_map(|m| m.as_ref()?.body.as_ref()?.text.as_ref())
                .map(String::len)
                .sum::<usize>()
            + 64;
        let id = {
            let mut state = self.state.borrow_mut();
            state.requests += 1;
            state.requests
        };
        let network = Network {
            id,
            initiator: Initiator::from_u8(initiator),
            method: clip(&method, 32),
            url: clip(&url, 8192),
            status,
            duration: (end - start).max(0.0).min(f64::from(u32::MAX)) as u32,
            request_size: size(request_size),
            response_size: size(response_size),
            request,
            response,
            error: error.map(|e| clip(&e, 1024)),
            trace: traceparent.as_deref().and_then(TraceContext::from_traceparent),
        };
        self.record(end, EventData::Network(Box::new(network)), bytes);
    }

    /// Records an image of a `<canvas>` (`target`) as a `data:` URL.
    pub fn canvas(&self, target: u32, data_url: String, now: f64) {
        // An image cut short would not decode: one too big for a field is not recorded.
        if data_url.len() > tape::MAX_FIELD {
            return;
        }
        let size = data_url.len() + 8;
        self.record(now, EventData::Canvas(CanvasFrame { target, data_url }), size);
    }

    /// Records a pointer interaction: `kind` 0 click, 1 double click, 2 context click, 3 press,
    /// 4 release, 5 touch start, 6 touch end; `target` is the element's node id.
    pub fn pointer(&self, kind: u8, target: u32, x: i32, y: i32, now: f64) {
        let pointer = Pointer { kind: PointerKind::from_u8(kind), target, x, y };
        self.record(now, EventData::Pointer(pointer), 12);
    }

    /// Records sampled mouse positions as `x, y, offset` triples, the first at `now`.
    #[wasm_bindgen(js_name = mouseMoves)]
    pub fn mouse_moves(&self, samples: Vec<i32>, now: f64) {
        let points: Vec<MovePoint> = samples
            .chunks_exact(3)
            .map(|s| MovePoint { x: s[0], y: s[1], offset: u32::try_from(s[2]).unwrap_or(0) })
            .collect();
        if !points.is_empty() {
            let size = points.len() * 6;
            self.record(now, EventData::MouseMove(MouseMove { points }), size);
        }
    }

    /// Records a scroll position of the page (`target` is the document's id) or an element.
    pub fn scroll(&self, target: u32, x: i32, y: i32, now: f64) {
        self.record(now, EventData::Scroll(Scroll { target, x, y }), 12);
    }

    /// Records a form control's state: `value` as the walker masked it, `checked` 0 for not a
    /// checkbox or radio button, 1 unchecked, 2 checked.
    pub fn input(&self, target: u32, value: String, checked: u8, masked: bool, now: f64) {
        let checked = match checked {
            1 => Some(false),
            2 => Some(true),
            _ => None,
        };
        let value = clip(&value, tape::MAX_FIELD);
        let size = value.len() + 8;
        self.record(now, EventData::Input(Input { target, value, checked, masked }), size);
    }

    /// Records an element gaining (`focused`) or losing focus.
    pub fn focus(&self, target: u32, focused: bool, now: f64) {
        self.record(now, EventData::Focus(Focus { target, focused }), 8);
    }

    /// Called about once a second: cuts a batch when one is due. Returns whether the page
    /// should be snapshotted again because what came before can no longer be replayed on its
    /// own.
    pub fn tick(&self, now: f64) -> bool {
        let mut state = self.state.borrow_mut();
        if !state.stopped {
            if state.session.has_ended(now as u64) {
                state.rotate(now);
            }
            if !state.batcher.is_empty() && now - state.last_cut >= BATCH_INTERVAL_MS {
                state.cut(now);
            }
        }
        !state.stopped && std::mem::take(&mut state.keyframe_due)
    }

    /// The batch to post now, if one is due (also after `stop`, until everything recorded is
    /// delivered); the wrapper reports the answer to [`Recorder::answered`].
    #[wasm_bindgen(js_name = nextBatch)]
    pub fn next_batch(&self, now: f64) -> Option<Vec<u8>> {
        self.state.borrow_mut().outbox.next_to_send(now)
    }

    /// The collector answered the batch `sent` with `status` (0 when no response arrived) and
    /// the `Retry-After` header, if any. Returns whether the next batch should go right away.
    pub fn answered(&self, sent: Vec<u8>, status: u16, retry_after: Option<String>, now: f64) -> bool {
        let status = (status != 0).then_some(status);
        let retry_after = retry_after.as_deref().and_then(parse_retry_after);
        self.state.borrow_mut().outbox.answered(&sent, status, retry_after, js_sys::Math::random(), now)
    }

    /// Cuts what was recorded into a batch now (used by `stop()`, a hidden tab and tests).
    pub fn flush(&self, now: f64) {
        self.state.borrow_mut().cut(now);
    }

    /// The page is going away: hands what waits to `beacon` (which calls `sendBeacon` and
    /// returns whether the browser took it) within the browser's budget, and keeps the rest for
    /// the next page.
    pub fn unload(&self, now: f64, beacon: &js_sys::Function) {
        {
            let mut state = self.state.borrow_mut();
            state.cut(now);
            state.outbox.leave();
        }
        // The page may have wrapped `sendBeacon`: no borrow is held while it runs.
        loop {
            let Some(bytes) = self.state.borrow_mut().outbox.next_beacon() else { break };
            let sent = beacon.call1(&JsValue::NULL, &js_sys::Uint8Array::from(bytes.as_slice()));
            let accepted = sent.is_ok_and(|taken| taken.is_truthy());
            self.state.borrow_mut().outbox.beaconed(accepted);
        }
        let mut state = self.state.borrow_mut();
        let kept = state.outbox.take_kept();
        save_stash(&state.key, &kept);
        save(&state.session);
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
    fn record(&self, now: f64, data: EventData, size: usize) {
        let mut state = self.state.borrow_mut();
        if state.stopped {
            return;
        }
        state.activity(now);
        state.pending_bytes += size;
        state.batcher.push(now as u64, data);
        if state.batcher.len() >= BATCH_MAX_EVENTS || state.pending_bytes >= BATCH_MAX_BYTES {
            state.cut(now);
        }
    }
}

impl State {
    fn activity(&mut self, now: f64) {
        if self.session.has_ended(now as u64) {
            self.rotate(now);
        }
        self.session.touch(now as u64);
    }

    /// The session ended while the page stayed open: what was recorded goes out under the old
    /// session, and recording continues in a new one.
    fn rotate(&mut self, now: f64) {
        self.cut(now);
        let Ok(id) = random_session_id() else { return };
        self.session = Session::start(id, now as u64);
        self.batcher.restart(self.session.id, self.session.page);
        save(&self.session);
        // The new session needs to know who is on what too.
        if let Some(meta) = self.meta.clone() {
            self.batcher.push(now as u64, EventData::Meta(Box::new(meta)));
        }
        // And what the page looks like.
        self.keyframe_due = true;
    }

    fn cut(&mut self, now: f64) {
        self.last_cut = now;
        self.pending_bytes = 0;
        if let Ok(Some(shipment)) = self.batcher.take(now as u64) {
            let page = self.session.page;
            let dropped = self.outbox.dropped();
            self.outbox.push(Pending { page, seq: shipment.seq, bytes: shipment.bytes, attempts: 0 });
            // Changes recorded after a dropped batch refer to nodes the player may never see.
            self.keyframe_due |= self.outbox.dropped() != dropped;
        }
        save(&self.session);
    }
}

/// At most `max` bytes of `text`, cut at a character boundary.
fn clip(text: &str, max: usize) -> String {
    let mut end = text.len().min(max);
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    text[..end].to_owned()
}

#[wasm_bindgen]
extern "C" {
    /// `Object.entries`, which runs getters and proxy traps: declared as throwing, so a throw in
    /// the page's code becomes an `Err` here rather than unwinding through the recorder.
    #[wasm_bindgen(catch, js_namespace = Object, js_name = entries)]
    fn object_entries(value: &JsValue) -> Result<js_sys::Array, JsValue>;
}

/// Converts plain JSON-like JavaScript values; functions, symbols and cycles beyond the depth
/// become `null`, and text beyond the budget is cut.
fn to_value(value: &JsValue, depth: usize, budget: &mut usize) -> Value {
    if depth > 8 || *budget == 0 {
        return Value::Null;
    }
    if let Some(b) = value.as_bool() {
        return Value::Bool(b);
    }
    if let Some(n) = value.as_f64() {
        return if n.fract() == 0.0 && n.abs() < 9.0e15 { Value::Int(n as i64) } else { Value::Float(n) };
    }
    if let Some(s) = value.as_string() {
        let mut end = s.len().min(*budget);
        while !s.is_char_boundary(end) {
            end -= 1;
        }
        *budget -= end;
        return Value::Str(s[..end].to_owned());
    }
    if js_sys::Array::is_array(value) {
        let array = js_sys::Array::from(value);
        return Value::List(array.iter().take(100).map(|v| to_value(&v, depth + 1, budget)).collect());
    }
    if value.is_object() && !value.is_function() {
        let Ok(entries) = object_entries(value) else { return Value::Null };
        return Value::Map(
            entries
                .iter()
                .take(100)
                .filter_map(|entry| {
                    let pair = js_sys::Array::from(&entry);
                    let key = pair.get(0).as_string()?;
                    *budget = budget.saturating_sub(key.len());
                    Some((key, to_value(&pair.get(1), depth + 1, budget)))
                })
                .collect(),
        );
    }
    Value::Null
}

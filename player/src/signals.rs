//! Frustration and failure signals: the moments of a session a support engineer should look at
//! first, found from the recording alone.
//!
//! The rules (times are the recorded event times, in ms; "after" means later in the recording):
//! - **Rage click**: three or more clicks on the same element of one page, the third no more than
//!   [`RAGE_WINDOW_MS`] after the first. Further clicks on it each within
//!   [`RAGE_WINDOW_MS`] of the one before belong to the same burst. One signal per burst, at
//!   its first click, with the number of clicks.
//! - **Dead click**: a click on a control (a link, a button, a `role=button`-like element, a
//!   checkbox, radio or submit input, a `<summary>`; the clicked element or its nearest such
//!   ancestor) after which, within [`RESPONSE_WINDOW_MS`], nothing responds: no DOM change, no
//!   stylesheet change, no navigation or page load, no input value change, no scroll, and no
//!   request started. Clicks outside controls are not judged (clicking text or empty space to
//!   focus the window is normal), nor are links that open elsewhere (`target` other than
//!   `_self`, `download`, `mailto:`/`tel:`), clicks of a rage burst (the burst is the signal),
//!   error clicks, clicks less than [`RESPONSE_WINDOW_MS`] before their page's recording ends
//!   (the answer was never recorded), and the last click of a page the user then left (the
//!   next page's load answers it, however long it took).
//! - **Error click**: a click followed within [`RESPONSE_WINDOW_MS`], and before the next click,
//!   by an uncaught JS error or unhandled rejection, or by the start of a request that failed
//!   (a 5xx or a network error; see `Network::failed`).
//! - **Failed request**: every request that failed, at the moment it ended.

use serde::Serialize;
use sightline_protocol::{ErrorKind, EventData, NodeKind, PointerKind};

use crate::facts::error_line;
use crate::naming::describe;
use crate::{Replay, ReplayDom};

/// Clicks on one element within this long make a rage click (with three of them).
pub const RAGE_WINDOW_MS: u64 = 1_000;
/// How long after a click the page has to respond to it.
pub const RESPONSE_WINDOW_MS: u64 = 1_000;
/// Clicks in a rage burst before it is a signal.
const RAGE_CLICKS: usize = 3;
/// Ancestors looked through for the control a click landed in.
const CONTROL_DEPTH: usize = 8;
/// What a [`SignalFinder`] keeps at most, so that its memory is bounded whatever the recording
/// holds: clicks, and failures (requests and errors), each a line of text; and moments that
/// answer a click, a few bytes each. A real session stays far below them; past them, later
/// ones are not judged.
const MAX_CLICKS: usize = 100_000;
const MAX_FAILURES: usize = 100_000;
const MAX_RESPONSES: usize = 2_000_000;

/// What kind of moment.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum SignalKind {
    /// Repeated clicks on one element.
    RageClick,
    /// A click on a control that nothing answered.
    DeadClick,
    /// A click followed by a JS error or a failed request.
    ErrorClick,
    /// A request that failed.
    FailedRequest,
}

/// One signal.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Signal {
    /// What kind.
    pub kind: SignalKind,
    /// When (the first click, or the end of the failed request), ms since the epoch.
    pub time: u64,
    /// The page index.
    pub page: u32,
    /// The line as a support engineer reads it.
    pub summary: String,
    /// The element clicked, described, for click signals.
    pub target: Option<String>,
    /// Clicks in a rage burst; 1 for other click signals, 0 for a failed request.
    pub clicks: u32,
    /// What went wrong after an error click, or the failed request's line.
    pub cause: Option<String>,
    /// The failed request's HTTP status (0 when no response came).
    pub status: Option<u16>,
    /// The failed request's trace id, to find the backend's records of it.
    pub trace: Option<String>,
}

struct Click {
    index: usize,
    time: u64,
    page: u32,
    /// Whether a dead click can be told here: the page's recording goes on for the whole
    /// window, and the click isn't the last before leaving the page.
    judgeable: bool,
    /// The element the clicks of a burst must share: the control, or the target itself.
    element: u32,
    /// Whether the click landed in a control that can be judged dead.
    judged: bool,
    target: String,
}

struct Failure {
    index: usize,
    /// When the failing thing started (a request's start, an error's time).
    start: u64,
    summary: String,
}

/// Every signal of a replay, in time order.
pub fn signals(replay: &Replay) -> Vec<Signal> {
    let mut finder = SignalFinder::default();
    for (time, page, data) in replay.events() {
        finder.push(*time, *page, data);
    }
    finder.finish()
}

/// A submission this soon after a click is that click's doing (a submit button).
const SUBMIT_OF_CLICK_MS: u64 = 100;

/// Finds the signals of a recording fed to it one event at a time, in recorded order, so a
/// session can be read one batch at a time: it keeps the page as a tree and a few numbers per
/// click, request and error, never the events themselves.
#[derive(Default)]
pub struct SignalFinder {
    dom: ReplayDom,
    clicks: Vec<Click>,
    /// (time, index) of everything that answers a click.
    responses: Vec<(u64, usize)>,
    /// Each page's last event time and its last click.
    pages: std::collections::HashMap<u32, (u64, Option<usize>)>,
    failures: Vec<Failure>,
    /// (time, index) of the user's other actions (keys that act, submissions), in order: a
    /// failure after one of them is its, not the click's before.
    actions: Vec<(u64, usize)>,
    out: Vec<Signal>,
    /// The index of the next event.
    index: usize,
}

impl SignalFinder {
    /// Takes the next event of the recording.
    pub fn push(&mut self, time: u64, page: u32, data: &EventData) {
        let index = self.index;
        self.index += 1;
        let seen = self.pages.entry(page).or_insert((time, None));
        seen.0 = seen.0.max(time);
        match data {
            EventData::Pointer(p) if p.kind == PointerKind::Click && self.clicks.len() < MAX_CLICKS => {
                let control = control_of(&self.dom, p.target);
                seen.1 = Some(self.clicks.len());
                self.clicks.push(Click {
                    index,
                    time,
                    page,
                    judgeable: true,
                    element: control.map_or(p.target, |(id, _)| id),
                    judged: control.is_some_and(|(_, judged)| judged),
                    target: describe(&self.dom, p.target),
                });
            }
            EventData::Snapshot(_)
            | EventData::Mutation(_)
            | EventData::StyleSheet(_)
            | EventData::StyleRule(_)
            | EventData::AdoptedStyleSheets(_)
            | EventData::Navigation(_)
            | EventData::Input(_)
            | EventData::Scroll(_)
                if self.responses.len() < MAX_RESPONSES =>
            {
                self.responses.push((time, index));
            }
            EventData::Network(n) => {
                let start = time.saturating_sub(u64::from(n.duration));
                if self.responses.len() < MAX_RESPONSES {
                    self.responses.push((start, index));
                }
                if n.failed() && self.failures.len() < MAX_FAILURES {
                    let status = if n.status == 0 {
                        n.error.clone().unwrap_or_else(|| "no response".into())
                    } else {
                        n.status.to_string()
                    };
                    let summary = format!("{} {} {} after {} ms", n.method, n.url, status, n.duration);
                    self.failures.push(Failure { index, start, summary: summary.clone() });
                    self.out.push(Signal {
                        kind: SignalKind::FailedRequest,
                        time,
                        page,
                        summary: format!("Failed request: {summary}"),
                        target: None,
                        clicks: 0,
                        cause: Some(summary),
                        status: Some(n.status),
                        trace: n.trace.map(|t| t.trace_id.to_string()),
                    });
                }
            }
            // Keys that do something of their own (not Tab or the arrows, which move), and a
            // submission that isn't the click just before it.
            EventData::Key(key)
                if self.actions.len() < MAX_CLICKS
                    && (matches!(key.key.as_str(), "Enter" | " " | "Escape") || key.modifiers & 9 != 0) =>
            {
                self.actions.push((time, index));
            }
            EventData::Submit(_)
                if self.actions.len() < MAX_CLICKS
                    && self.clicks.last().is_none_or(|click| time.saturating_sub(click.time) >= SUBMIT_OF_CLICK_MS) =>
            {
                self.actions.push((time, index));
            }
            EventData::Error(e) if e.kind != ErrorKind::Resource && self.failures.len() < MAX_FAILURES => {
                self.failures.push(Failure { index, start: time, summary: error_line(&e.name, &e.message) })
            }
            _ => {}
        }
        self.dom.apply(data);
    }

    /// The signals of everything taken, in time order.
    pub fn finish(self) -> Vec<Signal> {
        let SignalFinder { mut clicks, mut responses, pages, mut failures, actions, mut out, .. } = self;
        let last_page = pages.keys().max().copied().unwrap_or(0);
        for click in &mut clicks {
            let (end, _) = pages[&click.page];
            click.judgeable = end >= click.time.saturating_add(RESPONSE_WINDOW_MS);
        }
        for (page, (_, last_click)) in &pages {
            if let Some(last) = last_click.filter(|_| *page < last_page) {
                clicks[last].judgeable = false;
            }
        }
        // Sorted by time, so each click looks only at its own window.
        responses.sort_unstable();
        failures.sort_by_key(|f| (f.start, f.index));
        judge_clicks(&clicks, &responses, &failures, &actions, &mut out);
        out.sort_by_key(|s| s.time);
        out
    }
}

/// Whether something in `sorted` (by time) happened in `window` after event `after`.
/// Whether something in `sorted` (by time, then event index) happened in `window`, later in
/// the recording than event `after`. Entries at the window's first moment that came before the
/// click are skipped by the search itself, so a crowd of them costs nothing.
fn any_after(sorted: &[(u64, usize)], window: &std::ops::RangeInclusive<u64>, after: usize) -> bool {
    let from = sorted.partition_point(|entry| *entry <= (*window.start(), after));
    sorted[from..].iter().take_while(|(time, _)| time <= window.end()).any(|(_, index)| *index > after)
}

fn judge_clicks(
    clicks: &[Click],
    responses: &[(u64, usize)],
    failures: &[Failure],
    actions: &[(u64, usize)],
    out: &mut Vec<Signal>,
) {
    // Where the run of clicks starting at each click ends: following clicks on the same element
    // of the same page, each soon after the one before (found once, from the end).
    let mut run_end = vec![0; clicks.len()];
    for i in (0..clicks.len()).rev() {
        let continues = clicks.get(i + 1).is_some_and(|next| {
            next.element == clicks[i].element
                && next.page == clicks[i].page
                && next.time <= clicks[i].time.saturating_add(RAGE_WINDOW_MS)
        });
        run_end[i] = if continues { run_end[i + 1] } else { i + 1 };
    }
    let mut i = 0;
    while i < clicks.len() {
        let burst = run_end[i];
        let first = &clicks[i];
        let rage =
            burst - i >= RAGE_CLICKS && clicks[i + RAGE_CLICKS - 1].time <= first.time.saturating_add(RAGE_WINDOW_MS);
        if rage {
            let count = burst - i;
            out.push(Signal {
                kind: SignalKind::RageClick,
                time: first.time,
                page: first.page,
                summary: format!("Rage click: {count} clicks on {}", first.target),
                target: Some(first.target.clone()),
                clicks: count as u32,
                cause: None,
                status: None,
                trace: None,
            });
        }
        for (j, click) in clicks.iter().enumerate().take(if rage { burst } else { i + 1 }).skip(i) {
            let window = click.time..=click.time.saturating_add(RESPONSE_WINDOW_MS);
            // A failure belongs to the latest action before it (a click, a key, a submission),
            // not to every click in reach.
            let next_action =
                actions.get(actions.partition_point(|(_, index)| *index <= click.index)).map_or(u64::MAX, |a| a.0);
            let next_click = clicks.get(j + 1).map_or(u64::MAX, |c| c.time).min(next_action);
            let from = failures.partition_point(|f| (f.start, f.index) <= (click.time, click.index));
            let failure = failures[from..]
                .iter()
                .take_while(|f| window.contains(&f.start))
                .find(|f| f.index > click.index && f.start < next_click);
            if let Some(failure) = failure {
                out.push(Signal {
                    kind: SignalKind::ErrorClick,
                    time: click.time,
                    page: click.page,
                    summary: format!("Error click on {}: {}", click.target, failure.summary),
                    target: Some(click.target.clone()),
                    clicks: 1,
                    cause: Some(failure.summary.clone()),
                    status: None,
                    trace: None,
                });
                continue;
            }
            if !rage && click.judged && click.judgeable && !any_after(responses, &window, click.index) {
                out.push(Signal {
                    kind: SignalKind::DeadClick,
                    time: click.time,
                    page: click.page,
                    summary: format!("Dead click on {}: nothing happened within 1 s", click.target),
                    target: Some(click.target.clone()),
                    clicks: 1,
                    cause: None,
                    status: None,
                    trace: None,
                });
            }
        }
        i = if rage { burst } else { i + 1 };
    }
}

/// The control a click on `id` landed in, and whether a missing answer to it means something:
/// `None` outside controls.
fn control_of(dom: &ReplayDom, id: u32) -> Option<(u32, bool)> {
    let mut current = id;
    for _ in 0..CONTROL_DEPTH {
        let node = dom.node(current)?;
        if let NodeKind::Element(element) = &node.kind {
            let attr = |name: &str| element.attrs.iter().find(|(n, _)| n == name).map(|(_, v)| v.as_str());
            let role = attr("role").unwrap_or("");
            let control = match element.tag.as_str() {
                "a" => attr("href").map(|href| {
                    let elsewhere = attr("target").is_some_and(|t| !t.eq_ignore_ascii_case("_self"))
                        || attr("download").is_some()
                        || href.starts_with("mailto:")
                        || href.starts_with("tel:");
                    !elsewhere
                }),
                "button" | "summary" => Some(true),
                "input" => match attr("type").unwrap_or("text").to_ascii_lowercase().as_str() {
                    "button" | "submit" | "reset" | "image" | "checkbox" | "radio" => Some(true),
                    _ => Some(false),
                },
                "select" | "textarea" | "label" => Some(false),
                _ if matches!(role, "button" | "link" | "tab" | "menuitem" | "checkbox" | "switch") => Some(true),
                _ => None,
            };
            if let Some(judged) = control {
                return Some((current, judged));
            }
        }
        current = node.parent;
    }
    None
}

#[cfg(test)]
mod tests {
    use sightline_protocol::{
        Batch, Element, ErrorEvent, Event, Initiator, Mutation, Namespace, Network, Node, Pointer, Snapshot,
    };

    use super::*;

    /// A page with a button (id 4), a link opening a new tab (id 5), a text input (id 6) and
    /// a paragraph (id 7), then `events` as `(ms after start, event)`.
    fn session(events: Vec<(u64, EventData)>) -> Replay {
        let element = |id, parent, tag: &str, attrs: &[(&str, &str)]| Node {
            id,
            parent,
            kind: NodeKind::Element(Element {
                tag: tag.into(),
                attrs: attrs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect(),
                ns: Namespace::Html,
            }),
            next: 0,
        };
        let nodes = vec![
            Node { id: 1, parent: 0, kind: NodeKind::Document(Default::default()), next: 0 },
            element(2, 1, "html", &[]),
            element(3, 2, "body", &[]),
            element(4, 3, "button", &[("id", "send")]),
            element(5, 3, "a", &[("href", "https://docs.example/"), ("target", "_blank")]),
            element(6, 3, "input", &[("type", "text")]),
            element(7, 3, "p", &[]),
        ];
        let mut all = vec![(0, EventData::Snapshot(Snapshot { nodes }))];
        all.extend(events);
        // A last event long after, so no click is too close to the end to judge.
        all.push((60_000, EventData::Visibility(sightline_protocol::Visibility { visible: false })));
        Replay::new(&[page(0, 1_000_000, Event::sequence(0, all))])
    }

    /// Page `page`'s batch, starting at `start`.
    fn page(page: u32, start: u64, events: Vec<Event>) -> Batch {
        Batch {
            project: "p".into(),
            session: Default::default(),
            page,
            seq: 0,
            start,
            sent: 0,
            events,
            trace_key: None,
        }
    }

    fn click(target: u32) -> EventData {
        EventData::Pointer(Pointer { kind: PointerKind::Click, target, x: 10, y: 10 })
    }

    fn changed() -> EventData {
        EventData::Mutation(Mutation { removes: vec![7], ..Default::default() })
    }

    fn request(status: u16, duration: u32) -> EventData {
        EventData::Network(Box::new(Network {
            initiator: Initiator::Fetch,
            method: "POST".into(),
            url: "https://app.example/api/send".into(),
            status,
            duration,
            ..Default::default()
        }))
    }

    fn kinds(replay: &Replay) -> Vec<(SignalKind, u64)> {
        signals(replay).iter().map(|s| (s.kind, s.time - 1_000_000)).collect()
    }

    #[test]
    fn a_journey_where_everything_answers_has_no_signal() {
        let replay = session(vec![
            (1_000, click(4)),
            (1_200, changed()),
            (5_000, click(4)),
            (5_900, request(200, 300)),
            (9_000, click(6)),
            (12_000, click(7)),
            (15_000, click(5)),
            (20_000, click(4)),
            (20_100, changed()),
            (21_500, click(4)),
            (21_600, changed()),
            (23_000, click(4)),
            (23_800, changed()),
        ]);
        assert_eq!(kinds(&replay), []);
    }

    #[test]
    fn three_quick_clicks_on_one_element_are_one_rage_click() {
        let replay = session(vec![
            (1_000, click(4)),
            (1_300, click(4)),
            (1_700, click(4)),
            (2_500, click(4)),
            (2_600, changed()),
        ]);
        let found = signals(&replay);
        assert_eq!(kinds(&replay), [(SignalKind::RageClick, 1_000)]);
        assert_eq!(found[0].clicks, 4);
        assert_eq!(found[0].summary, "Rage click: 4 clicks on the button (button#send)");
    }

    #[test]
    fn three_clicks_spread_over_more_than_a_second_are_not_rage() {
        let replay = session(vec![
            (1_000, click(4)),
            (1_100, changed()),
            (1_800, click(4)),
            (1_900, changed()),
            (2_600, click(4)),
            (2_700, changed()),
        ]);
        assert_eq!(kinds(&replay), []);
    }

    #[test]
    fn a_button_click_nothing_answers_is_a_dead_click() {
        let replay = session(vec![(1_000, click(4)), (2_500, changed())]);
        let found = signals(&replay);
        assert_eq!(kinds(&replay), [(SignalKind::DeadClick, 1_000)]);
        assert_eq!(found[0].target.as_deref(), Some("the button (button#send)"));
    }

    #[test]
    fn a_request_started_by_the_click_answers_it_even_when_it_ends_late() {
        // Started 100 ms after the click, ended 3 s later.
        let replay = session(vec![(1_000, click(4)), (4_100, request(200, 3_000))]);
        assert_eq!(kinds(&replay), []);
    }

    #[test]
    fn a_click_followed_by_a_failed_request_is_an_error_click() {
        let replay = session(vec![(1_000, click(4)), (1_400, request(500, 200))]);
        let found = signals(&replay);
        assert_eq!(kinds(&replay), [(SignalKind::ErrorClick, 1_000), (SignalKind::FailedRequest, 1_400)]);
        assert!(found[0].cause.as_deref().unwrap().contains("500"), "{:?}", found[0]);
        assert_eq!(found[1].status, Some(500));
    }

    #[test]
    fn a_failure_belongs_to_the_latest_click_before_it() {
        let replay =
            session(vec![(1_000, click(7)), (1_100, changed()), (1_300, click(4)), (1_600, request(500, 200))]);
        let found = signals(&replay);
        assert_eq!(kinds(&replay), [(SignalKind::ErrorClick, 1_300), (SignalKind::FailedRequest, 1_600)]);
        assert_eq!(found[0].target.as_deref(), Some("the button (button#send)"));
    }

    #[test]
    fn a_click_followed_by_an_exception_is_an_error_click() {
        let error = EventData::Error(Box::new(ErrorEvent {
            name: "TypeError".into(),
            message: "x is undefined".into(),
            ..Default::default()
        }));
        let replay = session(vec![(1_000, click(7)), (1_050, error)]);
        let found = signals(&replay);
        assert_eq!(kinds(&replay), [(SignalKind::ErrorClick, 1_000)]);
        assert_eq!(found[0].cause.as_deref(), Some("TypeError: x is undefined"));
    }

    #[test]
    fn a_failure_after_a_key_press_is_the_keys_not_the_clicks_before() {
        let error = EventData::Error(Box::new(ErrorEvent {
            name: "TypeError".into(),
            message: "x is undefined".into(),
            ..Default::default()
        }));
        // The click that focused the field, then Enter in it, then the failure.
        let enter = EventData::Key(sightline_protocol::Key { target: 7, key: "Enter".into(), modifiers: 0 });
        let replay = session(vec![(1_000, click(7)), (1_300, enter), (1_350, error)]);
        assert_eq!(kinds(&replay), []);
        let submitted = || EventData::Submit(sightline_protocol::Submit { target: 3 });
        let replay = session(vec![(1_000, click(7)), (1_300, submitted()), (1_600, request(500, 200))]);
        assert_eq!(kinds(&replay), [(SignalKind::FailedRequest, 1_600)]);
        // The submit button's click submits: the failure is still that click's.
        let replay = session(vec![(1_000, click(7)), (1_000, submitted()), (1_600, request(500, 200))]);
        assert_eq!(kinds(&replay), [(SignalKind::ErrorClick, 1_000), (SignalKind::FailedRequest, 1_600)]);
        // Tab moves on; it does nothing of its own.
        let tab = EventData::Key(sightline_protocol::Key { target: 7, key: "Tab".into(), modifiers: 0 });
        let replay = session(vec![(1_000, click(7)), (1_100, tab), (1_600, request(500, 200))]);
        assert_eq!(kinds(&replay), [(SignalKind::ErrorClick, 1_000), (SignalKind::FailedRequest, 1_600)]);
    }

    #[test]
    fn the_last_click_before_the_next_page_is_answered_by_it() {
        let first = session(vec![(1_000, click(4))]);
        let first = Event::sequence(1_000_000, first.events().iter().map(|(t, _, d)| (*t, d.clone())));
        let replay =
            Replay::new(&[page(0, 1_000_000, first), page(1, 1_004_000, vec![Event { dt: 0, data: changed() }])]);
        assert_eq!(kinds(&replay), [], "the click that left the page, slowly, is not dead");
    }

    #[test]
    fn a_click_just_before_the_recording_ends_is_not_judged() {
        let element = session(vec![]);
        let end = element.span().unwrap().1 - 1_000_000;
        let replay = session(vec![(end - 500, click(4))]);
        assert_eq!(kinds(&replay), []);
    }
}

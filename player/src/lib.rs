//! Sightline's replay core: a recorded session's page rebuilt at any moment.
//!
//! [`Replay`] orders a session's events in time; [`Replay::dom_at`] rebuilds the page as it was
//! at a moment, starting from the latest keyframe before it, so seeking anywhere costs at most
//! one keyframe interval of changes; [`inert`] decides what of it is shown, and
//! [`html::to_html`] writes that as inert HTML for a sandboxed frame, while [`live::LiveFrame`]
//! gives the viewer's frame the changes that take it from one moment to the next. The viewer
//! compiles this crate to wasm; tests use it natively to compare a replay with the live page.

mod alerts;
pub mod css;
pub mod dom;
pub mod facts;
pub mod html;
pub mod inert;
pub mod live;
mod naming;
pub mod page;
pub mod repro;
pub mod signals;
#[cfg(target_arch = "wasm32")]
pub mod wasm;

pub use dom::{ReplayDom, ReplayNode};

use sightline_protocol::{Batch, EventData, PointerKind, Size};

/// How long after a click its indicator shows, in ms.
const CLICK_SHOWN_MS: u64 = 500;
/// How far back a mouse move event may hold points, in ms: a move event's points span at most
/// a batch's interval.
const MOVES_SPAN_MS: u64 = 10_000;
/// Points a trail holds at most.
const TRAIL_POINTS: usize = 200;

/// Where the mouse was at a moment, and whether it had just clicked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PointerAt {
    /// X in CSS pixels from the viewport's left.
    pub x: i32,
    /// Y in CSS pixels from the viewport's top.
    pub y: i32,
    /// A click happened within the last half second.
    pub clicked: bool,
}

/// A session's events in the order they happened, each with its page and absolute time.
#[derive(Debug, Clone, Default)]
pub struct Replay {
    events: Vec<(u64, u32, EventData)>,
}

impl Replay {
    /// The events of a session's batches, taken in `(page, seq)` order as the collector streams
    /// them.
    pub fn new(batches: &[Batch]) -> Replay {
        Replay::from_batches(batches.to_vec())
    }

    /// The same, taking the batches: their events move into the replay, uncopied.
    pub fn from_batches(mut batches: Vec<Batch>) -> Replay {
        batches.sort_by_key(|b| (b.page, b.seq));
        let mut events = Vec::with_capacity(batches.iter().map(|b| b.events.len()).sum());
        for batch in batches {
            let mut time = batch.start;
            for event in batch.events {
                time = time.saturating_add(u64::from(event.dt));
                events.push((time, batch.page, event.data));
            }
        }
        Replay { events }
    }

    /// A batch that came after all the others (a session followed live): its events are added
    /// at the end.
    pub fn extend(&mut self, batch: Batch) {
        let mut time = batch.start;
        for event in batch.events {
            time = time.saturating_add(u64::from(event.dt));
            self.events.push((time, batch.page, event.data));
        }
    }

    /// The events with their times and pages, in order.
    pub fn events(&self) -> &[(u64, u32, EventData)] {
        &self.events
    }

    /// Time of the first and the last event.
    pub fn span(&self) -> Option<(u64, u64)> {
        Some((self.events.first()?.0, self.events.iter().map(|e| e.0).max()?))
    }

    /// The page as it was at `time` (ms since the epoch): the latest snapshot at or before it,
    /// with every change after that snapshot up to `time`.
    pub fn dom_at(&self, time: u64) -> ReplayDom {
        let until = self.events.partition_point(|(t, _, _)| *t <= time);
        let from =
            self.events[..until].iter().rposition(|(_, _, data)| matches!(data, EventData::Snapshot(_))).unwrap_or(0);
        let mut dom = ReplayDom::new();
        for (_, _, data) in &self.events[from..until] {
            dom.apply(data);
        }
        dom
    }

    /// Where the mouse was at `time`: the latest sampled position or pointer event at or
    /// before it, on the same page.
    pub fn pointer_at(&self, time: u64) -> Option<PointerAt> {
        let until = self.events.partition_point(|(t, _, _)| *t <= time);
        let page = self.events[..until].last()?.1;
        let mut clicked = false;
        for (at, event_page, data) in self.events[..until].iter().rev() {
            if *event_page != page {
                return None;
            }
            match data {
                EventData::Pointer(p) => {
                    let click =
                        matches!(p.kind, PointerKind::Click | PointerKind::DoubleClick | PointerKind::ContextMenu);
                    clicked |= click && time.saturating_sub(*at) <= CLICK_SHOWN_MS;
                    return Some(PointerAt { x: p.x, y: p.y, clicked });
                }
                EventData::MouseMove(moves) => {
                    let point = moves.points.iter().rev().find(|p| at + u64::from(p.offset) <= time);
                    if let Some(point) = point.or(moves.points.first()) {
                        return Some(PointerAt { x: point.x, y: point.y, clicked });
                    }
                }
                _ => {}
            }
        }
        None
    }

    /// Where the mouse went in the `span` ms up to `time`, oldest first, on the page it was on
    /// at `time` (at most 200 points).
    pub fn pointer_trail(&self, time: u64, span: u64) -> Vec<(i32, i32)> {
        let until = self.events.partition_point(|(t, _, _)| *t <= time);
        let Some(page) = self.events[..until].last().map(|e| e.1) else { return vec![] };
        let from = time.saturating_sub(span);
        let mut trail = Vec::new();
        for (at, event_page, data) in self.events[..until].iter().rev() {
            if *event_page != page || at.saturating_add(MOVES_SPAN_MS) < from || trail.len() >= TRAIL_POINTS {
                break;
            }
            match data {
                EventData::Pointer(p) if *at >= from => trail.push((p.x, p.y)),
                EventData::MouseMove(moves) => {
                    let within =
                        |p: &&sightline_protocol::MovePoint| (from..=time).contains(&(at + u64::from(p.offset)));
                    trail.extend(moves.points.iter().rev().filter(within).map(|p| (p.x, p.y)));
                }
                _ => {}
            }
        }
        trail.truncate(TRAIL_POINTS);
        trail.reverse();
        trail
    }

    /// The viewport's size at `time`: the latest size recorded at or before it.
    pub fn viewport_at(&self, time: u64) -> Option<Size> {
        let until = self.events.partition_point(|(t, _, _)| *t <= time);
        self.events[..until].iter().rev().find_map(|(_, _, data)| match data {
            EventData::Viewport(v) => Some(v.size),
            EventData::Meta(meta) => Some(meta.viewport),
            _ => None,
        })
    }

    /// The page the user was on at `time`: the URL and title of the latest load or route
    /// change at or before it.
    pub fn page_at(&self, time: u64) -> Option<(&str, &str)> {
        let until = self.events.partition_point(|(t, _, _)| *t <= time);
        self.events[..until].iter().rev().find_map(|(_, _, data)| match data {
            EventData::Navigation(n) => Some((n.url.as_str(), n.title.as_str())),
            EventData::Meta(meta) => Some((meta.url.as_str(), meta.title.as_str())),
            _ => None,
        })
    }

    /// The time of the first event after `time`, if any: where playback that skips inactivity
    /// goes next.
    pub fn next_event_after(&self, time: u64) -> Option<u64> {
        self.events.get(self.events.partition_point(|(t, _, _)| *t <= time)).map(|(t, _, _)| *t)
    }

    /// The page as it was after the last event.
    pub fn dom_at_end(&self) -> ReplayDom {
        self.dom_at(u64::MAX)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use sightline_protocol::{Event, MouseMove, MovePoint, Pointer, SessionId, Viewport};

    #[test]
    fn a_session_followed_live_grows_into_the_session_read_at_once() {
        let batches: Vec<Batch> = sightline_protocol::fixtures::all().into_iter().map(|(_, b)| b).collect();
        let mut growing = Replay::from_batches(batches[..1].to_vec());
        for later in &batches[1..] {
            growing.extend(later.clone());
        }
        assert_eq!(growing.events(), Replay::new(&batches).events());
    }

    fn batch(events: Vec<Event>) -> Batch {
        Batch {
            project: "slk".into(),
            session: SessionId([1; 16]),
            page: 0,
            seq: 0,
            start: 1_000,
            sent: 9_000,
            events,
            trace_key: None,
        }
    }

    #[test]
    fn the_page_is_known_at_each_moment() {
        use sightline_protocol::{Navigation, NavigationKind};
        let went = |kind, url: &str| EventData::Navigation(Navigation { kind, url: url.into(), title: url.into() });
        let replay = Replay::new(&[batch(vec![
            Event { dt: 0, data: went(NavigationKind::Load, "/a") },
            Event { dt: 100, data: went(NavigationKind::Push, "/b") },
        ])]);
        assert_eq!(replay.page_at(999), None, "before the first load");
        assert_eq!(replay.page_at(1_050), Some(("/a", "/a")));
        assert_eq!(replay.page_at(1_100), Some(("/b", "/b")));
    }

    #[test]
    fn the_pointer_and_viewport_are_known_at_each_moment() {
        let moves =
            MouseMove { points: vec![MovePoint { x: 10, y: 10, offset: 0 }, MovePoint { x: 30, y: 40, offset: 200 }] };
        let click = Pointer { kind: PointerKind::Click, target: 3, x: 31, y: 41 };
        let replay = Replay::new(&[batch(vec![
            Event { dt: 0, data: EventData::Viewport(Viewport { size: Size { width: 1280, height: 720 } }) },
            Event { dt: 100, data: EventData::MouseMove(moves) },
            Event { dt: 1_000, data: EventData::Pointer(click) },
        ])]);
        assert_eq!(replay.pointer_at(1_050), None, "nothing before the first move");
        assert_eq!(replay.pointer_at(1_150), Some(PointerAt { x: 10, y: 10, clicked: false }));
        assert_eq!(replay.pointer_at(1_350), Some(PointerAt { x: 30, y: 40, clicked: false }));
        assert_eq!(replay.pointer_at(2_200), Some(PointerAt { x: 31, y: 41, clicked: true }), "just clicked");
        assert_eq!(replay.pointer_at(2_800), Some(PointerAt { x: 31, y: 41, clicked: false }));
        assert_eq!(replay.viewport_at(2_800), Some(Size { width: 1280, height: 720 }));
        assert_eq!(replay.viewport_at(500), None);
        assert_eq!((replay.next_event_after(1_050), replay.next_event_after(1_100)), (Some(1_100), Some(2_100)));
        assert_eq!(replay.next_event_after(2_100), None);
        assert_eq!(replay.pointer_trail(1_350, 1_000), vec![(10, 10), (30, 40)], "the moves of the last second");
        assert_eq!(replay.pointer_trail(2_200, 1_000), vec![(30, 40), (31, 41)]);
        assert_eq!(replay.pointer_trail(2_400, 1_000), vec![(31, 41)], "the click; the moves are older");
        assert!(replay.pointer_trail(900, 1_000).is_empty());
    }
}

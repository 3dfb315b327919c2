//! The replay core for the viewer, through wasm-bindgen.

use wasm_bindgen::prelude::*;

use crate::{html::to_html, live::LiveFrame, Replay};

/// A session loaded for replay.
#[wasm_bindgen]
pub struct Player {
    replay: Replay,
    frame: LiveFrame,
    /// The page and seq of the last batch, for a live view to ask for what came after.
    last: Option<(u32, u32)>,
}

#[wasm_bindgen]
impl Player {
    /// Loads a session from the events stream the collector serves for it.
    #[wasm_bindgen(constructor)]
    pub fn new(stream: &[u8]) -> Result<Player, JsError> {
        let batches = sightline_protocol::stream::read_stream(stream).map_err(|e| JsError::new(&format!("{e:?}")))?;
        let last = batches.iter().map(|b| (b.page, b.seq)).max();
        Ok(Player { replay: Replay::from_batches(batches), frame: LiveFrame::new(), last })
    }

    /// The last batch as `page.seq`, what a live view asks for batches after; empty for none.
    #[wasm_bindgen(js_name = lastBatch)]
    pub fn last_batch(&self) -> String {
        self.last.map(|(page, seq)| format!("{page}.{seq}")).unwrap_or_default()
    }

    /// Adds the batches of `stream`, which came after the last one (a session followed live);
    /// `false`, adding nothing, when one of them doesn't come after it (load the session again).
    pub fn append(&mut self, stream: &[u8]) -> Result<bool, JsError> {
        let mut batches =
            sightline_protocol::stream::read_stream(stream).map_err(|e| JsError::new(&format!("{e:?}")))?;
        batches.sort_by_key(|b| (b.page, b.seq));
        if batches.first().is_some_and(|b| self.last.is_some_and(|last| (b.page, b.seq) <= last)) {
            return Ok(false);
        }
        for batch in batches {
            self.last = Some((batch.page, batch.seq));
            self.replay.extend(batch);
        }
        Ok(true)
    }

    /// The time of the first event, in ms since the epoch (0 for an empty session).
    pub fn start(&self) -> f64 {
        self.replay.span().map_or(0.0, |(start, _)| start as f64)
    }

    /// The time of the last event, in ms since the epoch (0 for an empty session).
    pub fn end(&self) -> f64 {
        self.replay.span().map_or(0.0, |(_, end)| end as f64)
    }

    /// Whether the session holds a page to show: a keyframe.
    #[wasm_bindgen(js_name = hasPage)]
    pub fn has_page(&self) -> bool {
        self.replay.events().iter().any(|(_, _, data)| matches!(data, sightline_protocol::EventData::Snapshot(_)))
    }

    /// The page at `time` as inert HTML for a sandboxed frame, and its scroll position: empty
    /// when nothing was recorded yet at that time.
    #[wasm_bindgen(js_name = htmlAt)]
    pub fn html_at(&self, time: f64) -> String {
        let dom = self.replay.dom_at(time.max(0.0) as u64);
        dom.roots().next().map(|root| to_html(&dom, root)).unwrap_or_default()
    }

    /// What brings the viewer's live frame to `time`, as JSON: `{"reset": [doctype, document
    /// id] or null, "ops": [...]}` (see [`crate::live`]).
    #[wasm_bindgen(js_name = frameAt)]
    pub fn frame_at(&mut self, time: f64) -> String {
        let frame = self.frame.advance(&self.replay, time.max(0.0) as u64);
        serde_json::to_string(&frame).unwrap_or_else(|_| r#"{"reset":null,"ops":[]}"#.into())
    }

    /// The facts next to the replay (activity, network, console), in time order, as JSON.
    pub fn facts(&self) -> String {
        serde_json::to_string(&crate::facts::facts(&self.replay)).unwrap_or_else(|_| "[]".into())
    }

    /// The frustration and failure signals (rage, dead and error clicks, failed requests), in
    /// time order, as JSON.
    pub fn signals(&self) -> String {
        serde_json::to_string(&crate::signals::signals(&self.replay)).unwrap_or_else(|_| "[]".into())
    }

    /// Where the mouse was at `time`, as `[x, y, clicked]` (`clicked` 1 within half a second
    /// of a click); empty when no position was recorded yet.
    #[wasm_bindgen(js_name = pointerAt)]
    pub fn pointer_at(&self, time: f64) -> Vec<i32> {
        self.replay.pointer_at(time.max(0.0) as u64).map(|p| vec![p.x, p.y, i32::from(p.clicked)]).unwrap_or_default()
    }

    /// Where the mouse went in the second up to `time`, as `[x0, y0, x1, y1, …]`, oldest first.
    #[wasm_bindgen(js_name = trailAt)]
    pub fn trail_at(&self, time: f64) -> Vec<i32> {
        self.replay.pointer_trail(time.max(0.0) as u64, 1_000).into_iter().flat_map(|(x, y)| [x, y]).collect()
    }

    /// The last points the pointer went through up to `time` (at most 8, within a minute),
    /// as `[x0, y0, x1, y1, …]`, oldest first: the path the viewer moves along to show what
    /// was hovered.
    #[wasm_bindgen(js_name = pathAt)]
    pub fn path_at(&self, time: f64) -> Vec<i32> {
        let trail = self.replay.pointer_trail(time.max(0.0) as u64, 60_000);
        trail[trail.len().saturating_sub(8)..].iter().flat_map(|&(x, y)| [x, y]).collect()
    }

    /// The recorded viewport at `time`, as `[width, height]`; empty when unknown.
    #[wasm_bindgen(js_name = viewportAt)]
    pub fn viewport_at(&self, time: f64) -> Vec<u32> {
        self.replay
            .viewport_at(time.max(0.0) as u64)
            .filter(|size| size.width > 0 && size.height > 0)
            .map(|size| vec![size.width, size.height])
            .unwrap_or_default()
    }

    /// The page the user was on at `time`, as `[url, title]`; empty before the first load.
    #[wasm_bindgen(js_name = pageAt)]
    pub fn page_at(&self, time: f64) -> Vec<String> {
        self.replay
            .page_at(time.max(0.0) as u64)
            .map(|(url, title)| vec![url.to_owned(), title.to_owned()])
            .unwrap_or_default()
    }

    /// The time of the first event after `time`; 0 when there is none.
    #[wasm_bindgen(js_name = nextEventAfter)]
    pub fn next_event_after(&self, time: f64) -> f64 {
        self.replay.next_event_after(time.max(0.0) as u64).map_or(0.0, |t| t as f64)
    }

    /// The page's scroll position at `time`, as `[x, y]`.
    #[wasm_bindgen(js_name = scrollAt)]
    pub fn scroll_at(&self, time: f64) -> Vec<i32> {
        let dom = self.replay.dom_at(time.max(0.0) as u64);
        let scroll = dom.roots().next().and_then(|root| dom.node(root)?.scroll).unwrap_or((0, 0));
        vec![scroll.0, scroll.1]
    }
}

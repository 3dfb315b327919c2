//! Per-session summaries, folded from each batch at ingest so that finding a session never
//! needs its events: who, on what, where, when, and what went wrong.

use serde::{Deserialize, Serialize};
use sightline_protocol::{Batch, DeviceType, EventData, NavigationKind, SessionId, TraceId};

/// Pages kept in a summary; a session visiting more keeps its first ones.
const MAX_PAGES: usize = 200;
/// Distinct URLs kept in a summary.
const MAX_URLS: usize = 100;

/// What the query API knows about a session without reading its events.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct SessionSummary {
    /// The session id, as hex.
    pub id: String,
    /// When the collector received the session's first batch (ms since the Unix epoch); the
    /// listing order.
    pub first_seen: u64,
    /// When the collector received the latest batch.
    pub last_seen: u64,
    /// Time of the earliest event, by the client's clock.
    pub start: u64,
    /// Time of the latest event, by the client's clock.
    pub end: u64,
    /// `end - start` in milliseconds.
    pub duration_ms: u64,
    /// The user id given to `identify`.
    pub user_id: Option<String>,
    /// The `email` trait, if any.
    pub email: Option<String>,
    /// The latest traits, as JSON.
    pub traits: serde_json::Value,
    /// Device, browser and locale from the page metadata.
    pub device: Device,
    /// Where the client IP places the user, when a GeoIP database is configured.
    pub geo: Geo,
    /// Pages (loads) in order.
    pub pages: Vec<PageVisit>,
    /// Distinct URLs visited, loads and route changes alike, in order of first visit.
    pub urls: Vec<String>,
    /// JS errors (uncaught, rejections, failed resources).
    pub error_count: u64,
    /// Requests that failed: status ≥ 500 or no response.
    pub failed_request_count: u64,
    /// Requests recorded.
    pub request_count: u64,
    /// Distinct trace ids seen on requests.
    pub trace_count: u64,
    /// Events recorded.
    pub event_count: u64,
    /// Batches stored.
    pub batch_count: u64,
    /// Compressed bytes stored.
    pub bytes: u64,
}

/// The client's device and locale.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Device {
    /// `desktop`, `mobile`, `tablet`, `bot` or `unknown`.
    pub kind: String,
    /// Browser name.
    pub browser: String,
    /// Browser version.
    pub browser_version: String,
    /// Operating system name.
    pub os: String,
    /// Operating system version.
    pub os_version: String,
    /// Screen width × height.
    pub screen: [u32; 2],
    /// Viewport width × height at the latest load.
    pub viewport: [u32; 2],
    /// Device pixel ratio.
    pub pixel_ratio: f32,
    /// Preferred language.
    pub language: String,
    /// IANA time zone.
    pub timezone: String,
    /// Minutes east of UTC.
    pub utc_offset: i16,
    /// Raw user agent.
    pub user_agent: String,
    /// SDK version.
    pub sdk: String,
}

/// Geolocation of the client IP.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Geo {
    /// ISO 3166-1 alpha-2 country code.
    pub country: Option<String>,
    /// City name in English.
    pub city: Option<String>,
}

/// One page load of the session.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct PageVisit {
    /// Page index within the session.
    pub page: u32,
    /// URL at load.
    pub url: String,
    /// Title at load.
    pub title: String,
    /// Time of the load by the client's clock.
    pub start: u64,
}

/// Index entries a batch adds, for the store to write next to the summary.
#[derive(Debug, Default, PartialEq)]
pub struct IndexDelta {
    /// User ids and emails (lowercased) that now identify the session.
    pub users: Vec<String>,
    /// Trace ids of the batch's requests, with the time of the request's start.
    pub traces: Vec<(TraceId, u64)>,
}

impl SessionSummary {
    /// An empty summary for a session first seen now.
    pub fn new(session: SessionId, received_at: u64) -> Self {
        SessionSummary {
            id: session.to_string(),
            first_seen: received_at,
            last_seen: received_at,
            traits: serde_json::Value::Null,
            ..Default::default()
        }
    }

    /// Folds one batch in; `bytes` is its compressed size. Returns the index entries it adds.
    pub fn apply(&mut self, batch: &Batch, bytes: usize, received_at: u64) -> IndexDelta {
        let mut delta = IndexDelta::default();
        self.last_seen = self.last_seen.max(received_at);
        self.batch_count += 1;
        self.bytes += bytes as u64;
        self.event_count += batch.events.len() as u64;

        for timed in batch.timed_events() {
            self.observe_time(timed.time);
            match &timed.event.data {
                EventData::Meta(meta) => {
                    self.device = Device {
                        kind: device_kind(meta.device).into(),
                        browser: meta.browser.name.clone(),
                        browser_version: meta.browser.version.clone(),
                        os: meta.os.name.clone(),
                        os_version: meta.os.version.clone(),
                        screen: [meta.screen.width, meta.screen.height],
                        viewport: [meta.viewport.width, meta.viewport.height],
                        pixel_ratio: meta.pixel_ratio,
                        language: meta.language.clone(),
                        timezone: meta.timezone.clone(),
                        utc_offset: meta.utc_offset,
                        user_agent: meta.user_agent.clone(),
                        sdk: meta.sdk.clone(),
                    };
                    self.add_page(batch.page, &meta.url, &meta.title, timed.time);
                    self.add_url(&meta.url);
                }
                EventData::Navigation(nav) => {
                    if nav.kind == NavigationKind::Load {
                        self.add_page(batch.page, &nav.url, &nav.title, timed.time);
                    }
                    self.add_url(&nav.url);
                }
                EventData::Error(_) => self.error_count += 1,
                EventData::Network(request) => {
                    self.request_count += 1;
                    if request.failed() {
                        self.failed_request_count += 1;
                    }
                    if let Some(trace) = request.trace.filter(|t| !t.trace_id.is_zero()) {
                        let started = timed.time.saturating_sub(u64::from(request.duration));
                        delta.traces.push((trace.trace_id, started));
                    }
                }
                EventData::Identify(identify) => {
                    if !identify.user_id.is_empty() {
                        self.user_id = Some(identify.user_id.clone());
                        delta.users.push(identify.user_id.clone());
                    }
                    if let Some(email) = identify.traits.get("email").and_then(|v| v.as_str()) {
                        let email = email.trim().to_lowercase();
                        if !email.is_empty() {
                            delta.users.push(email.clone());
                            self.email = Some(email);
                        }
                    }
                    self.traits = to_json(&identify.traits);
                }
                _ => {}
            }
        }
        self.trace_count += delta.traces.len() as u64;
        self.duration_ms = self.end.saturating_sub(self.start);
        delta
    }

    fn observe_time(&mut self, time: u64) {
        if self.start == 0 || time < self.start {
            self.start = time;
        }
        self.end = self.end.max(time);
    }

    fn add_page(&mut self, page: u32, url: &str, title: &str, start: u64) {
        if self.pages.iter().any(|p| p.page == page) || self.pages.len() >= MAX_PAGES {
            return;
        }
        let at = self.pages.partition_point(|p| p.page < page);
        self.pages.insert(at, PageVisit { page, url: url.into(), title: title.into(), start });
    }

    fn add_url(&mut self, url: &str) {
        if self.urls.len() < MAX_URLS && !self.urls.iter().any(|u| u == url) {
            self.urls.push(url.into());
        }
    }

    /// Whether any user id, email, trait or trait key contains `needle` (lowercase).
    pub fn mentions(&self, needle: &str) -> bool {
        let hit = |s: &str| s.to_lowercase().contains(needle);
        self.user_id.as_deref().is_some_and(hit)
            || self.email.as_deref().is_some_and(hit)
            || json_mentions(&self.traits, &hit)
    }
}

fn json_mentions(value: &serde_json::Value, hit: &impl Fn(&str) -> bool) -> bool {
    match value {
        serde_json::Value::String(s) => hit(s),
        serde_json::Value::Number(n) => hit(&n.to_string()),
        serde_json::Value::Array(items) => items.iter().any(|v| json_mentions(v, hit)),
        serde_json::Value::Object(map) => map.iter().any(|(k, v)| hit(k) || json_mentions(v, hit)),
        serde_json::Value::Null | serde_json::Value::Bool(_) => false,
    }
}

fn device_kind(device: DeviceType) -> &'static str {
    match device {
        DeviceType::Desktop => "desktop",
        DeviceType::Mobile => "mobile",
        DeviceType::Tablet => "tablet",
        DeviceType::Bot => "bot",
        DeviceType::Other | DeviceType::Unknown(_) => "unknown",
    }
}

/// Converts a protocol value to JSON; non-finite floats become `null`, as in JSON.stringify.
pub fn to_json(value: &sightline_protocol::Value) -> serde_json::Value {
    use sightline_protocol::Value as V;
    match value {
        V::Null => serde_json::Value::Null,
        V::Bool(b) => (*b).into(),
        V::Int(i) => (*i).into(),
        V::Float(f) => serde_json::Number::from_f64(*f).map_or(serde_json::Value::Null, Into::into),
        V::Str(s) => s.clone().into(),
        V::List(items) => items.iter().map(to_json).collect(),
        V::Map(entries) => entries.iter().map(|(k, v)| (k.clone(), to_json(v))).collect::<serde_json::Map<_, _>>().into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use sightline_protocol::fixtures;

    #[test]
    fn folds_the_sample_session() {
        let mut summary = SessionSummary::new(fixtures::page_start().session, 1_000);
        let mut deltas = Vec::new();
        for (i, (_, batch)) in fixtures::all().iter().enumerate() {
            deltas.push(summary.apply(batch, 100, 1_000 + i as u64));
        }
        assert_eq!(summary.batch_count, 3);
        assert_eq!(summary.bytes, 300);
        assert_eq!(summary.last_seen, 1_002);
        assert_eq!(summary.device.browser, "Chrome");
        assert_eq!(summary.device.kind, "desktop");
        assert_eq!(summary.device.timezone, "Europe/Paris");
        assert_eq!(summary.pages.len(), 1);
        assert_eq!(summary.pages[0].url, "https://app.example.com/invoices");
        assert_eq!(
            summary.urls,
            vec![
                "https://app.example.com/invoices",
                "https://app.example.com/invoices/42",
                "https://app.example.com/invoices/42#lines"
            ]
        );
        assert_eq!(summary.error_count, 2);
        assert_eq!(summary.request_count, 2);
        assert_eq!(summary.failed_request_count, 2, "a 500 and a request with no response");
        assert_eq!(summary.user_id.as_deref(), Some("u_1842"));
        assert_eq!(summary.email.as_deref(), Some("jane@acme.com"));
        assert_eq!(summary.traits["plan"], "enterprise");
        assert_eq!(summary.start, fixtures::page_start().start);
        assert_eq!(summary.end, fixtures::all().iter().map(|(_, b)| b.end()).max().unwrap());
        assert_eq!(summary.duration_ms, summary.end - summary.start);
        assert!(summary.mentions("enterprise") && summary.mentions("jane@") && !summary.mentions("globex"));
        assert_eq!(deltas[2].users, vec!["u_1842", "jane@acme.com"]);
        assert_eq!(deltas[2].traces.len(), 1);
        assert_eq!(deltas[2].traces[0].0.to_string(), "4bf92f3577b34da6a3ce929d0e0e4736");
    }
}

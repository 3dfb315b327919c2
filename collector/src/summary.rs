//! Per-session summaries, folded from each batch at ingest so that finding a session never
//! needs its events: who, on what, where, when, and what went wrong.

use serde::{Deserialize, Serialize};
use sightline_protocol::{Batch, DeviceType, EventData, NavigationKind, PointerKind, SessionId, TraceId};

/// Pages kept in a summary; a session visiting more keeps its first ones.
const MAX_PAGES: usize = 200;
/// Distinct URLs kept in a summary.
const MAX_URLS: usize = 100;
/// Bytes of URLs, and of page URLs and titles, after which a summary lists no more.
const MAX_LIST_BYTES: usize = 32 * 1024;
/// Bytes kept of a URL.
const URL: usize = 2048;
/// Bytes kept of a title or user agent.
const TEXT: usize = 512;
/// Bytes kept of a name, version, user id or email.
const SHORT_TEXT: usize = 256;
/// Bytes of traits (as JSON) a summary keeps; larger traits are replaced by a marker.
const MAX_TRAITS: usize = 16 * 1024;

/// The form a user id or email takes in the user index (clipped as ingest clips it).
pub fn user_key(user: &str) -> String {
    clip(user, SHORT_TEXT)
}

/// At most `max` bytes of `text`, cut at a character boundary. Summaries are rewritten with
/// every batch, so what a client sends must not make them grow without bound.
fn clip(text: &str, max: usize) -> String {
    let mut end = text.len().min(max);
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    text[..end].to_owned()
}

/// The first thing that went wrong in a session.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct FirstProblem {
    /// When, in ms since the epoch.
    pub time: u64,
    /// What, in a line: `TypeError: x is undefined`, `POST /api/send → 500`.
    pub text: String,
}

/// A URL's path and query, for a line that names a request: the origin is most often the
/// page's own.
pub(crate) fn path_of(url: &str) -> &str {
    match url.split_once("://") {
        Some((_, rest)) => rest.find('/').map_or(url, |at| &rest[at..]),
        None => url,
    }
}

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
    /// The session's first JS error or failed request, as a line the session list shows.
    pub first_problem: Option<FirstProblem>,
    /// Requests that failed: status ≥ 500 or no response.
    pub failed_request_count: u64,
    /// Reports the user sent about a problem, in their own words.
    pub feedback_count: u64,
    /// Clicks.
    pub click_count: u64,
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
    /// Bytes of decoded payload stored, what reading the session back decodes (see
    /// `recording`).
    pub decoded_bytes: u64,
    /// Frustration signals in the recording (see the analyzer), as of `analyzed_batches`.
    pub signals: SignalCounts,
    /// Batches the signal counts cover; fewer than `batch_count` while an analysis is due.
    pub analyzed_batches: u64,
    /// The digest's headline as of `analyzed_batches` (what went wrong first, with the
    /// backend's reason and the user's step before it), for the session list.
    pub headline: Option<String>,
    /// The SHA-256, as hex, of the writer secret the session's first batch was sealed with:
    /// later batches must be sealed with the same secret (see `sightline_protocol::seal`). It
    /// can't be turned back into the secret. `None` for a session an SDK before protocol
    /// version 5 started, which any batch may write into.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub writer: Option<String>,
}

/// What an analysis of a session's whole recording found, over its first `batches` batches.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Analysis {
    /// Batches read.
    pub batches: u64,
    /// Its frustration signals.
    pub signals: SignalCounts,
    /// The digest's headline, if the session had a problem.
    pub headline: Option<String>,
}

/// How many of each frustration signal a session has.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct SignalCounts {
    /// Bursts of three or more quick clicks on one element.
    pub rage_clicks: u64,
    /// Clicks on controls nothing answered.
    pub dead_clicks: u64,
    /// Clicks followed by a JS error or a failed request.
    pub error_clicks: u64,
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

/// What a summary needs from one batch, extracted where the batch is decoded so the single
/// writer folds a few fields instead of walking every event.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct BatchTally {
    /// Page index of the batch.
    pub page: u32,
    /// Events in the batch.
    pub events: u64,
    /// Its decoded payload's length, in bytes (set by ingest, which has the framed batch).
    pub decoded: u64,
    /// Times of the first and last event, if any.
    pub span: Option<(u64, u64)>,
    /// The page metadata, with the URL and title at load and the time of load.
    pub meta: Option<(Device, PageVisit)>,
    /// Full loads seen through navigation events.
    pub loads: Vec<PageVisit>,
    /// URLs of loads and route changes, in order.
    pub urls: Vec<String>,
    /// JS errors.
    pub errors: u64,
    /// The batch's first JS error or failed request.
    pub first_problem: Option<FirstProblem>,
    /// Clicks (what every frustration signal starts from).
    pub clicks: u64,
    /// Requests.
    pub requests: u64,
    /// Failed requests.
    pub failed_requests: u64,
    /// Reports the user sent in their own words.
    pub feedback: u64,
    /// Trace ids of requests with the time each request started.
    pub traces: Vec<(TraceId, u64)>,
    /// The latest `identify`: user id, lowercased email, traits.
    pub identity: Option<(String, Option<String>, serde_json::Value)>,
}

impl BatchTally {
    /// Notes a problem at `time`, if it is the batch's first.
    fn problem(&mut self, time: u64, text: &str) {
        if self.first_problem.as_ref().is_none_or(|p| time < p.time) {
            self.first_problem = Some(FirstProblem { time, text: clip(text, TEXT) });
        }
    }

    /// Tallies what a decoded batch adds to its session summary.
    pub fn of(batch: &Batch) -> BatchTally {
        let mut tally = BatchTally { page: batch.page, events: batch.events.len() as u64, ..Default::default() };
        for timed in batch.timed_events() {
            let time = timed.time;
            tally.span = Some(tally.span.map_or((time, time), |(a, b)| (a.min(time), b.max(time))));
            match &timed.event.data {
                EventData::Meta(meta) => {
                    let device = Device {
                        kind: device_kind(meta.device).into(),
                        browser: clip(&meta.browser.name, SHORT_TEXT),
                        browser_version: clip(&meta.browser.version, SHORT_TEXT),
                        os: clip(&meta.os.name, SHORT_TEXT),
                        os_version: clip(&meta.os.version, SHORT_TEXT),
                        screen: [meta.screen.width, meta.screen.height],
                        viewport: [meta.viewport.width, meta.viewport.height],
                        pixel_ratio: if meta.pixel_ratio.is_finite() { meta.pixel_ratio } else { 0.0 },
                        language: clip(&meta.language, SHORT_TEXT),
                        timezone: clip(&meta.timezone, SHORT_TEXT),
                        utc_offset: meta.utc_offset,
                        user_agent: clip(&meta.user_agent, TEXT),
                        sdk: clip(&meta.sdk, SHORT_TEXT),
                    };
                    let visit = PageVisit {
                        page: batch.page,
                        url: clip(&meta.url, URL),
                        title: clip(&meta.title, TEXT),
                        start: time,
                    };
                    tally.urls.push(clip(&meta.url, URL));
                    tally.meta = Some((device, visit));
                }
                EventData::Navigation(nav) => {
                    if nav.kind == NavigationKind::Load {
                        tally.loads.push(PageVisit {
                            page: batch.page,
                            url: clip(&nav.url, URL),
                            title: clip(&nav.title, TEXT),
                            start: time,
                        });
                    }
                    tally.urls.push(clip(&nav.url, URL));
                }
                EventData::Error(error) => {
                    tally.errors += 1;
                    let text = match (error.name.is_empty(), error.message.is_empty()) {
                        (false, false) => format!("{}: {}", error.name, error.message),
                        (true, false) => error.message.clone(),
                        _ => error.name.clone(),
                    };
                    tally.problem(time, &text);
                }
                EventData::Pointer(p) if p.kind == PointerKind::Click => tally.clicks += 1,
                EventData::Feedback(words) => {
                    tally.feedback += 1;
                    tally.problem(time, &format!("User report: {}", words.text));
                }
                EventData::Network(request) => {
                    tally.requests += 1;
                    if request.failed() {
                        tally.failed_requests += 1;
                        let status = match (&request.error, request.status) {
                            (_, status) if status != 0 => status.to_string(),
                            (Some(error), _) => error.clone(),
                            (None, _) => "no response".to_owned(),
                        };
                        tally.problem(time, &format!("{} {} → {status}", request.method, path_of(&request.url)));
                    }
                    if let Some(trace) = request.trace.filter(|t| !t.trace_id.is_zero()) {
                        tally.traces.push((trace.trace_id, time.saturating_sub(u64::from(request.duration))));
                    }
                }
                EventData::Identify(identify) => {
                    let email = identify
                        .traits
                        .get("email")
                        .and_then(|v| v.as_str())
                        .map(|e| clip(&e.trim().to_lowercase(), SHORT_TEXT))
                        .filter(|e| !e.is_empty());
                    let mut traits = to_json(&identify.traits);
                    if serde_json::to_vec(&traits).map_or(true, |json| json.len() > MAX_TRAITS) {
                        traits = serde_json::json!({ "_truncated": true });
                    }
                    tally.identity = Some((clip(&identify.user_id, SHORT_TEXT), email, traits));
                }
                _ => {}
            }
        }
        tally
    }
}

impl SessionSummary {
    /// Whether anything went wrong in the session that a support engineer would want to see.
    pub fn had_problem(&self) -> bool {
        self.error_count > 0
            || self.failed_request_count > 0
            || self.headline.is_some()
            || self.first_problem.is_some()
            || self.signals.rage_clicks > 0
            || self.signals.dead_clicks > 0
            || self.signals.error_clicks > 0
            || self.feedback_count > 0
    }

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

    /// Folds one batch in; `bytes` is its compressed size. Returns the user ids and emails
    /// that now identify the session.
    pub fn apply(&mut self, tally: &BatchTally, bytes: usize, received_at: u64) -> Vec<String> {
        self.last_seen = self.last_seen.max(received_at);
        self.batch_count += 1;
        self.bytes += bytes as u64;
        self.decoded_bytes += tally.decoded;
        self.event_count += tally.events;
        if let Some((first, last)) = tally.span {
            self.observe_time(first);
            self.observe_time(last);
        }
        if let Some((device, visit)) = &tally.meta {
            self.device = device.clone();
            self.add_page(visit);
        }
        for visit in &tally.loads {
            self.add_page(visit);
        }
        if let Some(problem) = &tally.first_problem {
            if self.first_problem.as_ref().is_none_or(|p| problem.time < p.time) {
                self.first_problem = Some(problem.clone());
            }
        }
        for url in &tally.urls {
            self.add_url(url);
        }
        self.error_count += tally.errors;
        self.click_count += tally.clicks;
        self.request_count += tally.requests;
        self.failed_request_count += tally.failed_requests;
        self.feedback_count += tally.feedback;
        self.trace_count += tally.traces.len() as u64;
        let mut users = Vec::new();
        if let Some((user_id, email, traits)) = &tally.identity {
            if !user_id.is_empty() {
                self.user_id = Some(user_id.clone());
                users.push(user_id.clone());
            }
            if let Some(email) = email {
                self.email = Some(email.clone());
                users.push(email.clone());
            }
            self.traits = traits.clone();
        }
        self.duration_ms = self.end.saturating_sub(self.start);
        users
    }

    fn observe_time(&mut self, time: u64) {
        if self.start == 0 || time < self.start {
            self.start = time;
        }
        self.end = self.end.max(time);
    }

    fn add_page(&mut self, visit: &PageVisit) {
        let bytes: usize = self.pages.iter().map(|p| p.url.len() + p.title.len()).sum();
        if self.pages.iter().any(|p| p.page == visit.page) || self.pages.len() >= MAX_PAGES || bytes > MAX_LIST_BYTES {
            return;
        }
        let at = self.pages.partition_point(|p| p.page < visit.page);
        self.pages.insert(at, visit.clone());
    }

    fn add_url(&mut self, url: &str) {
        let bytes: usize = self.urls.iter().map(String::len).sum();
        if self.urls.len() < MAX_URLS && bytes <= MAX_LIST_BYTES && !self.urls.iter().any(|u| u == url) {
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
        V::Map(entries) => {
            entries.iter().map(|(k, v)| (k.clone(), to_json(v))).collect::<serde_json::Map<_, _>>().into()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use sightline_protocol::fixtures;

    #[test]
    fn hostile_values_are_clipped_so_summaries_stay_small_and_readable() {
        use sightline_protocol::{EventData, Identify, PageMeta, Value};
        let mut batch = fixtures::page_start();
        let EventData::Meta(meta) = &mut batch.events[0].data else { unreachable!() };
        meta.url = format!("https://x.example/{}", "é".repeat(1_000_000));
        meta.pixel_ratio = f32::NAN;
        **meta = PageMeta { user_agent: "u".repeat(100_000), ..(**meta).clone() };
        batch.events.push(sightline_protocol::Event {
            dt: 1,
            data: EventData::Identify(Identify {
                user_id: "🙂".repeat(1_000),
                traits: Value::Map(vec![("bio".into(), Value::Str("x".repeat(100_000)))]),
            }),
        });
        let mut summary = SessionSummary::new(batch.session, 1);
        summary.apply(&BatchTally::of(&batch), 10, 1);
        // Many long, distinct URLs and pages add up to a bounded list.
        let mut tally = BatchTally::of(&batch);
        for page in 1..300 {
            tally.page = page;
            tally.meta.as_mut().unwrap().1.page = page;
            tally.meta.as_mut().unwrap().1.url = format!("https://x.example/{page}/{}", "p".repeat(2_000));
            tally.urls = vec![format!("https://x.example/{page}/{}", "u".repeat(2_000))];
            summary.apply(&tally, 10, 1);
        }
        let list_bytes = |urls: &mut dyn Iterator<Item = usize>| urls.sum::<usize>();
        assert!(list_bytes(&mut summary.urls.iter().map(String::len)) < MAX_LIST_BYTES + URL);
        assert!(
            list_bytes(&mut summary.pages.iter().map(|p| p.url.len() + p.title.len())) < MAX_LIST_BYTES + URL + TEXT
        );
        let json = serde_json::to_vec(&summary).unwrap();
        assert!(json.len() < 100 * 1024, "summary is {} bytes", json.len());
        let back: SessionSummary = serde_json::from_slice(&json).expect("a NaN must not make the summary unreadable");
        assert_eq!(back.device.pixel_ratio, 0.0);
        assert!(summary.urls[0].len() <= URL && summary.urls[0].starts_with("https://x.example/é"));
        assert!(summary.user_id.as_ref().unwrap().len() <= SHORT_TEXT);
        assert_eq!(summary.traits["_truncated"], true);
    }

    #[test]
    fn folds_the_sample_session() {
        let mut summary = SessionSummary::new(fixtures::page_start().session, 1_000);
        let mut users = Vec::new();
        let mut tallies = Vec::new();
        for (i, (_, batch)) in fixtures::all().iter().enumerate() {
            tallies.push(BatchTally::of(batch));
            users.push(summary.apply(&tallies[i], 100, 1_000 + i as u64));
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
        let first = summary.first_problem.as_ref().expect("the first problem");
        assert_eq!(first.text, "POST /api/invoices/42/send → 500");
        assert_eq!(first.time, fixtures::facts().start + 250);
        assert_eq!(summary.user_id.as_deref(), Some("u_1842"));
        assert_eq!(summary.email.as_deref(), Some("jane@acme.com"));
        assert_eq!(summary.traits["plan"], "enterprise");
        assert_eq!(summary.start, fixtures::page_start().start);
        assert_eq!(summary.end, fixtures::all().iter().map(|(_, b)| b.end()).max().unwrap());
        assert_eq!(summary.duration_ms, summary.end - summary.start);
        assert!(summary.mentions("enterprise") && summary.mentions("jane@") && !summary.mentions("globex"));
        assert_eq!(users[2], vec!["u_1842", "jane@acme.com"]);
        assert_eq!(tallies[2].traces.len(), 1);
        assert_eq!(tallies[2].traces[0].0.to_string(), "4bf92f3577b34da6a3ce929d0e0e4736");
        let facts = fixtures::facts();
        assert_eq!(tallies[2].traces[0].1, facts.start + 250 - 184, "a request starts its duration before it ends");
        assert_eq!(tallies[2].span, Some((facts.start, facts.end())));

        // Named again by id alone, the user keeps their email.
        let named = |id: &str, email: Option<&str>| BatchTally {
            identity: Some((id.into(), email.map(str::to_owned), serde_json::json!({}))),
            ..BatchTally::default()
        };
        summary.apply(&named("u_1842", None), 10, 2_000);
        assert_eq!(summary.email.as_deref(), Some("jane@acme.com"));
    }
}

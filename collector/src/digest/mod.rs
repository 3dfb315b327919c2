//! The support digest: a session as a story to paste into a ticket or hand to an automated
//! agent. Who the user is, when and where, and for each problem (a JS error, a console error, a
//! failed request, a frustration signal) the moment, a link to it in the viewer, the user's
//! last steps before it, the request, and what the backend logged and traced for it.
//!
//! It is built from the recording (through the replay core's facts and signals, gathered by a
//! [`Recording`] one event at a time) and the backend records stored under the trace ids the
//! requests carried.

mod grouping;
mod markdown;

pub use markdown::to_markdown;

/// Recorded text as chat tools' incoming webhooks show it: Markdown-escaped (see
/// `markdown`), and with nothing they read as a mention or a link (`<!channel>`, `<url|text>`,
/// `@everyone`).
pub fn chat_text(untrusted: &str) -> String {
    markdown::text(untrusted)
        .replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace("@everyone", "@\u{200b}everyone")
        .replace("@here", "@\u{200b}here")
        .replace("@channel", "@\u{200b}channel")
}

use std::collections::{HashMap, VecDeque};
use std::fmt::Write as _;

use serde::Serialize;
use sightline_player::facts::{Fact, FactFinder, Panel};
use sightline_player::signals::{Signal, SignalFinder, SignalKind};
use sightline_protocol::{ConsoleLevel, ErrorKind, EventData, TraceId};

use grouping::{chain_ended, follows_response, grouped, rank};

use crate::store::{Store, StoreError};
use crate::summary::{path_of, SessionSummary, SignalCounts};
use crate::telemetry::{LogLine, TraceTelemetry};

/// Problems listed at most; a digest is meant to be read.
const MAX_PROBLEMS: usize = 20;
/// Steps shown before each problem.
const STEPS: usize = 5;
/// How soon after a burst's first click a request it sent starts.
const RAGE_SENT_MS: u64 = 500;
/// How late a step may be recorded after the request it sent started (an app that sends on
/// `pointerdown` or `keydown` starts the request before the SDK records the key or click).
const SENT_BY_MS: u64 = 50;
/// Backend log lines and spans shown per problem, each.
const BACKEND_LINES: usize = 10;

/// A session's digest.
#[derive(Debug, Clone, Serialize)]
pub struct Digest {
    /// Session id, as hex.
    pub session: String,
    /// The session in the viewer.
    pub link: String,
    /// Who the user is and what they used.
    pub who: Who,
    /// Session start, ms since the epoch (the client's clock).
    pub start: u64,
    /// Session end.
    pub end: u64,
    /// `end - start`, ms.
    pub duration_ms: u64,
    /// Pages and routes in the order the user saw them.
    pub pages: Vec<PageStep>,
    /// What the engineer reads first: the first problem in one line, with the backend's reason
    /// and what the user did just before; `None` for a session without trouble.
    pub headline: Option<String>,
    /// What went wrong, in time order.
    pub problems: Vec<Problem>,
    /// Problems left out past [`MAX_PROBLEMS`].
    pub more_problems: usize,
    /// What support wrote at moments of the session, in their order.
    pub notes: Vec<NoteLine>,
    /// Every frustration signal found, before grouping and the cap (the analyzer's counts).
    #[serde(skip)]
    pub signals: SignalCounts,
}

/// Whether a digest carries the team's notes: not for a share link, nor for a file that leaves
/// the team.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Notes {
    Included,
    LeftOut,
}

/// A support engineer's note, at its moment.
#[derive(Debug, Clone, Serialize)]
pub struct NoteLine {
    /// The moment, ms since the epoch, and after the session's start.
    pub time: u64,
    pub offset_ms: u64,
    /// Who wrote it (their read token's name).
    pub author: String,
    pub text: String,
    /// The viewer at this moment.
    pub link: String,
}

/// The user and their device.
#[derive(Debug, Clone, Serialize)]
pub struct Who {
    /// `identify`'s user id.
    pub user_id: Option<String>,
    /// The `email` trait.
    pub email: Option<String>,
    /// The traits, as given.
    pub traits: serde_json::Value,
    /// `desktop`, `mobile`, `tablet`, …
    pub device: String,
    /// Browser and version.
    pub browser: String,
    /// OS and version.
    pub os: String,
    /// Browser language.
    pub locale: String,
    /// IANA time zone.
    pub timezone: String,
    /// Country (ISO code) and city, from the client IP when GeoIP is configured.
    pub country: Option<String>,
    /// City.
    pub city: Option<String>,
}

/// A page load or route change.
#[derive(Debug, Clone, Serialize)]
pub struct PageStep {
    /// When, ms since the epoch.
    pub time: u64,
    /// What happened (`Loaded …`, `Went to …`).
    pub summary: String,
}

/// What kind of problem.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ProblemKind {
    /// An uncaught exception, unhandled rejection or failed resource load.
    JsError,
    /// A `console.error` call.
    ConsoleError,
    /// A failure the page showed the user in an alert ("Could not save your todo").
    ErrorShown,
    /// A request that failed.
    FailedRequest,
    /// Repeated clicks on one element.
    RageClick,
    /// A click on a control nothing answered.
    DeadClick,
    /// A click followed by an error or a failed request.
    ErrorClick,
    /// A request far slower than the same call usually is, and slower than 3 s.
    SlowRequest,
    /// The user reported a problem in their own words (`Sightline.feedback()` or `report`).
    Feedback,
}

/// One problem and what surrounds it.
#[derive(Debug, Clone, Serialize)]
pub struct Problem {
    /// What kind.
    pub kind: ProblemKind,
    /// When, ms since the epoch.
    pub time: u64,
    /// ms after the session's start.
    pub offset_ms: u64,
    /// One line.
    pub summary: String,
    /// More: a stack, for errors.
    pub detail: String,
    /// The viewer at this moment.
    pub link: String,
    /// What the user did last before it (clicks, inputs, navigations), oldest first.
    pub steps: Vec<Step>,
    /// The request, for a failed request.
    pub request: Option<RequestFacts>,
    /// The backend's spans and log lines of the request's trace.
    pub backend: Option<TraceTelemetry>,
    /// What else the same action of the user caused (an error click, the console error the app
    /// logged), listed under this one, which leads: the failed request, whose backend says why.
    pub related: Vec<Related>,
}

/// A problem the same user action caused as another, listed under it.
#[derive(Debug, Clone, Serialize)]
pub struct Related {
    /// What kind.
    pub kind: ProblemKind,
    /// When, ms since the epoch.
    pub time: u64,
    /// ms after the session's start.
    pub offset_ms: u64,
    /// One line.
    pub summary: String,
    /// The viewer at this moment.
    pub link: String,
}

/// A step the user took.
#[derive(Debug, Clone, Serialize)]
pub struct Step {
    /// When, ms since the epoch.
    pub time: u64,
    /// What kind: `click`, `input`, `navigation`, `custom`, …
    pub kind: &'static str,
    /// What they did.
    pub summary: String,
}

impl Step {
    /// Whether the user did something with this step: a route change or an app's event follows
    /// from what they did, it isn't it; Tab and the arrows move between things, they don't do
    /// them.
    fn acts(&self) -> bool {
        match self.kind {
            "click" | "double click" | "context click" | "input" | "submit" => true,
            "key" => !self.summary.starts_with("Pressed Tab") && !self.summary.starts_with("Pressed Arrow"),
            _ => false,
        }
    }
}

/// A request as the browser saw it.
#[derive(Debug, Clone, Serialize)]
pub struct RequestFacts {
    /// HTTP method.
    pub method: String,
    /// URL.
    pub url: String,
    /// HTTP status; 0 when no response came.
    pub status: u16,
    /// The error when no response came.
    pub error: Option<String>,
    /// When it started, ms since the epoch.
    pub start: u64,
    /// How long it took, ms.
    pub duration_ms: u32,
    /// Its trace id.
    pub trace: Option<String>,
}

/// Failed requests a digest gathers at most (it lists [`MAX_PROBLEMS`] problems).
const MAX_FAILED_REQUESTS: usize = 1_000;
/// Requests a digest keeps to find the slow ones and what was pending when, at most.
const MAX_REQUESTS: usize = 5_000;
/// A request is slow when it takes this long at least…
const SLOW_FLOOR_MS: u32 = 3_000;
/// …and this many times as long as the same call usually takes.
const SLOW_FACTOR: u32 = 3;

/// What a digest needs of a recording, gathered from its events one at a time (see
/// `recording::read_session`), keeping bounded state.
#[derive(Default)]
pub struct Recording {
    span: Option<(u64, u64)>,
    facts: FactFinder,
    signals: SignalFinder,
    failed_requests: Vec<(u64, RequestFacts)>,
    /// Requests answered with a 4xx that an error followed in the tasks that handled the
    /// answer; others are routine (a 401 before sign-in, a 404 of a lookup).
    client_errors: Vec<(u64, RequestFacts)>,
    /// 4xx answers an error may still follow.
    recent_client_errors: VecDeque<(u64, RequestFacts)>,
    /// When the page last raised or logged an error, and whether a 4xx was found its cause.
    last_error: Option<(u64, bool)>,
    /// The requests that didn't fail, for the slow ones and for what was pending when.
    requests: Vec<RequestFacts>,
}

impl Recording {
    /// Takes the next event of the recording.
    pub fn push(&mut self, time: u64, page: u32, data: &EventData) {
        self.span = Some(self.span.map_or((time, time), |(first, last)| (first.min(time), last.max(time))));
        self.facts.push(time, data);
        self.signals.push(time, page, data);
        while self.recent_client_errors.front().is_some_and(|(answered, _)| chain_ended(*answered, time)) {
            self.recent_client_errors.pop_front();
        }
        match data {
            EventData::Console(c) if c.level == ConsoleLevel::Error => self.error_raised(time),
            // A resource that failed to load is no handler's error.
            EventData::Error(e) if e.kind != ErrorKind::Resource => self.error_raised(time),
            _ => {}
        }
        if let EventData::Network(n) = data {
            let facts = || RequestFacts {
                method: n.method.clone(),
                url: n.url.clone(),
                status: n.status,
                error: n.error.clone(),
                start: time.saturating_sub(u64::from(n.duration)),
                duration_ms: n.duration,
                trace: n.trace.map(|t| t.trace_id.to_string()),
            };
            if n.failed() {
                if self.failed_requests.len() < MAX_FAILED_REQUESTS {
                    self.failed_requests.push((time, facts()));
                }
                return;
            }
            if (400..500).contains(&n.status) {
                // The recorder notes an answer once it has read its body, which may be after
                // the page's handler reported it.
                if let Some((error, false)) = self.last_error.filter(|(error, _)| follows_response(*error, time)) {
                    self.last_error = Some((error, true));
                    self.reported(time, facts());
                } else if self.recent_client_errors.len() < MAX_FAILED_REQUESTS {
                    self.recent_client_errors.push_back((time, facts()));
                }
            }
            if self.requests.len() < MAX_REQUESTS {
                self.requests.push(facts());
            }
        }
    }

    /// The page raised or logged an error at `time`: the 4xx answered last before it, if its
    /// handling may have raised it, is where it came from.
    fn error_raised(&mut self, time: u64) {
        let nearest = self.recent_client_errors.iter().rposition(|(answered, _)| follows_response(time, *answered));
        let found = nearest.and_then(|at| self.recent_client_errors.remove(at));
        self.last_error = Some((time, found.is_some()));
        if let Some((answered, request)) = found {
            self.reported(answered, request);
        }
    }

    fn reported(&mut self, answered: u64, request: RequestFacts) {
        if self.client_errors.len() < MAX_FAILED_REQUESTS {
            self.client_errors.push((answered, request));
        }
    }
}

/// Builds the digest of a session from its summary and recording; `viewer` is the base URL of
/// the viewer (`https://host`), for links.
pub fn build(
    store: &dyn Store,
    project: u32,
    summary: &SessionSummary,
    recording: Recording,
    viewer: &str,
    notes: Notes,
) -> Result<Digest, StoreError> {
    let link = |time: Option<u64>| match time {
        Some(t) => format!("{viewer}/sessions/{}?t={t}", summary.id),
        None => format!("{viewer}/sessions/{}", summary.id),
    };
    let Recording { span, facts, signals, failed_requests, client_errors, requests, .. } = recording;
    let (start, end) = span.unwrap_or((summary.start, summary.end));
    let facts = facts.finish();
    let activity: Vec<&Fact> = facts.iter().filter(|f| f.panel == Panel::Activity).collect();
    let steps_before = |time: u64| -> Vec<Step> {
        let before = activity.partition_point(|f| f.time <= time);
        activity[before.saturating_sub(STEPS)..before]
            .iter()
            .map(|f| Step { time: f.time, kind: f.kind, summary: f.summary.clone() })
            .collect()
    };

    let mut problems = Vec::new();
    for fact in facts.iter().filter(|f| f.panel == Panel::Console && f.problem) {
        let kind = match fact.kind {
            "exception" => ProblemKind::JsError,
            "alert" => ProblemKind::ErrorShown,
            _ => ProblemKind::ConsoleError,
        };
        problems.push(problem(kind, fact.time, fact.summary.clone(), fact.detail.clone()));
    }
    for fact in facts.iter().filter(|f| f.kind == "feedback") {
        problems.push(problem(ProblemKind::Feedback, fact.time, fact.summary.clone(), fact.detail.clone()));
    }
    // A 4xx the app then reported as an error is where that error came from.
    for (time, request) in failed_requests.into_iter().chain(client_errors) {
        let summary = match request.status {
            0 => format!(
                "{} {} failed: {}",
                request.method,
                request.url,
                request.error.as_deref().unwrap_or("no response")
            ),
            status => format!("{} {} answered {status} after {} ms", request.method, request.url, request.duration_ms),
        };
        let mut p = problem(ProblemKind::FailedRequest, time, summary, String::new());
        p.request = Some(request);
        problems.push(p);
    }
    let mut counts = SignalCounts::default();
    for signal in signals.finish() {
        let kind = match signal.kind {
            SignalKind::RageClick => {
                counts.rage_clicks += 1;
                ProblemKind::RageClick
            }
            SignalKind::DeadClick => {
                counts.dead_clicks += 1;
                ProblemKind::DeadClick
            }
            SignalKind::ErrorClick => {
                counts.error_clicks += 1;
                ProblemKind::ErrorClick
            }
            // Listed above with the request's facts.
            SignalKind::FailedRequest => continue,
        };
        let Signal { time, mut summary, .. } = signal;
        // Clicking again and again while the app waits on the backend: say on what.
        if kind == ProblemKind::RageClick {
            let pending = requests
                .iter()
                .chain(failed_requests_at(&problems))
                // The first click may be the one that sent it: the request starts just after.
                .filter(|r| r.start <= time + RAGE_SENT_MS && time <= r.start + u64::from(r.duration_ms))
                .max_by_key(|r| r.duration_ms);
            if let Some(r) = pending {
                let _ = write!(
                    summary,
                    " while {} {} was pending for {:.1} s",
                    r.method,
                    path_of(&r.url),
                    f64::from(r.duration_ms) / 1000.0
                );
            }
        }
        problems.push(problem(kind, time, summary, String::new()));
    }
    problems.extend(slow_requests(&requests));
    problems.sort_by_key(|p| p.time);
    // The user's own reports are never what the cap cuts (they come late, after the errors
    // they are about), up to half of it.
    let total = problems.len();
    let (mut reports, mut others): (Vec<Problem>, Vec<Problem>) =
        problems.into_iter().partition(|p| p.kind == ProblemKind::Feedback);
    reports.truncate(MAX_PROBLEMS / 2);
    others.truncate(MAX_PROBLEMS - reports.len());
    let mut problems = others;
    problems.extend(reports);
    problems.sort_by_key(|p| p.time);
    let more_problems = total - problems.len();
    let pages: Vec<PageStep> = activity
        .iter()
        .filter(|f| f.kind == "navigation")
        .map(|f| PageStep { time: f.time, summary: f.summary.clone() })
        .collect();
    for p in &mut problems {
        p.offset_ms = p.time.saturating_sub(start);
        p.link = link(Some(p.time));
        // Steps strictly before a click signal: the click itself is the problem. A slow
        // request is what the user did before it was sent, not the clicking while it was pending
        // (an action recorded just after it started, when there is none before, sent it).
        p.steps = match (p.kind, &p.request) {
            (ProblemKind::RageClick | ProblemKind::DeadClick | ProblemKind::ErrorClick | ProblemKind::Feedback, _) => {
                steps_before(p.time.saturating_sub(1))
            }
            (ProblemKind::SlowRequest, Some(r)) => {
                let before = steps_before(r.start);
                if before.iter().any(|s| s.acts()) {
                    before
                } else {
                    steps_before(r.start + SENT_BY_MS)
                }
            }
            _ => steps_before(p.time),
        };
        if let Some(trace) = p.request.as_ref().and_then(|r| r.trace.as_deref()).and_then(|t| t.parse::<TraceId>().ok())
        {
            let mut backend = TraceTelemetry::new(trace, store.telemetry(project, trace)?);
            backend.logs = errors_first(std::mem::take(&mut backend.logs), LogLine::is_error);
            backend.spans = errors_first(std::mem::take(&mut backend.spans), |s| s.status == "error");
            p.backend = Some(backend);
        }
    }
    let problems = grouped(problems);
    let session: Option<sightline_protocol::SessionId> = summary.id.parse().ok();
    let notes = session
        .filter(|_| notes == Notes::Included)
        .map(|session| store.notes(project, session))
        .transpose()?
        .unwrap_or_default()
        .into_iter()
        .map(|n| NoteLine {
            time: n.time,
            offset_ms: n.time.saturating_sub(start),
            author: n.author,
            text: n.text,
            link: link(Some(n.time)),
        })
        .collect();

    let device = &summary.device;
    let joined = |a: &str, b: &str| [a, b].iter().filter(|s| !s.is_empty()).copied().collect::<Vec<_>>().join(" ");
    Ok(Digest {
        session: summary.id.clone(),
        link: link(None),
        who: Who {
            user_id: summary.user_id.clone(),
            email: summary.email.clone(),
            traits: summary.traits.clone(),
            device: device.kind.clone(),
            browser: joined(&device.browser, &device.browser_version),
            os: joined(&device.os, &device.os_version),
            locale: device.language.clone(),
            timezone: device.timezone.clone(),
            country: summary.geo.country.clone(),
            city: summary.geo.city.clone(),
        },
        start,
        end,
        duration_ms: end.saturating_sub(start),
        headline: leading(&problems).map(|lead| headline(lead, &pages)),
        pages,
        problems,
        more_problems,
        notes,
        signals: counts,
    })
}

/// At most [`BACKEND_LINES`] of `records` (in time order), those that are errors kept first.
/// The requests that failed, as the problems list them (for what was pending when).
fn failed_requests_at(problems: &[Problem]) -> impl Iterator<Item = &RequestFacts> {
    problems.iter().filter_map(|p| p.request.as_ref())
}

/// The call a request makes, whatever ids it carries: `PUT /api/todos/:id`.
fn call_of(request: &RequestFacts) -> String {
    let path = path_of(&request.url).split(['?', '#']).next().unwrap_or_default();
    let segments: Vec<&str> = path
        .split('/')
        .map(|segment| {
            let id = !segment.is_empty()
                && (segment.chars().all(|c| c.is_ascii_digit())
                    || (segment.len() >= 16 && segment.chars().all(|c| c.is_ascii_hexdigit() || c == '-')));
            if id {
                ":id"
            } else {
                segment
            }
        })
        .collect();
    format!("{} {}", request.method, segments.join("/"))
}

/// Requests far slower than the same call usually is (and than [`SLOW_FLOOR_MS`]), as
/// problems of their own.
fn slow_requests(requests: &[RequestFacts]) -> Vec<Problem> {
    let mut usual: HashMap<String, Vec<u32>> = HashMap::new();
    for request in requests {
        usual.entry(call_of(request)).or_default().push(request.duration_ms);
    }
    for durations in usual.values_mut() {
        durations.sort_unstable();
    }
    let mut slow = Vec::new();
    for request in requests.iter().filter(|r| r.duration_ms >= SLOW_FLOOR_MS) {
        let durations = &usual[&call_of(request)];
        let median = durations[durations.len() / 2];
        let others = durations.len() > 1;
        if others && request.duration_ms < median.saturating_mul(SLOW_FACTOR) {
            continue;
        }
        let usually =
            if others && median < request.duration_ms { format!(" (usually {median} ms)") } else { String::new() };
        let summary = format!(
            "{} {} took {:.1} s{usually}",
            request.method,
            request.url,
            f64::from(request.duration_ms) / 1000.0
        );
        let mut p =
            problem(ProblemKind::SlowRequest, request.start + u64::from(request.duration_ms), summary, String::new());
        p.request = Some(request.clone());
        slow.push(p);
    }
    slow
}

/// The problem a support engineer should read first: the first failed request (it carries the
/// backend's reason), else the first error, slow request, console error, then the clicks.
fn leading(problems: &[Problem]) -> Option<&Problem> {
    problems.iter().min_by_key(|p| (rank(p.kind), p.time))
}

/// A problem in a line: what went wrong (the request and its status, led by the
/// backend's reason when it gave one), what the user did just before, and where.
fn headline(lead: &Problem, pages: &[PageStep]) -> String {
    let mut line = match &lead.request {
        Some(r) if lead.kind == ProblemKind::FailedRequest && r.status != 0 => {
            format!("{} {} failed with {}", r.method, path_of(&r.url), r.status)
        }
        Some(r) if lead.kind == ProblemKind::FailedRequest => {
            format!("{} {} failed: {}", r.method, path_of(&r.url), r.error.as_deref().unwrap_or("no response"))
        }
        Some(r) if lead.kind == ProblemKind::SlowRequest => {
            format!("{} {} took {:.1} s", r.method, path_of(&r.url), f64::from(r.duration_ms) / 1000.0)
        }
        _ => lead.summary.clone(),
    };
    let reason = lead.backend.as_ref().and_then(|backend| {
        let log = (backend.logs.iter().find(|l| l.is_error()))
            .or_else(|| backend.logs.iter().find(|l| l.is_warning()))
            .map(|l| l.message.clone());
        log.or_else(|| {
            backend
                .spans
                .iter()
                .find(|s| s.status == "error" && !s.status_message.is_empty())
                .map(|s| s.status_message.clone())
        })
    });
    if let Some(reason) = reason {
        let _ = write!(line, " ({})", reason.lines().next().unwrap_or_default());
    }
    if let Some(step) = lead.steps.iter().rev().find(|s| s.acts()) {
        let did = match step.kind {
            "click" => step.summary.strip_prefix("Click ").map(|rest| format!("clicked {rest}")),
            "double click" => step.summary.strip_prefix("Double click ").map(|rest| format!("double-clicked {rest}")),
            "context click" => step.summary.strip_prefix("Context click ").map(|rest| format!("right-clicked {rest}")),
            _ => None,
        };
        let _ = write!(line, " after the user {}", did.unwrap_or_else(|| lowercased_first(&step.summary)));
    }
    let _ = write!(line, ", {} into the session", seconds(lead.offset_ms));
    let page = pages.iter().rev().find(|p| p.time <= lead.time);
    if let Some(url) = page.and_then(|p| p.summary.split_whitespace().find(|w| w.contains("://"))) {
        let _ = write!(line, " on {}", path_of(url));
    }
    line
}

fn lowercased_first(text: &str) -> String {
    let mut chars = text.chars();
    chars.next().map(|c| c.to_lowercase().collect::<String>() + chars.as_str()).unwrap_or_default()
}

/// `1.4 s`, `2 min 5 s`.
fn seconds(ms: u64) -> String {
    if ms < 60_000 {
        format!("{:.1} s", ms as f64 / 1000.0)
    } else {
        format!("{} min {} s", ms / 60_000, (ms % 60_000) / 1000)
    }
}

fn errors_first<T>(records: Vec<T>, is_error: impl Fn(&T) -> bool) -> Vec<T> {
    if records.len() <= BACKEND_LINES {
        return records;
    }
    let mut keep: Vec<bool> = records.iter().map(&is_error).collect();
    let mut room = BACKEND_LINES.saturating_sub(keep.iter().filter(|k| **k).count());
    for k in keep.iter_mut().filter(|k| !**k) {
        if room == 0 {
            break;
        }
        *k = true;
        room -= 1;
    }
    let kept = records.into_iter().zip(keep).filter(|(_, k)| *k).map(|(r, _)| r);
    kept.take(BACKEND_LINES).collect()
}

fn problem(kind: ProblemKind, time: u64, summary: String, detail: String) -> Problem {
    Problem {
        kind,
        time,
        offset_ms: 0,
        summary,
        detail,
        link: String::new(),
        steps: Vec::new(),
        request: None,
        backend: None,
        related: Vec::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request(method: &str, url: &str, start: u64, duration_ms: u32) -> RequestFacts {
        RequestFacts {
            method: method.into(),
            url: url.into(),
            status: 200,
            error: None,
            start,
            duration_ms,
            trace: None,
        }
    }

    #[test]
    fn a_call_far_slower_than_usual_is_a_problem_and_a_slow_one_alone_too() {
        let mut requests: Vec<RequestFacts> =
            (0..5).map(|i| request("PUT", &format!("https://app.example/api/todos/{i}"), i * 1000, 120)).collect();
        requests.push(request("PUT", "https://app.example/api/todos/9?x=1", 9_000, 6_000));
        requests.push(request("GET", "https://app.example/api/report", 20_000, 3_500));
        requests.push(request("GET", "https://app.example/api/search", 30_000, 2_900));
        let slow = slow_requests(&requests);
        let lines: Vec<&str> = slow.iter().map(|p| p.summary.as_str()).collect();
        assert_eq!(
            lines,
            [
                "PUT https://app.example/api/todos/9?x=1 took 6.0 s (usually 120 ms)",
                "GET https://app.example/api/report took 3.5 s"
            ]
        );
        assert_eq!(slow[0].time, 15_000, "at its end");
        assert_eq!(call_of(&requests[5]), "PUT /api/todos/:id");
    }

    #[test]
    fn the_headline_leads_with_the_failed_request_its_reason_and_the_step_before() {
        let mut failed = problem(ProblemKind::FailedRequest, 5_000, "POST … answered 500".into(), String::new());
        failed.request =
            Some(RequestFacts { status: 500, ..request("POST", "https://app.example/api/todos", 4_800, 200) });
        failed.offset_ms = 1_400;
        failed.steps = vec![
            Step { time: 4_700, kind: "click", summary: "Click the \"Save\" button (button#save)".into() },
            Step { time: 4_750, kind: "navigation", summary: "Went to https://app.example/todos/1".into() },
        ];
        let click = problem(
            ProblemKind::ErrorClick,
            4_700,
            "Error click on the \"Save\" button (button#save)".into(),
            String::new(),
        );
        let pages = [PageStep { time: 0, summary: "Loaded https://app.example/todos?x=1".into() }];
        let problems = [click, failed];
        let lead = leading(&problems).unwrap();
        assert_eq!(
            headline(lead, &pages),
            "POST /api/todos failed with 500 after the user clicked the \"Save\" button (button#save), 1.4 s into the session on /todos?x=1"
        );
    }

    #[test]
    fn what_one_action_caused_is_one_problem_led_by_the_failed_request() {
        let click = Step { time: 1_000, kind: "click", summary: "Click the \"Send\" button (button#send)".into() };
        let with_steps = |kind, time, summary: &str| {
            let mut p = problem(kind, time, summary.into(), String::new());
            p.steps = vec![click.clone()];
            p
        };
        let error_click = problem(
            ProblemKind::ErrorClick,
            1_000,
            "Error click on the \"Send\" button (button#send)".into(),
            String::new(),
        );
        let failed = with_steps(ProblemKind::FailedRequest, 1_300, "POST /api/send answered 500");
        let logged = with_steps(ProblemKind::ConsoleError, 1_310, "Could not send");
        let rage = problem(
            ProblemKind::RageClick,
            5_000,
            "Rage click: 4 clicks on the \"Report\" button (button#report)".into(),
            String::new(),
        );
        let later = with_steps(ProblemKind::JsError, 20_000, "TypeError: late");
        let grouped = grouped(vec![error_click, failed, logged, rage, later]);
        let kinds: Vec<(ProblemKind, Vec<ProblemKind>)> =
            grouped.iter().map(|p| (p.kind, p.related.iter().map(|r| r.kind).collect())).collect();
        assert_eq!(
            kinds,
            [
                (ProblemKind::FailedRequest, vec![ProblemKind::ErrorClick, ProblemKind::ConsoleError]),
                (ProblemKind::RageClick, vec![]),
                (ProblemKind::JsError, vec![]),
            ],
            "a failure 19 s after the click is not that click's"
        );
    }

    #[test]
    fn an_error_logged_where_a_4xx_was_handled_leads_to_that_request_and_a_routine_4xx_is_none() {
        use sightline_protocol::{Console, ConsoleLevel, Initiator, Network, SessionId};
        let dir = tempfile::tempdir().unwrap();
        let store = crate::store::SledStore::open(dir.path()).unwrap();
        let call = |url: &str, status| {
            EventData::Network(Box::new(Network {
                initiator: Initiator::Fetch,
                method: "PUT".into(),
                url: url.into(),
                status,
                duration: 40,
                ..Network::default()
            }))
        };
        let logged = |text: &str| {
            EventData::Console(Console { level: ConsoleLevel::Error, args: vec![text.into()], stack: None })
        };
        let mut recording = Recording::default();
        recording.push(1_000, 0, &call("https://app.example/api/me", 401));
        recording.push(5_000, 0, &call("https://app.example/api/sync", 409));
        // The app's handler logs it after reading the answer's body, in a later task.
        recording.push(5_030, 0, &logged("sync conflict"));
        recording.push(9_000, 0, &call("https://app.example/api/lookup/7", 404));
        // An image that failed to load is no handler's error.
        let image = sightline_protocol::ErrorEvent { kind: ErrorKind::Resource, ..Default::default() };
        recording.push(9_010, 0, &EventData::Error(Box::new(image)));
        recording.push(20_000, 0, &logged("unrelated"));
        // Of three lookups answered 404 at once, the error the app logs is the last one's.
        for (at, id) in [(30_000, 1), (30_005, 2), (30_010, 3)] {
            recording.push(at, 0, &call(&format!("https://app.example/api/lookup/{id}"), 404));
        }
        recording.push(30_020, 0, &logged("lookup failed"));
        let summary = SessionSummary::new(SessionId([1; 16]), 0);
        let digest = build(&store, 1, &summary, recording, "https://viewer", Notes::Included).unwrap();
        let kinds: Vec<(ProblemKind, Vec<&str>)> =
            digest.problems.iter().map(|p| (p.kind, p.related.iter().map(|r| r.summary.as_str()).collect())).collect();
        assert_eq!(
            kinds,
            [
                (ProblemKind::FailedRequest, vec!["sync conflict"]),
                (ProblemKind::JsError, vec![]),
                (ProblemKind::ConsoleError, vec![]),
                (ProblemKind::FailedRequest, vec!["lookup failed"]),
            ],
            "{digest:#?}"
        );
        assert!(digest.problems[3].request.as_ref().unwrap().url.ends_with("/lookup/3"));
        let request = digest.problems[0].request.as_ref().unwrap();
        assert_eq!((request.status, request.url.as_str()), (409, "https://app.example/api/sync"));
        assert!(digest.headline.unwrap().starts_with("PUT /api/sync failed with 409"));
    }

    #[test]
    fn a_long_trace_keeps_its_errors() {
        // Twelve info lines, then an error: the error stays among the ten kept, in time order.
        let lines: Vec<(u32, bool)> = (0..12).map(|i| (i, false)).chain([(12, true)]).collect();
        let kept = errors_first(lines, |(_, error)| *error);
        assert_eq!(kept.len(), BACKEND_LINES);
        assert_eq!(kept.last(), Some(&(12, true)));
        assert!(kept.windows(2).all(|w| w[0].0 < w[1].0));
    }
}

//! The support digest: a session as a story to paste into a ticket or hand to an automated
//! agent. Who the user is, when and where, and for each problem (a JS error, a console error, a
//! failed request, a frustration signal) the moment, a link to it in the viewer, the user's
//! last steps before it, the request, and what the backend logged and traced for it.
//!
//! It is built from the recording (through the replay core's facts and signals, gathered by a
//! [`Recording`] one event at a time) and the backend records stored under the trace ids the
//! requests carried.

mod markdown;

pub use markdown::to_markdown;

use serde::Serialize;
use sightline_player::facts::{Fact, FactFinder, Panel};
use sightline_player::signals::{Signal, SignalFinder, SignalKind};
use sightline_protocol::{EventData, TraceId};

use crate::store::{Store, StoreError};
use crate::summary::SessionSummary;
use crate::telemetry::{LogLine, TraceTelemetry};

/// Problems listed at most; a digest is meant to be read.
const MAX_PROBLEMS: usize = 20;
/// Steps shown before each problem.
const STEPS: usize = 5;
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
    /// What went wrong, in time order.
    pub problems: Vec<Problem>,
    /// Problems left out past [`MAX_PROBLEMS`].
    pub more_problems: usize,
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
    /// A request that failed.
    FailedRequest,
    /// Repeated clicks on one element.
    RageClick,
    /// A click on a control nothing answered.
    DeadClick,
    /// A click followed by an error or a failed request.
    ErrorClick,
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
}

/// A step the user took.
#[derive(Debug, Clone, Serialize)]
pub struct Step {
    /// When, ms since the epoch.
    pub time: u64,
    /// What they did.
    pub summary: String,
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

/// What a digest needs of a recording, gathered from its events one at a time (see
/// `recording::read_session`), keeping bounded state.
#[derive(Default)]
pub struct Recording {
    span: Option<(u64, u64)>,
    facts: FactFinder,
    signals: SignalFinder,
    failed_requests: Vec<(u64, RequestFacts)>,
}

impl Recording {
    /// Takes the next event of the recording.
    pub fn push(&mut self, time: u64, page: u32, data: &EventData) {
        self.span = Some(self.span.map_or((time, time), |(first, last)| (first.min(time), last.max(time))));
        self.facts.push(time, data);
        self.signals.push(time, page, data);
        if let EventData::Network(n) = data {
            if n.failed() && self.failed_requests.len() < MAX_FAILED_REQUESTS {
                self.failed_requests.push((
                    time,
                    RequestFacts {
                        method: n.method.clone(),
                        url: n.url.clone(),
                        status: n.status,
                        error: n.error.clone(),
                        start: time.saturating_sub(u64::from(n.duration)),
                        duration_ms: n.duration,
                        trace: n.trace.map(|t| t.trace_id.to_string()),
                    },
                ));
            }
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
) -> Result<Digest, StoreError> {
    let link = |time: Option<u64>| match time {
        Some(t) => format!("{viewer}/sessions/{}?t={t}", summary.id),
        None => format!("{viewer}/sessions/{}", summary.id),
    };
    let Recording { span, facts, signals, failed_requests } = recording;
    let (start, end) = span.unwrap_or((summary.start, summary.end));
    let facts = facts.finish();
    let activity: Vec<&Fact> = facts.iter().filter(|f| f.panel == Panel::Activity).collect();
    let steps_before = |time: u64| -> Vec<Step> {
        let before = activity.partition_point(|f| f.time <= time);
        activity[before.saturating_sub(STEPS)..before]
            .iter()
            .map(|f| Step { time: f.time, summary: f.summary.clone() })
            .collect()
    };

    let mut problems = Vec::new();
    for fact in facts.iter().filter(|f| f.panel == Panel::Console && f.problem) {
        let kind = if fact.kind == "exception" { ProblemKind::JsError } else { ProblemKind::ConsoleError };
        problems.push(problem(kind, fact.time, fact.summary.clone(), fact.detail.clone()));
    }
    for (time, request) in failed_requests {
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
    for signal in signals.finish() {
        let kind = match signal.kind {
            SignalKind::RageClick => ProblemKind::RageClick,
            SignalKind::DeadClick => ProblemKind::DeadClick,
            SignalKind::ErrorClick => ProblemKind::ErrorClick,
            // Listed above with the request's facts.
            SignalKind::FailedRequest => continue,
        };
        let Signal { time, summary, .. } = signal;
        problems.push(problem(kind, time, summary, String::new()));
    }
    problems.sort_by_key(|p| p.time);
    let more_problems = problems.len().saturating_sub(MAX_PROBLEMS);
    problems.truncate(MAX_PROBLEMS);
    for p in &mut problems {
        p.offset_ms = p.time.saturating_sub(start);
        p.link = link(Some(p.time));
        // Steps strictly before a click signal: the click itself is the problem.
        let cutoff = if matches!(p.kind, ProblemKind::RageClick | ProblemKind::DeadClick | ProblemKind::ErrorClick) {
            p.time.saturating_sub(1)
        } else {
            p.time
        };
        p.steps = steps_before(cutoff);
        if let Some(trace) = p.request.as_ref().and_then(|r| r.trace.as_deref()).and_then(|t| t.parse::<TraceId>().ok())
        {
            let mut backend = TraceTelemetry::new(trace, store.telemetry(project, trace)?);
            backend.logs = errors_first(std::mem::take(&mut backend.logs), LogLine::is_error);
            backend.spans = errors_first(std::mem::take(&mut backend.spans), |s| s.status == "error");
            p.backend = Some(backend);
        }
    }

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
        pages: activity
            .iter()
            .filter(|f| f.kind == "navigation")
            .map(|f| PageStep { time: f.time, summary: f.summary.clone() })
            .collect(),
        problems,
        more_problems,
    })
}

/// At most [`BACKEND_LINES`] of `records` (in time order), those that are errors kept first.
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
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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

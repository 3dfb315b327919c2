//! Finding sessions: filters over the summaries, newest first, with cursor pagination.
//!
//! Exact-match filters (trace id, user id or email) start from their index; everything else
//! walks the time-ordered listing, reading summaries until a page is full or the scan budget
//! is spent, in which case the page comes back short with a cursor to continue from.

use serde::Serialize;
use sightline_protocol::{SessionId, TraceId};

use crate::store::{Cursor, Listed, Store, StoreError, TraceHit};
use crate::summary::{user_key, SessionSummary};

/// Listing entries examined per request at most.
const SCAN_BUDGET: usize = 20_000;

/// What to look for.
#[derive(Debug, Default, Clone)]
pub struct SessionFilter {
    /// User id or email, exact (emails compared lowercased).
    pub user: Option<String>,
    /// Sessions first seen at or after this time (ms).
    pub from: Option<u64>,
    /// Sessions first seen before this time (ms).
    pub to: Option<u64>,
    /// A URL visited contains this text.
    pub url: Option<String>,
    /// Only sessions with JS errors.
    pub has_errors: bool,
    /// Only sessions with failed requests.
    pub has_failed_requests: bool,
    /// Only sessions with rage clicks.
    pub has_rage_clicks: bool,
    /// Only sessions with dead clicks.
    pub has_dead_clicks: bool,
    /// Only sessions with error clicks.
    pub has_error_clicks: bool,
    /// Only sessions where the user reported a problem.
    pub has_feedback: bool,
    /// Only sessions where anything went wrong (any of the above, or a problem the digest
    /// found).
    pub has_problems: bool,
    /// Sessions that made a request with this trace id.
    pub trace: Option<TraceId>,
    /// Free text over the user id, email and traits (case-insensitive).
    pub text: Option<String>,
}

impl SessionFilter {
    fn matches(&self, s: &SessionSummary) -> bool {
        let is_user = |user: &String| {
            s.user_id.as_deref() == Some(user_key(user).as_str())
                || s.email.as_deref() == Some(user_key(&user.to_lowercase()).as_str())
        };
        self.user.as_ref().is_none_or(is_user)
            && (!self.has_errors || s.error_count > 0)
            && (!self.has_failed_requests || s.failed_request_count > 0)
            && (!self.has_rage_clicks || s.signals.rage_clicks > 0)
            && (!self.has_dead_clicks || s.signals.dead_clicks > 0)
            && (!self.has_error_clicks || s.signals.error_clicks > 0)
            && (!self.has_problems || s.had_problem())
            && (!self.has_feedback || s.feedback_count > 0)
            && self.from.is_none_or(|from| s.first_seen >= from)
            && self.to.is_none_or(|to| s.first_seen < to)
            && self.url.as_deref().is_none_or(|url| s.urls.iter().any(|u| u.contains(url)))
            && self.text.as_deref().is_none_or(|text| s.mentions(&text.to_lowercase()))
    }
}

/// One page of results.
#[derive(Debug, Serialize)]
pub struct SessionPage {
    /// Matching sessions, newest first.
    pub sessions: Vec<SessionSummary>,
    /// Pass as `cursor` to get the next page; absent on the last page.
    pub next_cursor: Option<String>,
    /// For a trace id search: where in which session the trace was seen.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub moments: Vec<Moment>,
}

/// The moment a request with a given trace id was made.
#[derive(Debug, Serialize)]
pub struct Moment {
    /// Session id.
    pub session: String,
    /// Page index.
    pub page: u32,
    /// Batch sequence number.
    pub seq: u32,
    /// Request start, client ms since the Unix epoch.
    pub time: u64,
}

/// Runs a query over one project's sessions.
pub fn find_sessions(
    store: &dyn Store,
    project: u32,
    filter: &SessionFilter,
    cursor: Option<Cursor>,
    limit: usize,
) -> Result<SessionPage, StoreError> {
    let mut moments = Vec::new();
    let candidates: Option<Vec<SessionId>> = if let Some(trace) = filter.trace {
        let hits = store.trace_hits(project, trace)?;
        moments = hits.iter().map(moment).collect();
        Some(hits.iter().map(|h| h.session).collect())
    } else if let Some(user) = &filter.user {
        Some(sessions_of_user(store, project, user)?)
    } else {
        None
    };

    let mut page = match candidates {
        Some(sessions) => from_candidates(store, project, filter, sessions, cursor, limit)?,
        None => from_listing(store, project, filter, cursor, limit)?,
    };
    moments.retain(|m| page.sessions.iter().any(|s| s.id == m.session));
    page.moments = moments;
    Ok(page)
}

/// Sessions of a user id or email; emails are indexed lowercased, user ids as given (one index
/// for both: what the lowercased lookup finds counts only where it is the session's email, so
/// `JSmith` never finds the sessions of user id `jsmith`).
pub fn sessions_of_user(store: &dyn Store, project: u32, user: &str) -> Result<Vec<SessionId>, StoreError> {
    let exact = user_key(user);
    let mut sessions = store.sessions_of_user(project, &exact)?;
    let lower = user_key(&user.to_lowercase());
    if lower != exact {
        for session in store.sessions_of_user(project, &lower)? {
            if store.summary(project, session)?.is_some_and(|s| s.email.as_deref() == Some(lower.as_str())) {
                sessions.push(session);
            }
        }
    }
    sessions.sort();
    sessions.dedup();
    Ok(sessions)
}

fn moment(hit: &TraceHit) -> Moment {
    Moment { session: hit.session.to_string(), page: hit.page, seq: hit.seq, time: hit.time }
}

fn cursor_of(summary: &SessionSummary) -> Option<Cursor> {
    Some(Cursor { first_seen: summary.first_seen, session: summary.id.parse().ok()? })
}

fn from_candidates(
    store: &dyn Store,
    project: u32,
    filter: &SessionFilter,
    mut sessions: Vec<SessionId>,
    cursor: Option<Cursor>,
    limit: usize,
) -> Result<SessionPage, StoreError> {
    sessions.sort();
    sessions.dedup();
    let mut found = Vec::new();
    for session in sessions {
        if let Some(summary) = store.summary(project, session)? {
            let position = cursor_of(&summary);
            if filter.matches(&summary) && cursor.is_none_or(|c| position.is_some_and(|p| p < c)) {
                found.push((position, summary));
            }
        }
    }
    found.sort_by_key(|(position, _)| std::cmp::Reverse(*position));
    let more = found.len() > limit;
    found.truncate(limit);
    let next_cursor = if more { found.last().and_then(|(c, _)| *c).map(|c| c.to_string()) } else { None };
    Ok(SessionPage { sessions: found.into_iter().map(|(_, s)| s).collect(), next_cursor, moments: Vec::new() })
}

fn from_listing(
    store: &dyn Store,
    project: u32,
    filter: &SessionFilter,
    cursor: Option<Cursor>,
    limit: usize,
) -> Result<SessionPage, StoreError> {
    // Start below `to` when that is tighter than the cursor.
    let start = match (cursor, filter.to) {
        (Some(c), Some(to)) if to <= c.first_seen => Some(Cursor { first_seen: to, session: SessionId([0; 16]) }),
        (None, Some(to)) => Some(Cursor { first_seen: to, session: SessionId([0; 16]) }),
        (c, _) => c,
    };
    let mut sessions = Vec::new();
    let mut last: Option<Listed> = None;
    let mut exhausted = true;
    for (scanned, entry) in store.listed(project, start).enumerate() {
        let entry = entry?;
        if filter.from.is_some_and(|from| entry.first_seen < from) {
            break;
        }
        if sessions.len() == limit || scanned == SCAN_BUDGET {
            exhausted = false;
            break;
        }
        last = Some(entry);
        if let Some(summary) = store.summary(project, entry.session)? {
            if filter.matches(&summary) {
                sessions.push(summary);
            }
        }
    }
    let next_cursor = if exhausted {
        None
    } else {
        last.map(|l| Cursor { first_seen: l.first_seen, session: l.session }.to_string())
    };
    Ok(SessionPage { sessions, next_cursor, moments: Vec::new() })
}

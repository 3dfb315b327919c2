//! One cause, one problem. What a single user action set off (the failed request, the error
//! click on the button, the console error the app logged), and what a request's answer set off
//! in the tasks that handled it (the error logged in its response handler, a promise
//! continuation or a short timer), is one problem led by what an engineer reads first: the
//! failed request, whose backend says why.

use std::collections::HashMap;

use super::{Problem, ProblemKind, Related};

/// How soon after the user's action what went wrong is still that action's.
const CAUSE_WINDOW_MS: u64 = 10_000;
/// How long after a response an error is still its handler's: the handler itself, a promise
/// continuation, a short timer.
const CHAIN_AFTER_MS: u64 = 1_000;
/// How long before the recorded response an error may still be its handler's: the recorder
/// notes a response once it has read its body, which can be after the page's handler ran.
const CHAIN_BEFORE_MS: u64 = 250;

/// What the problems of one group share.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum Cause {
    /// The user's action at this time.
    Action(u64),
    /// The request answered at this time, when no action of the user's led to it.
    Request(u64),
}

/// The user's action a problem follows from: the click itself for an error click; else the last
/// click, key, submission or typing among its steps, if recent.
fn action_of(p: &Problem) -> Option<u64> {
    // A slow request follows from what sent it, however long it then took.
    let from = match (&p.request, p.kind) {
        (Some(request), ProblemKind::SlowRequest) => request.start,
        _ => p.time,
    };
    match p.kind {
        ProblemKind::ErrorClick => Some(p.time),
        ProblemKind::FailedRequest
        | ProblemKind::JsError
        | ProblemKind::ConsoleError
        | ProblemKind::ErrorShown
        | ProblemKind::SlowRequest => p
            .steps
            .iter()
            .rev()
            .find(|s| matches!(s.kind, "click" | "double click" | "context click" | "key" | "submit" | "input"))
            .map(|s| s.time)
            .filter(|time| from.saturating_sub(*time) <= CAUSE_WINDOW_MS),
        // Rage and dead clicks are about the clicking itself; a report stands on its own.
        ProblemKind::RageClick | ProblemKind::DeadClick | ProblemKind::Feedback => None,
    }
}

/// Whether an error at `error` falls in the tasks that handled a response recorded at `answered`.
pub(super) fn follows_response(error: u64, answered: u64) -> bool {
    answered.saturating_sub(CHAIN_BEFORE_MS) <= error && error <= answered + CHAIN_AFTER_MS
}

/// Whether nothing at `now` or later can be the handling of a response recorded at `answered`.
pub(super) fn chain_ended(answered: u64, now: u64) -> bool {
    now > answered + CHAIN_AFTER_MS
}

fn is_error(kind: ProblemKind) -> bool {
    matches!(kind, ProblemKind::JsError | ProblemKind::ConsoleError | ProblemKind::ErrorShown)
}

/// The cause of each problem: an error handled in a failed request's tasks shares the
/// request's, unless the user acted after the answer; others their user action, and a failed
/// request with none is a cause of its own.
fn causes(problems: &[Problem]) -> Vec<Option<Cause>> {
    let own = |p: &Problem| {
        action_of(p)
            .map(Cause::Action)
            .or_else(|| (p.kind == ProblemKind::FailedRequest).then_some(Cause::Request(p.time)))
    };
    let mut causes: Vec<Option<Cause>> = problems.iter().map(own).collect();
    for (i, p) in problems.iter().enumerate().filter(|(_, p)| is_error(p.kind)) {
        let answered = problems
            .iter()
            .enumerate()
            .filter(|(_, q)| q.kind == ProblemKind::FailedRequest && follows_response(p.time, q.time))
            .min_by_key(|(_, q)| (q.time > p.time, p.time.abs_diff(q.time)));
        if let Some((at, q)) = answered {
            if action_of(p).is_none_or(|action| action <= q.time) {
                causes[i] = causes[at];
            }
        }
    }
    causes
}

/// Problems of one cause, as one: led by the one an engineer reads first, the others listed
/// under it.
pub(super) fn grouped(problems: Vec<Problem>) -> Vec<Problem> {
    let causes = causes(&problems);
    let mut out: Vec<Problem> = Vec::with_capacity(problems.len());
    let mut by_cause: HashMap<Cause, usize> = HashMap::new();
    for (p, cause) in problems.into_iter().zip(causes) {
        let Some(cause) = cause else {
            out.push(p);
            continue;
        };
        let Some(&at) = by_cause.get(&cause) else {
            by_cause.insert(cause, out.len());
            out.push(p);
            continue;
        };
        let lead = &mut out[at];
        if rank(p.kind) < rank(lead.kind) {
            let mut previous = std::mem::replace(lead, p);
            lead.related.append(&mut previous.related);
            lead.related.push(as_related(previous));
        } else {
            lead.related.push(as_related(p));
        }
        lead.related.sort_by_key(|r| r.time);
    }
    out
}

fn as_related(p: Problem) -> Related {
    Related { kind: p.kind, time: p.time, offset_ms: p.offset_ms, summary: p.summary, link: p.link }
}

/// Which of a cause's problems leads: lower first.
pub(super) fn rank(kind: ProblemKind) -> u8 {
    match kind {
        ProblemKind::FailedRequest => 0,
        ProblemKind::JsError => 1,
        ProblemKind::SlowRequest => 2,
        ProblemKind::ConsoleError => 3,
        ProblemKind::ErrorShown => 4,
        ProblemKind::ErrorClick => 5,
        ProblemKind::RageClick => 6,
        ProblemKind::DeadClick => 7,
        ProblemKind::Feedback => 8,
    }
}

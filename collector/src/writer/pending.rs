//! The sessions whose stored batches changed since their last analysis, and when each is due:
//! once it has been quiet for [`QUIET`], or every [`MAX_WAIT`] while it keeps changing. The
//! writer fills it; the analyzer takes from it.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use sightline_protocol::SessionId;

/// How long a session must go without new batches before it is analysed.
pub const QUIET: Duration = Duration::from_secs(2);
/// How long a session that keeps changing waits for its analysis at most.
pub const MAX_WAIT: Duration = Duration::from_secs(30);

/// Sessions with batches their signal counts don't cover yet.
#[derive(Default)]
pub struct PendingAnalysis {
    sessions: Mutex<HashMap<(u32, SessionId), (Instant, Instant)>>,
}

impl PendingAnalysis {
    /// Marks a session as changed now.
    pub fn changed(&self, project: u32, session: SessionId) {
        let now = Instant::now();
        let mut sessions = self.sessions.lock().unwrap_or_else(|e| e.into_inner());
        sessions.entry((project, session)).and_modify(|(_, last)| *last = now).or_insert((now, now));
    }

    /// Takes every session due for analysis at `now`.
    #[cfg(test)]
    pub(crate) fn due_at(&self, now: Instant) -> Vec<(u32, SessionId)> {
        self.due(now, usize::MAX)
    }

    /// Takes the sessions due for analysis at `now`, oldest change first, at most `max`.
    pub(crate) fn due(&self, now: Instant, max: usize) -> Vec<(u32, SessionId)> {
        let mut sessions = self.sessions.lock().unwrap_or_else(|e| e.into_inner());
        let mut due: Vec<_> = sessions
            .iter()
            .filter(|(_, (first, last))| {
                now.saturating_duration_since(*last) >= QUIET || now.saturating_duration_since(*first) >= MAX_WAIT
            })
            .map(|(key, (first, _))| (*first, *key))
            .collect();
        due.sort();
        due.truncate(max);
        for (_, key) in &due {
            sessions.remove(key);
        }
        due.into_iter().map(|(_, key)| key).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_session_is_due_once_quiet_or_after_the_longest_wait() {
        let pending = PendingAnalysis::default();
        let session = SessionId([1; 16]);
        pending.changed(1, session);
        let start = Instant::now();
        assert!(pending.due(start, 10).is_empty(), "just changed");
        assert_eq!(pending.due(start + QUIET, 10), [(1, session)]);
        assert!(pending.due(start + QUIET, 10).is_empty(), "taken once");

        // Changing every second, it still comes due after the longest wait.
        pending.changed(1, session);
        let first = Instant::now();
        pending.sessions.lock().unwrap().get_mut(&(1, session)).unwrap().1 = first + MAX_WAIT;
        assert!(pending.due(first + MAX_WAIT - Duration::from_secs(1), 10).is_empty());
        assert_eq!(pending.due(first + MAX_WAIT, 10), [(1, session)]);
    }
}

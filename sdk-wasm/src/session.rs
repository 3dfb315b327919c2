//! A session's identity across the page loads of one tab.
//!
//! The identity lives in `sessionStorage`, which is per tab and survives reloads and same-origin
//! navigations but not closing the tab. A page load continues the stored session as its next
//! page, unless the session has been idle for 30 minutes or has lasted 12 hours, in which case
//! a new session starts. The same rules end a session while a page stays open.

use sightline_protocol::{SessionId, WriterSecret};

use crate::digits::push_decimal;

/// A session ends after this long without activity.
pub const IDLE_TIMEOUT_MS: u64 = 30 * 60 * 1000;
/// A session ends after this long in all.
pub const MAX_DURATION_MS: u64 = 12 * 60 * 60 * 1000;
/// The `sessionStorage` key holding the session.
pub const STORAGE_KEY: &str = "sightline.session";

/// The session a page records into.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Session {
    /// Its id.
    pub id: SessionId,
    /// When it started (ms since the Unix epoch).
    pub started: u64,
    /// When the user was last active in it.
    pub last_active: u64,
    /// The index of the current page load within it.
    pub page: u32,
    /// The secret its batches are sealed with, which binds the session to this tab (see
    /// `sightline_protocol::seal`): drawn when it starts, and the id derived from it. `None`
    /// for a session an SDK before the seal started, whose batches go unsealed as before.
    pub writer: Option<WriterSecret>,
}

impl Session {
    /// A new session starting now, on its first page.
    pub fn start(id: SessionId, now: u64) -> Session {
        Session { id, started: now, last_active: now, page: 0, writer: None }
    }

    /// The session for a page that has just loaded: the stored one continued as its next page,
    /// or a new one with `fresh_id` when nothing usable is stored or the stored one has ended.
    /// A load is not activity of its own (a dashboard may reload itself): the user's click that
    /// led to it was recorded by the page before.
    pub fn on_page_load(stored: Option<&str>, now: u64, fresh_id: SessionId) -> Session {
        match stored.and_then(Session::decode) {
            // A session an SDK before the seal started can't go on sealed: a new one starts.
            Some(previous) if !previous.has_ended(now) && previous.writer.is_some() => {
                Session { page: previous.page.saturating_add(1), ..previous }
            }
            _ => Session::start(fresh_id, now),
        }
    }

    /// The session that follows this one at `now`, with `id`, after 12 hours: the user's last
    /// activity carries over, so an idle user's new session idles out on time.
    pub fn next(&self, id: SessionId, now: u64) -> Session {
        Session { id, started: now, last_active: self.last_active.min(now), page: 0, writer: None }
    }

    /// Whether the session has ended by `now`: idle too long, or too long in all. A clock
    /// that went backwards ends nothing.
    pub fn has_ended(&self, now: u64) -> bool {
        self.is_idle(now) || self.has_run_out(now)
    }

    /// Whether the user has been inactive too long by `now`.
    pub fn is_idle(&self, now: u64) -> bool {
        now.saturating_sub(self.last_active) >= IDLE_TIMEOUT_MS
    }

    /// Whether the session has lasted its longest by `now`, however active the user is.
    pub fn has_run_out(&self, now: u64) -> bool {
        now.saturating_sub(self.started) >= MAX_DURATION_MS
    }

    /// Records activity at `now`.
    pub fn touch(&mut self, now: u64) {
        self.last_active = self.last_active.max(now);
    }

    /// The stored form: `2:<id hex>:<writer hex>:<started>:<last active>:<page>`, or, for a
    /// session without a writer, `1:<id hex>:<started>:<last active>:<page>`.
    pub fn encode(&self) -> String {
        let mut out = String::from(if self.writer.is_some() { "2:" } else { "1:" });
        self.id.push_hex(&mut out);
        if let Some(writer) = &self.writer {
            out.push(':');
            SessionId(writer.0).push_hex(&mut out);
        }
        for n in [self.started, self.last_active, u64::from(self.page)] {
            out.push(':');
            push_decimal(&mut out, n);
        }
        out
    }

    /// Parses the stored form; `None` for anything else, which starts a new session.
    pub fn decode(stored: &str) -> Option<Session> {
        let mut parts = stored.split(':');
        let sealed = match parts.next()? {
            "1" => false,
            "2" => true,
            _ => return None,
        };
        let id: SessionId = parts.next()?.parse().ok()?;
        let writer = if sealed {
            let secret: SessionId = parts.next()?.parse().ok()?;
            // A sealed session's id is its writer's: any other could not be written.
            Some(Some(WriterSecret(secret.0)).filter(|writer| writer.session_id() == id)?)
        } else {
            None
        };
        let session = Session {
            id,
            writer,
            started: parts.next()?.parse().ok()?,
            last_active: parts.next()?.parse().ok()?,
            page: parts.next()?.parse().ok()?,
        };
        (parts.next().is_none() && !session.id.is_zero()).then_some(session)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const T0: u64 = 1_780_000_000_000;
    const A: SessionId = SessionId([0xaa; 16]);
    const B: SessionId = SessionId([0xbb; 16]);

    /// A new session sealed by the writer secret `[w; 16]`, as the SDK starts one.
    fn sealed(w: u8, now: u64) -> Session {
        let writer = WriterSecret([w; 16]);
        Session { writer: Some(writer), ..Session::start(writer.session_id(), now) }
    }

    #[test]
    fn a_reload_continues_the_session_as_its_next_page() {
        let first = sealed(0x5e, T0);
        let stored = first.encode();
        assert!(stored.starts_with("2:") && stored.contains(&"5e".repeat(16)), "{stored}");
        let second = Session::on_page_load(Some(&stored), T0 + 60_000, B);
        assert_eq!(second, Session { page: 1, ..first }, "a load is no activity; the writer goes on");
        // Stored with an id that isn't its writer's: a new session.
        let forged = Session { id: A, ..first }.encode();
        assert_eq!(Session::on_page_load(Some(&forged), T0 + 60_000, B), Session::start(B, T0 + 60_000));
        // Started by an SDK before the seal: it can't go on sealed, so a new session starts.
        let unsealed = Session::start(A, T0).encode();
        assert!(unsealed.starts_with("1:"), "{unsealed}");
        assert_eq!(Session::decode(&unsealed), Some(Session::start(A, T0)));
        assert_eq!(Session::on_page_load(Some(&unsealed), T0 + 60_000, B), Session::start(B, T0 + 60_000));
    }

    #[test]
    fn thirty_idle_minutes_or_twelve_hours_start_a_new_session() {
        let mut session = sealed(0xaa, T0);
        let stored = session.encode();
        assert_eq!(Session::on_page_load(Some(&stored), T0 + IDLE_TIMEOUT_MS - 1, B).id, session.id);
        assert_eq!(
            Session::on_page_load(Some(&stored), T0 + IDLE_TIMEOUT_MS, B),
            Session::start(B, T0 + IDLE_TIMEOUT_MS)
        );

        // Active all along, but 12 hours old.
        let mut now = T0;
        while now < T0 + MAX_DURATION_MS - 60_000 {
            now += 60_000;
            session.touch(now);
        }
        assert!(!session.has_ended(now) && !session.has_run_out(now));
        assert!(session.has_ended(T0 + MAX_DURATION_MS) && session.has_run_out(T0 + MAX_DURATION_MS));
        assert!(!Session::start(A, T0).has_run_out(T0 + IDLE_TIMEOUT_MS), "idle is not the same as over");
        assert_eq!(Session::on_page_load(Some(&session.encode()), T0 + MAX_DURATION_MS, B).id, B);
    }

    #[test]
    fn the_session_after_twelve_hours_keeps_the_users_last_activity() {
        let mut old = Session::start(A, T0);
        old.touch(T0 + MAX_DURATION_MS - 29 * 60_000);
        let next = old.next(B, T0 + MAX_DURATION_MS);
        assert_eq!((next.id, next.started, next.page), (B, T0 + MAX_DURATION_MS, 0));
        assert!(!next.is_idle(T0 + MAX_DURATION_MS + 60_000 - 1));
        assert!(next.is_idle(T0 + MAX_DURATION_MS + 60_000), "idle on the old session's schedule");
        assert_eq!(Session::decode(&next.encode()), Some(next));
    }

    #[test]
    fn a_clock_going_backwards_ends_nothing() {
        let session = Session::start(A, T0);
        assert!(!session.has_ended(T0 - 3_600_000));
        let mut touched = session;
        touched.touch(T0 - 1_000);
        assert_eq!(touched.last_active, T0);
    }

    #[test]
    fn anything_unreadable_in_storage_starts_a_new_session() {
        let good = Session::start(A, T0).encode();
        assert_eq!(Session::decode(&good), Some(Session::start(A, T0)));
        for bad in [
            "",
            "garbage",
            "3:aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa:1:1:0",
            "2:aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa:1:1:0",
            "2:aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa:nothex:1:1:0",
            "1:nothex:1:1:0",
            "1:00000000000000000000000000000000:1:1:0",
            "1:aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa:1:1:0:extra",
            "1:aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa:1:1:-1",
        ] {
            assert_eq!(Session::decode(bad), None, "{bad:?}");
            assert_eq!(Session::on_page_load(Some(bad), T0, B), Session::start(B, T0));
        }
    }
}

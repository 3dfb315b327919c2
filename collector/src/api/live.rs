//! `GET /api/sessions/{id}/live`: a session followed as it happens. The answer is a stream of
//! Server-Sent Events: `ready` once following, `stored` with `{"page", "seq"}` each time a
//! batch of the session is durable (what the engineer then reads is what the collector
//! acknowledged), and `lagged` when announcements were missed (read everything after the last
//! batch read). A comment every 15 s keeps proxies from closing the connection.
//!
//! While a session is followed it is *watched*: the answer to each of its batches says so
//! (`"watched": true`), and the SDK then sends every second rather than every five.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use actix_web::{web, HttpRequest, HttpResponse};
use futures_util::stream;
use sightline_protocol::SessionId;
use tokio::sync::broadcast::error::RecvError;
use tokio::sync::broadcast::Receiver;

use super::auth::ReadAccess;
use super::sessions::stored_session;
use super::AppState;
use crate::error::ApiError;
use crate::store::BatchKey;

/// Live views open at once at most, over all projects: each holds a connection and a place in
/// the announcements.
const MAX_FOLLOWERS: usize = 256;
/// And per project, so that one project's viewers can't take them all from the others.
const MAX_FOLLOWERS_PER_PROJECT: usize = 32;
/// How often a quiet stream says it is still there.
const HEARTBEAT: Duration = Duration::from_secs(15);

/// The sessions someone follows, and how many follow each.
#[derive(Debug, Default, Clone)]
pub struct Watchers(Arc<Mutex<HashMap<(u32, SessionId), usize>>>);

impl Watchers {
    /// Whether someone follows the session now.
    pub fn watched(&self, project: u32, session: SessionId) -> bool {
        self.0.lock().unwrap_or_else(|e| e.into_inner()).contains_key(&(project, session))
    }

    /// Counts a follower in, until the guard is dropped; none past the ceiling.
    fn follow(&self, project: u32, session: SessionId) -> Option<Following> {
        let mut followed = self.0.lock().unwrap_or_else(|e| e.into_inner());
        let of_project: usize = followed.iter().filter(|((p, _), _)| *p == project).map(|(_, n)| n).sum();
        if followed.values().sum::<usize>() >= MAX_FOLLOWERS || of_project >= MAX_FOLLOWERS_PER_PROJECT {
            return None;
        }
        *followed.entry((project, session)).or_default() += 1;
        Some(Following { watchers: self.clone(), key: (project, session) })
    }
}

/// One follower, counted while it lives.
struct Following {
    watchers: Watchers,
    key: (u32, SessionId),
}

impl Drop for Following {
    fn drop(&mut self) {
        let mut followed = self.watchers.0.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(count) = followed.get_mut(&self.key) {
            *count -= 1;
            if *count == 0 {
                followed.remove(&self.key);
            }
        }
    }
}

/// A follower's stream: what it waits on.
struct Follow {
    durable: Receiver<BatchKey>,
    heartbeat: tokio::time::Interval,
    ready: bool,
    _following: Following,
}

pub async fn follow(
    req: HttpRequest,
    access: ReadAccess,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let (project, session) = stored_session(&req, &access, &state)?;
    let durable = state.writer.durable_batches();
    // As many live views as the collector holds are open: try again shortly.
    let following = state.watchers.follow(project, session).ok_or(ApiError::Overloaded { retry_after: 30 })?;
    let mut heartbeat = tokio::time::interval(HEARTBEAT);
    heartbeat.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let start = Follow { durable, heartbeat, ready: false, _following: following };
    let events = stream::unfold(start, move |mut follow| async move {
        if !follow.ready {
            follow.ready = true;
            follow.heartbeat.tick().await;
            return Some((Ok::<_, actix_web::Error>(web::Bytes::from_static(b"event: ready\ndata: {}\n\n")), follow));
        }
        loop {
            let said: &[u8] = tokio::select! {
                announced = follow.durable.recv() => match announced {
                    Ok(key) if key.project == project && key.session == session => {
                        let event = format!("event: stored\ndata: {{\"page\":{},\"seq\":{}}}\n\n", key.page, key.seq);
                        return Some((Ok(web::Bytes::from(event)), follow));
                    }
                    Ok(_) => continue,
                    Err(RecvError::Lagged(_)) => b"event: lagged\ndata: {}\n\n",
                    Err(RecvError::Closed) => return None,
                },
                _ = follow.heartbeat.tick() => b": still here\n\n",
            };
            return Some((Ok(web::Bytes::from_static(said)), follow));
        }
    });
    Ok(HttpResponse::Ok()
        .content_type("text/event-stream")
        .insert_header(("cache-control", "no-store"))
        .insert_header(("x-accel-buffering", "no"))
        .streaming(events))
}

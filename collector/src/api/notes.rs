//! A session's notes: support engineers' words at a moment ("here the PDF button does
//! nothing"), signed with their read token's name. `GET /api/sessions/{id}/notes` lists them,
//! `POST` adds one, `DELETE /api/sessions/{id}/notes/{note}` removes one. They are the team's
//! own: a share link neither reads nor writes them. They go in the digest, and so in webhooks.

use actix_web::{web, HttpRequest, HttpResponse};
use serde::Deserialize;

use super::auth::ReadAccess;
use super::body::read_json;
use super::sessions::session_id;
use super::{now_ms, AppState};
use crate::error::ApiError;
use crate::store::Note;

/// Characters of a note at most.
pub const MAX_NOTE: usize = 2_000;
/// Notes a session holds at most.
pub const MAX_NOTES: usize = 200;
/// A note is a few words of JSON.
const MAX_BODY: usize = 16 * 1024;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct NewNote {
    /// The moment, ms since the epoch.
    time: Option<u64>,
    /// Or ms since the session's start.
    offset_ms: Option<u64>,
    text: String,
}

pub async fn list(req: HttpRequest, access: ReadAccess, state: web::Data<AppState>) -> Result<HttpResponse, ApiError> {
    let session = session_id(&req)?;
    let project = access.whole_project()?;
    let store = state.store.clone();
    let notes = web::block(move || {
        store.summary(project, session)?.ok_or(ApiError::NotFound("no such session"))?;
        Ok::<_, ApiError>(store.notes(project, session)?)
    })
    .await
    .map_err(|_| ApiError::ShuttingDown)??;
    Ok(HttpResponse::Ok().json(serde_json::json!({ "notes": notes })))
}

pub async fn add(
    req: HttpRequest,
    body: web::Payload,
    access: ReadAccess,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let session = session_id(&req)?;
    let project = access.whole_project()?;
    let asked: NewNote = read_json(&req, body, MAX_BODY).await?;
    let text = asked.text.trim().to_owned();
    if text.is_empty() || text.chars().count() > MAX_NOTE {
        return Err(ApiError::bad_request("bad_note", format!("a note is 1 to {MAX_NOTE} characters")));
    }
    let store = state.store.clone();
    let author = access.holder.clone();
    let note = web::block(move || {
        let summary = store.summary(project, session)?.ok_or(ApiError::NotFound("no such session"))?;
        let time = match (asked.time, asked.offset_ms) {
            (Some(time), None) => time,
            (None, Some(offset)) => summary.start.saturating_add(offset),
            _ => return Err(ApiError::bad_request("bad_note", "name the moment by `time` or `offset_ms`")),
        };
        if store.notes(project, session)?.len() >= MAX_NOTES {
            return Err(ApiError::Conflict {
                code: "too_many_notes",
                message: format!("a session holds at most {MAX_NOTES} notes"),
            });
        }
        let note = Note { id: format!("{:016x}", crate::share::new_id()), time, author, text, written: now_ms() };
        if !store.add_note(project, session, &note)? {
            return Err(ApiError::NotFound("no such session"));
        }
        Ok(note)
    })
    .await
    .map_err(|_| ApiError::ShuttingDown)??;
    super::audit::audited(&state, &access, "note", Some(session.to_string()), Some(note.id.clone()));
    Ok(HttpResponse::Created().json(note))
}

pub async fn remove(
    req: HttpRequest,
    access: ReadAccess,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let session = session_id(&req)?;
    let project = access.whole_project()?;
    let id = req.match_info().get("note").unwrap_or_default().to_owned();
    let store = state.store.clone();
    let note = id.clone();
    let removed =
        web::block(move || store.remove_note(project, session, &note)).await.map_err(|_| ApiError::ShuttingDown)??;
    if !removed {
        return Err(ApiError::NotFound("no such note"));
    }
    super::audit::audited(&state, &access, "delete_note", Some(session.to_string()), Some(id));
    Ok(HttpResponse::Ok().json(serde_json::json!({ "deleted": 1 })))
}

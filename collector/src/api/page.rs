//! `GET /api/sessions/{id}/page?at=…`: the page at a moment, in words (its address, the text
//! shown, its form fields, where the pointer was and what it last pressed), for a ticket or an
//! agent that has no browser. See `sightline_player::page`.

use actix_web::{web, HttpRequest, HttpResponse};
use serde::Deserialize;
use sightline_player::page::PageReader;

use super::auth::ReadAccess;
use super::sessions::session_id;
use super::AppState;
use crate::error::ApiError;
use crate::recording::read_session;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct PageParams {
    /// The moment, in ms since the epoch.
    at: Option<u64>,
    /// The moment, in ms since the session's start.
    offset: Option<u64>,
}

pub async fn page(req: HttpRequest, access: ReadAccess, state: web::Data<AppState>) -> Result<HttpResponse, ApiError> {
    let session = session_id(&req)?;
    let params = web::Query::<PageParams>::from_query(req.query_string())
        .map_err(|e| ApiError::bad_request("bad_query", e.to_string()))?
        .into_inner();
    let project = access.session(session)?;
    let store = state.store.clone();
    let view = super::build_one_at_a_time(move || {
        let summary = store.summary(project, session)?.ok_or(ApiError::NotFound("no such session"))?;
        let at = match (params.at, params.offset) {
            (Some(at), None) if at < summary.start => {
                return Err(ApiError::bad_request("bad_query", "`at` is before the session started"))
            }
            (Some(at), None) => at,
            (None, Some(offset)) => summary.start.saturating_add(offset),
            _ => {
                return Err(ApiError::bad_request(
                    "bad_query",
                    "name the moment by `at` (ms since the epoch) or `offset` (ms since the session's start)",
                ))
            }
        };
        let mut reader = PageReader::new(at);
        read_session(store.as_ref(), project, session, |time, page, data| reader.push(time, page, data))?;
        Ok(reader.finish())
    })
    .await?;
    super::audit::audited(&state, &access, "page", Some(session.to_string()), None);
    Ok(HttpResponse::Ok().json(serde_json::json!({ "session": session.to_string(), "page": view })))
}

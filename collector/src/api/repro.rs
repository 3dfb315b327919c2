//! `GET /api/sessions/{id}/repro`: a Playwright script that does again what the user did, with
//! the recorded answers of the calls whose bodies were captured, and asserts what went wrong
//! (see `sightline_player::repro`). Built from the session read one batch at a time.

use actix_web::http::header;
use actix_web::{web, HttpRequest, HttpResponse};
use sightline_player::repro::ReproFinder;

use super::auth::ReadAccess;
use super::sessions::session_id;
use super::AppState;
use crate::error::ApiError;
use crate::recording::read_session;

pub async fn repro(req: HttpRequest, access: ReadAccess, state: web::Data<AppState>) -> Result<HttpResponse, ApiError> {
    let session = session_id(&req)?;
    // Not for a share link: a file or a script would outlive its expiry and revocation.
    let project = access.whole_project()?;
    let store = state.store.clone();
    // Files and scripts are built one at a time: each reads a whole session. The permit goes
    // with the work, which runs on even if the client leaves.
    let building = super::BUILDING.clone().acquire_owned().await.map_err(|_| ApiError::ShuttingDown)?;
    let script = web::block(move || {
        let _building = building;
        store.summary(project, session)?.ok_or(ApiError::NotFound("no such session"))?;
        let mut finder = ReproFinder::default();
        read_session(store.as_ref(), project, session, |time, _page, data| finder.push(time, data))?;
        Ok::<_, ApiError>(finder.finish(&session.to_string()))
    })
    .await
    .map_err(|_| ApiError::ShuttingDown)??;
    Ok(HttpResponse::Ok()
        .content_type("text/javascript; charset=utf-8")
        .insert_header((header::CONTENT_DISPOSITION, format!("attachment; filename=\"repro-{session}.js\"")))
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .body(script))
}

//! `GET /api/sessions/{id}/repro`: a Playwright script that does again what the user did, with
//! the recorded answers of the calls whose bodies were captured, and asserts what went wrong
//! (see `sightline_player::repro`). Built from the session read one batch at a time.

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
    let script = super::build_one_at_a_time(move || {
        store.summary(project, session)?.ok_or(ApiError::NotFound("no such session"))?;
        let mut finder = ReproFinder::default();
        read_session(store.as_ref(), project, session, |time, _page, data| finder.push(time, data))?;
        Ok(finder.finish(&session.to_string()))
    })
    .await?;
    super::audit::audited(&state, &access, "repro", Some(session.to_string()), None);
    Ok(super::attachment("text/javascript; charset=utf-8", &format!("repro-{session}.js"), script))
}

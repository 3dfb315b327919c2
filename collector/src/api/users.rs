//! `DELETE /api/users/{id}`: every session of a user, by user id or email, deleted.

use actix_web::{web, HttpRequest, HttpResponse};

use super::auth::ReadAccess;
use super::sessions::delete_sessions;
use super::AppState;
use crate::error::ApiError;
use crate::writer::DeleteTarget;

/// Deletes the sessions of the user `{id}`, including any whose batches are still queued.
pub async fn delete_user(
    req: HttpRequest,
    access: ReadAccess,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let user = req.match_info().get("id").unwrap_or_default().to_owned();
    let deleted = delete_sessions(&state, access.whole_project()?, DeleteTarget::User(user)).await?;
    Ok(HttpResponse::Ok().json(serde_json::json!({ "deleted": deleted })))
}

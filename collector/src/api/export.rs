//! `GET /api/sessions/{id}/export`: the session as one self-contained HTML file, to attach to
//! a ticket for someone without access to the viewer. It carries the viewer's workspace and the
//! replay core, the session's batches exactly as stored (masked as recorded: exporting unmasks
//! nothing), the backend records of its requests' traces and its digest; opened from disk it
//! works offline and fetches nothing itself. The file says when and from where it was exported.

use std::collections::BTreeSet;

use actix_web::{web, HttpRequest, HttpResponse};
use base64::Engine as _;
use sightline_protocol::EventData;

use super::auth::ReadAccess;
use super::sessions::session_id;
use super::traces::trace_json;
use super::{now_ms, AppState};
use crate::digest::{to_markdown, Recording};
use crate::error::ApiError;
use crate::recording::read_session;
use crate::viewer::{export_page, Export};

/// Traces whose backend records go into the file at most.
const MAX_TRACES: usize = 500;

pub async fn export(
    req: HttpRequest,
    access: ReadAccess,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let session = session_id(&req)?;
    // Not for a share link: a file or a script would outlive its expiry and revocation.
    let project = access.whole_project()?;
    let viewer = state.viewer_base(&req);
    let store = state.store.clone();
    let page = super::build_one_at_a_time(move || {
        let summary = store.summary(project, session)?.ok_or(ApiError::NotFound("no such session"))?;
        let mut stream = Vec::new();
        for entry in store.batches(project, session) {
            stream.extend(sightline_protocol::stream::frame(&entry?.1));
        }
        let mut recording = Recording::default();
        let mut traced = BTreeSet::new();
        read_session(store.as_ref(), project, session, |time, page, data| {
            if let EventData::Network(request) = data {
                traced.extend(request.trace.map(|t| t.trace_id).filter(|t| !t.is_zero()));
            }
            recording.push(time, page, data);
        })?;
        let digest =
            crate::digest::build(store.as_ref(), project, &summary, recording, &viewer, crate::digest::Notes::LeftOut)?;
        let mut traces = serde_json::Map::new();
        for trace in traced.into_iter().take(MAX_TRACES) {
            let json = trace_json(trace, store.telemetry(project, trace)?, &store.trace_hits(project, trace)?);
            traces.insert(trace.to_string(), json);
        }
        let exported = now_ms();
        let data = serde_json::json!({
            "session": summary,
            "events": base64::engine::general_purpose::STANDARD.encode(&stream),
            "traces": traces,
            "digest": to_markdown(&digest),
            "exported": exported,
            "from": viewer,
        });
        Ok(export_page(Export { session: &summary.id, data, exported, from: &viewer }))
    })
    .await?;
    super::audit::audited(&state, &access, "export", Some(session.to_string()), None);
    Ok(super::attachment("text/html; charset=utf-8", &format!("sightline-{session}.html"), page))
}

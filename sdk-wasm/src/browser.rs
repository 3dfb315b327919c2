//! The browser side: `sessionStorage`, the platform's random source, and `fetch`.

use js_sys::Uint8Array;
use sightline_protocol::SessionId;
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;

use crate::session::{Session, STORAGE_KEY};

fn storage() -> Option<web_sys::Storage> {
    // Storage access throws in some privacy modes and sandboxed frames; the page then records
    // one session per load rather than failing.
    web_sys::window()?.session_storage().ok()?
}

/// 16 random bytes from `crypto.getRandomValues`.
pub fn random_session_id() -> Result<SessionId, JsValue> {
    let crypto = web_sys::window().ok_or("no window")?.crypto()?;
    let mut bytes = [0u8; 16];
    crypto.get_random_values_with_u8_array(&mut bytes)?;
    Ok(SessionId(bytes))
}

/// The session for the page that just loaded, continued from this tab's storage or new, and
/// stored again.
pub fn session_for_page_load(now: u64) -> Result<Session, JsValue> {
    let storage = storage();
    let stored = storage.as_ref().and_then(|s| s.get_item(STORAGE_KEY).ok().flatten());
    let mut session = Session::on_page_load(stored.as_deref(), now, random_session_id()?);
    session.page = allocate_page(&session);
    save(&session);
    Ok(session)
}

/// A page index no other page of the session has taken. `sessionStorage` alone can hand the
/// same index out twice (a duplicated tab copies it; a page restored from the back-forward
/// cache may store an older one), so a counter per session in `localStorage`, which the tabs of
/// an origin share and which only goes up, has the last word.
fn allocate_page(session: &Session) -> u32 {
    let Some(storage) = local_storage() else { return session.page };
    let key = format!("sightline.pages.{}", session.id);
    let next: u32 = storage.get_item(&key).ok().flatten().and_then(|v| v.parse().ok()).unwrap_or(0);
    let page = session.page.max(next);
    let _ = storage.set_item(&key, &(page + 1).to_string());
    page
}

/// Stores the session for the tab's next page load, never lowering the stored page index;
/// storage errors are ignored (see [`storage`]).
pub fn save(session: &Session) {
    if let Some(storage) = storage() {
        let stored = storage.get_item(STORAGE_KEY).ok().flatten().and_then(|s| Session::decode(&s));
        let mut latest = *session;
        if let Some(stored) = stored.filter(|s| s.id == session.id) {
            latest.page = latest.page.max(stored.page);
            latest.last_active = latest.last_active.max(stored.last_active);
        }
        let _ = storage.set_item(STORAGE_KEY, &latest.encode());
    }
}

/// The collector's answer to one batch.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Answer {
    /// HTTP status; `None` when no response arrived (network error, CORS failure).
    pub status: Option<u16>,
    /// `Retry-After` in seconds, when sent.
    pub retry_after: Option<u64>,
    /// The `result` or `error` field of the JSON body: `stored`, `duplicate`, `dropped`, or an
    /// error code.
    pub outcome: Option<String>,
}

/// Posts one batch to `endpoint` (the collector's base URL) with the project's ingest key.
///
/// `keepalive` lets the request outlive the page (unload); browsers allow 64 KiB of such
/// requests in flight per page, so the caller keeps keepalive batches under that.
pub async fn send_batch(endpoint: &str, key: &str, bytes: &[u8], keepalive: bool) -> Answer {
    match try_send(endpoint, key, bytes, keepalive).await {
        Ok(answer) => answer,
        Err(_) => Answer { status: None, retry_after: None, outcome: None },
    }
}

/// A request that has not been answered in this long is aborted and retried.
const SEND_TIMEOUT_MS: i32 = 30_000;

async fn try_send(endpoint: &str, key: &str, bytes: &[u8], keepalive: bool) -> Result<Answer, JsValue> {
    let window = web_sys::window().ok_or("no window")?;
    let abort = web_sys::AbortController::new()?;
    let timeout = wasm_bindgen::closure::Closure::once_into_js({
        let abort = abort.clone();
        move || abort.abort()
    });
    let timer =
        window.set_timeout_with_callback_and_timeout_and_arguments_0(timeout.unchecked_ref(), SEND_TIMEOUT_MS)?;
    let answer = send_with_signal(&window, endpoint, key, bytes, keepalive, &abort.signal()).await;
    window.clear_timeout_with_handle(timer);
    answer
}

async fn send_with_signal(
    window: &web_sys::Window,
    endpoint: &str,
    key: &str,
    bytes: &[u8],
    keepalive: bool,
    signal: &web_sys::AbortSignal,
) -> Result<Answer, JsValue> {
    let init = web_sys::RequestInit::new();
    init.set_signal(Some(signal));
    init.set_method("POST");
    init.set_mode(web_sys::RequestMode::Cors);
    // web-sys has no setter for `keepalive`; the dictionary is a plain object.
    js_sys::Reflect::set(&init, &"keepalive".into(), &keepalive.into())?;
    let headers = web_sys::Headers::new()?;
    headers.set("content-type", "application/vnd.sightline.batch")?;
    headers.set("x-sightline-key", key)?;
    init.set_headers(&headers);
    init.set_body(&Uint8Array::from(bytes));
    let url = format!("{}/v1/batches", endpoint.trim_end_matches('/'));
    let request = web_sys::Request::new_with_str_and_init(&url, &init)?;
    let response: web_sys::Response = JsFuture::from(window.fetch_with_request(&request)).await?.dyn_into()?;
    let retry_after =
        response.headers().get("retry-after").ok().flatten().and_then(|v| crate::transport::parse_retry_after(&v));
    let body = JsFuture::from(response.text()?).await.ok().and_then(|text| text.as_string());
    let outcome = body.and_then(|text| js_sys::JSON::parse(&text).ok()).and_then(|json| {
        ["result", "error"].iter().find_map(|field| js_sys::Reflect::get(&json, &(*field).into()).ok()?.as_string())
    });
    Ok(Answer { status: Some(response.status()), retry_after, outcome })
}

/// Hands a batch to `navigator.sendBeacon`, which delivers it even after the page is gone.
/// The key travels in the query (a beacon can't set headers) and the body as `text/plain`
/// (which needs no CORS preflight). Returns whether the browser accepted it; it refuses once
/// the page's 64 KiB of in-flight beacons and keepalive requests is used up.
pub fn send_beacon(endpoint: &str, key: &str, bytes: &[u8]) -> bool {
    let send = || -> Result<bool, JsValue> {
        let parts = js_sys::Array::of1(&Uint8Array::from(bytes));
        let options = web_sys::BlobPropertyBag::new();
        options.set_type("text/plain");
        let blob = web_sys::Blob::new_with_u8_array_sequence_and_options(&parts, &options)?;
        let url = format!("{}/v1/batches?key={}", endpoint.trim_end_matches('/'), js_sys::encode_uri_component(key));
        web_sys::window().ok_or("no window")?.navigator().send_beacon_with_opt_blob(&url, Some(&blob))
    };
    send().unwrap_or(false)
}

fn local_storage() -> Option<web_sys::Storage> {
    web_sys::window()?.local_storage().ok()?
}

/// Keeps undelivered batches of project `key` for the next page of this origin (see
/// [`crate::stash`]), adding to what an earlier page of the same project left.
pub fn save_stash(key: &str, batches: &[crate::transport::Pending]) {
    if batches.is_empty() {
        return;
    }
    if let Some(storage) = local_storage() {
        let mut all = take_stash_from(&storage, key);
        all.extend_from_slice(batches);
        // A full storage quota loses the stash, not the page.
        let _ = storage.set_item(&stash_key(key), &crate::stash::encode(&all));
    }
}

/// Takes what an earlier page of project `key` left undelivered, oldest first, and clears it.
pub fn take_stash(key: &str) -> Vec<crate::transport::Pending> {
    local_storage().map(|storage| take_stash_from(&storage, key)).unwrap_or_default()
}

/// Batches carry their project's key, so each project on an origin has its own stash.
fn stash_key(key: &str) -> String {
    format!("{}.{key}", crate::stash::STORAGE_KEY)
}

fn take_stash_from(storage: &web_sys::Storage, key: &str) -> Vec<crate::transport::Pending> {
    let stored = storage.get_item(&stash_key(key)).ok().flatten();
    let _ = storage.remove_item(&stash_key(key));
    stored.map(|s| crate::stash::decode(&s)).unwrap_or_default()
}

//! The browser side of the session: `sessionStorage` and the platform's random source.

use sightline_protocol::SessionId;
use wasm_bindgen::JsValue;

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
    let session = Session::on_page_load(stored.as_deref(), now, random_session_id()?);
    save(&session);
    Ok(session)
}

/// Stores the session for the tab's next page load; storage errors are ignored (see
/// [`storage`]).
pub fn save(session: &Session) {
    if let Some(storage) = storage() {
        let _ = storage.set_item(STORAGE_KEY, &session.encode());
    }
}

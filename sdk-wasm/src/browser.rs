//! The browser side: `sessionStorage`, `localStorage` and the platform's random source.

use sightline_protocol::WriterSecret;
use wasm_bindgen::JsValue;

use crate::digits::push_decimal;
use crate::session::{Session, STORAGE_KEY};

fn storage() -> Option<web_sys::Storage> {
    // Storage access throws in some privacy modes and sandboxed frames; the page then records
    // one session per load rather than failing.
    web_sys::window()?.session_storage().ok()?
}

/// A new session's writer secret: 16 random bytes from `crypto.getRandomValues`. The session's
/// id is derived from it.
pub fn random_writer() -> Result<WriterSecret, JsValue> {
    let crypto = web_sys::window().ok_or("no window")?.crypto()?;
    let mut bytes = [0u8; 16];
    crypto.get_random_values_with_u8_array(&mut bytes)?;
    Ok(WriterSecret(bytes))
}

/// The session for the page that just loaded, continued from this tab's storage or new, and
/// stored again.
pub fn session_for_page_load(now: u64) -> Result<Session, JsValue> {
    let storage = storage();
    let stored = storage.as_ref().and_then(|s| s.get_item(STORAGE_KEY).ok().flatten());
    let writer = random_writer()?;
    let fresh = writer.session_id();
    let mut session = Session::on_page_load(stored.as_deref(), now, fresh);
    if session.id == fresh {
        session.writer = Some(writer);
    }
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
    let mut key = String::from("sightline.pages.");
    session.id.push_hex(&mut key);
    let next: u32 = storage.get_item(&key).ok().flatten().and_then(|v| v.parse().ok()).unwrap_or(0);
    let page = session.page.max(next);
    let mut next = String::new();
    push_decimal(&mut next, u64::from(page) + 1);
    let _ = storage.set_item(&key, &next);
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

fn local_storage() -> Option<web_sys::Storage> {
    web_sys::window()?.local_storage().ok()?
}

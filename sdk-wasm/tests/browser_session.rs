//! The session in a real browser: kept in `sessionStorage` across page loads of the tab.
#![cfg(target_arch = "wasm32")]

use sightline_sdk::browser::{random_writer, session_for_page_load};
use sightline_sdk::session::{Session, IDLE_TIMEOUT_MS, STORAGE_KEY};
use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_browser);

const T0: u64 = 1_780_000_000_000;

fn storage() -> web_sys::Storage {
    web_sys::window().unwrap().session_storage().unwrap().unwrap()
}

#[wasm_bindgen_test]
fn page_loads_in_one_tab_share_the_session() {
    storage().remove_item(STORAGE_KEY).unwrap();
    let first = session_for_page_load(T0).unwrap();
    assert_eq!(first.page, 0);
    assert_eq!(storage().get_item(STORAGE_KEY).unwrap(), Some(first.encode()));

    let reload = session_for_page_load(T0 + 5_000).unwrap();
    assert_eq!((reload.id, reload.page), (first.id, 1));

    // A page restored from the back-forward cache stores its older state: the next page still
    // gets an index no page has had.
    sightline_sdk::browser::save(&first);
    let after_restore = session_for_page_load(T0 + 6_000).unwrap();
    assert_eq!((after_restore.id, after_restore.page), (first.id, 2));

    // A duplicated tab copies sessionStorage; the shared counter keeps the two pages apart.
    storage().set_item(STORAGE_KEY, &reload.encode()).unwrap();
    let duplicate = session_for_page_load(T0 + 7_000).unwrap();
    assert_eq!((duplicate.id, duplicate.page), (first.id, 3));

    let after_idle = session_for_page_load(T0 + 7_000 + IDLE_TIMEOUT_MS).unwrap();
    assert_ne!(after_idle.id, first.id);
    assert_eq!(after_idle.page, 0);
}

#[wasm_bindgen_test]
fn garbage_in_storage_starts_a_new_session() {
    storage().set_item(STORAGE_KEY, "1:not-a-session").unwrap();
    let session = session_for_page_load(T0).unwrap();
    assert_eq!(session.page, 0);
    assert_eq!(Session::decode(&storage().get_item(STORAGE_KEY).unwrap().unwrap()), Some(session));
}

#[wasm_bindgen_test]
fn writers_come_from_the_platforms_random_source_and_ids_from_writers() {
    let writers: Vec<_> = (0..8).map(|_| random_writer().unwrap()).collect();
    for (i, a) in writers.iter().enumerate() {
        assert!(a.0 != [0; 16] && !a.session_id().is_zero());
        assert!(writers[i + 1..].iter().all(|b| b.0 != a.0 && b.session_id() != a.session_id()));
    }
    // A new session's id is its writer's.
    storage().remove_item(STORAGE_KEY).unwrap();
    let session = session_for_page_load(T0).unwrap();
    let writer = session.writer.expect("a new session has a writer");
    assert_eq!(session.id, writer.session_id());
}

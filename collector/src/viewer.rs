//! The viewer support engineers work in, served by the collector itself: its assets are
//! compiled into the binary, so it works offline and needs no CDN. The pages hold no data: the
//! viewer's script reads the query API with the read token the engineer signs in with, which it
//! keeps in the browser's storage and never puts in a URL.

use actix_web::http::header;
use actix_web::{web, HttpResponse};

const PAGE: &str = include_str!("../viewer/index.html");
const SCRIPT: &str = include_str!("../viewer/app.js");
const FRAME_SCRIPT: &str = include_str!("../viewer/frame.js");
const HOVER_SCRIPT: &str = include_str!("../viewer/hover.js");
const COMMON_SCRIPT: &str = include_str!("../viewer/common.js");
const LIST_SCRIPT: &str = include_str!("../viewer/list.js");
const SESSION_SCRIPT: &str = include_str!("../viewer/session.js");
const PANELS_SCRIPT: &str = include_str!("../viewer/panels.js");
const WEBHOOKS_SCRIPT: &str = include_str!("../viewer/webhooks.js");
const GRANTS_SCRIPT: &str = include_str!("../viewer/grants.js");
const EXPORT_SCRIPT: &str = include_str!("../viewer/export.js");
const STYLE: &str = include_str!("../viewer/app.css");
const ICON: &str = include_str!("../viewer/icon.svg");

/// What the viewer's pages may do: run their own script (and the replay core's wasm) and read
/// the API of this origin. The replay frame (a document the viewer makes, from a `blob:` URL of
/// its own, so that it can be in quirks mode) inherits this policy: the recorded page's styles,
/// images and fonts may load from anywhere, its scripts from nowhere (the frame's sandbox
/// forbids them too). No site may frame the viewer.
const PAGE_POLICY: &str = "default-src 'none'; script-src 'self' 'wasm-unsafe-eval'; \
     style-src * 'unsafe-inline'; img-src * data: blob:; font-src * data:; media-src *; connect-src 'self'; \
     frame-src 'self' blob:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

#[cfg(sightline_player)]
const PLAYER_SCRIPT: &str = include_str!(concat!(env!("SIGHTLINE_PLAYER_DIR"), "/player.js"));
#[cfg(sightline_player)]
const PLAYER_WASM: &[u8] = include_bytes!(concat!(env!("SIGHTLINE_PLAYER_DIR"), "/player_bg.wasm"));

/// Registers the viewer's routes: the session list at `/`, a session at `/sessions/{id}`.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/", web::get().to(page))
        .route("/sessions/{id}", web::get().to(page))
        .route("/webhooks", web::get().to(page))
        .route("/grants", web::get().to(page))
        .route("/share/{token}", web::get().to(page))
        .route("/viewer/app.js", web::get().to(|| asset("text/javascript; charset=utf-8", SCRIPT)))
        .route("/viewer/frame.js", web::get().to(|| asset("text/javascript; charset=utf-8", FRAME_SCRIPT)))
        .route("/viewer/hover.js", web::get().to(|| asset("text/javascript; charset=utf-8", HOVER_SCRIPT)))
        .route("/viewer/common.js", web::get().to(|| asset("text/javascript; charset=utf-8", COMMON_SCRIPT)))
        .route("/viewer/list.js", web::get().to(|| asset("text/javascript; charset=utf-8", LIST_SCRIPT)))
        .route("/viewer/session.js", web::get().to(|| asset("text/javascript; charset=utf-8", SESSION_SCRIPT)))
        .route("/viewer/panels.js", web::get().to(|| asset("text/javascript; charset=utf-8", PANELS_SCRIPT)))
        .route("/viewer/webhooks.js", web::get().to(|| asset("text/javascript; charset=utf-8", WEBHOOKS_SCRIPT)))
        .route("/viewer/grants.js", web::get().to(|| asset("text/javascript; charset=utf-8", GRANTS_SCRIPT)))
        .route("/viewer/app.css", web::get().to(|| asset("text/css; charset=utf-8", STYLE)))
        // Browsers ask for `/favicon.ico` whatever the page says.
        .route("/viewer/icon.svg", web::get().to(|| asset("image/svg+xml", ICON)))
        .route("/favicon.ico", web::get().to(|| asset("image/svg+xml", ICON)));
    #[cfg(sightline_player)]
    cfg.route("/viewer/player.js", web::get().to(|| asset("text/javascript; charset=utf-8", PLAYER_SCRIPT)))
        .route("/viewer/player_bg.wasm", web::get().to(|| asset("application/wasm", PLAYER_WASM)));
}

async fn page() -> HttpResponse {
    HttpResponse::Ok()
        .content_type("text/html; charset=utf-8")
        .insert_header((header::CONTENT_SECURITY_POLICY, PAGE_POLICY))
        .insert_header((header::REFERRER_POLICY, "no-referrer"))
        .insert_header((header::X_CONTENT_TYPE_OPTIONS, "nosniff"))
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .body(PAGE)
}

async fn asset(content_type: &'static str, body: impl actix_web::body::MessageBody + 'static) -> HttpResponse {
    HttpResponse::Ok()
        .content_type(content_type)
        .insert_header((header::X_CONTENT_TYPE_OPTIONS, "nosniff"))
        .insert_header((header::CACHE_CONTROL, "no-cache"))
        .body(body)
}

/// What an exported file carries.
pub struct Export<'a> {
    /// The session's id.
    pub session: &'a str,
    /// What the viewer reads in place of the API (see `viewer/export.js`); the replay core is
    /// added to it.
    pub data: serde_json::Value,
    /// When, in ms since the epoch.
    pub exported: u64,
    /// The collector's viewer it came from.
    pub from: &'a str,
}

/// A module as a `data:` URL, its imports of the viewer's modules pointing at theirs.
fn module_url(source: &str, imports: &[(&str, &str)]) -> String {
    use base64::Engine as _;
    let mut source = source.to_owned();
    for (path, url) in imports {
        source = source.replace(&format!("'{path}'"), &format!("'{url}'"));
    }
    format!("data:text/javascript;base64,{}", base64::engine::general_purpose::STANDARD.encode(source))
}

/// The exported file: the viewer's workspace, its modules as `data:` URLs (a file opened from
/// disk loads nothing else), the replay core's wasm and the session's data inline. Its policy
/// runs no script but the viewer's own, as the viewer's pages do.
pub fn export_page(export: Export<'_>) -> String {
    use base64::Engine as _;
    let common = module_url(COMMON_SCRIPT, &[]);
    let hover = module_url(HOVER_SCRIPT, &[]);
    let frame = module_url(FRAME_SCRIPT, &[("/viewer/hover.js", &hover)]);
    let panels = module_url(PANELS_SCRIPT, &[("/viewer/common.js", &common)]);
    #[cfg(sightline_player)]
    let (player, wasm) =
        (module_url(PLAYER_SCRIPT, &[]), base64::engine::general_purpose::STANDARD.encode(PLAYER_WASM));
    #[cfg(not(sightline_player))]
    let (player, wasm) = (String::from("data:text/javascript,throw new Error('no replay core')"), String::new());
    let session = module_url(
        SESSION_SCRIPT,
        &[
            ("/viewer/common.js", &common),
            ("/viewer/frame.js", &frame),
            ("/viewer/panels.js", &panels),
            ("/viewer/player.js", &player),
        ],
    );
    let start = module_url(EXPORT_SCRIPT, &[("/viewer/common.js", &common), ("/viewer/session.js", &session)]);
    let mut data = export.data;
    if let Some(object) = data.as_object_mut() {
        object.insert("wasm".into(), serde_json::Value::String(wasm));
    }
    // Inside `<script>`, no `<` may appear (`</script>` would end it, `<!--` would change how
    // the parser looks for that end): JSON writes it as `\u003c`.
    let mut data = serde_json::to_string(&data).unwrap_or_default();
    if data.contains('<') {
        data = data.replace('<', "\\u003c");
    }
    let escape =
        |text: &str| text.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;");
    let exported = export.exported;
    format!(
        "<!doctype html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <meta http-equiv=\"Content-Security-Policy\" content=\"{policy}\">\n\
         <title>Sightline session {session}</title>\n<style>{STYLE}</style>\n</head>\n\
         <body class=\"workspace-mode\">\n<header><span class=\"brand\">Sightline</span><span class=\"spacer\"></span>\
         <span class=\"exported\" data-exported=\"{exported}\">Session {session}, exported from {from}</span></header>\n\
         <main id=\"view\"></main>\n<script type=\"application/json\" id=\"sightline-export\">{data}</script>\n\
         <script type=\"module\" src=\"{start}\"></script>\n</body>\n</html>\n",
        policy = EXPORT_POLICY,
        session = escape(export.session),
        from = escape(export.from),
    )
}

/// An exported file's policy: the viewer's modules (`data:` URLs) and the wasm run, and nothing
/// loads from anywhere: not even the recorded page's images and fonts, which would tell their
/// hosts when and where the file was opened. The page's styles are in the recording.
const EXPORT_POLICY: &str = "default-src 'none'; script-src data: 'wasm-unsafe-eval'; \
     style-src 'unsafe-inline'; img-src data: blob:; font-src data:; media-src data: blob:; connect-src 'none'; \
     frame-src 'self' about: blob:; base-uri 'none'; form-action 'none'";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recorded_text_stays_inside_the_exported_files_data() {
        let hostile = "</script><script>alert(1)</script><!--<script>";
        let data = serde_json::json!({ "session": { "id": "abc" }, "note": hostile });
        let page = export_page(Export { session: "abc<b>", data, exported: 1, from: "http://x\"><b>" });
        let open = "id=\"sightline-export\">";
        let start = page.find(open).unwrap() + open.len();
        let end = start + page[start..].find("</script>").unwrap();
        let inline = &page[start..end];
        assert!(!inline.contains('<'), "{inline}");
        let read: serde_json::Value = serde_json::from_str(inline).unwrap();
        assert_eq!(read["note"], hostile);
        assert_eq!(page.matches("<script").count(), 2, "the data and the viewer's module, nothing else");
        assert!(!page.contains("<b>"), "names are escaped");
    }
}

//! `cargo xtask build-player`: the replay core compiled to wasm for the viewer, with its
//! wasm-bindgen glue, into `target/viewer-player/`. The collector's build compiles them into
//! the viewer when they are there (see `collector/build.rs`).

use crate::build_sdk::{bind, build_wasm};
use crate::tools::{ensure_npm_tools, ensure_wasm_tools, run, workspace_root};

/// Builds the player and prints its size.
pub fn build_player() -> Result<(), String> {
    ensure_wasm_tools()?;
    ensure_npm_tools()?;
    let root = workspace_root();
    let wasm = build_wasm("sightline-player", "wasm")?;
    let out = root.join("target/viewer-player");
    bind(&wasm, &out, "player", "web")?;
    let wasm_opt = root.join("npm/node_modules/.bin/wasm-opt");
    let built = out.join("player_bg.wasm").to_string_lossy().into_owned();
    if wasm_opt.exists() {
        run(&wasm_opt, &["-Os", "--enable-bulk-memory", "--enable-nontrapping-float-to-int", "-o", &built, &built])?;
    }
    let size = std::fs::metadata(&built).map_err(|e| e.to_string())?.len();
    println!("viewer player: {built} ({size} bytes)");
    Ok(())
}

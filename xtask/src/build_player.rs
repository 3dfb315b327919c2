//! `cargo xtask build-player`: the replay core compiled to wasm for the viewer, with its
//! wasm-bindgen glue, into `target/viewer-player/`. The collector's build compiles them into
//! the viewer when they are there (see `collector/build.rs`).

use std::path::Path;

use crate::build_sdk::run;
use crate::run::{cargo, workspace_root};

/// Builds the player and prints its size.
pub fn build_player() -> Result<(), String> {
    let root = workspace_root();
    cargo(
        &["build", "--locked", "--profile", "wasm", "--target", "wasm32-unknown-unknown", "-p", "sightline-player"],
        &[],
    )?;
    let wasm = root.join("target/wasm32-unknown-unknown/wasm/sightline_player.wasm");
    let out = root.join("target/viewer-player");
    std::fs::create_dir_all(&out).map_err(|e| e.to_string())?;
    let out_arg = out.to_string_lossy().into_owned();
    let wasm_arg = wasm.to_string_lossy().into_owned();
    run(
        Path::new("wasm-bindgen"),
        &[
            "--target",
            "web",
            "--out-dir",
            &out_arg,
            "--out-name",
            "player",
            "--no-typescript",
            "--remove-name-section",
            "--remove-producers-section",
            &wasm_arg,
        ],
    )?;
    let wasm_opt = root.join("npm/node_modules/.bin/wasm-opt");
    let built = out.join("player_bg.wasm").to_string_lossy().into_owned();
    if wasm_opt.exists() {
        run(&wasm_opt, &["-Os", "--enable-bulk-memory", "--enable-nontrapping-float-to-int", "-o", &built, &built])?;
    }
    let size = std::fs::metadata(&built).map_err(|e| e.to_string())?.len();
    println!("viewer player: {built} ({size} bytes)");
    Ok(())
}

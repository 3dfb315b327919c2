//! Compiles the viewer's replay core into the binary when it has been built
//! (`cargo xtask build-player`, which `cargo xtask run` and `cargo xtask test` run first).
//! Without it, the viewer still finds sessions and shows their context, and says how to get
//! the replay.

use std::path::Path;

fn main() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../target/viewer-player");
    println!("cargo::rustc-check-cfg=cfg(sightline_player)");
    println!("cargo::rerun-if-changed={}", dir.display());
    for file in ["player.js", "player_bg.wasm"] {
        println!("cargo::rerun-if-changed={}", dir.join(file).display());
    }
    if dir.join("player.js").exists() && dir.join("player_bg.wasm").exists() {
        println!("cargo::rustc-cfg=sightline_player");
        println!("cargo::rustc-env=SIGHTLINE_PLAYER_DIR={}", dir.display());
    }
}

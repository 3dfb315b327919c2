//! `cargo xtask build-sdk`: the npm package in `npm/dist` from the workspace: the recorder
//! compiled to wasm with the size-tuned `wasm` profile, its bindings from `wasm-bindgen` (the CLI
//! at the crate's exact version, which `.ci/run` installs), `wasm-opt` for size when the npm
//! `binaryen` package is installed in `npm/`, and the JavaScript API next to them: an ES module
//! (`index.js`) and a script-tag build (`sightline.iife.js`, which defines `window.Sightline`).
//! With the npm `esbuild` package installed too, the module and its imports are bundled into
//! one minified `index.js`, the DOM recorder into `dom.js` (loaded by `init` while the wasm
//! loads, so that the script a page includes holds only the API, the network wrappers and the
//! error listeners), and the script-tag build is minified; `terser`, when installed, minifies
//! them once more.

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::tools::{
    cargo, ensure_npm_tools, ensure_wasm_tools, gzip_size, run, size_toolchain_installed, target_dir, workspace_root,
    SIZE_TOOLCHAIN,
};

/// The SDK's JavaScript modules in `npm/src` (and in `dist`, unbundled, at the same paths), each
/// after the modules it imports: the script-tag build joins them in this order into one scope.
const MODULES: [&str; 25] = [
    "version.js",
    "wrap.js",
    "tape.js",
    "stash.js",
    "kinds.js",
    "dom/tape.js",
    "dom/page-hooks.js",
    "dom/privacy.js",
    "dom/form-state.js",
    "dom/stylesheets.js",
    "dom/interactions.js",
    "dom/frames.js",
    "dom/canvas.js",
    "dom/serialize.js",
    "dom/mutations.js",
    "dom.js",
    "redact.js",
    "network.js",
    "api/page.js",
    "api/routes.js",
    "api/buffer.js",
    "api/grant.js",
    "api/delivery.js",
    "api/console.js",
    "api.js",
];

/// Modules a page loads only when it uses them (the feedback dialog): each its own file in
/// `dist`, minified alone, never part of what the page loads first.
const ON_DEMAND: [&str; 1] = ["feedback.js"];

/// The directories of `MODULES` under `npm/src`.
const MODULE_DIRS: [&str; 2] = ["dom", "api"];

/// Whether a module is the DOM recorder's, which the script-tag build loads as its own file.
fn is_dom_module(module: &str) -> bool {
    module == "dom.js" || module.starts_with("dom/")
}

/// The files a page loads from the built package in `dist` (`index.js`, then `dom.js` and the
/// wasm, when bundled), each with its size raw and gzipped.
pub fn page_load(dist: &Path) -> Result<Vec<(&'static str, usize, usize)>, String> {
    ["sightline_bg.wasm", "index.js", "dom.js", "sightline.js"]
        .into_iter()
        .chain(MODULES.into_iter().filter(|m| *m != "dom.js"))
        .filter(|file| dist.join(file).exists())
        .map(|file| {
            let path = dist.join(file);
            let raw = std::fs::metadata(&path).map_err(|e| format!("{}: {e}", path.display()))?.len() as usize;
            Ok((file, raw, gzip_size(&path).unwrap_or(0)))
        })
        .collect()
}

/// Compiles a workspace crate to wasm with a size-tuned `profile` (`wasm`, or `wasm-sdk` for
/// the SDK); returns the module.
pub fn build_wasm(package: &str, profile: &str) -> Result<PathBuf, String> {
    cargo(&["build", "--locked", "--profile", profile, "--target", "wasm32-unknown-unknown", "-p", package], &[])?;
    let file = format!("{}.wasm", package.replace('-', "_"));
    Ok(target_dir().join("wasm32-unknown-unknown").join(profile).join(file))
}

/// The SDK's wasm, built with [`SIZE_TOOLCHAIN`] (into `size/` of the target directory), or with the stable
/// toolchain like the rest when the nightly is missing or fails.
pub fn build_sdk_wasm() -> Result<PathBuf, String> {
    if !size_toolchain_installed() {
        eprintln!("{SIZE_TOOLCHAIN} with rust-src is not installed: the SDK is built with stable Rust, and is bigger");
        return build_wasm("sightline-sdk", "wasm-sdk");
    }
    build_sdk_wasm_for_size().or_else(|error| {
        eprintln!("{error}: the SDK is built with stable Rust, and is bigger");
        build_wasm("sightline-sdk", "wasm-sdk")
    })
}

fn build_sdk_wasm_for_size() -> Result<PathBuf, String> {
    let root = workspace_root();
    // A directory of its own: the nightly's artifacts would otherwise replace stable's.
    let target_dir = target_dir().join("size");
    let args = [
        "run",
        SIZE_TOOLCHAIN,
        "cargo",
        "build",
        "--locked",
        "--profile",
        "wasm-sdk",
        "--target",
        "wasm32-unknown-unknown",
        "-p",
        "sightline-sdk",
        "-Zbuild-std=std,panic_abort",
    ];
    // Added to what the environment sets (a CI's `-D warnings`, say).
    let ours = "-Zunstable-options -Cpanic=immediate-abort -Zfmt-debug=none -Zlocation-detail=none";
    let rustflags = match std::env::var("RUSTFLAGS") {
        Ok(theirs) if !theirs.trim().is_empty() => format!("{theirs} {ours}"),
        _ => ours.to_owned(),
    };
    let status = Command::new("rustup")
        .args(args)
        .current_dir(&root)
        .env("CARGO_TARGET_DIR", &target_dir)
        .env("RUSTFLAGS", rustflags)
        .status()
        .map_err(|e| format!("running rustup: {e}"))?;
    if !status.success() {
        return Err(format!("`rustup {}` failed ({status})", args.join(" ")));
    }
    Ok(target_dir.join("wasm32-unknown-unknown/wasm-sdk/sightline_sdk.wasm"))
}

/// Writes wasm-bindgen's bindings for `wasm` into `out_dir` as `name.js` and `name_bg.wasm`;
/// `target` is `web` (an ES module) or `no-modules` (a classic script defining a global).
pub fn bind(wasm: &Path, out_dir: &Path, name: &str, target: &str) -> Result<(), String> {
    std::fs::create_dir_all(out_dir).map_err(|e| e.to_string())?;
    let (out_arg, wasm_arg) = (out_dir.to_string_lossy().into_owned(), wasm.to_string_lossy().into_owned());
    run(
        Path::new("wasm-bindgen"),
        &[
            "--target",
            target,
            "--out-dir",
            &out_arg,
            "--out-name",
            name,
            "--no-typescript",
            "--remove-name-section",
            "--remove-producers-section",
            &wasm_arg,
        ],
    )
}

/// Builds the package and prints what a page loads, raw and gzipped.
pub fn build_sdk() -> Result<(), String> {
    ensure_wasm_tools()?;
    ensure_npm_tools()?;
    let root = workspace_root();
    let wasm = build_sdk_wasm()?;
    let dist = root.join("npm/dist");
    bind(&wasm, &dist, "sightline", "web")?;
    // The script-tag build takes wasm-bindgen's classic-script glue, which defines a global.
    let scratch = tempfile::tempdir().map_err(|e| e.to_string())?;
    bind(&wasm, scratch.path(), "sightline_iife", "no-modules")?;
    std::fs::copy(scratch.path().join("sightline_iife_bg.wasm"), dist.join("sightline_iife_bg.wasm"))
        .map_err(|e| e.to_string())?;
    let read = |path: &Path| std::fs::read_to_string(path).map_err(|e| format!("reading {}: {e}", path.display()));
    let glue = read(&scratch.path().join("sightline_iife.js"))?;
    // The modules become one script: their imports are the functions defined before them. The
    // DOM recorder's stay apart: the script loads `dom.js`, the ES module, when it starts.
    let mut modules = String::new();
    for module in MODULES.into_iter().filter(|m| !is_dom_module(m)) {
        for line in read(&root.join("npm/src").join(module))?.lines() {
            if !line.starts_with("import ") {
                modules.push_str(line.strip_prefix("export ").unwrap_or(line));
                modules.push('\n');
            }
        }
    }
    let iife = read(&root.join("npm/src/iife.js"))?.replace(
        "  /* wasm-bindgen glue and the modules are inserted here by `cargo xtask build-sdk` */\n",
        &format!("{glue}\n{modules}"),
    );
    std::fs::write(dist.join("sightline.iife.js"), iife).map_err(|e| e.to_string())?;

    let wasm_opt = root.join("npm/node_modules/.bin/wasm-opt");
    for wasm in ["sightline_bg.wasm", "sightline_iife_bg.wasm"] {
        let path = dist.join(wasm).to_string_lossy().into_owned();
        if wasm_opt.exists() {
            // Flattening and re-looping the control flow before `-Oz` takes off about 0.3 KB
            // gzipped more than `-Oz` alone; the recorder's wasm time measured the same.
            run(
                &wasm_opt,
                &[
                    "--flatten",
                    "--rereloop",
                    "-Oz",
                    "-Oz",
                    "--converge",
                    "--enable-bulk-memory",
                    "--enable-nontrapping-float-to-int",
                    "-o",
                    &path,
                    &path,
                ],
            )?;
        }
    }
    if !wasm_opt.exists() {
        eprintln!("wasm-opt not found (npm install in npm/ brings it); the wasm is not post-optimised");
    }
    for dir in MODULE_DIRS {
        std::fs::create_dir_all(dist.join(dir)).map_err(|e| format!("creating {dir}: {e}"))?;
    }
    for file in MODULES.into_iter().chain(ON_DEMAND).chain(["index.js", "index.d.ts"]) {
        std::fs::copy(root.join("npm/src").join(file), dist.join(file)).map_err(|e| format!("copying {file}: {e}"))?;
    }
    let esbuild = root.join("npm/node_modules/.bin/esbuild");
    if esbuild.exists() {
        // For profiling: names kept, so a CPU profile says which function the time went to.
        let readable = std::env::var_os("SIGHTLINE_SDK_READABLE").is_some();
        let minify = if readable { "--minify-syntax" } else { "--minify" };
        let index = dist.join("index.js").to_string_lossy().into_owned();
        let out = format!("--outfile={index}");
        run(&esbuild, &[&index, "--bundle", "--format=esm", minify, "--allow-overwrite", &out, "--log-level=warning"])?;
        let dom = dist.join("dom.js").to_string_lossy().into_owned();
        let out = format!("--outfile={dom}");
        run(&esbuild, &[&dom, "--bundle", "--format=esm", minify, "--allow-overwrite", &out, "--log-level=warning"])?;
        for file in ["sightline.js"].into_iter().chain(MODULES.into_iter().filter(|m| *m != "dom.js")) {
            std::fs::remove_file(dist.join(file)).map_err(|e| format!("removing {file}: {e}"))?;
        }
        for dir in MODULE_DIRS {
            std::fs::remove_dir(dist.join(dir)).map_err(|e| format!("removing {dir}: {e}"))?;
        }
        let iife = dist.join("sightline.iife.js").to_string_lossy().into_owned();
        let out = format!("--outfile={iife}");
        run(&esbuild, &[&iife, "--minify", "--allow-overwrite", &out, "--log-level=warning"])?;
        for file in ON_DEMAND {
            let path = dist.join(file).to_string_lossy().into_owned();
            let out = format!("--outfile={path}");
            run(&esbuild, &[&path, "--format=esm", minify, "--allow-overwrite", &out, "--log-level=warning"])?;
        }
        // terser's second pass takes off about another 1 KB gzipped that esbuild's leaves.
        let terser = root.join("npm/node_modules/.bin/terser");
        if terser.exists() && !readable {
            for (file, module) in [(&index, true), (&dom, true), (&iife, false)] {
                let mut args = vec![file.as_str(), "--compress", "passes=2", "--mangle", "--output", file.as_str()];
                if module {
                    args.push("--module");
                }
                run(&terser, &args)?;
            }
        }
    } else {
        eprintln!("esbuild not found (npm install in npm/ brings it); the JavaScript is not bundled nor minified");
    }
    let mut total = (0, 0);
    for (file, raw, gz) in page_load(&dist)? {
        total = (total.0 + raw, total.1 + gz);
        println!("{file:<20} {raw:>8} bytes  {gz:>7} gzipped");
    }
    println!(
        "{:<20} {:>8} bytes  {:>7} gzipped (index.js first; the rest while init runs)",
        "what a page loads", total.0, total.1
    );
    let iife = dist.join("sightline.iife.js");
    let raw = std::fs::metadata(&iife).map_err(|e| e.to_string())?.len();
    println!(
        "{:<20} {raw:>8} bytes  {:>7} gzipped (script-tag build, with the same wasm)",
        "sightline.iife.js",
        gzip_size(&iife).unwrap_or(0)
    );
    for file in ON_DEMAND {
        let path = dist.join(file);
        let raw = std::fs::metadata(&path).map_err(|e| e.to_string())?.len();
        println!("{file:<20} {raw:>8} bytes  {:>7} gzipped (loaded when used)", gzip_size(&path).unwrap_or(0));
    }
    Ok(())
}

//! Every input the fuzzers kept (`fuzz/corpus`, grown by `cargo xtask fuzz`) and every input
//! that once failed (`fuzz/regressions`) goes through its target again, with the same code the
//! fuzzers run: each must be read without a panic.

use std::path::Path;

#[path = "../../fuzz/src/lib.rs"]
mod fuzzing;

/// A fuzz target: what it is called, and what it runs on an input.
type Target = (&'static str, fn(&[u8]));

#[test]
fn every_input_the_fuzzers_kept_is_read_without_failing() {
    let fuzz = Path::new(env!("CARGO_MANIFEST_DIR")).join("../fuzz");
    let targets: [Target; 4] =
        [("batch", fuzzing::batch), ("stream", fuzzing::stream), ("replay", fuzzing::replay), ("otlp", fuzzing::otlp)];
    let mut read = 0;
    for (target, run) in targets {
        for kept in ["corpus", "regressions"] {
            let Ok(dir) = std::fs::read_dir(fuzz.join(kept).join(target)) else { continue };
            for entry in dir.flatten() {
                let input = std::fs::read(entry.path()).expect("a kept input");
                run(&input);
                read += 1;
            }
        }
    }
    assert!(read > 0, "the seeds are in fuzz/corpus");
}

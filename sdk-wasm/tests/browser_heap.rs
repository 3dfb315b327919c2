//! The recorder's heap over a long session with the collector down: batches pile up to the
//! queue's cap and the oldest are dropped, so the wasm memory levels off instead of growing with
//! what was recorded, whatever the allocator's fragmentation.
#![cfg(target_arch = "wasm32")]

use sightline_sdk::intake;
use sightline_sdk::recorder::Recorder;
use wasm_bindgen::JsCast;
use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_browser);

/// The wasm instance's linear memory, in bytes.
fn memory_bytes() -> u32 {
    let memory: js_sys::WebAssembly::Memory = wasm_bindgen::memory().unchecked_into();
    memory.buffer().unchecked_into::<js_sys::ArrayBuffer>().byte_length()
}

/// Text of `len` characters that LZ4 can't shrink much, so batches reach their size limit.
fn noisy_text(len: usize, seed: &mut u32) -> String {
    (0..len)
        .map(|_| {
            *seed = seed.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
            char::from(b'!' + (*seed >> 24) as u8 % 90)
        })
        .collect()
}

#[wasm_bindgen_test]
fn a_long_session_with_the_collector_down_keeps_the_heap_bounded() {
    let mut now = 1_780_000_000_000.0;
    let recorder = Recorder::new("slk_heap".into(), now).unwrap();
    let mut seed = 7;
    let mut recorded = 0;
    let mut memory = Vec::new();
    for round in 0..150 {
        // Console messages of 200 to 6,200 characters, in a different mix every round, between
        // clicks: large and small allocations interleaved.
        for i in 0..40 {
            let text = noisy_text(200 + (round * 7_919 + i * 104_729) % 6_000, &mut seed);
            recorded += text.len();
            recorder.record(intake::CONSOLE, &[1.0, 1.0, 0.0], &text, now).unwrap();
            for click in 0..10 {
                recorder.record(intake::POINTER, &[0.0, f64::from(click), 10.0, 20.0], "", now).unwrap();
            }
            now += 10.0;
        }
        recorder.flush(now);
        // The collector is down: whatever goes out fails, and the rest waits.
        if recorder.next_batch(now).is_some() {
            recorder.answered(0, None, now);
        }
        now += 1_000.0;
        memory.push(memory_bytes());
    }
    let peak = memory.iter().max().copied().unwrap_or(0) as usize;
    console_log!("recorded {recorded} bytes of text; wasm memory peaked at {peak} bytes: {memory:?}");
    assert!(recorded > 15 << 20, "the session recorded far more than the queue holds: {recorded}");
    // The queue holds 2 MiB; a batch in the making and the allocator's slack come on top.
    assert!(peak < 8 << 20, "memory grew with the session: {memory:?}");
    // The queue filled within the first third: from then on the heap is reused, not grown.
    assert_eq!(memory[50], memory[memory.len() - 1], "memory kept growing after the queue filled: {memory:?}");
}

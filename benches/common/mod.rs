//! What the benches share: peak-memory readings and a place for their data.

use std::path::PathBuf;

/// Resets the process's peak resident set size (Linux `clear_refs`), so the next
/// [`peak_rss_bytes`] reports the peak from now on. Returns the resident size now.
pub(crate) fn reset_peak_rss() -> u64 {
    // "5" resets VmHWM to the current RSS; without it the reading is the process's lifetime peak.
    let _ = std::fs::write("/proc/self/clear_refs", "5");
    status_field("VmRSS:")
}

/// The peak resident set size since [`reset_peak_rss`].
pub(crate) fn peak_rss_bytes() -> u64 {
    status_field("VmHWM:")
}

fn status_field(name: &str) -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with(name))
                .and_then(|l| l.split_whitespace().nth(1)?.parse::<u64>().ok())
        })
        .map_or(0, |kib| kib * 1024)
}

/// A scratch directory on the work disk (not tmpfs), kept between runs under `target/`.
pub(crate) fn bench_dir(name: &str) -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("target")
        .join("bench-data")
        .join(name);
    std::fs::create_dir_all(&dir).expect("create bench dir");
    dir
}

/// MB (10^6 bytes) per second.
pub(crate) fn mb_per_s(bytes: u64, seconds: f64) -> f64 {
    bytes as f64 / 1e6 / seconds
}

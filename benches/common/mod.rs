//! What the benches share: a runtime, peak-memory readings, a place for their data, timed
//! history archives ([`taken`]) and request counting ([`counting_proxy`]).

pub(crate) mod counting_proxy;
pub(crate) mod taken;

use std::path::PathBuf;

/// The runtime every bench drives its archivers on: 2 workers, like the machine's cores.
pub(crate) fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime")
}

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

/// `load 1.23 0.98 0.70`: the machine's load averages (1, 5, 15 min), to print beside figures
/// measured on a shared machine.
pub(crate) fn load() -> String {
    let averages = std::fs::read_to_string("/proc/loadavg").unwrap_or_default();
    let averages: Vec<&str> = averages.split_whitespace().take(3).collect();
    format!("load {}", averages.join(" "))
}

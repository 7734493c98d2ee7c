//! `ArchivalConfig::from_yaml` on any text: never panics; what it accepts is valid.
#![no_main]

use archiver_core::config::ArchivalConfig;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|yaml: &str| {
    if let Ok(config) = ArchivalConfig::from_yaml(yaml) {
        config
            .validate()
            .expect("from_yaml returns validated configs");
        let _ = format!("{config:?}");
    }
});

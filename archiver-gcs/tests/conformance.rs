//! The whole archiver-core conformance suite against a real GCS emulator (fake-gcs-server via
//! `.ci/gcs-server.sh`), each run under a fresh random prefix.

mod support;

archiver_kit::object::testing::scenario_tests!(conformance: support::fixture);

//! The whole archiver-core conformance suite against a real S3-compatible server (SeaweedFS via
//! `.ci/servers.sh`), each run under a fresh random prefix.

mod support;

archiver_kit::object::testing::scenario_tests!(conformance: support::fixture);

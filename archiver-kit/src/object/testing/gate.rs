//! [`ServerGate`]: how a provider's integration tests find their server, and what they do
//! without one: skip loudly on a developer's machine, fail under CI.

use std::io::Write as _;

/// The value of the environment variable `name`, or `None` when it is unset, empty or not
/// unicode.
pub fn env_var(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.is_empty())
}

/// Whether the tests run under CI (`CI` is `true` or `1`), where a missing server is a failure.
pub fn under_ci() -> bool {
    matches!(env_var("CI").as_deref(), Some("true" | "1"))
}

/// The server a provider's integration tests need, named by the variable holding its endpoint
/// and the script that starts one.
///
/// ```
/// use archiver_kit::object::testing::ServerGate;
/// const GATE: ServerGate = ServerGate {
///     server: "S3 server",
///     local: "a local S3 server (SeaweedFS)",
///     endpoint_var: "ARCHIVER_S3_ENDPOINT",
///     script: ".ci/servers.sh",
/// };
/// // In a test: `let Some(endpoint) = GATE.endpoint("my_test") else { return };`
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ServerGate {
    /// What is needed, for the failure message, e.g. `S3 server`.
    pub server: &'static str,
    /// What the script starts, for the skip message, e.g. `a local S3 server (SeaweedFS)`.
    pub local: &'static str,
    /// The variable holding the endpoint, e.g. `ARCHIVER_S3_ENDPOINT`.
    pub endpoint_var: &'static str,
    /// The script to `source` that starts a server and exports its settings.
    pub script: &'static str,
}

/// What a gate decided.
#[derive(Debug, PartialEq, Eq)]
enum Decision {
    Run(String),
    Skip(String),
    Fail(String),
}

impl ServerGate {
    /// The endpoint from [`endpoint_var`](Self::endpoint_var) when it is set. Otherwise, under
    /// CI ([`under_ci`]), panics: a missing server is a test failure there, not a skip; outside
    /// CI, returns `None` after a loud `SKIPPED` line naming `test`, written straight to stderr
    /// (libtest captures `eprintln!`, and a skip must be seen).
    #[track_caller]
    pub fn endpoint(&self, test: &str) -> Option<String> {
        match self.decide(test, env_var(self.endpoint_var), under_ci()) {
            Decision::Run(endpoint) => Some(endpoint),
            Decision::Fail(message) => panic!("{message}"),
            Decision::Skip(message) => {
                let _ = writeln!(std::io::stderr(), "{message}");
                None
            }
        }
    }

    fn decide(&self, test: &str, endpoint: Option<String>, ci: bool) -> Decision {
        let ServerGate {
            server,
            local,
            endpoint_var,
            script,
        } = self;
        match endpoint {
            Some(endpoint) => Decision::Run(endpoint),
            None if ci => Decision::Fail(format!(
                "{server} required under CI: `source {script}` to start one and set {endpoint_var}"
            )),
            None => Decision::Skip(format!(
                "\n!!!!!!!! SKIPPED {test}: {endpoint_var} is not set. Run `source {script}` to \
                 start {local} and export its settings. !!!!!!!!\n"
            )),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const GATE: ServerGate = ServerGate {
        server: "GCS emulator",
        local: "a local GCS emulator (fake-gcs-server)",
        endpoint_var: "ARCHIVER_GCS_ENDPOINT",
        script: ".ci/gcs-server.sh",
    };

    #[test]
    fn a_set_endpoint_runs_whether_or_not_under_ci() {
        for ci in [false, true] {
            assert_eq!(
                GATE.decide("t", Some("http://127.0.0.1:4443".into()), ci),
                Decision::Run("http://127.0.0.1:4443".into())
            );
        }
    }

    #[test]
    fn a_missing_endpoint_fails_under_ci_and_is_skipped_loudly_otherwise() {
        assert_eq!(
            GATE.decide("t", None, true),
            Decision::Fail(
                "GCS emulator required under CI: `source .ci/gcs-server.sh` to start one and set \
                 ARCHIVER_GCS_ENDPOINT"
                    .into()
            )
        );
        assert_eq!(
            GATE.decide("some_test", None, false),
            Decision::Skip(
                "\n!!!!!!!! SKIPPED some_test: ARCHIVER_GCS_ENDPOINT is not set. Run `source \
                 .ci/gcs-server.sh` to start a local GCS emulator (fake-gcs-server) and export \
                 its settings. !!!!!!!!\n"
                    .into()
            )
        );
    }
}

//! `S3Settings::log_requests` (Temporal's `logLevel`) against the real server: one `DEBUG` line
//! per request under `archiver_s3::request`, none when off, and never a credential.

mod support;

use std::fmt::{self, Write as _};
use std::sync::{Arc, Mutex};

use archiver_core::ArchiveUri;
use archiver_kit::object::testing::archive_and_find_a_record;
use archiver_s3::{S3Store, S3VisibilityArchiver};
use tracing::field::{Field, Visit};
use tracing::span::{Attributes, Id, Record};
use tracing::{Event, Metadata, Subscriber};

/// The events of one target, each as `name=value` pairs.
#[derive(Clone, Default)]
struct Capture(Arc<Mutex<Vec<String>>>);

impl Capture {
    fn lines(&self) -> Vec<String> {
        self.0.lock().unwrap().clone()
    }
}

struct Line<'a>(&'a mut String);

impl Visit for Line<'_> {
    fn record_debug(&mut self, field: &Field, value: &dyn fmt::Debug) {
        let _ = write!(self.0, "{}={value:?} ", field.name());
    }
}

impl Subscriber for Capture {
    fn enabled(&self, metadata: &Metadata<'_>) -> bool {
        metadata.target() == "archiver_s3::request"
    }
    fn new_span(&self, _: &Attributes<'_>) -> Id {
        Id::from_u64(1)
    }
    fn record(&self, _: &Id, _: &Record<'_>) {}
    fn record_follows_from(&self, _: &Id, _: &Id) {}
    fn event(&self, event: &Event<'_>) {
        let mut line = String::new();
        event.record(&mut Line(&mut line));
        self.0.lock().unwrap().push(line);
    }
    fn enter(&self, _: &Id) {}
    fn exit(&self, _: &Id) {}
}

/// Archives a record and queries it back through a store with `log_requests` set to `on`,
/// returning the request lines logged.
async fn logged(server: &support::Server, on: bool) -> Vec<String> {
    let capture = Capture::default();
    // Thread-local: this test's runtime is single-threaded, so every request runs here.
    let _guard = tracing::subscriber::set_default(capture.clone());
    let store = S3Store::new(server.settings().with_request_log(on));
    let archiver = S3VisibilityArchiver::new(store);
    let uri = ArchiveUri::parse(&server.fresh_uri("log")).unwrap();
    archive_and_find_a_record(&archiver, &uri).await;
    capture.lines()
}

#[tokio::test]
async fn log_requests_logs_each_request_and_no_credentials() {
    let Some(server) = support::server("log_requests_logs_each_request_and_no_credentials") else {
        return;
    };
    let lines = logged(&server, true).await;
    let text = lines.join("\n");
    assert!(lines.len() >= 3, "PUT, LIST, GET expected:\n{text}");
    assert!(
        lines
            .iter()
            .any(|l| l.contains("method=PUT") && l.contains("status=200")),
        "{text}"
    );
    assert!(lines.iter().any(|l| l.contains("list-type=2")), "{text}");
    // The key id is a common word here ("archiver", like the bucket): its place would be the
    // Authorization header's `Credential=`, which must not appear.
    assert!(
        !text.contains(server.secret_access_key.as_str()),
        "secret in the log:\n{text}"
    );
    assert!(
        !text.contains("Credential=") && !text.contains("Signature="),
        "{text}"
    );

    assert!(logged(&server, false).await.is_empty(), "logged while off");
}

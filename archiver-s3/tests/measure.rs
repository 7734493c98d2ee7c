//! Figures for the report (run by hand: `cargo test -p archiver-s3 --release --test measure --
//! --ignored --nocapture` with the server up): archive throughput against the raw SDK writing
//! the same bytes, first-page latency, query latency and requests at a few thousand records.

mod support;

use std::time::Instant;

use archiver_core::testing::{search_attributes, test_records};
use archiver_core::{
    ArchiveOptions, ArchiveUri, GetHistoryRequest, HistoryArchiver, QueryRequest,
    VisibilityArchiver,
};
use archiver_s3::{S3HistoryArchiver, S3VisibilityArchiver};
use support::{RequestCounter, one_run};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "measurement, run by hand"]
async fn measure() {
    let Some(server) = support::server("measure") else {
        return;
    };
    let counter = RequestCounter::default();
    let store = counter.store(server.settings());
    let location = ArchiveUri::parse(&server.fresh_uri("measure")).expect("uri");

    // History: about 24 MB in 2 MiB blobs.
    let (source, run, history, request) = one_run("big", 9, 60_000);
    let bytes: usize = history
        .iter()
        .map(|b| serde_json::to_vec(b).expect("json").len() + 1)
        .sum();
    let archiver = S3HistoryArchiver::new(store.clone(), source);
    let started = Instant::now();
    archiver
        .archive(&location, &request, &ArchiveOptions::default())
        .await
        .expect("archive");
    let archive_secs = started.elapsed().as_secs_f64();
    let blobs = archiver.blob_writes();

    // The raw SDK writing the same number of 2 MiB objects, sequentially.
    let client = store.client().await;
    let chunk = vec![b'x'; bytes / blobs as usize];
    let started = Instant::now();
    for i in 0..blobs {
        client
            .put_object()
            .bucket(&server.bucket)
            .key(format!("{}/raw/{i}", support::unique()))
            .body(chunk.clone().into())
            .send()
            .await
            .expect("raw put");
    }
    let raw_secs = started.elapsed().as_secs_f64();
    let mb = bytes as f64 / 1e6;
    println!(
        "archive {mb:.1} MB in {blobs} blobs: {archive_secs:.2} s = {:.1} MB/s (encode + crc + upload); raw SDK PUTs of the same bytes: {raw_secs:.2} s = {:.1} MB/s; ratio {:.2}",
        mb / archive_secs,
        mb / raw_secs,
        archive_secs / raw_secs
    );

    let started = Instant::now();
    let page = archiver
        .get(
            &location,
            &GetHistoryRequest::new(&run.namespace_id, &run.workflow_id, &run.run_id, 100),
        )
        .await
        .expect("first page");
    println!(
        "get first page (100 events) of {mb:.1} MB history: {:.1} ms, {} batches",
        started.elapsed().as_secs_f64() * 1e3,
        page.history_batches.len()
    );

    // Visibility: a few thousand records.
    let visibility = S3VisibilityArchiver::new(store.clone());
    let records = test_records("ns-id", 3000);
    let started = Instant::now();
    let options = ArchiveOptions::default();
    for chunk in records.chunks(50) {
        futures::future::try_join_all(
            chunk
                .iter()
                .map(|r| visibility.archive(&location, r, &options)),
        )
        .await
        .expect("archive records");
    }
    println!(
        "archive {} records (50 concurrent): {:.2} s",
        records.len(),
        started.elapsed().as_secs_f64()
    );
    let attrs = search_attributes();
    for text in [
        "",
        "WorkflowId = 'wf-1234'",
        "WorkflowType = 'payments' AND CloseTime > '2026-01-02T00:00:00Z'",
        "ORDER BY StartTime ASC",
        "CustomKeyword = 'red'",
        "ORDER BY HistoryLength DESC",
    ] {
        counter.reset();
        let started = Instant::now();
        let page = visibility
            .query(
                &location,
                &QueryRequest::new("ns-id", text).with_page_size(100),
                &attrs,
            )
            .await
            .expect(text);
        println!(
            "query {text:?} over {} records, page 100: {:.0} ms, {} results, {} LIST + {} GET",
            records.len(),
            started.elapsed().as_secs_f64() * 1e3,
            page.executions.len(),
            counter.count("LIST"),
            counter.count("GET")
        );
    }
}

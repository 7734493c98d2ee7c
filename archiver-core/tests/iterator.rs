//! HistoryIterator invariants, for random histories and target sizes.

use std::sync::Arc;

use archiver_core::history::{
    EventFields, EventType, HistoryIterator, IteratorState, MemoryHistorySource, RunKey,
    decode_batches,
};
use archiver_core::{ArchiveHistoryRequest, Error, History, HistoryBlob, HistoryEvent};
use proptest::prelude::*;

fn history(sizes: &[usize], payload: usize) -> Vec<History> {
    let mut id = 0;
    sizes
        .iter()
        .map(|&n| {
            History::new(
                (0..n)
                    .map(|_| {
                        id += 1;
                        let mut fields = EventFields::new();
                        fields.insert("pad", "p".repeat(payload * (id as usize % 3)).into());
                        HistoryEvent {
                            event_id: id,
                            version: 1,
                            fields,
                            ..Default::default()
                        }
                    })
                    .collect(),
            )
        })
        .collect()
}

fn setup(batches: &[History]) -> (Arc<MemoryHistorySource>, ArchiveHistoryRequest) {
    let source = Arc::new(MemoryHistorySource::new());
    let run = RunKey::new("ns", "wf", "run");
    source.insert(run, batches.to_vec());
    let last = batches
        .last()
        .and_then(|b| b.last_event())
        .map_or(0, |e| e.event_id);
    let request = ArchiveHistoryRequest {
        namespace_id: "ns".into(),
        namespace: "n".into(),
        workflow_id: "wf".into(),
        run_id: "run".into(),
        next_event_id: last + 1,
        close_failover_version: 1,
        ..Default::default()
    };
    (source, request)
}

/// Every blob with the state after it.
async fn drain(iterator: &mut HistoryIterator) -> Vec<(HistoryBlob, IteratorState)> {
    let mut out = Vec::new();
    while let Some(blob) = iterator.next().await.unwrap() {
        out.push((blob, iterator.state()));
    }
    out
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap()
}

#[test]
fn an_event_type_the_reader_would_refuse_is_refused_before_any_blob() {
    let mut batches = history(&[2, 2], 10);
    batches[1].events[0].event_type = EventType::Other("not \"a\" name".into());
    let (source, request) = setup(&batches);
    let mut iterator = HistoryIterator::new(source, &request, 1 << 20);
    match runtime().block_on(iterator.next()) {
        Err(err @ Error::Source { .. }) => {
            assert!(!err.is_retryable());
            assert!(err.to_string().contains("event 3"), "{err}");
        }
        other => panic!("expected a source error, got {other:?}"),
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn blobs_cover_the_source_on_batch_boundaries(
        sizes in prop::collection::vec(1usize..6, 1..120),
        payload in 0usize..80,
        target in 1usize..4000,
    ) {
        runtime().block_on(async {
            let batches = history(&sizes, payload);
            let (source, request) = setup(&batches);
            let mut iterator = HistoryIterator::new(source.clone(), &request, target);
            let blobs = drain(&mut iterator).await;
            let mut decoded = Vec::new();
            for (i, (blob, _)) in blobs.iter().enumerate() {
                let is_last = i + 1 == blobs.len();
                prop_assert_eq!(blob.is_last, is_last);
                if !is_last {
                    prop_assert!(blob.data.len() >= target, "blob {} of {} bytes < target {}", i, blob.data.len(), target);
                }
                let lines = decode_batches(&blob.data).unwrap();
                prop_assert_eq!(lines.len(), blob.batch_count);
                prop_assert_eq!(lines.iter().map(|b| b.events.len()).sum::<usize>(), blob.event_count);
                decoded.extend(lines);
            }
            // Whole batches, all of them, in order: the blobs ARE the source.
            prop_assert_eq!(&decoded, &batches);

            // Resuming from any saved state yields the same remaining blobs.
            for (k, (_, state)) in blobs.iter().enumerate() {
                let state: IteratorState = serde_json::from_slice(&serde_json::to_vec(state).unwrap()).unwrap();
                let mut resumed = HistoryIterator::resume(source.clone(), &request, target, state);
                let rest: Vec<HistoryBlob> = drain(&mut resumed).await.into_iter().map(|(b, _)| b).collect();
                let want: Vec<HistoryBlob> = blobs[k + 1..].iter().map(|(b, _)| b.clone()).collect();
                prop_assert_eq!(rest, want);
            }
            Ok(())
        })?;
    }

    #[test]
    fn iterator_state_round_trips(next_event_id: i64, finished: bool) {
        let state = IteratorState { next_event_id, finished };
        let json = serde_json::to_string(&state).unwrap();
        prop_assert_eq!(serde_json::from_str::<IteratorState>(&json).unwrap(), state);
    }
}

#[test]
fn state_uses_temporal_field_names() {
    let state = IteratorState {
        next_event_id: 13,
        finished: false,
    };
    assert_eq!(
        serde_json::to_string(&state).unwrap(),
        r#"{"NextEventID":13,"FinishedIteration":false}"#
    );
}

#[tokio::test]
async fn a_failed_next_can_be_retried_and_yields_the_same_blob() {
    let batches = history(&[3; 300], 40);
    let (source, request) = setup(&batches);
    let mut clean = HistoryIterator::new(source.clone(), &request, 2000);
    let expected = drain(&mut clean).await;

    let mut iterator = HistoryIterator::new(source.clone(), &request, 2000);
    let mut got = Vec::new();
    // Every third read fails once; each failure is retried.
    let mut failures = 0;
    loop {
        if source.reads() % 3 == 0 {
            source.fail_next_reads(1);
        }
        let before = iterator.state();
        match iterator.next().await {
            Ok(Some(blob)) => got.push((blob, iterator.state())),
            Ok(None) => break,
            Err(e) => {
                assert!(e.is_retryable(), "{e}");
                assert_eq!(iterator.state(), before, "a failed next changes nothing");
                failures += 1;
            }
        }
    }
    assert!(failures > 0, "the test injected failures");
    assert_eq!(got, expected);
}

#[tokio::test]
async fn each_page_is_read_once() {
    let batches = history(&[2; 1000], 10);
    let (source, request) = setup(&batches);
    let mut iterator = HistoryIterator::new(source.clone(), &request, 500);
    drain(&mut iterator).await;
    // 2000 events in pages of 250: 8 reads, no re-reads and no trailing probe.
    assert_eq!(source.reads(), 8);
}

#[tokio::test]
async fn missing_history_is_not_found_and_mutation_is_detected() {
    let (source, request) = setup(&history(&[2, 2], 0));
    let mut gone = HistoryIterator::new(
        source.clone(),
        &ArchiveHistoryRequest {
            run_id: "other".into(),
            ..request.clone()
        },
        10,
    );
    assert!(matches!(gone.next().await, Err(Error::NotFound { .. })));
    let short = ArchiveHistoryRequest {
        next_event_id: 4,
        ..request.clone()
    };
    let mut iterator = HistoryIterator::new(source, &short, 1 << 20);
    assert!(matches!(
        iterator.next().await,
        Err(Error::HistoryMutated { .. })
    ));
}

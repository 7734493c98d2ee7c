//! The `.hist` file: one history archive (one run, one close-failover version) as a header with
//! the identity, a sequence of checksummed blob frames, an index and a footer. See
//! [`format`] for the bytes.

pub(crate) mod format;
pub(crate) mod reader;
pub(crate) mod writer;

pub(crate) use format::{BlobMeta, Identity};
pub(crate) use reader::HistReader;
pub(crate) use writer::HistWriter;

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fsio::Modes;
    use archiver_core::Error;
    use std::path::Path;

    const MODES: Modes = Modes {
        file: 0o644,
        dir: 0o755,
    };

    fn identity() -> Identity {
        Identity {
            namespace_id: "ns".into(),
            workflow_id: "wf".into(),
            run_id: "run".into(),
            close_failover_version: 7,
        }
    }

    fn meta(first: i64, count: u32) -> BlobMeta {
        BlobMeta {
            first_event_id: first,
            last_event_id: first + i64::from(count) - 1,
            event_count: count,
            batch_count: 1,
        }
    }

    fn write(dir: &Path, blobs: &[&[u8]]) -> std::path::PathBuf {
        let mut writer = HistWriter::create(dir, "7", &identity(), MODES).unwrap();
        for (i, blob) in blobs.iter().enumerate() {
            writer.append(blob, meta(i as i64 * 10 + 1, 10)).unwrap();
        }
        writer.sync().unwrap();
        let target = dir.join("7.hist");
        writer.finish(&target).unwrap();
        target
    }

    #[test]
    fn round_trip_reads_each_blob() {
        let root = tempfile::tempdir().unwrap();
        let target = write(root.path(), &[b"first", b"", b"third blob"]);
        let reader = HistReader::open(&target).unwrap();
        assert_eq!(reader.identity(), &identity());
        assert_eq!(reader.frames().len(), 3);
        assert_eq!(reader.frames()[2].meta, meta(21, 10));
        assert_eq!(reader.read_blob(0).unwrap(), b"first");
        assert_eq!(reader.read_blob(1).unwrap(), b"");
        assert_eq!(reader.read_blob(2).unwrap(), b"third blob");
        assert!(matches!(reader.read_blob(3), Err(Error::Corrupted { .. })));
        let names: Vec<_> = std::fs::read_dir(root.path())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names, ["7.hist"], "no temp file left");
    }

    #[test]
    fn empty_archive_is_valid() {
        let root = tempfile::tempdir().unwrap();
        let target = write(root.path(), &[]);
        assert!(HistReader::open(&target).unwrap().frames().is_empty());
    }

    #[test]
    fn missing_file_is_not_found() {
        let root = tempfile::tempdir().unwrap();
        assert!(matches!(
            HistReader::open(&root.path().join("1.hist")),
            Err(Error::NotFound { .. })
        ));
    }

    #[test]
    fn every_flipped_byte_is_detected_naming_the_file() {
        let root = tempfile::tempdir().unwrap();
        let target = write(root.path(), &[b"first", b"second"]);
        let good = std::fs::read(&target).unwrap();
        for at in 0..good.len() {
            let mut bad = good.clone();
            bad[at] ^= 0x01;
            std::fs::write(&target, &bad).unwrap();
            let outcome = HistReader::open(&target)
                .and_then(|r| (0..r.frames().len()).try_for_each(|i| r.read_blob(i).map(drop)));
            match outcome {
                Err(Error::Corrupted { location, .. }) => assert!(location.ends_with("7.hist")),
                other => panic!("byte {at}: {other:?}"),
            }
        }
    }

    #[test]
    fn truncated_file_is_corrupted() {
        let root = tempfile::tempdir().unwrap();
        let target = write(root.path(), &[b"first", b"second"]);
        let good = std::fs::read(&target).unwrap();
        for len in [0, 5, 30, good.len() - 1] {
            std::fs::write(&target, &good[..len]).unwrap();
            assert!(
                matches!(HistReader::open(&target), Err(Error::Corrupted { .. })),
                "len {len}"
            );
        }
    }

    #[test]
    fn reopen_resumes_at_a_committed_length_and_drops_the_tail() {
        let root = tempfile::tempdir().unwrap();
        let mut writer = HistWriter::create(root.path(), "7", &identity(), MODES).unwrap();
        writer.append(b"one", meta(1, 10)).unwrap();
        writer.sync().unwrap();
        let committed = writer.len();
        writer.append(b"half-written", meta(11, 10)).unwrap();
        let temp = writer.temp_path().to_owned();
        drop(writer);

        let mut resumed = HistWriter::reopen(&temp, &identity(), committed).unwrap();
        assert_eq!(resumed.blob_count(), 1);
        resumed.append(b"two", meta(11, 10)).unwrap();
        let target = root.path().join("7.hist");
        resumed.finish(&target).unwrap();
        let reader = HistReader::open(&target).unwrap();
        assert_eq!(reader.read_blob(0).unwrap(), b"one");
        assert_eq!(reader.read_blob(1).unwrap(), b"two");
    }

    #[test]
    fn reopen_refuses_what_it_cannot_trust() {
        let root = tempfile::tempdir().unwrap();
        let mut writer = HistWriter::create(root.path(), "7", &identity(), MODES).unwrap();
        writer.append(b"one", meta(1, 10)).unwrap();
        let committed = writer.len();
        let temp = writer.temp_path().to_owned();
        drop(writer);
        let other = Identity {
            run_id: "other".into(),
            ..identity()
        };
        assert!(HistWriter::reopen(&temp, &other, committed).is_err());
        assert!(HistWriter::reopen(&temp, &identity(), committed - 1).is_err());
        assert!(HistWriter::reopen(&temp, &identity(), committed + 40).is_err());
        assert!(HistWriter::reopen(&root.path().join("gone"), &identity(), committed).is_err());
        HistWriter::reopen(&temp, &identity(), committed)
            .unwrap()
            .abandon();
        assert!(!temp.exists());
    }
}

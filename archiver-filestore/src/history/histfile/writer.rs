//! Streaming a `.hist` file: staged in a temp file blob by blob, committed by rename.

use std::fs::File;
use std::io::{self, Write};
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};

use super::format::{self, BlobMeta, FRAME_HEADER, Frame, Identity};
use crate::fsio::{self, Modes};

/// A history archive being written. Each blob is appended as one frame; [`HistWriter::sync`]
/// makes what was appended durable; [`HistWriter::finish`] writes the index and footer and
/// renames the file into place (durable once the caller fsyncs the directory).
#[derive(Debug)]
pub(crate) struct HistWriter {
    file: File,
    temp: PathBuf,
    data_start: u64,
    frames: Vec<Frame>,
    len: u64,
    /// Bytes made durable by the last [`HistWriter::sync`].
    synced: u64,
}

impl HistWriter {
    /// Starts a new staged file in the existing directory `dir` for `identity`.
    pub(crate) fn create(
        dir: &Path,
        tag: &str,
        identity: &Identity,
        modes: Modes,
    ) -> io::Result<Self> {
        let (mut file, temp) = fsio::create_temp(dir, tag, modes.file)?;
        let header = format::encode_header(identity);
        if let Err(err) = file.write_all(&header) {
            let _ = std::fs::remove_file(&temp);
            return Err(err);
        }
        let data_start = header.len() as u64;
        Ok(Self {
            file,
            temp,
            data_start,
            frames: Vec::new(),
            len: data_start,
            synced: 0,
        })
    }

    /// Picks up a staged file left by an earlier attempt, keeping its first `committed` bytes
    /// (what that attempt made durable) and dropping anything after them.
    ///
    /// Every kept frame is re-read and its checksum verified. Returns why when the file cannot
    /// be resumed (gone, another identity, damaged, shorter than `committed`); the caller then
    /// starts over.
    pub(crate) fn reopen(temp: &Path, identity: &Identity, committed: u64) -> Result<Self, String> {
        let file = fsio::open_regular(temp, true).map_err(|err| format!("cannot open: {err}"))?;
        let (found, data_start) =
            super::reader::read_header(&file).map_err(|err| err.to_string())?;
        if &found != identity {
            return Err("staged file belongs to another archive".into());
        }
        let mut frames = Vec::new();
        let mut offset = data_start;
        while offset < committed {
            let frame = super::reader::read_frame(&file, offset).map_err(|err| err.to_string())?;
            offset = frame.end();
            frames.push(frame);
        }
        if offset != committed {
            return Err(format!(
                "recorded length {committed} is not a frame boundary"
            ));
        }
        file.set_len(committed)
            .map_err(|err| format!("cannot truncate: {err}"))?;
        Ok(Self {
            file,
            temp: temp.to_owned(),
            data_start,
            frames,
            len: committed,
            synced: committed,
        })
    }

    /// Appends one blob as a frame (not yet durable: see [`HistWriter::sync`]).
    pub(crate) fn append(&mut self, payload: &[u8], meta: BlobMeta) -> io::Result<()> {
        let header = format::encode_frame_header(payload, meta)
            .map_err(|reason| io::Error::new(io::ErrorKind::InvalidInput, reason))?;
        let frame = format::decode_frame_header(self.len, &header).expect("fresh header decodes");
        self.file.write_all_at(&header, self.len)?;
        self.file
            .write_all_at(payload, self.len + FRAME_HEADER as u64)?;
        self.len = frame.end();
        self.frames.push(frame);
        Ok(())
    }

    /// Makes every appended blob durable.
    pub(crate) fn sync(&mut self) -> io::Result<()> {
        self.file.sync_data()?;
        self.synced = self.len;
        Ok(())
    }

    /// Bytes appended since the last [`HistWriter::sync`].
    pub(crate) fn unsynced(&self) -> u64 {
        self.len - self.synced
    }

    /// Bytes written so far (a frame boundary).
    pub(crate) fn len(&self) -> u64 {
        self.len
    }

    /// Blobs written so far.
    #[cfg(test)]
    pub(crate) fn blob_count(&self) -> usize {
        self.frames.len()
    }

    /// The staged file.
    pub(crate) fn temp_path(&self) -> &Path {
        &self.temp
    }

    /// Writes index and footer, fsyncs, and atomically renames the file to `target`. The rename
    /// is durable once `target`'s directory is fsynced: the caller's job, so that writers can
    /// share fsyncs.
    pub(crate) fn finish(self, target: &Path) -> io::Result<()> {
        debug_assert!(
            self.frames
                .first()
                .is_none_or(|f| f.offset == self.data_start)
        );
        let index = format::encode_index(&self.frames);
        let footer = format::Footer {
            index_offset: self.len,
            blob_count: u32::try_from(self.frames.len())
                .map_err(|_| io::Error::new(io::ErrorKind::InvalidInput, "too many blobs"))?,
            index_crc: crc32c::crc32c(&index),
        };
        self.file.write_all_at(&index, self.len)?;
        self.file.write_all_at(
            &format::encode_footer(&footer),
            self.len + index.len() as u64,
        )?;
        self.file.sync_all()?;
        std::fs::rename(&self.temp, target)
    }

    /// Removes the staged file (best effort).
    pub(crate) fn abandon(self) {
        let _ = std::fs::remove_file(&self.temp);
    }
}

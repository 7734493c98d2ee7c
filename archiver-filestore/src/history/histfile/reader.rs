//! Reading a committed `.hist` file: header, footer and index up front, then single blobs on
//! demand (positioned reads; nothing else of the file is touched).

use std::fmt;
use std::fs::File;
use std::io;
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};

use archiver_core::{Error, Result};

use super::format::{self, FOOTER, FRAME_HEADER, Frame, HEADER_FIXED, Identity};
use crate::error::{io_error, open_error};
use crate::fsio;

/// Why a read failed: the file system, or the bytes.
#[derive(Debug)]
pub(crate) enum ReadError {
    Io(io::Error),
    Format(String),
}

impl fmt::Display for ReadError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ReadError::Io(err) => write!(f, "{err}"),
            ReadError::Format(reason) => f.write_str(reason),
        }
    }
}

impl From<format::FormatError> for ReadError {
    fn from(reason: format::FormatError) -> Self {
        ReadError::Format(reason)
    }
}

impl From<io::Error> for ReadError {
    fn from(err: io::Error) -> Self {
        if err.kind() == io::ErrorKind::UnexpectedEof {
            ReadError::Format("file is truncated".into())
        } else {
            ReadError::Io(err)
        }
    }
}

impl ReadError {
    fn into_core(self, operation: &str, path: &Path) -> Error {
        match self {
            ReadError::Io(err) => io_error(operation, path, err),
            ReadError::Format(reason) => Error::corrupted(path.display().to_string(), reason),
        }
    }
}

/// Reads and checks the header; returns the identity and where the first frame starts.
pub(crate) fn read_header(file: &File) -> Result<(Identity, u64), ReadError> {
    let mut fixed = [0u8; HEADER_FIXED];
    file.read_exact_at(&mut fixed, 0)?;
    let len = format::decode_header_fixed(&fixed)? as usize;
    let mut rest = vec![0u8; len + 4];
    file.read_exact_at(&mut rest, HEADER_FIXED as u64)?;
    let identity = format::decode_header_rest(&fixed, &rest)?;
    Ok((identity, (HEADER_FIXED + rest.len()) as u64))
}

/// Reads the frame at `offset` and verifies its payload checksum (the payload is read in
/// chunks and dropped; used to validate staged files on resume).
pub(crate) fn read_frame(file: &File, offset: u64) -> Result<Frame, ReadError> {
    let frame = read_frame_header(file, offset)?;
    let mut crc = 0u32;
    let mut chunk = vec![0u8; 256 * 1024];
    let mut at = offset + FRAME_HEADER as u64;
    while at < frame.end() {
        let n = chunk.len().min((frame.end() - at) as usize);
        file.read_exact_at(&mut chunk[..n], at)?;
        crc = crc32c::crc32c_append(crc, &chunk[..n]);
        at += n as u64;
    }
    if crc != frame.payload_crc {
        return Err(ReadError::Format(format!(
            "blob checksum mismatch at offset {offset}"
        )));
    }
    Ok(frame)
}

fn read_frame_header(file: &File, offset: u64) -> Result<Frame, ReadError> {
    let mut header = [0u8; FRAME_HEADER];
    file.read_exact_at(&mut header, offset)?;
    Ok(format::decode_frame_header(offset, &header)?)
}

/// An open, validated history archive.
#[derive(Debug)]
pub(crate) struct HistReader {
    file: File,
    path: PathBuf,
    identity: Identity,
    frames: Vec<Frame>,
}

impl HistReader {
    /// Opens `path`, checking header, footer and index. A missing file is [`Error::NotFound`];
    /// a damaged or incomplete one, or anything but a regular file in its place (a FIFO would
    /// block a plain open forever), is [`Error::Corrupted`] naming the file.
    pub(crate) fn open(path: &Path) -> Result<Self> {
        let file = fsio::open_regular(path, false).map_err(|err| {
            if err.kind() == io::ErrorKind::NotFound {
                Error::NotFound {
                    what: format!("history archive {}", path.display()),
                }
            } else {
                open_error(path, err)
            }
        })?;
        Self::load(file, path).map_err(|err| err.into_core("read", path))
    }

    fn load(file: File, path: &Path) -> Result<Self, ReadError> {
        let (identity, data_start) = read_header(&file)?;
        let file_len = file.metadata()?.len();
        if file_len < data_start + FOOTER as u64 {
            return Err(ReadError::Format(
                "no footer: the archive is incomplete".into(),
            ));
        }
        let mut footer = [0u8; FOOTER];
        file.read_exact_at(&mut footer, file_len - FOOTER as u64)?;
        let footer = format::decode_footer(&footer, file_len)?;
        let mut index = vec![0u8; (file_len - FOOTER as u64 - footer.index_offset) as usize];
        file.read_exact_at(&mut index, footer.index_offset)?;
        let frames = format::decode_index(&index, &footer, data_start)?;
        Ok(Self {
            file,
            path: path.to_owned(),
            identity,
            frames,
        })
    }

    /// Whose archive this is.
    pub(crate) fn identity(&self) -> &Identity {
        &self.identity
    }

    /// The blobs, in order.
    pub(crate) fn frames(&self) -> &[Frame] {
        &self.frames
    }

    /// Verifies every blob against its frame header, index entry and checksum, reading the
    /// payloads in chunks (memory stays small whatever the archive's size). Costs a read of the
    /// whole file: for checks that must not trust a damaged archive, not for serving pages.
    pub(crate) fn verify(&self) -> Result<()> {
        let path = &self.path;
        for (i, indexed) in self.frames.iter().enumerate() {
            let found = read_frame(&self.file, indexed.offset)
                .map_err(|err| err.into_core("verify blob", path))?;
            if found != *indexed {
                return Err(Error::corrupted(
                    path.display().to_string(),
                    format!("blob {i} does not match the index"),
                ));
            }
        }
        Ok(())
    }

    /// Reads blob `i` and verifies it against its frame header and index entry.
    pub(crate) fn read_blob(&self, i: usize) -> Result<Vec<u8>> {
        let path = &self.path;
        let indexed = *self
            .frames
            .get(i)
            .ok_or_else(|| Error::corrupted(path.display().to_string(), format!("no blob {i}")))?;
        let load = || -> Result<Vec<u8>, ReadError> {
            let found = read_frame_header(&self.file, indexed.offset)?;
            if found != indexed {
                return Err(ReadError::Format(format!(
                    "blob {i} does not match the index"
                )));
            }
            let mut payload = vec![0u8; indexed.payload_len as usize];
            self.file
                .read_exact_at(&mut payload, indexed.offset + FRAME_HEADER as u64)?;
            if crc32c::crc32c(&payload) != indexed.payload_crc {
                return Err(ReadError::Format(format!("blob {i} checksum mismatch")));
            }
            Ok(payload)
        };
        load().map_err(|err| err.into_core("read blob", path))
    }
}

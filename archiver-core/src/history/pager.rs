//! Paging through an archived history: the cursor a page token carries and the page being
//! filled, so that every provider pages the same way and rejects the same bad tokens.

use serde::{Deserialize, Serialize};

use super::History;
use crate::page_token::{decode_page_token, encode_page_token, fingerprint};
use crate::{Error, GetHistoryRequest, GetHistoryResponse, Result};

/// Where a page starts: an archived version, a blob of it, a batch within the blob.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
struct Cursor {
    version: i64,
    blob: usize,
    batch: usize,
}

/// Fills one [`GetHistoryResponse`] from an archive's blobs: whole batches from where the
/// request's token points until about `page_size` events (at least one batch), then the
/// token of the next page.
///
/// A provider only finds the archive and reads blobs:
///
/// ```
/// use archiver_core::{GetHistoryRequest, History, HistoryEvent, HistoryPager};
///
/// // An archive of two blobs with two one-event batches each.
/// let batch = History::new(vec![HistoryEvent::default()]);
/// let blobs = vec![vec![batch.clone(); 2], vec![batch; 2]];
/// let request = GetHistoryRequest::new("ns", "wf", "run", 1);
/// let mut pager = HistoryPager::new(&request)?;
/// let version = pager.version().unwrap_or(7); // from the token, the request, or the highest
/// while let Some(blob) = pager.next_blob(blobs.len()) {
///     pager.add_batches(blobs[blob].clone())?;
/// }
/// let page = pager.finish(version, blobs.len())?;
/// assert_eq!(page.history_batches.len(), 1);
/// assert!(page.next_page_token.is_some());
/// # Ok::<(), archiver_core::Error>(())
/// ```
#[derive(Debug)]
pub struct HistoryPager {
    /// The run the tokens are bound to.
    bound: u64,
    page_size: usize,
    /// The version asked for: the token's, else the request's.
    version: Option<i64>,
    resumed: bool,
    blob: usize,
    batch: usize,
    events: usize,
    batches: Vec<History>,
}

impl HistoryPager {
    /// Starts the page `request` asks for.
    ///
    /// Errors with [`Error::CorruptedToken`] when the token is damaged, was made for another
    /// run, or names another version than the request's `close_failover_version`.
    pub fn new(request: &GetHistoryRequest) -> Result<Self> {
        let bound = fingerprint(&[&request.namespace_id, &request.workflow_id, &request.run_id]);
        let cursor = request
            .next_page_token
            .as_deref()
            .map(|token| decode_page_token::<Cursor>(token, bound))
            .transpose()?;
        if let (Some(c), Some(v)) = (&cursor, request.close_failover_version)
            && c.version != v
        {
            return Err(Error::CorruptedToken {
                reason: "the token is for another close failover version".into(),
            });
        }
        Ok(HistoryPager {
            bound,
            page_size: request.page_size,
            version: cursor.map(|c| c.version).or(request.close_failover_version),
            resumed: cursor.is_some(),
            blob: cursor.map_or(0, |c| c.blob),
            batch: cursor.map_or(0, |c| c.batch),
            events: 0,
            batches: Vec::new(),
        })
    }

    /// The version to read, when the token or the request names one; `None` means the
    /// highest archived version.
    pub fn version(&self) -> Option<i64> {
        self.version
    }

    /// The index of the blob the page needs next, or `None` when the page is full or the
    /// archive (of `blob_count` blobs) has no more.
    pub fn next_blob(&self, blob_count: usize) -> Option<usize> {
        (self.events < self.page_size && self.blob < blob_count).then_some(self.blob)
    }

    /// Adds the blob [`next_blob`](Self::next_blob) named, a blob of `batch_count` batches:
    /// `batch(i)` decodes batch `i`, and is called only for the batches the page takes.
    pub fn add_blob(
        &mut self,
        batch_count: usize,
        mut batch: impl FnMut(usize) -> Result<History>,
    ) -> Result<()> {
        if self.batch >= batch_count {
            return Err(Error::CorruptedToken {
                reason: "the token points past the end of a blob".into(),
            });
        }
        while self.batch < batch_count && self.events < self.page_size {
            let b = batch(self.batch)?;
            self.events += b.events.len();
            self.batches.push(b);
            self.batch += 1;
        }
        if self.batch == batch_count {
            self.blob += 1;
            self.batch = 0;
        }
        Ok(())
    }

    /// [`add_blob`](Self::add_blob) for a blob already decoded into its batches.
    pub fn add_batches(&mut self, batches: Vec<History>) -> Result<()> {
        let count = batches.len();
        let mut rest = batches.into_iter().skip(self.batch);
        self.add_blob(count, |_| {
            rest.next().ok_or_else(|| Error::CorruptedToken {
                reason: "the token points past the end of a blob".into(),
            })
        })
    }

    /// The page, with a token for the next one unless the archive of `blob_count` blobs of
    /// `version` is exhausted.
    pub fn finish(self, version: i64, blob_count: usize) -> Result<GetHistoryResponse> {
        if self.resumed && self.batches.is_empty() {
            return Err(Error::CorruptedToken {
                reason: "the token points past the end of the archive".into(),
            });
        }
        let next_page_token = if self.blob < blob_count {
            let cursor = Cursor {
                version,
                blob: self.blob,
                batch: self.batch,
            };
            Some(encode_page_token(self.bound, &cursor)?)
        } else {
            None
        };
        Ok(GetHistoryResponse {
            history_batches: self.batches,
            next_page_token,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::HistoryEvent;

    /// `blobs[i][j]` = events in batch j of blob i; event ids count up from 1.
    fn archive(shape: &[&[usize]]) -> Vec<Vec<History>> {
        let mut id = 0;
        shape
            .iter()
            .map(|blob| {
                blob.iter()
                    .map(|&n| {
                        History::new(
                            (0..n)
                                .map(|_| {
                                    id += 1;
                                    HistoryEvent {
                                        event_id: id,
                                        ..HistoryEvent::default()
                                    }
                                })
                                .collect(),
                        )
                    })
                    .collect()
            })
            .collect()
    }

    fn page(blobs: &[Vec<History>], request: &GetHistoryRequest) -> Result<GetHistoryResponse> {
        let mut pager = HistoryPager::new(request)?;
        let version = pager.version().unwrap_or(3);
        while let Some(i) = pager.next_blob(blobs.len()) {
            pager.add_batches(blobs[i].clone())?;
        }
        pager.finish(version, blobs.len())
    }

    fn ids(r: &GetHistoryResponse) -> Vec<i64> {
        r.history_batches
            .iter()
            .flat_map(|b| b.events.iter().map(|e| e.event_id))
            .collect()
    }

    #[test]
    fn pages_cover_every_event_once_in_whole_batches() {
        let blobs = archive(&[&[2, 1, 3], &[1], &[4, 1]]);
        for page_size in 1..=13 {
            let mut request = GetHistoryRequest::new("ns", "wf", "run", page_size);
            let mut seen = Vec::new();
            loop {
                let r = page(&blobs, &request).unwrap();
                assert!(!r.history_batches.is_empty());
                // Whole batches, and no more than one batch past the page size.
                let last = r.history_batches.last().unwrap().events.len();
                assert!(ids(&r).len() < page_size + last || r.history_batches.len() == 1);
                seen.extend(ids(&r));
                match r.next_page_token {
                    Some(t) => request.next_page_token = Some(t),
                    None => break,
                }
            }
            assert_eq!(seen, (1..=12).collect::<Vec<_>>(), "page size {page_size}");
        }
    }

    #[test]
    fn batches_the_page_does_not_take_are_not_decoded() {
        let blobs = archive(&[&[1, 1, 1, 1]]);
        let mut pager = HistoryPager::new(&GetHistoryRequest::new("ns", "wf", "run", 2)).unwrap();
        let mut decoded = Vec::new();
        pager
            .add_blob(4, |i| {
                decoded.push(i);
                Ok(blobs[0][i].clone())
            })
            .unwrap();
        assert_eq!(decoded, [0, 1]);
    }

    #[test]
    fn bad_tokens_are_corrupted_token_errors() {
        let blobs = archive(&[&[1, 1], &[1]]);
        let first = page(&blobs, &GetHistoryRequest::new("ns", "wf", "run", 1)).unwrap();
        let token = first.next_page_token.unwrap();
        let corrupted =
            |r: Result<GetHistoryResponse>| matches!(r, Err(Error::CorruptedToken { .. }));

        let mut other_run = GetHistoryRequest::new("ns", "wf", "other", 1);
        other_run.next_page_token = Some(token.clone());
        assert!(corrupted(page(&blobs, &other_run)));

        let mut other_version = GetHistoryRequest::new("ns", "wf", "run", 1);
        other_version.close_failover_version = Some(4);
        other_version.next_page_token = Some(token.clone());
        assert!(corrupted(page(&blobs, &other_version)));

        // A token into a shorter archive (another version was archived meanwhile).
        let mut past_end = GetHistoryRequest::new("ns", "wf", "run", 1);
        past_end.next_page_token = Some(token);
        assert!(corrupted(page(&archive(&[&[1]]), &past_end)));
    }
}

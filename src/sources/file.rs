//! The JSON-lines file source: one event per line, cut into epochs by size; used by the embedded default and backfills.

use std::fs::File;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};

use dataflows::event::EventKind;

use super::{EpochInfo, RawMessage, Source};

/// Reads a JSON-lines file. Each line's sequence is its 0-based line number, so later lines win
/// among unversioned events of one identity.
pub struct FileSource {
    path: PathBuf,
    reader: BufReader<File>,
    kind: Option<EventKind>,
    epoch_events: usize,
    line: u64,
    /// Keep reading lines appended to the file (like `tail -f`) until shutdown.
    follow: bool,
    /// A line read without its newline yet (the writer is mid-line).
    partial: Vec<u8>,
    at_end: bool,
    reported_caught_up: bool,
}

impl FileSource {
    /// `kind` fixes the event kind of every line; `None` reads it from each line.
    pub fn open(
        path: &Path,
        kind: Option<EventKind>,
        epoch_events: usize,
    ) -> std::io::Result<FileSource> {
        let file = File::open(path)?;
        Ok(FileSource {
            path: path.to_path_buf(),
            reader: BufReader::with_capacity(1 << 20, file),
            kind,
            epoch_events: epoch_events.max(1),
            line: 0,
            follow: false,
            partial: Vec::new(),
            at_end: false,
            reported_caught_up: false,
        })
    }

    /// Follows the file for appended lines instead of stopping at its end.
    pub fn follow(mut self) -> FileSource {
        self.follow = true;
        self
    }

    /// Reads up to `epoch_events` complete lines; stops early at the end of the file.
    fn read_batch(&mut self) -> std::io::Result<Vec<RawMessage>> {
        let mut batch = Vec::with_capacity(self.epoch_events.min(1 << 16));
        self.at_end = false;
        while batch.len() < self.epoch_events {
            let mut buf = std::mem::take(&mut self.partial);
            if self.reader.read_until(b'\n', &mut buf)? == 0 || buf.last() != Some(&b'\n') {
                if self.follow {
                    // Keep an unfinished last line until its newline arrives.
                    self.partial = buf;
                    self.at_end = true;
                    break;
                }
                if buf.is_empty() {
                    self.at_end = true;
                    break;
                }
            }
            let seq = self.line;
            self.line += 1;
            while matches!(buf.last(), Some(b'\n' | b'\r')) {
                buf.pop();
            }
            if buf.iter().all(u8::is_ascii_whitespace) {
                continue;
            }
            batch.push(RawMessage {
                kind: self.kind,
                key: None,
                payload: Some(buf),
                seq,
                partition: 0,
                topic: None,
            });
        }
        Ok(batch)
    }
}

impl Source for FileSource {
    fn origin(&self) -> String {
        self.path.display().to_string()
    }

    fn epoch_info(&self) -> EpochInfo {
        EpochInfo {
            caught_up: self.at_end,
            ..EpochInfo::default()
        }
    }

    fn next_epoch(&mut self) -> std::io::Result<Option<Vec<RawMessage>>> {
        loop {
            if crate::shutdown::requested() {
                return Ok(None);
            }
            let batch = self.read_batch()?;
            if !batch.is_empty() {
                self.reported_caught_up = false;
                return Ok(Some(batch));
            }
            if !self.follow {
                return Ok(None);
            }
            if !self.reported_caught_up {
                // One empty epoch tells that everything so far is committed.
                self.reported_caught_up = true;
                return Ok(Some(Vec::new()));
            }
            std::thread::sleep(std::time::Duration::from_millis(100));
        }
    }
}

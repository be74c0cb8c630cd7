//! The JSON-lines file source: one event per line, cut into epochs by size; used by the embedded default and backfills.

use std::fs::File;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};

use dataflows::event::EventKind;

use super::{RawMessage, Source};

/// Reads a JSON-lines file. Each line's sequence is its 0-based line number, so later lines win
/// among unversioned events of one identity.
pub struct FileSource {
    path: PathBuf,
    reader: BufReader<File>,
    kind: Option<EventKind>,
    epoch_events: usize,
    line: u64,
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
        })
    }
}

impl Source for FileSource {
    fn origin(&self) -> String {
        self.path.display().to_string()
    }

    fn next_epoch(&mut self) -> std::io::Result<Option<Vec<RawMessage>>> {
        if crate::shutdown::requested() {
            return Ok(None);
        }
        let mut batch = Vec::with_capacity(self.epoch_events.min(1 << 16));
        while batch.len() < self.epoch_events {
            let mut buf = Vec::new();
            if self.reader.read_until(b'\n', &mut buf)? == 0 {
                break;
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
        Ok((!batch.is_empty()).then_some(batch))
    }
}

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
    /// The line being read: between calls, a line read without its newline yet (the writer
    /// is mid-line).
    partial: Vec<u8>,
    at_end: bool,
    reported_caught_up: bool,
}

/// The line buffer is dropped after a line longer than this (1 MiB), not kept at its size.
const MAX_KEPT_LINE_BUFFER: usize = 1 << 20;

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
            let Some(line) = self.next_line()? else {
                self.at_end = true;
                break;
            };
            let seq = self.line;
            self.line += 1;
            if let Some(payload) = line {
                batch.push(RawMessage {
                    kind: self.kind,
                    key: None,
                    payload: Some(payload),
                    seq,
                    partition: 0,
                    topic: None,
                });
            }
        }
        Ok(batch)
    }

    /// The next complete line, its end (`\n`, `\r`) stripped and copied out at its exact size
    /// (`Some(None)` for a blank line); `None` at the end of the file, where a last line without
    /// its newline counts as complete unless the file is followed (the writer may be mid-line).
    /// The newline is found with the `memchr` crate's vectorised search in the reader's own
    /// buffer, and a line that lies whole in that buffer is copied once, straight out of it;
    /// only a line cut by the buffer's end is gathered in `partial`.
    fn next_line(&mut self) -> std::io::Result<Option<Option<Vec<u8>>>> {
        loop {
            let buf = self.reader.fill_buf()?;
            if buf.is_empty() {
                if self.follow || self.partial.is_empty() {
                    return Ok(None);
                }
                let line = std::mem::take(&mut self.partial);
                return Ok(Some(payload_of(&line)));
            }
            match memchr::memchr(b'\n', buf) {
                Some(at) => {
                    let line = if self.partial.is_empty() {
                        payload_of(&buf[..at])
                    } else {
                        self.partial.extend_from_slice(&buf[..at]);
                        let line = payload_of(&self.partial);
                        self.partial.clear();
                        if self.partial.capacity() > MAX_KEPT_LINE_BUFFER {
                            self.partial = Vec::new();
                        }
                        line
                    };
                    self.reader.consume(at + 1);
                    return Ok(Some(line));
                }
                None => {
                    let n = buf.len();
                    self.partial.extend_from_slice(buf);
                    self.reader.consume(n);
                }
            }
        }
    }
}

/// A line's payload: its bytes without the line end, or `None` when it is blank.
fn payload_of(line: &[u8]) -> Option<Vec<u8>> {
    let mut end = line.len();
    while end > 0 && matches!(line[end - 1], b'\n' | b'\r') {
        end -= 1;
    }
    let line = &line[..end];
    (!line.iter().all(u8::is_ascii_whitespace)).then(|| line.to_vec())
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

#[cfg(test)]
mod tests {
    use super::*;

    fn payloads(batch: &[RawMessage]) -> Vec<(u64, String)> {
        batch
            .iter()
            .map(|m| {
                let p = m.payload.as_deref().unwrap_or_default();
                (m.seq, String::from_utf8_lossy(p).into_owned())
            })
            .collect()
    }

    /// Line ends are stripped, blank lines skipped (their line numbers still count), a last
    /// line without a newline is read, and epochs split at `epoch_events`.
    #[test]
    fn lines_become_messages_with_their_line_numbers() {
        let dir = std::env::temp_dir().join(format!("trendflow-file-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("dir");
        let path = dir.join("lines.jsonl");
        let long = "x".repeat(5000);
        std::fs::write(&path, format!("a\r\n\n  \n{long}\nb\nc")).expect("write");
        let mut source = FileSource::open(&path, None, 2).expect("open");
        let first = source.next_epoch().expect("read").expect("epoch");
        assert_eq!(payloads(&first), vec![(0, "a".into()), (3, long.clone())]);
        let second = source.next_epoch().expect("read").expect("epoch");
        assert_eq!(payloads(&second), vec![(4, "b".into()), (5, "c".into())]);
        assert!(source.next_epoch().expect("read").is_none());
        // Exact-size payloads: no capacity left over from reading.
        assert_eq!(first[1].payload.as_ref().map(Vec::capacity), Some(5000));
        std::fs::remove_dir_all(&dir).ok();
    }

    /// Lines cut by the reader's 1 MiB buffer, and one longer than the buffer, come out whole
    /// and in order, with their line numbers.
    #[test]
    fn lines_across_the_read_buffer_come_out_whole() {
        let dir = std::env::temp_dir().join(format!("trendflow-file-big-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("dir");
        let path = dir.join("big.jsonl");
        let mut text = String::new();
        let mut expected = Vec::new();
        for i in 0..3_000u64 {
            let line = match i {
                1_500 => "y".repeat(2_500_000),
                _ if i % 7 == 0 => String::new(),
                _ => format!("{i}:{}", "x".repeat((i as usize * 37) % 1_900)),
            };
            text.push_str(&line);
            text.push_str(if i % 2 == 0 { "\r\n" } else { "\n" });
            if !line.is_empty() {
                expected.push((i, line));
            }
        }
        std::fs::write(&path, &text).expect("write");
        let mut source = FileSource::open(&path, None, 1_000).expect("open");
        let mut got = Vec::new();
        while let Some(epoch) = source.next_epoch().expect("read") {
            got.extend(payloads(&epoch));
        }
        assert_eq!(got.len(), expected.len());
        assert!(got == expected, "a line differs");
        std::fs::remove_dir_all(&dir).ok();
    }

    /// Following a file: a line without its newline waits for the rest of it.
    #[test]
    fn an_unfinished_line_waits_for_its_newline() {
        use std::io::Write;
        let dir = std::env::temp_dir().join(format!("trendflow-follow-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("dir");
        let path = dir.join("follow.jsonl");
        std::fs::write(&path, "one\ntw").expect("write");
        let mut source = FileSource::open(&path, None, 10).expect("open").follow();
        assert_eq!(
            payloads(&source.read_batch().expect("read")),
            vec![(0, "one".into())]
        );
        assert!(source.read_batch().expect("read").is_empty());
        let mut f = std::fs::OpenOptions::new()
            .append(true)
            .open(&path)
            .expect("append");
        f.write_all(b"o\nthree\n").expect("write");
        f.flush().expect("flush");
        assert_eq!(
            payloads(&source.read_batch().expect("read")),
            vec![(1, "two".into()), (2, "three".into())]
        );
        std::fs::remove_dir_all(&dir).ok();
    }
}

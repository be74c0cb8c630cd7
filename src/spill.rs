//! The scratch file in which a worker's replace rule keeps the collector results it holds (a `BlobStore` on disk).

use std::fs::{File, OpenOptions};
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use dataflows::blobs::{BlobRef, BlobStore};

/// Appended bytes are written out in pieces of this size.
const FLUSH_BYTES: usize = 1 << 20;

/// An append-only scratch file. It is unlinked as soon as it is created, so its space goes back
/// when the process ends, however it ends (a restart replays its input and writes a new one).
/// Appends are buffered and written 1 MiB at a time; reads of what is not written yet come
/// from the buffer. The page cache, not the process, holds what is read often.
pub struct FileBlobs {
    file: File,
    path: PathBuf,
    pending: Vec<u8>,
    written: u64,
}

impl FileBlobs {
    /// Creates the scratch file `<dir>/<name>-<pid>-<n>.blobs` (and `dir`), then unlinks it.
    /// The name is new to this process and the file must not exist: two stores never share one.
    pub fn create(dir: &Path, name: &str) -> std::io::Result<FileBlobs> {
        static CREATED: AtomicU64 = AtomicU64::new(0);
        std::fs::create_dir_all(dir)?;
        let n = CREATED.fetch_add(1, Ordering::Relaxed);
        let path = dir.join(format!("{name}-{}-{n}.blobs", std::process::id()));
        let file = OpenOptions::new()
            .read(true)
            .write(true)
            .create_new(true)
            .open(&path)?;
        if let Err(e) = std::fs::remove_file(&path) {
            drop(file);
            let _ = std::fs::remove_file(&path);
            return Err(e);
        }
        Ok(FileBlobs {
            file,
            path,
            pending: Vec::with_capacity(FLUSH_BYTES),
            written: 0,
        })
    }

    fn flush(&mut self) {
        if let Err(e) = self.file.write_all_at(&self.pending, self.written) {
            panic!(
                "answer store {}: writing {} bytes at {}: {e}",
                self.path.display(),
                self.pending.len(),
                self.written
            );
        }
        self.written += self.pending.len() as u64;
        self.pending.clear();
    }
}

impl BlobStore for FileBlobs {
    fn put(&mut self, bytes: &[u8]) -> BlobRef {
        let offset = self.written + self.pending.len() as u64;
        let len = u32::try_from(bytes.len()).expect("a blob is under 4 GiB");
        self.pending.extend_from_slice(bytes);
        if self.pending.len() >= FLUSH_BYTES {
            self.flush();
        }
        BlobRef::new(offset, len)
    }

    fn put_with(&mut self, write: &mut dyn FnMut(&mut Vec<u8>)) -> BlobRef {
        let offset = self.written + self.pending.len() as u64;
        let start = self.pending.len();
        write(&mut self.pending);
        let len = u32::try_from(self.pending.len() - start).expect("a blob is under 4 GiB");
        if self.pending.len() >= FLUSH_BYTES {
            self.flush();
        }
        BlobRef::new(offset, len)
    }

    fn get(&mut self, blob: BlobRef, out: &mut Vec<u8>) {
        out.clear();
        let offset = blob.offset();
        // A blob is written out whole (the buffer is flushed only between appends).
        if offset >= self.written {
            let at = (offset - self.written) as usize;
            out.extend_from_slice(&self.pending[at..at + blob.len()]);
            return;
        }
        out.resize(blob.len(), 0);
        if let Err(e) = self.file.read_exact_at(out, offset) {
            panic!(
                "answer store {}: reading {} bytes at {offset}: {e}",
                self.path.display(),
                blob.len()
            );
        }
    }

    fn stored_bytes(&self) -> u64 {
        self.written + self.pending.len() as u64
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blobs_read_back_from_the_buffer_and_the_file_and_leave_no_file() {
        let dir = std::env::temp_dir().join(format!("trendflow-spill-test-{}", std::process::id()));
        let mut store = FileBlobs::create(&dir, "w0").expect("create");
        let mut other = FileBlobs::create(&dir, "w0").expect("a second store of the same name");
        other.put(b"not in the first store");
        other.flush();
        let blobs: Vec<Vec<u8>> = (0..3_000u32)
            .map(|i| (0..(i % 997)).map(|j| (i ^ j) as u8).collect())
            .collect();
        // Both ways in: copied, and written into the store's buffer.
        let refs: Vec<BlobRef> = blobs
            .iter()
            .enumerate()
            .map(|(i, b)| match i % 2 {
                0 => store.put(b),
                _ => store.put_with(&mut |out| out.extend_from_slice(b)),
            })
            .collect();
        assert!(
            store.written > 0 && !store.pending.is_empty(),
            "both places hold blobs"
        );
        let mut out = Vec::new();
        for (r, b) in refs.iter().zip(&blobs).rev() {
            store.get(*r, &mut out);
            assert_eq!(&out, b);
        }
        assert_eq!(
            store.stored_bytes(),
            blobs.iter().map(|b| b.len() as u64).sum::<u64>()
        );
        assert_eq!(std::fs::read_dir(&dir).expect("dir").count(), 0, "unlinked");
        std::fs::remove_dir(&dir).expect("empty dir");
    }
}

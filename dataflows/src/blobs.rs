//! Where the replace rule keeps the payloads it holds: serialized into an append-only blob store (in memory here; the service adds a scratch file).

use serde::de::DeserializeOwned;
use serde::Serialize;

/// A payload's place in a [`BlobStore`]: its offset and length, in 12 bytes without padding
/// (the replace rule keeps one per record it holds).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct BlobRef {
    offset_hi: u32,
    offset_lo: u32,
    len: u32,
}

impl BlobRef {
    pub fn new(offset: u64, len: u32) -> BlobRef {
        BlobRef {
            offset_hi: (offset >> 32) as u32,
            offset_lo: offset as u32,
            len,
        }
    }

    pub fn offset(self) -> u64 {
        (u64::from(self.offset_hi) << 32) | u64::from(self.offset_lo)
    }

    pub fn len(self) -> usize {
        self.len as usize
    }

    pub fn is_empty(self) -> bool {
        self.len == 0
    }
}

/// Append-only storage of byte strings, one per worker and operator. Writes are one per record
/// received; reads are rarer: a payload is read back when its record is replaced, deleted or
/// becomes current again, and to compare it with a duplicate delivery or a retraction of the
/// same record. Nothing is ever removed: the store grows with every record received, as the
/// replace rule's state did when it held the payloads itself. A store that cannot do its job
/// (a full disk) panics with the reason: the worker stops, nothing of the epoch is committed,
/// and a restart replays it.
pub trait BlobStore: Send + 'static {
    /// Appends `bytes` and returns where they are.
    fn put(&mut self, bytes: &[u8]) -> BlobRef;
    /// Appends what `write` appends to the vector it is given (a store with a write buffer
    /// lends it: no copy), and returns where it is.
    fn put_with(&mut self, write: &mut dyn FnMut(&mut Vec<u8>)) -> BlobRef {
        let mut bytes = Vec::new();
        write(&mut bytes);
        self.put(&bytes)
    }
    /// Replaces `out`'s contents with the bytes stored at `blob`.
    fn get(&mut self, blob: BlobRef, out: &mut Vec<u8>);
    /// Bytes appended so far.
    fn stored_bytes(&self) -> u64;
}

/// Chunks of this size hold the blobs of a [`MemBlobs`] (a blob larger gets a chunk of its own).
const CHUNK: usize = 1 << 20;

/// A [`BlobStore`] in memory: blobs appended to chunks of 1 MiB, never moved (no vector
/// doubling and copying as the store grows).
#[derive(Debug, Default)]
pub struct MemBlobs {
    chunks: Vec<Vec<u8>>,
    stored: u64,
    /// `put_with` writes here, then copies into a chunk (a chunk is never reallocated).
    scratch: Vec<u8>,
}

impl BlobStore for MemBlobs {
    fn put(&mut self, bytes: &[u8]) -> BlobRef {
        let fits = self
            .chunks
            .last()
            .is_some_and(|c| c.capacity() - c.len() >= bytes.len());
        if !fits {
            self.chunks.push(Vec::with_capacity(CHUNK.max(bytes.len())));
        }
        let index = self.chunks.len() - 1;
        let chunk = &mut self.chunks[index];
        let at = chunk.len();
        chunk.extend_from_slice(bytes);
        self.stored += bytes.len() as u64;
        let len = u32::try_from(bytes.len()).expect("a blob is under 4 GiB");
        BlobRef::new(((index as u64) << 32) | at as u64, len)
    }

    fn put_with(&mut self, write: &mut dyn FnMut(&mut Vec<u8>)) -> BlobRef {
        let mut scratch = std::mem::take(&mut self.scratch);
        scratch.clear();
        write(&mut scratch);
        let blob = self.put(&scratch);
        self.scratch = scratch;
        blob
    }

    fn get(&mut self, blob: BlobRef, out: &mut Vec<u8>) {
        let (index, at) = (
            (blob.offset() >> 32) as usize,
            blob.offset() as u32 as usize,
        );
        out.clear();
        out.extend_from_slice(&self.chunks[index][at..at + blob.len()]);
    }

    fn stored_bytes(&self) -> u64 {
        self.stored
    }
}

/// One store shared by the operators of a worker (the collector results' and the articles'
/// replace rules append to the same scratch file). The lock is never contended: a worker's
/// operators run on its one thread.
#[derive(Clone)]
pub struct SharedBlobs(std::sync::Arc<std::sync::Mutex<Box<dyn BlobStore>>>);

impl SharedBlobs {
    pub fn new(store: Box<dyn BlobStore>) -> SharedBlobs {
        SharedBlobs(std::sync::Arc::new(std::sync::Mutex::new(store)))
    }

    fn store(&self) -> std::sync::MutexGuard<'_, Box<dyn BlobStore>> {
        // A panic while a store was held stops the worker (see `BlobStore`): nothing of the
        // epoch is committed, so the store is not used again.
        self.0
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

impl BlobStore for SharedBlobs {
    fn put(&mut self, bytes: &[u8]) -> BlobRef {
        self.store().put(bytes)
    }

    fn put_with(&mut self, write: &mut dyn FnMut(&mut Vec<u8>)) -> BlobRef {
        self.store().put_with(write)
    }

    fn get(&mut self, blob: BlobRef, out: &mut Vec<u8>) {
        self.store().get(blob, out)
    }

    fn stored_bytes(&self) -> u64 {
        self.store().stored_bytes()
    }
}

/// Payloads kept serialized (bincode, variable-length integers: compact and lossless, so a
/// payload read back equals the one stored) in a [`BlobStore`].
pub struct Serialized {
    blobs: Box<dyn BlobStore>,
    /// Payloads read back are decoded from here.
    buf: Vec<u8>,
}

fn options() -> impl bincode::Options {
    bincode::DefaultOptions::new()
}

impl Serialized {
    pub fn new(blobs: Box<dyn BlobStore>) -> Serialized {
        Serialized {
            blobs,
            buf: Vec::new(),
        }
    }

    /// Stores `payload`, returning where it is.
    pub fn keep<P: Serialize>(&mut self, payload: &P) -> BlobRef {
        use bincode::Options;
        self.blobs.put_with(&mut |out| {
            options()
                .serialize_into(&mut *out, payload)
                .expect("payloads serialize (plain data, no maps with non-string keys)")
        })
    }

    /// The payload stored at `blob`.
    pub fn load<P: DeserializeOwned>(&mut self, blob: BlobRef) -> P {
        use bincode::Options;
        self.blobs.get(blob, &mut self.buf);
        options()
            .deserialize(&self.buf)
            .expect("a stored payload reads back as the type it was stored as")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blobs_read_back_whole_across_chunks() {
        let mut store = MemBlobs::default();
        let big = vec![7u8; CHUNK + 5];
        let small: Vec<u8> = (0..200u8).collect();
        let refs: Vec<(BlobRef, Vec<u8>)> = [&small[..], &big[..], b"", &small[..10]]
            .iter()
            .cycle()
            .take(40)
            .enumerate()
            .map(|(i, b)| match i % 3 {
                0 => (store.put(b), b.to_vec()),
                _ => (
                    store.put_with(&mut |out| out.extend_from_slice(b)),
                    b.to_vec(),
                ),
            })
            .collect();
        let mut out = Vec::new();
        for (r, bytes) in refs.iter().rev() {
            store.get(*r, &mut out);
            assert_eq!(&out, bytes);
        }
        assert_eq!(
            store.stored_bytes(),
            refs.iter().map(|(_, b)| b.len() as u64).sum::<u64>()
        );
    }

    #[test]
    fn shared_stores_are_one_store() {
        let mut a = SharedBlobs::new(Box::new(MemBlobs::default()));
        let mut b = a.clone();
        let (x, y) = (a.put(b"first"), b.put(b"second"));
        assert_ne!(x.offset(), y.offset());
        let mut out = Vec::new();
        a.get(y, &mut out);
        assert_eq!(out, b"second");
        b.get(x, &mut out);
        assert_eq!(out, b"first");
        assert_eq!(a.stored_bytes(), 11);
    }

    #[test]
    fn offsets_beyond_four_gib_survive_the_split() {
        let r = BlobRef::new((5 << 32) + 17, 9);
        assert_eq!((r.offset(), r.len()), ((5 << 32) + 17, 9));
        assert_eq!(std::mem::size_of::<BlobRef>(), 12);
    }
}

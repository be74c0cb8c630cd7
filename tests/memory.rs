//! The allocator gives an idle thread's free memory back to the OS (its own test binary: it reads the process's resident memory, which tests running beside it would disturb).

use trendflow::memory::release_free_memory;

/// Resident memory of this process, in bytes (Linux).
fn resident() -> u64 {
    let statm = std::fs::read_to_string("/proc/self/statm").expect("read /proc/self/statm");
    let pages: u64 = statm
        .split_whitespace()
        .nth(1)
        .and_then(|p| p.parse().ok())
        .expect("resident pages in /proc/self/statm");
    pages * 4096
}

const MB: u64 = 1 << 20;

/// The tests of this binary one at a time: each reads the resident memory of the process.
static ALONE: std::sync::Mutex<()> = std::sync::Mutex::new(());

/// A thread that frees what it allocated and goes idle holds no more than before.
#[test]
fn an_idle_thread_gives_its_free_memory_back() {
    let _alone = ALONE
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    std::thread::spawn(|| {
        let before = resident();
        let blocks: Vec<Box<[u8; 96]>> =
            (0..2_000_000u32).map(|i| Box::new([i as u8; 96])).collect();
        let held = resident();
        drop(blocks);
        release_free_memory();
        let after = resident();
        assert!(
            held > after + 150 * MB,
            "{before} → {held} → {after} bytes: the release gave back too little"
        );
        assert!(
            after < before + 30 * MB,
            "{before} → {held} → {after} bytes after release"
        );
    })
    .join()
    .expect("the allocating thread");
}

/// Memory that one thread allocated and another freed stays resident while both idle, and
/// comes back when the allocating thread releases: why the engine, once it has freed a
/// snapshot whose rows the workers built, asks the idle workers to release
/// (`engine::WorkerInput::Release`).
#[test]
fn memory_freed_elsewhere_comes_back_when_its_allocating_thread_releases() {
    let _alone = ALONE
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    let (blocks_tx, blocks_rx) = std::sync::mpsc::channel();
    let (release_tx, release_rx) = std::sync::mpsc::channel::<()>();
    let (done_tx, done_rx) = std::sync::mpsc::channel::<()>();
    let allocator = std::thread::spawn(move || {
        let blocks: Vec<Box<[u8; 96]>> =
            (0..2_000_000u32).map(|i| Box::new([i as u8; 96])).collect();
        blocks_tx.send(blocks).expect("send the blocks");
        // Idle until asked, as a worker waits for its next input; then idle again (a thread
        // that ends gives its memory back anyway).
        release_rx.recv().expect("asked to release");
        release_free_memory();
        done_tx.send(()).expect("released");
        let _ = release_rx.recv();
    });
    let blocks = blocks_rx.recv().expect("the blocks");
    let held = resident();
    drop(blocks);
    std::thread::sleep(std::time::Duration::from_millis(300));
    let idle = resident();
    release_tx.send(()).expect("ask to release");
    done_rx.recv().expect("the allocating thread released");
    let after = resident();
    drop(release_tx);
    allocator.join().expect("the allocating thread");
    assert!(
        idle + 50 * MB > held,
        "{held} → {idle} bytes: freed memory was expected to stay resident until a release"
    );
    assert!(
        idle > after + 150 * MB,
        "{held} → {idle} → {after} bytes: the allocating thread's release gave back too little"
    );
}

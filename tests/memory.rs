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

/// A thread that frees what it allocated and goes idle holds no more than before.
#[test]
fn an_idle_thread_gives_its_free_memory_back() {
    const MB: u64 = 1 << 20;
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

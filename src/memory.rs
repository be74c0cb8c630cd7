//! The process allocator (mimalloc), and giving back to the OS the memory it holds free when a thread goes idle.

/// The allocator of every trendflow binary, test and bench: the workload is millions of small
/// strings allocated on one worker thread and freed on another, where glibc's malloc spends a
/// fifth of the time (`malloc_consolidate`, `unlink_chunk` in the cold-load profile).
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// Returns to the OS the memory that the calling thread's allocator heap holds free.
///
/// mimalloc gives freed pages back lazily, during later allocations of the same thread, so a
/// thread that goes idle after an epoch would keep that epoch's garbage resident for as long as
/// it stays idle. The engine calls this on a worker that has no epoch queued and on the source
/// thread after each epoch it hands over (the workers free what it read). Not on the thread
/// that assembles snapshots: there a collection slowed a cold load by 4% (README, Benchmarks).
pub fn release_free_memory() {
    // SAFETY: `mi_collect` takes no pointer and has no precondition: it frees nothing that is
    // in use, only returns the calling thread's free pages (and, forced, pending purges) to
    // the OS.
    #[allow(unsafe_code)]
    unsafe {
        libmimalloc_sys::mi_collect(true)
    };
}

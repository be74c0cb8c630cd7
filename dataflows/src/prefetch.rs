//! A hint to the CPU to start loading a cache line early: the crate's one use of `unsafe`.

/// Starts loading the cache line that holds `v[i]` into L1, without waiting for it. `i` may be
/// out of bounds (nothing is read then, and nothing happens on targets other than x86-64).
#[inline(always)]
pub fn prefetch<T>(v: &[T], i: usize) {
    #[cfg(target_arch = "x86_64")]
    if i < v.len() {
        let p = v.as_ptr().wrapping_add(i).cast::<i8>();
        // SAFETY: `_mm_prefetch` only hints the cache: it never faults and changes no memory,
        // and SSE, its target feature, is part of every x86-64 CPU.
        #[allow(unsafe_code)]
        unsafe {
            core::arch::x86_64::_mm_prefetch::<{ core::arch::x86_64::_MM_HINT_T0 }>(p)
        };
    }
    #[cfg(not(target_arch = "x86_64"))]
    let _ = (v, i);
}

#[cfg(test)]
mod tests {
    use super::prefetch;

    /// A hint past the end, or into an empty slice, reads nothing.
    #[test]
    fn any_index_is_safe() {
        let v = vec![1u64; 3];
        for i in [0, 2, 3, usize::MAX] {
            prefetch(&v, i);
        }
        prefetch::<u8>(&[], 0);
        assert_eq!(v, [1, 1, 1]);
    }
}

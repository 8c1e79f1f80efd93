//! CPU hints shared by the hot paths of the pure core (`flow`, `detect`). Depends on nothing.

/// Start loading `v`'s cache line, for data the caller will touch a little later, so the wait
/// for memory overlaps other work. Does nothing where no hint is available.
#[inline]
pub(crate) fn prefetch<T>(v: &T) {
    prefetch_byte((v as *const T).cast::<u8>());
}

/// [`prefetch`] every cache line `v` spans: a value larger than a line, or one that straddles
/// two.
#[inline]
pub(crate) fn prefetch_lines<T>(v: &T) {
    let start = (v as *const T).cast::<u8>();
    let size = std::mem::size_of::<T>();
    let mut off = 0;
    while off < size {
        prefetch_byte(start.wrapping_add(off));
        off += 64;
    }
    if size > 0 {
        prefetch_byte(start.wrapping_add(size - 1));
    }
}

/// Start loading the cache line holding the byte at `p`.
#[inline]
fn prefetch_byte(p: *const u8) {
    #[cfg(target_arch = "x86_64")]
    // SAFETY: a prefetch is only a hint: it never faults, reads nothing into the program and
    // writes nothing, whatever the address; callers pass addresses within live values anyway.
    // SSE is part of the x86_64 baseline.
    unsafe {
        use std::arch::x86_64::{_MM_HINT_T0, _mm_prefetch};
        _mm_prefetch::<_MM_HINT_T0>(p.cast::<i8>());
    }
    #[cfg(not(target_arch = "x86_64"))]
    let _ = p;
}

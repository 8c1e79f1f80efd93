//! CPU hints shared by the hot paths of the pure core (`flow`, `detect`). Depends on nothing.

/// Start loading `v`'s cache line, for data the caller will touch a little later, so the wait
/// for memory overlaps other work. Does nothing where no hint is available.
#[inline]
pub(crate) fn prefetch<T>(v: &T) {
    #[cfg(target_arch = "x86_64")]
    // SAFETY: a prefetch is only a hint: it never faults, reads nothing into the program and
    // writes nothing; the pointer comes from a live reference anyway. SSE is part of the
    // x86_64 baseline.
    unsafe {
        use std::arch::x86_64::{_MM_HINT_T0, _mm_prefetch};
        _mm_prefetch::<_MM_HINT_T0>((v as *const T).cast::<i8>());
    }
    #[cfg(not(target_arch = "x86_64"))]
    let _ = v;
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

#[inline]
fn prefetch_byte(p: *const u8) {
    #[cfg(target_arch = "x86_64")]
    // SAFETY: as in `prefetch`: a prefetch never faults and reads nothing into the program;
    // `p` lies within (or one line past the start of) a live value anyway.
    unsafe {
        use std::arch::x86_64::{_MM_HINT_T0, _mm_prefetch};
        _mm_prefetch::<_MM_HINT_T0>(p.cast::<i8>());
    }
    #[cfg(not(target_arch = "x86_64"))]
    let _ = p;
}

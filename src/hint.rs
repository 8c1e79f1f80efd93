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

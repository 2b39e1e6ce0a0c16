//! A counting global allocator: the live heap bytes of the process, their peak since the last
//! reset, and a hard cap past which an allocation fails (so that a run that would eat the
//! machine's memory aborts instead, and the parent reports it).

use std::alloc::{GlobalAlloc, Layout, System};
use std::io::Write as _;
use std::sync::atomic::{AtomicUsize, Ordering};

static LIVE_BYTES: AtomicUsize = AtomicUsize::new(0);
static PEAK_BYTES: AtomicUsize = AtomicUsize::new(0);
/// 0: no cap.
static CAP_BYTES: AtomicUsize = AtomicUsize::new(0);

/// The system allocator, counted.
pub struct Counting;

impl Counting {
    fn grow(&self, bytes: usize) -> bool {
        let live = LIVE_BYTES.fetch_add(bytes, Ordering::Relaxed) + bytes;
        let cap = CAP_BYTES.load(Ordering::Relaxed);
        if cap != 0 && live > cap {
            LIVE_BYTES.fetch_sub(bytes, Ordering::Relaxed);
            // Unbuffered and without allocating: the parent finds this line in our stderr.
            let _ = std::io::stderr().write_all(b"capsim-fuzz: memory cap reached\n");
            return false;
        }
        PEAK_BYTES.fetch_max(live, Ordering::Relaxed);
        true
    }
}

// SAFETY: every call is forwarded to `System` with the same layout; the counters only watch.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        if !self.grow(layout.size()) {
            return std::ptr::null_mut();
        }
        // SAFETY: the caller's layout, as `GlobalAlloc::alloc` requires.
        unsafe { System.alloc(layout) }
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        if !self.grow(layout.size()) {
            return std::ptr::null_mut();
        }
        // SAFETY: as `alloc`.
        unsafe { System.alloc_zeroed(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        LIVE_BYTES.fetch_sub(layout.size(), Ordering::Relaxed);
        // SAFETY: `ptr` came from `System` with this layout.
        unsafe { System.dealloc(ptr, layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        let old = layout.size();
        if new_size > old && !self.grow(new_size - old) {
            return std::ptr::null_mut();
        }
        // SAFETY: `ptr` came from `System` with `layout`, as `GlobalAlloc::realloc` requires.
        let moved = unsafe { System.realloc(ptr, layout, new_size) };
        if moved.is_null() {
            if new_size > old {
                LIVE_BYTES.fetch_sub(new_size - old, Ordering::Relaxed);
            }
        } else if new_size < old {
            LIVE_BYTES.fetch_sub(old - new_size, Ordering::Relaxed);
        }
        moved
    }
}

/// Fails every allocation that would take the live heap past `bytes`.
pub fn set_cap_bytes(bytes: usize) {
    CAP_BYTES.store(bytes, Ordering::Relaxed);
}

/// Starts a new peak from the live bytes now; returns them.
pub fn reset_peak() -> usize {
    let live = LIVE_BYTES.load(Ordering::Relaxed);
    PEAK_BYTES.store(live, Ordering::Relaxed);
    live
}

/// The largest live heap since the last `reset_peak`.
pub fn peak_bytes() -> usize {
    PEAK_BYTES.load(Ordering::Relaxed)
}

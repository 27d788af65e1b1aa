//! Gives the memory that the process has freed back to the operating system.
//!
//! glibc's allocator returns freed memory to the kernel only from the top of each arena.
//! A node serves every request on a few threads, each with its own arena, and a request
//! that builds a large reply (a KPI report over a growing month) leaves holes below live
//! data that stay resident: the soak measured a live heap of 39 MB in an RSS of 130 MB and
//! growing. `malloc_trim` walks every arena and hands the free pages back.
//!
//! Each pass also reports what the heap holds (`axle_heap_bytes`, `axle_sqlite_heap_bytes`),
//! so a growing RSS can be told apart: live data, free holes, or SQLite's caches.

use std::time::Duration;

/// Hands the free pages of every allocator arena back to the kernel, every `interval`.
/// Does nothing where the allocator is not glibc's.
pub async fn run_trim(interval: Duration) {
    let mut timer = tokio::time::interval(interval);
    timer.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        timer.tick().await;
        // It holds each arena's lock while it walks it: off the async threads.
        if let Ok(Some((in_use, free))) = tokio::task::spawn_blocking(trim).await {
            crate::telemetry::metrics::heap(in_use, free);
        }
        crate::telemetry::metrics::sqlite_heap(crate::db::sqlite_heap_bytes());
    }
}

/// Trims, then returns the bytes allocated and the bytes held free.
#[cfg(all(target_os = "linux", target_env = "gnu"))]
fn trim() -> Option<(u64, u64)> {
    // SAFETY: malloc_trim and mallinfo2 take no pointers and are thread-safe; 0 keeps no
    // padding.
    let info = unsafe {
        libc::malloc_trim(0);
        libc::mallinfo2()
    };
    // uordblks: in use in the arenas; hblkhd: large blocks mmapped on their own.
    Some(((info.uordblks + info.hblkhd) as u64, info.fordblks as u64))
}

#[cfg(not(all(target_os = "linux", target_env = "gnu")))]
fn trim() -> Option<(u64, u64)> {
    None
}

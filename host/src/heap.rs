//! Gives the memory that the process has freed back to the operating system.
//!
//! glibc's allocator returns freed memory to the kernel only from the top of each arena.
//! A node serves every request on a few threads, each with its own arena, and a request
//! that builds a large reply (a KPI report over a growing month) leaves holes below live
//! data that stay resident: the soak measured a live heap of 39 MB in an RSS of 130 MB and
//! growing. `malloc_trim` walks every arena and hands the free pages back.

use std::time::Duration;

/// Hands the free pages of every allocator arena back to the kernel, every `interval`.
/// Does nothing where the allocator is not glibc's.
pub async fn run_trim(interval: Duration) {
    let mut timer = tokio::time::interval(interval);
    timer.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        timer.tick().await;
        // It holds each arena's lock while it walks it: off the async threads.
        let _ = tokio::task::spawn_blocking(trim).await;
    }
}

#[cfg(all(target_os = "linux", target_env = "gnu"))]
fn trim() {
    // SAFETY: malloc_trim takes no pointers and is thread-safe; 0 keeps no padding.
    unsafe {
        libc::malloc_trim(0);
    }
}

#[cfg(not(all(target_os = "linux", target_env = "gnu")))]
fn trim() {}

//! Progress for long steps: a spinner with the elapsed time on a terminal, one line
//! otherwise (logs and CI keep a readable record), and byte counts for uploads.

use std::io::{IsTerminal, Write};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

/// A step in progress, shown on stderr until [`Step::done`] or drop.
pub struct Step {
    label: String,
    started: Instant,
    stop: Arc<AtomicBool>,
    spinner: Option<std::thread::JoinHandle<()>>,
}

impl Step {
    /// Starts showing `label`.
    pub fn start(label: impl Into<String>) -> Step {
        Step::with_counter(label, None)
    }

    /// Starts showing `label` followed by `sent` of `total` bytes, updated as `sent` grows.
    pub fn bytes(label: impl Into<String>, sent: Arc<AtomicU64>, total: u64) -> Step {
        Step::with_counter(label, Some((sent, total)))
    }

    fn with_counter(label: impl Into<String>, counter: Option<(Arc<AtomicU64>, u64)>) -> Step {
        let label = label.into();
        let stop = Arc::new(AtomicBool::new(false));
        let started = Instant::now();
        let spinner = if std::io::stderr().is_terminal() {
            let (label, stop) = (label.clone(), stop.clone());
            Some(std::thread::spawn(move || {
                let frames = ['|', '/', '-', '\\'];
                let mut frame = 0;
                while !stop.load(Ordering::Relaxed) {
                    let bytes = counter
                        .as_ref()
                        .map(|(sent, total)| {
                            format!(" {} / {}", size(sent.load(Ordering::Relaxed)), size(*total))
                        })
                        .unwrap_or_default();
                    eprint!(
                        "\r{} {label}{bytes} ({:.1}s)\x1b[K",
                        frames[frame % frames.len()],
                        started.elapsed().as_secs_f64()
                    );
                    let _ = std::io::stderr().flush();
                    frame += 1;
                    std::thread::sleep(Duration::from_millis(100));
                }
            }))
        } else {
            eprintln!("{label} …");
            None
        };
        Step {
            label,
            started,
            stop,
            spinner,
        }
    }

    /// Ends the step with `outcome` ("done", "failed", …) and its duration.
    pub fn done(mut self, outcome: &str) {
        self.finish(outcome);
    }

    fn finish(&mut self, outcome: &str) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(spinner) = self.spinner.take() {
            let _ = spinner.join();
            eprintln!(
                "\r  {} {outcome} ({:.1}s)\x1b[K",
                self.label,
                self.started.elapsed().as_secs_f64()
            );
        }
    }
}

impl Drop for Step {
    fn drop(&mut self) {
        if self.spinner.is_some() {
            self.finish("stopped");
        }
    }
}

/// `bytes` in B, KiB or MiB.
pub fn size(bytes: u64) -> String {
    match bytes {
        0..1024 => format!("{bytes} B"),
        1024..1_048_576 => format!("{:.1} KiB", bytes as f64 / 1024.0),
        _ => format!("{:.1} MiB", bytes as f64 / 1_048_576.0),
    }
}

#[cfg(test)]
mod tests {
    use super::size;

    #[test]
    fn sizes_use_the_largest_fitting_unit() {
        assert_eq!(size(512), "512 B");
        assert_eq!(size(68 * 1024), "68.0 KiB");
        assert_eq!(size(3 * 1_048_576 + 524_288), "3.5 MiB");
    }
}

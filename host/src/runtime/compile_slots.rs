//! Compiling behind the node's compile slots, with a timeout.
//!
//! A compile runs on a thread of its own that holds one slot until the compile ends. The
//! caller waits at most the timeout, for a slot and then for the compile; past it the
//! component is refused, and the thread finishes on its own. So however slow a component
//! is to compile, and however many are uploaded at once, compiles never take more cores
//! than there are slots (the engine compiles each on one thread), and the rest of the
//! node keeps serving.

use std::sync::{Arc, Condvar, Mutex, PoisonError};
use std::time::{Duration, Instant};

use wasmtime::Engine;
use wasmtime::component::Component;

use super::ComponentError;

#[derive(Clone)]
pub(super) struct CompileSlots {
    free: Arc<(Mutex<usize>, Condvar)>,
    timeout: Duration,
}

impl CompileSlots {
    pub(super) fn new(slots: usize, timeout: Duration) -> CompileSlots {
        CompileSlots {
            free: Arc::new((Mutex::new(slots.max(1)), Condvar::new())),
            timeout,
        }
    }

    /// Compiles `bytes` with `engine`, or says why not within the timeout.
    pub(super) fn compile(
        &self,
        engine: &Engine,
        bytes: &[u8],
    ) -> Result<Component, ComponentError> {
        let started = Instant::now();
        self.take(started)?;
        let (sender, receiver) = std::sync::mpsc::sync_channel(1);
        let (engine, bytes, slots) = (engine.clone(), bytes.to_vec(), self.clone());
        let spawned = std::thread::Builder::new()
            .name("axle-compile".to_owned())
            .spawn(move || {
                let compiled = Component::new(&engine, &bytes);
                slots.give_back();
                let _ = sender.send(compiled);
            });
        if let Err(err) = spawned {
            self.give_back();
            return Err(ComponentError::Invalid(format!(
                "could not start compiling: {err}"
            )));
        }
        let left = self.timeout.saturating_sub(started.elapsed());
        match receiver.recv_timeout(left) {
            Ok(compiled) => compiled.map_err(|err| ComponentError::Invalid(format!("{err:#}"))),
            Err(_) => Err(ComponentError::CompileTimeout(self.timeout)),
        }
    }

    /// Takes a slot, waiting until the timeout counted from `started`.
    fn take(&self, started: Instant) -> Result<(), ComponentError> {
        let (free, freed) = &*self.free;
        let mut free = free.lock().unwrap_or_else(PoisonError::into_inner);
        while *free == 0 {
            let left = self.timeout.saturating_sub(started.elapsed());
            if left.is_zero() {
                return Err(ComponentError::CompileBusy(self.timeout));
            }
            free = freed
                .wait_timeout(free, left)
                .unwrap_or_else(PoisonError::into_inner)
                .0;
        }
        *free -= 1;
        Ok(())
    }

    fn give_back(&self) {
        let (free, freed) = &*self.free;
        *free.lock().unwrap_or_else(PoisonError::into_inner) += 1;
        freed.notify_one();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_compile_waits_for_a_free_slot_only_until_the_timeout() {
        let slots = CompileSlots::new(1, Duration::from_millis(50));
        slots.take(Instant::now()).unwrap();
        let engine = Engine::default();

        let busy = slots.compile(&engine, b"\0asm\x0d\0\x01\0").unwrap_err();

        assert!(matches!(busy, ComponentError::CompileBusy(_)), "{busy}");
        assert!(busy.to_string().contains("nothing was stored"), "{busy}");
        slots.give_back();
        let invalid = slots
            .compile(&engine, b"\0asm\x0d\0\x01\0\xff")
            .unwrap_err();
        assert!(matches!(invalid, ComponentError::Invalid(_)), "{invalid}");
    }
}

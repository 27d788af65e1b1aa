//! WASI sleeps end at the call's deadline.
//!
//! The deadline is an epoch interrupt, which stops running wasm but not a host call: a
//! guest that sleeps through `wasi:clocks` and `wasi:io/poll` would hold its thread and
//! instance for as long as it asked. So the monotonic clock's `subscribe-duration` and
//! `subscribe-instant` are replaced by ones whose pollable is ready at the requested time
//! or at the call's deadline, whichever comes first, and `wasi:io/poll`'s `poll` and
//! `pollable.block` by ones that end the call as a timeout when they return past the
//! deadline. (Back in wasm the epoch interrupt would meet the guest only at its next loop
//! or call, and a guest inlined into one straight path may have none left.) A clock
//! subscription made after the deadline ends the call the same way. Nothing else in
//! the sandbox's WASI can block: stdin is empty, stdout and stderr discard, and there is
//! no network, name lookup or file.
//!
//! The clock's `now` is replaced as well, so that the instants a guest computes from it
//! and the instants it sleeps until are on one clock.

use std::time::Duration;

use wasmtime::StoreContextMut;
use wasmtime::component::{Linker, Resource};
use wasmtime_wasi::p2::DynPollable;
use wasmtime_wasi::runtime::in_tokio;
use wasmtime_wasi_io::bindings::wasi::io::poll;

use super::sandbox::Sandbox;

/// The interfaces as wasmtime-wasi registers them; components importing an older 0.2.x are
/// linked to them by semver.
const MONOTONIC_CLOCK: &str = "wasi:clocks/monotonic-clock@0.2.12";
const POLL: &str = "wasi:io/poll@0.2.12";

/// The error a clock call made after the deadline ends the call with; classified as a
/// timeout, like the epoch interrupt.
#[derive(Debug)]
pub(super) struct DeadlinePassed;

impl std::fmt::Display for DeadlinePassed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("the call's deadline passed while it waited on the clock")
    }
}

impl std::error::Error for DeadlinePassed {}

/// A pollable ready at a point in time.
pub(super) struct Alarm(pub tokio::time::Instant);

#[wasmtime_wasi::async_trait]
impl wasmtime_wasi::p2::Pollable for Alarm {
    async fn ready(&mut self) {
        tokio::time::sleep_until(self.0).await;
    }
}

/// Replaces the clock functions wasmtime-wasi added to `linker` (call after it).
pub fn add_to_linker(linker: &mut Linker<Sandbox>) -> wasmtime::Result<()> {
    linker.allow_shadowing(true);
    let mut clock = linker.instance(MONOTONIC_CLOCK)?;
    clock.func_wrap("now", |store: StoreContextMut<'_, Sandbox>, (): ()| {
        Ok((store.data().clock_nanos(),))
    })?;
    clock.func_wrap(
        "subscribe-duration",
        |mut store: StoreContextMut<'_, Sandbox>,
         (nanos,): (u64,)|
         -> wasmtime::Result<(Resource<DynPollable>,)> {
            Ok((store.data_mut().alarm(Duration::from_nanos(nanos))?,))
        },
    )?;
    clock.func_wrap(
        "subscribe-instant",
        |mut store: StoreContextMut<'_, Sandbox>,
         (when,): (u64,)|
         -> wasmtime::Result<(Resource<DynPollable>,)> {
            let sandbox = store.data_mut();
            let wait = Duration::from_nanos(when.saturating_sub(sandbox.clock_nanos()));
            Ok((sandbox.alarm(wait)?,))
        },
    )?;
    let mut poll = linker.instance(POLL)?;
    poll.func_wrap(
        "[method]pollable.block",
        |mut store: StoreContextMut<'_, Sandbox>,
         (pollable,): (Resource<DynPollable>,)|
         -> wasmtime::Result<()> {
            let sandbox = store.data_mut();
            let waited = in_tokio(poll::HostPollable::block(sandbox.table(), pollable));
            sandbox.after_wait(waited)
        },
    )?;
    poll.func_wrap(
        "poll",
        |mut store: StoreContextMut<'_, Sandbox>,
         (pollables,): (Vec<Resource<DynPollable>>,)|
         -> wasmtime::Result<(Vec<u32>,)> {
            let sandbox = store.data_mut();
            let waited = in_tokio(poll::Host::poll(sandbox.table(), pollables));
            Ok((sandbox.after_wait(waited)?,))
        },
    )?;
    linker.allow_shadowing(false);
    Ok(())
}

//! One routing-rule invocation through Axle (fresh instance from the shared `InstancePre`,
//! ticket marshalled, limits armed, input digested, output measured) against the same
//! component called through bare wasmtime with no Axle layer, on the same engine.
//!
//! Also prints, for scale: compiling the component, deserializing its precompiled form,
//! and a call on a warm (reused) instance.

use std::collections::BTreeSet;
use std::hint::black_box;
use std::sync::Arc;

use axle_host::domain::plugin::{Capability, World};
use axle_host::runtime::limits::PlatformLimits;
use axle_host::runtime::sandbox::CallContext;
use axle_host::runtime::wit::routing::{RoutingRule, RoutingRulePre};
use axle_host::runtime::wit::{config, directory, kv, log, notify, records, types};
use axle_host::runtime::{Runtime, engine};
use criterion::{Criterion, criterion_group, criterion_main};
use wasmtime::component::{Component, HasSelf, Linker, ResourceTable};
use wasmtime::{Engine, Store};
use wasmtime_wasi::{WasiCtx, WasiCtxView, WasiView};

const COMPONENT: &str = "../target/wasm/wasm32-wasip2/release/axle_plugin_safety_escalation.wasm";

fn component_bytes() -> Vec<u8> {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(COMPONENT);
    std::fs::read(&path)
        .unwrap_or_else(|err| panic!("read {}: {err}; run `cargo xtask bench`", path.display()))
}

fn ticket() -> types::Ticket {
    types::Ticket {
        id: "0193a1b2-0000-7000-8000-000000000001".into(),
        subject: "刹车踏板发软".into(),
        description:
            "客户来电：高速行驶时刹车踏板发软，制动距离变长。Soft brake pedal at highway speed."
                .into(),
        status: types::TicketStatus::New,
        priority: types::Priority::Normal,
        category: "powertrain".into(),
        channel: "phone".into(),
        customer: Some(types::Customer {
            id: "c1".into(),
            name: "张伟".into(),
            phone: Some("+8613912345601".into()),
            email: None,
            region: Some("East China".into()),
            city: Some("上海".into()),
            vip: false,
            fields: vec![],
        }),
        vehicle: Some(types::Vehicle {
            id: "v1".into(),
            vin: "LSVAX4108N2000101".into(),
            make: Some("SAIC Volkswagen".into()),
            model: Some("Lavida".into()),
            model_year: Some(2022),
            mileage_km: Some(12_000),
            customer_id: Some("c1".into()),
            fields: vec![],
        }),
        queue: None,
        team: None,
        assignee: None,
        tags: vec![],
        fields: vec![],
        created_at: "2026-11-26T08:00:00Z".into(),
        updated_at: "2026-11-26T08:00:00Z".into(),
    }
}

const CONFIG: &str =
    r#"{"managers":{"East China":"+8613800000001"},"default_manager":"+8613800000000"}"#;

/// Store data for the bare path: WASI plus capability stubs that do the minimum.
struct Bare {
    wasi: WasiCtx,
    table: ResourceTable,
    config: serde_json::Value,
}

impl WasiView for Bare {
    fn ctx(&mut self) -> WasiCtxView<'_> {
        WasiCtxView {
            ctx: &mut self.wasi,
            table: &mut self.table,
        }
    }
}

impl types::Host for Bare {}
impl log::Host for Bare {
    fn log(&mut self, _: log::Level, _: String) -> wasmtime::Result<()> {
        Ok(())
    }
}
impl config::Host for Bare {
    fn get_json(&mut self) -> wasmtime::Result<String> {
        Ok(CONFIG.to_owned())
    }
    fn get(&mut self, key: String) -> wasmtime::Result<Option<String>> {
        Ok(self.config.get(&key).map(|v| v.to_string()))
    }
}
impl kv::Host for Bare {
    fn get(&mut self, _: String) -> wasmtime::Result<Result<Option<Vec<u8>>, types::Error>> {
        Ok(Ok(None))
    }
    fn set(&mut self, _: String, _: Vec<u8>) -> wasmtime::Result<Result<(), types::Error>> {
        Ok(Ok(()))
    }
    fn delete(&mut self, _: String) -> wasmtime::Result<Result<(), types::Error>> {
        Ok(Ok(()))
    }
    fn list_keys(&mut self, _: String) -> wasmtime::Result<Result<Vec<String>, types::Error>> {
        Ok(Ok(vec![]))
    }
}
impl records::Host for Bare {
    fn get_customer(
        &mut self,
        _: String,
    ) -> wasmtime::Result<Result<Option<types::Customer>, types::Error>> {
        Ok(Ok(None))
    }
    fn get_vehicle_by_vin(
        &mut self,
        _: String,
    ) -> wasmtime::Result<Result<Option<types::Vehicle>, types::Error>> {
        Ok(Ok(None))
    }
    fn ticket_history(
        &mut self,
        _: String,
        _: u32,
    ) -> wasmtime::Result<Result<Vec<types::TicketSummary>, types::Error>> {
        Ok(Ok(vec![]))
    }
    fn search_articles(
        &mut self,
        _: String,
        _: u32,
    ) -> wasmtime::Result<Result<Vec<types::Article>, types::Error>> {
        Ok(Ok(vec![]))
    }
}
impl notify::Host for Bare {
    fn send(&mut self, _: types::Notification) -> wasmtime::Result<Result<(), types::Error>> {
        Ok(Ok(()))
    }
}
impl directory::Host for Bare {
    fn list_sites(
        &mut self,
        _: Option<directory::SiteKind>,
    ) -> wasmtime::Result<Result<Vec<directory::Site>, types::Error>> {
        Ok(Ok(vec![]))
    }
    fn stations_serving(
        &mut self,
        _: String,
    ) -> wasmtime::Result<Result<Vec<directory::Site>, types::Error>> {
        Ok(Ok(vec![]))
    }
    fn list_teams(
        &mut self,
        _: Option<String>,
        _: Option<String>,
    ) -> wasmtime::Result<Result<Vec<directory::Team>, types::Error>> {
        Ok(Ok(vec![]))
    }
}

fn bare_store(engine: &Engine) -> Store<Bare> {
    let mut store = Store::new(
        engine,
        Bare {
            wasi: WasiCtx::builder().build(),
            table: ResourceTable::new(),
            config: serde_json::from_str(CONFIG).unwrap(),
        },
    );
    // The shared engine has epoch interruption on; give the bare path a deadline it never hits.
    store.set_epoch_deadline(u64::MAX / 2);
    store
}

fn invocation(c: &mut Criterion) {
    let bytes = component_bytes();
    let engine = engine::shared().engine.clone();
    let ticket = ticket();

    // Axle: the runtime's own path.
    let runtime = Runtime::new(PlatformLimits::default()).expect("runtime");
    let loaded = runtime
        .load(&bytes, World::RoutingRule)
        .expect("load the component");
    let call = Arc::new(CallContext {
        tenant_id: "bench".into(),
        installation_id: "bench".into(),
        plugin: "safety-escalation@0.1.0".into(),
        grants: BTreeSet::from([Capability::Notify]),
        config_json: CONFIG.into(),
        config: serde_json::from_str(CONFIG).unwrap(),
        limits: PlatformLimits::default().defaults,
        within: None,
    });
    let check = runtime.route(&loaded, call.clone(), None, &ticket);
    let decision = check
        .result
        .expect("the safety rule routes the bench ticket")
        .expect("a decision");
    assert_eq!(decision.queue.as_deref(), Some("safety"));

    // Bare wasmtime: same component and engine, a plain linker, no limits or audit.
    let component = Component::new(&engine, &bytes).expect("compile");
    let mut linker: Linker<Bare> = Linker::new(&engine);
    wasmtime_wasi::p2::add_to_linker_sync(&mut linker).expect("wasi");
    RoutingRule::add_to_linker::<Bare, HasSelf<Bare>>(&mut linker, |s| s).expect("capabilities");
    let pre = RoutingRulePre::new(linker.instantiate_pre(&component).expect("pre-link"))
        .expect("routing world");

    let mut group = c.benchmark_group("routing-rule invocation");
    group.bench_function("axle (fresh instance, limits, audit digest)", |b| {
        b.iter(|| {
            let outcome = runtime.route(&loaded, call.clone(), None, black_box(&ticket));
            black_box(outcome.result.is_ok())
        })
    });
    group.bench_function("bare wasmtime (fresh instance)", |b| {
        b.iter(|| {
            let mut store = bare_store(&engine);
            let rule = pre.instantiate(&mut store).expect("instantiate");
            black_box(
                rule.call_route(&mut store, black_box(&ticket))
                    .expect("call")
                    .is_ok(),
            )
        })
    });
    let mut warm_store = bare_store(&engine);
    let warm = pre.instantiate(&mut warm_store).expect("instantiate");
    group.bench_function("bare wasmtime (warm instance, call only)", |b| {
        b.iter(|| {
            black_box(
                warm.call_route(&mut warm_store, black_box(&ticket))
                    .expect("call")
                    .is_ok(),
            )
        })
    });
    group.finish();

    let mut group = c.benchmark_group("component loading");
    group.sample_size(10);
    group.bench_function("compile", |b| {
        b.iter(|| Component::new(&engine, black_box(&bytes)).expect("compile"))
    });
    let precompiled = component.serialize().expect("serialize");
    group.bench_function("deserialize precompiled", |b| {
        // SAFETY: the bytes were produced by `serialize` on this engine just above.
        b.iter(|| {
            unsafe { Component::deserialize(&engine, black_box(&precompiled)) }
                .expect("deserialize")
        })
    });
    group.finish();
}

criterion_group!(benches, invocation);
criterion_main!(benches);

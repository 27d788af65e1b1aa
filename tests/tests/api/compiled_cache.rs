//! Compiled components survive a restart on disk: a second runtime on the same cache
//! directory deserializes instead of compiling, a damaged or foreign entry is rebuilt
//! from the source bytes, concurrent loads compile once, and every tenant that installs
//! the same version shares one loaded component.

use std::path::Path;
use std::sync::{Arc, Barrier};

use axle_host::domain::ids::sha256_hex;
use axle_host::domain::plugin::World;
use axle_host::runtime::compiled_cache::CompiledCache;
use axle_host::runtime::limits::PlatformLimits;
use axle_host::runtime::sandbox::CallContext;
use axle_host::runtime::wit::fields;
use axle_host::runtime::{ComponentError, LoadSource, Loaded, Runtime};
use axle_host::service::registry::for_record;
use axle_tests::{TestApp, VIN_DECODER, VIP_ROUTING, fast_delivery};
use serde_json::json;

fn runtime(dir: &Path) -> Runtime {
    Runtime::new(PlatformLimits::default())
        .expect("a runtime")
        .with_compiled_cache(dir)
        .expect("a compiled cache")
}

fn load(runtime: &Runtime, bytes: &[u8]) -> (Arc<Loaded>, LoadSource) {
    runtime
        .load_traced(bytes, World::FieldProvider)
        .expect("vin-decoder loads as a field provider")
}

/// The vin-decoder's field names, read by running it: proof the loaded code works.
fn described_fields(runtime: &Runtime, loaded: &Loaded) -> Vec<String> {
    let call = Arc::new(CallContext {
        tenant_id: "tenant-cache".to_owned(),
        installation_id: "installation-vin-decoder".to_owned(),
        plugin: "vin-decoder@0.1.0".to_owned(),
        grants: Default::default(),
        config_json: "{}".to_owned(),
        config: json!({}),
        limits: runtime.platform.defaults,
        within: None,
    });
    let defs: Vec<fields::FieldDef> = runtime
        .describe_fields(loaded, call)
        .result
        .expect("describe succeeds");
    defs.into_iter().map(|def| def.name).collect()
}

fn entry_path(runtime: &Runtime, bytes: &[u8]) -> std::path::PathBuf {
    runtime
        .compiled_cache()
        .expect("a cache is configured")
        .entry_path(&sha256_hex(bytes))
}

#[test]
fn a_second_runtime_on_the_same_cache_dir_loads_from_disk_without_compiling() {
    let dir = tempfile::tempdir().unwrap();
    let bytes = VIN_DECODER.component();
    let first = runtime(dir.path());
    assert_eq!(load(&first, &bytes).1, LoadSource::Compiled);
    assert_eq!(load(&first, &bytes).1, LoadSource::Memory);

    let restarted = runtime(dir.path());
    let (loaded, source) = load(&restarted, &bytes);

    assert_eq!(source, LoadSource::Disk);
    assert_eq!(
        described_fields(&restarted, &loaded),
        ["vin_maker", "vin_model_year"]
    );
}

#[test]
fn a_runtime_without_a_cache_dir_compiles_every_time() {
    let bytes = VIN_DECODER.component();
    for _ in 0..2 {
        let runtime = Runtime::new(PlatformLimits::default()).unwrap();
        assert!(runtime.compiled_cache().is_none());
        assert_eq!(
            runtime.load_traced(&bytes, World::FieldProvider).unwrap().1,
            LoadSource::Compiled
        );
    }
}

#[test]
fn a_tampered_entry_is_detected_rebuilt_and_the_plugin_still_runs() {
    let dir = tempfile::tempdir().unwrap();
    let bytes = VIN_DECODER.component();
    let first = runtime(dir.path());
    load(&first, &bytes);
    let path = entry_path(&first, &bytes);
    let mut entry = std::fs::read(&path).unwrap();
    let middle = entry.len() / 2;
    for byte in &mut entry[middle..middle + 16] {
        *byte ^= 0x5a;
    }
    std::fs::write(&path, &entry).unwrap();

    let second = runtime(dir.path());
    let (loaded, source) = load(&second, &bytes);

    assert_eq!(
        source,
        LoadSource::Compiled,
        "the tampered entry is not used"
    );
    assert_eq!(
        described_fields(&second, &loaded),
        ["vin_maker", "vin_model_year"]
    );
    assert_ne!(
        std::fs::read(&path).unwrap(),
        entry,
        "the entry was rewritten"
    );
    assert_eq!(
        load(&runtime(dir.path()), &bytes).1,
        LoadSource::Disk,
        "the rebuilt entry is good"
    );
}

#[test]
fn a_truncated_entry_is_rebuilt() {
    let dir = tempfile::tempdir().unwrap();
    let bytes = VIN_DECODER.component();
    let first = runtime(dir.path());
    load(&first, &bytes);
    let path = entry_path(&first, &bytes);
    let entry = std::fs::read(&path).unwrap();
    std::fs::write(&path, &entry[..entry.len() - 100]).unwrap();

    let second = runtime(dir.path());
    let (loaded, source) = load(&second, &bytes);

    assert_eq!(source, LoadSource::Compiled);
    assert_eq!(described_fields(&second, &loaded).len(), 2);
    assert_eq!(std::fs::read(&path).unwrap().len(), entry.len());
}

#[test]
fn an_entry_compiled_by_an_engine_with_another_configuration_is_not_used() {
    let dir = tempfile::tempdir().unwrap();
    let bytes = VIN_DECODER.component();
    let sha256 = sha256_hex(&bytes);
    // Without epoch interruption: its code lacks the deadline checks ours relies on.
    let mut config = wasmtime::Config::new();
    config.wasm_component_model(true);
    let other = wasmtime::Engine::new(&config).unwrap();
    let theirs = CompiledCache::open(dir.path(), &other).unwrap();
    theirs.put(
        &sha256,
        &wasmtime::component::Component::new(&other, &bytes).unwrap(),
    );
    let ours = runtime(dir.path());
    assert_ne!(
        theirs.dir(),
        ours.compiled_cache().unwrap().dir(),
        "each engine configuration has its own directory"
    );
    // Even copied into our directory, the entry names the engine that compiled it.
    std::fs::copy(theirs.entry_path(&sha256), entry_path(&ours, &bytes)).unwrap();

    let (loaded, source) = load(&ours, &bytes);

    assert_eq!(source, LoadSource::Compiled);
    assert_eq!(described_fields(&ours, &loaded).len(), 2);
}

#[test]
fn a_component_from_disk_is_still_checked_against_the_world() {
    let dir = tempfile::tempdir().unwrap();
    let bytes = VIN_DECODER.component();
    load(&runtime(dir.path()), &bytes);

    let restarted = runtime(dir.path());
    let err = restarted
        .load_traced(&bytes, World::RoutingRule)
        .err()
        .expect("a field provider is not a routing rule");

    assert!(
        matches!(
            err,
            ComponentError::WrongWorld {
                world: "routing-rule",
                ..
            }
        ),
        "{err}"
    );
    assert_eq!(load(&restarted, &bytes).1, LoadSource::Disk);
}

#[test]
fn concurrent_loads_of_the_same_bytes_compile_once_and_share_one_component() {
    let dir = tempfile::tempdir().unwrap();
    let bytes = Arc::new(VIN_DECODER.component());
    let runtime = Arc::new(runtime(dir.path()));
    let start = Arc::new(Barrier::new(4));
    let loads: Vec<_> = (0..4)
        .map(|_| {
            let (runtime, bytes, start) = (runtime.clone(), bytes.clone(), start.clone());
            std::thread::spawn(move || {
                start.wait();
                load(&runtime, &bytes)
            })
        })
        .collect();
    let loads: Vec<(Arc<Loaded>, LoadSource)> =
        loads.into_iter().map(|t| t.join().unwrap()).collect();

    let compiled = loads
        .iter()
        .filter(|(_, source)| *source == LoadSource::Compiled)
        .count();
    assert_eq!(
        compiled,
        1,
        "{:?}",
        loads.iter().map(|l| l.1).collect::<Vec<_>>()
    );
    assert!(
        loads
            .iter()
            .all(|(loaded, _)| Arc::ptr_eq(loaded, &loads[0].0))
    );
    assert_eq!(runtime.loaded_count(), 1);
}

#[tokio::test]
async fn a_restarted_node_warms_up_installed_components_from_disk_and_tenants_share_them() {
    let app = TestApp::spawn().await;
    let oem = app.tenant("oem-warm").await;
    let dealer = app.tenant("dealer-warm").await;
    for tenant in [&oem, &dealer] {
        app.install(
            tenant,
            &VIP_ROUTING,
            json!({ "team": "vip-care" }),
            &["records"],
        )
        .await;
    }
    let mut tickets = Vec::new();
    for tenant in [&oem, &dealer] {
        let vip = app
            .customer(tenant, json!({ "name": "王芳", "vip": true }))
            .await;
        let ticket = app
            .ticket(
                tenant,
                json!({ "description": "空调不制冷，客户要求尽快处理", "customer_id": vip["id"] }),
            )
            .await;
        assert_eq!(ticket["team"], "vip-care");
        tickets.push(ticket);
    }
    // One compiled, pre-linked component serves both tenants' installations.
    assert_eq!(app.app.core.runtime.loaded_count(), 1);
    let oem_ready = for_record(&app.app.core, &oem.id, World::RoutingRule, None)
        .await
        .unwrap();
    let dealer_ready = for_record(&app.app.core, &dealer.id, World::RoutingRule, None)
        .await
        .unwrap();
    assert_eq!((oem_ready.len(), dealer_ready.len()), (1, 1));
    assert!(Arc::ptr_eq(&oem_ready[0].loaded, &dealer_ready[0].loaded));
    assert_ne!(
        oem_ready[0].installation.id, dealer_ready[0].installation.id,
        "each tenant sees only its own installation"
    );
    let oem_ticket = format!("/api/v1/tickets/{}", tickets[0]["id"].as_str().unwrap());
    app.get(&dealer.key, &oem_ticket).await.expect(404);

    let restarted = app.peer(fast_delivery()).await;

    let warm = &restarted.warm_up;
    assert_eq!(
        (warm.components, warm.from_disk, warm.compiled, warm.failed),
        (1, 1, 0, 0),
        "{warm:?}"
    );
    let sha256 = sha256_hex(&VIP_ROUTING.component());
    let warmed = restarted
        .core
        .runtime
        .cached_as(&sha256, World::RoutingRule)
        .expect("warmed up before serving");
    let ready = for_record(&restarted.core, &dealer.id, World::RoutingRule, None)
        .await
        .unwrap();
    assert!(Arc::ptr_eq(&ready[0].loaded, &warmed));
}

use std::sync::Arc;
use axle_host::plugins::limits::PlatformLimits;
use axle_host::plugins::manifest::World;
use axle_host::plugins::runtime::Runtime;
use axle_host::plugins::sandbox::CallContext;
use axle_host::plugins::bindings::types;
use axle_tests::HOSTILE;

#[test]
fn measure() {
    let rt = Runtime::new(PlatformLimits::default()).unwrap();
    let loaded = rt.load(&HOSTILE.component(), World::RoutingRule).unwrap();
    for mode in ["huge-output", "log-flood", "ok"] {
    let mut limits = rt.platform.defaults;
    limits.deadline_ms = 2000;
    let call = Arc::new(CallContext { tenant_id: "t".into(), installation_id: "i".into(), plugin: "hostile@0.1.0".into(), grants: Default::default(), config_json: format!(r#"{{"mode":"{mode}"}}"#), config: serde_json::json!({"mode": mode}), limits });
    let ticket = types::Ticket { id: "x".into(), subject: "s".into(), description: "d".into(), status: types::TicketStatus::New, priority: types::Priority::Normal, category: "c".into(), channel: "phone".into(), customer: None, vehicle: None, queue: None, team: None, assignee: None, tags: vec![], fields: vec![], created_at: "".into(), updated_at: "".into() };
    for _ in 0..3 {
        let out = rt.route(&loaded, call.clone(), None, &ticket);
        println!("{mode} {:?} {:?}", out.duration, out.result.as_ref().err());
    }
    }
}

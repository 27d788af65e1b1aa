//! Custom fields a tenant declares on customers, vehicles and tickets: the definitions API
//! (who may write, what a valid definition is, tenant isolation) and how records are
//! checked against them on create, on PATCH, and on an answered hotline call.

use axle_tests::{Tenant, TestApp, agent_key, field_message, ids, invalid_fields, vin};
use serde_json::{Value, json};

/// Declares a field as the tenant admin and returns the definition.
async fn define(app: &TestApp, tenant: &Tenant, body: Value) -> Value {
    app.post(&tenant.key, "/api/v1/field-definitions", &body)
        .await
        .expect(201)
}

fn id(record: &Value) -> &str {
    record["id"].as_str().expect("a record with an id")
}

#[tokio::test]
async fn definitions_are_declared_listed_changed_and_deleted() {
    let app = TestApp::spawn().await;
    let tenant = app.tenant("defs").await;

    let warranty = define(
        &app,
        &tenant,
        json!({
            "entity": "ticket", "name": "warranty_type", "label": "保修类型", "kind": "choice",
            "required": true, "options": ["整车质保", "延保", "自费"],
            "description": "决定费用由谁承担"
        }),
    )
    .await;
    assert_eq!(warranty["label"], "保修类型");
    assert_eq!(warranty["options"], json!(["整车质保", "延保", "自费"]));
    assert_eq!(warranty["required"], true);
    let colour = define(
        &app,
        &tenant,
        json!({ "entity": "vehicle", "name": "colour", "label": "车身颜色", "kind": "text" }),
    )
    .await;
    assert_eq!(colour["required"], false);
    assert_eq!(colour["options"], json!([]));

    let all = app
        .get(&tenant.key, "/api/v1/field-definitions")
        .await
        .expect(200);
    assert_eq!(ids(&all).len(), 2);
    let tickets = app
        .get(&tenant.key, "/api/v1/field-definitions?entity=ticket")
        .await
        .expect(200);
    assert_eq!(ids(&tickets), [id(&warranty)]);
    let bad_entity = app
        .get(&tenant.key, "/api/v1/field-definitions?entity=dealer")
        .await;
    assert_eq!(bad_entity.status, 400);
    assert!(
        bad_entity
            .error_message()
            .contains("customer, vehicle, ticket")
    );

    let path = format!("/api/v1/field-definitions/{}", id(&warranty));
    let changed = app
        .patch(
            &tenant.key,
            &path,
            &json!({ "label": "保修 Warranty", "required": false, "options": ["整车质保", "延保", "自费", "召回"], "description": "" }),
        )
        .await
        .expect(200);
    assert_eq!(changed["label"], "保修 Warranty");
    assert_eq!(changed["required"], false);
    assert_eq!(changed["options"].as_array().unwrap().len(), 4);
    assert_eq!(changed["description"], Value::Null);
    assert_eq!(changed["name"], "warranty_type", "the name stays");
    assert_eq!(app.get(&tenant.key, &path).await.expect(200), changed);

    let gone = app.delete(&tenant.key, &path).await;
    assert_eq!(gone.status, 204);
    assert_eq!(app.get(&tenant.key, &path).await.status, 404);
    assert_eq!(app.delete(&tenant.key, &path).await.status, 404);
}

#[tokio::test]
async fn bad_definitions_get_a_422_naming_each_field() {
    let app = TestApp::spawn().await;
    let tenant = app.tenant("bad-defs").await;

    let reply = app
        .post(
            &tenant.key,
            "/api/v1/field-definitions",
            &json!({ "entity": "dealer", "name": "Warranty Type", "label": " ", "kind": "money" }),
        )
        .await;
    assert_eq!(reply.status, 422, "{:?}", reply.body);
    let mut fields = invalid_fields(&reply);
    fields.sort_unstable();
    assert_eq!(fields, ["entity", "kind", "label", "name"]);
    assert!(field_message(&reply, "name").contains("lower-case"));
    assert!(field_message(&reply, "kind").contains("integer"));

    for (body, field, says) in [
        (
            json!({ "entity": "ticket", "name": "source", "label": "来源", "kind": "choice" }),
            "options",
            "at least one option",
        ),
        (
            json!({ "entity": "ticket", "name": "source", "label": "来源", "kind": "choice", "options": ["电话", "电话"] }),
            "options",
            "listed twice",
        ),
        (
            json!({ "entity": "ticket", "name": "note", "label": "备注", "kind": "text", "options": ["a"] }),
            "options",
            "only a choice field",
        ),
        (
            json!({ "entity": "ticket", "name": "9lives", "label": "命", "kind": "integer" }),
            "name",
            "start with a lower-case letter",
        ),
        (
            json!({ "entity": "ticket", "name": "车型", "label": "车型", "kind": "text" }),
            "name",
            "not a field name",
        ),
    ] {
        let reply = app
            .post(&tenant.key, "/api/v1/field-definitions", &body)
            .await;
        assert_eq!(reply.status, 422, "{body}: {:?}", reply.body);
        assert_eq!(invalid_fields(&reply), [field], "{body}");
        assert!(
            field_message(&reply, field).contains(says),
            "{:?}",
            reply.body
        );
    }

    define(
        &app,
        &tenant,
        json!({ "entity": "customer", "name": "level", "label": "等级", "kind": "integer" }),
    )
    .await;
    let twice = app
        .post(
            &tenant.key,
            "/api/v1/field-definitions",
            &json!({ "entity": "customer", "name": "level", "label": "会员等级", "kind": "text" }),
        )
        .await;
    assert_eq!(twice.status, 409);
    assert!(twice.error_message().contains("`level`"));
    define(
        &app,
        &tenant,
        json!({ "entity": "vehicle", "name": "level", "label": "配置等级", "kind": "text" }),
    )
    .await;

    let level = app
        .get(&tenant.key, "/api/v1/field-definitions?entity=customer")
        .await
        .expect(200);
    let path = format!(
        "/api/v1/field-definitions/{}",
        level["items"][0]["id"].as_str().unwrap()
    );
    let options_on_integer = app
        .patch(&tenant.key, &path, &json!({ "options": ["1", "2"] }))
        .await;
    assert_eq!(options_on_integer.status, 422);
    assert_eq!(invalid_fields(&options_on_integer), ["options"]);
    let kind_change = app
        .patch(&tenant.key, &path, &json!({ "kind": "text" }))
        .await;
    assert_eq!(
        kind_change.status, 400,
        "the kind of a declared field stays"
    );
}

#[tokio::test]
async fn only_a_tenant_wide_admin_declares_fields_but_every_key_reads_them() {
    let app = TestApp::spawn().await;
    let tenant = app.tenant("def-admins").await;
    let definition = define(
        &app,
        &tenant,
        json!({ "entity": "customer", "name": "wechat", "label": "微信号", "kind": "text" }),
    )
    .await;
    let path = format!("/api/v1/field-definitions/{}", id(&definition));
    let (_, agent) = agent_key(&app, &tenant).await;
    let dealer = app
        .post(
            &tenant.key,
            "/api/v1/sites",
            &json!({ "kind": "oem", "code": "OEM", "name": "上汽大众 SAIC Volkswagen" }),
        )
        .await
        .expect(201);
    let dealer_admin = app
        .post(
            &tenant.key,
            "/api/v1/api-keys",
            &json!({ "name": "dealer admin", "role": "admin", "site_id": dealer["id"] }),
        )
        .await
        .expect(201)["secret"]
        .as_str()
        .unwrap()
        .to_owned();

    for key in [&agent, &dealer_admin] {
        let create = app
            .post(
                key,
                "/api/v1/field-definitions",
                &json!({ "entity": "customer", "name": "qq", "label": "QQ", "kind": "text" }),
            )
            .await;
        assert_eq!(create.status, 403, "{:?}", create.body);
        if key == &dealer_admin {
            assert!(create.error_message().contains("tenant-wide"));
        }
        assert_eq!(
            app.patch(key, &path, &json!({ "required": true }))
                .await
                .status,
            403
        );
        assert_eq!(app.delete(key, &path).await.status, 403);
        assert_eq!(app.get(key, &path).await.expect(200), definition);
        assert_eq!(
            ids(&app.get(key, "/api/v1/field-definitions").await.expect(200)),
            [id(&definition)]
        );
    }
    let unchanged = app.get(&tenant.key, &path).await.expect(200);
    assert_eq!(unchanged["required"], false);
}

#[tokio::test]
async fn another_tenants_definitions_are_invisible_and_do_not_apply() {
    let app = TestApp::spawn().await;
    let a = app.tenant("fields-a").await;
    let b = app.tenant("fields-b").await;
    let b_field = define(
        &app,
        &b,
        json!({ "entity": "customer", "name": "membership", "label": "会员卡号", "kind": "text", "required": true }),
    )
    .await;

    let path = format!("/api/v1/field-definitions/{}", id(&b_field));
    assert_eq!(app.get(&a.key, &path).await.status, 404);
    assert_eq!(
        app.patch(&a.key, &path, &json!({ "required": false }))
            .await
            .status,
        404
    );
    assert_eq!(app.delete(&a.key, &path).await.status, 404);
    let listed = app
        .get(&a.key, "/api/v1/field-definitions")
        .await
        .expect(200);
    assert!(ids(&listed).is_empty());
    assert_eq!(
        app.get(&b.key, &path).await.expect(200)["required"],
        true,
        "tenant A changed nothing"
    );

    app.customer(&a, json!({ "name": "王芳" })).await;
    let refused = app
        .post(&b.key, "/api/v1/customers", &json!({ "name": "王芳" }))
        .await;
    assert_eq!(refused.status, 422);
    assert_eq!(invalid_fields(&refused), ["fields.membership"]);
}

#[tokio::test]
async fn each_kind_accepts_only_values_of_its_type() {
    let app = TestApp::spawn().await;
    let tenant = app.tenant("kinds").await;
    for (name, kind) in [
        ("colour", "text"),
        ("battery_kwh", "number"),
        ("doors", "integer"),
        ("imported", "boolean"),
        ("first_registered", "date"),
    ] {
        define(
            &app,
            &tenant,
            json!({ "entity": "vehicle", "name": name, "label": name, "kind": kind }),
        )
        .await;
    }
    define(
        &app,
        &tenant,
        json!({ "entity": "vehicle", "name": "fuel", "label": "能源类型", "kind": "choice", "options": ["汽油", "纯电", "插混"] }),
    )
    .await;

    let bad = app
        .post(
            &tenant.key,
            "/api/v1/vehicles",
            &json!({
                "vin": vin("LSVAX4100N2000201"),
                "fields": {
                    "colour": 7, "battery_kwh": "77.4", "doors": 4.5, "imported": "是",
                    "first_registered": "2024-02-30", "fuel": "柴油"
                }
            }),
        )
        .await;
    assert_eq!(bad.status, 422, "{:?}", bad.body);
    let mut fields = invalid_fields(&bad);
    fields.sort_unstable();
    assert_eq!(
        fields,
        [
            "fields.battery_kwh",
            "fields.colour",
            "fields.doors",
            "fields.first_registered",
            "fields.fuel",
            "fields.imported"
        ]
    );
    assert!(field_message(&bad, "fields.doors").contains("whole number"));
    assert!(field_message(&bad, "fields.first_registered").contains("YYYY-MM-DD"));
    assert!(field_message(&bad, "fields.fuel").contains("汽油, 纯电, 插混"));
    let none = app.get(&tenant.key, "/api/v1/vehicles").await.expect(200);
    assert!(ids(&none).is_empty(), "nothing is stored");

    let not_a_day = app
        .post(
            &tenant.key,
            "/api/v1/vehicles",
            &json!({ "vin": vin("LSVAX4100N2000202"), "fields": { "first_registered": "2024-2-3" } }),
        )
        .await;
    assert_eq!(invalid_fields(&not_a_day), ["fields.first_registered"]);
    let too_long = app
        .post(
            &tenant.key,
            "/api/v1/vehicles",
            &json!({ "vin": vin("LSVAX4100N2000203"), "fields": { "colour": "红".repeat(2001) } }),
        )
        .await;
    assert_eq!(invalid_fields(&too_long), ["fields.colour"]);

    let good = app
        .vehicle(
            &tenant,
            json!({
                "vin": vin("LSVAX4100N2000204"),
                "fields": {
                    "colour": "珠光白", "battery_kwh": 77.4, "doors": 4, "imported": false,
                    "first_registered": "2024-02-29", "fuel": "纯电",
                    "dealer_note": "not declared, so not checked"
                }
            }),
        )
        .await;
    assert_eq!(good["fields"]["fuel"], "纯电");
    assert_eq!(
        good["fields"]["dealer_note"],
        "not declared, so not checked"
    );
}

#[tokio::test]
async fn required_fields_are_enforced_on_create_and_on_patch() {
    let app = TestApp::spawn().await;
    let tenant = app.tenant("required").await;
    define(
        &app,
        &tenant,
        json!({ "entity": "customer", "name": "membership", "label": "会员卡号", "kind": "text", "required": true }),
    )
    .await;

    for fields in [
        json!({}),
        json!({ "membership": "  " }),
        json!({ "membership": null }),
    ] {
        let reply = app
            .post(
                &tenant.key,
                "/api/v1/customers",
                &json!({ "name": "李雷", "fields": fields }),
            )
            .await;
        assert_eq!(reply.status, 422, "{fields}");
        assert_eq!(invalid_fields(&reply), ["fields.membership"]);
        assert!(field_message(&reply, "fields.membership").contains("会员卡号"));
    }
    let customer = app
        .customer(
            &tenant,
            json!({ "name": "李雷", "fields": { "membership": "VIP-0001" } }),
        )
        .await;
    let path = format!("/api/v1/customers/{}", id(&customer));

    let removed = app
        .patch(
            &tenant.key,
            &path,
            &json!({ "fields": { "membership": null } }),
        )
        .await;
    assert_eq!(removed.status, 422);
    assert_eq!(invalid_fields(&removed), ["fields.membership"]);
    let stored = app.get(&tenant.key, &path).await.expect(200);
    assert_eq!(
        stored["fields"]["membership"], "VIP-0001",
        "nothing half-written"
    );

    let other = app
        .patch(
            &tenant.key,
            &path,
            &json!({ "fields": { "hobby": "钓鱼" }, "city": "上海" }),
        )
        .await
        .expect(200);
    assert_eq!(
        other["fields"],
        json!({ "membership": "VIP-0001", "hobby": "钓鱼" })
    );

    // A vehicle and a ticket field, required on PATCH the same way.
    define(
        &app,
        &tenant,
        json!({ "entity": "ticket", "name": "mileage_at_report", "label": "报修里程", "kind": "integer", "required": true }),
    )
    .await;
    let ticket = app
        .ticket(
            &tenant,
            json!({ "description": "刹车异响", "fields": { "mileage_at_report": 42000 } }),
        )
        .await;
    let ticket_path = format!("/api/v1/tickets/{}", id(&ticket));
    let bad = app
        .patch(
            &tenant.key,
            &ticket_path,
            &json!({ "fields": { "mileage_at_report": "四万" } }),
        )
        .await;
    assert_eq!(bad.status, 422);
    assert_eq!(invalid_fields(&bad), ["fields.mileage_at_report"]);
    let still = app.get(&tenant.key, &ticket_path).await.expect(200);
    assert_eq!(still["fields"]["mileage_at_report"], 42000);
    let missing = app
        .post(
            &tenant.key,
            "/api/v1/tickets",
            &json!({ "description": "刹车异响" }),
        )
        .await;
    assert_eq!(missing.status, 422);
    assert_eq!(invalid_fields(&missing), ["fields.mileage_at_report"]);
    let tickets = app.get(&tenant.key, "/api/v1/tickets").await.expect(200);
    assert_eq!(
        ids(&tickets),
        [id(&ticket)],
        "the refused ticket is not stored"
    );
}

#[tokio::test]
async fn ticket_choices_accept_only_their_chinese_options() {
    let app = TestApp::spawn().await;
    let tenant = app.tenant("choices").await;
    define(
        &app,
        &tenant,
        json!({ "entity": "ticket", "name": "warranty_type", "label": "保修类型", "kind": "choice", "options": ["整车质保", "延保", "自费"] }),
    )
    .await;

    let ticket = app
        .ticket(
            &tenant,
            json!({ "description": "空调不制冷", "fields": { "warranty_type": "延保" } }),
        )
        .await;
    assert_eq!(ticket["fields"]["warranty_type"], "延保");
    let other = app
        .post(
            &tenant.key,
            "/api/v1/tickets",
            &json!({ "description": "空调不制冷", "fields": { "warranty_type": "保险" } }),
        )
        .await;
    assert_eq!(other.status, 422);
    let message = field_message(&other, "fields.warranty_type");
    assert!(
        message.contains("保险") && message.contains("整车质保, 延保, 自费"),
        "{message}"
    );
    let optional = app
        .ticket(&tenant, json!({ "description": "空调不制冷" }))
        .await;
    assert_eq!(
        optional["fields"],
        json!({}),
        "an optional choice may be left out"
    );
}

#[tokio::test]
async fn an_answered_call_missing_required_fields_is_kept_with_the_issues_on_its_timeline() {
    let app = TestApp::spawn().await;
    let tenant = app.tenant("call-fields").await;
    for body in [
        json!({ "entity": "ticket", "name": "warranty_type", "label": "保修类型", "kind": "choice", "options": ["整车质保", "自费"], "required": true }),
        json!({ "entity": "customer", "name": "membership", "label": "会员卡号", "kind": "text", "required": true }),
        json!({ "entity": "vehicle", "name": "colour", "label": "车身颜色", "kind": "text", "required": true }),
    ] {
        define(&app, &tenant, body).await;
    }

    let intake = app
        .post(
            &tenant.key,
            "/api/v1/intake/calls",
            &json!({
                "phone": "+86 138 0000 1111", "vin": vin("LSVAX4100N2000301"),
                "description": "仪表盘故障灯亮", "fields": { "warranty_type": "保险" }
            }),
        )
        .await
        .expect(201);
    assert_eq!(intake["customer_created"], true);
    let ticket_id = intake["ticket"]["id"].as_str().unwrap();
    assert_eq!(
        intake["ticket"]["fields"]["warranty_type"], "保险",
        "kept as said"
    );
    let timeline = app.timeline(&tenant, ticket_id).await;
    let issues = timeline
        .iter()
        .find(|event| event["kind"] == "fields.issues")
        .unwrap_or_else(|| panic!("no fields.issues in {timeline:?}"));
    let mut named: Vec<&str> = issues["data"]["issues"]
        .as_array()
        .unwrap()
        .iter()
        .map(|issue| issue["field"].as_str().unwrap())
        .collect();
    named.sort_unstable();
    assert_eq!(
        named,
        [
            "customer.fields.membership",
            "fields.warranty_type",
            "vehicle.fields.colour"
        ]
    );
}

/// Posts `csv` to `/api/v1/imports/{kind}`.
async fn import(app: &TestApp, tenant: &Tenant, kind: &str, csv: &str) -> axle_tests::Reply {
    app.post_raw(
        &tenant.key,
        &format!("/api/v1/imports/{kind}"),
        "text/csv; charset=utf-8",
        csv,
    )
    .await
}

/// `(row, column)` of every error in an import report.
fn error_cells(report: &Value) -> Vec<(u64, String)> {
    report["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                e["row"].as_u64().unwrap(),
                e["column"].as_str().unwrap_or_default().to_owned(),
            )
        })
        .collect()
}

#[tokio::test]
async fn csv_rows_with_bad_or_missing_declared_fields_fail_with_their_column() {
    let app = TestApp::spawn().await;
    let tenant = app.tenant("csv-fields").await;
    define(
        &app,
        &tenant,
        json!({ "entity": "customer", "name": "membership", "label": "会员等级", "kind": "choice", "options": ["金卡", "银卡"], "required": true }),
    )
    .await;
    define(
        &app,
        &tenant,
        json!({ "entity": "customer", "name": "visits", "label": "到店次数", "kind": "integer" }),
    )
    .await;

    let csv = "external_id,name,fields.membership,Fields.Visits\n\
               C-1,张伟,金卡,3\n\
               C-2,李娜,铜卡,1\n\
               C-3,王芳,银卡,三次\n\
               C-4,刘洋,,2\n";
    let report = import(&app, &tenant, "customers", csv).await.expect(200);
    assert_eq!(report["created"], 1, "{report}");
    assert_eq!(report["failed"], 3);
    assert_eq!(
        error_cells(&report),
        [
            (3, "fields.membership".to_owned()),
            (4, "fields.visits".to_owned()),
            (5, "fields.membership".to_owned())
        ]
    );
    let imported = app
        .get(&tenant.key, "/api/v1/customers?external_id=C-1")
        .await
        .expect(200);
    assert_eq!(
        imported["items"][0]["fields"],
        json!({ "membership": "金卡", "visits": 3 })
    );

    // A file without the required column updates customers that already have the field,
    // but cannot create one without it.
    let report = import(
        &app,
        &tenant,
        "customers",
        "external_id,name,city\nC-1,张伟,上海\nC-9,赵敏,北京\n",
    )
    .await
    .expect(200);
    assert_eq!(
        (report["updated"].as_u64(), report["failed"].as_u64()),
        (Some(1), Some(1))
    );
    assert_eq!(error_cells(&report), [(3, "fields.membership".to_owned())]);
    let kept = app
        .get(&tenant.key, "/api/v1/customers?external_id=C-1")
        .await
        .expect(200);
    assert_eq!(kept["items"][0]["fields"]["membership"], "金卡");
    assert_eq!(kept["items"][0]["city"], "上海");

    let undeclared = import(
        &app,
        &tenant,
        "customers",
        "external_id,name,fields.wechat\nC-5,周敏,zm\n",
    )
    .await;
    assert_eq!(undeclared.status, 400);
    assert!(
        undeclared.error_message().contains("fields.wechat")
            && undeclared.error_message().contains("fields.membership"),
        "{}",
        undeclared.error_message()
    );
}

#[tokio::test]
async fn csv_vehicle_fields_are_typed_by_their_declaration() {
    let app = TestApp::spawn().await;
    let tenant = app.tenant("csv-vehicle-fields").await;
    define(
        &app,
        &tenant,
        json!({ "entity": "vehicle", "name": "imported", "label": "进口车", "kind": "boolean" }),
    )
    .await;
    define(
        &app,
        &tenant,
        json!({ "entity": "vehicle", "name": "first_registered", "label": "初登日期", "kind": "date" }),
    )
    .await;
    let csv = format!(
        "external_id,vin,fields.imported,fields.first_registered\n\
         V-1,{},是,2024-02-29\n\
         V-2,{},maybe,2024-02-30\n",
        vin("LSVAX4100N2000501"),
        vin("LSVAX4100N2000502"),
    );
    let report = import(&app, &tenant, "vehicles", &csv).await.expect(200);
    assert_eq!(report["created"], 1, "{report}");
    assert_eq!(
        error_cells(&report),
        [
            (3, "fields.imported".to_owned()),
            (3, "fields.first_registered".to_owned())
        ]
    );
    let vehicle = app
        .get(&tenant.key, "/api/v1/vehicles?external_id=V-1")
        .await
        .expect(200);
    assert_eq!(
        vehicle["items"][0]["fields"],
        json!({ "imported": true, "first_registered": "2024-02-29" })
    );

    // An empty cell removes the field; importing the same file again changes nothing.
    let clear = format!(
        "external_id,vin,fields.imported\nV-1,{},\n",
        vin("LSVAX4100N2000501")
    );
    let report = import(&app, &tenant, "vehicles", &clear).await.expect(200);
    assert_eq!(report["updated"], 1);
    let report = import(&app, &tenant, "vehicles", &clear).await.expect(200);
    assert_eq!(report["unchanged"], 1);
    let vehicle = app
        .get(&tenant.key, "/api/v1/vehicles?external_id=V-1")
        .await
        .expect(200);
    assert_eq!(
        vehicle["items"][0]["fields"],
        json!({ "first_registered": "2024-02-29" })
    );
}

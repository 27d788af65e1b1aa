//! CSV import of customers, vehicles and service records over HTTP: linking by external
//! id, idempotent re-imports, updates, per-row errors, UTF-8 with a BOM and Chinese text,
//! tenant isolation, malformed uploads, and the service records API.

use axle_tests::{Reply, Tenant, TestApp, vin};
use serde_json::{Value, json};

/// Posts `csv` to `/api/v1/imports/{kind}` as `text/csv`.
async fn import(app: &TestApp, tenant: &Tenant, kind: &str, csv: &str) -> Reply {
    app.post_raw(
        &tenant.key,
        &format!("/api/v1/imports/{kind}"),
        "text/csv; charset=utf-8",
        csv,
    )
    .await
}

/// Imports `csv` and returns the report, which must be a 200.
async fn imported(app: &TestApp, tenant: &Tenant, kind: &str, csv: &str) -> Value {
    import(app, tenant, kind, csv).await.expect(200)
}

/// `(created, updated, unchanged, failed)` of a report.
fn counts(report: &Value) -> (u64, u64, u64, u64) {
    let n = |key: &str| {
        report[key]
            .as_u64()
            .unwrap_or_else(|| panic!("no `{key}` in {report}"))
    };
    (n("created"), n("updated"), n("unchanged"), n("failed"))
}

/// `(row, column)` of every listed error.
fn error_cells(report: &Value) -> Vec<(u64, Option<String>)> {
    report["errors"]
        .as_array()
        .expect("a report lists its errors")
        .iter()
        .map(|e| {
            (
                e["row"].as_u64().expect("an error names its row"),
                e["column"].as_str().map(str::to_owned),
            )
        })
        .collect()
}

/// The message of the error at `row` and `column`.
fn error_message<'a>(report: &'a Value, row: u64, column: &str) -> &'a str {
    report["errors"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|e| e["row"] == row && e["column"] == column)
        .and_then(|e| e["message"].as_str())
        .unwrap_or_else(|| panic!("no error at row {row}, column {column} in {report}"))
}

/// The only item of a list reply.
fn only(list: Value) -> Value {
    let items = list["items"].as_array().expect("a list reply has items");
    assert_eq!(items.len(), 1, "expected one item in {list}");
    items[0].clone()
}

async fn customer_by_external_id(app: &TestApp, tenant: &Tenant, external_id: &str) -> Value {
    only(
        app.get(
            &tenant.key,
            &format!("/api/v1/customers?external_id={external_id}"),
        )
        .await
        .expect(200),
    )
}

async fn vehicle_by_vin(app: &TestApp, tenant: &Tenant, vin: &str) -> Value {
    only(
        app.get(&tenant.key, &format!("/api/v1/vehicles?vin={vin}"))
            .await
            .expect(200),
    )
}

async fn service_history(app: &TestApp, tenant: &Tenant, vehicle_id: &str) -> Vec<Value> {
    app.get(
        &tenant.key,
        &format!("/api/v1/vehicles/{vehicle_id}/service-records"),
    )
    .await
    .expect(200)["items"]
        .as_array()
        .expect("a history has items")
        .clone()
}

/// Three VINs with valid check digits.
fn vins() -> [String; 3] {
    [
        vin("LSVAX4100N2000001"),
        vin("LSVAX4100N2000002"),
        vin("LFV2A2150P3000003"),
    ]
}

const CUSTOMERS: &str = "external_id,name,phone,email,region,city,vip
C001,张伟,+86 138 0013 8000,zhang.wei@example.cn,East China,上海,是
C002,Li Na,13900139000,,North China,北京,false
C003,王芳,,,South China,广州,
";

fn vehicles_csv() -> String {
    let [v1, v2, v3] = vins();
    format!(
        "external_id,vin,customer_external_id,make,model,model_year,mileage_km
V001,{v1},C001,SAIC Volkswagen,Lavida,2022,12000
V002,{v2},C002,SAIC Volkswagen,Tiguan L,2023,8000
V003,{v3},,FAW-Volkswagen,ID.4 CROZZ,2024,
"
    )
}

fn service_records_csv() -> String {
    let [v1, v2, _] = vins();
    format!(
        "external_id,vin,service_date,mileage_km,work_done,dealer_code,cost
SR-1,{v1},2025-03-05,5000,首保：更换机油和机滤,SH-001,380.00
SR-2,{v1},2025-09-12,15000,\"Brake pads, front\",SH-001,1280.5
SR-3,{v2},2025-06-01,8000,Tyre rotation,BJ-002,
"
    )
}

/// Imports the three files in order, checking that every row is created.
async fn import_all(app: &TestApp, tenant: &Tenant) {
    let report = imported(app, tenant, "customers", CUSTOMERS).await;
    assert_eq!(counts(&report), (3, 0, 0, 0), "{report}");
    let report = imported(app, tenant, "vehicles", &vehicles_csv()).await;
    assert_eq!(counts(&report), (3, 0, 0, 0), "{report}");
    let report = imported(app, tenant, "service-records", &service_records_csv()).await;
    assert_eq!(counts(&report), (3, 0, 0, 0), "{report}");
}

// ---------------------------------------------------------------------------------------
// Linking and idempotence

#[tokio::test]
async fn customers_then_vehicles_then_service_records_import_and_link_by_external_id() {
    let app = TestApp::spawn().await;
    let tenant = app.tenant("dealer").await;
    import_all(&app, &tenant).await;

    let zhang = customer_by_external_id(&app, &tenant, "C001").await;
    assert_eq!(zhang["name"], "张伟");
    assert_eq!(zhang["phone"], "+8613800138000");
    assert_eq!(zhang["city"], "上海");
    assert_eq!(zhang["vip"], true);

    let [v1, _, v3] = vins();
    let lavida = vehicle_by_vin(&app, &tenant, &v1).await;
    assert_eq!(lavida["external_id"], "V001");
    assert_eq!(lavida["customer_id"], zhang["id"]);
    assert_eq!(lavida["mileage_km"], 12000);
    let id4 = vehicle_by_vin(&app, &tenant, &v3).await;
    assert_eq!(id4["customer_id"], Value::Null);
    assert_eq!(id4["mileage_km"], Value::Null);

    let history = service_history(&app, &tenant, lavida["id"].as_str().unwrap()).await;
    let dates: Vec<&str> = history
        .iter()
        .map(|r| r["service_date"].as_str().unwrap())
        .collect();
    assert_eq!(dates, ["2025-09-12", "2025-03-05"], "latest visit first");
    assert_eq!(history[0]["work_done"], "Brake pads, front");
    assert_eq!(history[0]["cost"], "1280.50");
    assert_eq!(history[0]["dealer_code"], "SH-001");
    assert_eq!(history[1]["work_done"], "首保：更换机油和机滤");
    assert_eq!(history[1]["external_id"], "SR-1");
}

#[tokio::test]
async fn reimporting_the_same_files_changes_nothing() {
    let app = TestApp::spawn().await;
    let tenant = app.tenant("dealer").await;
    import_all(&app, &tenant).await;
    let before = customer_by_external_id(&app, &tenant, "C001").await;

    for (kind, csv) in [
        ("customers", CUSTOMERS.to_owned()),
        ("vehicles", vehicles_csv()),
        ("service-records", service_records_csv()),
    ] {
        let report = imported(&app, &tenant, kind, &csv).await;
        assert_eq!(counts(&report), (0, 0, 3, 0), "{kind}: {report}");
        assert_eq!(report["rows"], 3);
    }
    let after = customer_by_external_id(&app, &tenant, "C001").await;
    assert_eq!(after, before, "an unchanged row is not written");
    let customers = app
        .get(&tenant.key, "/api/v1/customers?limit=50")
        .await
        .expect(200);
    assert_eq!(customers["items"].as_array().unwrap().len(), 3);
}

#[tokio::test]
async fn changed_rows_update_the_records_on_file() {
    let app = TestApp::spawn().await;
    let tenant = app.tenant("dealer").await;
    import_all(&app, &tenant).await;
    let [v1, v2, v3] = vins();

    let customers = CUSTOMERS.replace("Li Na,13900139000", "Li Na,13700137000");
    let report = imported(&app, &tenant, "customers", &customers).await;
    assert_eq!(counts(&report), (0, 1, 2, 0), "{report}");
    assert_eq!(
        customer_by_external_id(&app, &tenant, "C002").await["phone"],
        "+8613700137000"
    );

    // V003 gets an owner and a mileage; a new vehicle arrives in the same file.
    let vehicles = vehicles_csv().replace(
        &format!("V003,{v3},,FAW-Volkswagen,ID.4 CROZZ,2024,"),
        &format!("V003,{v3},C003,FAW-Volkswagen,ID.4 CROZZ,2024,3100"),
    ) + &format!("V004,{},C003,BYD,Han,2024,100\n", vin("LGXCE4CB5P0000004"));
    let report = imported(&app, &tenant, "vehicles", &vehicles).await;
    assert_eq!(counts(&report), (1, 1, 2, 0), "{report}");
    let id4 = vehicle_by_vin(&app, &tenant, &v3).await;
    assert_eq!(id4["mileage_km"], 3100);
    assert_eq!(
        id4["customer_id"],
        customer_by_external_id(&app, &tenant, "C003").await["id"]
    );

    // SR-3 was booked on the wrong car and without its cost.
    let records = service_records_csv().replace(
        &format!("SR-3,{v2},2025-06-01,8000,Tyre rotation,BJ-002,"),
        &format!("SR-3,{v1},2025-06-01,8000,Tyre rotation,BJ-002,199"),
    );
    let report = imported(&app, &tenant, "service-records", &records).await;
    assert_eq!(counts(&report), (0, 1, 2, 0), "{report}");
    let lavida = vehicle_by_vin(&app, &tenant, &v1).await;
    let history = service_history(&app, &tenant, lavida["id"].as_str().unwrap()).await;
    assert_eq!(history.len(), 3);
    assert_eq!(history[1]["external_id"], "SR-3");
    assert_eq!(history[1]["cost"], "199.00");
    let tiguan = vehicle_by_vin(&app, &tenant, &v2).await;
    assert!(
        service_history(&app, &tenant, tiguan["id"].as_str().unwrap())
            .await
            .is_empty()
    );
}

#[tokio::test]
async fn a_column_left_out_of_the_file_keeps_its_value_and_an_empty_cell_clears_it() {
    let app = TestApp::spawn().await;
    let tenant = app.tenant("dealer").await;
    imported(&app, &tenant, "customers", CUSTOMERS).await;

    // No phone column: phones stay. An empty city cell: the city goes.
    let report = imported(
        &app,
        &tenant,
        "customers",
        "external_id,name,city\nC001,张伟,\nC002,Li Na,北京\n",
    )
    .await;
    assert_eq!(counts(&report), (0, 1, 1, 0), "{report}");
    let zhang = customer_by_external_id(&app, &tenant, "C001").await;
    assert_eq!(zhang["phone"], "+8613800138000");
    assert_eq!(zhang["email"], "zhang.wei@example.cn");
    assert_eq!(zhang["vip"], true);
    assert_eq!(zhang["city"], Value::Null);
}

#[tokio::test]
async fn a_vehicle_created_without_an_external_id_is_matched_by_vin() {
    let app = TestApp::spawn().await;
    let tenant = app.tenant("dealer").await;
    imported(&app, &tenant, "customers", CUSTOMERS).await;
    let [v1, ..] = vins();
    let hotline = app
        .vehicle(&tenant, json!({ "vin": v1, "make": "SAIC Volkswagen" }))
        .await;

    let report = imported(&app, &tenant, "vehicles", &vehicles_csv()).await;
    assert_eq!(counts(&report), (2, 1, 0, 0), "{report}");
    let lavida = vehicle_by_vin(&app, &tenant, &v1).await;
    assert_eq!(lavida["id"], hotline["id"], "the vehicle on file is kept");
    assert_eq!(lavida["external_id"], "V001");
    assert_eq!(lavida["model"], "Lavida");

    // Once matched, its VIN cannot be changed by the file, nor claimed by another id.
    let other = vin("LSVAX4100N2000009");
    let report = imported(
        &app,
        &tenant,
        "vehicles",
        &format!("external_id,vin\nV001,{other}\nV009,{v1}\n"),
    )
    .await;
    assert_eq!(counts(&report), (0, 0, 0, 2), "{report}");
    assert!(error_message(&report, 2, "vin").contains("cannot change"));
    assert!(error_message(&report, 3, "vin").contains("`V001`"));
}

// ---------------------------------------------------------------------------------------
// Bad rows

#[tokio::test]
async fn bad_rows_are_reported_by_row_and_column_while_the_good_rows_land() {
    let app = TestApp::spawn().await;
    let tenant = app.tenant("dealer").await;

    let report = imported(
        &app,
        &tenant,
        "customers",
        "external_id,name,phone,email,vip\n\
         C001,张伟,13800138000,,\n\
         C002,,13900139000,,\n\
         C003,王芳,call me,not-an-email,maybe\n\
         C004,Li Na,13700137000\n\
         C005,赵磊,,,1\n",
    )
    .await;
    assert_eq!(counts(&report), (2, 0, 0, 3), "{report}");
    assert_eq!(report["rows"], 5);
    assert_eq!(
        error_cells(&report),
        [
            (3, Some("name".to_owned())),
            (4, Some("phone".to_owned())),
            (4, Some("email".to_owned())),
            (4, Some("vip".to_owned())),
            (5, None),
        ]
    );
    assert!(error_message(&report, 3, "name").contains("must not be empty"));
    assert!(
        report["errors"][4]["message"]
            .as_str()
            .unwrap()
            .contains("has 3 values")
    );
    customer_by_external_id(&app, &tenant, "C005").await;

    let good = vin("LSVAX4100N2000001");
    let mut bad_check_digit: Vec<char> = vin("LSVAX4100N2000002").chars().collect();
    bad_check_digit[8] = if bad_check_digit[8] == '1' { '2' } else { '1' };
    let bad_check_digit: String = bad_check_digit.into_iter().collect();
    let report = imported(
        &app,
        &tenant,
        "vehicles",
        &format!(
            "external_id,vin,customer_external_id,model_year,mileage_km\n\
             V001,{good},C001,2022,12000\n\
             V002,{bad_check_digit},C001,2022,\n\
             V003,LSVAX4100N20000O3,C001,,\n\
             V004,{},C404,,\n\
             V005,{},C005,20x2,-5\n\
             V006,{},C005,2023,100,extra\n",
            vin("LSVAX4100N2000004"),
            vin("LSVAX4100N2000005"),
            vin("LSVAX4100N2000006"),
        ),
    )
    .await;
    assert_eq!(counts(&report), (1, 0, 0, 5), "{report}");
    assert_eq!(
        error_cells(&report),
        [
            (3, Some("vin".to_owned())),
            (4, Some("vin".to_owned())),
            (5, Some("customer_external_id".to_owned())),
            (6, Some("model_year".to_owned())),
            (6, Some("mileage_km".to_owned())),
            (7, None),
        ]
    );
    assert!(error_message(&report, 3, "vin").contains("check digit"));
    assert!(error_message(&report, 4, "vin").contains("I, O and Q"));
    assert!(error_message(&report, 5, "customer_external_id").contains("C404"));
    vehicle_by_vin(&app, &tenant, &good).await;

    let report = imported(
        &app,
        &tenant,
        "service-records",
        &format!(
            "external_id,vin,service_date,mileage_km,work_done,dealer_code,cost\n\
             SR-1,{good},2025-03-05,5000,Oil change,SH-001,380\n\
             SR-2,{good},05/03/2025,5000,Oil change,SH-001,\n\
             SR-3,{},2025-03-05,5000,Oil change,SH-001,\n\
             SR-4,{good},2025-02-30,-1,,SH-001,1,280.00\n\
             SR-1,{good},2025-04-05,6000,Second visit,SH-001,\n",
            vin("LSVAX4100N2000099"),
        ),
    )
    .await;
    assert_eq!(counts(&report), (1, 0, 0, 4), "{report}");
    assert_eq!(
        error_cells(&report),
        [
            (3, Some("service_date".to_owned())),
            (4, Some("vin".to_owned())),
            (5, None),
            (6, Some("external_id".to_owned())),
        ]
    );
    assert!(error_message(&report, 3, "service_date").contains("YYYY-MM-DD"));
    assert!(error_message(&report, 4, "vin").contains("no vehicle with VIN"));
    assert!(error_message(&report, 6, "external_id").contains("already in row 2"));
}

#[tokio::test]
async fn the_error_list_is_capped_and_the_rest_are_counted_across_batches() {
    let app = TestApp::spawn().await;
    let tenant = app.tenant("dealer").await;
    // 1,200 rows span three write batches; every eighth row has no name.
    let mut csv = String::from("external_id,name,phone\n");
    for n in 0..1200 {
        let name = if n % 8 == 0 {
            String::new()
        } else {
            format!("客户{n}")
        };
        csv.push_str(&format!("C{n:05},{name},1380000{n:04}\n"));
    }
    let report = imported(&app, &tenant, "customers", &csv).await;
    assert_eq!(counts(&report), (1050, 0, 0, 150), "{}", report["errors"]);
    assert_eq!(report["errors"].as_array().unwrap().len(), 100);
    assert_eq!(report["errors_omitted"], 50);
    let rows: Vec<u64> = error_cells(&report).iter().map(|(row, _)| *row).collect();
    assert_eq!(rows[..3], [2, 10, 18], "errors are in row order");
    assert!(rows.windows(2).all(|w| w[0] < w[1]));

    let again = imported(&app, &tenant, "customers", &csv).await;
    assert_eq!(counts(&again), (0, 0, 1050, 150));
}

#[tokio::test]
async fn a_key_repeated_in_a_later_block_of_500_rows_updates_the_record_the_earlier_row_wrote() {
    let app = TestApp::spawn().await;
    let tenant = app.tenant("dealer").await;
    let mut csv = String::from("external_id,name\n");
    for n in 0..600 {
        csv.push_str(&format!("C{n:05},客户{n}\n"));
    }
    // Row 2's key again in the second block (rows 502-1001), and twice in that block.
    csv.push_str("C00000,张伟（更正）\nC00001,李娜\nC00001,李娜娜\n");

    let report = imported(&app, &tenant, "customers", &csv).await;

    assert_eq!(counts(&report), (600, 2, 0, 1), "{}", report["errors"]);
    assert_eq!(
        error_cells(&report),
        [(604, Some("external_id".to_owned()))]
    );
    assert!(
        report["errors"][0]["message"]
            .as_str()
            .unwrap()
            .contains("row 603")
    );
    assert_eq!(
        customer_by_external_id(&app, &tenant, "C00000").await["name"],
        "张伟（更正）",
        "the later row wins"
    );
}

#[tokio::test]
async fn a_row_longer_than_1_mib_stops_the_import_with_a_400_naming_it_and_earlier_rows_stay() {
    let app = TestApp::spawn().await;
    let tenant = app.tenant("dealer").await;
    // A quote never closed: the rest of the file, 2 MiB, would be one cell.
    let csv = format!(
        "external_id,name\nC001,张伟\nC002,李娜\nC003,\"王芳\n{}",
        "C004,赵磊\n".repeat(2 << 20 >> 4)
    );

    let reply = import(&app, &tenant, "customers", &csv)
        .await
        .expect_error(400);

    assert!(
        reply.error_message().contains("row 4"),
        "{}",
        reply.error_message()
    );
    assert!(
        reply.error_message().contains("1 MiB"),
        "{}",
        reply.error_message()
    );
    assert_eq!(
        customer_by_external_id(&app, &tenant, "C001").await["name"],
        "张伟"
    );
    assert_eq!(
        customer_by_external_id(&app, &tenant, "C002").await["name"],
        "李娜"
    );
}

// ---------------------------------------------------------------------------------------
// Encoding

#[tokio::test]
async fn a_bom_and_chinese_text_survive_the_import() {
    let app = TestApp::spawn().await;
    let tenant = app.tenant("dealer").await;
    // Excel's "CSV UTF-8" starts with a byte-order mark; header names are forgiving.
    let csv =
        "\u{feff}External ID,Name,phone\nC001,欧阳娜娜,13800138000\n\"C002\",\"上官 婉儿\",\n";
    let report = imported(&app, &tenant, "customers", csv).await;
    assert_eq!(counts(&report), (2, 0, 0, 0), "{report}");
    assert_eq!(
        customer_by_external_id(&app, &tenant, "C001").await["name"],
        "欧阳娜娜"
    );
    assert_eq!(
        customer_by_external_id(&app, &tenant, "C002").await["name"],
        "上官 婉儿"
    );
    let report = imported(
        &app,
        &tenant,
        "customers",
        "\u{feff}external_id,name,region,city\nC001,欧阳娜娜,华东,上海市浦东新区世纪大道100号\n",
    )
    .await;
    assert_eq!(counts(&report), (0, 1, 0, 0), "{report}");
    let customer = customer_by_external_id(&app, &tenant, "C001").await;
    assert_eq!(customer["city"], "上海市浦东新区世纪大道100号");
    assert_eq!(customer["region"], "华东");
}

#[tokio::test]
async fn a_row_that_is_not_utf8_in_a_file_that_began_as_utf8_is_reported_and_the_others_land() {
    let app = TestApp::spawn().await;
    let tenant = app.tenant("dealer").await;
    // Over 64 KiB of UTF-8 decide the file is UTF-8; then "张伟" in GBK.
    let mut body = b"external_id,name\n".to_vec();
    for n in 0..5_500 {
        body.extend_from_slice(format!("C{n:05},Li Na\n").as_bytes());
    }
    body.extend_from_slice(b"C99999,");
    body.extend_from_slice(&[0xd5, 0xc5, 0xce, 0xb0]);
    body.extend_from_slice(b"\n");
    let response = app
        .client
        .post(format!("{}/api/v1/imports/customers", app.url))
        .bearer_auth(&tenant.key)
        .header("content-type", "text/csv")
        .body(body)
        .send()
        .await
        .expect("POST");
    assert_eq!(response.status(), 200);
    let report: Value = response.json().await.expect("a JSON report");
    assert_eq!(counts(&report), (5_500, 0, 0, 1), "{report}");
    assert!(error_message(&report, 5_502, "name").contains("CSV UTF-8"));
}

// ---------------------------------------------------------------------------------------
// Tenants

#[tokio::test]
async fn a_tenant_cannot_link_to_another_tenants_customers_or_vehicles_by_external_id() {
    let app = TestApp::spawn().await;
    let a = app.tenant("dealer-a").await;
    let b = app.tenant("dealer-b").await;
    import_all(&app, &a).await;
    let [v1, ..] = vins();

    let report = imported(
        &app,
        &b,
        "vehicles",
        &format!(
            "external_id,vin,customer_external_id\nV001,{},C001\n",
            vin("LSVAX4100N2000077")
        ),
    )
    .await;
    assert_eq!(counts(&report), (0, 0, 0, 1), "{report}");
    assert!(error_message(&report, 2, "customer_external_id").contains("C001"));

    let report = imported(
        &app,
        &b,
        "service-records",
        &format!(
            "external_id,vin,service_date,mileage_km,work_done,dealer_code\n\
             SR-1,{v1},2025-03-05,5000,Oil change,SH-001\n"
        ),
    )
    .await;
    assert_eq!(counts(&report), (0, 0, 0, 1), "{report}");
    assert!(error_message(&report, 2, "vin").contains("no vehicle"));

    // The same external ids and VINs in tenant B are B's own records.
    let report = imported(
        &app,
        &b,
        "customers",
        "external_id,name\nC001,Another person\n",
    )
    .await;
    assert_eq!(counts(&report), (1, 0, 0, 0), "{report}");
    let report = imported(
        &app,
        &b,
        "vehicles",
        &format!("external_id,vin,customer_external_id\nV001,{v1},C001\n"),
    )
    .await;
    assert_eq!(counts(&report), (1, 0, 0, 0), "{report}");
    let b_vehicle = vehicle_by_vin(&app, &b, &v1).await;
    assert_eq!(
        b_vehicle["customer_id"],
        customer_by_external_id(&app, &b, "C001").await["id"]
    );
    assert_eq!(
        customer_by_external_id(&app, &a, "C001").await["name"],
        "张伟"
    );
    let a_vehicle = vehicle_by_vin(&app, &a, &v1).await;
    assert_ne!(a_vehicle["id"], b_vehicle["id"]);
    assert_eq!(
        service_history(&app, &a, a_vehicle["id"].as_str().unwrap())
            .await
            .len(),
        2
    );
}

// ---------------------------------------------------------------------------------------
// Uploads

#[tokio::test]
async fn a_malformed_upload_gets_a_clear_400() {
    let app = TestApp::spawn().await;
    let tenant = app.tenant("dealer").await;

    let json_body = import(&app, &tenant, "customers", r#"{"name": "张伟"}"#).await;
    assert_eq!(json_body.status, 400, "{:?}", json_body.body);
    assert!(
        json_body
            .error_message()
            .contains("first row must be the header")
    );
    assert!(json_body.error_message().contains("external_id (required)"));

    let no_header = import(&app, &tenant, "customers", "C001,张伟,13800138000\n").await;
    assert_eq!(no_header.status, 400);
    assert!(no_header.error_message().contains("`C001`"));

    let empty = import(&app, &tenant, "vehicles", "").await;
    assert_eq!(empty.status, 400);
    assert!(empty.error_message().contains("the file is empty"));

    let missing = import(&app, &tenant, "vehicles", "external_id,make\nV1,BYD\n").await;
    assert_eq!(missing.status, 400);
    assert!(missing.error_message().contains("no `vin` column"));

    let twice = import(&app, &tenant, "customers", "external_id,name,Name\n").await;
    assert_eq!(twice.status, 400);
    assert!(twice.error_message().contains("twice"));

    let json_type = app
        .post(
            &tenant.key,
            "/api/v1/imports/customers",
            &json!({ "rows": [] }),
        )
        .await;
    assert_eq!(json_type.status, 400);
    assert!(json_type.error_message().contains("text/csv"));

    let unknown_kind = import(&app, &tenant, "tickets", "external_id\n").await;
    assert_eq!(unknown_kind.status, 400);
    assert!(unknown_kind.error_message().contains("/imports/customers"));

    let customers = app.get(&tenant.key, "/api/v1/customers").await.expect(200);
    assert!(customers["items"].as_array().unwrap().is_empty());
}

#[tokio::test]
async fn a_multipart_upload_imports_its_file_part() {
    let app = TestApp::spawn().await;
    let tenant = app.tenant("dealer").await;
    let form = reqwest::multipart::Form::new()
        .text("note", "from the DMS export")
        .part(
            "file",
            reqwest::multipart::Part::bytes(format!("\u{feff}{CUSTOMERS}").into_bytes())
                .file_name("customers.csv")
                .mime_str("text/csv")
                .unwrap(),
        );
    let response = app
        .client
        .post(format!("{}/api/v1/imports/customers", app.url))
        .bearer_auth(&tenant.key)
        .multipart(form)
        .send()
        .await
        .expect("POST");
    assert_eq!(response.status(), 200);
    let report: Value = response.json().await.expect("a JSON report");
    assert_eq!(counts(&report), (3, 0, 0, 0), "{report}");

    let form = reqwest::multipart::Form::new().text("note", "no file");
    let response = app
        .client
        .post(format!("{}/api/v1/imports/customers", app.url))
        .bearer_auth(&tenant.key)
        .multipart(form)
        .send()
        .await
        .expect("POST");
    assert_eq!(response.status(), 400);
    let body: Value = response.json().await.expect("a JSON error");
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("`file` part")
    );
}

#[tokio::test]
async fn an_agent_key_cannot_import() {
    let app = TestApp::spawn().await;
    let tenant = app.tenant("dealer").await;
    let agent = app
        .post(
            &tenant.key,
            "/api/v1/api-keys",
            &json!({ "name": "hotline agent", "role": "agent" }),
        )
        .await
        .expect(201);
    let reply = app
        .post_raw(
            agent["secret"].as_str().unwrap(),
            "/api/v1/imports/customers",
            "text/csv",
            CUSTOMERS,
        )
        .await;
    assert_eq!(reply.status, 403);
    assert!(reply.error_message().contains("admin API key"));
}

// ---------------------------------------------------------------------------------------
// Service records API

#[tokio::test]
async fn a_service_record_is_added_to_a_vehicle_and_listed_latest_first() {
    let app = TestApp::spawn().await;
    let tenant = app.tenant("dealer").await;
    let vehicle = app
        .vehicle(&tenant, json!({ "vin": vin("LSVAX4100N2000001") }))
        .await;
    let path = format!(
        "/api/v1/vehicles/{}/service-records",
        vehicle["id"].as_str().unwrap()
    );
    let first = app
        .post(
            &tenant.key,
            &path,
            &json!({ "service_date": "2025-01-10", "mileage_km": 5000,
                     "work_done": "更换机油", "dealer_code": "SH-001", "cost": 380 }),
        )
        .await
        .expect(201);
    assert_eq!(first["cost"], "380.00");
    assert_eq!(first["vehicle_id"], vehicle["id"]);
    app.post(
        &tenant.key,
        &path,
        &json!({ "external_id": "SR-9", "service_date": "2025-07-01", "mileage_km": 15000,
                 "work_done": "Brake fluid", "dealer_code": "SH-001", "cost": "99.5" }),
    )
    .await
    .expect(201);

    let history = service_history(&app, &tenant, vehicle["id"].as_str().unwrap()).await;
    assert_eq!(history.len(), 2);
    assert_eq!(history[0]["service_date"], "2025-07-01");
    assert_eq!(history[0]["cost"], "99.50");
    assert_eq!(history[1]["id"], first["id"]);

    let duplicate = app
        .post(
            &tenant.key,
            &path,
            &json!({ "external_id": "SR-9", "service_date": "2025-07-02", "mileage_km": 15001,
                     "work_done": "Again", "dealer_code": "SH-001" }),
        )
        .await;
    assert_eq!(duplicate.status, 409, "{:?}", duplicate.body);
}

#[tokio::test]
async fn a_service_record_with_a_bad_date_or_negative_mileage_gets_422_per_field() {
    let app = TestApp::spawn().await;
    let tenant = app.tenant("dealer").await;
    let vehicle = app
        .vehicle(&tenant, json!({ "vin": vin("LSVAX4100N2000001") }))
        .await;
    let path = format!(
        "/api/v1/vehicles/{}/service-records",
        vehicle["id"].as_str().unwrap()
    );
    let reply = app
        .post(
            &tenant.key,
            &path,
            &json!({ "service_date": "2025-13-01", "mileage_km": -10,
                     "work_done": "Oil", "dealer_code": "SH-001", "cost": "1,280" }),
        )
        .await;
    assert_eq!(reply.status, 422, "{:?}", reply.body);
    let fields: Vec<&str> = reply.body["error"]["details"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["field"].as_str().unwrap())
        .collect();
    assert_eq!(fields, ["service_date", "mileage_km", "cost"]);

    let reply = app.post(&tenant.key, &path, &json!({})).await;
    assert_eq!(reply.status, 422);
    assert_eq!(reply.body["error"]["details"].as_array().unwrap().len(), 4);
    assert!(
        service_history(&app, &tenant, vehicle["id"].as_str().unwrap())
            .await
            .is_empty()
    );
}

#[tokio::test]
async fn another_tenants_vehicle_has_no_service_records_to_read_or_add() {
    let app = TestApp::spawn().await;
    let a = app.tenant("dealer-a").await;
    let b = app.tenant("dealer-b").await;
    import_all(&app, &a).await;
    let [v1, ..] = vins();
    let vehicle = vehicle_by_vin(&app, &a, &v1).await;
    let path = format!(
        "/api/v1/vehicles/{}/service-records",
        vehicle["id"].as_str().unwrap()
    );
    assert_eq!(app.get(&b.key, &path).await.status, 404);
    let reply = app
        .post(
            &b.key,
            &path,
            &json!({ "service_date": "2025-01-10", "mileage_km": 5000,
                     "work_done": "Oil", "dealer_code": "SH-001" }),
        )
        .await;
    assert_eq!(reply.status, 404);
    assert_eq!(
        service_history(&app, &a, vehicle["id"].as_str().unwrap())
            .await
            .len(),
        2
    );
}

#[tokio::test]
async fn a_gbk_file_from_excel_on_chinese_windows_imports_with_its_chinese_intact() {
    let app = TestApp::spawn().await;
    let tenant = app.tenant("oem-gbk").await;
    let csv = "external_id,name,phone,city\n\
               C-GBK-1,张伟,13912345601,上海\n\
               C-GBK-2,欧阳娜娜,13912345602,杭州\n";
    // What Excel's "CSV (Comma delimited)" writes on Chinese Windows: GBK, no BOM.
    let (gbk, _, unmappable) = encoding_rs::GBK.encode(csv);
    assert!(!unmappable);
    let reply = app
        .client
        .post(format!("{}/api/v1/imports/customers", app.url))
        .bearer_auth(&tenant.key)
        .header("content-type", "text/csv")
        .body(gbk.into_owned())
        .send()
        .await
        .unwrap();
    assert_eq!(reply.status(), 200);
    let report: Value = reply.json().await.unwrap();
    assert_eq!(counts(&report), (2, 0, 0, 0), "{report}");

    let customer = customer_by_external_id(&app, &tenant, "C-GBK-2").await;
    assert_eq!(customer["name"], "欧阳娜娜");
    assert_eq!(customer["city"], "杭州");
}

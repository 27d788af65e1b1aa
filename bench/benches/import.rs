//! CSV import of 100,000 rows on embedded SQLite, through the import service function that
//! the HTTP handler calls (HTTP adds only the body stream). The files are generated here:
//! customers with Chinese names, vehicles with valid VINs linked to those customers, and
//! service records linked to those VINs. The file is fed in 64 KiB chunks, as a network
//! body arrives.
//!
//! Each measurement imports into a fresh database; what a kind depends on (customers for
//! vehicles, vehicles for service records) is imported first, outside the measured time.
//! A re-import of an unchanged file is measured too: the path an idempotent nightly sync
//! takes.
//!
//! One import takes about a second, so criterion's minimum of 10 samples is 10 imports per
//! benchmark and the whole run stays under two minutes; its "unable to complete 10 samples"
//! warning is expected.

use std::hint::black_box;
use std::io;
use std::time::{Duration, Instant};

use axle_host::db::Db;
use axle_host::service::imports::{self, ImportKind, ImportReport};
use axle_host::store::tenants;
use axle_vin::Vin;
use bytes::Bytes;
use criterion::{Criterion, SamplingMode, Throughput, criterion_group, criterion_main};
use futures_util::stream;

const ROWS: usize = 100_000;
const CHUNK: usize = 64 * 1024;

fn customers_csv() -> Bytes {
    let mut csv = String::from("\u{feff}external_id,name,phone,email,region,city,vip\n");
    for n in 0..ROWS {
        csv.push_str(&format!(
            "C{n:06},客户{n},+86 138{n:08},customer{n}@example.cn,East China,上海,{}\n",
            n % 10 == 0
        ));
    }
    Bytes::from(csv)
}

fn vin(n: usize) -> String {
    Vin::with_check_digit(&format!("LSVAX4100N{n:07}"))
        .expect("a 17-character VIN stem")
        .to_string()
}

fn vehicles_csv() -> Bytes {
    let mut csv =
        String::from("external_id,vin,customer_external_id,make,model,model_year,mileage_km\n");
    for n in 0..ROWS {
        csv.push_str(&format!(
            "V{n:06},{},C{n:06},SAIC Volkswagen,Lavida,{},{}\n",
            vin(n),
            2015 + n % 10,
            n * 7 % 200_000
        ));
    }
    Bytes::from(csv)
}

fn service_records_csv() -> Bytes {
    let mut csv =
        String::from("external_id,vin,service_date,mileage_km,work_done,dealer_code,cost\n");
    for n in 0..ROWS {
        csv.push_str(&format!(
            "SR{n:07},{},2025-{:02}-{:02},{},\"更换机油, 机滤\",SH-{:03},{}.{:02}\n",
            vin(n),
            1 + n % 12,
            1 + n % 28,
            n * 7 % 200_000,
            n % 30,
            200 + n % 1000,
            n % 100
        ));
    }
    Bytes::from(csv)
}

/// The file as a body stream of `CHUNK`-sized pieces.
fn body(csv: &Bytes) -> impl futures_util::Stream<Item = io::Result<Bytes>> + Send + use<> {
    let chunks: Vec<io::Result<Bytes>> = (0..csv.len())
        .step_by(CHUNK)
        .map(|start| Ok(csv.slice(start..(start + CHUNK).min(csv.len()))))
        .collect();
    stream::iter(chunks)
}

/// A fresh embedded database with one tenant.
struct Fixture {
    db: Db,
    tenant_id: String,
    _dir: tempfile::TempDir,
}

impl Fixture {
    async fn new() -> Fixture {
        let dir = tempfile::tempdir().expect("temp dir");
        let db = Db::open_embedded(dir.path()).await.expect("open SQLite");
        let tenant = tenants::create(&db, "Bench dealer group", "bench")
            .await
            .expect("tenant");
        Fixture {
            db,
            tenant_id: tenant.id,
            _dir: dir,
        }
    }

    async fn import(&self, kind: ImportKind, csv: &Bytes) -> ImportReport {
        let report = imports::import(
            &self.db,
            &self.tenant_id,
            kind,
            axle_host::domain::phone::PhoneCountry::default(),
            body(csv),
        )
        .await
        .expect("import");
        assert_eq!(report.failed, 0, "{:?}", report.errors);
        assert_eq!(report.rows, ROWS as u64);
        report
    }

    async fn close(self) {
        self.db.close().await;
    }
}

fn import(c: &mut Criterion) {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("tokio runtime");
    let files = [
        (ImportKind::Customers, customers_csv()),
        (ImportKind::Vehicles, vehicles_csv()),
        (ImportKind::ServiceRecords, service_records_csv()),
    ];

    let mut group = c.benchmark_group(format!("csv import of {ROWS} rows, SQLite"));
    group
        .sample_size(10)
        .sampling_mode(SamplingMode::Flat)
        .warm_up_time(Duration::from_millis(1))
        .measurement_time(Duration::from_secs(1))
        .throughput(Throughput::Elements(ROWS as u64));
    for (index, (kind, csv)) in files.iter().enumerate() {
        group.bench_function(format!("{} (new)", kind.as_str()), |b| {
            b.iter_custom(|iters| {
                runtime.block_on(async {
                    let mut measured = Duration::ZERO;
                    for _ in 0..iters {
                        let fixture = Fixture::new().await;
                        for (before, file) in &files[..index] {
                            fixture.import(*before, file).await;
                        }
                        let start = Instant::now();
                        let report = fixture.import(*kind, csv).await;
                        measured += start.elapsed();
                        assert_eq!(report.created, ROWS as u64);
                        black_box(report);
                        fixture.close().await;
                    }
                    measured
                })
            })
        });
    }

    let fixture = runtime.block_on(async {
        let fixture = Fixture::new().await;
        for (kind, file) in &files[..2] {
            fixture.import(*kind, file).await;
        }
        fixture
    });
    group.bench_function("vehicles (re-import, unchanged)", |b| {
        b.iter_custom(|iters| {
            runtime.block_on(async {
                let start = Instant::now();
                for _ in 0..iters {
                    let report = fixture.import(ImportKind::Vehicles, &files[1].1).await;
                    assert_eq!(report.unchanged, ROWS as u64);
                    black_box(report);
                }
                start.elapsed()
            })
        })
    });
    group.finish();
    runtime.block_on(fixture.close());
}

criterion_group!(benches, import);
criterion_main!(benches);

//! The CSV import's reader and row checks, without a database: encoding detection (UTF-8,
//! a BOM, or GB18030), the header, the 1 MiB row cap and each kind's row validation.
//!
//! The first byte picks the kind (customers, vehicles, service records) and how the body
//! is cut into chunks (1 to 64 bytes, or whole), since an upload arrives in pieces that
//! split rows and characters anywhere.

#![no_main]

use axle_host::service::imports::{ImportKind, dry_run};
use bytes::Bytes;
use libfuzzer_sys::fuzz_target;

const KINDS: [ImportKind; 3] = [
    ImportKind::Customers,
    ImportKind::Vehicles,
    ImportKind::ServiceRecords,
];

fuzz_target!(|data: &[u8]| {
    let Some((&selector, body)) = data.split_first() else {
        return;
    };
    let kind = KINDS[usize::from(selector % 3)];
    let chunk = match usize::from(selector / 3) % 65 {
        0 => body.len().max(1),
        n => n,
    };
    let chunks = body.chunks(chunk).map(Bytes::copy_from_slice);
    if let Ok(report) = dry_run(kind, chunks) {
        assert_eq!(report.rows, report.valid + report.failed, "{report:?}");
    }
});

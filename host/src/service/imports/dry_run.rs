//! Reading a CSV upload without importing it: the same reader and row checks as an
//! import (encoding, header, the row cap, each kind's validation), with the batches
//! counted instead of written. Touches no database, so the fuzzer drives it.

use bytes::Bytes;
use serde::Serialize;
use tokio::sync::mpsc;

use super::reading::{ChunkReader, Header};
use super::{
    BATCH_ROWS, Batch, ImportKind, Importer, RowError, customers, list_errors, parse_rows,
    service_records, vehicles,
};
use crate::domain::phone::PhoneCountry;
use crate::service::ServiceError;

/// What reading a file found, row by row, with nothing written.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct DryRun {
    pub kind: ImportKind,
    /// Data rows read (blank rows are skipped): `valid + failed`.
    pub rows: u64,
    /// Rows that pass the file's own checks; an import may still refuse some against the
    /// records on file (a vehicle's unknown customer).
    pub valid: u64,
    /// Rows an import would refuse, for the errors listed.
    pub failed: u64,
    /// The first errors, in row order.
    pub errors: Vec<RowError>,
    /// Errors beyond the ones listed.
    pub errors_omitted: u64,
}

/// Reads `body` (the upload's chunks, as they arrived) as a CSV file of `kind`, the way
/// [`import`](super::import) does, and says what an import would do with each row. No
/// tenant is known, so no custom fields are declared: a `fields.<name>` column is
/// refused. A file that cannot be read at all is `ServiceError::Invalid`, as on import.
/// Blocking: call it off the async runtime.
pub fn dry_run(
    kind: ImportKind,
    body: impl IntoIterator<Item = Bytes>,
) -> Result<DryRun, ServiceError> {
    match kind {
        ImportKind::Customers => read::<customers::Customers>(body),
        ImportKind::Vehicles => read::<vehicles::Vehicles>(body),
        ImportKind::ServiceRecords => read::<service_records::ServiceRecords>(body),
    }
}

fn read<K: Importer>(body: impl IntoIterator<Item = Bytes>) -> Result<DryRun, ServiceError> {
    let chunks: Vec<Bytes> = body.into_iter().collect();
    let size: usize = chunks.iter().map(Bytes::len).sum();
    // The parser runs on this thread with nobody draining its batches, so both channels
    // must hold everything at once. A data row takes at least one byte and its line
    // break, so `size` bytes fill at most `size / 2 / BATCH_ROWS + 1` batches, plus the
    // one sent when reading breaks off; the capacity is twice that, allocated only as used.
    let (chunk_tx, chunk_rx) = mpsc::channel(chunks.len().max(1));
    let (batch_tx, mut batch_rx) = mpsc::channel::<Batch<K::Row>>(size / BATCH_ROWS + 2);
    // Held to the end: the parser stops early when nobody awaits the header.
    let (header_tx, _header_rx) = tokio::sync::oneshot::channel::<Header>();
    for chunk in chunks {
        chunk_tx
            .try_send(Ok(chunk))
            .expect("the chunk channel holds the whole body");
    }
    drop(chunk_tx);
    let declared = K::FIELDS.map(|_| &[][..]);
    let read = parse_rows::<K>(
        ChunkReader::new(chunk_rx),
        declared,
        PhoneCountry::default(),
        header_tx,
        batch_tx,
    );
    let mut report = DryRun {
        kind: K::KIND,
        rows: 0,
        valid: 0,
        failed: 0,
        errors: Vec::new(),
        errors_omitted: 0,
    };
    while let Ok(batch) = batch_rx.try_recv() {
        report.rows += batch.read;
        report.valid += batch.rows.len() as u64;
        report.failed += batch.failed;
        list_errors(&mut report.errors, &mut report.errors_omitted, batch.errors);
    }
    read.map_err(|err| ServiceError::Invalid(err.to_string()))?;
    Ok(report)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(kind: ImportKind, body: &[u8]) -> Result<DryRun, ServiceError> {
        dry_run(kind, [Bytes::copy_from_slice(body)])
    }

    #[test]
    fn good_and_bad_rows_are_counted_and_the_bad_ones_listed() {
        let csv = "external_id,vin,plate\nV1,1M8GDM9AXKP042788,沪A12345\nV2,1M8GDM9A1KP042788,\n";
        let report = check(ImportKind::Vehicles, csv.as_bytes()).expect("readable");
        assert_eq!((report.rows, report.valid, report.failed), (2, 1, 1));
        assert_eq!(report.errors[0].row, 3);
        assert_eq!(report.errors[0].column.as_deref(), Some("vin"));
    }

    #[test]
    fn a_gbk_file_reads_like_its_utf8_twin() {
        let text = "external_id,name,city\nC-1,张伟,上海\nC-2,李娜,杭州\n";
        let (gbk, _, _) = encoding_rs::GBK.encode(text);
        // Every three bytes a chunk: characters are cut across chunks.
        let chunks = gbk.chunks(3).map(Bytes::copy_from_slice);
        let from_gbk = dry_run(ImportKind::Customers, chunks).expect("readable");
        let from_utf8 = check(ImportKind::Customers, text.as_bytes()).expect("readable");
        assert_eq!(from_gbk, from_utf8);
        assert_eq!(from_gbk.valid, 2);
    }

    #[test]
    fn a_quote_never_closed_is_refused_at_its_row_not_read_to_the_end() {
        let mut csv = b"external_id,name\nC1,\"Li\n".to_vec();
        csv.resize(csv.len() + (2 << 20), b'x');
        let err = check(ImportKind::Customers, &csv).expect_err("an endless row");
        assert!(
            err.to_string().contains("row 2 is longer than 1 MiB"),
            "{err}"
        );
    }

    #[test]
    fn a_custom_field_column_is_refused_since_no_tenant_declared_it() {
        let csv = "external_id,name,fields.tier\nC1,Li,gold\n";
        let err = check(ImportKind::Customers, csv.as_bytes()).expect_err("undeclared");
        assert!(err.to_string().contains("fields.tier"), "{err}");
    }

    #[test]
    fn an_empty_body_is_refused_as_a_file_without_a_header() {
        let err = dry_run(ImportKind::ServiceRecords, []).expect_err("no header");
        assert!(err.to_string().contains("the file is empty"), "{err}");
    }
}

//! CSV import of customers, vehicles and service records: the data that dealers keep in
//! Excel or export from their DMS.
//!
//! The upload streams through three stages that run at the same time:
//! 1. the request body, chunk by chunk, into a bounded channel;
//! 2. a blocking task that parses CSV rows from that channel (`csv`), validates them and
//!    groups them into batches, sent on over a second bounded channel;
//! 3. the writer, which applies each batch in its own transaction.
//!
//! Memory stays bounded by the channels, whatever the file's size: a row is at most
//! `MAX_ROW_BYTES`, and repeated keys are looked for within a batch. Rows are matched by
//! external id, so importing the same file again changes nothing. A bad row is reported
//! with its row number and column and never stops the good ones.

mod customers;
mod dry_run;
mod reading;
mod service_records;
mod vehicles;

use std::collections::HashMap;
use std::future::Future;
use std::io;

use bytes::Bytes;
use futures_util::{Stream, StreamExt};
use serde::Serialize;
use tokio::sync::mpsc;

use super::{FieldError, ServiceError};
use crate::db::Db;
use crate::domain::field_definitions::FieldDefinition;
use crate::domain::phone::PhoneCountry;
use crate::domain::records::{FieldEntity, Fields, merge_fields};
use crate::store::{StoreError, field_definitions};
use reading::{Cells, ChunkReader, Header, ReadError};

pub use dry_run::{DryRun, dry_run};

/// Rows per transaction: large enough that commits do not dominate, small enough that a
/// batch's lookups and multi-row inserts stay well under both engines' bind limits.
pub const BATCH_ROWS: usize = 500;

/// How many row errors a report lists; the rest are only counted.
pub const MAX_LISTED_ERRORS: usize = 100;

/// How many times a batch starts again when a concurrent writer created the same record
/// between the batch's lookup and its insert.
const WRITE_ATTEMPTS: usize = 3;

/// Body chunks and parsed batches in flight between the stages.
const CHUNKS_IN_FLIGHT: usize = 8;
const BATCHES_IN_FLIGHT: usize = 2;

crate::domain::text_enum! {
    /// What an import brings in.
    #[derive(utoipa::ToSchema)]
    pub enum ImportKind spelled "kebab-case" {
        Customers,
        Vehicles,
        ServiceRecords,
    }
}

/// A problem with one row of the file.
#[derive(Clone, Debug, PartialEq, Serialize, utoipa::ToSchema)]
pub struct RowError {
    /// The row as a spreadsheet numbers it: the header is row 1.
    pub row: u64,
    /// The column, as named in the header; none when the row as a whole is wrong.
    pub column: Option<String>,
    pub message: String,
}

impl RowError {
    fn new(row: u64, column: &str, message: impl Into<String>) -> RowError {
        RowError {
            row,
            column: Some(column.to_owned()),
            message: message.into(),
        }
    }
}

/// What an import did.
#[derive(Clone, Debug, PartialEq, Serialize, utoipa::ToSchema)]
pub struct ImportReport {
    pub kind: ImportKind,
    /// Data rows read (blank rows are skipped): `created + updated + unchanged + failed`.
    pub rows: u64,
    pub created: u64,
    pub updated: u64,
    pub unchanged: u64,
    /// Rows not imported because of the errors listed.
    pub failed: u64,
    /// The first errors, in row order.
    pub errors: Vec<RowError>,
    /// Errors beyond the ones listed.
    pub errors_omitted: u64,
}

impl ImportReport {
    fn new(kind: ImportKind) -> ImportReport {
        ImportReport {
            kind,
            rows: 0,
            created: 0,
            updated: 0,
            unchanged: 0,
            failed: 0,
            errors: Vec::new(),
            errors_omitted: 0,
        }
    }

    /// Counts a written batch and lists its errors, which are in row order.
    fn add(&mut self, batch_rows: u64, outcome: Outcome) {
        self.rows += batch_rows;
        self.created += outcome.created;
        self.updated += outcome.updated;
        self.unchanged += outcome.unchanged;
        self.failed += outcome.failed;
        list_errors(&mut self.errors, &mut self.errors_omitted, outcome.errors);
    }
}

/// Adds `more` to the `listed` errors up to [`MAX_LISTED_ERRORS`], counting the rest as
/// `omitted`.
fn list_errors(listed: &mut Vec<RowError>, omitted: &mut u64, more: Vec<RowError>) {
    for error in more {
        if listed.len() < MAX_LISTED_ERRORS {
            listed.push(error);
        } else {
            *omitted += 1;
        }
    }
}

/// What writing one batch did.
#[derive(Debug, Default)]
struct Outcome {
    created: u64,
    updated: u64,
    unchanged: u64,
    failed: u64,
    errors: Vec<RowError>,
}

impl Outcome {
    /// Counts a row that failed, keeping its error.
    fn fail(&mut self, error: RowError) {
        self.fail_all(vec![error]);
    }

    /// Counts a row that failed, keeping all its errors.
    fn fail_all(&mut self, errors: Vec<RowError>) {
        self.failed += 1;
        self.errors.extend(errors);
    }

    /// Counts a record that was on file: updated when `changed`.
    fn matched(&mut self, changed: bool) {
        if changed {
            self.updated += 1;
        } else {
            self.unchanged += 1;
        }
    }
}

/// A row that passed validation.
struct Parsed<R> {
    row: u64,
    data: R,
}

/// One kind of record the import understands: its columns, how a row becomes a record, and
/// how a batch of records is written.
trait Importer: Send + Sync + 'static {
    type Row: Send + Sync + 'static;

    const KIND: ImportKind;
    /// Every column, in the order the documentation lists them.
    const COLUMNS: &'static [&'static str];
    /// The columns the header must name.
    const REQUIRED: &'static [&'static str];
    /// The record whose declared custom fields rows may carry as `fields.<name>` columns.
    const FIELDS: Option<FieldEntity> = None;

    /// Validates one row; problems go to `errors` with the column as the field.
    fn parse(cells: &Cells<'_>, errors: &mut Vec<FieldError>) -> Option<Self::Row>;

    /// The values that may appear only once in a file, by column.
    fn unique_keys(row: &Self::Row) -> impl Iterator<Item = (&'static str, &str)>;

    /// Writes a batch inside a transaction. A column the header leaves out keeps the value
    /// on file; a present but empty cell clears it.
    fn apply(
        conn: &mut sqlx::AnyConnection,
        tenant_id: &str,
        header: &Header,
        rows: &[Parsed<Self::Row>],
    ) -> impl Future<Output = Result<Outcome, StoreError>> + Send;
}

/// Rows read by the parser, on their way to the writer.
struct Batch<R> {
    rows: Vec<Parsed<R>>,
    /// Rows that failed validation, with their errors in row order.
    failed: u64,
    errors: Vec<RowError>,
    /// Every data row the batch covers, good or bad.
    read: u64,
}

impl<R> Batch<R> {
    fn new() -> Batch<R> {
        Batch {
            rows: Vec::with_capacity(BATCH_ROWS),
            failed: 0,
            errors: Vec::new(),
            read: 0,
        }
    }
}

/// Imports CSV text of `kind` from `body` into the tenant. The text is UTF-8 (a leading
/// byte-order mark is ignored) with a header row naming the columns.
///
/// A malformed upload (no header, unknown or missing columns, a broken stream) is
/// `ServiceError::Invalid`; batches written before a stream broke stay written, and
/// importing the whole file again is safe.
pub async fn import<S>(
    db: &Db,
    tenant_id: &str,
    kind: ImportKind,
    phone_country: PhoneCountry,
    body: S,
) -> Result<ImportReport, ServiceError>
where
    S: Stream<Item = io::Result<Bytes>> + Send,
{
    match kind {
        ImportKind::Customers => {
            run::<customers::Customers, S>(db, tenant_id, phone_country, body).await
        }
        ImportKind::Vehicles => {
            run::<vehicles::Vehicles, S>(db, tenant_id, phone_country, body).await
        }
        ImportKind::ServiceRecords => {
            run::<service_records::ServiceRecords, S>(db, tenant_id, phone_country, body).await
        }
    }
}

async fn run<K: Importer, S>(
    db: &Db,
    tenant_id: &str,
    phone_country: PhoneCountry,
    body: S,
) -> Result<ImportReport, ServiceError>
where
    S: Stream<Item = io::Result<Bytes>> + Send,
{
    let (chunk_tx, chunk_rx) = mpsc::channel::<io::Result<Bytes>>(CHUNKS_IN_FLIGHT);
    let (batch_tx, mut batch_rx) = mpsc::channel::<Batch<K::Row>>(BATCHES_IN_FLIGHT);
    let (header_tx, header_rx) = tokio::sync::oneshot::channel::<Header>();
    let declared = match K::FIELDS {
        Some(entity) => {
            let mut conn = db.reader().acquire().await?;
            Some(field_definitions::for_entity(&mut conn, tenant_id, entity).await?)
        }
        None => None,
    };
    let parser = tokio::task::spawn_blocking(move || {
        parse_rows::<K>(
            ChunkReader::new(chunk_rx),
            declared.as_deref(),
            phone_country,
            header_tx,
            batch_tx,
        )
    });

    // Stops on its own when the parser hangs up (it finished early or failed). A bounded
    // channel, not tokio-util's `SyncIoBridge` over the body: a multipart file part borrows
    // the request, so the body stays on this task and only its chunks cross to the parser.
    let pump = async move {
        let mut body = std::pin::pin!(body);
        while let Some(chunk) = body.next().await {
            let broken = chunk.is_err();
            if chunk_tx.send(chunk).await.is_err() || broken {
                break;
            }
        }
        Ok::<(), ServiceError>(())
    };
    let write = async move {
        let mut report = ImportReport::new(K::KIND);
        // No header means the parser rejected the upload; its error says why.
        let Ok(header) = header_rx.await else {
            return Ok(report);
        };
        while let Some(batch) = batch_rx.recv().await {
            let mut outcome = write_batch::<K>(db, tenant_id, &header, &batch.rows).await?;
            outcome.failed += batch.failed;
            outcome.errors.extend(batch.errors);
            outcome.errors.sort_by_key(|error| error.row);
            report.add(batch.read, outcome);
        }
        Ok(report)
    };
    let ((), report) = tokio::try_join!(pump, write)?;
    match parser.await {
        Ok(Ok(())) => Ok(report),
        Ok(Err(err)) => Err(ServiceError::Invalid(err.to_string())),
        Err(join) => Err(ServiceError::Internal(format!(
            "the CSV parser failed: {join}"
        ))),
    }
}

/// Writes one batch in a transaction, starting again when a concurrent import created one
/// of its records first.
async fn write_batch<K: Importer>(
    db: &Db,
    tenant_id: &str,
    header: &Header,
    rows: &[Parsed<K::Row>],
) -> Result<Outcome, ServiceError> {
    if rows.is_empty() {
        return Ok(Outcome::default());
    }
    let mut attempt = 1;
    loop {
        let mut tx = db.begin_write().await?;
        match K::apply(&mut tx, tenant_id, header, rows).await {
            Ok(outcome) => {
                tx.commit().await?;
                return Ok(outcome);
            }
            Err(StoreError::Db(sqlx::Error::Database(err)))
                if err.is_unique_violation() && attempt < WRITE_ATTEMPTS =>
            {
                tx.rollback().await?;
                attempt += 1;
            }
            Err(StoreError::Db(sqlx::Error::Database(err))) if err.is_unique_violation() => {
                return Err(ServiceError::Conflict(
                    "another import is writing the same records; import this file again once \
                     it has finished"
                        .to_owned(),
                ));
            }
            Err(err) => return Err(err.into()),
        }
    }
}

/// The parser stage: reads the header and the rows, validates them, and sends them on in
/// batches. Runs on a blocking thread.
fn parse_rows<K: Importer>(
    reader: ChunkReader,
    declared: Option<&[FieldDefinition]>,
    phone_country: PhoneCountry,
    header_tx: tokio::sync::oneshot::Sender<Header>,
    batch_tx: mpsc::Sender<Batch<K::Row>>,
) -> Result<(), ReadError> {
    let mut csv = reading::csv_reader(reader)?;
    let header = Header::read(&mut csv, K::KIND, K::COLUMNS, K::REQUIRED, declared)?;
    if header_tx.send(header.clone()).is_err() {
        return Ok(());
    }
    // The first row each unique value was seen in, within the current batch: a set for
    // the whole file would grow with it (a 1 GiB file holds millions of keys). A key
    // repeated in a later batch matches the record the earlier one wrote, and updates it.
    let mut seen: HashMap<(&'static str, String), u64> = HashMap::new();
    let mut record = csv::StringRecord::new();
    let mut batch = Batch::new();
    let mut row: u64 = 1;
    let mut field_errors = Vec::new();
    loop {
        row += 1;
        let start = csv.position().byte();
        csv.get_mut().next_row_at(start);
        let cells = match csv.read_record(&mut record) {
            Ok(false) => break,
            Ok(true) => Cells::new(&header, &record, phone_country),
            Err(err) => match reading::utf8_error(&err) {
                Some(field) => {
                    batch.read += 1;
                    batch.failed += 1;
                    batch.errors.push(RowError {
                        row,
                        column: header.name_at(field).map(str::to_owned),
                        message: "is not UTF-8 text; save the sheet as \"CSV UTF-8\"".to_owned(),
                    });
                    continue;
                }
                None => {
                    // Send what was read before the stream broke, then report the break.
                    let _ = batch_tx.blocking_send(batch);
                    return Err(ReadError::at_row(row, err));
                }
            },
        };
        if cells.is_blank() {
            continue;
        }
        batch.read += 1;
        if let Some(message) = cells.width_error() {
            batch.failed += 1;
            batch.errors.push(RowError {
                row,
                column: None,
                message,
            });
        } else {
            field_errors.clear();
            let parsed = K::parse(&cells, &mut field_errors);
            let mut errors: Vec<RowError> = field_errors
                .drain(..)
                .map(|e| RowError::new(row, &e.field, e.message))
                .collect();
            if let Some(data) = &parsed {
                for (column, value) in K::unique_keys(data) {
                    if let Some(first) = seen.get(&(column, value.to_owned())) {
                        errors.push(RowError::new(
                            row,
                            column,
                            format!(
                                "`{value}` is already in row {first}; each {column} may appear \
                                 only once in a file"
                            ),
                        ));
                    }
                }
                if errors.is_empty() {
                    for (column, value) in K::unique_keys(data) {
                        seen.insert((column, value.to_owned()), row);
                    }
                }
            }
            match parsed {
                Some(data) if errors.is_empty() => batch.rows.push(Parsed { row, data }),
                _ => {
                    batch.failed += 1;
                    batch.errors.extend(errors);
                }
            }
        }
        if batch.read as usize >= BATCH_ROWS {
            seen.clear();
            let full = std::mem::replace(&mut batch, Batch::new());
            if batch_tx.blocking_send(full).is_err() {
                // The writer stopped; its error is the one to report.
                return Ok(());
            }
        }
    }
    if batch.read > 0 {
        let _ = batch_tx.blocking_send(batch);
    }
    Ok(())
}

/// The custom fields a record will have: `changes` (a row's `fields.<name>` cells, `null`
/// for an empty one) over the fields `on_file`, checked against every declared field so
/// that a required one must be in the file or already on file. Problems are the row's
/// errors, one per field.
fn merged_fields(
    header: &Header,
    row: u64,
    on_file: &Fields,
    changes: &Fields,
) -> Result<Fields, Vec<RowError>> {
    let mut fields = on_file.clone();
    merge_fields(&mut fields, changes.clone());
    let problems = super::field_checks::check(header.declared(), &fields);
    if problems.is_empty() {
        Ok(fields)
    } else {
        Err(problems
            .into_iter()
            .map(|p| RowError::new(row, &p.field, p.message))
            .collect())
    }
}

/// `values` without repeats, in first-seen order: the keys a batch looks up.
fn distinct<'a>(values: impl Iterator<Item = &'a str>) -> Vec<&'a str> {
    let mut seen = std::collections::HashSet::new();
    values.filter(|value| seen.insert(*value)).collect()
}

#[cfg(test)]
mod tests {
    use futures_util::stream;

    use super::*;
    use crate::store::{customers, tenants};

    async fn tenant_db() -> (tempfile::TempDir, Db, String) {
        let dir = tempfile::tempdir().expect("temp dir");
        let db = Db::open_embedded(dir.path()).await.expect("open SQLite");
        let tenant = tenants::create(&db, "Dealer", "dealer")
            .await
            .expect("tenant");
        (dir, db, tenant.id)
    }

    async fn customer_count(db: &Db, tenant_id: &str) -> i64 {
        sqlx::query_scalar("SELECT COUNT(*) FROM customers WHERE tenant_id = $1")
            .bind(tenant_id)
            .fetch_one(db.reader())
            .await
            .expect("count")
    }

    /// Imports customers from `chunks`, as the body streams them.
    async fn import_customers(
        db: &Db,
        tenant_id: &str,
        chunks: Vec<io::Result<Bytes>>,
    ) -> Result<ImportReport, ServiceError> {
        import(
            db,
            tenant_id,
            ImportKind::Customers,
            PhoneCountry::default(),
            stream::iter(chunks),
        )
        .await
    }

    #[tokio::test]
    async fn rows_split_anywhere_across_chunks_are_read_whole() {
        let (_dir, db, tenant_id) = tenant_db().await;
        let csv = "\u{feff}external_id,name,city\nC1,欧阳娜娜,上海市浦东新区\nC2,\"Li, Na\",北京\n";
        // 5-byte chunks cut the BOM, the Chinese characters and the quoted comma apart.
        let chunks: Vec<io::Result<Bytes>> = csv
            .as_bytes()
            .chunks(5)
            .map(|chunk| Ok(Bytes::copy_from_slice(chunk)))
            .collect();
        let report = import_customers(&db, &tenant_id, chunks)
            .await
            .expect("import");
        assert_eq!((report.created, report.failed), (2, 0), "{report:?}");
        let mut conn = db.reader().acquire().await.expect("connection");
        let found = customers::by_external_ids(&mut conn, &tenant_id, &["C1", "C2"])
            .await
            .expect("lookup");
        let mut names: Vec<(&str, Option<&str>)> = found
            .iter()
            .map(|(_, c)| (c.name.as_str(), c.city.as_deref()))
            .collect();
        names.sort();
        assert_eq!(
            names,
            [
                ("Li, Na", Some("北京")),
                ("欧阳娜娜", Some("上海市浦东新区"))
            ]
        );
    }

    #[tokio::test]
    async fn rows_before_a_broken_upload_are_kept_and_the_break_is_reported() {
        let (_dir, db, tenant_id) = tenant_db().await;
        let mut csv = String::from("external_id,name\n");
        for n in 0..600 {
            csv.push_str(&format!("C{n},Customer {n}\n"));
        }
        let chunks = vec![
            Ok(Bytes::from(csv)),
            Err(io::Error::other("connection reset by peer")),
        ];
        let err = import_customers(&db, &tenant_id, chunks)
            .await
            .expect_err("a broken upload is an error");
        let ServiceError::Invalid(message) = err else {
            panic!("expected Invalid, got {err:?}");
        };
        assert!(message.contains("row 602"), "{message}");
        assert!(message.contains("connection reset by peer"), "{message}");
        assert_eq!(customer_count(&db, &tenant_id).await, 600);
    }
}

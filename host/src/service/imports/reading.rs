//! Reading an upload as CSV: body chunks from a channel as a blocking `Read`, the header
//! row mapped to known columns, and the cells of a row.

use std::io::{self, Read};

use bytes::{Buf, Bytes, BytesMut};
use tokio::sync::mpsc;

use super::ImportKind;
use crate::domain::field_definitions::FieldDefinition;
use crate::domain::phone::PhoneCountry;
use crate::domain::records::Fields;
use crate::service::FieldError;
use crate::service::field_checks::{error_field, value_from_text};

/// The UTF-8 byte-order mark that Excel writes at the start of "CSV UTF-8" files.
const BOM: &[u8] = b"\xEF\xBB\xBF";

/// How much of the file's start decides its encoding: headers are ASCII, so the first
/// Chinese names of the data rows must be in it.
const SNIFF_BYTES: usize = 64 << 10;

/// The longest row read. A customer, a vehicle or a service visit, notes included, is far
/// shorter; a longer "row" is a quote never closed or a file without line breaks, which
/// the CSV parser would otherwise hold whole in memory.
pub const MAX_ROW_BYTES: u64 = 1 << 20;

/// How far the CSV parser may read past the start of the row it is on before that row is
/// too long: the row itself plus its read-ahead buffer (8 KiB), with room to spare.
const ROW_READ_LIMIT: u64 = MAX_ROW_BYTES + (64 << 10);

/// A row longer than [`MAX_ROW_BYTES`], as the reader's I/O error.
#[derive(Debug, thiserror::Error)]
#[error("a row is longer than {} MiB", MAX_ROW_BYTES >> 20)]
pub(super) struct RowTooLong;

/// Body chunks, received from a bounded channel, as a blocking reader of UTF-8. The
/// sender hanging up is the end of the file. A file whose start is not UTF-8 is read as
/// GB18030 (a superset of GBK: what Excel's "CSV" writes on Chinese Windows) and decoded
/// to UTF-8 as it streams.
pub(super) struct ChunkReader {
    rx: mpsc::Receiver<io::Result<Bytes>>,
    chunk: Bytes,
    /// Set when the file is GB18030.
    decoder: Option<encoding_rs::Decoder>,
    /// The end of the body was handed to the decoder.
    ended: bool,
    /// A break in the upload met while sniffing, for the read after the sniffed rows.
    broken: Option<io::Error>,
    /// Bytes of text handed to the parser so far.
    delivered: u64,
    /// Where the row being parsed must end ([`ROW_READ_LIMIT`] past its start).
    row_limit: u64,
}

impl ChunkReader {
    pub(super) fn new(rx: mpsc::Receiver<io::Result<Bytes>>) -> ChunkReader {
        ChunkReader {
            rx,
            chunk: Bytes::new(),
            decoder: None,
            ended: false,
            broken: None,
            delivered: 0,
            row_limit: ROW_READ_LIMIT,
        }
    }

    /// Notes that the parser's next row starts at byte `start` of the text: reading far
    /// past it is [`RowTooLong`].
    pub(super) fn next_row_at(&mut self, start: u64) {
        self.row_limit = start + ROW_READ_LIMIT;
    }

    /// The next non-empty chunk; `None` at the end of the body.
    fn next_chunk(&mut self) -> io::Result<Option<Bytes>> {
        if let Some(err) = self.broken.take() {
            return Err(err);
        }
        loop {
            match self.rx.blocking_recv() {
                Some(Ok(chunk)) if chunk.is_empty() => continue,
                Some(Ok(chunk)) => return Ok(Some(chunk)),
                Some(Err(err)) => return Err(err),
                None => return Ok(None),
            }
        }
    }

    /// Drops a leading byte-order mark, however the first chunks are cut, and decides
    /// the encoding from the file's start: UTF-8 when it is UTF-8 (or has a BOM), else
    /// GB18030.
    fn read_start(&mut self) -> io::Result<()> {
        let mut start = BytesMut::new();
        while start.len() < SNIFF_BYTES {
            match self.next_chunk() {
                Ok(Some(chunk)) => start.extend_from_slice(&chunk),
                Ok(None) => break,
                Err(err) if start.is_empty() => return Err(err),
                // The rows before the break are read first, then the break reported.
                Err(err) => {
                    self.broken = Some(err);
                    break;
                }
            }
        }
        let bom = start.starts_with(BOM);
        if bom {
            start.advance(BOM.len());
        }
        let sniffed = &start[..start.len().min(SNIFF_BYTES)];
        let utf8 = match std::str::from_utf8(sniffed) {
            Ok(_) => true,
            // Cut off inside a character at the sniff's end: still UTF-8.
            Err(err) => err.error_len().is_none(),
        };
        self.chunk = start.freeze();
        if !bom && !utf8 {
            let raw = std::mem::take(&mut self.chunk);
            self.decoder = Some(encoding_rs::GB18030.new_decoder_without_bom_handling());
            self.decode(&raw);
        }
        Ok(())
    }

    /// Decodes `raw` of a GB18030 body into `self.chunk` as UTF-8; a character cut at
    /// the end of `raw` is kept by the decoder for the next piece.
    fn decode(&mut self, raw: &[u8]) {
        let decoder = self.decoder.as_mut().expect("a GB18030 body");
        let mut out = vec![0; decoder.max_utf8_buffer_length(raw.len()).unwrap_or(0) + 16];
        let (_, _, written, _) = decoder.decode_to_utf8(raw, &mut out, self.ended);
        out.truncate(written);
        self.chunk = Bytes::from(out);
    }

    /// Decodes the next piece of a GB18030 body into `self.chunk`; false at its end.
    fn decode_more(&mut self) -> io::Result<bool> {
        if self.ended {
            return Ok(false);
        }
        let raw = match self.next_chunk()? {
            Some(chunk) => chunk,
            None => {
                self.ended = true;
                Bytes::new()
            }
        };
        self.decode(&raw);
        Ok(true)
    }
}

impl Read for ChunkReader {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        while self.chunk.is_empty() {
            let more = if self.decoder.is_some() {
                self.decode_more()?
            } else {
                match self.next_chunk()? {
                    Some(chunk) => {
                        self.chunk = chunk;
                        true
                    }
                    None => false,
                }
            };
            if !more {
                return Ok(0);
            }
        }
        if self.delivered >= self.row_limit {
            return Err(io::Error::new(io::ErrorKind::InvalidData, RowTooLong));
        }
        let room = usize::try_from(self.row_limit - self.delivered).unwrap_or(usize::MAX);
        let n = buf.len().min(self.chunk.len()).min(room);
        buf[..n].copy_from_slice(&self.chunk[..n]);
        self.chunk.advance(n);
        self.delivered += n as u64;
        Ok(n)
    }
}

/// Why an upload could not be read as the CSV file it should be.
#[derive(Debug, thiserror::Error)]
pub(super) enum ReadError {
    #[error("{0}")]
    Header(String),
    #[error(
        "the upload broke off at row {row} ({source}); the rows before it were imported, and \
         importing the whole file again is safe"
    )]
    Broken { row: u64, source: csv::Error },
    #[error(
        "row {row} is longer than {} MiB: is a quote (\") never closed, or are the line breaks \
         missing? The rows before it were imported",
        MAX_ROW_BYTES >> 20
    )]
    RowTooLong { row: u64 },
}

impl ReadError {
    /// `err`, met while reading row `row`, as the reason the file could not be read.
    pub(super) fn at_row(row: u64, err: csv::Error) -> ReadError {
        let too_long = matches!(
            err.kind(),
            csv::ErrorKind::Io(io) if io.get_ref().is_some_and(|inner| inner.is::<RowTooLong>())
        );
        if too_long {
            ReadError::RowTooLong { row }
        } else {
            ReadError::Broken { row, source: err }
        }
    }
}

/// A CSV reader over the upload, past any byte-order mark. Rows may have the wrong number
/// of cells: that is reported per row, not for the file.
pub(super) fn csv_reader(mut reader: ChunkReader) -> Result<csv::Reader<ChunkReader>, ReadError> {
    reader.read_start().map_err(|err| ReadError::Broken {
        row: 1,
        source: err.into(),
    })?;
    Ok(csv::ReaderBuilder::new()
        .has_headers(true)
        .flexible(true)
        .trim(csv::Trim::All)
        .from_reader(reader))
}

/// The cell (0-based) that is not UTF-8, when that is what `err` is about.
pub(super) fn utf8_error(err: &csv::Error) -> Option<usize> {
    match err.kind() {
        csv::ErrorKind::Utf8 { err, .. } => Some(err.field()),
        _ => None,
    }
}

/// The header row: which known column is at which position.
#[derive(Clone, Debug)]
pub(super) struct Header {
    /// `(column, position)` for every known column the header names.
    positions: Vec<(&'static str, usize)>,
    /// `(definition, position)` for every declared custom field the header names as
    /// `fields.<name>`.
    custom: Vec<(FieldDefinition, usize)>,
    /// Every field the tenant declared on this kind of record, named in the header or not.
    declared: Vec<FieldDefinition>,
    /// The column at each position; `None` for an unnamed one.
    names: Vec<Option<&'static str>>,
}

/// How a header names a custom field: `fields.warranty_type`.
const CUSTOM_PREFIX: &str = "fields.";

/// `; the declared fields are: …` for a message, or nothing when none are.
fn declared_list(declared: &[FieldDefinition]) -> String {
    if declared.is_empty() {
        return String::new();
    }
    let names: Vec<String> = declared
        .iter()
        .map(|d| format!("{CUSTOM_PREFIX}{}", d.name))
        .collect();
    format!("; the declared fields are: {}", names.join(", "))
}

/// A header cell as a column name: `External ID` and `external-id` both name
/// `external_id`.
fn column_name(raw: &str) -> String {
    raw.trim()
        .trim_start_matches('\u{feff}')
        .to_lowercase()
        .replace([' ', '-'], "_")
}

/// The columns of a kind as the documentation lists them, for error messages.
fn column_list(columns: &[&str], required: &[&str]) -> String {
    columns
        .iter()
        .map(|column| {
            if required.contains(column) {
                format!("{column} (required)")
            } else {
                (*column).to_owned()
            }
        })
        .collect::<Vec<_>>()
        .join(", ")
}

impl Header {
    /// Reads and checks the header row against the columns of `kind` and, for a kind with
    /// custom fields, the fields `declared` on it (`None` for a kind without).
    pub(super) fn read<R: Read>(
        csv: &mut csv::Reader<R>,
        kind: ImportKind,
        columns: &'static [&'static str],
        required: &'static [&'static str],
        declared: Option<&[FieldDefinition]>,
    ) -> Result<Header, ReadError> {
        let expected = || column_list(columns, required);
        let record = match csv.headers() {
            Ok(record) => record.clone(),
            Err(err) if utf8_error(&err).is_some() => {
                return Err(ReadError::Header(
                    "the header row is not UTF-8 text; save the sheet as \"CSV UTF-8\"".to_owned(),
                ));
            }
            Err(source) => return Err(ReadError::at_row(1, source)),
        };
        if record.iter().all(|cell| cell.trim().is_empty()) {
            return Err(ReadError::Header(format!(
                "the file is empty: its first row must be the header naming the columns ({})",
                expected()
            )));
        }
        let mut header = Header {
            positions: Vec::new(),
            custom: Vec::new(),
            declared: declared.map(<[_]>::to_vec).unwrap_or_default(),
            names: Vec::with_capacity(record.len()),
        };
        let mut unknown = Vec::new();
        for (position, raw) in record.iter().enumerate() {
            let name = column_name(raw);
            if name.is_empty() {
                header.names.push(None);
                continue;
            }
            if let (Some(declared), Some(field)) = (declared, name.strip_prefix(CUSTOM_PREFIX)) {
                let Some(definition) = declared.iter().find(|d| d.name == field) else {
                    return Err(ReadError::Header(format!(
                        "the column `{}` names no declared {} field; declare it under \
                         /api/v1/field-definitions first, or leave the column out{}",
                        raw.trim(),
                        kind.as_str().trim_end_matches('s'),
                        declared_list(declared),
                    )));
                };
                if header.custom.iter().any(|(d, _)| d.name == field) {
                    return Err(ReadError::Header(format!(
                        "the header names the column `{name}` twice; keep one"
                    )));
                }
                header.custom.push((definition.clone(), position));
                header.names.push(None);
                continue;
            }
            match columns.iter().find(|column| **column == name) {
                Some(column) if header.position(column).is_some() => {
                    return Err(ReadError::Header(format!(
                        "the header names the column `{column}` twice; keep one"
                    )));
                }
                Some(column) => {
                    header.positions.push((column, position));
                    header.names.push(Some(column));
                }
                None => {
                    unknown.push(format!("`{}`", raw.trim()));
                    header.names.push(None);
                }
            }
        }
        if !unknown.is_empty() {
            return Err(ReadError::Header(format!(
                "this is not a {kind} CSV file: its first row must be the header naming the \
                 columns, and {} {} not a {kind} column. The columns are: {}",
                unknown.join(", "),
                if unknown.len() == 1 { "is" } else { "are" },
                expected(),
                kind = kind.as_str(),
            )));
        }
        let missing: Vec<&str> = required
            .iter()
            .copied()
            .filter(|column| header.position(column).is_none())
            .collect();
        if !missing.is_empty() {
            return Err(ReadError::Header(format!(
                "the header has no {} column; {} required. The columns are: {}",
                missing
                    .iter()
                    .map(|c| format!("`{c}`"))
                    .collect::<Vec<_>>()
                    .join(", "),
                if missing.len() == 1 {
                    "it is"
                } else {
                    "they are"
                },
                expected()
            )));
        }
        Ok(header)
    }

    /// Every field the tenant declared on this kind of record, to check rows against.
    pub(super) fn declared(&self) -> &[FieldDefinition] {
        &self.declared
    }

    /// Where `column` is, when the header names it.
    fn position(&self, column: &str) -> Option<usize> {
        self.positions
            .iter()
            .find(|(name, _)| *name == column)
            .map(|(_, position)| *position)
    }

    /// Whether the header names `column`. A column left out keeps the value on file.
    pub(super) fn has(&self, column: &str) -> bool {
        self.position(column).is_some()
    }

    /// The column at `position` (0-based).
    pub(super) fn name_at(&self, position: usize) -> Option<&'static str> {
        self.names.get(position).copied().flatten()
    }

    /// `new` when the header names `column`, else `on_file`.
    pub(super) fn pick<T>(&self, column: &str, new: T, on_file: T) -> T {
        if self.has(column) { new } else { on_file }
    }
}

/// The cells of one row, by column.
pub(super) struct Cells<'a> {
    header: &'a Header,
    record: &'a csv::StringRecord,
    /// The tenant's country for phone numbers written without a country code.
    pub(super) phone_country: PhoneCountry,
}

impl<'a> Cells<'a> {
    pub(super) fn new(
        header: &'a Header,
        record: &'a csv::StringRecord,
        phone_country: PhoneCountry,
    ) -> Cells<'a> {
        Cells {
            header,
            record,
            phone_country,
        }
    }

    /// Whether every cell is empty (spreadsheets write such rows as `,,,`).
    pub(super) fn is_blank(&self) -> bool {
        self.record.iter().all(|cell| cell.trim().is_empty())
    }

    /// What is wrong when the row does not have one cell per header column.
    pub(super) fn width_error(&self) -> Option<String> {
        let (cells, columns) = (self.record.len(), self.header.names.len());
        (cells != columns).then(|| {
            format!(
                "has {cells} values but the header has {columns} columns; a value that \
                 contains a comma must be in double quotes"
            )
        })
    }

    /// The trimmed text of `column`; empty when the cell or the column is.
    pub(super) fn text(&self, column: &str) -> &'a str {
        self.header
            .position(column)
            .and_then(|position| self.record.get(position))
            .map(str::trim)
            .unwrap_or("")
    }

    /// The text of `column`, or `None` when empty.
    pub(super) fn optional(&self, column: &str) -> Option<String> {
        Some(self.text(column))
            .filter(|text| !text.is_empty())
            .map(str::to_owned)
    }

    /// A whole number in `column`, or `None` when empty; anything else goes to `errors`.
    pub(super) fn whole_number(&self, column: &str, errors: &mut Vec<FieldError>) -> Option<i64> {
        let text = self.text(column);
        if text.is_empty() {
            return None;
        }
        text.parse()
            .map_err(|_| {
                errors.push(FieldError {
                    field: column.to_owned(),
                    message: format!(
                        "`{text}` is not a whole number; write digits only, e.g. 45000"
                    ),
                })
            })
            .ok()
    }

    /// The declared custom fields of the row, by name, checked against their kinds; an
    /// empty cell is `null`, which removes the field. Problems go to `errors`.
    pub(super) fn custom_fields(&self, errors: &mut Vec<FieldError>) -> Fields {
        let mut fields = Fields::new();
        for (definition, position) in &self.header.custom {
            let text = self.record.get(*position).map(str::trim).unwrap_or("");
            if text.is_empty() {
                fields.insert(definition.name.clone(), serde_json::Value::Null);
                continue;
            }
            match value_from_text(definition, text) {
                Ok(value) => {
                    fields.insert(definition.name.clone(), value);
                }
                Err(message) => errors.push(FieldError {
                    field: error_field(&definition.name),
                    message,
                }),
            }
        }
        fields
    }

    /// A yes/no in `column` (`true`/`false`, `yes`/`no`, `1`/`0`, `是`/`否`); empty is no.
    pub(super) fn flag(&self, column: &str, errors: &mut Vec<FieldError>) -> bool {
        match self.text(column).to_lowercase().as_str() {
            "" | "false" | "no" | "n" | "0" | "否" => false,
            "true" | "yes" | "y" | "1" | "是" => true,
            other => {
                errors.push(FieldError {
                    field: column.to_owned(),
                    message: format!("`{other}` is not yes or no; write true or false"),
                });
                false
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Everything a `ChunkReader` yields for `chunks`, after `read_start`.
    fn read_all(chunks: &[&[u8]]) -> Vec<u8> {
        let (tx, rx) = mpsc::channel(chunks.len().max(1));
        for chunk in chunks {
            tx.try_send(Ok(Bytes::copy_from_slice(chunk))).unwrap();
        }
        drop(tx);
        let mut reader = ChunkReader::new(rx);
        reader.read_start().unwrap();
        let mut out = Vec::new();
        reader.read_to_end(&mut out).unwrap();
        out
    }

    #[test]
    fn a_bom_is_dropped_even_when_split_across_chunks() {
        assert_eq!(read_all(&[b"\xEF", b"\xBB", b"\xBFa,b\n"]), b"a,b\n");
        assert_eq!(read_all(&[b"\xEF\xBB\xBFa", b",b\n"]), b"a,b\n");
    }

    #[test]
    fn text_without_a_bom_passes_unchanged() {
        assert_eq!(read_all(&[b"a", b"", b",b\n"]), b"a,b\n");
        assert_eq!(read_all(&[b"ab"]), b"ab");
        assert_eq!(read_all(&[]), b"");
    }

    #[test]
    fn a_gbk_file_is_decoded_to_utf8_even_with_characters_cut_across_chunks() {
        let text = "external_id,name,city\nC-1,张伟,上海\nC-2,李娜,杭州\n";
        let (gbk, _, unmappable) = encoding_rs::GBK.encode(text);
        assert!(!unmappable);
        assert_eq!(read_all(&[&gbk]), text.as_bytes());
        // Every two bytes a chunk: most Chinese characters are cut in half.
        let pieces: Vec<&[u8]> = gbk.chunks(2).collect();
        assert_eq!(read_all(&pieces), text.as_bytes());
    }

    #[test]
    fn utf8_cut_inside_a_character_at_the_end_of_the_start_stays_utf8() {
        let text = "name\n张伟\n".as_bytes();
        assert_eq!(read_all(&[&text[..6], &text[6..]]), text);
    }

    #[test]
    fn header_names_ignore_case_spaces_and_hyphens() {
        assert_eq!(column_name(" External ID "), "external_id");
        assert_eq!(
            column_name("\u{feff}Customer-External-Id"),
            "customer_external_id"
        );
    }
}

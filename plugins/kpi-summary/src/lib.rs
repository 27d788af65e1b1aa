//! A dashboard table: tickets, open tickets and critical tickets by category, last 30 days.

use axle_sdk::Error;
use axle_sdk::widget::{
    Cell, Dataset, DatasetQuery, Rendering, ReportWidget, Table, WidgetDescription,
};

/// The widget's title, also the table's.
const TITLE: &str = "Tickets by category (30 days)";

/// The dimension rows are grouped by.
const CATEGORY: &str = "category";

/// The measures shown, in column order, with their table headings. The first is required;
/// the host may leave the others out, and so does the table.
const MEASURES: [(&str, &str); 3] = [
    ("tickets", "Tickets"),
    ("open-tickets", "Open"),
    ("critical-tickets", "Critical"),
];

/// How many days back the dataset covers.
const PERIOD_DAYS: u32 = 30;

struct KpiSummary;

impl ReportWidget for KpiSummary {
    fn describe() -> WidgetDescription {
        WidgetDescription {
            title: TITLE.into(),
            query: DatasetQuery {
                measures: MEASURES.iter().map(|(name, _)| name.to_string()).collect(),
                group_by: vec![CATEGORY.into()],
                period_days: PERIOD_DAYS,
            },
        }
    }

    fn render(data: Dataset) -> Result<Rendering, Error> {
        table(&data).map(Rendering::Table)
    }
}

axle_sdk::export!(KpiSummary);

/// The table for `data`: one row per category and a total row.
fn table(data: &Dataset) -> Result<Table, Error> {
    let category = column(data, CATEGORY)?;
    let (tickets, _) = MEASURES[0];
    column(data, tickets)?;
    let measures: Vec<(usize, &str)> = MEASURES
        .iter()
        .filter_map(|&(name, heading)| column(data, name).ok().map(|at| (at, heading)))
        .collect();

    let mut totals = vec![0.0; measures.len()];
    let mut rows = Vec::with_capacity(data.rows.len() + 1);
    for (index, row) in data.rows.iter().enumerate() {
        if row.len() != data.columns.len() {
            return Err(Error::InvalidInput(format!(
                "dataset row {} has {} cells for {} columns",
                index + 1,
                row.len(),
                data.columns.len()
            )));
        }
        let mut cells = vec![category_label(&row[category])];
        for ((at, _), total) in measures.iter().zip(&mut totals) {
            let value = measure(&row[*at], &data.columns[*at], index)?;
            *total += value.unwrap_or(0.0);
            cells.push(value.map(format_number).unwrap_or_default());
        }
        rows.push(cells);
    }
    let mut total_row = vec!["Total".to_string()];
    total_row.extend(totals.into_iter().map(format_number));
    rows.push(total_row);

    let mut columns = vec!["Category".to_string()];
    columns.extend(measures.iter().map(|(_, heading)| heading.to_string()));
    Ok(Table {
        title: TITLE.into(),
        columns,
        rows,
    })
}

/// The index of column `name`, or `Error::InvalidInput` naming it.
fn column(data: &Dataset, name: &str) -> Result<usize, Error> {
    data.columns
        .iter()
        .position(|column| column == name)
        .ok_or_else(|| {
            Error::InvalidInput(format!(
                "dataset has no `{name}` column (it has: {}); the widget asks for it in describe",
                data.columns.join(", ")
            ))
        })
}

/// How a category cell reads in the table.
fn category_label(cell: &Cell) -> String {
    match cell {
        Cell::Text(text) if !text.trim().is_empty() => text.clone(),
        Cell::Number(number) => format_number(*number),
        Cell::Text(_) | Cell::Empty => "(none)".into(),
    }
}

/// The number in a measure cell; `None` when empty.
fn measure(cell: &Cell, column: &str, row: usize) -> Result<Option<f64>, Error> {
    match cell {
        Cell::Number(number) => Ok(Some(*number)),
        Cell::Empty => Ok(None),
        Cell::Text(text) => Err(Error::InvalidInput(format!(
            "dataset row {} has text {text:?} in measure column `{column}`; expected a number",
            row + 1
        ))),
    }
}

/// `12` rather than `12.0`; fractions keep at most two decimals, without trailing zeros.
fn format_number(value: f64) -> String {
    let rounded = (value * 100.0).round() / 100.0;
    let text = format!("{rounded:.2}");
    let text = text.trim_end_matches('0').trim_end_matches('.');
    if text == "-0" {
        "0".into()
    } else {
        text.into()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dataset(columns: &[&str], rows: Vec<Vec<Cell>>) -> Dataset {
        Dataset {
            columns: columns.iter().map(|c| c.to_string()).collect(),
            rows,
        }
    }

    fn text(s: &str) -> Cell {
        Cell::Text(s.into())
    }

    #[test]
    fn describe_asks_for_three_measures_by_category_over_30_days() {
        let description = KpiSummary::describe();
        assert_eq!(description.title, "Tickets by category (30 days)");
        assert_eq!(
            description.query.measures,
            ["tickets", "open-tickets", "critical-tickets"]
        );
        assert_eq!(description.query.group_by, ["category"]);
        assert_eq!(description.query.period_days, 30);
    }

    #[test]
    fn renders_category_rows_and_a_total() {
        let data = dataset(
            &["category", "tickets", "open-tickets", "critical-tickets"],
            vec![
                vec![
                    text("safety"),
                    Cell::Number(3.0),
                    Cell::Number(2.0),
                    Cell::Number(3.0),
                ],
                vec![
                    text("ev-charging"),
                    Cell::Number(12.0),
                    Cell::Number(5.0),
                    Cell::Empty,
                ],
            ],
        );
        let table = table(&data).unwrap();
        assert_eq!(table.title, TITLE);
        assert_eq!(table.columns, ["Category", "Tickets", "Open", "Critical"]);
        assert_eq!(
            table.rows,
            [
                ["safety", "3", "2", "3"],
                ["ev-charging", "12", "5", ""],
                ["Total", "15", "7", "3"],
            ]
        );
    }

    #[test]
    fn missing_optional_measures_are_left_out() {
        let data = dataset(
            &["tickets", "category"],
            vec![vec![Cell::Number(4.0), text("动力总成")]],
        );
        let table = table(&data).unwrap();
        assert_eq!(table.columns, ["Category", "Tickets"]);
        assert_eq!(table.rows, [["动力总成", "4"], ["Total", "4"]]);
    }

    #[test]
    fn empty_dataset_renders_a_zero_total() {
        let data = dataset(&["category", "tickets"], Vec::new());
        assert_eq!(table(&data).unwrap().rows, [["Total", "0"]]);
    }

    #[test]
    fn missing_category_or_tickets_column_is_named() {
        for (columns, missing) in [
            (&["tickets"][..], "`category`"),
            (&["category", "open-tickets"][..], "`tickets`"),
        ] {
            let err = table(&dataset(columns, Vec::new())).unwrap_err();
            assert!(
                matches!(&err, Error::InvalidInput(m) if m.contains(missing)),
                "{err:?}"
            );
        }
    }

    #[test]
    fn ragged_rows_and_text_measures_are_invalid_input() {
        let ragged = dataset(&["category", "tickets"], vec![vec![text("safety")]]);
        assert!(matches!(table(&ragged), Err(Error::InvalidInput(_))));
        let texty = dataset(
            &["category", "tickets"],
            vec![vec![text("safety"), text("3")]],
        );
        assert!(matches!(table(&texty), Err(Error::InvalidInput(m)) if m.contains("`tickets`")));
    }

    #[test]
    fn blank_categories_read_as_none() {
        assert_eq!(category_label(&Cell::Empty), "(none)");
        assert_eq!(category_label(&text(" ")), "(none)");
    }

    #[test]
    fn numbers_have_no_trailing_zeros() {
        assert_eq!(format_number(12.0), "12");
        assert_eq!(format_number(2.5), "2.5");
        assert_eq!(format_number(0.1 + 0.2), "0.3");
        assert_eq!(format_number(1234567.0), "1234567");
        assert_eq!(format_number(-0.001), "0");
        assert_eq!(format_number(0.0), "0");
    }
}

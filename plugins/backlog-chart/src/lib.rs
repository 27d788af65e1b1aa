//! A dashboard bar chart of the backlog: open tickets by category over 30 days, one
//! series per priority. Categories and priorities are shown as the host sends them, so
//! Chinese categories stay as they are.

use axle_sdk::Error;
use axle_sdk::widget::{
    Cell, Chart, ChartKind, Dataset, DatasetQuery, Rendering, ReportWidget, Series,
    WidgetDescription,
};

/// The widget's title, also the chart's.
const TITLE: &str = "Backlog by category and priority (30 days)";

const CATEGORY: &str = "category";
const PRIORITY: &str = "priority";
const OPEN: &str = "open-tickets";

/// Priorities in series order: the most urgent first. Others follow by name.
const PRIORITIES: [&str; 4] = ["critical", "high", "normal", "low"];

/// How many days back the dataset covers.
const PERIOD_DAYS: u32 = 30;

/// The label of a category or priority the ticket has none of.
const NONE: &str = "(none)";

struct BacklogChart;

impl ReportWidget for BacklogChart {
    fn describe() -> WidgetDescription {
        WidgetDescription {
            title: TITLE.into(),
            query: DatasetQuery {
                measures: vec![OPEN.into()],
                group_by: vec![CATEGORY.into(), PRIORITY.into()],
                period_days: PERIOD_DAYS,
            },
        }
    }

    fn render(data: Dataset) -> Result<Rendering, Error> {
        chart(&data).map(Rendering::Chart)
    }
}

axle_sdk::export!(BacklogChart);

/// The chart for `data`: categories with open tickets as labels (most open first, then
/// by name), one series per priority that has open tickets.
fn chart(data: &Dataset) -> Result<Chart, Error> {
    let category_at = column(data, CATEGORY)?;
    let priority_at = column(data, PRIORITY)?;
    let open_at = column(data, OPEN)?;
    // (category, priority, open) of every row with open tickets.
    let mut cells = Vec::new();
    for (index, row) in data.rows.iter().enumerate() {
        if row.len() != data.columns.len() {
            return Err(Error::InvalidInput(format!(
                "dataset row {} has {} cells for {} columns",
                index + 1,
                row.len(),
                data.columns.len()
            )));
        }
        let open = match &row[open_at] {
            Cell::Number(number) => *number,
            Cell::Empty => 0.0,
            Cell::Text(text) => {
                return Err(Error::InvalidInput(format!(
                    "dataset row {} has text {text:?} in `{OPEN}`; expected a number",
                    index + 1
                )));
            }
        };
        if open > 0.0 {
            cells.push((label(&row[category_at]), label(&row[priority_at]), open));
        }
    }

    let mut categories: Vec<(String, f64)> = Vec::new();
    for (category, _, open) in &cells {
        match categories.iter_mut().find(|(name, _)| name == category) {
            Some((_, total)) => *total += open,
            None => categories.push((category.clone(), *open)),
        }
    }
    categories.sort_by(|a, b| b.1.total_cmp(&a.1).then_with(|| a.0.cmp(&b.0)));

    let mut priorities: Vec<&str> = cells.iter().map(|(_, p, _)| p.as_str()).collect();
    priorities.sort_by_key(|p| (rank(p), *p));
    priorities.dedup();

    let series = priorities
        .iter()
        .map(|priority| Series {
            name: (*priority).to_string(),
            values: categories
                .iter()
                .map(|(category, _)| {
                    cells
                        .iter()
                        .filter(|(c, p, _)| c == category && p == priority)
                        .map(|(_, _, open)| open)
                        .sum()
                })
                .collect(),
        })
        .collect();
    Ok(Chart {
        kind: ChartKind::Bar,
        title: TITLE.into(),
        labels: categories.into_iter().map(|(name, _)| name).collect(),
        series,
    })
}

/// Where a priority sorts: the known ones by urgency, any other after them.
fn rank(priority: &str) -> usize {
    PRIORITIES
        .iter()
        .position(|known| *known == priority)
        .unwrap_or(PRIORITIES.len())
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

/// How a category or priority cell reads on the chart.
fn label(cell: &Cell) -> String {
    match cell {
        Cell::Text(text) if !text.trim().is_empty() => text.trim().to_string(),
        Cell::Number(number) => number.to_string(),
        Cell::Text(_) | Cell::Empty => NONE.into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(s: &str) -> Cell {
        Cell::Text(s.into())
    }

    fn dataset(rows: Vec<(&str, &str, f64)>) -> Dataset {
        Dataset {
            columns: vec![CATEGORY.into(), PRIORITY.into(), OPEN.into()],
            rows: rows
                .into_iter()
                .map(|(c, p, n)| vec![text(c), text(p), Cell::Number(n)])
                .collect(),
        }
    }

    #[test]
    fn describe_asks_for_open_tickets_by_category_and_priority() {
        let description = BacklogChart::describe();
        assert_eq!(description.title, TITLE);
        assert_eq!(description.query.measures, ["open-tickets"]);
        assert_eq!(description.query.group_by, ["category", "priority"]);
        assert_eq!(description.query.period_days, 30);
    }

    #[test]
    fn one_series_per_priority_most_urgent_first() {
        let chart = chart(&dataset(vec![
            ("body", "normal", 2.0),
            ("安全", "critical", 1.0),
            ("安全", "normal", 3.0),
            ("body", "low", 1.0),
        ]))
        .unwrap();
        assert_eq!(chart.kind, ChartKind::Bar);
        assert_eq!(chart.labels, ["安全", "body"]);
        let names: Vec<&str> = chart.series.iter().map(|s| s.name.as_str()).collect();
        assert_eq!(names, ["critical", "normal", "low"]);
        assert_eq!(chart.series[0].values, [1.0, 0.0]);
        assert_eq!(chart.series[1].values, [3.0, 2.0]);
        assert_eq!(chart.series[2].values, [0.0, 1.0]);
    }

    #[test]
    fn groups_without_open_tickets_are_left_out() {
        let chart = chart(&dataset(vec![
            ("ev-charging", "high", 0.0),
            ("body", "high", 2.0),
        ]))
        .unwrap();
        assert_eq!(chart.labels, ["body"]);
        assert_eq!(chart.series.len(), 1);
        let empty = super::chart(&dataset(Vec::new())).unwrap();
        assert!(empty.labels.is_empty() && empty.series.is_empty());
    }

    #[test]
    fn blank_values_read_as_none_and_unknown_priorities_come_last() {
        let data = Dataset {
            columns: vec![OPEN.into(), PRIORITY.into(), CATEGORY.into()],
            rows: vec![
                vec![Cell::Number(1.0), text("urgent"), Cell::Empty],
                vec![Cell::Number(1.0), text("critical"), text(" ")],
            ],
        };
        let chart = chart(&data).unwrap();
        assert_eq!(chart.labels, ["(none)"]);
        let names: Vec<&str> = chart.series.iter().map(|s| s.name.as_str()).collect();
        assert_eq!(names, ["critical", "urgent"]);
    }

    #[test]
    fn missing_columns_ragged_rows_and_text_counts_are_invalid_input() {
        let missing = Dataset {
            columns: vec![CATEGORY.into(), OPEN.into()],
            rows: Vec::new(),
        };
        assert!(matches!(chart(&missing), Err(Error::InvalidInput(m)) if m.contains("`priority`")));
        let mut ragged = dataset(Vec::new());
        ragged.rows.push(vec![text("body")]);
        assert!(matches!(chart(&ragged), Err(Error::InvalidInput(_))));
        let mut texty = dataset(Vec::new());
        texty.rows.push(vec![text("body"), text("low"), text("3")]);
        assert!(matches!(chart(&texty), Err(Error::InvalidInput(m)) if m.contains("open-tickets")));
    }
}

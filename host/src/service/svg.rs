//! Turns a report widget's rendering (a chart, a table or headline figures) into a
//! standalone SVG document. Output is deterministic: the same rendering gives the same
//! bytes, on a fixed viewBox, with every text XML-escaped in `<text>` elements (so
//! Chinese labels stay text, and the viewer's fonts draw them).

use std::fmt::Write;

use crate::runtime::wit::widget::{Chart, ChartKind, Rendering, Stat, Table};

/// The viewBox width.
pub const WIDTH: f64 = 640.0;
/// The viewBox height.
pub const HEIGHT: f64 = 360.0;

const PALETTE: [&str; 8] = [
    "#2563eb", "#f97316", "#16a34a", "#dc2626", "#9333ea", "#0891b2", "#ca8a04", "#db2777",
];
const FONT: &str = "system-ui, 'Noto Sans CJK SC', 'PingFang SC', 'Microsoft YaHei', sans-serif";
const TITLE_Y: f64 = 28.0;
/// The plot area of charts with axes.
const PLOT: Area = Area {
    left: 56.0,
    top: 48.0,
    right: 470.0,
    bottom: 310.0,
};
/// Labels longer than this many characters are cut with an ellipsis.
const LABEL_CHARS: usize = 14;

struct Area {
    left: f64,
    top: f64,
    right: f64,
    bottom: f64,
}

/// The SVG document for `rendering`, headed by `title` when given (a dashboard's title
/// override), else by the rendering's own title.
pub fn render(rendering: &Rendering, title: Option<&str>) -> String {
    let mut doc = Doc::new();
    match rendering {
        Rendering::Chart(chart) => {
            doc.title(title.unwrap_or(&chart.title));
            match chart.kind {
                ChartKind::Bar => bars(&mut doc, chart),
                ChartKind::Line => lines(&mut doc, chart),
                ChartKind::Pie => pie(&mut doc, chart),
            }
        }
        Rendering::Table(table) => {
            doc.title(title.unwrap_or(&table.title));
            table_rows(&mut doc, table);
        }
        Rendering::Stats(stats) => {
            if let Some(title) = title {
                doc.title(title);
            }
            tiles(&mut doc, stats, title.is_some());
        }
    }
    doc.finish()
}

/// A panel saying that the widget titled `title` could not be drawn, and why.
pub fn error_panel(title: &str, message: &str) -> String {
    let mut doc = Doc::new();
    doc.title(title);
    doc.text(
        WIDTH / 2.0,
        HEIGHT / 2.0,
        "middle",
        14.0,
        "#dc2626",
        message,
        "error",
    );
    doc.finish()
}

/// Escapes text for element content and attribute values, dropping characters XML 1.0
/// does not allow.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            '\t' | '\n' | '\r' => out.push(' '),
            c if (c as u32) < 0x20 || c == '\u{FFFE}' || c == '\u{FFFF}' => {}
            c => out.push(c),
        }
    }
    out
}

/// `text` cut to `max` characters (not bytes), with an ellipsis when cut.
fn clip(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        return text.to_owned();
    }
    let mut cut: String = text.chars().take(max.saturating_sub(1)).collect();
    cut.push('…');
    cut
}

/// A number for coordinates and labels: at most two decimals, no trailing zeros, and
/// never `NaN` or infinite (those read as 0).
fn num(value: f64) -> String {
    let value = if value.is_finite() { value } else { 0.0 };
    let text = format!("{:.2}", (value * 100.0).round() / 100.0);
    let text = text.trim_end_matches('0').trim_end_matches('.');
    if text == "-0" {
        "0".to_owned()
    } else {
        text.to_owned()
    }
}

fn color(index: usize) -> &'static str {
    PALETTE[index % PALETTE.len()]
}

struct Doc {
    out: String,
}

impl Doc {
    fn new() -> Doc {
        let mut out = String::new();
        let _ = write!(
            out,
            "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 {w} {h}\" width=\"{w}\" \
             height=\"{h}\" font-family=\"{FONT}\" role=\"img\">\
             <rect class=\"background\" x=\"0\" y=\"0\" width=\"{w}\" height=\"{h}\" fill=\"#ffffff\"/>",
            w = num(WIDTH),
            h = num(HEIGHT)
        );
        Doc { out }
    }

    fn title(&mut self, title: &str) {
        self.text(
            WIDTH / 2.0,
            TITLE_Y,
            "middle",
            16.0,
            "#111827",
            &clip(title, 60),
            "title",
        );
    }

    #[allow(clippy::too_many_arguments)]
    fn text(
        &mut self,
        x: f64,
        y: f64,
        anchor: &str,
        size: f64,
        fill: &str,
        text: &str,
        class: &str,
    ) {
        let _ = write!(
            self.out,
            "<text class=\"{class}\" x=\"{}\" y=\"{}\" text-anchor=\"{anchor}\" font-size=\"{}\" \
             fill=\"{fill}\">{}</text>",
            num(x),
            num(y),
            num(size),
            escape(text)
        );
    }

    fn line(&mut self, (x1, y1): (f64, f64), (x2, y2): (f64, f64), stroke: &str) {
        let _ = write!(
            self.out,
            "<line x1=\"{}\" y1=\"{}\" x2=\"{}\" y2=\"{}\" stroke=\"{stroke}\" stroke-width=\"1\"/>",
            num(x1),
            num(y1),
            num(x2),
            num(y2)
        );
    }

    fn no_data(&mut self) {
        self.text(
            WIDTH / 2.0,
            HEIGHT / 2.0,
            "middle",
            14.0,
            "#6b7280",
            "No data",
            "empty",
        );
    }

    fn legend(&mut self, names: &[&str]) {
        for (index, name) in names.iter().enumerate() {
            let y = PLOT.top + 8.0 + index as f64 * 20.0;
            let _ = write!(
                self.out,
                "<rect class=\"legend-key\" x=\"{}\" y=\"{}\" width=\"12\" height=\"12\" fill=\"{}\"/>",
                num(PLOT.right + 24.0),
                num(y - 10.0),
                color(index)
            );
            self.text(
                PLOT.right + 42.0,
                y,
                "start",
                12.0,
                "#374151",
                &clip(name, LABEL_CHARS + 4),
                "legend",
            );
        }
    }

    fn finish(mut self) -> String {
        self.out.push_str("</svg>");
        self.out
    }
}

/// The top of the value axis: a round number at or above `max`.
fn axis_max(max: f64) -> f64 {
    if !max.is_finite() || max <= 0.0 {
        return 1.0;
    }
    let magnitude = 10f64.powf(max.log10().floor());
    [1.0, 2.0, 2.5, 5.0, 10.0]
        .iter()
        .map(|step| step * magnitude)
        .find(|top| *top >= max)
        .unwrap_or(10.0 * magnitude)
}

/// Draws the value axis with gridlines from 0 to `top` and the category labels under the
/// plot at `xs`; returns the y of a value.
fn axes(doc: &mut Doc, top: f64, labels: &[String], xs: &[f64]) -> impl Fn(f64) -> f64 + use<> {
    const TICKS: usize = 5;
    let height = PLOT.bottom - PLOT.top;
    let y_of = move |value: f64| {
        let value = if value.is_finite() {
            value.max(0.0)
        } else {
            0.0
        };
        PLOT.bottom - value.min(top) / top * height
    };
    for tick in 0..=TICKS {
        let value = top * tick as f64 / TICKS as f64;
        let y = y_of(value);
        doc.line((PLOT.left, y), (PLOT.right, y), "#e5e7eb");
        doc.text(
            PLOT.left - 6.0,
            y + 4.0,
            "end",
            11.0,
            "#6b7280",
            &num(value),
            "axis-value",
        );
    }
    doc.line(
        (PLOT.left, PLOT.bottom),
        (PLOT.right, PLOT.bottom),
        "#374151",
    );
    doc.line((PLOT.left, PLOT.top), (PLOT.left, PLOT.bottom), "#374151");
    for (label, x) in labels.iter().zip(xs) {
        doc.text(
            *x,
            PLOT.bottom + 18.0,
            "middle",
            11.0,
            "#374151",
            &clip(label, LABEL_CHARS),
            "axis-label",
        );
    }
    y_of
}

fn max_value(chart: &Chart) -> f64 {
    chart
        .series
        .iter()
        .flat_map(|s| s.values.iter().copied())
        .filter(|v| v.is_finite())
        .fold(0.0, f64::max)
}

fn series_names(chart: &Chart) -> Vec<&str> {
    chart.series.iter().map(|s| s.name.as_str()).collect()
}

/// Grouped bars: one group per label, one bar per series in each.
fn bars(doc: &mut Doc, chart: &Chart) {
    if chart.labels.is_empty() || chart.series.is_empty() {
        doc.no_data();
        return;
    }
    let slot = (PLOT.right - PLOT.left) / chart.labels.len() as f64;
    let xs: Vec<f64> = (0..chart.labels.len())
        .map(|i| PLOT.left + slot * (i as f64 + 0.5))
        .collect();
    let y_of = axes(doc, axis_max(max_value(chart)), &chart.labels, &xs);
    let bar_width = slot * 0.8 / chart.series.len() as f64;
    for (label_index, label) in chart.labels.iter().enumerate() {
        let group_left = PLOT.left + slot * label_index as f64 + slot * 0.1;
        for (series_index, series) in chart.series.iter().enumerate() {
            let Some(value) = series.values.get(label_index).copied() else {
                continue;
            };
            let y = y_of(value);
            let _ = write!(
                doc.out,
                "<rect class=\"bar\" x=\"{}\" y=\"{}\" width=\"{}\" height=\"{}\" fill=\"{}\">\
                 <title>{}</title></rect>",
                num(group_left + bar_width * series_index as f64),
                num(y),
                num(bar_width),
                num(PLOT.bottom - y),
                color(series_index),
                escape(&format!("{label} · {}: {}", series.name, num(value)))
            );
        }
    }
    doc.legend(&series_names(chart));
}

/// One polyline per series, with a marker per value.
fn lines(doc: &mut Doc, chart: &Chart) {
    if chart.labels.is_empty() || chart.series.is_empty() {
        doc.no_data();
        return;
    }
    let step = if chart.labels.len() > 1 {
        (PLOT.right - PLOT.left) / (chart.labels.len() - 1) as f64
    } else {
        0.0
    };
    let xs: Vec<f64> = (0..chart.labels.len())
        .map(|i| {
            if chart.labels.len() > 1 {
                PLOT.left + step * i as f64
            } else {
                (PLOT.left + PLOT.right) / 2.0
            }
        })
        .collect();
    let y_of = axes(doc, axis_max(max_value(chart)), &chart.labels, &xs);
    for (series_index, series) in chart.series.iter().enumerate() {
        let points: Vec<(f64, f64)> = xs
            .iter()
            .zip(&series.values)
            .map(|(x, value)| (*x, y_of(*value)))
            .collect();
        let path: Vec<String> = points
            .iter()
            .map(|(x, y)| format!("{},{}", num(*x), num(*y)))
            .collect();
        let _ = write!(
            doc.out,
            "<polyline class=\"series\" fill=\"none\" stroke=\"{}\" stroke-width=\"2\" points=\"{}\"/>",
            color(series_index),
            path.join(" ")
        );
        for (x, y) in points {
            let _ = write!(
                doc.out,
                "<circle class=\"point\" cx=\"{}\" cy=\"{}\" r=\"3\" fill=\"{}\"/>",
                num(x),
                num(y),
                color(series_index)
            );
        }
    }
    doc.legend(&series_names(chart));
}

/// A pie of the first series' values, one slice per label, with a legend of labels.
fn pie(doc: &mut Doc, chart: &Chart) {
    let values: Vec<f64> = chart
        .series
        .first()
        .map(|s| {
            s.values
                .iter()
                .map(|v| if v.is_finite() { v.max(0.0) } else { 0.0 })
                .collect()
        })
        .unwrap_or_default();
    let total: f64 = values.iter().sum();
    if chart.labels.is_empty() || total <= 0.0 {
        doc.no_data();
        return;
    }
    let (cx, cy, r) = (220.0, 190.0, 120.0);
    let mut angle: f64 = 0.0;
    for (index, (label, value)) in chart.labels.iter().zip(&values).enumerate() {
        let share = value / total;
        let tip = format!("{label}: {}", num(*value));
        if share >= 1.0 {
            let _ = write!(
                doc.out,
                "<circle class=\"slice\" cx=\"{}\" cy=\"{}\" r=\"{}\" fill=\"{}\"><title>{}</title></circle>",
                num(cx),
                num(cy),
                num(r),
                color(index),
                escape(&tip)
            );
        } else if share > 0.0 {
            let end = angle + share * std::f64::consts::TAU;
            let point = |a: f64| (cx + r * a.sin(), cy - r * a.cos());
            let (x1, y1) = point(angle);
            let (x2, y2) = point(end);
            let large = if share > 0.5 { 1 } else { 0 };
            let _ = write!(
                doc.out,
                "<path class=\"slice\" d=\"M{},{} L{},{} A{},{} 0 {large} 1 {},{} Z\" fill=\"{}\">\
                 <title>{}</title></path>",
                num(cx),
                num(cy),
                num(x1),
                num(y1),
                num(r),
                num(r),
                num(x2),
                num(y2),
                color(index),
                escape(&tip)
            );
            angle = end;
        }
    }
    let legend: Vec<String> = chart
        .labels
        .iter()
        .zip(&values)
        .map(|(label, value)| format!("{} ({})", clip(label, LABEL_CHARS), num(*value)))
        .collect();
    doc.legend(&legend.iter().map(String::as_str).collect::<Vec<_>>());
}

/// The table's header and as many rows as fit; a last line counts the rest.
fn table_rows(doc: &mut Doc, table: &Table) {
    const ROW: f64 = 22.0;
    const TOP: f64 = 64.0;
    let columns = table
        .columns
        .len()
        .max(table.rows.iter().map(Vec::len).max().unwrap_or(0));
    if columns == 0 {
        doc.no_data();
        return;
    }
    let width = (WIDTH - 48.0) / columns as f64;
    let x_of = |column: usize| 24.0 + width * column as f64 + 6.0;
    let chars = ((width / 8.0) as usize).max(4);
    for (index, heading) in table.columns.iter().enumerate() {
        let _ = write!(
            doc.out,
            "<text class=\"table-heading\" x=\"{}\" y=\"{}\" font-size=\"12\" font-weight=\"bold\" \
             fill=\"#111827\">{}</text>",
            num(x_of(index)),
            num(TOP),
            escape(&clip(heading, chars))
        );
    }
    doc.line((24.0, TOP + 7.0), (WIDTH - 24.0, TOP + 7.0), "#374151");
    let fit = ((HEIGHT - TOP - 2.0 * ROW) / ROW) as usize;
    let shown = if table.rows.len() > fit {
        fit - 1
    } else {
        table.rows.len()
    };
    for (row_index, row) in table.rows.iter().take(shown).enumerate() {
        let y = TOP + ROW * (row_index as f64 + 1.0);
        for (index, cell) in row.iter().enumerate() {
            doc.text(
                x_of(index),
                y,
                "start",
                12.0,
                "#374151",
                &clip(cell, chars),
                "table-cell",
            );
        }
    }
    if shown < table.rows.len() {
        let more = table.rows.len() - shown;
        doc.text(
            x_of(0),
            TOP + ROW * (shown as f64 + 1.0),
            "start",
            12.0,
            "#6b7280",
            &format!("… {more} more rows"),
            "table-more",
        );
    }
}

/// Headline figures in tiles, up to four a row, under the title when there is one.
fn tiles(doc: &mut Doc, stats: &[Stat], titled: bool) {
    if stats.is_empty() {
        doc.no_data();
        return;
    }
    let first = if titled { TITLE_Y + 12.0 } else { 0.0 };
    let per_row = stats.len().min(4);
    let width = WIDTH / per_row as f64;
    let rows = stats.len().div_ceil(per_row);
    let height = (HEIGHT - first) / rows as f64;
    for (index, stat) in stats.iter().enumerate() {
        let x = width * ((index % per_row) as f64 + 0.5);
        let top = first + height * (index / per_row) as f64;
        let value = match &stat.unit {
            Some(unit) => format!("{} {unit}", num(stat.value)),
            None => num(stat.value),
        };
        doc.text(
            x,
            top + height * 0.5,
            "middle",
            32.0,
            color(index),
            &clip(&value, 16),
            "stat-value",
        );
        doc.text(
            x,
            top + height * 0.5 + 28.0,
            "middle",
            13.0,
            "#374151",
            &clip(&stat.label, 24),
            "stat-label",
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::runtime::wit::widget::Series;

    fn draw(rendering: &Rendering) -> String {
        render(rendering, None)
    }

    fn parse(svg: &str) -> roxmltree::Document<'_> {
        roxmltree::Document::parse(svg).unwrap_or_else(|err| panic!("{err}: {svg}"))
    }

    fn texts(doc: &roxmltree::Document<'_>, class: &str) -> Vec<String> {
        doc.descendants()
            .filter(|n| n.has_tag_name("text") && n.attribute("class") == Some(class))
            .map(|n| n.text().unwrap_or_default().to_owned())
            .collect()
    }

    fn chart(kind: ChartKind, labels: &[&str], series: &[(&str, &[f64])]) -> Rendering {
        Rendering::Chart(Chart {
            kind,
            title: "Open tickets 待处理工单".into(),
            labels: labels.iter().map(|s| s.to_string()).collect(),
            series: series
                .iter()
                .map(|(name, values)| Series {
                    name: name.to_string(),
                    values: values.to_vec(),
                })
                .collect(),
        })
    }

    #[test]
    fn grouped_bars_draw_one_bar_per_value_with_labels_and_legend() {
        let svg = draw(&chart(
            ChartKind::Bar,
            &["安全", "ev-charging", "body"],
            &[("critical", &[1.0, 0.0, 2.0]), ("normal", &[3.0, 4.0, 5.0])],
        ));
        let doc = parse(&svg);
        let root = doc.root_element();
        assert_eq!(root.attribute("viewBox"), Some("0 0 640 360"));
        let bars = doc
            .descendants()
            .filter(|n| n.attribute("class") == Some("bar"))
            .count();
        assert_eq!(bars, 6);
        assert_eq!(texts(&doc, "axis-label"), ["安全", "ev-charging", "body"]);
        assert_eq!(texts(&doc, "legend"), ["critical", "normal"]);
        assert_eq!(texts(&doc, "title"), ["Open tickets 待处理工单"]);
        // The value axis runs to a round number above the largest value.
        assert!(texts(&doc, "axis-value").contains(&"5".to_owned()));
    }

    #[test]
    fn text_is_escaped_and_control_characters_dropped() {
        let svg = draw(&Rendering::Table(Table {
            title: "<script>alert('x')</script> & \"co\"".into(),
            columns: vec!["类别 & <b>".into(), "Count".into()],
            rows: vec![vec!["a\u{1}b</text>".into(), "3".into()]],
        }));
        assert!(!svg.contains("<script>"));
        assert!(!svg.contains('\u{1}'));
        let doc = parse(&svg);
        assert_eq!(
            texts(&doc, "title"),
            ["<script>alert('x')</script> & \"co\""]
        );
        let headings: Vec<String> = doc
            .descendants()
            .filter(|n| n.attribute("class") == Some("table-heading"))
            .map(|n| n.text().unwrap_or_default().to_owned())
            .collect();
        assert_eq!(headings, ["类别 & <b>", "Count"]);
        assert_eq!(texts(&doc, "table-cell"), ["ab</text>", "3"]);
    }

    #[test]
    fn output_is_deterministic() {
        let rendering = chart(
            ChartKind::Line,
            &["一月", "二月", "三月"],
            &[("tickets", &[3.0, 1.5, 4.0])],
        );
        assert_eq!(draw(&rendering), draw(&rendering));
        let svg = draw(&rendering);
        let doc = parse(&svg);
        assert_eq!(
            doc.descendants()
                .filter(|n| n.attribute("class") == Some("point"))
                .count(),
            3
        );
    }

    #[test]
    fn pie_slices_follow_labels_and_a_lone_slice_is_a_circle() {
        let svg = draw(&chart(
            ChartKind::Pie,
            &["电话", "email", "chat"],
            &[("tickets", &[2.0, 1.0, 1.0])],
        ));
        let doc = parse(&svg);
        let slices = doc
            .descendants()
            .filter(|n| n.attribute("class") == Some("slice"))
            .count();
        assert_eq!(slices, 3);
        assert_eq!(texts(&doc, "legend"), ["电话 (2)", "email (1)", "chat (1)"]);
        let lone = draw(&chart(ChartKind::Pie, &["all"], &[("t", &[5.0])]));
        assert!(lone.contains("<circle class=\"slice\""));
    }

    #[test]
    fn empty_charts_say_no_data_and_nan_reads_as_zero() {
        let empty = parse(&draw(&chart(ChartKind::Bar, &[], &[])))
            .root_element()
            .descendants()
            .any(|n| n.attribute("class") == Some("empty"));
        assert!(empty);
        let svg = draw(&chart(ChartKind::Bar, &["a"], &[("s", &[f64::NAN])]));
        assert!(!svg.contains("NaN"));
        parse(&svg);
    }

    #[test]
    fn a_title_override_heads_the_drawing() {
        let rendering = chart(ChartKind::Bar, &["a"], &[("s", &[1.0])]);
        let svg = render(&rendering, Some("积压 & backlog"));
        assert_eq!(texts(&parse(&svg), "title"), ["积压 & backlog"]);
        let stats = Rendering::Stats(vec![Stat {
            label: "Open".into(),
            value: 1.0,
            unit: None,
        }]);
        assert_eq!(texts(&parse(&draw(&stats)), "title"), Vec::<String>::new());
        assert_eq!(
            texts(&parse(&render(&stats, Some("今日"))), "title"),
            ["今日"]
        );
    }

    #[test]
    fn stats_show_value_unit_and_label() {
        let svg = draw(&Rendering::Stats(vec![
            Stat {
                label: "平均时长".into(),
                value: 12.345,
                unit: Some("h".into()),
            },
            Stat {
                label: "Open".into(),
                value: 7.0,
                unit: None,
            },
        ]));
        let doc = parse(&svg);
        assert_eq!(texts(&doc, "stat-value"), ["12.35 h", "7"]);
        assert_eq!(texts(&doc, "stat-label"), ["平均时长", "Open"]);
    }

    #[test]
    fn long_tables_count_the_rows_left_out() {
        let rows = (0..40).map(|i| vec![format!("row {i}")]).collect();
        let svg = draw(&Rendering::Table(Table {
            title: "t".into(),
            columns: vec!["c".into()],
            rows,
        }));
        let doc = parse(&svg);
        let more = texts(&doc, "table-more");
        assert_eq!(more.len(), 1);
        let shown = texts(&doc, "table-cell").len();
        assert_eq!(more[0], format!("… {} more rows", 40 - shown));
    }

    #[test]
    fn long_labels_are_cut_by_characters() {
        assert_eq!(clip("售后服务中心售后服务中心售后服务中心", 5), "售后服务…");
        assert_eq!(clip("short", 14), "short");
    }
}

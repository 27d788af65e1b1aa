//! The markdown the run prints: every cell, what the plugins cost, the ticket p99 at 8
//! clients, and the first error replies.

use std::time::Duration;

use super::drive::Outcome;
use super::scenario::Scenario;

/// Where a measurement was taken.
pub struct Cell {
    pub backend: &'static str,
    pub plugins: bool,
    pub scenario: Scenario,
    pub clients: usize,
}

impl Cell {
    fn plugins(&self) -> &'static str {
        if self.plugins { "on" } else { "off" }
    }
}

impl std::fmt::Display for Cell {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} plugins {} {} x{}",
            self.backend,
            self.plugins(),
            self.scenario.label(),
            self.clients
        )
    }
}

/// One measured cell.
pub struct Row {
    pub cell: Cell,
    pub outcome: Outcome,
}

impl Row {
    /// The line printed as the cell finishes, so a long run shows progress.
    pub fn progress(&self) -> String {
        format!(
            "{}: {} req/s, p50 {}, p99 {}, {} errors",
            self.cell,
            rate(self.outcome.rate()),
            ms(self.outcome.percentile(50.0)),
            ms(self.outcome.percentile(99.0)),
            self.outcome.errors
        )
    }
}

/// Whole requests per second, with a decimal where a stalled cell would show 0.
fn rate(rate: f64) -> String {
    if rate < 10.0 {
        format!("{rate:.1}")
    } else {
        format!("{rate:.0}")
    }
}

pub(super) fn ms(latency: Option<Duration>) -> String {
    match latency {
        Some(latency) => format!("{:.1} ms", latency.as_secs_f64() * 1000.0),
        None => "-".to_owned(),
    }
}

/// Prints the report to stdout; `notes` are markdown list items.
pub fn print(rows: &[Row], notes: &[String]) {
    println!();
    println!("| backend | plugins | scenario | clients | req/s | p50 | p99 | errors |");
    println!("|---|---|---|---:|---:|---:|---:|---:|");
    for row in rows {
        let cell = &row.cell;
        println!(
            "| {} | {} | {} | {} | {} | {} | {} | {} |",
            cell.backend,
            cell.plugins(),
            cell.scenario.label(),
            cell.clients,
            rate(row.outcome.rate()),
            ms(row.outcome.percentile(50.0)),
            ms(row.outcome.percentile(99.0)),
            row.outcome.errors
        );
    }
    print_plugin_cost(rows);
    print_ticket_p99(rows);
    print_errors(rows);
    if !notes.is_empty() {
        println!();
        println!("Notes:");
        for note in notes {
            println!("{note}");
        }
    }
}

/// Throughput with the demo's plugins over throughput without them, cell by cell. A cell
/// with errors measured timeouts more than work, so its ratio would mean nothing.
fn print_plugin_cost(rows: &[Row]) {
    let pairs: Vec<(&Row, &Row)> = rows
        .iter()
        .filter(|on| on.cell.plugins)
        .filter_map(|on| {
            rows.iter()
                .find(|off| {
                    !off.cell.plugins
                        && off.cell.backend == on.cell.backend
                        && off.cell.scenario == on.cell.scenario
                        && off.cell.clients == on.cell.clients
                })
                .map(|off| (on, off))
        })
        .collect();
    if pairs.is_empty() {
        return;
    }
    println!();
    println!("Throughput with plugins on / off:");
    println!();
    println!("| backend | scenario | clients | on req/s | off req/s | on/off |");
    println!("|---|---|---:|---:|---:|---:|");
    for (on, off) in pairs {
        let ratio = if on.outcome.errors + off.outcome.errors > 0 {
            "n/a (errors)".to_owned()
        } else if off.outcome.rate() > 0.0 {
            format!("{:.2}", on.outcome.rate() / off.outcome.rate())
        } else {
            "-".to_owned()
        };
        println!(
            "| {} | {} | {} | {} | {} | {ratio} |",
            on.cell.backend,
            on.cell.scenario.label(),
            on.cell.clients,
            rate(on.outcome.rate()),
            rate(off.outcome.rate())
        );
    }
}

/// The number the issue asks about: ticket creation latency under moderate concurrency.
fn print_ticket_p99(rows: &[Row]) {
    const CLIENTS: usize = 8;
    let cells: Vec<&Row> = rows
        .iter()
        .filter(|row| row.cell.scenario.is_ticket() && row.cell.clients == CLIENTS)
        .collect();
    println!();
    if cells.is_empty() {
        println!(
            "p99 of POST /tickets at {CLIENTS} clients: not measured (add {CLIENTS} to --clients)"
        );
        return;
    }
    println!("p99 of POST /tickets at {CLIENTS} clients:");
    println!();
    println!("| backend | plugins | scenario | p99 | errors |");
    println!("|---|---|---|---:|---:|");
    for row in cells {
        println!(
            "| {} | {} | {} | {} | {} |",
            row.cell.backend,
            row.cell.plugins(),
            row.cell.scenario.label(),
            ms(row.outcome.percentile(99.0)),
            row.outcome.errors
        );
    }
}

/// The distinct error replies, each with the first cell that got it.
fn print_errors(rows: &[Row]) {
    const SHOWN: usize = 10;
    let total: u64 = rows.iter().map(|row| row.outcome.errors).sum();
    println!();
    if total == 0 {
        println!("Errors: none (every reply was 2xx).");
        return;
    }
    println!("Errors: {total} non-2xx replies or transport errors. The first distinct ones:");
    let mut seen: Vec<&str> = Vec::new();
    for row in rows {
        for error in &row.outcome.first_errors {
            if seen.len() < SHOWN && !seen.contains(&error.as_str()) {
                seen.push(error);
                println!("- {}: {error}", row.cell);
            }
        }
    }
}

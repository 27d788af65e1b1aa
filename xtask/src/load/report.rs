//! The markdown the run prints: every cell, what the plugins cost, the ticket p99 at 8
//! clients, and the first error replies.

use std::time::Duration;

use super::drive::Outcome;
use super::scenario::Scenario;

/// One measured cell.
pub struct Row {
    pub backend: &'static str,
    pub plugins: bool,
    pub scenario: Scenario,
    pub clients: usize,
    pub outcome: Outcome,
}

impl Row {
    fn plugins(&self) -> &'static str {
        if self.plugins { "on" } else { "off" }
    }

    /// The line printed as the cell finishes, so a long run shows progress.
    pub fn progress(&self) -> String {
        format!(
            "{} plugins {} {} x{}: {:.0} req/s, p50 {}, p99 {}, {} errors",
            self.backend,
            self.plugins(),
            self.scenario.label(),
            self.clients,
            self.outcome.rate(),
            ms(self.outcome.percentile(50.0)),
            ms(self.outcome.percentile(99.0)),
            self.outcome.errors
        )
    }
}

fn ms(latency: Option<Duration>) -> String {
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
        println!(
            "| {} | {} | {} | {} | {:.0} | {} | {} | {} |",
            row.backend,
            row.plugins(),
            row.scenario.label(),
            row.clients,
            row.outcome.rate(),
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

/// Throughput with the demo's plugins over throughput without them, cell by cell.
fn print_plugin_cost(rows: &[Row]) {
    let pairs: Vec<(&Row, &Row)> = rows
        .iter()
        .filter(|on| on.plugins)
        .filter_map(|on| {
            rows.iter()
                .find(|off| {
                    !off.plugins
                        && off.backend == on.backend
                        && off.scenario == on.scenario
                        && off.clients == on.clients
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
        let ratio = if off.outcome.rate() > 0.0 {
            format!("{:.2}", on.outcome.rate() / off.outcome.rate())
        } else {
            "-".to_owned()
        };
        println!(
            "| {} | {} | {} | {:.0} | {:.0} | {ratio} |",
            on.backend,
            on.scenario.label(),
            on.clients,
            on.outcome.rate(),
            off.outcome.rate()
        );
    }
}

/// The number the issue asks about: ticket creation latency under moderate concurrency.
fn print_ticket_p99(rows: &[Row]) {
    const CLIENTS: usize = 8;
    let cells: Vec<&Row> = rows
        .iter()
        .filter(|row| row.scenario.is_ticket() && row.clients == CLIENTS)
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
    println!("| backend | plugins | scenario | p99 |");
    println!("|---|---|---|---:|");
    for row in cells {
        println!(
            "| {} | {} | {} | {} |",
            row.backend,
            row.plugins(),
            row.scenario.label(),
            ms(row.outcome.percentile(99.0))
        );
    }
}

fn print_errors(rows: &[Row]) {
    const SHOWN: usize = 10;
    let total: u64 = rows.iter().map(|row| row.outcome.errors).sum();
    println!();
    if total == 0 {
        println!("Errors: none (every reply was 2xx).");
        return;
    }
    println!("Errors: {total} non-2xx replies or transport errors. The first ones:");
    let errors = rows.iter().flat_map(|row| {
        row.outcome.first_errors.iter().map(move |error| {
            format!(
                "{} plugins {} {} x{}: {error}",
                row.backend,
                row.plugins(),
                row.scenario.label(),
                row.clients
            )
        })
    });
    for error in errors.take(SHOWN) {
        println!("- {error}");
    }
}

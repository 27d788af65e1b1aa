//! The command line of `cargo xtask load`.

use std::time::Duration;

use super::drive::Budget;
use super::node::Backend;
use super::scenario::Scenario;
use crate::Result;

pub const USAGE: &str = "usage: cargo xtask load [OPTIONS]
  --backend sqlite|postgres|both   default both; `both` skips PostgreSQL when it is down
  --requests N                     measured requests per cell, default 1000
  --seconds S                      time limit per cell, default 5
  --clients 1,8,32                 concurrent clients, one cell per count
  --scenarios neutral,brake,intake POST /tickets neutral, brake complaint, /intake/calls";

/// What to measure.
pub struct Options {
    pub backends: Vec<Backend>,
    /// `--backend both` (the default) skips PostgreSQL when it is not running;
    /// `--backend postgres` fails instead.
    pub postgres_optional: bool,
    pub budget: Budget,
    pub clients: Vec<usize>,
    pub scenarios: Vec<Scenario>,
}

impl Options {
    pub fn parse(args: &[String]) -> Result<Options> {
        let mut options = Options {
            backends: vec![Backend::Sqlite, Backend::Postgres],
            postgres_optional: true,
            budget: Budget {
                requests: 1000,
                time: Duration::from_secs(5),
            },
            clients: vec![1, 8, 32],
            scenarios: Scenario::ALL.to_vec(),
        };
        let mut args = args.iter();
        while let Some(flag) = args.next() {
            let value = args
                .next()
                .ok_or_else(|| format!("{flag} needs a value\n{USAGE}"))?;
            let invalid = || format!("{flag} {value}: not valid\n{USAGE}");
            match flag.as_str() {
                "--backend" => {
                    (options.backends, options.postgres_optional) = match value.as_str() {
                        "sqlite" => (vec![Backend::Sqlite], false),
                        "postgres" => (vec![Backend::Postgres], false),
                        "both" => (vec![Backend::Sqlite, Backend::Postgres], true),
                        _ => return Err(invalid()),
                    }
                }
                "--requests" => {
                    options.budget.requests =
                        value.parse().ok().filter(|n| *n > 0).ok_or_else(invalid)?;
                }
                "--seconds" => {
                    let seconds: f64 = value
                        .parse()
                        .ok()
                        .filter(|s: &f64| *s > 0.0 && *s <= 600.0)
                        .ok_or_else(invalid)?;
                    options.budget.time = Duration::from_secs_f64(seconds);
                }
                "--clients" => {
                    options.clients =
                        list(value, |n| n.parse().ok().filter(|n| *n > 0)).ok_or_else(invalid)?;
                }
                "--scenarios" => {
                    options.scenarios = list(value, Scenario::parse).ok_or_else(invalid)?;
                }
                _ => return Err(format!("unknown option {flag}\n{USAGE}")),
            }
        }
        Ok(options)
    }
}

/// A non-empty comma-separated list whose every item parses.
pub(super) fn list<T>(value: &str, parse: impl Fn(&str) -> Option<T>) -> Option<Vec<T>> {
    let items: Option<Vec<T>> = value.split(',').map(|item| parse(item.trim())).collect();
    items.filter(|items| !items.is_empty())
}

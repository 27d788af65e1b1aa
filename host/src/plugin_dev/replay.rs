//! `axle plugin replay`: runs the crate's version on the inputs the tenant's installed
//! version recorded (`POST /api/v1/installations/{id}/replay`) and prints how often the two
//! agreed and where they did not, before anyone upgrades.

use serde_json::{Value, json};

use super::DevError;
use super::progress::Step;
use super::project::Project;
use super::publish::{self, Remote, server_message};

/// What to replay.
pub struct ReplayRequest {
    /// How many of the newest recorded inputs, 1 to 1,000.
    pub last: i64,
    /// The candidate's config; the installation's when `None`.
    pub config: Option<Value>,
}

/// Publishes the crate's version if the server lacks it, replays it against the tenant's
/// installation of the plugin and prints the comparison.
pub async fn replay(
    project: Project,
    remote: &Remote,
    request: ReplayRequest,
) -> Result<Value, DevError> {
    let name = project.manifest.name.clone();
    let label = project.manifest.label();
    let version = project.manifest.version.to_string();
    let installation = publish::installation_of(remote, &name)
        .await?
        .ok_or_else(|| {
            DevError::Usage(format!(
                "the tenant has no installation of {name} to compare with; replay compares a new \
             version with the installed one, so install a version first (`axle plugin install`)"
            ))
        })?;
    let id = installation["id"].as_str().unwrap_or_default().to_owned();
    if installation["version"] == version.as_str() {
        return Err(DevError::Usage(format!(
            "installation {id} already runs {label}; bump `version` in plugin.toml to replay \
             your changes against it"
        )));
    }
    // The server replays versions it has; publishing an identical build again is a no-op.
    publish::publish(project, remote).await?;

    let mut body = json!({ "version": version, "last": request.last });
    if let Some(config) = request.config {
        body["config"] = config;
    }
    let step = Step::start(format!(
        "Replaying up to {} recorded inputs of {name}@{} through {label}",
        request.last,
        installation["version"].as_str().unwrap_or("?")
    ));
    let (status, report) = remote
        .send(
            crate::tls::client()
                .post(remote.url(&format!("/installations/{id}/replay")))
                .json(&body),
        )
        .await?;
    if !status.is_success() {
        step.done("failed");
        return Err(DevError::Server(format!(
            "the server refused the replay of {label} ({status}): {}",
            server_message(&report)
        )));
    }
    step.done(&format!("{} runs", report["runs"]));
    print!("{}", summary(&report));
    Ok(report)
}

/// The report in a few lines: agreement, errors, latency, and the first differences.
fn summary(report: &Value) -> String {
    let runs = report["runs"].as_u64().unwrap_or(0);
    if runs == 0 {
        return "No recorded inputs to replay: the installed version has not run since inputs \
                are kept, or the tenant keeps none (input_retention_days)\n"
            .to_owned();
    }
    let agreed = report["agreed"].as_u64().unwrap_or(0);
    let mut text = format!(
        "agreement  {agreed} of {runs} ({:.0}%)\n",
        report["agreement_rate"].as_f64().unwrap_or(0.0) * 100.0
    );
    text.push_str(&format!(
        "errors     installed {}, candidate {}\n",
        report["errors"]["installed"]["count"], report["errors"]["candidate"]["count"]
    ));
    let micros = |side: &str, pct: &str| match report["latency_us"][side][pct].as_i64() {
        Some(us) => format!("{:.2} ms", us as f64 / 1000.0),
        None => "-".to_owned(),
    };
    text.push_str(&format!(
        "latency    installed p50 {} p99 {}, candidate p50 {} p99 {}\n",
        micros("installed", "p50"),
        micros("installed", "p99"),
        micros("candidate", "p50"),
        micros("candidate", "p99")
    ));
    for difference in report["differences"]
        .as_array()
        .into_iter()
        .flatten()
        .take(5)
    {
        text.push_str(&format!(
            "differs    ticket {}: installed {} / candidate {}\n",
            difference["subject_id"].as_str().unwrap_or("?"),
            side(&difference["installed"]),
            side(&difference["candidate"])
        ));
    }
    text
}

fn side(side: &Value) -> String {
    match side["error"].as_str() {
        Some(error) => format!("error: {error}"),
        None => side["decision"].to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_summary_gives_agreement_errors_latency_and_differences() {
        let report = json!({
            "runs": 4, "agreed": 3, "agreement_rate": 0.75,
            "errors": { "installed": { "count": 0 }, "candidate": { "count": 1 } },
            "latency_us": { "installed": { "p50": 1200, "p99": 3400 }, "candidate": { "p50": null, "p99": null } },
            "differences": [{
                "subject_id": "T-9",
                "installed": { "decision": { "team": "vip-care" } },
                "candidate": { "error": "config: team is blank" }
            }]
        });
        let text = summary(&report);
        assert!(text.contains("agreement  3 of 4 (75%)"), "{text}");
        assert!(text.contains("installed 0, candidate 1"), "{text}");
        assert!(
            text.contains("installed p50 1.20 ms p99 3.40 ms, candidate p50 -"),
            "{text}"
        );
        assert!(
            text.contains("ticket T-9: installed {\"team\":\"vip-care\"} / candidate error: config: team is blank"),
            "{text}"
        );
    }

    #[test]
    fn an_empty_replay_says_why_there_was_nothing_to_compare() {
        let text = summary(&json!({ "runs": 0 }));
        assert!(text.contains("No recorded inputs"), "{text}");
    }
}

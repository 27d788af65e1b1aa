//! The plugin's log lines during `axle plugin test`: the `log` capability writes them to
//! tracing as on the server; this layer keeps them so each fixture's report can show its
//! own, while other host messages go to stderr at warn and above.

use std::sync::Mutex;

use tracing::field::{Field, Visit};
use tracing::{Event, Subscriber};
use tracing_subscriber::layer::{Context, Layer, SubscriberExt};
use tracing_subscriber::util::SubscriberInitExt;
use tracing_subscriber::{EnvFilter, filter::LevelFilter};

/// Where the `log` capability's events come from.
const PLUGIN_LOG_TARGET: &str = "axle_host::runtime::capabilities::log";

static LINES: Mutex<Vec<String>> = Mutex::new(Vec::new());

struct Capture;

#[derive(Default)]
struct Message {
    text: String,
}

impl Visit for Message {
    fn record_str(&mut self, field: &Field, value: &str) {
        if field.name() == "message" {
            self.text = value.to_owned();
        }
    }

    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        if field.name() == "message" {
            self.text = format!("{value:?}");
        }
    }
}

impl<S: Subscriber> Layer<S> for Capture {
    fn on_event(&self, event: &Event<'_>, _ctx: Context<'_, S>) {
        if event.metadata().target() != PLUGIN_LOG_TARGET {
            return;
        }
        let mut message = Message::default();
        event.record(&mut message);
        let line = format!("{:<5} {}", event.metadata().level(), message.text);
        LINES
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .push(line);
    }
}

/// Installs the capturing subscriber (once per process; later calls do nothing).
pub fn install() {
    let stderr_filter = EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| EnvFilter::new("warn,sqlx=warn,wasmtime=warn,cranelift=warn"))
        .add_directive(
            format!("{PLUGIN_LOG_TARGET}=off")
                .parse()
                .expect("a valid directive"),
        );
    let _ = tracing_subscriber::registry()
        .with(Capture.with_filter(LevelFilter::TRACE))
        .with(
            tracing_subscriber::fmt::layer()
                .with_writer(std::io::stderr)
                .with_filter(stderr_filter),
        )
        .try_init();
}

/// The lines captured since the last call.
pub fn take() -> Vec<String> {
    std::mem::take(
        &mut *LINES
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner),
    )
}

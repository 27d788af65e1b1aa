//! `log`: guest log lines go to tracing, tagged with the caller, within a byte budget.

use super::super::sandbox::Sandbox;
use super::super::wit::log::{Host, Level};

impl Host for Sandbox {
    fn log(&mut self, level: Level, message: String) -> wasmtime::Result<()> {
        if !self.log.charge(message.len()) {
            return Ok(());
        }
        let call = &self.call;
        let (tenant, installation, plugin) = (&call.tenant_id, &call.installation_id, &call.plugin);
        match level {
            Level::Trace => tracing::trace!(tenant, installation, plugin, "{message}"),
            Level::Debug => tracing::debug!(tenant, installation, plugin, "{message}"),
            Level::Info => tracing::info!(tenant, installation, plugin, "{message}"),
            Level::Warn => tracing::warn!(tenant, installation, plugin, "{message}"),
            Level::Error => tracing::error!(tenant, installation, plugin, "{message}"),
        }
        Ok(())
    }
}

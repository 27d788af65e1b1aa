//! `config`: the installation's own config, always granted.

use super::super::sandbox::Sandbox;
use super::super::wit::config::Host;

impl Host for Sandbox {
    fn get_json(&mut self) -> wasmtime::Result<String> {
        Ok(self.call.config_json.clone())
    }

    fn get(&mut self, key: String) -> wasmtime::Result<Option<String>> {
        Ok(self.call.config.get(&key).map(|value| value.to_string()))
    }
}

//! A component's bytes checked before they are compiled: the preamble must say
//! "component", then wasmparser validates the whole binary with the proposals the engine
//! accepts. Both are cheap next to compiling, so a broken upload is refused before it
//! takes one of the node's compile slots.

use wasmparser::Validator;

use super::ComponentError;
use super::engine;

/// Checks that `bytes` is a component the engine would accept for compiling. Whether it
/// implements a world, and imports only what Axle provides, is decided once compiled.
pub fn validate_component(bytes: &[u8]) -> Result<(), ComponentError> {
    check_header(bytes)?;
    Validator::new_with_features(engine::wasm_features())
        .validate_all(bytes)
        .map(drop)
        .map_err(|err| ComponentError::Invalid(err.to_string()))
}

/// The preamble alone: WebAssembly, and a component rather than a core module, so the
/// common mistakes get their own messages before any parsing.
pub(super) fn check_header(bytes: &[u8]) -> Result<(), ComponentError> {
    if bytes.len() < 8 || &bytes[0..4] != b"\0asm" {
        return Err(ComponentError::NotWasm);
    }
    // The preamble's layer field (bytes 6..8) is 0 for core modules and 1 for components.
    if bytes[6..8] != [1, 0] {
        return Err(ComponentError::CoreModule);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The preamble of a component in the encoding wasmparser 0.254 reads (version 0xd).
    const COMPONENT: &[u8] = b"\0asm\x0d\0\x01\0";

    #[test]
    fn rejects_files_that_are_not_wasm() {
        assert!(matches!(
            validate_component(b"PK\x03\x04zipfile"),
            Err(ComponentError::NotWasm)
        ));
        assert!(matches!(
            validate_component(b"\0asm"),
            Err(ComponentError::NotWasm)
        ));
    }

    #[test]
    fn rejects_core_modules_with_a_hint_to_build_for_wasip2() {
        let core = b"\0asm\x01\0\0\0";
        let err = validate_component(core).unwrap_err();
        assert!(err.to_string().contains("wasm32-wasip2"), "{err}");
    }

    #[test]
    fn an_empty_component_is_valid() {
        validate_component(COMPONENT).expect("a preamble alone is a valid component");
    }

    #[test]
    fn a_truncated_component_is_invalid_and_says_where() {
        // A core module section that announces 8 bytes and holds 4.
        let truncated = [COMPONENT, b"\x01\x08\0asm"].concat();
        let err = validate_component(&truncated).unwrap_err();
        assert!(matches!(err, ComponentError::Invalid(_)), "{err}");
        assert!(err.to_string().contains("offset"), "{err}");
    }
}

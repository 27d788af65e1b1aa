//! Layering: the host's rooms depend one way (http/console → service → store, and service →
//! runtime), so one service function serves the API, the console, the seed and the import.
//! The rules are checked against the host's own source, which means a new import that goes
//! the wrong way fails here, before review. There are no exceptions: code that needs to
//! reach the wrong way moves instead (vocabulary into `domain`, a handler's work into
//! `service`, a call back from the runtime into a trait the service implements).

use std::path::{Path, PathBuf};

/// A dependency that some rooms must not have.
struct Rule {
    /// The rooms the rule binds. A room being renamed is listed under both names.
    rooms: &'static [&'static str],
    /// What those rooms must not reach: rooms of the host, or crates in `WATCHED_CRATES`.
    forbidden: &'static [&'static str],
    /// Why the dependency points the wrong way, for the failure message.
    why: &'static str,
}

/// Outside crates a rule can forbid. The reader looks for these by name as well as for
/// `crate::` paths.
const WATCHED_CRATES: &[&str] = &["utoipa"];

const RULES: &[Rule] = &[
    Rule {
        rooms: &["http"],
        forbidden: &["store"],
        why: "a handler goes through service, so every entry point shares one code path",
    },
    Rule {
        rooms: &["store"],
        forbidden: &["runtime"],
        why: "storage knows nothing of plugins; service wires the two together",
    },
    Rule {
        rooms: &["store"],
        forbidden: &["utoipa"],
        why: "the API's schema belongs to http, not to the rows it is built from",
    },
    Rule {
        rooms: &["runtime"],
        forbidden: &["service", "http"],
        why: "service calls the runtime, so a call back would make a cycle",
    },
    Rule {
        rooms: &["store"],
        forbidden: &["service", "http"],
        why: "service and http call the store, so a call back would make a cycle",
    },
    Rule {
        rooms: &["service"],
        forbidden: &["http"],
        why: "the console, the seed and the import call the service too; it must not \
              depend on one of its callers",
    },
    Rule {
        rooms: &["domain"],
        forbidden: &[
            "app",
            "db",
            "delivery",
            "http",
            "plugin_dev",
            "plugin_watch",
            "runtime",
            "seed",
            "service",
            "store",
            "telemetry",
        ],
        why: "the vocabulary is what every room stands on, so it leans on none of them",
    },
];

fn host_src() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../host/src")
}

/// Every `.rs` file under `dir`, as a path relative to it with `/` separators, sorted.
fn rust_files(dir: &Path) -> Vec<String> {
    let mut files = Vec::new();
    let mut pending = vec![dir.to_path_buf()];
    while let Some(next) = pending.pop() {
        let entries =
            std::fs::read_dir(&next).unwrap_or_else(|err| panic!("read {}: {err}", next.display()));
        for entry in entries {
            let path = entry.unwrap().path();
            if path.is_dir() {
                pending.push(path);
            } else if path.extension().is_some_and(|ext| ext == "rs") {
                let relative = path.strip_prefix(dir).unwrap();
                let parts: Vec<_> = relative
                    .components()
                    .map(|part| part.as_os_str().to_string_lossy().into_owned())
                    .collect();
                files.push(parts.join("/"));
            }
        }
    }
    files.sort();
    files
}

/// The room a file belongs to: the first path component under host/src, so `http/tickets.rs`
/// and `telemetry/metrics.rs` are in `http` and `telemetry`, and a top-level `vin.rs` is a
/// room of its own, `vin`.
fn room(file: &str) -> &str {
    let first = file.split('/').next().unwrap_or(file);
    first.strip_suffix(".rs").unwrap_or(first)
}

/// A place in a file's source that names a room of the host or a watched outside crate.
struct Reach {
    line: usize,
    target: String,
}

/// `line` up to its `//` comment. A `//` inside a string literal (such as a URL) is not a
/// comment: quotes are counted, and a `'"'` char literal is not treated as a quote. Only line
/// comments are stripped. Doc comments are line comments too, and host/src has no
/// `/* */` comments that name a path.
fn code_part(line: &str) -> &str {
    let bytes = line.as_bytes();
    let mut in_string = false;
    let mut escaped = false;
    for (i, &byte) in bytes.iter().enumerate() {
        match byte {
            _ if escaped => escaped = false,
            b'\\' if in_string => escaped = true,
            b'"' if i > 0 && bytes[i - 1] == b'\'' && bytes.get(i + 1) == Some(&b'\'') => {}
            b'"' => in_string = !in_string,
            b'/' if !in_string && bytes.get(i + 1) == Some(&b'/') => return &line[..i],
            _ => {}
        }
    }
    line
}

fn is_ident(byte: u8) -> bool {
    byte.is_ascii_alphanumeric() || byte == b'_'
}

/// Where `word` occurs in `code` as a whole word, not as part of a longer identifier.
fn whole_words<'a>(code: &'a str, word: &'a str) -> impl Iterator<Item = usize> + 'a {
    code.match_indices(word)
        .map(|(at, _)| at)
        .filter(move |&at| {
            let before = at.checked_sub(1).map(|i| code.as_bytes()[i]);
            let after = code.as_bytes().get(at + word.len()).copied();
            !before.is_some_and(is_ident) && !after.is_some_and(is_ident)
        })
}

fn skip_space(code: &str, at: usize) -> usize {
    at + (code[at..].len() - code[at..].trim_start().len())
}

fn line_of(code: &str, at: usize) -> usize {
    code[..at].matches('\n').count() + 1
}

/// Reads the path that starts at `at`, just after a `crate::`, and records the room it names.
/// A group such as `{store::tickets, service}` names each room in it, at that room's line.
fn read_path(code: &str, at: usize, found: &mut Vec<Reach>) {
    let start = skip_space(code, at);
    if code[start..].starts_with('{') {
        let mut depth = 0;
        let mut item = start + 1;
        for (offset, c) in code[start..].char_indices() {
            let here = start + offset;
            match c {
                '{' => depth += 1,
                '}' | ',' if depth == 1 => {
                    read_path(code, item, found);
                    item = here + 1;
                    if c == '}' {
                        return;
                    }
                }
                '}' => depth -= 1,
                _ => {}
            }
        }
        return;
    }
    let name: String = code[start..]
        .bytes()
        .take_while(|&byte| is_ident(byte))
        .map(char::from)
        .collect();
    // `crate::{self, …}` names the crate root, not a room; an empty name is a trailing comma
    // or a glob.
    if !name.is_empty() && name != "self" {
        found.push(Reach {
            line: line_of(code, start),
            target: name,
        });
    }
}

/// Every room and watched crate `source` names, outside `//` comments. That includes
/// `use crate::…` imports (also grouped ones that span lines), `crate::…` paths used inline,
/// `utoipa::…` paths and `use utoipa`. String literals are not lexed, so a string that spells
/// `crate::store::…` counts as a reach. The host has no such strings, and the reader stays
/// simple.
fn reaches(source: &str) -> Vec<Reach> {
    let code = source.lines().map(code_part).collect::<Vec<_>>().join("\n");
    let mut found = Vec::new();
    for at in whole_words(&code, "crate") {
        let after = &code[at + "crate".len()..];
        if after.starts_with("::") {
            read_path(&code, at + "crate::".len(), &mut found);
        }
    }
    for name in WATCHED_CRATES {
        for at in whole_words(&code, name) {
            let is_path = code[at + name.len()..].trim_start().starts_with("::");
            let is_import = code[..at].trim_end().ends_with("use");
            if is_path || is_import {
                found.push(Reach {
                    line: line_of(&code, at),
                    target: name.to_string(),
                });
            }
        }
    }
    found.sort_by_key(|reach| reach.line);
    found
}

/// A reach that breaks a rule.
struct Violation {
    line: usize,
    target: String,
    rule: &'static Rule,
}

/// The reaches in `file`, a path under host/src, that break a rule for the file's room.
fn violations(file: &str, source: &str) -> Vec<Violation> {
    let room = room(file);
    reaches(source)
        .into_iter()
        .filter_map(|reach| {
            let rule = RULES.iter().find(|rule| {
                rule.rooms.contains(&room) && rule.forbidden.contains(&reach.target.as_str())
            })?;
            Some(Violation {
                line: reach.line,
                target: reach.target,
                rule,
            })
        })
        .collect()
}

/// (line, target) of each reach, for comparing against what a test expects.
fn reaches_at(source: &str) -> Vec<(usize, String)> {
    reaches(source)
        .into_iter()
        .map(|reach| (reach.line, reach.target))
        .collect()
}

/// (line, target) of each violation, for comparing against what a test expects.
fn violations_at(file: &str, source: &str) -> Vec<(usize, String)> {
    violations(file, source)
        .into_iter()
        .map(|violation| (violation.line, violation.target))
        .collect()
}

fn lines(expected: &[(usize, &str)]) -> Vec<(usize, String)> {
    expected
        .iter()
        .map(|&(line, target)| (line, target.to_string()))
        .collect()
}

#[test]
fn rooms_import_only_downward() {
    let src = host_src();
    let files = rust_files(&src);
    // Guard against a wrong path passing vacuously.
    assert!(
        files.iter().any(|file| file == "http/mod.rs"),
        "expected the host's source under {}",
        src.display()
    );

    let mut problems = Vec::new();
    for file in &files {
        let source = std::fs::read_to_string(src.join(file))
            .unwrap_or_else(|err| panic!("read host/src/{file}: {err}"));
        for violation in violations(file, &source) {
            problems.push(format!(
                "host/src/{file}:{line}: `{room}` reaches `{target}`, but rule \
                 \"{rooms} must not reach {forbidden}\" forbids it: {why}. Move the code \
                 so it follows the rule.",
                line = violation.line,
                room = room(file),
                target = violation.target,
                rooms = violation.rule.rooms.join("/"),
                forbidden = violation.rule.forbidden.join("/"),
                why = violation.rule.why,
            ));
        }
    }

    assert!(
        problems.is_empty(),
        "the host's rooms must depend one way (see the rules in tests/tests/api/layering.rs):\n{}",
        problems.join("\n")
    );
}

#[test]
fn the_import_reader_finds_grouped_and_inline_crate_paths() {
    let handler = r#"use crate::{
    store::tickets,
    service };
// use crate::store::tickets;
use my_crate::store;
fn save() {
    crate::store::tickets::insert(); // crate::store in a comment does not count
    let url = "https://example.com"; crate::store::Page::default();
    let _ = "crate::store";
}
"#;
    // The group names both rooms, each on its own line. A `//` inside the URL does not end
    // the line. The string literal counts as a reach because the reader does not lex
    // strings (see `reaches`).
    assert_eq!(
        reaches_at(handler),
        lines(&[
            (2, "store"),
            (3, "service"),
            (7, "store"),
            (8, "store"),
            (9, "store"),
        ])
    );
    // http may use service, but not store.
    assert_eq!(
        violations_at("http/tickets.rs", handler),
        lines(&[(2, "store"), (7, "store"), (8, "store"), (9, "store"),])
    );

    let store = "use utoipa::ToSchema;\n\
                 #[derive(Debug, utoipa::ToSchema)]\n\
                 struct Row(crate::domain::plugin::Capability, crate::runtime::Engine);\n";
    assert_eq!(
        violations_at("store/tickets.rs", store),
        lines(&[(1, "utoipa"), (2, "utoipa"), (3, "runtime")])
    );

    let runtime = "use crate::{self, store::kv, service::tickets::Actor};";
    assert_eq!(
        violations_at("runtime/engine.rs", runtime),
        lines(&[(1, "service")])
    );
    assert_eq!(
        violations_at("runtime/capabilities/kv.rs", runtime),
        lines(&[(1, "service")])
    );
}

#[test]
fn a_file_lives_in_the_room_its_first_path_component_names() {
    assert_eq!(room("http/tickets.rs"), "http");
    assert_eq!(room("store/mod.rs"), "store");
    assert_eq!(room("runtime/capabilities/kv.rs"), "runtime");
    assert_eq!(room("telemetry/metrics.rs"), "telemetry");
    assert_eq!(room("heap.rs"), "heap");
}

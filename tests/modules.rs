//! The library's top-level modules depend on each other one way only: no import circle (a
//! module's `crate::other` paths, `use crate::{a, b}` groups included, are its dependencies).

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

/// Every top-level module of `src/` (the command in `src/bin` aside) and the `.rs` files in it.
fn modules(src: &Path) -> BTreeMap<String, Vec<std::path::PathBuf>> {
    let mut out: BTreeMap<String, Vec<_>> = BTreeMap::new();
    let mut stack = vec![src.to_path_buf()];
    while let Some(dir) = stack.pop() {
        for e in std::fs::read_dir(&dir).unwrap() {
            let p = e.unwrap().path();
            let rel = p.strip_prefix(src).unwrap().to_string_lossy().into_owned();
            if p.is_dir() {
                if rel != "bin" {
                    stack.push(p);
                }
            } else if rel.ends_with(".rs") && rel != "lib.rs" {
                let top = rel.split('/').next().unwrap().trim_end_matches(".rs").to_string();
                out.entry(top).or_default().push(p);
            }
        }
    }
    out
}

/// The names following `crate::` in `text` (comments dropped), also inside `crate::{...}`.
fn crate_paths(text: &str) -> BTreeSet<String> {
    let code: String = text.lines().map(|l| l.split("//").next().unwrap_or("")).collect::<Vec<_>>().join("\n");
    let mut out = BTreeSet::new();
    for (i, _) in code.match_indices("crate::") {
        let rest = &code[i + "crate::".len()..];
        if let Some(group) = rest.strip_prefix('{') {
            let group = &group[..group.find('}').unwrap_or(group.len())];
            for part in group.split(',') {
                let name: String = part.trim().chars().take_while(|c| c.is_alphanumeric() || *c == '_').collect();
                out.insert(name);
            }
        } else {
            out.insert(rest.chars().take_while(|c| c.is_alphanumeric() || *c == '_').collect());
        }
    }
    out
}

#[test]
fn no_module_depends_on_itself_through_others() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mods = modules(&src);
    let deps: BTreeMap<&str, BTreeSet<&str>> = mods
        .iter()
        .map(|(m, files)| {
            let mut d = BTreeSet::new();
            for f in files {
                for name in crate_paths(&std::fs::read_to_string(f).unwrap()) {
                    if let Some((k, _)) = mods.get_key_value(&name).filter(|(k, _)| *k != m) {
                        d.insert(k.as_str());
                    }
                }
            }
            (m.as_str(), d)
        })
        .collect();
    assert!(deps.len() > 10 && deps["vol"].contains("object"), "the module graph was not read: {deps:?}");
    for start in deps.keys() {
        // every module reachable from `start`, with the path that reached it
        let mut seen: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
        let mut todo = vec![(*start, vec![*start])];
        while let Some((m, path)) = todo.pop() {
            for d in &deps[m] {
                let mut p = path.clone();
                p.push(d);
                assert!(d != start, "import circle: {}", p.join(" -> "));
                if !seen.contains_key(d) {
                    seen.insert(d, p.clone());
                    todo.push((d, p));
                }
            }
        }
    }
}

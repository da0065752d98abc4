//! The connector's info-string grammar, as pure logic (no FFI).
//!
//! ```text
//! info   := [ item { ';' item } [ ';' ] ]
//! item   := key '=' value
//! value  := '{' text-with-balanced-braces '}'  |  text-without-';'
//! ```
//!
//! White space around keys, `=`, values and `;` is ignored (inside braces it is kept). Keys:
//!
//! | key | value | default |
//! |---|---|---|
//! | `under_vol` | value (e.g. `0`) or name (e.g. `native`) of the connector below | `0` (native) |
//! | `under_info` | `{...}`: the info string of the connector below, passed on unchanged | `{}` |
//! | `split`, `min_size`, `include`, `exclude`, `suffix` | the splitting policy: see [`crate::policy`] | |
//!
//! An empty string (or no string at all) means every default: the native connector below.
//!
//! Braces nest at most [`MAX_DEPTH`] levels deep: each connector below takes one level
//! (`under_info={...}`), and the connectors below resolve their info recursively.

use crate::error::{Error, Result};
use crate::policy::{self, Policy};

/// How the info string names the connector below us.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum UnderVol {
    /// A registered connector value (`H5VL_class_value_t`), e.g. 0 for native.
    Value(i32),
    /// A connector name, loaded as a plugin if needed, e.g. `pass_through`.
    Name(String),
}

/// A parsed info string.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InfoSpec {
    pub under_vol: UnderVol,
    /// The inner info string for the connector below, without the braces.
    pub under_info: String,
    /// Which datasets get their own file.
    pub policy: Policy,
}

impl Default for InfoSpec {
    fn default() -> Self {
        InfoSpec { under_vol: UnderVol::Value(0), under_info: String::new(), policy: Policy::default() }
    }
}

impl InfoSpec {
    /// Refuses dset_split below itself, directly (`under_vol=469`) or further down: the info
    /// strings below are read in the convention this grammar shares with HDF5's pass-through
    /// connector (`under_vol=...;under_info={...}`), as deep as they follow it. Every dataset
    /// would otherwise be split twice, the second time inside its own split file.
    pub fn check_stack(&self) -> std::result::Result<(), String> {
        let value = match &self.under_vol {
            UnderVol::Value(v) => v.to_string(),
            UnderVol::Name(name) => name.clone(),
        };
        if is_self(&value) {
            return Err(format!("under_vol={value} is dset_split itself; name the connector below it (0 for native)"));
        }
        let mut text = self.under_info.as_str();
        let mut level = 1;
        loop {
            level += 1;
            // A connector below with another grammar: nothing more to read.
            let Ok(items) = items(text) else { return Ok(()) };
            let mut next = None;
            for (key, value, braced) in items {
                match key {
                    "under_vol" if is_self(value) => {
                        return Err(format!(
                            "under_info has under_vol={value} {level} connectors down: dset_split is below itself \
                             in the connector stack, and would split every dataset twice; name a stack without \
                             dset_split below it (e.g. under_vol=0 for native)"
                        ));
                    }
                    "under_info" if braced => next = Some(value),
                    _ => {}
                }
            }
            // Each level is strictly shorter than the one above it.
            match next {
                Some(inner) => text = inner,
                None => return Ok(()),
            }
        }
    }
}

/// Whether `under_vol=<value>` names dset_split (by name or by value).
fn is_self(value: &str) -> bool {
    value == crate::CONNECTOR_NAME || value.parse::<i32>() == Ok(crate::CONNECTOR_VALUE)
}

/// Every key the grammar accepts, in the order `to_str` writes them.
pub const KEYS: &[&str] = &[
    "under_vol",
    "under_info",
    "split",
    "min_size",
    "include",
    "exclude",
    "suffix",
    "elink_cache",
    "track_times",
    "layout",
];

/// How deeply braces may nest in an info string: a stack of at most this many connectors below
/// dset_split. HDF5 and the connectors below resolve nested info strings recursively, so a
/// string of thousands of levels would exhaust the stack, and HDF5 1.14.6's own pass-through
/// connector corrupts memory from about 15 levels of itself (an off-by-one in its info parser);
/// real stacks are a few levels deep.
pub const MAX_DEPTH: usize = 8;

fn err(input: &str, what: impl std::fmt::Display) -> Error {
    Error::config(format!("dset_split info string \"{}\": {what}", excerpt(input)))
}

/// `text` for a message: whole if short, else its first 100 bytes or so and its length.
pub fn excerpt(text: &str) -> std::borrow::Cow<'_, str> {
    const MAX: usize = 100;
    if text.len() <= MAX {
        return text.into();
    }
    let mut end = MAX;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}... ({} bytes)", &text[..end], text.len()).into()
}

/// Splits `input` into `(key, value, braced)` items.
fn items(input: &str) -> Result<Vec<(&str, &str, bool)>> {
    let bytes = input.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    let skip_ws = |i: &mut usize| {
        while *i < bytes.len() && bytes[*i].is_ascii_whitespace() {
            *i += 1;
        }
    };
    loop {
        skip_ws(&mut i);
        if i >= bytes.len() {
            return Ok(out);
        }
        let key_start = i;
        while i < bytes.len() && bytes[i] != b'=' && bytes[i] != b';' {
            i += 1;
        }
        let key = input[key_start..i].trim();
        let no_value = i >= bytes.len() || bytes[i] == b';';
        if key.is_empty() && no_value {
            return Err(err(
                input,
                format_args!("an empty item at byte {key_start}: items are key=value, separated by ';'"),
            ));
        }
        if key.is_empty() {
            return Err(err(input, format_args!("a value without a key at byte {key_start}: write key=value")));
        }
        if no_value {
            return Err(err(input, format_args!("'{key}' has no value: write {key}=<value>")));
        }
        i += 1; // '='
        skip_ws(&mut i);
        let (value, braced) = if i < bytes.len() && bytes[i] == b'{' {
            let open = i;
            let mut depth = 0usize;
            let mut close = None;
            while i < bytes.len() {
                match bytes[i] {
                    b'{' => {
                        depth += 1;
                        if depth > MAX_DEPTH {
                            return Err(err(
                                input,
                                format_args!(
                                    "the value of '{key}' has braces nested more than {MAX_DEPTH} levels deep \
                                     (byte {i}): dset_split accepts at most {MAX_DEPTH} levels, a stack of at most \
                                     {MAX_DEPTH} connectors below it"
                                ),
                            ));
                        }
                    }
                    b'}' => {
                        depth -= 1;
                        if depth == 0 {
                            close = Some(i);
                            break;
                        }
                    }
                    _ => {}
                }
                i += 1;
            }
            let Some(close) = close else {
                return Err(err(input, format_args!("the '{{' of '{key}' at byte {open} is never closed")));
            };
            i = close + 1;
            (&input[open + 1..close], true)
        } else {
            let start = i;
            while i < bytes.len() && bytes[i] != b';' {
                i += 1;
            }
            (input[start..i].trim(), false)
        };
        out.push((key, value, braced));
        skip_ws(&mut i);
        if i < bytes.len() {
            if bytes[i] != b';' {
                return Err(err(
                    input,
                    format_args!("expected ';' after the value of '{key}', found '{}'", excerpt(&input[i..])),
                ));
            }
            i += 1;
        }
    }
}

/// Parses an info string. Unknown keys, repeated keys, bad values and dset_split below itself
/// ([`InfoSpec::check_stack`]) are errors that name the key and what it accepts.
pub fn parse(input: &str) -> Result<InfoSpec> {
    let mut spec = InfoSpec::default();
    let mut seen: Vec<&str> = Vec::new();
    for (key, value, braced) in items(input)? {
        if seen.contains(&key) {
            return Err(err(input, format_args!("key '{key}' is given twice")));
        }
        seen.push(key);
        match key {
            "under_vol" => {
                if braced || value.is_empty() {
                    return Err(err(
                        input,
                        "under_vol takes a connector value (e.g. 0 for native) or a connector name",
                    ));
                }
                spec.under_vol = if value.bytes().all(|b| b.is_ascii_digit()) {
                    match value.parse::<i32>() {
                        Ok(v) => UnderVol::Value(v),
                        Err(_) => {
                            return Err(err(
                                input,
                                format_args!(
                                    "under_vol={value} is out of range: under_vol takes a connector value up to {}",
                                    i32::MAX
                                ),
                            ));
                        }
                    }
                } else if value.bytes().all(|b| b.is_ascii_alphanumeric() || b"_-.".contains(&b)) {
                    UnderVol::Name(value.to_string())
                } else {
                    return Err(err(
                        input,
                        format_args!(
                            "under_vol={value} is neither a connector value nor a connector name: under_vol takes \
                             digits, or a name of letters, digits, '_', '-' and '.'"
                        ),
                    ));
                };
            }
            "under_info" => {
                if !braced && !value.is_empty() {
                    return Err(err(input, "under_info takes a braced value: under_info={...}"));
                }
                spec.under_info = value.to_string();
            }
            other => {
                let known = spec.policy.set(other, value).map_err(|e| err(input, e.msg))?;
                if !known {
                    return Err(err(input, format_args!("unknown key '{other}' (accepted keys: {})", KEYS.join(", "))));
                }
            }
        }
    }
    spec.check_stack().map_err(|what| err(input, what))?;
    Ok(spec)
}

/// Renders an info string `under_vol=<value>;under_info={<inner>}` followed by the policy keys
/// that differ from the defaults, given the value of the connector below (names are resolved to
/// values by the time HDF5 asks for the string).
pub fn render(under_value: i32, under_info: &str, policy: &Policy) -> String {
    format!("under_vol={under_value};under_info={{{under_info}}}{}", policy.render())
}

const _: () = assert!(policy::KEYS.len() + 2 == KEYS.len());

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::Kind;
    use proptest::prelude::*;

    #[test]
    fn empty_means_native_defaults() {
        assert_eq!(parse("").unwrap(), InfoSpec::default());
        assert_eq!(parse("  \t ").unwrap(), InfoSpec::default());
    }

    #[test]
    fn canonical_form() {
        let s = parse("under_vol=0;under_info={}").unwrap();
        assert_eq!(s, InfoSpec::default());
    }

    #[test]
    fn nested_braces_are_kept_whole() {
        let s = parse("under_vol=1;under_info={under_vol=0;under_info={a={b}}}").unwrap();
        assert_eq!(s.under_vol, UnderVol::Value(1));
        assert_eq!(s.under_info, "under_vol=0;under_info={a={b}}");
    }

    #[test]
    fn whitespace_and_trailing_semicolon() {
        let s = parse("  under_vol = 512 ; under_info = { x y } ; ").unwrap();
        assert_eq!(s.under_vol, UnderVol::Value(512));
        assert_eq!(s.under_info, " x y ");
    }

    #[test]
    fn names_are_accepted() {
        assert_eq!(parse("under_vol=pass_through").unwrap().under_vol, UnderVol::Name("pass_through".into()));
    }

    #[test]
    fn errors_name_the_problem() {
        let e = parse("under_vol=0;colour=blue").unwrap_err();
        assert!(e.msg.contains("unknown key 'colour'") && e.msg.contains("under_vol, under_info"), "{e}");
        let e = parse("under_vol=0;under_vol=1").unwrap_err();
        assert!(e.msg.contains("given twice"), "{e}");
        let e = parse("under_vol=0;under_info={").unwrap_err();
        assert!(e.msg.contains("never closed"), "{e}");
        let e = parse("under_vol").unwrap_err();
        assert!(e.msg.contains("has no value"), "{e}");
        let e = parse("under_vol=0 under_info={}").unwrap_err();
        assert!(e.msg.contains("neither a connector value nor a connector name"), "{e}");
        let e = parse("under_info=abc").unwrap_err();
        assert!(e.msg.contains("braced"), "{e}");
        let e = parse("under_vol=99999999999").unwrap_err();
        assert!(e.msg.contains("out of range"), "{e}");
        let e = parse("under_vol={0}").unwrap_err();
        assert!(e.msg.contains("under_vol takes"), "{e}");
        let e = parse("under_vol=0;under_info={}x").unwrap_err();
        assert!(e.msg.contains("expected ';'"), "{e}");
        let e = parse("under_vol=0;;split=on").unwrap_err();
        assert!(e.msg.contains("an empty item at byte 12: items are key=value, separated by ';'"), "{e}");
        let e = parse(" =on").unwrap_err();
        assert!(e.msg.contains("a value without a key at byte 1: write key=value"), "{e}");
    }

    /// dset_split over `depth` - 1 levels of HDF5's pass-through connector over native: `depth`
    /// levels of braces.
    fn stack(depth: usize) -> String {
        let below = depth - 1;
        format!("{}under_vol=0;under_info={{}}{}", "under_vol=1;under_info={".repeat(below), "}".repeat(below))
    }

    #[test]
    fn braces_nest_at_most_max_depth_levels() {
        let s = parse(&stack(MAX_DEPTH)).unwrap();
        assert_eq!(s.under_vol, UnderVol::Value(1));
        for depth in [MAX_DEPTH + 1, 3000, 100_000] {
            let e = parse(&stack(depth)).unwrap_err();
            assert!(
                e.msg.contains(&format!(
                    "the value of 'under_info' has braces nested more than {MAX_DEPTH} levels deep"
                )) && e.msg.contains(&format!("at most {MAX_DEPTH} connectors below it")),
                "{e}"
            );
            assert!(e.msg.len() < 400, "the message repeats the whole string: {} bytes", e.msg.len());
        }
        // Unbalanced and deep: the limit is reported first, as the parser meets it.
        let e = parse(&format!("include={}", "{".repeat(50_000))).unwrap_err();
        assert!(e.msg.contains("'include' has braces nested more than 8 levels deep"), "{e}");
        // Braces in an unbraced value are text, not nesting.
        assert!(parse(&format!("suffix=-{}", "{".repeat(100))).is_ok());
    }

    #[test]
    fn dset_split_anywhere_below_itself_is_refused() {
        for (text, needle) in [
            ("under_vol=469", "under_vol=469 is dset_split itself"),
            ("under_vol=dset_split;under_info={}", "under_vol=dset_split is dset_split itself"),
            ("under_vol=1;under_info={under_vol=469;under_info={}}", "under_vol=469 2 connectors down"),
            (
                "under_vol=pass_through;under_info={under_vol=1;under_info={ under_vol = dset_split }}",
                "under_vol=dset_split 3 connectors down",
            ),
            ("under_vol=1;under_info={under_info={};under_vol=0469}", "under_vol=0469 2 connectors down"),
        ] {
            let e = parse(text).unwrap_err();
            assert!(e.msg.contains(needle), "{text}: {e}");
            assert!(
                needle.contains("itself") || e.msg.contains("dset_split is below itself in the connector stack"),
                "{text}: {e}"
            );
        }
        // Not dset_split: other values and names, braced policy values, other grammars below.
        for text in [
            "under_vol=1;under_info={under_vol=1;under_info={under_vol=0;under_info={}}}",
            "under_vol=1;under_info={under_vol=4690;under_info={}}",
            "under_vol=1;under_info={under_vol=0;under_info={}};exclude={under_vol=469}",
            "under_vol=7;under_info={config=under_vol=469}",
            "under_vol=7;under_info={not our grammar; under_vol=469}",
        ] {
            assert!(parse(text).is_ok(), "{text}: {:?}", parse(text));
        }
    }

    #[test]
    fn long_inputs_are_shortened_in_messages() {
        let long = format!("colour={}", "\u{e9}".repeat(500));
        let e = parse(&long).unwrap_err();
        assert!(e.msg.contains("... (1007 bytes)") && e.msg.contains("unknown key 'colour'"), "{e}");
        assert_eq!(excerpt("short"), "short");
    }

    #[test]
    fn policy_keys() {
        let s = parse("under_vol=0;under_info={};split=off;min_size=64k;include={/a/**,b};exclude=c*;suffix=_parts")
            .unwrap();
        assert!(!s.policy.split);
        assert_eq!(s.policy.min_size, 65536);
        assert_eq!(s.policy.include, ["/a/**", "b"]);
        assert_eq!(s.policy.exclude, ["c*"]);
        assert_eq!(s.policy.suffix, "_parts");
    }

    #[test]
    fn render_round_trips() {
        let mut policy = Policy::default();
        for inner in ["", "under_vol=0;under_info={}", "a={b={c}};d=e"] {
            let text = render(7, inner, &policy);
            let spec = parse(&text).unwrap();
            assert_eq!(spec.under_vol, UnderVol::Value(7));
            assert_eq!(spec.under_info, inner);
            assert_eq!(spec.policy, policy);
            policy.set("exclude", "/x/**,y").unwrap();
            policy.set("min_size", "2M").unwrap();
            policy.set("suffix", ".parts").unwrap();
        }
        assert_eq!(render(0, "", &Policy::default()), "under_vol=0;under_info={}");
    }

    /// A rejection is a configuration error whose message, after the quoted info string, names the
    /// offending key (or text) of the input, or says what is accepted.
    fn assert_clear(input: &str, e: &Error) {
        assert_eq!(e.kind, Kind::BadConfig, "{e}");
        let prefix = format!("dset_split info string \"{}\": ", excerpt(input));
        let what = e.msg.strip_prefix(&prefix).unwrap_or_else(|| panic!("no quoted info string first: {e}"));
        assert!(!what.trim().is_empty(), "empty message for {input:?}");
        let quoted = what.split('\'').skip(1).step_by(2).any(|q| !q.is_empty() && input.contains(q));
        let key = KEYS.iter().any(|k| what.contains(&format!("{k}=")) || what.contains(&format!("'{k}'")));
        let accepted =
            ["takes", "accepted", "accepts", "write ", "items are"].iter().any(|phrase| what.contains(phrase));
        assert!(quoted || key || accepted, "unclear message for {input:?}: {what}");
    }

    /// Checks one input: no panic, a clear rejection or a spec that renders back to itself.
    fn check(input: &str) {
        match parse(input) {
            Err(e) => assert_clear(input, &e),
            Ok(spec) => {
                let text = render(0, &spec.under_info, &spec.policy);
                let again = parse(&text).unwrap_or_else(|e| panic!("{input:?} -> {text:?}: {e}"));
                assert_eq!(again.under_info, spec.under_info, "{input:?} -> {text:?}");
                assert_eq!(again.policy, spec.policy, "{input:?} -> {text:?}");
            }
        }
    }

    fn separator() -> impl Strategy<Value = &'static str> {
        prop::sample::select(vec!["", "", " ", "\t", "\n "])
    }

    fn key() -> impl Strategy<Value = String> {
        prop_oneof![
            8 => prop::sample::select(KEYS.to_vec()).prop_map(String::from),
            1 => "[a-z_]{0,6}",
            1 => "[a-z_ ;={}]{0,4}",
        ]
    }

    /// Values as users write them, good and bad, for every key.
    fn plain_value() -> impl Strategy<Value = String> {
        prop_oneof![
            4 => prop::sample::select(vec![
                "0", "1", "469", "0469", "dset_split", "native", "pass_through", "on", "off", "yes", "maybe",
                "64k", "2GiB", "1T", "99999999999", "99999999999T", "-1", "", "-split", ".", "..", "a/b",
                "/fields/**,*_raw", "*a*a*a*a*a*a*a*a*b", " , ", "x y", "link", "virtual", "Virtual", "auto", "\u{e9}t\u{e9}", "{}", "{", "}", "a{b,c}",
            ])
            .prop_map(String::from),
            2 => "[a-z0-9_*?/,.{} -]{0,12}",
            1 => any::<String>().prop_map(|s| s.replace(';', "")),
        ]
    }

    /// `key=value` items joined by `;`, where a value may be a braced info string one level
    /// deeper (`inner`).
    fn items_of(inner: BoxedStrategy<String>) -> impl Strategy<Value = String> {
        let value = prop_oneof![
            4 => plain_value(),
            2 => inner.prop_map(|s| format!("{{{s}}}")),
            1 => "[{}]{1,6}",
        ];
        let item = (separator(), key(), separator(), value, separator())
            .prop_map(|(a, k, b, v, c)| format!("{a}{k}{b}={v}{c}"));
        (prop::collection::vec(item, 0..4), prop::sample::select(vec!["", ";", ";;", " ; "]))
            .prop_map(|(items, end)| format!("{}{end}", items.join(";")))
    }

    fn info_string() -> impl Strategy<Value = String> {
        items_of(Just(String::new()).boxed()).prop_recursive(40, 200, 4, |inner| items_of(inner.boxed()))
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 3000, ..ProptestConfig::default() })]

        #[test]
        fn arbitrary_strings_are_parsed_or_refused_clearly(input in any::<String>()) {
            check(&input);
        }

        #[test]
        fn arbitrary_bytes_in_the_grammar_are_parsed_or_refused_clearly(input in "[a-z_ =;{}0-9*/,\t]{0,60}") {
            check(&input);
        }

        #[test]
        fn grammar_shaped_strings_are_parsed_or_refused_clearly(input in info_string()) {
            check(&input);
        }

        #[test]
        fn stacks_of_any_depth_are_parsed_or_refused_clearly(
            depth in 0usize..200,
            values in prop::collection::vec(prop::sample::select(vec!["0", "1", "469", "7", "dset_split", "x"]), 1..8),
            inner in plain_value(),
        ) {
            let mut text = format!("include={inner}");
            for i in 0..depth {
                text = format!("under_vol={};under_info={{{text}}}", values[i % values.len()]);
            }
            let result = parse(&text);
            if depth > MAX_DEPTH {
                let e = result.unwrap_err();
                prop_assert!(e.msg.contains(&format!("more than {MAX_DEPTH} levels deep")), "{}", e);
            }
            check(&text);
        }

        #[test]
        fn policies_from_any_string_decide_any_path(input in info_string(), path in any::<Vec<u8>>()) {
            if let Ok(spec) = parse(&input) {
                let _ = spec.policy.decide(&path, 0);
                let _ = spec.policy.decide(&path, u64::MAX);
            }
        }
    }
}

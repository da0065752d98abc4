//! Which datasets get their own file: the policy keys of the info string, as pure logic.
//!
//! | key | value | default |
//! |---|---|---|
//! | `split` | `on` / `off` (`off`: pure passthrough) | `on` |
//! | `min_size` | bytes, with an optional `k`/`M`/`G` (powers of 1024) and `B`/`iB`: datasets whose planned storage (elements x element size at creation) is smaller stay in the main file | `0` |
//! | `include` | comma-separated patterns; if given, only matching datasets split | (all) |
//! | `exclude` | comma-separated patterns; matching datasets stay in the main file | (none) |
//! | `suffix` | the split folder's suffix: `<stem><suffix>/` | `-split` |
//! | `track_times` | `on`: objects of the main file record their times, as natively; `off`: they do not, so re-running a program gives the same bytes | `off` |
//! | `layout` | `link`: a split dataset is an external link to its split file; `virtual`: its object (header, attributes) stays in the main file as a virtual dataset whose one source is its split file's data | `virtual` |
//! | `elink_cache` | files HDF5 keeps open for external links from the main file (`H5Pset_elink_file_cache_size`) | `0` |
//!
//! Patterns: `*` matches within one path component, `**` across components, `?` one character.
//! A pattern with a `/` is matched against the dataset's absolute HDF5 path (`/g1/*/temp`), one
//! without against its name only (`temp*`). Matching simulates the pattern's automaton, in at most
//! (pattern length + 1) x (path length + 1) steps: no pattern makes it backtrack.

use crate::error::{Error, Result};
use crate::layout::DEFAULT_SUFFIX;

/// The splitting policy of one file (from the connector info).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Policy {
    pub split: bool,
    pub min_size: u64,
    pub include: Vec<String>,
    pub exclude: Vec<String>,
    pub suffix: String,
    /// Size of HDF5's external file cache for the main file (0: HDF5's default, none).
    pub elink_cache: u32,
    /// Whether objects of the main file record times (HDF5's default); off by default, so that
    /// the same program writing the same data makes the same bytes.
    pub track_times: bool,
    /// The form of a split dataset in the main file.
    pub layout: Form,
}

/// The form a split dataset takes in the main file (both keep its raw data in its split file).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Form {
    /// An external link to the split file's dataset, which holds the object (header, attributes).
    Link,
    /// A virtual dataset in the main file (the object, its attributes, references and dimension
    /// scales) whose one source is the split file's dataset (the raw data).
    Virtual,
}

impl Form {
    pub fn name(self) -> &'static str {
        match self {
            Form::Link => "link",
            Form::Virtual => "virtual",
        }
    }
}

impl Default for Policy {
    fn default() -> Self {
        Policy {
            split: true,
            min_size: 0,
            include: Vec::new(),
            exclude: Vec::new(),
            suffix: DEFAULT_SUFFIX.into(),
            elink_cache: 0,
            track_times: false,
            layout: Form::Virtual,
        }
    }
}

/// The policy keys, in the order `to_str` writes them.
pub const KEYS: &[&str] =
    &["split", "min_size", "include", "exclude", "suffix", "elink_cache", "track_times", "layout"];

fn bad(key: &str, value: &str, accepted: &str) -> Error {
    Error::config(format!("{key}={value} is not valid: {key} takes {accepted}"))
}

impl Policy {
    /// Sets one key; `Ok(false)` if the key is not a policy key.
    pub fn set(&mut self, key: &str, value: &str) -> Result<bool> {
        match key {
            "split" => {
                self.split = match value.to_ascii_lowercase().as_str() {
                    "on" | "true" | "1" | "yes" => true,
                    "off" | "false" | "0" | "no" => false,
                    _ => return Err(bad(key, value, "on or off")),
                }
            }
            "min_size" => {
                self.min_size = parse_size(value)
                    .ok_or_else(|| bad(key, value, "a size in bytes such as 0, 65536, 64k, 1M or 2GiB"))?
            }
            "include" | "exclude" => {
                let patterns = parse_patterns(value).ok_or_else(|| {
                    bad(key, value, "comma-separated patterns of HDF5 paths or names (*, **, ?), e.g. /fields/**,*_raw")
                })?;
                if key == "include" {
                    self.include = patterns;
                } else {
                    self.exclude = patterns;
                }
            }
            "suffix" => {
                if value.is_empty() || value.contains(['/', '\\', '\0']) || value == "." || value == ".." {
                    return Err(bad(key, value, "a non-empty file-name suffix without '/' (e.g. -split)"));
                }
                self.suffix = value.to_string();
            }
            "track_times" => {
                self.track_times = match value.to_ascii_lowercase().as_str() {
                    "on" | "true" | "1" | "yes" => true,
                    "off" | "false" | "0" | "no" => false,
                    _ => return Err(bad(key, value, "on or off")),
                }
            }
            "layout" => {
                self.layout = match value.to_ascii_lowercase().as_str() {
                    "link" => Form::Link,
                    "virtual" => Form::Virtual,
                    _ => return Err(bad(key, value, "link or virtual")),
                }
            }
            "elink_cache" => {
                self.elink_cache = value
                    .parse()
                    .map_err(|_| bad(key, value, "a number of files to keep open (0 for none, HDF5's default)"))?
            }
            _ => return Ok(false),
        }
        Ok(true)
    }

    /// The non-default keys as `;key=value` text (empty for the default policy).
    pub fn render(&self) -> String {
        let d = Policy::default();
        let mut out = String::new();
        if self.split != d.split {
            out.push_str(if self.split { ";split=on" } else { ";split=off" });
        }
        if self.min_size != d.min_size {
            out.push_str(&format!(";min_size={}", self.min_size));
        }
        if !self.include.is_empty() {
            out.push_str(&format!(";include={}", value_text(&self.include.join(","))));
        }
        if !self.exclude.is_empty() {
            out.push_str(&format!(";exclude={}", value_text(&self.exclude.join(","))));
        }
        if self.suffix != d.suffix {
            out.push_str(&format!(";suffix={}", value_text(&self.suffix)));
        }
        if self.elink_cache != d.elink_cache {
            out.push_str(&format!(";elink_cache={}", self.elink_cache));
        }
        if self.track_times != d.track_times {
            out.push_str(if self.track_times { ";track_times=on" } else { ";track_times=off" });
        }
        if self.layout != d.layout {
            out.push_str(&format!(";layout={}", self.layout.name()));
        }
        out
    }

    /// Whether the dataset at `path` (absolute HDF5 path) with `planned_bytes` of storage gets
    /// its own file; `Err(reason)` says why it stays in the main file.
    pub fn decide(&self, path: &[u8], planned_bytes: u64) -> std::result::Result<(), String> {
        if !self.split {
            return Err("splitting is off (split=off)".into());
        }
        if planned_bytes < self.min_size {
            return Err(format!("its planned size ({planned_bytes} bytes) is below min_size={}", self.min_size));
        }
        let path = String::from_utf8_lossy(path);
        if !self.include.is_empty() && !self.include.iter().any(|p| matches(p, &path)) {
            return Err(format!("it matches no include pattern ({})", self.include.join(",")));
        }
        if let Some(p) = self.exclude.iter().find(|p| matches(p, &path)) {
            return Err(format!("it matches the exclude pattern {p}"));
        }
        Ok(())
    }
}

/// `value` as info-string text that parses back to it: braced if its braces balance (braces keep
/// `;` and white space), as it is otherwise: a value with unbalanced braces can only have been
/// written unbraced (`include=a{`), so it has no `;`, no white space around it and no leading `{`.
fn value_text(value: &str) -> String {
    let mut depth = 0usize;
    for c in value.chars() {
        match c {
            '{' => depth += 1,
            '}' if depth == 0 => return value.to_string(),
            '}' => depth -= 1,
            _ => {}
        }
    }
    if depth == 0 { format!("{{{value}}}") } else { value.to_string() }
}

/// `64k` -> 65536. Powers of 1024; an optional trailing `B` or `iB`.
pub fn parse_size(text: &str) -> Option<u64> {
    let t = text.trim();
    let t = t.strip_suffix("iB").or_else(|| t.strip_suffix('B')).unwrap_or(t);
    let (num, mult) = match t.chars().last()? {
        'k' | 'K' => (&t[..t.len() - 1], 1u64 << 10),
        'm' | 'M' => (&t[..t.len() - 1], 1 << 20),
        'g' | 'G' => (&t[..t.len() - 1], 1 << 30),
        't' | 'T' => (&t[..t.len() - 1], 1 << 40),
        _ => (t, 1),
    };
    num.trim().parse::<u64>().ok()?.checked_mul(mult)
}

fn parse_patterns(text: &str) -> Option<Vec<String>> {
    let patterns: Vec<String> = text.split(',').map(|p| p.trim().to_string()).filter(|p| !p.is_empty()).collect();
    (!patterns.is_empty()).then_some(patterns)
}

/// Whether `pattern` matches the dataset at absolute `path` (see the module docs). Takes at most
/// (pattern length + 1) x (path length + 1) steps, whatever the pattern.
pub fn matches(pattern: &str, path: &str) -> bool {
    glob_steps(pattern, path).0
}

/// [`matches`], and how many steps it took (states visited; see [`glob`]).
fn glob_steps(pattern: &str, path: &str) -> (bool, usize) {
    if pattern.starts_with('/') {
        glob(pattern, path)
    } else if pattern.contains('/') {
        // Relative to the root: `fields/*` is `/fields/*`.
        match path.strip_prefix('/') {
            Some(path) => glob(pattern, path),
            None => (false, 0),
        }
    } else {
        let name = path.rsplit('/').next().unwrap_or(path);
        glob(pattern, name)
    }
}

/// One element of a compiled pattern.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Token {
    /// This character.
    Literal(char),
    /// `?`: one character other than `/`.
    One,
    /// `*`: any characters other than `/`, none included.
    Star,
    /// `**`: any characters, `/` included, none included.
    Globstar,
    /// Before a `**` followed by `/`: the three together may also match nothing at all (zero
    /// components: `/**/temp` matches `/temp`). Reads no character.
    SkipGlobstarSlash,
}

fn compile(pattern: &str) -> Vec<Token> {
    let mut out = Vec::new();
    let mut chars = pattern.chars().peekable();
    while let Some(c) = chars.next() {
        let token = match c {
            '*' if chars.peek() == Some(&'*') => {
                chars.next();
                if chars.peek() == Some(&'/') {
                    out.push(Token::SkipGlobstarSlash);
                }
                Token::Globstar
            }
            '*' => Token::Star,
            '?' => Token::One,
            c => Token::Literal(c),
        };
        out.push(token);
    }
    out
}

/// Whether the whole `text` matches `pattern`, and the steps taken, by simulating the pattern's
/// automaton: state k means "the first k tokens matched". A pattern of p characters has at most
/// p tokens (`**/` makes three) and every state is visited at most once per character, so it
/// costs at most (p + 1) x (text length + 1) state visits, with no backtracking: `*a*a*a*a*b` is
/// as cheap as any pattern of its length.
fn glob(pattern: &str, text: &str) -> (bool, usize) {
    let tokens = compile(pattern);
    let n = tokens.len();
    let mut steps = 0;
    let mut current = vec![false; n + 1];
    let mut next = vec![false; n + 1];
    current[0] = true;
    close(&tokens, &mut current, &mut steps);
    for c in text.chars() {
        next.fill(false);
        for (k, token) in tokens.iter().enumerate() {
            if !current[k] {
                continue;
            }
            match *token {
                Token::Literal(x) if x == c => next[k + 1] = true,
                Token::One if c != '/' => next[k + 1] = true,
                Token::Star if c != '/' => next[k] = true,
                Token::Globstar => next[k] = true,
                _ => {}
            }
        }
        std::mem::swap(&mut current, &mut next);
        if !close(&tokens, &mut current, &mut steps) {
            return (false, steps);
        }
    }
    (current[n], steps)
}

/// Adds to `states` every state reachable without reading a character (`*`, `**` and `**/` may
/// match nothing), counting the live states in `steps`. Such moves only go forward, so one pass
/// in order is enough. Returns whether any state is live.
fn close(tokens: &[Token], states: &mut [bool], steps: &mut usize) -> bool {
    let mut live = false;
    for k in 0..states.len() {
        if !states[k] {
            continue;
        }
        live = true;
        *steps += 1;
        match tokens.get(k) {
            Some(Token::Star | Token::Globstar) => states[k + 1] = true,
            Some(Token::SkipGlobstarSlash) => {
                states[k + 1] = true;
                states[k + 3] = true;
            }
            _ => {}
        }
    }
    live
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn sizes() {
        assert_eq!(parse_size("0"), Some(0));
        assert_eq!(parse_size("65536"), Some(65536));
        assert_eq!(parse_size("64k"), Some(65536));
        assert_eq!(parse_size("64KiB"), Some(65536));
        assert_eq!(parse_size("1M"), Some(1 << 20));
        assert_eq!(parse_size("2GB"), Some(2 << 30));
        assert_eq!(parse_size("x"), None);
        assert_eq!(parse_size("-1"), None);
        assert_eq!(parse_size("99999999999T"), None);
    }

    #[test]
    fn globs() {
        assert!(matches("/fields/*", "/fields/temp"));
        assert!(!matches("/fields/*", "/fields/a/temp"));
        assert!(matches("/fields/**", "/fields/a/temp"));
        assert!(matches("/**/temp", "/temp"));
        assert!(matches("/**/temp", "/a/b/temp"));
        assert!(matches("temp*", "/a/b/temperature"));
        assert!(!matches("temp*", "/temperature/x"));
        assert!(matches("t?mp", "/a/temp"));
        assert!(matches("fields/*", "/fields/x"));
        assert!(!matches("/a/*", "/a"));
    }

    #[test]
    fn question_mark_is_one_character_even_outside_ascii() {
        assert!(matches("t?mp", "/a/t\u{e9}mp"));
        assert!(matches("/\u{6570}?", "/\u{6570}\u{636e}"));
        assert!(!matches("t??mp", "/a/t\u{e9}mp"));
    }

    #[test]
    fn globstar_slash_also_matches_no_component() {
        assert!(matches("a/**/b", "/a/b"));
        assert!(matches("a/**/b", "/a/x/y/b"));
        assert!(!matches("a/**/b", "/ab"));
        assert!(matches("/a**/b", "/a/b"));
        assert!(matches("/a**/b", "/axy/z/b"));
        assert!(matches("**", "/any/depth"));
        assert!(!matches("/**", ""));
        // `**/` matches nothing, or something ending in `/`: never a bare component.
        assert!(!matches("**/", "/a"));
        assert!(matches("/a/**/", "/a/b/"));
    }

    /// The matcher before the linear-time one (issue 9, finding 11), kept as the reference for the
    /// semantics: backtracking, over bytes. `steps` counts its calls; past `cap` it gives up.
    fn backtracking(pattern: &str, path: &str, steps: &mut usize, cap: usize) -> bool {
        fn glob(p: &[u8], s: &[u8], steps: &mut usize, cap: usize) -> bool {
            *steps += 1;
            if *steps > cap {
                return false;
            }
            match p.first() {
                None => s.is_empty(),
                Some(b'*') if p.get(1) == Some(&b'*') => {
                    let rest = &p[2..];
                    if rest.first() == Some(&b'/') && glob(&rest[1..], s, steps, cap) {
                        return true;
                    }
                    (0..=s.len()).any(|i| glob(rest, &s[i..], steps, cap))
                }
                Some(b'*') => {
                    let rest = &p[1..];
                    (0..=s.len()).take_while(|i| *i == 0 || s[i - 1] != b'/').any(|i| glob(rest, &s[i..], steps, cap))
                }
                Some(b'?') => !s.is_empty() && s[0] != b'/' && glob(&p[1..], &s[1..], steps, cap),
                Some(c) => s.first() == Some(c) && glob(&p[1..], &s[1..], steps, cap),
            }
        }
        if pattern.contains('/') {
            let pattern = if pattern.starts_with('/') { pattern.to_string() } else { format!("/{pattern}") };
            glob(pattern.as_bytes(), path.as_bytes(), steps, cap)
        } else {
            let name = path.rsplit('/').next().unwrap_or(path);
            glob(pattern.as_bytes(), name.as_bytes(), steps, cap)
        }
    }

    /// Patterns that made the backtracking matcher take exponential time, with the texts that
    /// show it (issue 9, finding 11: one H5Dcreate2 of a 32-character name took 4 s).
    fn pathological() -> Vec<(String, String)> {
        let mut cases = Vec::new();
        for len in [32, 200, 1000] {
            let a = "a".repeat(len);
            cases.push(("*a*a*a*a*a*a*a*a*b".to_string(), format!("/g/{a}")));
            cases.push(("/**a**a**a**a**a**a**b".to_string(), format!("/{a}/{a}")));
            cases.push(("**/*a*a*a*a*a*a*a*b".to_string(), format!("/{}", [a.as_str(); 4].join("/"))));
            cases.push(("?*?*?*?*?*?*?*?*b".to_string(), format!("/{a}")));
            cases.push((format!("{}b", "*a".repeat(40)), format!("/{a}")));
        }
        cases
    }

    fn bound(pattern: &str, text: &str) -> usize {
        (pattern.chars().count() + 1) * (text.chars().count() + 1)
    }

    #[test]
    fn pathological_patterns_take_at_most_pattern_times_text_steps() {
        for (pattern, path) in pathological() {
            let (matched, steps) = glob_steps(&pattern, &path);
            assert!(!matched, "{pattern} matched {path}");
            let limit = bound(&pattern, &path);
            assert!(steps <= limit, "{pattern} on a {}-character path: {steps} steps > {limit}", path.len());
        }
    }

    #[test]
    fn the_backtracking_matcher_exceeded_that_bound() {
        // The regression test above is not vacuous: on the same input the old matcher needs many
        // times the bound (it is cut off at 100 times).
        let (pattern, path) = &pathological()[0];
        let limit = bound(pattern, path);
        let mut steps = 0;
        backtracking(pattern, path, &mut steps, 100 * limit);
        assert!(steps > 100 * limit, "{steps} steps");
    }

    #[test]
    fn decisions() {
        let mut p = Policy::default();
        assert!(p.decide(b"/x", 0).is_ok());
        p.set("min_size", "1k").unwrap();
        assert!(p.decide(b"/x", 1023).unwrap_err().contains("below min_size=1024"));
        assert!(p.decide(b"/x", 1024).is_ok());
        p.set("include", "/big/**").unwrap();
        assert!(p.decide(b"/small/x", 4096).unwrap_err().contains("no include pattern"));
        assert!(p.decide(b"/big/x", 4096).is_ok());
        p.set("exclude", "*_tmp, /big/keep").unwrap();
        assert!(p.decide(b"/big/a_tmp", 4096).unwrap_err().contains("exclude pattern *_tmp"));
        assert!(p.decide(b"/big/keep", 4096).is_err());
        p.set("split", "off").unwrap();
        assert!(p.decide(b"/big/x", 4096).unwrap_err().contains("split=off"));
    }

    #[test]
    fn bad_values_say_what_is_accepted() {
        let mut p = Policy::default();
        assert!(p.set("split", "maybe").unwrap_err().msg.contains("split takes on or off"));
        assert!(p.set("min_size", "big").unwrap_err().msg.contains("a size in bytes"));
        assert!(p.set("suffix", "a/b").unwrap_err().msg.contains("without '/'"));
        assert!(p.set("include", " , ").unwrap_err().msg.contains("comma-separated patterns"));
        assert!(!p.set("colour", "red").unwrap());
    }

    #[test]
    fn render_lists_only_what_differs() {
        let mut p = Policy::default();
        assert_eq!(p.render(), "");
        p.set("min_size", "1k").unwrap();
        p.set("exclude", "a,b").unwrap();
        p.set("suffix", "_parts").unwrap();
        assert_eq!(p.render(), ";min_size=1024;exclude={a,b};suffix={_parts}");
        // Unbalanced braces can only come unbraced, and are written back so.
        p.set("include", "a{,b").unwrap();
        p.set("suffix", "-}").unwrap();
        assert_eq!(p.render(), ";min_size=1024;include=a{,b;exclude={a,b};suffix=-}");
        p.set("include", "a{b,c}").unwrap();
        assert!(p.render().contains(";include={a{b,c}};"));
    }

    /// Patterns and texts over a small alphabet, so that they often (partly) match.
    fn small_pattern() -> impl Strategy<Value = String> {
        prop::collection::vec(prop::sample::select(vec!["a", "b", "/", "*", "?", "**", "**/", "ab"]), 0..8)
            .prop_map(|parts| parts.concat())
    }

    fn small_text() -> impl Strategy<Value = String> {
        "/?[ab/]{0,12}"
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 4000, ..ProptestConfig::default() })]

        #[test]
        fn agrees_with_the_backtracking_reference(pattern in small_pattern(), text in small_text()) {
            let mut steps = 0;
            let expected = backtracking(&pattern, &text, &mut steps, usize::MAX);
            let (matched, steps) = glob_steps(&pattern, &text);
            prop_assert_eq!(matched, expected, "{:?} on {:?}", pattern, text);
            prop_assert!(steps <= bound(&pattern, &text));
        }

        #[test]
        fn arbitrary_patterns_and_paths_neither_panic_nor_exceed_the_bound(
            pattern in any::<String>(),
            text in any::<String>(),
            bytes in prop::collection::vec(any::<u8>(), 0..64),
        ) {
            let (_, steps) = glob_steps(&pattern, &text);
            prop_assert!(steps <= bound(&pattern, &text));
            // Names are bytes: the policy reads them lossily as UTF-8.
            let lossy = String::from_utf8_lossy(&bytes);
            let (_, steps) = glob_steps(&pattern, &lossy);
            prop_assert!(steps <= bound(&pattern, &lossy));
            let mut p = Policy::default();
            if p.set("include", &pattern).is_ok() {
                let _ = p.decide(&bytes, 0);
            }
        }
    }
}

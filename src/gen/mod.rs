//! Synthetic but realistic input events, deterministic by seed (`trendflow gen`).
//!
//! The output is one JSON object per line, each starting with `{"kind":"article"` or
//! `{"kind":"collector_result"`, in an order that looks like a live stream: lines are sorted by
//! their emission time (an article's publication, a result's creation, or later for corrections
//! and deletes), articles and collector results interleaved in proportion.
//!
//! Counting: `articles` and `collector_results` count every line of that kind — first sends,
//! corrections, deletes and malformed lines alike — so the file has exactly
//! `articles + collector_results` lines. Of each kind, `round(n * malformed_share)` lines are
//! malformed; of the rest about 3% (articles) / 5% (collector results) are corrections and 0.5%
//! deletes, the remainder first sends.
//!
//! Determinism: everything comes from a xoshiro256** generator seeded (through SplitMix64) from
//! the seed and a per-purpose tag/index; only integer arithmetic, IEEE basic operations and
//! `sqrt` are used on floats (no `powf`/`ln`/`exp`, whose results may differ between platforms),
//! and no hash-map iteration order or clock is consulted. The same options give the same bytes.
//!
//! Articles come from *stories*: a story has an event type (recall, merger, storm, ...), 2–4
//! entities, a context, a number, a start time, a heavy-tailed size and a lifetime; its headlines
//! are built from the event's templates with varying frames and synonyms, about 15% of them are
//! syndicated near-copies of an earlier headline of the story. Each article carries `story_id`
//! (the ground truth for `trendflow eval`). Beyond 12,000 article lines the world's companies,
//! surnames and places grow in proportion to the stream (names coined from syllables), so that
//! a name recurs in about as many stories at any size. Collector results come from a fixed
//! universe of ~50 customers, their brands and competitors; scores are drawn consistently with
//! each other and the raw answer mentions exactly the brand/competitors that the scores say are
//! mentioned.

mod vocab;

use std::cmp::Reverse;
use std::collections::{BTreeMap, BinaryHeap, HashSet};
use std::fmt::Write as _;
use std::io;

use vocab::{Detail, EntityKind, EventType, EVENTS};

/// Options of [`generate`].
#[derive(Clone, Debug)]
pub struct GenOptions {
    pub seed: u64,
    /// Article lines (corrections, deletes and malformed lines included).
    pub articles: u64,
    /// Collector-result lines (corrections, deletes and malformed lines included).
    pub collector_results: u64,
    /// Share of malformed lines, e.g. 0.001 (default used by the CLI: 0.001).
    pub malformed_share: f64,
    /// First day of the generated period, epoch milliseconds (CLI default 2026-01-01T00:00:00Z).
    pub start_ms: i64,
    /// Length of the period in days (CLI default 14). 0 is treated as 1.
    pub days: u32,
}

/// What [`generate`] wrote. `corrections`, `deletes` and `malformed` count lines of both kinds.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct GenStats {
    pub articles: u64,
    pub collector_results: u64,
    pub corrections: u64,
    pub deletes: u64,
    pub malformed: u64,
    pub bytes: u64,
}

/// Writes JSON lines to `out`; calls `progress(done, total)` every 10,000 lines (and once more
/// at the end if the total is not a multiple of 10,000).
pub fn generate(
    opts: &GenOptions,
    out: &mut dyn io::Write,
    progress: &mut dyn FnMut(u64, u64),
) -> io::Result<GenStats> {
    generate_impl(opts, out, progress, None)
}

const DAY_MS: i64 = 86_400_000;
const HOUR_MS: i64 = 3_600_000;
const MINUTE_MS: i64 = 60_000;

const ARTICLE_CORRECTION_SHARE: f64 = 0.03;
const ARTICLE_DELETE_SHARE: f64 = 0.005;
const CR_CORRECTION_SHARE: f64 = 0.05;
const CR_DELETE_SHARE: f64 = 0.005;
/// Chance that an article after the first of its story is a syndicated copy (~15% overall).
const SYNDICATION_CHANCE: f64 = 0.17;
const SUMMARY_SHARE: f64 = 0.3;
const PROGRESS_EVERY: u64 = 10_000;

const CUSTOMERS: usize = 50;
const QUERIES_PER_CUSTOMER: usize = 200;
const COMPETITORS_PER_GROUP: usize = 50;

// Tags of the independent random streams.
const TAG_UNIVERSE: u64 = 1;
const TAG_STORY: u64 = 2;
const TAG_PLAN: u64 = 3;
const TAG_SEL_ART_FIX: u64 = 4;
const TAG_SEL_ART_DEL: u64 = 5;
const TAG_SEL_CR_FIX: u64 = 6;
const TAG_SEL_CR_DEL: u64 = 7;
const TAG_CR: u64 = 8;
const TAG_CR_FIX: u64 = 9;
const TAG_CR_TIME: u64 = 10;
const TAG_ART_FIX: u64 = 11;
const TAG_ART_BAD: u64 = 12;
const TAG_CR_BAD: u64 = 13;
const TAG_ART_ID: u64 = 14;
const TAG_CR_ID: u64 = 15;
const TAG_DELAY: u64 = 16;
const TAG_ARTICLES: u64 = 17;
const TAG_NAMES: u64 = 18;

/// Streams of up to this many article lines draw their companies, surnames and places from the
/// base lists. A larger stream's world has proportionally more of them (coined from
/// syllables), so that a name recurs in about as many stories whatever the stream's size: with
/// the base lists alone, 100,000 generated headlines used ~1,500 distinct words (3,406 real
/// headlines of 54 stories use 4,358), so every name turned common as the stream grew.
const BASE_WORLD_ARTICLES: u64 = 12_000;

/// Grows `pool` to `scale` times its length with names made by `coin`, skipping repeats; stops
/// early after a long run of repeats (the syllables ran out).
fn grow_pool(pool: &mut Vec<String>, scale: f64, r: &mut Rng, coin: impl Fn(&mut Rng) -> String) {
    let want = (pool.len() as f64 * scale).round() as usize;
    let mut seen: HashSet<String> = pool.iter().cloned().collect();
    let mut repeats = 0;
    while pool.len() < want && repeats < 1_000 {
        let name = coin(r);
        if seen.insert(name.clone()) {
            pool.push(name);
            repeats = 0;
        } else {
            repeats += 1;
        }
    }
}

/// `base` grown to `scale` times its length with coined names: a root, a middle half the time,
/// one of `endings`.
fn grown_list(base: &[&str], endings: &[&'static str], scale: f64, r: &mut Rng) -> Vec<String> {
    let mut pool: Vec<String> = base.iter().map(|s| s.to_string()).collect();
    grow_pool(&mut pool, scale, r, |r: &mut Rng| {
        let mut name = r.pick_str(vocab::COINED_ROOTS).to_string();
        if r.chance(0.5) {
            name.push_str(r.pick_str(vocab::COINED_MIDDLES));
        }
        name.push_str(r.pick_str(endings));
        name
    });
    pool
}

// ---------------------------------------------------------------------------------------------
// Randomness

pub(crate) const GOLDEN: u64 = 0x9E37_79B9_7F4A_7C15;

/// SplitMix64's finalizer: a bijection on u64.
pub(crate) fn mix64(mut z: u64) -> u64 {
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// xoshiro256**, seeded through SplitMix64.
struct Rng {
    s: [u64; 4],
}

impl Rng {
    fn new(key: u64) -> Rng {
        let mut x = key;
        let mut s = [0u64; 4];
        for v in &mut s {
            x = x.wrapping_add(GOLDEN);
            *v = mix64(x);
        }
        if s == [0; 4] {
            s[0] = 1;
        }
        Rng { s }
    }

    /// An independent stream for (seed, purpose, item).
    fn stream(seed: u64, tag: u64, i: u64) -> Rng {
        Rng::new(mix64(
            seed ^ mix64(tag.wrapping_mul(GOLDEN) ^ mix64(i.wrapping_add(0x5851_F42D))),
        ))
    }

    fn next_u64(&mut self) -> u64 {
        let result = self.s[1].wrapping_mul(5).rotate_left(7).wrapping_mul(9);
        let t = self.s[1] << 17;
        self.s[2] ^= self.s[0];
        self.s[3] ^= self.s[1];
        self.s[1] ^= self.s[2];
        self.s[0] ^= self.s[3];
        self.s[2] ^= t;
        self.s[3] = self.s[3].rotate_left(45);
        result
    }

    /// Uniform in `0..n` (0 when n is 0).
    fn below(&mut self, n: u64) -> u64 {
        ((u128::from(self.next_u64()) * u128::from(n)) >> 64) as u64
    }

    fn index(&mut self, n: usize) -> usize {
        self.below(n as u64) as usize
    }

    /// Uniform in `lo..=hi`.
    fn range(&mut self, lo: u64, hi: u64) -> u64 {
        lo + self.below(hi - lo + 1)
    }

    /// Uniform in [0, 1).
    fn unit(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 * (1.0 / (1u64 << 53) as f64)
    }

    fn chance(&mut self, p: f64) -> bool {
        self.unit() < p
    }

    fn pick<'a, T>(&mut self, xs: &'a [T]) -> &'a T {
        &xs[self.index(xs.len())]
    }

    fn pick_str(&mut self, xs: &[&'static str]) -> &'static str {
        xs[self.index(xs.len())]
    }

    fn shuffle<T>(&mut self, xs: &mut [T]) {
        for i in (1..xs.len()).rev() {
            let j = self.index(i + 1);
            xs.swap(i, j);
        }
    }
}

/// Weighted choice by cumulative weights.
struct Weighted {
    cum: Vec<u64>,
}

impl Weighted {
    fn new(weights: impl IntoIterator<Item = u64>) -> Weighted {
        let mut total = 0;
        let cum = weights
            .into_iter()
            .map(|w| {
                total += w.max(1);
                total
            })
            .collect();
        Weighted { cum }
    }

    fn pick(&self, r: &mut Rng) -> usize {
        let total = self.cum.last().copied().unwrap_or(1);
        let x = r.below(total);
        self.cum.partition_point(|&c| c <= x)
    }
}

/// Selects exactly `need` of `left` items offered one by one (Knuth's algorithm S).
struct Selection {
    need: u64,
    left: u64,
    r: Rng,
}

impl Selection {
    fn new(need: u64, of: u64, r: Rng) -> Selection {
        Selection {
            need: need.min(of),
            left: of,
            r,
        }
    }

    fn take(&mut self) -> bool {
        if self.left == 0 {
            return false;
        }
        let hit = self.r.below(self.left) < self.need;
        self.left -= 1;
        if hit {
            self.need -= 1;
        }
        hit
    }
}

// ---------------------------------------------------------------------------------------------
// Text helpers

/// Days since 1970-01-01 to (year, month, day) (H. Hinnant's civil_from_days).
fn civil(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let y = yoe + era * 400 + i64::from(m <= 2);
    (y, m, d)
}

/// Appends `YYYY-MM-DDTHH:MM:SS.mmmZ`.
fn push_rfc3339(s: &mut String, ms: i64) {
    let days = ms.div_euclid(DAY_MS);
    let rem = ms.rem_euclid(DAY_MS);
    let (y, m, d) = civil(days);
    let _ = write!(
        s,
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}.{:03}Z",
        rem / HOUR_MS,
        rem % HOUR_MS / MINUTE_MS,
        rem % MINUTE_MS / 1000,
        rem % 1000
    );
}

/// Appends a value in ten-thousandths (0..=10000) as a short decimal: 4200 -> `0.42`.
fn push_unit4(s: &mut String, v: u32) {
    if v == 0 {
        s.push('0');
    } else if v >= 10_000 {
        s.push('1');
    } else {
        let mut digits = format!("{v:04}");
        while digits.ends_with('0') {
            digits.pop();
        }
        s.push_str("0.");
        s.push_str(&digits);
    }
}

/// Appends a value in thousandths (-1000..=1000): -532 -> `-0.532`.
fn push_milli(s: &mut String, v: i32) {
    if v < 0 {
        s.push('-');
    }
    let a = v.unsigned_abs();
    if a == 0 {
        s.push('0');
    } else if a >= 1000 {
        s.push('1');
    } else {
        let mut digits = format!("{a:03}");
        while digits.ends_with('0') {
            digits.pop();
        }
        s.push_str("0.");
        s.push_str(&digits);
    }
}

/// Appends a JSON string literal.
fn push_json_str(s: &mut String, v: &str) {
    s.push('"');
    if !v.bytes().any(|b| b == b'"' || b == b'\\' || b < 0x20) {
        s.push_str(v);
    } else {
        for c in v.chars() {
            match c {
                '"' => s.push_str("\\\""),
                '\\' => s.push_str("\\\\"),
                '\n' => s.push_str("\\n"),
                '\t' => s.push_str("\\t"),
                c if (c as u32) < 0x20 => {
                    let _ = write!(s, "\\u{:04x}", c as u32);
                }
                c => s.push(c),
            }
        }
    }
    s.push('"');
}

fn push_hex16(s: &mut String, v: u64) {
    let _ = write!(s, "{v:016x}");
}

/// Upper-cases the first character if it is an ASCII letter.
fn capitalize_first(s: &mut String) {
    if let Some(c) = s.chars().next() {
        if c.is_ascii_lowercase() {
            s.replace_range(..1, &c.to_ascii_uppercase().to_string());
        }
    }
}

fn push_lower_first(out: &mut String, s: &str) {
    let mut chars = s.chars();
    if let Some(c) = chars.next() {
        out.push(c.to_ascii_lowercase());
        out.push_str(chars.as_str());
    }
}

const SMALL_WORDS: &[&str] = &[
    "a", "an", "the", "of", "in", "on", "for", "to", "and", "as", "at", "by", "over", "with",
    "from", "amid", "after", "or", "vs",
];

/// Headline Title Case (small words stay lower case except at the start).
fn title_case(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for (i, w) in s.split(' ').enumerate() {
        if i > 0 {
            out.push(' ');
        }
        if i > 0 && SMALL_WORDS.contains(&w) {
            out.push_str(w);
        } else {
            let mut chars = w.chars();
            if let Some(c) = chars.next() {
                out.push(c.to_ascii_uppercase());
                out.push_str(chars.as_str());
            }
        }
    }
    out
}

/// URL slug of a title: lower-case ASCII alphanumerics joined by `-`, at most ~60 bytes.
fn slug(title: &str) -> String {
    let mut out = String::with_capacity(64);
    let mut dash = false;
    for c in title.chars() {
        if c.is_ascii_alphanumeric() {
            if dash && !out.is_empty() {
                if out.len() >= 56 {
                    break;
                }
                out.push('-');
            }
            dash = false;
            out.push(c.to_ascii_lowercase());
        } else if c != '\'' {
            dash = true;
        }
    }
    if out.is_empty() {
        out.push_str("story");
    }
    out
}

/// Writes a count with thousands separators, or "N.M million".
fn push_count(s: &mut String, v: u64) {
    if v >= 1_000_000 {
        let tenths = v / 100_000;
        if tenths % 10 == 0 {
            let _ = write!(s, "{} million", tenths / 10);
        } else {
            let _ = write!(s, "{}.{} million", tenths / 10, tenths % 10);
        }
        return;
    }
    let digits = v.to_string();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            s.push(',');
        }
        s.push(c);
    }
}

/// Rounds to two significant digits.
fn round2(v: u64) -> u64 {
    let mut p = 1;
    while v / p >= 100 {
        p *= 10;
    }
    (v / p) * p
}

/// Skewed towards `lo`: lo + (hi - lo) * u^3.
fn skewed(r: &mut Rng, lo: u64, hi: u64) -> u64 {
    let u = r.unit();
    lo + ((hi - lo) as f64 * u * u * u) as u64
}

fn detail_text(d: Detail, r: &mut Rng) -> String {
    let mut s = String::new();
    match d {
        Detail::Count(lo, hi) => push_count(&mut s, round2(skewed(r, lo, hi)).max(lo)),
        Detail::Money(lo, hi) => {
            let m = round2(skewed(r, lo, hi)).max(lo);
            if m >= 1000 {
                let tenths = m / 100;
                if tenths % 10 == 0 {
                    let _ = write!(s, "${} billion", tenths / 10);
                } else {
                    let _ = write!(s, "${}.{} billion", tenths / 10, tenths % 10);
                }
            } else {
                let _ = write!(s, "${m} million");
            }
        }
        Detail::Percent(lo, hi) => {
            let _ = write!(s, "{}%", r.range(lo, hi));
        }
        Detail::Score => {
            let w = r.range(1, 5);
            let l = r.below(w);
            let _ = write!(s, "{w}-{l}");
        }
        Detail::Years => {
            let _ = write!(s, "{}", r.range(2, 25));
        }
        Detail::Price => {
            const PRICES: &[u64] = &[199, 249, 299, 349, 399, 499, 599, 699, 799, 999, 1199, 1499];
            s.push('$');
            push_count(&mut s, *r.pick(PRICES));
        }
    }
    s
}

// ---------------------------------------------------------------------------------------------
// Templates

/// Index of the bracket closing the one at `open`.
fn closing(b: &[u8], open: usize) -> usize {
    let mut depth = 0usize;
    for (i, &c) in b.iter().enumerate().skip(open) {
        match c {
            b'(' | b'[' | b'{' => depth += 1,
            b')' | b']' | b'}' => {
                depth -= 1;
                if depth == 0 {
                    return i;
                }
            }
            _ => {}
        }
    }
    b.len() - 1
}

/// Splits at top-level `|`.
fn alternatives(s: &str) -> Vec<&str> {
    let mut out = Vec::with_capacity(4);
    let mut depth = 0usize;
    let mut start = 0;
    for (i, c) in s.bytes().enumerate() {
        match c {
            b'(' | b'[' | b'{' => depth += 1,
            b')' | b']' | b'}' => depth = depth.saturating_sub(1),
            b'|' if depth == 0 => {
                out.push(&s[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    out.push(&s[start..]);
    out
}

/// Expands a template: `{slot}`, `(a|b)` one alternative, `[opt]` half of the time.
fn expand(tpl: &str, r: &mut Rng, slots: &mut Slots<'_>, out: &mut String) {
    let b = tpl.as_bytes();
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'(' => {
                let j = closing(b, i);
                let alts = alternatives(&tpl[i + 1..j]);
                let k = r.index(alts.len());
                expand(alts[k], r, slots, out);
                i = j + 1;
            }
            b'[' => {
                let j = closing(b, i);
                if r.chance(0.5) {
                    expand(&tpl[i + 1..j], r, slots, out);
                }
                i = j + 1;
            }
            b'{' => {
                let j = closing(b, i);
                slots.resolve(&tpl[i + 1..j], r, out);
                i = j + 1;
            }
            _ => {
                let start = i;
                while i < b.len() && !matches!(b[i], b'(' | b'[' | b'{') {
                    i += 1;
                }
                out.push_str(&tpl[start..i]);
            }
        }
    }
}

/// The values a story gives to template slots.
struct Slots<'a> {
    st: &'a Story,
    core: String,
    /// The core starts with template text (not an entity), so it may be lower-cased mid-sentence.
    core_lower: bool,
    speaker: Option<usize>,
    sentence: String,
    day: &'static str,
}

impl<'a> Slots<'a> {
    fn new(st: &'a Story) -> Slots<'a> {
        Slots {
            st,
            core: String::new(),
            core_lower: false,
            speaker: None,
            sentence: String::new(),
            day: "Monday",
        }
    }

    fn resolve(&mut self, name: &str, r: &mut Rng, out: &mut String) {
        let st = self.st;
        let ev = &EVENTS[st.event];
        match name {
            "A" | "Acap" => st.a.push_form(r, out),
            "B" | "Bsay" => st.b.push_form(r, out),
            "P" => out.push_str(&st.product),
            "U" => out.push_str(st.unit),
            "R" => out.push_str(st.regulator),
            "L" => out.push_str(&st.place),
            "X" => out.push_str(&st.detail),
            "C" => {
                let c = if r.chance(0.8) {
                    st.ctx1
                } else if r.chance(0.5) {
                    st.ctx2
                } else {
                    r.index(ev.contexts.len())
                };
                out.push_str(ev.contexts[c]);
            }
            "C2" => out.push_str(ev.contexts[st.ctx2]),
            "N" => out.push_str(r.pick_str(ev.nouns)),
            "reaction" => {
                let t = r.pick_str(ev.reactions);
                expand(t, r, self, out);
            }
            "core" => {
                if self.core_lower && out.ends_with(' ') && !out.ends_with(": ") {
                    push_lower_first(out, &self.core);
                } else {
                    out.push_str(&self.core);
                }
            }
            "spk" | "spk_cap" | "say" => {
                let k = match self.speaker {
                    Some(k) => k,
                    None => {
                        let k = r.index(vocab::SPEAKERS.len());
                        self.speaker = Some(k);
                        k
                    }
                };
                let (who, verb) = vocab::SPEAKERS[k];
                match name {
                    "spk" => out.push_str(who),
                    "say" => out.push_str(verb),
                    _ => {
                        let start = out.len();
                        out.push_str(who);
                        if let Some(c) = out[start..].chars().next() {
                            if c.is_ascii_lowercase() {
                                out.replace_range(
                                    start..start + 1,
                                    &c.to_ascii_uppercase().to_string(),
                                );
                            }
                        }
                    }
                }
            }
            "sentence" => out.push_str(&self.sentence),
            "day" => out.push_str(self.day),
            other => out.push_str(other),
        }
    }
}

// ---------------------------------------------------------------------------------------------
// The news world: outlets, companies, places, stories

struct Outlet {
    name: String,
    host: String,
    title_case: bool,
    /// 0: no suffix; 1: " - Name"; 2: " | Name".
    suffix: u8,
}

struct Company {
    stem: String,
    full: String,
    industry: usize,
}

/// An entity with a long and a short form ("Valex Motors" / "Valex").
#[derive(Clone, Default)]
struct Ent {
    full: String,
    short: String,
    /// Can be the subject of "X says ...".
    speaker: bool,
}

impl Ent {
    fn push_form(&self, r: &mut Rng, out: &mut String) {
        if self.short != self.full && r.chance(0.5) {
            out.push_str(&self.short);
        } else {
            out.push_str(&self.full);
        }
    }
}

struct Story {
    id: u32,
    event: usize,
    a: Ent,
    b: Ent,
    product: String,
    unit: &'static str,
    regulator: &'static str,
    place: String,
    detail: String,
    ctx1: usize,
    ctx2: usize,
    lead_core: usize,
    start: i64,
    life: i64,
}

struct World {
    seed: u64,
    start: i64,
    end: i64,
    outlets: Vec<Outlet>,
    outlet_w: Weighted,
    companies: Vec<Company>,
    places: Vec<String>,
    last_names: Vec<String>,
    universe: Universe,
}

/// Relative story-start weight per UTC hour.
const DIURNAL: [u64; 24] = [
    3, 2, 2, 2, 3, 5, 8, 11, 13, 14, 14, 13, 13, 13, 13, 12, 12, 11, 10, 9, 8, 7, 5, 4,
];

impl World {
    fn new(opts: &GenOptions) -> World {
        let seed = opts.seed;
        let span = i64::from(opts.days.max(1)) * DAY_MS;
        let mut r = Rng::stream(seed, TAG_UNIVERSE, 0);

        let mut outlets = Vec::new();
        let mut weights = Vec::new();
        for &(name, host) in vocab::WIRES {
            outlets.push(Outlet {
                name: name.to_string(),
                host: host.to_string(),
                title_case: r.chance(0.5),
                suffix: 0,
            });
            weights.push(r.range(60, 120));
        }
        let mut combos: Vec<(usize, usize)> = (0..vocab::OUTLET_PREFIXES.len())
            .flat_map(|p| (0..vocab::OUTLET_MASTHEADS.len()).map(move |m| (p, m)))
            .collect();
        r.shuffle(&mut combos);
        for (k, &(p, m)) in combos.iter().take(192).enumerate() {
            let (p, m) = (vocab::OUTLET_PREFIXES[p], vocab::OUTLET_MASTHEADS[m]);
            let compact = format!("{p}{m}").to_ascii_lowercase();
            let host = match k % 6 {
                0 | 1 => format!("www.{compact}-example.com"),
                2 => format!("{compact}-example.com"),
                3 => format!("www.{compact}-example.net"),
                4 => format!("news.{compact}-example.com"),
                _ => format!("www.the{compact}-example.org"),
            };
            let suffix = match r.below(8) {
                0 => 1,
                1 => 2,
                _ => 0,
            };
            outlets.push(Outlet {
                name: format!("{p} {m}"),
                host,
                title_case: r.chance(0.4),
                suffix,
            });
            weights.push(1 + 600 / (k as u64 + 6));
        }
        let outlet_w = Weighted::new(weights);

        let mut stems: Vec<String> = vocab::COMPANY_ONSETS
            .iter()
            .flat_map(|o| {
                vocab::COMPANY_ENDINGS
                    .iter()
                    .map(move |e| format!("{o}{e}"))
            })
            .collect();
        r.shuffle(&mut stems);
        // Larger streams, larger worlds (from a stream of their own: the base draws stay).
        let scale = (opts.articles as f64 / BASE_WORLD_ARTICLES as f64).max(1.0);
        let mut names = Rng::stream(seed, TAG_NAMES, 0);
        grow_pool(&mut stems, scale, &mut names, |r: &mut Rng| {
            let mut name = r.pick_str(vocab::COMPANY_ONSETS).to_string();
            name.push_str(r.pick_str(vocab::NAME_MIDDLES));
            if r.chance(0.5) {
                name.push_str(r.pick_str(vocab::NAME_MIDDLES));
            }
            name.push_str(r.pick_str(vocab::COMPANY_ENDINGS));
            name
        });
        let companies = stems
            .into_iter()
            .enumerate()
            .map(|(k, stem)| {
                let industry = k % vocab::INDUSTRIES.len();
                Company {
                    full: format!("{stem} {}", vocab::INDUSTRIES[industry].suffix),
                    stem,
                    industry,
                }
            })
            .collect();

        let places = grown_list(vocab::PLACE_STEMS, vocab::PLACE_ENDINGS, scale, &mut names)
            .iter()
            .enumerate()
            .map(|(k, stem)| {
                vocab::PLACE_FORMS[(k * 3) % vocab::PLACE_FORMS.len()].replace("{}", stem)
            })
            .collect();
        let last_names = grown_list(vocab::LAST_NAMES, vocab::SURNAME_ENDINGS, scale, &mut names);

        let universe = Universe::new(&mut r);
        World {
            seed,
            start: opts.start_ms,
            end: opts.start_ms + span,
            outlets,
            outlet_w,
            companies,
            places,
            last_names,
            universe,
        }
    }

    fn span(&self) -> i64 {
        self.end - self.start
    }

    fn person(&self, r: &mut Rng) -> Ent {
        let first = r.pick(vocab::FIRST_NAMES);
        let last = r.pick(&self.last_names);
        Ent {
            full: format!("{first} {last}"),
            short: last.clone(),
            speaker: true,
        }
    }

    fn company(&self, r: &mut Rng, mask: u16) -> (Ent, usize) {
        for _ in 0..10_000 {
            let c = r.pick(&self.companies);
            if mask & (1 << c.industry) != 0 {
                return (
                    Ent {
                        full: c.full.clone(),
                        short: c.stem.clone(),
                        speaker: true,
                    },
                    c.industry,
                );
            }
        }
        let c = &self.companies[0];
        (
            Ent {
                full: c.full.clone(),
                short: c.stem.clone(),
                speaker: true,
            },
            c.industry,
        )
    }

    /// Draws an entity of `kind`; returns it, its industry (companies) and its home place (teams).
    fn entity(
        &self,
        r: &mut Rng,
        kind: EntityKind,
        mask: u16,
    ) -> (Ent, Option<usize>, Option<usize>) {
        let named = |s: &str, speaker: bool| Ent {
            full: s.to_string(),
            short: s.to_string(),
            speaker,
        };
        match kind {
            EntityKind::Company => {
                let (e, ind) = self.company(r, mask);
                (e, Some(ind), None)
            }
            EntityKind::Person => (self.person(r), None, None),
            EntityKind::Candidate => {
                let mut e = self.person(r);
                if r.chance(0.3) {
                    e.short = format!("{} {}", r.pick(vocab::CANDIDATE_ROLES), e.short);
                }
                (e, None, None)
            }
            EntityKind::Place => {
                let k = r.index(self.places.len());
                (named(&self.places[k], false), None, Some(k))
            }
            EntityKind::Team => {
                let k = r.index(vocab::PLACE_STEMS.len());
                let mascot = r.pick(vocab::MASCOTS);
                (
                    Ent {
                        full: format!("{} {mascot}", vocab::PLACE_STEMS[k]),
                        short: (*mascot).to_string(),
                        speaker: false,
                    },
                    None,
                    Some(k),
                )
            }
            EntityKind::Union => (named(r.pick_str(vocab::UNIONS), true), None, None),
            EntityKind::Investor => (named(r.pick_str(vocab::INVESTORS), true), None, None),
            EntityKind::Agency => (named(r.pick_str(vocab::AGENCIES), true), None, None),
            EntityKind::Regulator => (named(r.pick_str(vocab::REGULATORS), true), None, None),
            EntityKind::None => (named("officials", false), None, None),
        }
    }

    /// A story of a random event type. `taken` holds the start of the last story per
    /// (event, primary entity): a combination is not reused within 5 days.
    fn story(
        &self,
        r: &mut Rng,
        id: u32,
        start: i64,
        taken: Option<&mut BTreeMap<(usize, String), i64>>,
    ) -> Story {
        let event = r.index(EVENTS.len());
        let ev: &EventType = &EVENTS[event];
        let (mut a, mut a_ind, mut a_home) = self.entity(r, ev.primary, ev.industries);
        if let Some(taken) = taken {
            for _ in 0..60 {
                match taken.get(&(event, a.full.clone())) {
                    Some(&t) if (start - t).abs() < 5 * DAY_MS => {
                        (a, a_ind, a_home) = self.entity(r, ev.primary, ev.industries);
                    }
                    _ => break,
                }
            }
            taken.insert((event, a.full.clone()), start);
        }
        let b_mask = match (ev.second, a_ind) {
            (EntityKind::Company, Some(ind)) if ev.key == "merger" || ev.key == "launch" => {
                1u16 << ind
            }
            _ => 0xFFFF,
        };
        let mut b = self.entity(r, ev.second, b_mask).0;
        for _ in 0..20 {
            if b.full != a.full {
                break;
            }
            b = self.entity(r, ev.second, 0xFFFF).0;
        }
        let industry = &vocab::INDUSTRIES[a_ind.unwrap_or(9)];
        let product = if industry.drugs {
            r.pick_str(vocab::DRUGS).to_string()
        } else {
            format!(
                "{}{}",
                r.pick(vocab::PRODUCT_WORDS),
                r.pick(vocab::PRODUCT_MODELS)
            )
        };
        let place = match a_home {
            Some(k) if ev.primary == EntityKind::Team => self.places[k].clone(),
            Some(k) => {
                self.places[(k + 1 + r.index(self.places.len() - 1)) % self.places.len()].clone()
            }
            None => r.pick(&self.places).clone(),
        };
        let ctx1 = r.index(ev.contexts.len());
        let ctx2 = if ev.contexts.len() > 1 {
            (ctx1 + 1 + r.index(ev.contexts.len() - 1)) % ev.contexts.len()
        } else {
            ctx1
        };
        Story {
            id,
            event,
            a,
            b,
            product,
            unit: r.pick_str(industry.units),
            regulator: r.pick_str(regulators_for(ev.key)),
            place,
            detail: detail_text(ev.detail, r),
            ctx1,
            ctx2,
            lead_core: r.index(ev.cores.len()),
            start,
            life: 0,
        }
    }

    /// A fresh headline for a story (before outlet styling).
    fn headline(&self, st: &Story, r: &mut Rng) -> String {
        let ev = &EVENTS[st.event];
        let ci = if r.chance(0.35) {
            st.lead_core
        } else {
            r.index(ev.cores.len())
        };
        let tpl = ev.cores[ci];
        let mut slots = Slots::new(st);
        let mut core = String::with_capacity(80);
        expand(tpl, r, &mut slots, &mut core);
        slots.core = core;
        slots.core_lower = !tpl.starts_with('{');
        let mut frame = r.pick_str(vocab::FRAMES);
        // "{B} says ..." needs a speaker not already in the clause; "... in {L}" only for events
        // that happen somewhere and whose clause names no place yet.
        let located = ev.cores.iter().any(|c| c.contains("{L}"));
        if (frame.contains("{Bsay}") && (!st.b.speaker || tpl.contains("{B}")))
            || (frame.contains("{L}") && (!located || tpl.contains("{L}")))
        {
            frame = "{core}";
        }
        let mut out = String::with_capacity(100);
        expand(frame, r, &mut slots, &mut out);
        capitalize_first(&mut out);
        if r.chance(0.02) {
            let words: Vec<&str> = out.split(' ').collect();
            if words.len() >= 7 {
                let keep = words.len() - 1 - r.index(words.len() / 3);
                let mut t = words[..keep].join(" ");
                t.push_str(if r.chance(0.5) { "..." } else { "\u{2026}" });
                out = t;
            }
        }
        out
    }

    fn summary(&self, st: &Story, published: i64, r: &mut Rng) -> String {
        let ev = &EVENTS[st.event];
        let mut slots = Slots::new(st);
        let mut sentence = String::with_capacity(80);
        let tpl = r.pick_str(ev.cores);
        expand(tpl, r, &mut slots, &mut sentence);
        capitalize_first(&mut sentence);
        slots.sentence = sentence;
        slots.day = vocab::WEEKDAYS[published.div_euclid(DAY_MS).rem_euclid(7) as usize];
        let mut out = String::with_capacity(200);
        expand(r.pick_str(vocab::SUMMARIES), r, &mut slots, &mut out);
        out
    }

    /// Applies an outlet's house style to a headline.
    fn styled(&self, title: &str, outlet: &Outlet) -> String {
        let mut t = if outlet.title_case {
            title_case(title)
        } else {
            title.to_string()
        };
        match outlet.suffix {
            1 => {
                t.push_str(" - ");
                t.push_str(&outlet.name);
            }
            2 => {
                t.push_str(" | ");
                t.push_str(&outlet.name);
            }
            _ => {}
        }
        t
    }

    /// A syndicated near-copy: trivial rewording of an existing headline.
    fn reword(&self, title: &str, outlet: &Outlet, r: &mut Rng) -> String {
        let mut t = match r.below(4) {
            0 => {
                if outlet.title_case {
                    title.to_string()
                } else {
                    title_case(title)
                }
            }
            1 => {
                if title.contains(": ") {
                    title.replacen(": ", " - ", 1)
                } else if title.contains(" - ") {
                    title.replacen(" - ", ": ", 1)
                } else {
                    format!("{title}.")
                }
            }
            2 => {
                let mut out = None;
                for w in [" the ", " new ", " a ", " The ", " New "] {
                    if title.contains(w) {
                        out = Some(title.replacen(w, " ", 1));
                        break;
                    }
                }
                out.unwrap_or_else(|| title.replacen(": ", " - ", 1))
            }
            _ => {
                let words =
                    r.pick_str(&[", sources say", " - report", " today", ", officials say"]);
                format!("{title}{words}")
            }
        };
        if t == title || r.chance(0.5) {
            t.push_str(if r.chance(0.5) { " - " } else { " | " });
            t.push_str(&outlet.name);
        }
        t
    }

    /// A slight edit of a title for a correction.
    fn corrected_title(&self, title: &str, outlet: &Outlet, r: &mut Rng) -> String {
        // Keep the outlet suffix (" - Name" / " | Name") at the end.
        for sep in [" - ", " | "] {
            if let Some(head) = title
                .strip_suffix(outlet.name.as_str())
                .and_then(|h| h.strip_suffix(sep))
            {
                let edited = self.corrected_title(head, outlet, r);
                return format!("{edited}{sep}{}", outlet.name);
            }
        }
        match r.below(4) {
            0 => format!("UPDATE: {title}"),
            1 => format!("{title} (updated)"),
            2 => format!("Corrected: {title}"),
            _ => format!("{title}, officials confirm"),
        }
    }
}

/// Regulators that plausibly act on an event type.
fn regulators_for(event: &str) -> &'static [&'static str] {
    match event {
        "recall" => &[
            "Consumer Safety Board",
            "National Transport Agency",
            "Food Standards Commission",
        ],
        "approval" => &["Drug Review Council"],
        "breach" => &["Data Protection Authority"],
        "outage" => &[
            "Data Protection Authority",
            "Aviation Safety Directorate",
            "Financial Conduct Bureau",
        ],
        "price_hike" => &[
            "Competition Commission",
            "Energy Regulatory Office",
            "Federal Trade Office",
        ],
        _ => vocab::REGULATORS,
    }
}

/// One planned article (first send).
struct ArticleRec {
    story: u32,
    outlet: u16,
    published: i64,
    title: String,
    summary: Option<String>,
    /// 0: `published_at`; 1: `published_at_ms`; 2: both.
    ts_style: u8,
    topics: [&'static str; 2],
    ntopics: u8,
}

/// Draws the time of an article within a story: rises over the first 15% of its lifetime, then
/// fades with a long tail.
fn article_time(st: &Story, end: i64, r: &mut Rng) -> i64 {
    for _ in 0..4 {
        let x = if r.chance(0.3) {
            0.15 * r.unit().sqrt()
        } else {
            0.15 + 0.85 * r.unit() * r.unit()
        };
        let t = st.start + (st.life as f64 * x) as i64;
        if t < end {
            return t;
        }
    }
    st.start + r.below((end - st.start).max(1) as u64) as i64
}

fn plan_articles(w: &World, n_base: u64) -> (Vec<Story>, Vec<ArticleRec>) {
    let mut r = Rng::stream(w.seed, TAG_PLAN, 0);
    let cap = (n_base / 15).clamp(1, 3000);
    let span = w.span() as u64;
    let mut taken = BTreeMap::new();
    let mut stories = Vec::new();
    let mut sizes = Vec::new();
    let mut total = 0u64;
    while total < n_base {
        let u = (r.below(1 << 53) + 1) as f64 / (1u64 << 53) as f64;
        let raw = (1.5 / u) as u64;
        // Soft cap: the biggest stories spread over the top third below the cap.
        let size = if raw > cap {
            cap - r.below(cap / 3 + 1)
        } else {
            raw
        }
        .max(1)
        .min(n_base - total);
        let start = loop {
            let t = r.below(span);
            let hour = ((w.start + t as i64).rem_euclid(DAY_MS) / HOUR_MS) as usize;
            if r.below(14) < DIURNAL[hour] {
                break w.start + t as i64;
            }
        };
        let id = stories.len() as u32;
        let mut sr = Rng::stream(w.seed, TAG_STORY, u64::from(id));
        let mut st = w.story(&mut sr, id, start, Some(&mut taken));
        let bucket = match size {
            0..=4 => 0,
            5..=19 => 1,
            20..=99 => 2,
            100..=499 => 3,
            _ => 4,
        };
        let k = (bucket + r.below(3)).min(5);
        let life = (3 * HOUR_MS) << k;
        st.life = life + r.below(life as u64) as i64;
        stories.push(st);
        sizes.push(size);
        total += size;
    }

    let mut articles: Vec<(i64, u64, ArticleRec)> = Vec::with_capacity(n_base as usize);
    for (st, &size) in stories.iter().zip(&sizes) {
        let mut ar = Rng::stream(w.seed, TAG_ARTICLES, u64::from(st.id));
        let mut times: Vec<i64> = (0..size)
            .map(|_| article_time(st, w.end, &mut ar))
            .collect();
        times.sort_unstable();
        let ev = &EVENTS[st.event];
        let mut clean: Vec<(String, u16)> = Vec::with_capacity(size as usize);
        for (k, &t) in times.iter().enumerate() {
            let mut outlet = w.outlet_w.pick(&mut ar) as u16;
            let title = if k > 0 && ar.chance(SYNDICATION_CHANCE) {
                let (base, from) = clean[ar.index(k)].clone();
                for _ in 0..8 {
                    if outlet != from {
                        break;
                    }
                    outlet = w.outlet_w.pick(&mut ar) as u16;
                }
                let t = w.reword(&base, &w.outlets[outlet as usize], &mut ar);
                clean.push((base, outlet));
                t
            } else {
                let h = w.headline(st, &mut ar);
                let t = w.styled(&h, &w.outlets[outlet as usize]);
                clean.push((h, outlet));
                t
            };
            let summary = if ar.chance(SUMMARY_SHARE) {
                Some(w.summary(st, t, &mut ar))
            } else {
                None
            };
            let ts_style = match ar.below(20) {
                0..=8 => 0,
                9..=17 => 1,
                _ => 2,
            };
            let (topics, ntopics) = match (ev.topics.len(), ar.below(20)) {
                (1, _) | (_, 0..=11) => ([ev.topics[0], ""], 1),
                (_, 12..=16) => ([ev.topics[0], ev.topics[1]], 2),
                _ => ([ev.topics[1], ""], 1),
            };
            let ord = (u64::from(st.id) << 24) | k as u64;
            articles.push((
                t,
                ord,
                ArticleRec {
                    story: st.id,
                    outlet,
                    published: t,
                    title,
                    summary,
                    ts_style,
                    topics,
                    ntopics,
                },
            ));
        }
    }
    articles.sort_unstable_by_key(|(t, ord, _)| (*t, *ord));
    (stories, articles.into_iter().map(|(_, _, a)| a).collect())
}

// ---------------------------------------------------------------------------------------------
// Collector-result universe

struct Customer {
    id: String,
    brands: Vec<usize>,
    /// Topic (index into CR_TOPICS) of each query.
    queries: Vec<usize>,
}

struct Brand {
    id: String,
    name: String,
    comps: Vec<usize>,
    /// Permille chance that an answer mentions the brand.
    mention: u64,
    pos: u64,
    neg: u64,
}

struct Comp {
    id: String,
    name: String,
    pos: u64,
    neg: u64,
}

struct Universe {
    customers: Vec<Customer>,
    customer_w: Weighted,
    brands: Vec<Brand>,
    comps: Vec<Comp>,
    collector_w: Weighted,
    others: Vec<String>,
}

impl Universe {
    fn new(r: &mut Rng) -> Universe {
        let mut names: Vec<String> = vocab::BRAND_HEADS
            .iter()
            .flat_map(|h| vocab::BRAND_TAILS.iter().map(move |t| format!("{h}{t}")))
            .collect();
        r.shuffle(&mut names);
        let mut names = names.into_iter();
        let mut next_name = |k: usize| names.next().unwrap_or_else(|| format!("Vendor {k}"));

        let comps: Vec<Comp> = (0..vocab::CR_GROUPS * COMPETITORS_PER_GROUP)
            .map(|k| Comp {
                id: format!("comp-{:04}", k + 1),
                name: next_name(k),
                pos: r.range(350, 700),
                neg: r.range(50, 250),
            })
            .collect();
        let mut brands = Vec::new();
        let mut customers = Vec::new();
        let mut weights = Vec::new();
        for c in 0..CUSTOMERS {
            let group = r.index(vocab::CR_GROUPS);
            let topics: Vec<usize> = (0..vocab::CR_TOPICS.len())
                .filter(|&t| usize::from(vocab::CR_TOPICS[t].2) == group)
                .collect();
            let mut own = Vec::new();
            for _ in 0..r.range(1, 3) {
                let mut pool: Vec<usize> = (0..COMPETITORS_PER_GROUP)
                    .map(|k| group * COMPETITORS_PER_GROUP + k)
                    .collect();
                let n = r.range(3, 8) as usize;
                for i in 0..n {
                    let j = i + r.index(pool.len() - i);
                    pool.swap(i, j);
                }
                pool.truncate(n);
                let k = brands.len();
                brands.push(Brand {
                    id: format!("brand-{:04}", k + 1),
                    name: next_name(1000 + k),
                    comps: pool,
                    mention: r.range(350, 850),
                    pos: r.range(450, 800),
                    neg: r.range(30, 200),
                });
                own.push(k);
            }
            let queries = (0..QUERIES_PER_CUSTOMER)
                .map(|_| topics[r.index(topics.len())])
                .collect();
            customers.push(Customer {
                id: format!("cust-{:04}", c + 1),
                brands: own,
                queries,
            });
            weights.push(r.range(1, 10));
        }
        let others: Vec<String> = names.collect();
        Universe {
            customers,
            customer_w: Weighted::new(weights),
            brands,
            comps,
            collector_w: Weighted::new(vocab::COLLECTORS.iter().map(|&(_, w)| u64::from(w))),
            others,
        }
    }
}

/// Scores of one entity. Visibility and share in ten-thousandths; sentiment (label index,
/// score in thousandths).
#[derive(Clone)]
struct Sc {
    vis: u32,
    share: u32,
    pos: [u8; 3],
    npos: usize,
    mentions: u32,
    sent: Option<(usize, i32)>,
}

const LABELS: [&str; 3] = ["positive", "neutral", "negative"];

struct Cr {
    idx: u64,
    cust: usize,
    brand: usize,
    query: usize,
    collector: usize,
    topic: usize,
    created: i64,
    brand_sc: Sc,
    comps: Vec<(usize, Sc)>,
    others: u32,
    answer: String,
}

fn draw_sentiment(r: &mut Rng, pos: u64, neg: u64) -> (usize, i32) {
    let x = r.below(1000);
    if x < pos {
        (0, 200 + r.below(801) as i32)
    } else if x < pos + neg {
        (2, -(200 + r.below(801) as i32))
    } else {
        (1, r.below(201) as i32 - 100)
    }
}

fn score_for(label: usize, r: &mut Rng) -> i32 {
    match label {
        0 => 200 + r.below(801) as i32,
        2 => -(200 + r.below(801) as i32),
        _ => r.below(201) as i32 - 100,
    }
}

fn visibility(best: u8, mentions: u32, r: &mut Rng) -> u32 {
    let v = (11 - i64::from(best.min(10))) * 650
        + i64::from(mentions.min(4)) * 450
        + r.below(1000) as i64;
    v.clamp(1, 10_000) as u32
}

/// Positions still free in an answer (1..=10).
struct PositionPool {
    free: [u8; 10],
    left: usize,
}

impl PositionPool {
    fn new() -> PositionPool {
        PositionPool {
            free: [1, 2, 3, 4, 5, 6, 7, 8, 9, 10],
            left: 10,
        }
    }

    fn take(&mut self, k: usize, r: &mut Rng) -> ([u8; 3], usize) {
        let mut out = [0u8; 3];
        let k = k.min(3);
        for slot in out.iter_mut().take(k) {
            if self.left == 0 {
                *slot = 1 + r.below(10) as u8;
            } else {
                let j = r.index(self.left);
                *slot = self.free[j];
                self.free.swap(j, self.left - 1);
                self.left -= 1;
            }
        }
        out[..k].sort_unstable();
        // Duplicates can only come from an exhausted pool; drop them.
        let mut n = 0;
        for i in 0..k {
            if n == 0 || out[n - 1] != out[i] {
                out[n] = out[i];
                n += 1;
            }
        }
        (out, n)
    }
}

fn mentioned_scores(
    r: &mut Rng,
    pool: &mut PositionPool,
    k: usize,
    pos: u64,
    neg: u64,
    sentiment_p: f64,
) -> Sc {
    let (p, n) = pool.take(k, r);
    let extra = match r.below(20) {
        0..=9 => 0,
        10..=15 => 1,
        16..=18 => 2,
        _ => 3,
    };
    let mentions = n as u32 + extra;
    Sc {
        vis: visibility(p[0], mentions, r),
        share: 0,
        pos: p,
        npos: n,
        mentions,
        sent: if r.chance(sentiment_p) {
            Some(draw_sentiment(r, pos, neg))
        } else {
            None
        },
    }
}

fn unmentioned() -> Sc {
    Sc {
        vis: 0,
        share: 0,
        pos: [0; 3],
        npos: 0,
        mentions: 0,
        sent: None,
    }
}

fn fill_shares(cr: &mut Cr) {
    let total =
        cr.brand_sc.mentions + cr.comps.iter().map(|(_, s)| s.mentions).sum::<u32>() + cr.others;
    let share = |m: u32| (m * 10_000 + total / 2).checked_div(total).unwrap_or(0);
    cr.brand_sc.share = share(cr.brand_sc.mentions);
    for (_, s) in &mut cr.comps {
        s.share = share(s.mentions);
    }
}

impl World {
    /// Creation time of the `i`-th first-send collector result of `n`.
    fn cr_time(&self, i: u64, n: u64) -> i64 {
        let span = self.span() as u128;
        let base = (span * u128::from(i) / u128::from(n.max(1))) as i64;
        let step = (span / u128::from(n.max(1))).max(1) as u64;
        self.start
            + base
            + (mix64(self.seed ^ mix64(TAG_CR_TIME ^ i.wrapping_mul(GOLDEN))) % step) as i64
    }

    fn make_cr(&self, idx: u64, created: i64) -> Cr {
        let u = &self.universe;
        let mut r = Rng::stream(self.seed, TAG_CR, idx);
        let cust = u.customer_w.pick(&mut r);
        let c = &u.customers[cust];
        let brand = c.brands[r.index(c.brands.len())];
        let query = r.index(QUERIES_PER_CUSTOMER);
        let topic = c.queries[query];
        let collector = u.collector_w.pick(&mut r);
        let b = &u.brands[brand];
        let adjust: [i64; 5] = [0, 60, -40, 20, -60];
        let rate = (b.mention as i64 + adjust[collector % 5]).clamp(0, 1000) as u64;
        let mut pool = PositionPool::new();
        let brand_sc = if r.below(1000) < rate {
            let k = match r.below(20) {
                0..=9 => 1,
                10..=16 => 2,
                _ => 3,
            };
            mentioned_scores(&mut r, &mut pool, k, b.pos, b.neg, 0.95)
        } else {
            unmentioned()
        };
        let n = match r.below(20) {
            0..=3 => 0,
            4..=9 => 1,
            10..=14 => 2,
            15..=17 => 3,
            _ => 4,
        }
        .min(b.comps.len());
        let mut picks = b.comps.clone();
        for i in 0..n {
            let j = i + r.index(picks.len() - i);
            picks.swap(i, j);
        }
        let comps = picks[..n]
            .iter()
            .map(|&k| {
                let cp = &u.comps[k];
                let sc = if r.chance(0.9) {
                    let k = if r.chance(0.3) { 2 } else { 1 };
                    mentioned_scores(&mut r, &mut pool, k, cp.pos, cp.neg, 0.8)
                } else {
                    unmentioned()
                };
                (k, sc)
            })
            .collect();
        let mut cr = Cr {
            idx,
            cust,
            brand,
            query,
            collector,
            topic,
            created,
            brand_sc,
            comps,
            others: r.below(4) as u32,
            answer: String::new(),
        };
        fill_shares(&mut cr);
        cr.answer = self.answer(&cr, &mut r);
        cr
    }

    /// The answer text: names exactly the mentioned brand and competitors, best position first.
    fn answer(&self, cr: &Cr, r: &mut Rng) -> String {
        let u = &self.universe;
        let (topic_phrase, group) = {
            let t = vocab::CR_TOPICS[cr.topic];
            (t.1, usize::from(t.2))
        };
        let target = 180 + r.below(200) as usize;
        let mut s = String::with_capacity(640);
        s.push_str(&r.pick(vocab::INTROS).replace("{t}", topic_phrase));
        // (best position, order, name, sentiment)
        type Named<'n> = (u8, usize, &'n str, Option<(usize, i32)>);
        let mut named: Vec<Named<'_>> = Vec::with_capacity(5);
        if cr.brand_sc.mentions > 0 {
            named.push((
                cr.brand_sc.pos[0],
                0,
                u.brands[cr.brand].name.as_str(),
                cr.brand_sc.sent,
            ));
        }
        for (i, (k, sc)) in cr.comps.iter().enumerate() {
            if sc.mentions > 0 {
                named.push((sc.pos[0], i + 1, u.comps[*k].name.as_str(), sc.sent));
            }
        }
        named.sort_unstable_by_key(|&(p, i, _, _)| (p, i));
        for (_, _, name, sent) in named {
            let lines = match sent {
                Some((0, _)) => vocab::POSITIVE_LINES,
                Some((2, _)) => vocab::NEGATIVE_LINES,
                _ => vocab::NEUTRAL_LINES,
            };
            let line = r
                .pick(lines)
                .replace("{n}", name)
                .replace(
                    "{s}",
                    r.pick_str(vocab::STRENGTHS[group % vocab::STRENGTHS.len()]),
                )
                .replace("{w}", r.pick_str(vocab::WEAKNESSES));
            s.push(' ');
            s.push_str(&line);
        }
        if cr.others > 0 && u.others.len() >= 2 {
            let a = r.index(u.others.len());
            let b = (a + 1 + r.index(u.others.len() - 1)) % u.others.len();
            let line = r
                .pick(vocab::OTHERS_LINES)
                .replace("{o1}", &u.others[a])
                .replace("{o2}", &u.others[b]);
            s.push(' ');
            s.push_str(&line);
        }
        let first = r.index(vocab::FILLERS.len());
        for k in 0..vocab::FILLERS.len() {
            if s.len() >= target {
                break;
            }
            let f = vocab::FILLERS[(first + k) % vocab::FILLERS.len()];
            if s.len() + f.len() > 600 {
                break;
            }
            s.push(' ');
            s.push_str(f);
        }
        let closing = r.pick_str(vocab::CLOSINGS);
        if s.len() + closing.len() < 600 {
            s.push(' ');
            s.push_str(closing);
        }
        s
    }

    /// Re-scoring of a collector result: same answer, different numbers.
    fn rescore(&self, cr: &mut Cr, version: u64) {
        let mut r = Rng::stream(self.seed ^ version.wrapping_mul(GOLDEN), TAG_CR_FIX, cr.idx);
        let one = |sc: &mut Sc, r: &mut Rng| {
            if sc.mentions == 0 {
                return;
            }
            let delta = 1 + r.below(1200) as i64;
            let v = if r.chance(0.5) {
                i64::from(sc.vis) + delta
            } else {
                i64::from(sc.vis) - delta
            };
            sc.vis = v.clamp(1, 10_000) as u32;
            if r.chance(0.3) {
                sc.mentions += 1;
            }
            if let Some((label, _)) = sc.sent {
                let label = if r.chance(0.25) { r.index(3) } else { label };
                sc.sent = Some((label, score_for(label, r)));
            }
        };
        one(&mut cr.brand_sc, &mut r);
        for (_, sc) in &mut cr.comps {
            one(sc, &mut r);
        }
        fill_shares(cr);
    }
}

// ---------------------------------------------------------------------------------------------
// Writers

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum ArtBad {
    None,
    Truncate,
    MissingTitle,
    BlankTitle,
    BadTimestamp,
    MsAsString,
    NegativeMs,
    SchemaV2,
    NoTimestamp,
    TopicsString,
    EmptySource,
    Disagree,
}

const ART_BADS: [ArtBad; 11] = [
    ArtBad::Truncate,
    ArtBad::MissingTitle,
    ArtBad::BlankTitle,
    ArtBad::BadTimestamp,
    ArtBad::MsAsString,
    ArtBad::NegativeMs,
    ArtBad::SchemaV2,
    ArtBad::NoTimestamp,
    ArtBad::TopicsString,
    ArtBad::EmptySource,
    ArtBad::Disagree,
];

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum CrBad {
    None,
    Truncate,
    MissingField,
    VisTooHigh,
    BadLabel,
    Yesterday,
    ZonelessTime,
    MentionsString,
    VisString,
    NegativeShare,
    ZeroPosition,
    ScoreTooHigh,
    DuplicateCompetitor,
    SchemaV2,
}

const CR_BADS: [CrBad; 13] = [
    CrBad::Truncate,
    CrBad::MissingField,
    CrBad::VisTooHigh,
    CrBad::BadLabel,
    CrBad::Yesterday,
    CrBad::ZonelessTime,
    CrBad::MentionsString,
    CrBad::VisString,
    CrBad::NegativeShare,
    CrBad::ZeroPosition,
    CrBad::ScoreTooHigh,
    CrBad::DuplicateCompetitor,
    CrBad::SchemaV2,
];

/// Cuts a complete JSON line short (never at the closing brace, always on a char boundary).
fn truncate_line(s: &mut String, r: &mut Rng) {
    let len = s.len();
    let lo = 40.min(len.saturating_sub(2));
    let mut at = lo + r.index(len.saturating_sub(1).saturating_sub(lo).max(1));
    at = at.min(len - 1);
    while at > 0 && !s.is_char_boundary(at) {
        at -= 1;
    }
    s.truncate(at);
}

impl World {
    #[allow(clippy::too_many_arguments)]
    fn write_article(
        &self,
        s: &mut String,
        a: &ArticleRec,
        external_id: u64,
        version: Option<u64>,
        title: &str,
        bad: ArtBad,
        r: &mut Rng,
    ) {
        let outlet = &self.outlets[a.outlet as usize];
        s.push_str(r#"{"kind":"article""#);
        if bad == ArtBad::SchemaV2 {
            s.push_str(r#","schema_version":2"#);
        }
        s.push_str(r#","source":"#);
        push_json_str(
            s,
            if bad == ArtBad::EmptySource {
                ""
            } else {
                &outlet.host
            },
        );
        s.push_str(r#","external_id":""#);
        push_hex16(s, external_id);
        s.push('"');
        if let Some(v) = version {
            let _ = write!(s, r#","version":{v}"#);
        }
        match bad {
            ArtBad::MissingTitle => {}
            ArtBad::BlankTitle => s.push_str(r#","title":"   ""#),
            _ => {
                s.push_str(r#","title":"#);
                push_json_str(s, title);
            }
        }
        match bad {
            ArtBad::NoTimestamp => {}
            ArtBad::BadTimestamp => s.push_str(r#","published_at":"yesterday""#),
            ArtBad::MsAsString => {
                let _ = write!(s, r#","published_at_ms":"{}""#, a.published);
            }
            ArtBad::NegativeMs => {
                let _ = write!(s, r#","published_at_ms":-{}"#, 1 + r.below(DAY_MS as u64));
            }
            ArtBad::Disagree => {
                s.push_str(r#","published_at":""#);
                push_rfc3339(s, a.published);
                let _ = write!(
                    s,
                    r#"","published_at_ms":{}"#,
                    a.published + 1000 + r.below(HOUR_MS as u64) as i64
                );
            }
            _ => {
                if a.ts_style != 1 {
                    s.push_str(r#","published_at":""#);
                    push_rfc3339(s, a.published);
                    s.push('"');
                }
                if a.ts_style != 0 {
                    let _ = write!(s, r#","published_at_ms":{}"#, a.published);
                }
            }
        }
        let (y, m, d) = civil(a.published.div_euclid(DAY_MS));
        let _ = write!(
            s,
            r#","url":"https://{}/{y:04}/{m:02}/{d:02}/"#,
            outlet.host
        );
        s.push_str(&slug(title));
        s.push('"');
        if let Some(summary) = &a.summary {
            s.push_str(r#","summary":"#);
            push_json_str(s, summary);
        }
        s.push_str(r#","language":"en","topics":"#);
        if bad == ArtBad::TopicsString {
            push_json_str(s, a.topics[0]);
        } else {
            s.push('[');
            for (i, t) in a.topics[..usize::from(a.ntopics)].iter().enumerate() {
                if i > 0 {
                    s.push(',');
                }
                push_json_str(s, t);
            }
            s.push(']');
        }
        if bad == ArtBad::None {
            let _ = write!(s, r#","story_id":"st-{:06}""#, a.story);
        }
        s.push('}');
        if bad == ArtBad::Truncate {
            truncate_line(s, r);
        }
    }

    fn write_article_delete(
        &self,
        s: &mut String,
        a: &ArticleRec,
        external_id: u64,
        version: Option<u64>,
    ) {
        s.push_str(r#"{"kind":"article","source":"#);
        push_json_str(s, &self.outlets[a.outlet as usize].host);
        s.push_str(r#","external_id":""#);
        push_hex16(s, external_id);
        s.push('"');
        if let Some(v) = version {
            let _ = write!(s, r#","version":{v}"#);
        }
        s.push_str(r#","deleted":true}"#);
    }

    fn write_scores(s: &mut String, sc: &Sc, bad: CrBad) {
        s.push_str(r#""visibility_index":"#);
        match bad {
            CrBad::VisTooHigh => s.push_str("1.7"),
            CrBad::VisString => {
                s.push('"');
                push_unit4(s, sc.vis);
                s.push('"');
            }
            _ => push_unit4(s, sc.vis),
        }
        s.push_str(r#","share_of_answers":"#);
        if bad == CrBad::NegativeShare {
            s.push_str("-0.25");
        } else {
            push_unit4(s, sc.share);
        }
        s.push_str(r#","positions":["#);
        if bad == CrBad::ZeroPosition {
            s.push_str("0,");
        }
        for (i, p) in sc.pos[..sc.npos].iter().enumerate() {
            if i > 0 {
                s.push(',');
            }
            let _ = write!(s, "{p}");
        }
        if bad == CrBad::ZeroPosition && sc.npos == 0 {
            s.push('3');
        }
        s.push(']');
        match bad {
            CrBad::MissingField => {}
            CrBad::MentionsString => {
                let _ = write!(s, r#","mentions":"{}""#, sc.mentions);
            }
            _ => {
                let _ = write!(s, r#","mentions":{}"#, sc.mentions);
            }
        }
        let sent = match bad {
            CrBad::BadLabel => Some(("great", 700)),
            CrBad::ScoreTooHigh => Some(("positive", 1400)),
            _ => sc.sent.map(|(l, v)| (LABELS[l], v)),
        };
        if let Some((label, score)) = sent {
            let _ = write!(s, r#","sentiment":{{"label":"{label}","score":"#);
            if score > 1000 {
                let _ = write!(s, "1.{}", score - 1000);
            } else {
                push_milli(s, score);
            }
            s.push('}');
        }
    }

    fn write_cr(&self, s: &mut String, cr: &Cr, version: u64, bad: CrBad, r: &mut Rng) {
        let u = &self.universe;
        // Which field goes missing for CrBad::MissingField.
        let missing = if bad == CrBad::MissingField {
            r.below(6)
        } else {
            u64::MAX
        };
        s.push_str(r#"{"kind":"collector_result""#);
        if bad == CrBad::SchemaV2 {
            s.push_str(r#","schema_version":2"#);
        }
        s.push_str(r#","id":"cr-"#);
        push_hex16(s, mix64(cr.idx.wrapping_add(mix64(self.seed ^ TAG_CR_ID))));
        let _ = write!(s, r#"","version":{version}"#);
        let c = &u.customers[cr.cust];
        if missing != 0 {
            let _ = write!(s, r#","customer_id":"{}""#, c.id);
        }
        let b = &u.brands[cr.brand];
        if missing != 1 {
            let _ = write!(s, r#","brand_id":"{}""#, b.id);
        }
        s.push_str(r#","brand_name":"#);
        push_json_str(s, &b.name);
        if missing != 2 {
            let _ = write!(
                s,
                r#","query_id":"q-{:05}""#,
                cr.cust * QUERIES_PER_CUSTOMER + cr.query
            );
        }
        let _ = write!(
            s,
            r#","collector_type":"{}","topic":"{}""#,
            vocab::COLLECTORS[cr.collector].0,
            vocab::CR_TOPICS[cr.topic].0
        );
        match bad {
            _ if missing == 3 => {}
            CrBad::Yesterday => s.push_str(r#","created_at":"yesterday""#),
            CrBad::ZonelessTime => {
                s.push_str(r#","created_at":""#);
                let start = s.len();
                push_rfc3339(s, cr.created);
                // "2026-01-03T10:00:00.123Z" -> "2026-01-03 10:00:00"
                s.truncate(start + 19);
                s.replace_range(start + 10..start + 11, " ");
                s.push('"');
            }
            _ => {
                s.push_str(r#","created_at":""#);
                push_rfc3339(s, cr.created);
                s.push('"');
            }
        }
        s.push_str(r#","raw_answer":"#);
        push_json_str(s, &cr.answer);
        if missing != 4 {
            s.push_str(r#","brand":{"#);
            let brand_bad = match bad {
                CrBad::MissingField if missing == 5 => CrBad::MissingField,
                CrBad::MissingField
                | CrBad::DuplicateCompetitor
                | CrBad::SchemaV2
                | CrBad::Truncate => CrBad::None,
                CrBad::Yesterday | CrBad::ZonelessTime => CrBad::None,
                other => other,
            };
            World::write_scores(s, &cr.brand_sc, brand_bad);
            s.push('}');
        }
        s.push_str(r#","competitors":["#);
        let spare = unmentioned();
        let mut comps: Vec<(usize, &Sc)> = cr.comps.iter().map(|(k, sc)| (*k, sc)).collect();
        if bad == CrBad::DuplicateCompetitor {
            if comps.is_empty() {
                comps.push((b.comps[0], &spare));
            }
            comps.push(comps[0]);
        }
        for (i, (k, sc)) in comps.iter().enumerate() {
            if i > 0 {
                s.push(',');
            }
            let cp = &u.comps[*k];
            let _ = write!(s, r#"{{"competitor_id":"{}","name":"#, cp.id);
            push_json_str(s, &cp.name);
            s.push(',');
            World::write_scores(s, sc, CrBad::None);
            s.push('}');
        }
        s.push_str("]}");
        if bad == CrBad::Truncate {
            truncate_line(s, r);
        }
    }
}

// ---------------------------------------------------------------------------------------------
// The stream

struct Counts {
    base: u64,
    fixes: u64,
    deletes: u64,
    malformed: u64,
}

fn split_counts(lines: u64, malformed_share: f64, fix: f64, del: f64) -> Counts {
    let share = if malformed_share.is_finite() {
        malformed_share.clamp(0.0, 1.0)
    } else {
        0.0
    };
    let malformed = ((lines as f64 * share).round() as u64).min(lines);
    let rest = lines - malformed;
    let mut fixes = (rest as f64 * fix).round() as u64;
    let mut deletes = (rest as f64 * del).round() as u64;
    if fixes + deletes >= rest {
        fixes = 0;
        deletes = 0;
    }
    Counts {
        base: rest - fixes - deletes,
        fixes,
        deletes,
        malformed,
    }
}

/// A later line: (emission time, push order, what, item, version).
type Pending = Reverse<(i64, u64, u8, u64, u64)>;
const P_ART_FIX: u8 = 0;
const P_ART_DEL: u8 = 1;
const P_CR_FIX: u8 = 2;
const P_CR_DEL: u8 = 3;

fn generate_impl(
    opts: &GenOptions,
    out: &mut dyn io::Write,
    progress: &mut dyn FnMut(u64, u64),
    mut malformed_lines: Option<&mut Vec<u64>>,
) -> io::Result<GenStats> {
    let w = World::new(opts);
    let ac = split_counts(
        opts.articles,
        opts.malformed_share,
        ARTICLE_CORRECTION_SHARE,
        ARTICLE_DELETE_SHARE,
    );
    let cc = split_counts(
        opts.collector_results,
        opts.malformed_share,
        CR_CORRECTION_SHARE,
        CR_DELETE_SHARE,
    );
    let (_stories, articles) = plan_articles(&w, ac.base);
    let total = opts.articles + opts.collector_results;
    let art_id = |i: u64| mix64(i.wrapping_add(mix64(w.seed ^ TAG_ART_ID)));

    let mut sel_art_fix =
        Selection::new(ac.fixes, ac.base, Rng::stream(w.seed, TAG_SEL_ART_FIX, 0));
    let mut sel_art_del =
        Selection::new(ac.deletes, ac.base, Rng::stream(w.seed, TAG_SEL_ART_DEL, 0));
    let mut sel_cr_fix = Selection::new(cc.fixes, cc.base, Rng::stream(w.seed, TAG_SEL_CR_FIX, 0));
    let mut sel_cr_del =
        Selection::new(cc.deletes, cc.base, Rng::stream(w.seed, TAG_SEL_CR_DEL, 0));
    let mut delay = Rng::stream(w.seed, TAG_DELAY, 0);
    let mut bad_art = Rng::stream(w.seed, TAG_ART_BAD, 0);
    let mut bad_cr = Rng::stream(w.seed, TAG_CR_BAD, 0);
    let last = w.end - 1;

    let mut heap: BinaryHeap<Pending> = BinaryHeap::new();
    let mut pushes = 0u64;
    let (mut a_next, mut c_next, mut am_next, mut cm_next) = (0u64, 0u64, 0u64, 0u64);
    let slot_time = |j: u64, m: u64| {
        w.start + (w.span() as u128 * u128::from(2 * j + 1) / u128::from(2 * m.max(1))) as i64
    };

    let mut stats = GenStats::default();
    let mut line = String::with_capacity(2048);
    let mut done = 0u64;
    loop {
        // Candidates in a fixed order; ties go to the earlier candidate.
        let mut best: Option<(i64, u8)> = None;
        let mut consider = |t: i64, which: u8| {
            if best.is_none_or(|(bt, _)| t < bt) {
                best = Some((t, which));
            }
        };
        if let Some(Reverse((t, ..))) = heap.peek() {
            consider(*t, 0);
        }
        if a_next < ac.base {
            consider(articles[a_next as usize].published, 1);
        }
        if c_next < cc.base {
            consider(w.cr_time(c_next, cc.base), 2);
        }
        if am_next < ac.malformed {
            consider(slot_time(am_next, ac.malformed), 3);
        }
        if cm_next < cc.malformed {
            consider(slot_time(cm_next, cc.malformed), 4);
        }
        let Some((now, which)) = best else { break };
        line.clear();
        let mut is_malformed = false;
        match which {
            0 => {
                let Some(Reverse((_, _, what, item, version))) = heap.pop() else {
                    break;
                };
                match what {
                    P_ART_FIX => {
                        let a = &articles[item as usize];
                        let mut r = Rng::stream(w.seed, TAG_ART_FIX, item);
                        let title =
                            w.corrected_title(&a.title, &w.outlets[a.outlet as usize], &mut r);
                        w.write_article(
                            &mut line,
                            a,
                            art_id(item),
                            Some(version),
                            &title,
                            ArtBad::None,
                            &mut r,
                        );
                        stats.articles += 1;
                        stats.corrections += 1;
                    }
                    P_ART_DEL => {
                        let a = &articles[item as usize];
                        let v = if version > 0 { Some(version) } else { None };
                        w.write_article_delete(&mut line, a, art_id(item), v);
                        stats.articles += 1;
                        stats.deletes += 1;
                    }
                    P_CR_FIX => {
                        let mut cr = w.make_cr(item, w.cr_time(item, cc.base));
                        w.rescore(&mut cr, version);
                        w.write_cr(&mut line, &cr, version, CrBad::None, &mut bad_cr);
                        stats.collector_results += 1;
                        stats.corrections += 1;
                    }
                    _ => {
                        line.push_str(r#"{"kind":"collector_result","id":"cr-"#);
                        push_hex16(
                            &mut line,
                            mix64(item.wrapping_add(mix64(w.seed ^ TAG_CR_ID))),
                        );
                        let _ = write!(line, r#"","deleted":true,"version":{version}}}"#);
                        stats.collector_results += 1;
                        stats.deletes += 1;
                    }
                }
            }
            1 => {
                let i = a_next;
                a_next += 1;
                let fix = sel_art_fix.take();
                let del = sel_art_del.take();
                let a = &articles[i as usize];
                let version = if fix { Some(1) } else { None };
                w.write_article(
                    &mut line,
                    a,
                    art_id(i),
                    version,
                    &a.title,
                    ArtBad::None,
                    &mut delay,
                );
                if fix {
                    let t = (now + 10 * MINUTE_MS + delay.below((12 * HOUR_MS) as u64) as i64)
                        .min(last.max(now));
                    heap.push(Reverse((t, pushes, P_ART_FIX, i, 2)));
                    pushes += 1;
                }
                if del {
                    let t = (now + 13 * HOUR_MS + delay.below((60 * HOUR_MS) as u64) as i64)
                        .min(last.max(now));
                    heap.push(Reverse((t, pushes, P_ART_DEL, i, if fix { 3 } else { 0 })));
                    pushes += 1;
                }
                stats.articles += 1;
            }
            2 => {
                let i = c_next;
                c_next += 1;
                let fix = sel_cr_fix.take();
                let del = sel_cr_del.take();
                let cr = w.make_cr(i, now);
                w.write_cr(&mut line, &cr, 1, CrBad::None, &mut bad_cr);
                if fix {
                    let t = (now + 30 * MINUTE_MS + delay.below((36 * HOUR_MS) as u64) as i64)
                        .min(last.max(now));
                    heap.push(Reverse((t, pushes, P_CR_FIX, i, 2)));
                    pushes += 1;
                }
                if del {
                    let t = (now + 37 * HOUR_MS + delay.below((48 * HOUR_MS) as u64) as i64)
                        .min(last.max(now));
                    heap.push(Reverse((t, pushes, P_CR_DEL, i, if fix { 3 } else { 2 })));
                    pushes += 1;
                }
                stats.collector_results += 1;
            }
            3 => {
                let j = am_next;
                am_next += 1;
                let mut r = Rng::stream(w.seed, TAG_ART_BAD, j);
                let st = w.story(&mut r, u32::MAX, now, None);
                let outlet = w.outlet_w.pick(&mut r);
                let title = w.styled(&w.headline(&st, &mut r), &w.outlets[outlet]);
                let rec = ArticleRec {
                    story: u32::MAX,
                    outlet: outlet as u16,
                    published: now,
                    title,
                    summary: None,
                    ts_style: r.below(3) as u8,
                    topics: [EVENTS[st.event].topics[0], ""],
                    ntopics: 1,
                };
                let bad = ART_BADS[bad_art.index(ART_BADS.len())];
                w.write_article(
                    &mut line,
                    &rec,
                    art_id(ac.base + j),
                    None,
                    &rec.title,
                    bad,
                    &mut r,
                );
                stats.articles += 1;
                is_malformed = true;
            }
            _ => {
                let j = cm_next;
                cm_next += 1;
                let cr = w.make_cr(cc.base + j, now);
                let bad = CR_BADS[bad_cr.index(CR_BADS.len())];
                let mut r = Rng::stream(w.seed, TAG_CR_BAD, j);
                w.write_cr(&mut line, &cr, 1, bad, &mut r);
                stats.collector_results += 1;
                is_malformed = true;
            }
        }
        if is_malformed {
            stats.malformed += 1;
            if let Some(list) = malformed_lines.as_deref_mut() {
                list.push(done);
            }
        }
        line.push('\n');
        out.write_all(line.as_bytes())?;
        stats.bytes += line.len() as u64;
        done += 1;
        if done % PROGRESS_EVERY == 0 {
            progress(done, total);
        }
    }
    if done % PROGRESS_EVERY != 0 {
        progress(done, total);
    }
    debug_assert_eq!(done, total);
    Ok(stats)
}

#[cfg(test)]
mod tests {
    use super::*;
    use dataflows::decode::Decoder;
    use dataflows::event::{Change, Event, EventKind};
    use std::collections::{BTreeMap, BTreeSet};

    fn opts(seed: u64, articles: u64, collector_results: u64, malformed_share: f64) -> GenOptions {
        GenOptions {
            seed,
            articles,
            collector_results,
            malformed_share,
            start_ms: 1_767_225_600_000, // 2026-01-01T00:00:00Z
            days: 14,
        }
    }

    fn run(o: &GenOptions) -> (Vec<u8>, GenStats, Vec<u64>) {
        let mut buf = Vec::new();
        let mut bad = Vec::new();
        let stats = generate_impl(o, &mut buf, &mut |_, _| {}, Some(&mut bad)).expect("generate");
        (buf, stats, bad)
    }

    fn words(s: &str) -> BTreeSet<String> {
        s.split(|c: char| !c.is_alphanumeric())
            .filter(|w| !w.is_empty())
            .map(str::to_lowercase)
            .collect()
    }

    fn jaccard(a: &str, b: &str) -> f64 {
        let (a, b) = (words(a), words(b));
        let inter = a.intersection(&b).count();
        let union = a.len() + b.len() - inter;
        if union == 0 {
            0.0
        } else {
            inter as f64 / union as f64
        }
    }

    fn lines(buf: &[u8]) -> Vec<&str> {
        std::str::from_utf8(buf).expect("utf-8").lines().collect()
    }

    #[test]
    fn rfc3339_and_numbers() {
        let mut s = String::new();
        push_rfc3339(&mut s, 1_767_225_600_000);
        assert_eq!(s, "2026-01-01T00:00:00.000Z");
        s.clear();
        push_rfc3339(&mut s, 951_827_696_789); // 2000-02-29T12:34:56.789Z
        assert_eq!(s, "2000-02-29T12:34:56.789Z");
        s.clear();
        push_unit4(&mut s, 4200);
        s.push(' ');
        push_unit4(&mut s, 7);
        s.push(' ');
        push_unit4(&mut s, 10_000);
        s.push(' ');
        push_milli(&mut s, -532);
        s.push(' ');
        push_milli(&mut s, 0);
        assert_eq!(s, "0.42 0.0007 1 -0.532 0");
        s.clear();
        push_count(&mut s, 12_400);
        s.push(' ');
        push_count(&mut s, 3_400_000);
        assert_eq!(s, "12,400 3.4 million");
    }

    #[test]
    fn every_template_expands() {
        let w = World::new(&opts(3, 0, 0, 0.0));
        let mut r = Rng::new(9);
        for id in 0..2000 {
            let st = w.story(&mut r, id, w.start, None);
            let h = w.headline(&st, &mut r);
            assert!(
                !h.contains('{') && !h.contains('}') && !h.contains('|') && !h.contains('['),
                "{h}"
            );
            let s = w.summary(&st, w.start, &mut r);
            assert!(!s.contains('{') && !s.contains('|'), "{s}");
        }
    }

    #[test]
    fn deterministic_by_seed() {
        let o = opts(7, 3000, 3000, 0.01);
        let (a, sa, _) = run(&o);
        let (b, sb, _) = run(&o);
        assert_eq!(a, b);
        assert_eq!(sa, sb);
        let (c, _, _) = run(&opts(8, 3000, 3000, 0.01));
        assert_ne!(a, c);
    }

    #[test]
    fn exact_line_counts() {
        for (na, nc) in [
            (0, 0),
            (1, 0),
            (0, 1),
            (7, 3),
            (1000, 0),
            (0, 1000),
            (2500, 12_345),
        ] {
            let o = opts(1, na, nc, 0.01);
            let mut calls = Vec::new();
            let mut buf = Vec::new();
            let stats = generate(&o, &mut buf, &mut |d, t| calls.push((d, t))).expect("generate");
            let ls = lines(&buf);
            assert_eq!(ls.len() as u64, na + nc);
            assert_eq!(stats.articles, na);
            assert_eq!(stats.collector_results, nc);
            assert_eq!(stats.bytes, buf.len() as u64);
            let arts = ls
                .iter()
                .filter(|l| l.starts_with(r#"{"kind":"article""#))
                .count() as u64;
            let crs = ls
                .iter()
                .filter(|l| l.starts_with(r#"{"kind":"collector_result""#))
                .count() as u64;
            assert_eq!((arts, crs), (na, nc));
            if na + nc > 0 {
                assert_eq!(calls.last().copied(), Some((na + nc, na + nc)));
            }
        }
    }

    #[test]
    fn lines_are_json_with_a_kind_and_shares_look_right() {
        let o = opts(11, 20_000, 40_000, 0.01);
        let (buf, stats, bad) = run(&o);
        let bad: BTreeSet<u64> = bad.into_iter().collect();
        assert_eq!(stats.malformed, 600);
        assert_eq!(bad.len(), 600);
        let mut fixes = [0u64; 2];
        let mut deletes = [0u64; 2];
        let mut syndicated = 0;
        let mut titles: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
        let mut article_firsts = 0;
        for (i, l) in lines(&buf).iter().enumerate() {
            assert!(
                l.starts_with(r#"{"kind":"article""#)
                    || l.starts_with(r#"{"kind":"collector_result""#)
            );
            if bad.contains(&(i as u64)) {
                continue;
            }
            let v: serde_json::Value = serde_json::from_str(l).expect("valid JSON");
            let k = usize::from(v["kind"] == "collector_result");
            if v["deleted"] == true {
                deletes[k] += 1;
            } else if v["version"].as_u64().unwrap_or(0) >= 2 {
                fixes[k] += 1;
            } else if k == 0 {
                article_firsts += 1;
                let story = v["story_id"].as_str().expect("story_id").to_string();
                let title = v["title"].as_str().expect("title").to_string();
                let set = titles.entry(story).or_default();
                if set.iter().any(|t| jaccard(t, &title) >= 0.6) {
                    syndicated += 1;
                }
                set.insert(title);
            }
        }
        assert_eq!(fixes[0] + fixes[1], stats.corrections);
        assert_eq!(deletes[0] + deletes[1], stats.deletes);
        let rest_a = 20_000.0 - 200.0;
        let rest_c = 40_000.0 - 400.0;
        assert_eq!(fixes[0], (rest_a * ARTICLE_CORRECTION_SHARE).round() as u64);
        assert_eq!(deletes[0], (rest_a * ARTICLE_DELETE_SHARE).round() as u64);
        assert_eq!(fixes[1], (rest_c * CR_CORRECTION_SHARE).round() as u64);
        assert_eq!(deletes[1], (rest_c * CR_DELETE_SHARE).round() as u64);
        // Heavy tail: few stories, some large.
        let biggest = titles.values().map(BTreeSet::len).max().unwrap_or(0);
        assert!(
            titles.len() > 200 && titles.len() < article_firsts / 3,
            "{} stories",
            titles.len()
        );
        assert!(biggest > 100, "biggest story {biggest}");
        assert!(
            syndicated > article_firsts / 10,
            "{syndicated} of {article_firsts}"
        );
        let avg = stats.bytes / (stats.articles + stats.collector_results);
        assert!(avg > 500, "average line {avg} bytes");
    }

    /// Up to `BASE_WORLD_ARTICLES` lines the world's names are the base lists; ten times as many
    /// lines bring about ten times as many companies, surnames and places, all distinct, with
    /// the small world's names first and in the same order (its draws do not change).
    #[test]
    fn larger_streams_have_proportionally_more_names() {
        let small = World::new(&opts(9, BASE_WORLD_ARTICLES, 0, 0.0));
        let large = World::new(&opts(9, 10 * BASE_WORLD_ARTICLES, 0, 0.0));
        let stems = |w: &World| {
            w.companies
                .iter()
                .map(|c| c.stem.clone())
                .collect::<Vec<_>>()
        };
        let bases = [
            (
                stems(&small),
                stems(&large),
                vocab::COMPANY_ONSETS.len() * vocab::COMPANY_ENDINGS.len(),
            ),
            (
                small.places.clone(),
                large.places.clone(),
                vocab::PLACE_STEMS.len(),
            ),
            (
                small.last_names.clone(),
                large.last_names.clone(),
                vocab::LAST_NAMES.len(),
            ),
        ];
        for (small, large, base) in bases {
            assert_eq!(small.len(), base, "a small world keeps the base list");
            assert_eq!(
                large.len(),
                10 * base,
                "ten times the lines, ten times the names"
            );
            assert_eq!(
                large[..base],
                small[..],
                "the base names come first, unchanged"
            );
            let distinct: BTreeSet<&String> = large.iter().collect();
            assert_eq!(distinct.len(), large.len(), "coined names are new");
        }
    }

    #[test]
    fn decoder_accepts_good_lines_and_rejects_malformed() {
        let o = opts(5, 8000, 20_000, 0.02);
        let (buf, stats, bad) = run(&o);
        let bad: BTreeSet<u64> = bad.into_iter().collect();
        assert_eq!(bad.len() as u64, stats.malformed);
        let mut d = Decoder::default();
        let mut cr_versions: BTreeMap<dataflows::event::Text, u64> = BTreeMap::new();
        let mut art_versions: BTreeMap<(String, String), u64> = BTreeMap::new();
        let mut last_base_created = i64::MIN;
        for (i, l) in lines(&buf).iter().enumerate() {
            let kind = if l.starts_with(r#"{"kind":"article""#) {
                EventKind::Article
            } else {
                EventKind::CollectorResult
            };
            let res = d.decode_payload(kind, l.as_bytes(), i as u64);
            if bad.contains(&(i as u64)) {
                assert!(res.is_err(), "line {i} should be rejected: {l}");
                continue;
            }
            let ev = res.unwrap_or_else(|e| panic!("line {i} rejected ({e}): {l}"));
            match ev {
                Event::CollectorResult(id, rec) => {
                    let prev = cr_versions.insert(id.clone(), rec.version);
                    assert!(
                        prev.is_none_or(|p| p < rec.version),
                        "{id}: version {} after {prev:?}",
                        rec.version
                    );
                    if let Change::Upsert(cr) = rec.change {
                        let all = std::iter::once(&cr.brand)
                            .chain(cr.competitors.iter().map(|c| &c.scores));
                        for s in all {
                            assert!(s.mentions as usize >= s.positions.len());
                            assert!(s.positions.windows(2).all(|p| p[0] < p[1]));
                            assert!(s.positions.iter().all(|&p| (1..=10).contains(&p)));
                            if s.mentions == 0 {
                                assert!(
                                    s.positions.is_empty()
                                        && s.visibility_index == 0
                                        && s.sentiment.is_none()
                                );
                            } else {
                                assert!(!s.positions.is_empty() && s.visibility_index > 0);
                            }
                            if let Some(sent) = s.sentiment {
                                match sent.label.as_str() {
                                    "positive" => assert!(sent.score > 0),
                                    "negative" => assert!(sent.score < 0),
                                    _ => assert!(sent.score.abs() <= 100_000),
                                }
                            }
                        }
                        assert!(cr.competitors.len() <= 4);
                        assert!((o.start_ms..o.start_ms + 14 * DAY_MS).contains(&cr.created_at));
                        if rec.version == 1 {
                            assert!(cr.created_at >= last_base_created);
                            last_base_created = cr.created_at;
                        }
                        let answer = cr.raw_answer.clone().expect("raw_answer");
                        let brand_named =
                            cr.brand_name.as_deref().is_some_and(|n| answer.contains(n));
                        assert_eq!(brand_named, cr.brand.mentions > 0, "{answer}");
                    }
                }
                Event::Article(key, rec) => {
                    let k = (key.source.to_string(), key.external_id.to_string());
                    let is_delete = matches!(rec.change, Change::Delete);
                    let prev = art_versions.insert(k.clone(), rec.version);
                    if let Some(p) = prev {
                        // An unversioned article is deleted by an unversioned delete (later line).
                        let ok = p < rec.version || (is_delete && p == 0 && rec.version == 0);
                        assert!(ok, "{k:?}: version {} after {p}", rec.version);
                    }
                }
            }
        }
    }
}

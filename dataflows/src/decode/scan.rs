//! A strict fast path that reads a collector result's JSON into its raw fields; anything it does not fully understand is left to serde.
//!
//! Decoding is over half of a cold load's instructions, much of it serde_json's derived
//! visitors reading each object key as a string and matching it. This reader knows the one
//! shape a collector result has: it matches keys by their bytes, finds string ends eight bytes
//! at a time and parses numbers with the exact arithmetic serde_json uses, so what it returns is
//! exactly what serde would have returned. On anything else (escapes in a key, a number in a
//! form serde would turn into something else, a duplicate key, a syntax error, a wrong type)
//! it returns `None` and the caller runs serde, whose errors name the field. It never rejects
//! input itself.

use std::borrow::Cow;

use smallvec::SmallVec;

use super::{RawCollectorResult, RawScores, RawSentiment, Str};

/// A collector result's keys, quoted, in the order `trendflow gen` and the producers write them
/// (`kind` is read and ignored, as serde ignores it). Indices are the match arms below.
const RESULT_KEYS: &[&[u8]] = &[
    b"\"kind\"",
    b"\"id\"",
    b"\"version\"",
    b"\"customer_id\"",
    b"\"brand_id\"",
    b"\"brand_name\"",
    b"\"query_id\"",
    b"\"collector_type\"",
    b"\"topic\"",
    b"\"created_at\"",
    b"\"raw_answer\"",
    b"\"brand\"",
    b"\"competitors\"",
    b"\"deleted\"",
    b"\"schema_version\"",
];

/// A score object's keys, quoted, in the order they are written.
const SCORE_KEYS: &[&[u8]] = &[
    b"\"competitor_id\"",
    b"\"name\"",
    b"\"visibility_index\"",
    b"\"share_of_answers\"",
    b"\"positions\"",
    b"\"mentions\"",
    b"\"sentiment\"",
];

const SENTIMENT_KEYS: &[&[u8]] = &[b"\"label\"", b"\"score\""];

/// Reads `text` as a collector result, or `None` when serde must decide.
pub(super) fn collector_result(text: &str) -> Option<RawCollectorResult<'_>> {
    let mut c = Cursor::new(text);
    let mut raw = RawCollectorResult::default();
    c.object(RESULT_KEYS, |c, key| {
        match key {
            Some(1) => raw.id = c.option(Cursor::string)?,
            Some(2) => raw.version = c.option(Cursor::u64)?,
            Some(3) => raw.customer_id = c.option(Cursor::string)?,
            Some(4) => raw.brand_id = c.option(Cursor::string)?,
            Some(5) => raw.brand_name = c.option(Cursor::string)?,
            Some(6) => raw.query_id = c.option(Cursor::string)?,
            Some(7) => raw.collector_type = c.option(Cursor::string)?,
            Some(8) => raw.topic = c.option(Cursor::string)?,
            Some(9) => raw.created_at = c.option(Cursor::string)?,
            Some(10) => raw.raw_answer = c.option(Cursor::string)?,
            Some(11) => raw.brand = c.option(Cursor::scores)?,
            Some(12) => raw.competitors = c.option(|c| c.array(Vec::new(), Cursor::scores))?,
            Some(13) => raw.deleted = c.bool()?,
            Some(14) => raw.schema_version = c.option(Cursor::u64)?,
            // serde ignores fields it does not know (`kind` in a mixed file, say): skipped,
            // but they must be well-formed JSON.
            _ => c.skip_value(0)?,
        }
        Some(())
    })?;
    c.end()?;
    Some(raw)
}

/// Most digits of a number the fast path reads (the significand then fits a `u64`, as in
/// serde_json, without its overflow branch).
const MAX_DIGITS: u32 = 18;

/// The powers of ten serde_json divides by, up to the most fraction digits read here (all
/// exact in `f64`).
const POW10: [f64; MAX_DIGITS as usize + 1] = [
    1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15, 1e16,
    1e17, 1e18,
];

/// serde_json nests at most 128 levels; skipped values here go no deeper than this.
const MAX_DEPTH: u32 = 32;

struct Cursor<'a> {
    text: &'a str,
    bytes: &'a [u8],
    pos: usize,
}

impl<'a> Cursor<'a> {
    fn new(text: &'a str) -> Self {
        Cursor {
            text,
            bytes: text.as_bytes(),
            pos: 0,
        }
    }

    /// Skips JSON whitespace and returns the next byte, not consumed.
    #[inline]
    fn peek(&mut self) -> Option<u8> {
        while let Some(&b) = self.bytes.get(self.pos) {
            if !matches!(b, b' ' | b'\n' | b'\r' | b'\t') {
                return Some(b);
            }
            self.pos += 1;
        }
        None
    }

    #[inline]
    fn eat(&mut self, byte: u8) -> Option<()> {
        (self.peek()? == byte).then(|| self.pos += 1)
    }

    /// Only whitespace may follow the value.
    fn end(&mut self) -> Option<()> {
        self.peek().is_none().then_some(())
    }

    /// An object whose known keys are `keys` (quoted): for each key, `field` reads the value,
    /// given the key's index in `keys` (`None` for another key). A line with a known key given
    /// twice (serde rejects a field given twice) or an escape in a key is left to serde.
    ///
    /// The next key is first compared with the one expected after the last (producers write
    /// them in one order), so a key is usually matched by one comparison, without a scan.
    fn object(
        &mut self,
        keys: &[&[u8]],
        mut field: impl FnMut(&mut Self, Option<usize>) -> Option<()>,
    ) -> Option<()> {
        debug_assert!(keys.len() <= 32);
        self.eat(b'{')?;
        if self.eat(b'}').is_some() {
            return Some(());
        }
        let mut seen = 0u32;
        let mut next = 0;
        loop {
            if self.peek()? != b'"' {
                return None;
            }
            // A quoted expected key ends with its quote, so a match is the whole key.
            let index = match keys.get(next) {
                Some(expected) if self.bytes[self.pos..].starts_with(expected) => {
                    self.pos += expected.len();
                    Some(next)
                }
                _ => {
                    let (start, end) = self.plain_bytes()?;
                    let key = &self.bytes[start..end];
                    keys.iter().position(|k| &k[1..k.len() - 1] == key)
                }
            };
            if let Some(i) = index {
                if seen & (1 << i) != 0 {
                    return None;
                }
                seen |= 1 << i;
                next = i + 1;
            }
            self.eat(b':')?;
            field(self, index)?;
            match self.peek()? {
                b',' => self.pos += 1,
                b'}' => {
                    self.pos += 1;
                    return Some(());
                }
                _ => return None,
            }
        }
    }

    /// An array of values read by `item` into `out`.
    fn array<C: Extend<T>, T>(
        &mut self,
        mut out: C,
        mut item: impl FnMut(&mut Self) -> Option<T>,
    ) -> Option<C> {
        self.eat(b'[')?;
        if self.eat(b']').is_some() {
            return Some(out);
        }
        loop {
            out.extend(Some(item(self)?));
            match self.peek()? {
                b',' => self.pos += 1,
                b']' => {
                    self.pos += 1;
                    return Some(out);
                }
                _ => return None,
            }
        }
    }

    /// `null` or a value, as serde reads an `Option`.
    fn option<T>(&mut self, value: impl FnOnce(&mut Self) -> Option<T>) -> Option<Option<T>> {
        if self.peek()? == b'n' {
            self.literal(b"null")?;
            return Some(None);
        }
        value(self).map(Some)
    }

    fn literal(&mut self, word: &[u8]) -> Option<()> {
        let end = self.pos + word.len();
        (self.bytes.get(self.pos..end)? == word).then(|| self.pos = end)
    }

    fn bool(&mut self) -> Option<bool> {
        match self.peek()? {
            b't' => self.literal(b"true").map(|()| true),
            b'f' => self.literal(b"false").map(|()| false),
            _ => None,
        }
    }

    /// The bytes of a string without escapes (`None` for one with escapes), quotes consumed.
    #[inline]
    fn plain_bytes(&mut self) -> Option<(usize, usize)> {
        self.eat(b'"')?;
        let start = self.pos;
        let end = start + string_stop(&self.bytes[start..])?;
        if self.bytes[end] != b'"' {
            return None;
        }
        self.pos = end + 1;
        Some((start, end))
    }

    /// A string without escapes, borrowed from the input (`None` for one with escapes).
    fn plain_string(&mut self) -> Option<&'a str> {
        let (start, end) = self.plain_bytes()?;
        // Both ends are ASCII quotes, so the slice lies on character boundaries.
        self.text.get(start..end)
    }

    /// A string value: borrowed when it has no escapes, else unescaped by serde_json itself.
    fn string(&mut self) -> Option<Str<'a>> {
        let start = self.pos;
        if let Some(s) = self.plain_string() {
            return Some(Str(Cow::Borrowed(s)));
        }
        self.pos = start;
        self.eat(b'"')?;
        let open = self.pos - 1;
        self.skip_string_body()?;
        serde_json::from_str::<String>(&self.text[open..self.pos])
            .ok()
            .map(|s| Str(Cow::Owned(s)))
    }

    /// Moves past the closing quote of a string whose opening quote is consumed, stepping over
    /// escapes (whose validity serde then checks, unescaping the string).
    fn skip_string_body(&mut self) -> Option<()> {
        loop {
            let rest = &self.bytes[self.pos..];
            let i = string_stop(rest)?;
            if rest[i] < 0x20 {
                return None;
            }
            self.pos += i + 1;
            if rest[i] == b'"' {
                return Some(());
            }
            // The escaped character; a `\u` escape's hex digits hold no quote or backslash.
            let escaped = *self.bytes.get(self.pos)?;
            if escaped < 0x20 {
                return None;
            }
            self.pos += 1;
        }
    }

    /// Appends the digits at the cursor to `value`, which holds `count` digits already: the
    /// new value and count, or `None` past [`MAX_DIGITS`].
    #[inline]
    fn append_digits(&mut self, mut value: u64, mut count: u32) -> Option<(u64, u32)> {
        while let Some(&b) = self.bytes.get(self.pos) {
            if !b.is_ascii_digit() {
                break;
            }
            value = value * 10 + u64::from(b - b'0');
            count += 1;
            if count > MAX_DIGITS {
                return None;
            }
            self.pos += 1;
        }
        Some((value, count))
    }

    /// Digits of a non-negative integer: the value and how many digits, with JSON's rule of
    /// no leading zero.
    #[inline]
    fn digits(&mut self) -> Option<(u64, u32)> {
        let start = self.pos;
        let (value, count) = self.append_digits(0, 0)?;
        if count == 0 || (count > 1 && self.bytes[start] == b'0') {
            return None;
        }
        Some((value, count))
    }

    /// A non-negative integer (what serde accepts for `u64`, and for `i64` when not negative).
    /// A fraction or an exponent after it is refused by the caller, which expects `,`, `}` or
    /// `]` next.
    fn u64(&mut self) -> Option<u64> {
        self.peek()?;
        self.digits().map(|(value, _)| value)
    }

    fn i64(&mut self) -> Option<i64> {
        self.u64().map(|v| v as i64)
    }

    /// A number read as `f64` with serde_json's own arithmetic (without its `float_roundtrip`
    /// feature): the significand as `f64`, divided by the exact power of ten. Very long
    /// numbers are left to serde, and so are exponents: the caller refuses an `e` after it.
    fn f64(&mut self) -> Option<f64> {
        let negative = self.peek()? == b'-';
        if negative {
            self.pos += 1;
        }
        let (mut significand, int_digits) = self.digits()?;
        let mut frac_digits = 0u32;
        if self.bytes.get(self.pos) == Some(&b'.') {
            self.pos += 1;
            let digits;
            (significand, digits) = self.append_digits(significand, int_digits)?;
            frac_digits = digits - int_digits;
            if frac_digits == 0 {
                return None;
            }
        }
        let mut f = significand as f64;
        if frac_digits > 0 {
            f /= POW10[frac_digits as usize];
        }
        Some(if negative { -f } else { f })
    }

    fn scores(&mut self) -> Option<RawScores<'a>> {
        let mut raw = RawScores::default();
        self.object(SCORE_KEYS, |c, key| {
            match key {
                Some(0) => raw.competitor_id = c.option(Cursor::string)?,
                Some(1) => raw.name = c.option(Cursor::string)?,
                Some(2) => raw.visibility_index = c.option(Cursor::f64)?,
                Some(3) => raw.share_of_answers = c.option(Cursor::f64)?,
                Some(4) => raw.positions = c.option(|c| c.array(SmallVec::new(), Cursor::i64))?,
                Some(5) => raw.mentions = c.option(Cursor::i64)?,
                Some(6) => raw.sentiment = c.option(Cursor::sentiment)?,
                _ => c.skip_value(1)?,
            }
            Some(())
        })?;
        Some(raw)
    }

    fn sentiment(&mut self) -> Option<RawSentiment<'a>> {
        let mut raw = RawSentiment::default();
        self.object(SENTIMENT_KEYS, |c, key| {
            match key {
                Some(0) => raw.label = c.option(Cursor::string)?,
                Some(1) => raw.score = c.option(Cursor::f64)?,
                _ => c.skip_value(2)?,
            }
            Some(())
        })?;
        Some(raw)
    }

    /// Steps over any well-formed JSON value (an ignored field).
    fn skip_value(&mut self, depth: u32) -> Option<()> {
        if depth > MAX_DEPTH {
            return None;
        }
        match self.peek()? {
            // serde checks the escapes of a string it skips; this path skips only plain ones.
            b'"' => self.plain_bytes().map(drop),
            b'{' => self.object(&[], |c, _| c.skip_value(depth + 1)),
            b'[' => self.array((), |c| c.skip_value(depth + 1)),
            b't' => self.literal(b"true"),
            b'f' => self.literal(b"false"),
            b'n' => self.literal(b"null"),
            _ => self.f64().map(drop),
        }
    }
}

/// The index of the first byte that ends a plain run of string characters: a quote, a
/// backslash or a raw control character (which JSON does not allow inside a string).
///
/// Eight bytes at a time, as serde_json's own `skip_to_escape`: in each word, a byte equal to
/// `"` or `\\`, or below 0x20, sets its high bit in `stop`. The bit test can also flag a byte
/// above a flagged one (a borrow carries upwards), never one below it, so the lowest flag is
/// exact. Most strings here are short keys and ids, where a vectorised search's setup costs
/// more than the search.
#[inline]
fn string_stop(bytes: &[u8]) -> Option<usize> {
    const ONES: u64 = u64::from_ne_bytes([0x01; 8]);
    const HIGH: u64 = u64::from_ne_bytes([0x80; 8]);
    const QUOTE: u64 = u64::from_ne_bytes([b'"'; 8]);
    const BACKSLASH: u64 = u64::from_ne_bytes([b'\\'; 8]);
    const CONTROL: u64 = u64::from_ne_bytes([0x20; 8]);
    let mut chunks = bytes.chunks_exact(8);
    let mut offset = 0;
    for chunk in &mut chunks {
        let word = u64::from_le_bytes(chunk.try_into().expect("an 8-byte chunk"));
        let quote = word ^ QUOTE;
        let backslash = word ^ BACKSLASH;
        let stop = (quote.wrapping_sub(ONES) & !quote)
            | (backslash.wrapping_sub(ONES) & !backslash)
            | (word.wrapping_sub(CONTROL) & !word);
        let stop = stop & HIGH;
        if stop != 0 {
            return Some(offset + stop.trailing_zeros() as usize / 8);
        }
        offset += 8;
    }
    let tail = chunks.remainder();
    tail.iter()
        .position(|&b| b == b'"' || b == b'\\' || b < 0x20)
        .map(|i| offset + i)
}

#[cfg(test)]
mod tests {
    use rand::rngs::StdRng;
    use rand::{Rng, SeedableRng};

    use super::super::{parse, RawCollectorResult};
    use super::{collector_result, string_stop};

    fn serde(text: &str) -> Option<RawCollectorResult<'_>> {
        parse::<RawCollectorResult>(text).ok()
    }

    /// Whatever the fast path returns, serde returns too; `true` when the fast path answered.
    fn check(text: &str) -> bool {
        match collector_result(text) {
            None => false,
            Some(fast) => {
                assert_eq!(
                    Some(&fast),
                    serde(text).as_ref(),
                    "fast path differs on {text}"
                );
                true
            }
        }
    }

    struct Gen {
        rng: StdRng,
    }

    impl Gen {
        fn ws(&mut self) -> &'static str {
            ["", "", "", " ", "\n", "\t ", "\r\n"][self.rng.gen_range(0..7)]
        }

        fn string(&mut self) -> String {
            const PIECES: [&str; 14] = [
                "a",
                "Brand",
                " ",
                "-",
                "0",
                "é",
                "日本",
                "\\n",
                "\\\"",
                "\\\\",
                "\\u00e9",
                "\\ud83d\\ude00",
                "\\/",
                "x\u{7f}",
            ];
            let escapes = self.rng.gen_bool(0.2);
            let mut s = String::from("\"");
            for _ in 0..self.rng.gen_range(0..8) {
                let piece = PIECES[self.rng.gen_range(0..PIECES.len())];
                if escapes || !piece.starts_with('\\') {
                    s.push_str(piece);
                }
            }
            s.push('"');
            s
        }

        fn float(&mut self) -> String {
            match self.rng.gen_range(0..60) {
                0 => "1".into(),
                1 => "0".into(),
                2 => format!("-0.{}", self.rng.gen_range(0..1000)),
                3 => format!(
                    "{}e-{}",
                    self.rng.gen_range(0..100),
                    self.rng.gen_range(0..4)
                ),
                4 => format!("0.{:019}", self.rng.gen_range(0..u64::MAX / 2)),
                5 => format!(
                    "{}.{}",
                    self.rng.gen_range(0..3),
                    self.rng.gen_range(0..100)
                ),
                _ => format!("0.{:04}", self.rng.gen_range(0..10_000)),
            }
        }

        fn int(&mut self) -> String {
            match self.rng.gen_range(0..60) {
                0 => "-1".into(),
                1 => "2.0".into(),
                2 => "99999999999999999999".into(),
                _ => self.rng.gen_range(0..20).to_string(),
            }
        }

        /// Maybe null, maybe left out (`None`), else the value.
        fn optional(&mut self, value: String) -> Option<String> {
            match self.rng.gen_range(0..20) {
                0 => None,
                1 => Some("null".into()),
                _ => Some(value),
            }
        }

        fn object(&mut self, mut fields: Vec<(String, Option<String>)>) -> String {
            if self.rng.gen_bool(0.1) {
                fields.push(("kind".into(), Some("\"collector_result\"".into())));
            }
            if self.rng.gen_bool(0.05) {
                fields.push((
                    "extra".into(),
                    Some(r#"{"a":[1,2.5,true,null,"x"]}"#.into()),
                ));
            }
            if self.rng.gen_bool(0.03) {
                let again = fields[self.rng.gen_range(0..fields.len())].clone();
                fields.push(again);
            }
            for i in (1..fields.len()).rev() {
                if self.rng.gen_bool(0.3) {
                    fields.swap(i, self.rng.gen_range(0..=i));
                }
            }
            let mut out = format!("{{{}", self.ws());
            let mut first = true;
            for (key, value) in fields {
                let Some(value) = value else { continue };
                if !first {
                    out.push(',');
                }
                first = false;
                out.push_str(&format!(
                    "{}\"{key}\"{}:{}{value}{}",
                    self.ws(),
                    self.ws(),
                    self.ws(),
                    self.ws()
                ));
            }
            out.push('}');
            out
        }

        fn scores(&mut self, competitor: bool) -> String {
            let mut fields = Vec::new();
            if competitor {
                let id = self.string();
                fields.push(("competitor_id".into(), self.optional(id)));
                let name = self.string();
                fields.push(("name".into(), self.optional(name)));
            }
            for key in ["visibility_index", "share_of_answers"] {
                let f = self.float();
                fields.push((key.into(), self.optional(f)));
            }
            let positions: Vec<String> =
                (0..self.rng.gen_range(0..5)).map(|_| self.int()).collect();
            let positions = format!("[{}]", positions.join(","));
            fields.push(("positions".into(), self.optional(positions)));
            let mentions = self.int();
            fields.push(("mentions".into(), self.optional(mentions)));
            if self.rng.gen_bool(0.6) {
                let label = ["\"positive\"", "\"neutral\"", "\"negative\"", "\"meh\""]
                    [self.rng.gen_range(0..4)]
                .to_string();
                let score = self.float();
                let inner = vec![
                    ("label".into(), self.optional(label)),
                    ("score".into(), self.optional(score)),
                ];
                let sentiment = self.object(inner);
                fields.push(("sentiment".into(), Some(sentiment)));
            }
            self.object(fields)
        }

        fn collector_result(&mut self) -> String {
            let mut fields = Vec::new();
            for key in [
                "id",
                "customer_id",
                "brand_id",
                "brand_name",
                "query_id",
                "collector_type",
                "topic",
                "raw_answer",
            ] {
                let s = self.string();
                fields.push((key.to_string(), self.optional(s)));
            }
            fields.push((
                "created_at".into(),
                Some("\"2026-01-01T00:06:21.190Z\"".into()),
            ));
            for key in ["schema_version", "version"] {
                let v = self.int();
                fields.push((key.into(), self.optional(v)));
            }
            if self.rng.gen_bool(0.1) {
                let deleted = ["true", "false", "null"][self.rng.gen_range(0..3)].to_string();
                fields.push(("deleted".into(), Some(deleted)));
            }
            let brand = self.scores(false);
            fields.push(("brand".into(), self.optional(brand)));
            let competitors: Vec<String> = (0..self.rng.gen_range(0..4))
                .map(|_| self.scores(true))
                .collect();
            let competitors = format!("[{}]", competitors.join(","));
            fields.push(("competitors".into(), self.optional(competitors)));
            format!("{}{}{}", self.ws(), self.object(fields), self.ws())
        }

        /// One random edit: a character dropped, added or replaced.
        fn mangle(&mut self, text: &str) -> String {
            const NOISE: [char; 16] = [
                '"', '{', '}', '[', ']', ',', ':', '0', '-', '.', 'e', '\\', ' ', 'n', 'x', '\u{1}',
            ];
            let mut chars: Vec<char> = text.chars().collect();
            let at = self.rng.gen_range(0..chars.len());
            let noise = NOISE[self.rng.gen_range(0..NOISE.len())];
            match self.rng.gen_range(0..3) {
                0 => {
                    chars.remove(at);
                }
                1 => chars.insert(at, noise),
                _ => chars[at] = noise,
            }
            chars.into_iter().collect()
        }
    }

    #[test]
    fn agrees_with_serde_on_generated_and_mangled_input() {
        let mut gen = Gen {
            rng: StdRng::seed_from_u64(7),
        };
        let (mut fast, mut mangled_fast, mut mangled) = (0, 0, 0);
        let total = 3_000;
        for _ in 0..total {
            let text = gen.collector_result();
            fast += usize::from(check(&text));
            for _ in 0..10 {
                let bad = gen.mangle(&text);
                mangled += 1;
                mangled_fast += usize::from(check(&bad));
            }
        }
        // The generator strays from the usual shape often (exponents, long numbers, escapes,
        // duplicate keys); still, most documents and many edits must take the fast path, or
        // this test checks nothing.
        assert!(fast > total / 5, "fast path took {fast} of {total}");
        assert!(
            mangled_fast > mangled / 20,
            "fast path took {mangled_fast} of {mangled} edits"
        );
    }

    #[test]
    fn takes_every_well_formed_sample_line() {
        let sample = include_str!("../../../samples/events.jsonl");
        let (mut lines, mut fast) = (0, 0);
        for line in sample
            .lines()
            .filter(|l| l.contains(r#""kind":"collector_result""#))
        {
            lines += 1;
            if serde(line).is_some() {
                assert!(check(line), "fast path refused {line}");
                fast += 1;
            } else {
                assert!(collector_result(line).is_none(), "fast path took {line}");
            }
        }
        assert!(fast > 1_000, "{fast} of {lines} lines");
    }

    #[test]
    fn string_stop_finds_the_first_quote_backslash_or_control_byte() {
        let naive = |b: &[u8]| b.iter().position(|&c| c == b'"' || c == b'\\' || c < 0x20);
        let mut rng = StdRng::seed_from_u64(11);
        // Every byte value at every position of a word and of the tail, behind plain bytes
        // that might carry a borrow (0x20, 0x21, 0x80, 0xff) and before any other byte.
        for len in 0..24 {
            for at in 0..len {
                for stop in 0..=255u8 {
                    let mut bytes: Vec<u8> = (0..len)
                        .map(|_| [b'a', 0x20, 0x21, 0x80, 0xff, b'#', b']'][rng.gen_range(0..7)])
                        .collect();
                    bytes[at] = stop;
                    for later in bytes.iter_mut().skip(at + 1) {
                        if rng.gen_bool(0.3) {
                            *later = rng.gen();
                        }
                    }
                    assert_eq!(string_stop(&bytes), naive(&bytes), "{bytes:?}");
                }
            }
        }
        for _ in 0..20_000 {
            let len = rng.gen_range(0..80);
            let bytes: Vec<u8> = (0..len).map(|_| rng.gen_range(0x18..=0xff)).collect();
            assert_eq!(string_stop(&bytes), naive(&bytes), "{bytes:?}");
        }
    }

    #[test]
    fn numbers_come_out_as_serde_reads_them() {
        for n in [
            "0",
            "1",
            "0.5",
            "0.4529",
            "-0.25",
            "-0",
            "1.50",
            "0.1",
            "0.3",
            "123456789012.345678",
            "0.000001",
            "0.9999995",
        ] {
            let text = format!(r#"{{"brand":{{"visibility_index":{n}}}}}"#);
            let fast = collector_result(&text).expect(n);
            let slow = serde(&text).expect(n);
            let (f, s) = (fast.brand.expect(n), slow.brand.expect(n));
            assert_eq!(
                f.visibility_index.map(f64::to_bits),
                s.visibility_index.map(f64::to_bits),
                "{n}"
            );
        }
        for refused in [
            "01",
            "1.",
            ".5",
            "1e3",
            "0.1234567890123456789",
            "+1",
            "- 1",
        ] {
            let text = format!(r#"{{"brand":{{"visibility_index":{refused}}}}}"#);
            assert!(collector_result(&text).is_none(), "{refused}");
        }
    }
}

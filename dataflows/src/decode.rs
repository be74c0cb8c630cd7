//! Decoding of raw message bytes into typed events; every failure names the field and the problem.

mod scan;

use std::borrow::Cow;
use std::collections::HashSet;
use std::sync::Arc;

use serde::Deserialize;

use crate::event::{
    to_micros, Article, ArticleKey, Change, CollectorResult, CompetitorScores, Event, EventKind,
    Positions, Record, Scores, Sentiment, SentimentLabel, Seq, Text, TimestampMs,
};
use crate::keyed::StateHasher;

/// Default largest accepted payload: 1 MiB.
pub const DEFAULT_MAX_PAYLOAD: usize = 1 << 20;

/// The only schema version this build understands.
pub const SCHEMA_VERSION: u64 = 1;

/// Why a payload was rejected: the field (a path such as `brand.sentiment.score`, or `$` for the
/// whole payload) and the problem.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{field}: {problem}")]
pub struct DecodeError {
    pub field: String,
    pub problem: Problem,
}

/// The kinds of problem a payload can have.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum Problem {
    #[error("payload of {size} bytes is over the limit of {limit} bytes")]
    TooLarge { size: usize, limit: usize },
    #[error("payload is not valid UTF-8 (invalid byte at offset {offset})")]
    NotUtf8 { offset: usize },
    #[error("not valid JSON: {0}")]
    NotJson(String),
    #[error("missing required field")]
    Missing,
    #[error("wrong type: {0}")]
    WrongType(String),
    #[error("must not be empty")]
    Empty,
    #[error("{value} is out of range {range}")]
    OutOfRange { value: String, range: &'static str },
    #[error("bad timestamp {value:?}: {reason}")]
    BadTimestamp { value: String, reason: String },
    #[error("unknown value {value:?}, expected one of {expected}")]
    UnknownValue {
        value: String,
        expected: &'static str,
    },
    #[error("unsupported schema version {0}, this build reads version 1")]
    UnsupportedVersion(u64),
    #[error("{0}")]
    Invalid(String),
}

impl Problem {
    /// A short stable name for metrics and the dead-letter table.
    pub fn reason(&self) -> &'static str {
        match self {
            Problem::TooLarge { .. } => "too_large",
            Problem::NotUtf8 { .. } => "not_utf8",
            Problem::NotJson(_) => "not_json",
            Problem::Missing => "missing_field",
            Problem::WrongType(_) => "wrong_type",
            Problem::Empty => "empty",
            Problem::OutOfRange { .. } => "out_of_range",
            Problem::BadTimestamp { .. } => "bad_timestamp",
            Problem::UnknownValue { .. } => "unknown_value",
            Problem::UnsupportedVersion(_) => "unsupported_version",
            Problem::Invalid(_) => "invalid",
        }
    }
}

fn err(field: impl Into<String>, problem: Problem) -> DecodeError {
    DecodeError {
        field: field.into(),
        problem,
    }
}

/// Decoding options, and the names decoded recently (see [`Names`]).
#[derive(Clone, Debug)]
pub struct Decoder {
    pub max_payload: usize,
    names: Names,
}

impl Default for Decoder {
    fn default() -> Self {
        Decoder::new(DEFAULT_MAX_PAYLOAD)
    }
}

/// Names decoded recently that are too long to be held inline in a [`Text`] (article
/// sources), so that equal names share one allocation: a source repeats across all its
/// articles, and each article's key lives as long as the article's state. Bounded: cleared
/// when full, after which names are shared again as they recur.
#[derive(Clone, Debug, Default)]
struct Names {
    set: HashSet<Text, StateHasher>,
}

impl Names {
    /// Most names kept (a few hundred KB at most).
    const MAX: usize = 4096;
    /// Longest name a [`Text`] holds inline (no allocation to share).
    const INLINE: usize = 23;

    fn text(&mut self, name: &str) -> Text {
        if name.len() <= Self::INLINE {
            return Text::new(name);
        }
        if let Some(t) = self.set.get(name) {
            return t.clone();
        }
        if self.set.len() >= Self::MAX {
            self.set.clear();
        }
        let t = Text::new(name);
        self.set.insert(t.clone());
        t
    }
}

impl Decoder {
    pub fn new(max_payload: usize) -> Decoder {
        Decoder {
            max_payload,
            names: Names::default(),
        }
    }

    /// Decodes one message of the given kind. `payload == None` is a Kafka tombstone, which then
    /// needs the message key to name the identity.
    pub fn decode(
        &mut self,
        kind: EventKind,
        key: Option<&[u8]>,
        payload: Option<&[u8]>,
        seq: Seq,
    ) -> Result<Event, DecodeError> {
        match payload {
            Some(bytes) => self.decode_payload(kind, bytes, seq),
            None => tombstone(kind, key, seq),
        }
    }

    /// Decodes a message whose kind may be unknown (a mixed file): the kind is then read from the
    /// payload (see [`sniff_kind`]).
    pub fn decode_any(
        &mut self,
        kind: Option<EventKind>,
        key: Option<&[u8]>,
        payload: Option<&[u8]>,
        seq: Seq,
    ) -> Result<Event, DecodeError> {
        let kind = match (kind, payload) {
            (Some(kind), _) => kind,
            (None, None) => {
                return Err(err(
                    "$",
                    Problem::Invalid("tombstone of unknown kind".into()),
                ))
            }
            (None, Some(bytes)) => {
                let text = self.check_bytes(bytes)?;
                sniff_kind(text).ok_or_else(|| {
                    let problem = match serde_json::from_str::<serde::de::IgnoredAny>(text) {
                        Err(e) => Problem::NotJson(strip_position(&e.to_string())),
                        Ok(_) => Problem::Invalid(
                            "cannot tell the event kind: give `kind`, or `external_id` (article) or `id` (collector_result)".into(),
                        ),
                    };
                    let field = if matches!(problem, Problem::NotJson(_)) { "$" } else { "kind" };
                    err(field, problem)
                })?
            }
        };
        self.decode(kind, key, payload, seq)
    }

    /// Decodes a JSON payload of the given kind.
    pub fn decode_payload(
        &mut self,
        kind: EventKind,
        bytes: &[u8],
        seq: Seq,
    ) -> Result<Event, DecodeError> {
        let text = self.check_bytes(bytes)?;
        match kind {
            EventKind::Article => decode_article(text, seq, &mut self.names),
            EventKind::CollectorResult => decode_collector_result(text, seq),
        }
    }

    /// Size and UTF-8 checks shared by every payload.
    pub fn check_bytes<'a>(&self, bytes: &'a [u8]) -> Result<&'a str, DecodeError> {
        if bytes.len() > self.max_payload {
            return Err(err(
                "$",
                Problem::TooLarge {
                    size: bytes.len(),
                    limit: self.max_payload,
                },
            ));
        }
        // The vectorised check first (most payloads are valid); std's only for the offset.
        match simdutf8::basic::from_utf8(bytes) {
            Ok(text) => Ok(text),
            Err(_) => std::str::from_utf8(bytes).map_err(|e| {
                err(
                    "$",
                    Problem::NotUtf8 {
                        offset: e.valid_up_to(),
                    },
                )
            }),
        }
    }
}

fn tombstone(kind: EventKind, key: Option<&[u8]>, seq: Seq) -> Result<Event, DecodeError> {
    let key = key
        .ok_or_else(|| err("$key", Problem::Invalid("tombstone without a key".into())))
        .and_then(|k| {
            std::str::from_utf8(k).map_err(|e| {
                err(
                    "$key",
                    Problem::NotUtf8 {
                        offset: e.valid_up_to(),
                    },
                )
            })
        })?;
    fn record<P>(seq: Seq) -> Record<P> {
        Record {
            seq,
            version: 0,
            change: Change::Tombstone,
        }
    }
    match kind {
        EventKind::CollectorResult => {
            non_empty("$key", key)?;
            Ok(Event::CollectorResult(Text::from(key), record(seq)))
        }
        EventKind::Article => {
            let (source, external_id) = key.split_once('/').ok_or_else(|| {
                err(
                    "$key",
                    Problem::Invalid("article key must be <source>/<external_id>".into()),
                )
            })?;
            non_empty("$key", source)?;
            non_empty("$key", external_id)?;
            Ok(Event::Article(
                ArticleKey {
                    source: source.into(),
                    external_id: external_id.into(),
                },
                record(seq),
            ))
        }
    }
}

/// Runs serde on `text`, turning its errors into field-naming [`DecodeError`]s.
fn parse<'a, T: Deserialize<'a>>(text: &'a str) -> Result<T, DecodeError> {
    if !text.trim_start().starts_with('{') {
        return Err(match serde_json::from_str::<serde::de::IgnoredAny>(text) {
            Ok(_) => err("$", Problem::WrongType("expected a JSON object".into())),
            Err(e) => err("$", Problem::NotJson(strip_position(&e.to_string()))),
        });
    }
    // The common case, valid input, goes through serde alone; only a failure is parsed again
    // with the path tracked, to name the field.
    let mut de = serde_json::Deserializer::from_str(text);
    if let Ok(value) = T::deserialize(&mut de) {
        if de.end().is_ok() {
            return Ok(value);
        }
    }
    let mut de = serde_json::Deserializer::from_str(text);
    let value = serde_path_to_error::deserialize(&mut de).map_err(path_error)?;
    de.end()
        .map_err(|e| err("$", Problem::NotJson(e.to_string())))?;
    Ok(value)
}

fn path_error(e: serde_path_to_error::Error<serde_json::Error>) -> DecodeError {
    let path = e.path().to_string();
    let inner = e.into_inner();
    let message = strip_position(&inner.to_string());
    if inner.is_syntax() || inner.is_eof() {
        return err("$", Problem::NotJson(message));
    }
    if let Some(name) = message
        .strip_prefix("missing field `")
        .and_then(|m| m.strip_suffix('`'))
    {
        return err(join(&path, name), Problem::Missing);
    }
    if path == "." {
        return err("$", Problem::WrongType(message));
    }
    err(path, Problem::WrongType(message))
}

/// serde_json appends " at line L column C"; the field path says more.
fn strip_position(message: &str) -> String {
    match message.rfind(" at line ") {
        Some(i) => message[..i].to_string(),
        None => message.to_string(),
    }
}

fn join(path: &str, name: &str) -> String {
    if path.is_empty() || path == "." {
        name.to_string()
    } else {
        format!("{path}.{name}")
    }
}

fn non_empty(field: &str, value: &str) -> Result<(), DecodeError> {
    if value.trim().is_empty() {
        Err(err(field, Problem::Empty))
    } else {
        Ok(())
    }
}

fn check_schema_version(v: Option<u64>) -> Result<(), DecodeError> {
    match v {
        None | Some(SCHEMA_VERSION) => Ok(()),
        Some(other) => Err(err("schema_version", Problem::UnsupportedVersion(other))),
    }
}

fn required<T>(field: &str, v: Option<T>) -> Result<T, DecodeError> {
    v.ok_or_else(|| err(field, Problem::Missing))
}

/// Parses an RFC 3339 timestamp into epoch milliseconds.
pub fn parse_rfc3339(field: &str, value: &str) -> Result<TimestampMs, DecodeError> {
    chrono::DateTime::parse_from_rfc3339(value)
        .map(|t| t.timestamp_millis())
        .map_err(|e| {
            err(
                field,
                Problem::BadTimestamp {
                    value: value.to_string(),
                    reason: format!("not RFC 3339 ({e})"),
                },
            )
        })
}

fn unit_range(field: &str, x: f64) -> Result<i64, DecodeError> {
    if !(0.0..=1.0).contains(&x) {
        return Err(err(
            field,
            Problem::OutOfRange {
                value: x.to_string(),
                range: "[0, 1]",
            },
        ));
    }
    Ok(to_micros(x))
}

#[derive(Deserialize)]
struct RawArticle {
    schema_version: Option<u64>,
    external_id: Option<String>,
    source: Option<String>,
    title: Option<String>,
    published_at: Option<String>,
    published_at_ms: Option<i64>,
    url: Option<String>,
    summary: Option<String>,
    language: Option<String>,
    topics: Option<Vec<String>>,
    version: Option<u64>,
    #[serde(default)]
    deleted: bool,
}

fn decode_article(text: &str, seq: Seq, names: &mut Names) -> Result<Event, DecodeError> {
    let raw: RawArticle = parse(text)?;
    check_schema_version(raw.schema_version)?;
    let source = required("source", raw.source)?;
    non_empty("source", &source)?;
    let external_id = required("external_id", raw.external_id)?;
    non_empty("external_id", &external_id)?;
    let key = ArticleKey {
        source: names.text(&source),
        external_id: external_id.into(),
    };
    let version = raw.version.unwrap_or(0);
    if raw.deleted {
        return Ok(Event::Article(
            key,
            Record {
                seq,
                version,
                change: Change::Delete,
            },
        ));
    }
    let title = required("title", raw.title)?;
    non_empty("title", &title)?;
    let from_text = raw
        .published_at
        .as_deref()
        .map(|s| parse_rfc3339("published_at", s))
        .transpose()?;
    if let Some(ms) = raw.published_at_ms {
        if ms < 0 {
            return Err(err(
                "published_at_ms",
                Problem::OutOfRange {
                    value: ms.to_string(),
                    range: "[0, +inf)",
                },
            ));
        }
    }
    let published_at = match (from_text, raw.published_at_ms) {
        (Some(a), Some(b)) if a != b => {
            return Err(err(
                "published_at_ms",
                Problem::Invalid(format!("disagrees with published_at ({b} ms vs {a} ms)")),
            ))
        }
        (Some(a), _) => a,
        (None, Some(b)) => b,
        (None, None) => return Err(err("published_at", Problem::Missing)),
    };
    Ok(Event::Article(
        key,
        Record {
            seq,
            version,
            change: Change::Upsert(Box::new(Article {
                title,
                published_at,
                url: raw.url,
                summary: raw.summary,
                language: raw.language,
                topics: raw.topics.unwrap_or_default(),
            })),
        },
    ))
}

#[derive(Default, Deserialize, Debug, PartialEq)]
struct RawSentiment<'a> {
    #[serde(borrow)]
    label: Option<Str<'a>>,
    score: Option<f64>,
}

/// A JSON string borrowed from the input when it holds no escapes (copied once, into the
/// event's [`Text`]), owned otherwise. serde borrows a `Cow` only as a bare field, not
/// inside an `Option`, hence this newtype.
#[derive(Debug, PartialEq)]
struct Str<'a>(Cow<'a, str>);

impl<'de: 'a, 'a> Deserialize<'de> for Str<'a> {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct Visitor;
        impl<'de> serde::de::Visitor<'de> for Visitor {
            type Value = Str<'de>;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a string")
            }
            fn visit_borrowed_str<E>(self, v: &'de str) -> Result<Self::Value, E> {
                Ok(Str(Cow::Borrowed(v)))
            }
            fn visit_str<E>(self, v: &str) -> Result<Self::Value, E> {
                Ok(Str(Cow::Owned(v.to_string())))
            }
            fn visit_string<E>(self, v: String) -> Result<Self::Value, E> {
                Ok(Str(Cow::Owned(v)))
            }
        }
        d.deserialize_str(Visitor)
    }
}

impl Str<'_> {
    fn text(&self) -> Text {
        Text::from(&*self.0)
    }
}

#[derive(Default, Deserialize, Debug, PartialEq)]
struct RawScores<'a> {
    #[serde(borrow)]
    competitor_id: Option<Str<'a>>,
    #[serde(borrow)]
    name: Option<Str<'a>>,
    visibility_index: Option<f64>,
    share_of_answers: Option<f64>,
    positions: Option<smallvec::SmallVec<[i64; 8]>>,
    mentions: Option<i64>,
    #[serde(borrow)]
    sentiment: Option<RawSentiment<'a>>,
}

#[derive(Default, Deserialize, Debug, PartialEq)]
struct RawCollectorResult<'a> {
    schema_version: Option<u64>,
    #[serde(borrow)]
    id: Option<Str<'a>>,
    #[serde(borrow)]
    customer_id: Option<Str<'a>>,
    #[serde(borrow)]
    brand_id: Option<Str<'a>>,
    #[serde(borrow)]
    brand_name: Option<Str<'a>>,
    #[serde(borrow)]
    query_id: Option<Str<'a>>,
    #[serde(borrow)]
    collector_type: Option<Str<'a>>,
    #[serde(borrow)]
    topic: Option<Str<'a>>,
    #[serde(borrow)]
    created_at: Option<Str<'a>>,
    #[serde(borrow)]
    raw_answer: Option<Str<'a>>,
    version: Option<u64>,
    #[serde(default)]
    deleted: bool,
    #[serde(borrow)]
    brand: Option<RawScores<'a>>,
    #[serde(borrow)]
    competitors: Option<Vec<RawScores<'a>>>,
}

fn scores(path: &str, raw: RawScores<'_>) -> Result<Scores, DecodeError> {
    // Field names are relative here and get their path only on error (no allocation per field).
    scores_relative(raw).map_err(|mut e| {
        e.field = join(path, &e.field);
        e
    })
}

fn scores_relative(raw: RawScores<'_>) -> Result<Scores, DecodeError> {
    let visibility_index = unit_range(
        "visibility_index",
        required("visibility_index", raw.visibility_index)?,
    )?;
    let share_of_answers = unit_range(
        "share_of_answers",
        required("share_of_answers", raw.share_of_answers)?,
    )?;
    let mentions = required("mentions", raw.mentions)?;
    let mentions = u32::try_from(mentions).map_err(|_| {
        err(
            "mentions",
            Problem::OutOfRange {
                value: mentions.to_string(),
                range: "[0, 4294967295]",
            },
        )
    })?;
    let mut positions = Positions::with_capacity(raw.positions.as_ref().map_or(0, |p| p.len()));
    for (i, p) in raw.positions.unwrap_or_default().into_iter().enumerate() {
        let p = u32::try_from(p).ok().filter(|p| *p >= 1).ok_or_else(|| {
            err(
                format!("positions[{i}]"),
                Problem::OutOfRange {
                    value: p.to_string(),
                    range: "[1, 4294967295]",
                },
            )
        })?;
        positions.push(p);
    }
    let sentiment = match raw.sentiment {
        None => None,
        Some(s) => {
            let label_field = "sentiment.label";
            let label = required(label_field, s.label)?;
            let label = SentimentLabel::parse(&label.0).ok_or_else(|| {
                err(
                    label_field,
                    Problem::UnknownValue {
                        value: label.0.into_owned(),
                        expected: "positive, neutral, negative",
                    },
                )
            })?;
            let score_field = "sentiment.score";
            let score = required(score_field, s.score)?;
            if !(-1.0..=1.0).contains(&score) {
                return Err(err(
                    score_field,
                    Problem::OutOfRange {
                        value: score.to_string(),
                        range: "[-1, 1]",
                    },
                ));
            }
            Some(Sentiment {
                label,
                score: to_micros(score),
            })
        }
    };
    Ok(Scores {
        visibility_index,
        share_of_answers,
        positions,
        mentions,
        sentiment,
    })
}

fn required_text(field: &str, v: Option<Str<'_>>) -> Result<Text, DecodeError> {
    let v = required(field, v)?;
    non_empty(field, &v.0)?;
    Ok(v.text())
}

fn decode_collector_result(text: &str, seq: Seq) -> Result<Event, DecodeError> {
    // The fast path returns exactly what serde would; on anything it is unsure of, serde
    // decides and names the field.
    let raw: RawCollectorResult = match scan::collector_result(text) {
        Some(raw) => raw,
        None => parse(text)?,
    };
    check_schema_version(raw.schema_version)?;
    let id = required_text("id", raw.id)?;
    let version = raw.version.unwrap_or(0);
    if raw.deleted {
        return Ok(Event::CollectorResult(
            id,
            Record {
                seq,
                version,
                change: Change::Delete,
            },
        ));
    }
    let customer_id = required_text("customer_id", raw.customer_id)?;
    let brand_id = required_text("brand_id", raw.brand_id)?;
    let query_id = required_text("query_id", raw.query_id)?;
    let collector_type = required_text("collector_type", raw.collector_type)?;
    let topic = required_text("topic", raw.topic)?;
    let created_at = parse_rfc3339("created_at", &required("created_at", raw.created_at)?.0)?;
    let brand = scores("brand", required("brand", raw.brand)?)?;
    let raw_competitors = raw.competitors.unwrap_or_default();
    let mut competitors: Vec<CompetitorScores> = Vec::with_capacity(raw_competitors.len());
    for (i, mut c) in raw_competitors.into_iter().enumerate() {
        // The competitor's path is spelled out only for an error (no allocation per competitor).
        let under = |mut e: DecodeError| {
            e.field = join(&format!("competitors[{i}]"), &e.field);
            e
        };
        let competitor_id =
            required_text("competitor_id", c.competitor_id.take()).map_err(under)?;
        if competitors.iter().any(|o| o.competitor_id == competitor_id) {
            return Err(under(err(
                "competitor_id",
                Problem::Invalid(format!("duplicate competitor {competitor_id:?}")),
            )));
        }
        let name = c.name.take().map(|n| n.text());
        competitors.push(CompetitorScores {
            competitor_id,
            name,
            scores: scores_relative(c).map_err(under)?,
        });
    }
    competitors.sort_by(|a, b| a.competitor_id.cmp(&b.competitor_id));
    Ok(Event::CollectorResult(
        id,
        Record {
            seq,
            version,
            change: Change::Upsert(Arc::new(CollectorResult {
                customer_id,
                brand_id,
                brand_name: raw.brand_name.map(|n| n.text()),
                query_id,
                collector_type,
                topic,
                created_at,
                raw_answer: raw.raw_answer.map(|a| a.text()),
                version,
                brand,
                competitors,
            })),
        },
    ))
}

/// Reads the event kind of a line of a mixed file: an explicit `"kind"` field
/// (`article` / `collector_result`), else `id` + `brand` means a collector result and
/// `external_id` an article.
pub fn sniff_kind(text: &str) -> Option<EventKind> {
    if text.starts_with(r#"{"kind":"collector_result""#) {
        return Some(EventKind::CollectorResult);
    }
    if text.starts_with(r#"{"kind":"article""#) {
        return Some(EventKind::Article);
    }
    #[derive(Deserialize)]
    struct Probe<'a> {
        #[serde(borrow)]
        kind: Option<&'a str>,
        external_id: Option<serde::de::IgnoredAny>,
        id: Option<serde::de::IgnoredAny>,
    }
    let probe: Probe = serde_json::from_str(text).ok()?;
    match probe.kind {
        Some("article") => return Some(EventKind::Article),
        Some("collector_result") => return Some(EventKind::CollectorResult),
        _ => {}
    }
    if probe.external_id.is_some() {
        Some(EventKind::Article)
    } else if probe.id.is_some() {
        Some(EventKind::CollectorResult)
    } else {
        None
    }
}

//! Decoding: every valid example in `schemas/` decodes, every invalid one is rejected with an
//! error naming the field listed in its `EXPECTED.tsv`; plus each error kind directly.

use std::path::{Path, PathBuf};

use dataflows::decode::{Decoder, Problem};
use dataflows::event::{Change, Event, EventKind};

fn examples(kind: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../schemas/examples")
        .join(kind)
}

fn kinds() -> [(EventKind, &'static str); 2] {
    [
        (EventKind::Article, "article"),
        (EventKind::CollectorResult, "collector_result"),
    ]
}

#[test]
fn every_valid_example_decodes() {
    let mut decoder = Decoder::default();
    for (kind, dir) in kinds() {
        let mut n = 0;
        for entry in std::fs::read_dir(examples(dir).join("valid")).expect("examples dir") {
            let path = entry.expect("entry").path();
            let bytes = std::fs::read(&path).expect("read");
            if let Err(e) = decoder.decode_payload(kind, &bytes, 0) {
                panic!("{} should decode: {e}", path.display());
            }
            n += 1;
        }
        assert!(n >= 4, "{dir}: only {n} valid examples");
    }
}

#[test]
fn every_invalid_example_names_its_field() {
    let mut decoder = Decoder::default();
    for (kind, dir) in kinds() {
        let invalid = examples(dir).join("invalid");
        let expected = std::fs::read_to_string(invalid.join("EXPECTED.tsv")).expect("EXPECTED.tsv");
        let mut n = 0;
        for line in expected.lines().filter(|l| !l.trim().is_empty()) {
            let mut parts = line.split('\t');
            let (file, field) = (parts.next().expect("file"), parts.next().expect("field"));
            let bytes = std::fs::read(invalid.join(file)).expect("read example");
            match decoder.decode_payload(kind, &bytes, 0) {
                Ok(e) => panic!("{dir}/{file} should be rejected, decoded {e:?}"),
                Err(e) => assert_eq!(e.field, field, "{dir}/{file}: error was `{e}`"),
            }
            n += 1;
        }
        let files = std::fs::read_dir(&invalid).expect("dir").count() - 1;
        assert_eq!(
            n, files,
            "{dir}: every invalid example must be listed in EXPECTED.tsv"
        );
    }
}

fn reject(kind: EventKind, payload: &str) -> (String, Problem) {
    match Decoder::default().decode_payload(kind, payload.as_bytes(), 0) {
        Ok(e) => panic!("{payload} should be rejected, decoded {e:?}"),
        Err(e) => (e.field, e.problem),
    }
}

const RESULT: &str = r#"{"id":"r1","customer_id":"c","brand_id":"b","query_id":"q","collector_type":"chatgpt","topic":"t","created_at":"2026-01-02T03:04:05Z","brand":{"visibility_index":0.5,"share_of_answers":0.25,"mentions":2,"positions":[3,1],"sentiment":{"label":"positive","score":0.8}},"competitors":[{"competitor_id":"k","visibility_index":0.1,"share_of_answers":0.2,"mentions":1}]}"#;

#[test]
fn each_error_kind() {
    let cr = EventKind::CollectorResult;
    let big = format!("{{\"id\":\"{}\"}}", "x".repeat(2 << 20));
    let (f, p) = match Decoder::default().decode_payload(cr, big.as_bytes(), 0) {
        Err(e) => (e.field, e.problem),
        Ok(_) => panic!("oversized payload accepted"),
    };
    assert_eq!(f, "$");
    assert!(matches!(p, Problem::TooLarge { .. }));
    let mut small = Decoder::new(10);
    assert!(
        small.decode_payload(cr, RESULT.as_bytes(), 0).is_err(),
        "limit is configurable"
    );

    let bad_utf8 = Decoder::default().decode_payload(cr, b"{\"id\": \"\xff\"}", 0);
    assert!(
        matches!(bad_utf8, Err(e) if e.field == "$" && matches!(e.problem, Problem::NotUtf8 { .. }))
    );

    assert!(matches!(reject(cr, "not json"), (f, Problem::NotJson(_)) if f == "$"));
    assert!(matches!(reject(cr, "[1,2]"), (f, Problem::WrongType(_)) if f == "$"));
    assert!(
        matches!(reject(cr, &RESULT.replace(r#""topic":"t","#, "")), (f, Problem::Missing) if f == "topic")
    );
    assert!(
        matches!(reject(cr, &RESULT.replace(r#""mentions":2"#, r#""mentions":"2""#)), (f, Problem::WrongType(_)) if f == "brand.mentions")
    );
    assert!(
        matches!(reject(cr, &RESULT.replace("0.25", "1.25")), (f, Problem::OutOfRange { .. }) if f == "brand.share_of_answers")
    );
    assert!(
        matches!(reject(cr, &RESULT.replace("0.8}", "-1.5}")), (f, Problem::OutOfRange { .. }) if f == "brand.sentiment.score")
    );
    assert!(
        matches!(reject(cr, &RESULT.replace("\"positive\"", "\"great\"")), (f, Problem::UnknownValue { .. }) if f == "brand.sentiment.label")
    );
    assert!(
        matches!(reject(cr, &RESULT.replace("[3,1]", "[3,0]")), (f, Problem::OutOfRange { .. }) if f == "brand.positions[1]")
    );
    assert!(
        matches!(reject(cr, &RESULT.replace("2026-01-02T03:04:05Z", "2026-01-02")), (f, Problem::BadTimestamp { .. }) if f == "created_at")
    );
    assert!(
        matches!(reject(cr, &RESULT.replace(r#""id":"r1""#, r#""id":"""#)), (f, Problem::Empty) if f == "id")
    );
    assert!(
        matches!(reject(cr, &RESULT.replace(r#"{"id":"r1""#, r#"{"schema_version":2,"id":"r1""#)), (f, Problem::UnsupportedVersion(2)) if f == "schema_version")
    );
    assert!(
        matches!(reject(cr, &RESULT.replace("0.1,", "2,")), (f, Problem::OutOfRange { .. }) if f == "competitors[0].visibility_index")
    );
    let dup = RESULT.replace("}]}", "},{\"competitor_id\":\"k\",\"visibility_index\":0.1,\"share_of_answers\":0.2,\"mentions\":1}]}");
    assert!(
        matches!(reject(cr, &dup), (f, Problem::Invalid(_)) if f == "competitors[1].competitor_id")
    );
}

#[test]
fn scores_are_exact_millionths_and_unknown_fields_are_ignored() {
    let with_extra = RESULT.replace(r#"{"id":"r1""#, r#"{"extra":{"a":[1]},"id":"r1""#);
    let event = Decoder::default()
        .decode_payload(EventKind::CollectorResult, with_extra.as_bytes(), 9)
        .expect("decodes");
    let Event::CollectorResult(id, record) = event else {
        panic!("kind")
    };
    assert_eq!(&*id, "r1");
    assert_eq!(record.seq, 9);
    let Change::Upsert(r) = record.change else {
        panic!("upsert")
    };
    assert_eq!(r.brand.visibility_index, 500_000);
    assert_eq!(r.brand.share_of_answers, 250_000);
    assert_eq!(r.brand.best_position(), Some(1));
    assert_eq!(r.brand.sentiment.map(|s| s.score), Some(800_000));
    assert_eq!(r.created_at, 1_767_323_045_000);
}

/// Strings with JSON escapes are decoded (copied, unescaped); plain ones are borrowed from the
/// input: both paths give the same text.
#[test]
fn escaped_and_plain_strings_decode_alike() {
    let escaped = RESULT
        .replace(
            r#""id":"r1""#,
            r#""id":"r\u0031","raw_answer":"say \"hi\"\nthen \u00e9""#,
        )
        .replace(
            r#""competitor_id":"k""#,
            r#""competitor_id":"\u006b","name":"K\tco""#,
        );
    let event = Decoder::default()
        .decode_payload(EventKind::CollectorResult, escaped.as_bytes(), 0)
        .expect("decodes");
    let Event::CollectorResult(id, record) = event else {
        panic!("kind")
    };
    assert_eq!(&*id, "r1");
    let Change::Upsert(r) = record.change else {
        panic!("upsert")
    };
    assert_eq!(r.raw_answer.as_deref(), Some("say \"hi\"\nthen \u{e9}"));
    assert_eq!(&*r.competitors[0].competitor_id, "k");
    assert_eq!(r.competitors[0].name.as_deref(), Some("K\tco"));
    // An escaped id that unescapes to empty is still rejected as empty.
    let empty = RESULT.replace(r#""id":"r1""#, r#""id":"\u0020""#);
    assert!(matches!(
        Decoder::default().decode_payload(EventKind::CollectorResult, empty.as_bytes(), 0),
        Err(e) if e.field == "id" && e.problem == Problem::Empty
    ));
}

/// Strings are kept inline up to 23 bytes and on the heap beyond, positions inline up to four
/// and on the heap beyond: values on both sides of each limit decode whole, in order.
#[test]
fn short_and_long_strings_and_positions_decode_whole() {
    for (id, positions) in [
        ("a".repeat(23), vec![3, 1, 4, 1]),
        ("b".repeat(24), vec![9, 2, 6, 5, 3]),
        (format!("{}-\\u00e9", "c".repeat(40)), (1..=40).collect()),
    ] {
        let listed: Vec<String> = positions.iter().map(u32::to_string).collect();
        let payload = RESULT
            .replace(r#""id":"r1""#, &format!(r#""id":"{id}""#))
            .replace(
                r#""positions":[3,1]"#,
                &format!(r#""positions":[{}]"#, listed.join(",")),
            );
        let event = Decoder::default()
            .decode_payload(EventKind::CollectorResult, payload.as_bytes(), 0)
            .expect("decodes");
        let Event::CollectorResult(got, record) = event else {
            panic!("kind")
        };
        assert_eq!(&*got, id.replace("\\u00e9", "\u{e9}"));
        let Change::Upsert(r) = record.change else {
            panic!("upsert")
        };
        assert_eq!(&r.brand.positions[..], &positions[..]);
        assert_eq!(r.brand.best_position(), positions.iter().copied().min());
        let label = r.brand.sentiment.map(|s| s.label.as_str());
        assert_eq!(label, Some("positive"));
    }
}

#[test]
fn article_timestamps_either_form() {
    let mut d = Decoder::default();
    let a = r#"{"source":"s","external_id":"e","title":"T","published_at":"2014-03-10T00:00:01.5+00:00"}"#;
    let b = r#"{"source":"s","external_id":"e","title":"T","published_at_ms":1394409601500}"#;
    let mut ts = |p: &str| match d.decode_payload(EventKind::Article, p.as_bytes(), 0) {
        Ok(Event::Article(_, r)) => match r.change {
            Change::Upsert(a) => a.published_at,
            _ => panic!("upsert"),
        },
        other => panic!("{other:?}"),
    };
    assert_eq!(ts(a), 1_394_409_601_500);
    assert_eq!(ts(b), 1_394_409_601_500);
}

#[test]
fn tombstones_need_a_key() {
    let mut d = Decoder::default();
    let ok = d
        .decode(EventKind::Article, Some(b"src/ext"), None, 4)
        .expect("tombstone");
    assert!(
        matches!(ok, Event::Article(k, r) if k.source == "src" && k.external_id == "ext" && r.change == Change::Tombstone)
    );
    assert!(d
        .decode(EventKind::Article, Some(b"noslash"), None, 4)
        .is_err());
    assert!(d.decode(EventKind::CollectorResult, None, None, 4).is_err());
}

/// A source longer than a `Text` holds inline is decoded once and shared by the articles that
/// name it (one allocation, not one per article held in the state); short ones are inline.
/// Past the decoder's bound on names kept, every source still decodes to itself.
#[test]
fn long_sources_are_shared_between_articles() {
    let mut d = Decoder::default();
    let source = |d: &mut Decoder, source: &str, id: usize| {
        let p = format!(
            r#"{{"source":"{source}","external_id":"e{id}","title":"T","published_at_ms":1}}"#
        );
        match d.decode_payload(EventKind::Article, p.as_bytes(), 0) {
            Ok(Event::Article(key, _)) => key.source,
            other => panic!("{other:?}"),
        }
    };
    let long = "nationalbulletin-example.com";
    let (a, b) = (source(&mut d, long, 1), source(&mut d, long, 2));
    assert_eq!((a.as_str(), b.as_str()), (long, long));
    assert!(a.is_heap_allocated());
    assert_eq!(a.as_str().as_ptr(), b.as_str().as_ptr(), "one shared copy");
    let other = source(&mut d, "nationalbulletin-example.org", 3);
    assert_eq!(other, "nationalbulletin-example.org");
    assert_ne!(other.as_str().as_ptr(), a.as_str().as_ptr());
    assert!(!source(&mut d, "short.example", 4).is_heap_allocated());
    for i in 0..10_000 {
        let name = format!("source-{i:05}-of-many.example.com");
        assert_eq!(source(&mut d, &name, i), name);
        assert_eq!(source(&mut d, &name, i + 1), name);
    }
}

"""Baseline peer engine: Pathway (differential dataflow with a Python API) computes brand daily metrics.

Usage: python3 pathway_daily.py FILE [THREADS]. The same computation as duckdb_daily.py: the
latest version of each id wins, deleted ids drop out, then groups by (customer_id, brand_id,
collector_type, UTC day). Static mode over the whole file. Prints one JSON line: seconds
(pw.run alone), events/s, MB/s, groups, peak RSS.
"""
import csv
import json
import os
import resource
import sys
import tempfile
import time

threads = sys.argv[2] if len(sys.argv) > 2 else "2"
os.environ["PATHWAY_THREADS"] = threads
os.environ.setdefault("PATHWAY_MONITORING_LEVEL", "none")

import pathway as pw  # noqa: E402

path = sys.argv[1]


class Result(pw.Schema):
    kind: str = pw.column_definition(default_value="")
    result_id: str = pw.column_definition(default_value="")  # "id" is Pathway's row pointer
    version: int = pw.column_definition(default_value=0)
    deleted: bool = pw.column_definition(default_value=False)
    customer_id: str = pw.column_definition(default_value="")
    brand_id: str = pw.column_definition(default_value="")
    collector_type: str = pw.column_definition(default_value="")
    created_at: str = pw.column_definition(default_value="")
    brand: pw.Json = pw.column_definition(default_value=pw.Json({}))


NO_POSITION = 1 << 30


def number(value, kind, default):
    """A JSON number as `kind`; anything else (a malformed line) counts as `default`."""
    return kind(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else default


def plain(brand) -> tuple:
    b = brand.value if isinstance(brand.value, dict) else {}
    return (
        number(b.get("mentions"), int, 0),
        number(b.get("visibility_index"), float, 0.0),
        number(b.get("share_of_answers"), float, 0.0),
    )


def positions(brand) -> tuple:
    b = brand.value if isinstance(brand.value, dict) else {}
    ps = [number(p, int, 0) for p in (b.get("positions") or []) if number(p, int, 0) > 0]
    return (sum(ps), len(ps), min(ps) if ps else NO_POSITION)


def sentiment(brand) -> tuple:
    b = brand.value if isinstance(brand.value, dict) else {}
    s = b.get("sentiment")
    if not s:
        return (0.0, 0, 0, 0, 0)
    label = s.get("label")
    return (number(s.get("score"), float, 0.0), 1, int(label == "positive"), int(label == "neutral"), int(label == "negative"))


events = sum(1 for _ in open(path, "rb"))
raw = pw.io.jsonlines.read(
    path, schema=Result, mode="static", json_field_paths={"result_id": "/id"}
)
raw = raw.filter((raw.kind == "collector_result") & (raw.result_id != ""))
winner = raw.groupby(raw.result_id).reduce(row=pw.reducers.argmax(raw.version))
latest = raw.ix(winner.row)
live = latest.filter(~latest.deleted)
scored = live.select(
    customer_id=live.customer_id,
    brand_id=live.brand_id,
    collector_type=live.collector_type,
    day=live.created_at.str.slice(0, 10),
    num=pw.apply_with_type(plain, tuple[int, float, float], live.brand),
    pos=pw.apply_with_type(positions, tuple[int, int, int], live.brand),
    sent=pw.apply_with_type(sentiment, tuple[float, int, int, int, int], live.brand),
)
flat = scored.select(
    *pw.this.without(pw.this.num, pw.this.pos, pw.this.sent),
    mentions=pw.this.num[0], visibility=pw.this.num[1], share=pw.this.num[2],
    pos_sum=pw.this.pos[0], pos_count=pw.this.pos[1], best=pw.this.pos[2],
    sent_sum=pw.this.sent[0], sent_count=pw.this.sent[1],
    positive=pw.this.sent[2], neutral=pw.this.sent[3], negative=pw.this.sent[4],
)
daily = flat.groupby(flat.customer_id, flat.brand_id, flat.collector_type, flat.day).reduce(
    flat.customer_id, flat.brand_id, flat.collector_type, flat.day,
    answers=pw.reducers.count(),
    mentions=pw.reducers.sum(flat.mentions),
    avg_visibility_index=pw.reducers.avg(flat.visibility),
    avg_share_of_answers=pw.reducers.avg(flat.share),
    position_sum=pw.reducers.sum(flat.pos_sum),
    position_count=pw.reducers.sum(flat.pos_count),
    best_position=pw.reducers.min(flat.best),
    sentiment_sum=pw.reducers.sum(flat.sent_sum),
    sentiment_count=pw.reducers.sum(flat.sent_count),
    positive=pw.reducers.sum(flat.positive),
    neutral=pw.reducers.sum(flat.neutral),
    negative=pw.reducers.sum(flat.negative),
)
out = os.path.join(tempfile.mkdtemp(prefix="pathway-daily-"), "daily.csv")
pw.io.csv.write(daily, out)
started = time.perf_counter()
pw.run(monitoring_level=pw.MonitoringLevel.NONE)
seconds = time.perf_counter() - started
groups = 0
with open(out, newline="") as f:
    for row in csv.DictReader(f):
        groups += int(row.get("diff", 1))
size = os.path.getsize(path)
print(json.dumps({
    "engine": f"pathway {pw.__version__}",
    "threads": int(threads),
    "events": events,
    "bytes": size,
    "seconds": seconds,
    "events_per_s": events / seconds,
    "mb_per_s": size / 1e6 / seconds,
    "groups": groups,
    "peak_rss_bytes": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024,
}))

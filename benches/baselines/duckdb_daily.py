"""Baseline "the batch way": DuckDB recomputes brand daily metrics from the whole JSON-lines file.

Usage: python3 duckdb_daily.py FILE [THREADS]. Applies the replace rule (the latest version of
each id wins, later lines break ties, deleted ids drop out), then groups by
(customer_id, brand_id, collector_type, UTC day) as trendflow's brand_daily_metrics does.
Prints one JSON line: seconds (the query alone), events/s, MB/s, groups, peak RSS.
"""
import json
import os
import resource
import sys
import time

import duckdb

path = sys.argv[1]
threads = int(sys.argv[2]) if len(sys.argv) > 2 else 2
con = duckdb.connect()
con.execute(f"SET threads = {threads}")
con.execute("SET TimeZone = 'UTC'")
events = sum(1 for _ in open(path, "rb"))
query = f"""
CREATE TABLE brand_daily AS
WITH raw AS (
  SELECT *, row_number() OVER () AS seq
  FROM read_json('{path}', format = 'newline_delimited', ignore_errors = true, columns = {{
    kind: 'VARCHAR', id: 'VARCHAR', version: 'BIGINT', deleted: 'BOOLEAN',
    customer_id: 'VARCHAR', brand_id: 'VARCHAR', collector_type: 'VARCHAR',
    created_at: 'TIMESTAMPTZ',
    brand: 'STRUCT(visibility_index DOUBLE, share_of_answers DOUBLE, positions INTEGER[],
                   mentions INTEGER, sentiment STRUCT(label VARCHAR, score DOUBLE))'
  }})
  WHERE kind = 'collector_result' AND id IS NOT NULL
),
latest AS (
  SELECT * FROM raw
  QUALIFY row_number() OVER (PARTITION BY id ORDER BY coalesce(version, 0) DESC, seq DESC) = 1
)
SELECT customer_id, brand_id, collector_type, CAST(created_at AS DATE) AS day,
       count(*) AS answers,
       sum(brand.mentions) AS mentions,
       avg(brand.visibility_index) AS avg_visibility_index,
       avg(brand.share_of_answers) AS avg_share_of_answers,
       sum(list_sum(brand.positions)) / nullif(sum(len(brand.positions)), 0) AS avg_position,
       min(list_min(brand.positions)) AS best_position,
       avg(brand.sentiment.score) AS avg_sentiment_score,
       count(*) FILTER (WHERE brand.sentiment.label = 'positive') AS positive,
       count(*) FILTER (WHERE brand.sentiment.label = 'neutral') AS neutral,
       count(*) FILTER (WHERE brand.sentiment.label = 'negative') AS negative
FROM latest
WHERE NOT coalesce(deleted, false)
GROUP BY ALL
"""
started = time.perf_counter()
con.execute(query)
seconds = time.perf_counter() - started
groups = con.execute("SELECT count(*) FROM brand_daily").fetchone()[0]
size = os.path.getsize(path)
print(json.dumps({
    "engine": f"duckdb {duckdb.__version__}",
    "threads": threads,
    "events": events,
    "bytes": size,
    "seconds": seconds,
    "events_per_s": events / seconds,
    "mb_per_s": size / 1e6 / seconds,
    "groups": groups,
    "peak_rss_bytes": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024,
}))

#!/usr/bin/env python3
"""Reads the latest Parquet snapshot of a trendflow export folder with DuckDB and with pyarrow.

Usage: scripts/check_parquet.py DIR   (needs `pip install duckdb pyarrow`)

Follows DIR/_latest.json, reads every table the way a user would (DuckDB: a glob of the
table's epoch folder with hive_partitioning; pyarrow: a dataset of the same folder with a
declared `day` partition, and the manifest's file list), prints the rows per table and a few
totals, and exits 1 if any count disagrees with the manifest or the two readers disagree.
"""

import json
import os
import sys

import duckdb
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.dataset as ds


def sql_string(s):
    return "'" + s.replace("'", "''") + "'"


def main():
    if len(sys.argv) != 2:
        print(__doc__.strip(), file=sys.stderr)
        return 2
    root = sys.argv[1]
    latest_path = os.path.join(root, "_latest.json")
    try:
        with open(latest_path) as f:
            manifest = json.load(f)
    except OSError as e:
        print(f"{latest_path}: {e} (no snapshot published yet?)", file=sys.stderr)
        return 1
    epoch = manifest["epoch"]
    problems = []
    manifest_path = os.path.join(root, "_manifests", f"epoch={epoch}.json")
    with open(manifest_path) as f:
        if json.load(f) != manifest:
            problems.append(f"{manifest_path} differs from _latest.json")

    con = duckdb.connect()
    duck_tables, arrow_tables = {}, {}
    print(f"snapshot epoch {epoch} of {root} (watermark {manifest.get('watermark')})")
    print(f"{'table':<26} {'manifest':>9} {'duckdb':>9} {'pyarrow':>9}")
    for name, table in sorted(manifest["tables"].items()):
        folder = os.path.join(root, table["dir"])
        listed = sorted(os.path.join(root, f["path"]) for f in table["files"])
        for path in listed:
            if not os.path.isfile(path):
                problems.append(f"{name}: {path} is listed but missing")
        has_day = any("/day=" in f["path"] for f in table["files"])

        # DuckDB: the documented glob; the `day` partition typed as DATE.
        glob = os.path.join(folder, "**", "*.parquet")
        found = sorted(r[0] for r in con.sql(f"SELECT file FROM glob({sql_string(glob)})").fetchall())
        if found != listed:
            problems.append(f"{name}: the glob finds {found}, the manifest lists {listed}")
        hive_types = ", hive_types={'day': DATE}" if has_day else ""
        rel = con.sql(
            f"SELECT * FROM read_parquet({sql_string(glob)}, hive_partitioning=true{hive_types})"
        )
        duck = rel.fetch_arrow_table()
        duck_tables[name] = duck

        # pyarrow: the epoch folder as a dataset with a declared `day` partition, and the
        # manifest's files without partitioning (the files hold every column).
        partitioning = (
            ds.partitioning(pa.schema([("day", pa.date32())]), flavor="hive") if has_day else None
        )
        arrow = ds.dataset(folder, format="parquet", partitioning=partitioning).to_table()
        arrow_tables[name] = arrow
        by_files = ds.dataset(listed, format="parquet").count_rows()

        expected = table["rows"]
        counts = {"duckdb": duck.num_rows, "pyarrow": arrow.num_rows, "pyarrow files": by_files}
        counts["files"] = sum(f["rows"] for f in table["files"])
        for reader, n in counts.items():
            if n != expected:
                problems.append(f"{name}: {reader} has {n} rows, the manifest says {expected}")
        if has_day and not pa.types.is_date32(arrow.schema.field("day").type):
            problems.append(f"{name}: pyarrow reads day as {arrow.schema.field('day').type}")
        if has_day and duck.schema.field("day").type != pa.date32():
            problems.append(f"{name}: DuckDB reads day as {duck.schema.field('day').type}")
        print(f"{name:<26} {expected:>9} {duck.num_rows:>9} {arrow.num_rows:>9}")

    def total(tables, name, column):
        t = tables.get(name)
        if t is None or t.num_rows == 0:
            return 0
        return pc.sum(t.column(column)).as_py()

    totals = [
        ("sum of answers in brand_daily_metrics", "brand_daily_metrics", "answers"),
        ("sum of mentions in competitor_daily_metrics", "competitor_daily_metrics", "mentions"),
        ("sum of article_count in trends", "trends", "article_count"),
    ]
    for label, name, column in totals:
        d, a = total(duck_tables, name, column), total(arrow_tables, name, column)
        print(f"{label}: {d}" + ("" if d == a else f" (pyarrow: {a})"))
        if d != a:
            problems.append(f"{label}: DuckDB {d}, pyarrow {a}")
    facts = con.sql(
        "SELECT count(*) FROM read_parquet("
        + sql_string(os.path.join(root, manifest["tables"]["metric_facts"]["dir"], "**", "*.parquet"))
        + ", hive_partitioning=true, hive_types={'day': DATE})"
    ).fetchall()[0][0]
    print(f"count of metric_facts: {facts}")

    for p in problems:
        print(f"PROBLEM: {p}", file=sys.stderr)
    if problems:
        print(f"{len(problems)} problem(s)", file=sys.stderr)
        return 1
    print("OK: DuckDB, pyarrow and the manifest agree")
    return 0


if __name__ == "__main__":
    sys.exit(main())

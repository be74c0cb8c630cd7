#!/usr/bin/env python3
"""Check the trendflow event contracts against the examples.

Run from the repo root:  python3 schemas/check_examples.py
Needs: pip install jsonschema rfc3339-validator
Exits non-zero if any valid example is rejected, any invalid example is
accepted, or an invalid example is not rejected on the field that
examples/<kind>/invalid/EXPECTED.tsv names.
"""
import json
import sys
from datetime import datetime
from pathlib import Path

try:
    from jsonschema import Draft202012Validator
except ImportError:
    sys.exit("jsonschema is not installed: pip install jsonschema rfc3339-validator")
try:
    import rfc3339_validator  # noqa: F401  (jsonschema needs it to check format "date-time")
except ImportError:
    sys.exit("rfc3339-validator is not installed; without it jsonschema silently skips "
             "the date-time format check: pip install rfc3339-validator")

HERE = Path(__file__).resolve().parent
MAX_BYTES = 1048576  # default payload limit (1 MiB); checked before parsing
KINDS = {"article": "article.v1.schema.json", "collector_result": "collector_result.v1.schema.json"}


def fmt_path(parts):
    out = ""
    for p in parts:
        out += f"[{p}]" if isinstance(p, int) else (f".{p}" if out else str(p))
    return out or "$"


def schema_errors(validator, payload):
    """(path, message) for every error, including anyOf sub-errors; a missing
    required property is reported at the property's own path."""
    found, todo = [], list(validator.iter_errors(payload))
    while todo:
        e = todo.pop()
        todo.extend(e.context or [])
        parts = list(e.absolute_path)
        if e.validator == "required" and isinstance(e.instance, dict):
            for name in e.validator_value:
                if name not in e.instance:
                    found.append((fmt_path(parts + [name]), f"required property {name!r} missing"))
        else:
            found.append((fmt_path(parts), e.message))
    return found


def rfc3339_ms(text):
    # floor to whole milliseconds, as epoch ms
    dt = datetime.fromisoformat(text.replace("z", "Z"))
    return int(dt.timestamp() // 1) * 1000 + dt.microsecond // 1000


def extra_errors(kind, payload):
    """Rules JSON Schema cannot express."""
    errs = []
    if kind == "article":
        at, ms = payload.get("published_at"), payload.get("published_at_ms")
        if isinstance(at, str) and isinstance(ms, int) and not isinstance(ms, bool):
            try:
                if rfc3339_ms(at) != ms:
                    errs.append(("published_at_ms", "does not denote the same instant as published_at"))
            except ValueError:
                pass  # already reported by the format check
    return errs


def check(kind, validator, raw):
    """All errors for one raw payload, as (field path, message)."""
    if len(raw) > MAX_BYTES:
        return [("$", f"payload larger than {MAX_BYTES} bytes")]
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as e:
        return [("$", f"not valid UTF-8: {e}")]
    try:
        payload = json.loads(text, parse_constant=lambda c: (_ for _ in ()).throw(ValueError(c)))
    except ValueError as e:
        return [("$", f"not JSON: {e}")]
    if not isinstance(payload, dict):
        return [("$", f"not a JSON object but {type(payload).__name__}")]
    return schema_errors(validator, payload) + extra_errors(kind, payload)


def main():
    failures, checked = [], 0
    for kind, schema_file in KINDS.items():
        schema = json.loads((HERE / schema_file).read_text())
        Draft202012Validator.check_schema(schema)
        validator = Draft202012Validator(schema, format_checker=Draft202012Validator.FORMAT_CHECKER)
        base = HERE / "examples" / kind

        valid = sorted((base / "valid").glob("*.json"))
        if len(valid) < 4:
            failures.append(f"{kind}: fewer than 4 valid examples")
        for f in valid:
            checked += 1
            for path, msg in check(kind, validator, f.read_bytes()):
                failures.append(f"{kind}/valid/{f.name}: rejected at {path}: {msg}")

        expected = {}
        for line in (base / "invalid" / "EXPECTED.tsv").read_text().splitlines():
            if line.strip():
                name, field, _problem = line.split("\t")
                expected[name] = field
        files = {f.name: f for f in (base / "invalid").iterdir() if f.name != "EXPECTED.tsv"}
        for name in sorted(set(files) ^ set(expected)):
            failures.append(f"{kind}/invalid/{name}: " +
                            ("not listed in EXPECTED.tsv" if name in files else "listed in EXPECTED.tsv but missing"))
        for name in sorted(set(files) & set(expected)):
            checked += 1
            errs = check(kind, validator, files[name].read_bytes())
            if not errs:
                failures.append(f"{kind}/invalid/{name}: accepted, expected an error at {expected[name]}")
            elif expected[name] not in {p for p, _ in errs}:
                failures.append(f"{kind}/invalid/{name}: errors {errs} do not name {expected[name]}")

    for f in failures:
        print("FAIL", f)
    print(f"{checked} examples checked, {len(failures)} failure(s)")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())

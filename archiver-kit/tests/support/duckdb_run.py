"""Runs SQL statements with DuckDB for archiver-kit's tests, in one process.

stdin: {"statements": [{"sql": "...", "params": [["text", "x"], ["int", 3], ...]}, ...]}
stdout: {"version": "<duckdb version>", "results": [{"rows": [[...], ...]} | {"error": "..."}, ...]}

Statements run in order on one connection (session time zone UTC), so earlier ones may create
views and macros for later ones. Parameters are tagged: text, int, float (as text, so that
infinities travel), bool. Values DuckDB returns that JSON has no type for (timestamps, dates)
come back as their text. A failing statement reports its error and the rest still run.
"""
import json
import sys

import duckdb

PARAM = {"text": str, "int": int, "float": float, "bool": bool}

request = json.load(sys.stdin)
con = duckdb.connect()
con.execute("SET TimeZone = 'UTC'")
results = []
for statement in request["statements"]:
    params = [PARAM[kind](value) for kind, value in statement.get("params", [])]
    try:
        rows = con.execute(statement["sql"], params).fetchall()
        results.append({"rows": [list(row) for row in rows]})
    except duckdb.Error as e:
        results.append({"error": str(e)})
json.dump({"version": duckdb.__version__, "results": results}, sys.stdout, default=str)

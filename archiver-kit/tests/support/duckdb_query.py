"""Runs SQL over Parquet segments with DuckDB for archiver-kit's tests.

stdin: {"glob": "<dir>/**/*.parquet", "queries": ["<WHERE clause>", ...]}
stdout: {"columns": {name: type}, "results": [[RunId, ...], ...]}, each result sorted.
The segments are read as any engine would: Hive partitions, files unioned by column name.
"""
import json
import sys

import duckdb

request = json.load(sys.stdin)
con = duckdb.connect()
con.execute("SET TimeZone = 'UTC'")
glob = request["glob"].replace("'", "''")
con.execute(
    "CREATE VIEW records AS SELECT * FROM read_parquet("
    f"'{glob}', hive_partitioning = true, union_by_name = true)"
)
columns = {row[0]: row[1] for row in con.execute("DESCRIBE records").fetchall()}
results = [
    sorted(row[0] for row in con.execute(f"SELECT RunId FROM records WHERE {where}").fetchall())
    for where in request["queries"]
]
json.dump({"columns": columns, "results": results}, sys.stdout)

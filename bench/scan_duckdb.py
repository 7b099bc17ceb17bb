"""The 4.1 + 4.2 scan written as SQL in DuckDB: Bantay's peer in `bench/scan.py`.

Reads the same snapshot CSV files Bantay reads, plus the pack's decisions as a table
(`bantay policy table`), and writes the unjustified grants and the separation-of-duties
breaches to OUT_DIR. Prints the counts as JSON.

usage: python3 bench/scan_duckdb.py SNAPSHOT_DIR COVERAGE_CSV AT_DATE OUT_DIR [THREADS]
"""
import json
import os
import sys

import duckdb

snapshot, coverage, at, out_dir = sys.argv[1:5]
threads = int(sys.argv[5]) if len(sys.argv) > 5 else 2
con = duckdb.connect()
con.execute(f"SET threads = {threads}")
con.execute("SET preserve_insertion_order = false")
v = lambda names: "{" + ", ".join(f"'{n}': 'VARCHAR'" for n in names) + "}"
d = lambda names: "{" + ", ".join(f"'{n}': '{t}'" for n, t in names) + "}"
p = os.path.join
con.execute(f"""
CREATE VIEW persons AS SELECT * FROM read_csv('{p(snapshot, 'persons.csv')}', header = true,
  columns = {v(['id', 'name', 'port'])});
CREATE VIEW assignments AS SELECT * FROM read_csv('{p(snapshot, 'assignments.csv')}', header = true,
  columns = {d([('person', 'VARCHAR'), ('unit', 'VARCHAR'), ('valid_from', 'DATE'), ('valid_until', 'DATE'), ('order', 'VARCHAR')])});
CREATE VIEW resources AS SELECT * FROM read_csv('{p(snapshot, 'resources.csv')}', header = true,
  columns = {v(['id', 'kind', 'class', 'system', 'port'])});
CREATE VIEW grants AS SELECT * FROM read_csv('{p(snapshot, 'grants.csv')}', header = true,
  columns = {d([('person', 'VARCHAR'), ('resource', 'VARCHAR'), ('clause', 'VARCHAR'), ('valid_from', 'DATE'), ('valid_until', 'DATE')])});
CREATE TEMP TABLE coverage AS
SELECT unit, person_has_port, kind, class, coalesce(system, '') AS system, resource_has_port, ports, clause
FROM read_csv('{coverage}', header = true,
  columns = {d([('unit', 'VARCHAR'), ('person_has_port', 'BOOLEAN'), ('kind', 'VARCHAR'), ('class', 'VARCHAR'), ('system', 'VARCHAR'), ('resource_has_port', 'BOOLEAN'), ('ports', 'VARCHAR'), ('clause', 'VARCHAR')])});
""")
at_date = f"DATE '{at}'"
con.execute(f"""
CREATE TEMP TABLE active AS
SELECT g.person, g.resource, g.clause, r.kind, r.class, coalesce(r.system, '') AS system,
       pe.port IS NOT NULL AS php, r.port IS NOT NULL AS rhp,
       CASE WHEN pe.port IS NULL OR r.port IS NULL THEN 'none'
            WHEN pe.port = r.port THEN 'same' ELSE 'different' END AS ports
FROM grants g
JOIN persons pe ON pe.id = g.person
JOIN resources r ON r.id = g.resource
WHERE g.valid_from <= {at_date} AND (g.valid_until IS NULL OR g.valid_until > {at_date})
""")
# A grant is justified when one of the person's units at that time has a decision row
# for it; the justified (person, resource, clause) triples are found by equality joins,
# and the rest by an anti join.
con.execute(f"""
CREATE TEMP TABLE units AS SELECT person, unit FROM assignments
WHERE valid_from <= {at_date} AND (valid_until IS NULL OR valid_until > {at_date})
""")
con.execute(f"""
COPY (
  WITH justified AS (
    SELECT DISTINCT x.person, x.resource, x.clause
    FROM active x
    JOIN units u ON u.person = x.person
    JOIN coverage c ON c.unit = u.unit AND c.person_has_port = x.php AND c.kind = x.kind
      AND c.class = x.class AND c.system = x.system
      AND c.resource_has_port = x.rhp AND c.ports = x.ports AND c.clause = x.clause
  )
  SELECT x.person, x.resource, x.clause FROM active x
  ANTI JOIN justified j ON j.person = x.person AND j.resource = x.resource AND j.clause = x.clause
) TO '{p(out_dir, 'unjustified.csv')}' (HEADER)
""")
con.execute(f"""
COPY (
  SELECT person, system, count(DISTINCT class) AS classes FROM active
  WHERE system IN ('CPS', 'ERP') AND class IN ('os', 'database', 'application')
  GROUP BY person, system HAVING count(DISTINCT class) > 2
) TO '{p(out_dir, 'separation.csv')}' (HEADER)
""")
unjustified = con.execute(f"SELECT count(*) FROM read_csv('{p(out_dir, 'unjustified.csv')}')").fetchone()[0]
separation = con.execute(f"SELECT count(*) FROM read_csv('{p(out_dir, 'separation.csv')}')").fetchone()[0]
print(json.dumps({"unjustified": unjustified, "separation_of_duties": separation}))

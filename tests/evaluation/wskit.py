"""Build small real workspaces (YAML + CSV files) for evaluation tests."""

from __future__ import annotations

import csv
from collections.abc import Sequence
from pathlib import Path

ORG = """\
organization:
  name: Tiny Support
  version: "t1"
  currency: EUR
  timezone: Europe/Riga
  people: {source: people, id: pid, unit: unit, role: role, name: name, base_salary: salary, fte: fte,
           hired: hired, left: left}
units:
  org:   {name: Company}
  north: {name: North, parent: org, tags: [support]}
  south: {name: South, parent: org, tags: [support]}
goals:
  g: {name: Good service}
sources:
  people:
    path: people.csv
    key: pid
    columns: {pid: string, name: string, unit: string, role: string, salary: decimal, fte: number,
              hired: date, left: date}
  tickets:
    path: tickets.csv
    key: id
    time: created
    columns:
      id: string
      created: timestamp
      resolved: timestamp
      priority: {type: string, values: [critical, normal]}
      agent: string
      csat: integer
      reopened: boolean
    relations:
      owner: {source: people, key: agent}
segments:
  critical: {source: tickets, where: priority = 'critical'}
  routine: {source: tickets, where: not critical}
"""

PEOPLE_HEADER = ["pid", "name", "unit", "role", "salary", "fte", "hired", "left"]
TICKET_HEADER = ["id", "created", "resolved", "priority", "agent", "csat", "reopened"]


def write_csv(path: Path, header: Sequence[str], rows: Sequence[Sequence[object]]) -> None:
    with path.open("w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f, lineterminator="\n")
        writer.writerow(header)
        writer.writerows(["" if v is None else v for v in row] for row in rows)


def workspace(
    root: Path, kpis: str, people: Sequence[Sequence[object]], tickets: Sequence[Sequence[object]], extra: str = ""
) -> Path:
    """A workspace folder with the organization above, the given KPI YAML and the data rows."""
    root.mkdir(parents=True, exist_ok=True)
    (root / "org.yaml").write_text(ORG, encoding="utf-8")
    (root / "kpis.yaml").write_text(kpis + extra, encoding="utf-8")
    write_csv(root / "people.csv", PEOPLE_HEADER, people)
    write_csv(root / "tickets.csv", TICKET_HEADER, tickets)
    return root

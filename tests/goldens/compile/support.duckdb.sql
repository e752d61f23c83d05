-- kpi compile: period 2026 (2026-01-01..2026-12-31), dialect duckdb

-- scan 1: source `tickets`, time `created_at`, subjects: person from `agent_id`
WITH "__units" AS (
  SELECT
    *
  FROM (VALUES
    ('frontline', 'support', 'frontline'),
    ('specialist', 'support', 'specialist'),
    ('support', 'support', NULL)) AS v(unit, a0, a1)
)
SELECT
  "t"."__period" AS "__period",
  CAST("t"."agent_id" AS TEXT) AS "__subject",
  NULL AS "__a0",
  "__up"."a1" AS "__a1",
  GROUPING(CAST("t"."agent_id" AS TEXT), "__up"."a1") AS "__grouping",
  COUNT(*) AS "__rows",
  COUNT(*) FILTER(WHERE
    CAST("t"."csat" AS DOUBLE) >= CAST(4 AS DOUBLE)) / NULLIF(COUNT(*) FILTER(WHERE
    NOT CAST("t"."csat" AS DOUBLE) IS NULL), 0) AS "v:csat", /* KPI csat (<ws>/kpis.yaml:52) */
  COUNT(*) FILTER(WHERE
    NOT "t"."reopened" AND NOT "t"."resolved_at" IS NULL) / NULLIF(COUNT(*) FILTER(WHERE
    NOT "t"."resolved_at" IS NULL), 0) AS "v:first_contact_resolution", /* KPI first_contact_resolution (<ws>/kpis.yaml:39) */
  MEDIAN(
    (
      EPOCH_US("t"."first_response_at") / CAST(1000000 AS DOUBLE) - EPOCH_US("t"."created_at") / CAST(1000000 AS DOUBLE)
    ) / CAST(60 AS DOUBLE)
  ) FILTER(WHERE
    (
      "t"."channel" <> 'phone'
    )) AS "v:first_response_minutes", /* KPI first_response_minutes (<ws>/kpis.yaml:9) */
  COUNT(*) FILTER(WHERE
    (
      "t"."channel" <> 'phone'
    )) AS "n:first_response_minutes",
  COUNT(*) FILTER(WHERE
    (
      EPOCH_US("t"."resolved_at") / CAST(1000000 AS DOUBLE) - EPOCH_US("t"."created_at") / CAST(1000000 AS DOUBLE)
    ) / CAST(3600 AS DOUBLE) <= CAST(4 AS DOUBLE)
    AND (
      "t"."priority" = 'critical'
    )) / NULLIF(COUNT(*) FILTER(WHERE
    (
      "t"."priority" = 'critical'
    )), 0) AS "v:resolved_in_sla.critical", /* KPI resolved_in_sla.critical (<ws>/kpis.yaml:24) */
  COUNT(*) FILTER(WHERE
    (
      "t"."priority" = 'critical'
    )) AS "n:resolved_in_sla.critical",
  COUNT(*) FILTER(WHERE
    (
      EPOCH_US("t"."resolved_at") / CAST(1000000 AS DOUBLE) - EPOCH_US("t"."created_at") / CAST(1000000 AS DOUBLE)
    ) / CAST(3600 AS DOUBLE) <= CAST(72 AS DOUBLE)
    AND (
      NOT (
        "t"."priority" = 'critical'
      )
    )) / NULLIF(
    COUNT(*) FILTER(WHERE
      (
        NOT (
          "t"."priority" = 'critical'
        )
      )),
    0
  ) AS "v:resolved_in_sla.routine", /* KPI resolved_in_sla.routine (<ws>/kpis.yaml:24) */
  COUNT(*) FILTER(WHERE
    (
      NOT (
        "t"."priority" = 'critical'
      )
    )) AS "n:resolved_in_sla.routine",
  COUNT(*) AS "v:tickets_handled" /* KPI tickets_handled (<ws>/kpis.yaml:64) */
FROM (
  SELECT
    *,
    '2026' AS "__period"
  FROM "tickets"
  WHERE
    "created_at" >= CAST('2025-12-31 22:00:00+00' AS TIMESTAMPTZ)
    AND "created_at" < CAST('2026-12-31 22:00:00+00' AS TIMESTAMPTZ)
) AS "t"
LEFT JOIN "employees" AS "__person"
  ON CAST("t"."agent_id" AS TEXT) = CAST("__person"."employee_id" AS TEXT)
LEFT JOIN "__units" AS "__up"
  ON "__up"."unit" = CAST("__person"."unit_id" AS TEXT)
GROUP BY
  GROUPING SETS (
    ("t"."__period", CAST("t"."agent_id" AS TEXT)),
    ("t"."__period", "__up"."a1"),
    ("t"."__period")
  );

-- kpi compile: period 2026 (2026-01-01..2026-12-31), dialect duckdb

-- 3 scans for 12 source KPIs
-- scan 1: source `requests`, time `created_at`, subjects: person from `dispatcher_id`
--   - acknowledged_in_business_hours (filtered in the scan: segment routine)  [<ws>/kpis.yaml:140]
--   - reassignment_rate  [<ws>/kpis.yaml:153]
-- scan 2: source `requests`, time `created_at`, subjects: person from `engineer_id`
--   - first_time_fix  [<ws>/kpis.yaml:61]
--   - on_site_in_time.critical (filtered in the scan: segment critical, own where)  [<ws>/kpis.yaml:31]
--   - on_site_in_time.routine (filtered in the scan: segment routine, own where)  [<ws>/kpis.yaml:31]
--   - repeat_visit_rate  [<ws>/kpis.yaml:74]
--   - repeat_visits  [<ws>/kpis.yaml:88]
--   - restored_in_sla.critical (filtered in the scan: segment critical)  [<ws>/kpis.yaml:12]
--   - restored_in_sla.routine (filtered in the scan: segment routine)  [<ws>/kpis.yaml:12]
--   - routine_days_to_restore (filtered in the scan: segment routine)  [<ws>/kpis.yaml:47]
-- scan 3: source `timesheets`, time `work_date`, subjects: person from `engineer_id`
--   - available_hours  [<ws>/kpis.yaml:102]
--   - productive_hours  [<ws>/kpis.yaml:112]
-- derived KPIs, computed from the scans' results in this order:
--   - utilization from productive_hours, available_hours  [<ws>/kpis.yaml:122]
-- not fused: source `requests` is scanned 2 times: different attribution (person:dispatcher_id, person:engineer_id)

-- scan 1: source `requests`, time `created_at`, subjects: person from `dispatcher_id`
WITH "__units" AS (
  SELECT
    *
  FROM (VALUES
    ('dispatch', 'nordlift', 'service', 'dispatch'),
    ('kurzeme', 'nordlift', 'service', 'kurzeme'),
    ('latgale', 'nordlift', 'service', 'latgale'),
    ('nordlift', 'nordlift', NULL, NULL),
    ('riga', 'nordlift', 'service', 'riga'),
    ('service', 'nordlift', 'service', NULL)) AS v(unit, a0, a1, a2)
)
SELECT
  "t"."__period" AS "__period",
  CAST("t"."dispatcher_id" AS TEXT) AS "__subject",
  NULL AS "__a0",
  "__up"."a1" AS "__a1",
  "__up"."a2" AS "__a2",
  GROUPING(CAST("t"."dispatcher_id" AS TEXT), "__up"."a1", "__up"."a2") AS "__grouping",
  COUNT(*) AS "__rows",
  COUNT(*) FILTER(WHERE
    CASE
      WHEN "t"."created_at" IS NULL OR "t"."assigned_at" IS NULL
      THEN NULL
      WHEN "t"."assigned_at" <= "t"."created_at"
      THEN CAST(0 AS DOUBLE)
      ELSE GREATEST(
        FLOOR(
          (
            FLOOR(
              EPOCH_US("t"."assigned_at" AT TIME ZONE 'Europe/Riga') / CAST(1000000 AS DOUBLE) / 86400
            ) + 3
          ) / 7
        ) * 162000 + CASE FLOOR(
            EPOCH_US("t"."assigned_at" AT TIME ZONE 'Europe/Riga') / CAST(1000000 AS DOUBLE) / 86400
          ) + 3 - 7 * FLOOR(
            (
              FLOOR(
                EPOCH_US("t"."assigned_at" AT TIME ZONE 'Europe/Riga') / CAST(1000000 AS DOUBLE) / 86400
              ) + 3
            ) / 7
          )
          WHEN 0
          THEN CASE
            WHEN FLOOR(
              EPOCH_US("t"."assigned_at" AT TIME ZONE 'Europe/Riga') / CAST(1000000 AS DOUBLE) / 86400
            ) IN (20549, 20577)
            THEN 0
            ELSE LEAST(
              GREATEST(
                EPOCH_US("t"."assigned_at" AT TIME ZONE 'Europe/Riga') / CAST(1000000 AS DOUBLE) - FLOOR(
                  EPOCH_US("t"."assigned_at" AT TIME ZONE 'Europe/Riga') / CAST(1000000 AS DOUBLE) / 86400
                ) * 86400 - 28800,
                0
              ),
              32400
            )
          END
          WHEN 1
          THEN 32400 + CASE
            WHEN FLOOR(
              EPOCH_US("t"."assigned_at" AT TIME ZONE 'Europe/Riga') / CAST(1000000 AS DOUBLE) / 86400
            ) IN (20627)
            THEN 0
            ELSE LEAST(
              GREATEST(
                EPOCH_US("t"."assigned_at" AT TIME ZONE 'Europe/Riga') / CAST(1000000 AS DOUBLE) - FLOOR(
                  EPOCH_US("t"."assigned_at" AT TIME ZONE 'Europe/Riga') / CAST(1000000 AS DOUBLE) / 86400
                ) * 86400 - 28800,
                0
              ),
              32400
            )
          END
          WHEN 2
          THEN 64800 + CASE
            WHEN FLOOR(
              EPOCH_US("t"."assigned_at" AT TIME ZONE 'Europe/Riga') / CAST(1000000 AS DOUBLE) / 86400
            ) IN (20628, 20775)
            THEN 0
            ELSE LEAST(
              GREATEST(
                EPOCH_US("t"."assigned_at" AT TIME ZONE 'Europe/Riga') / CAST(1000000 AS DOUBLE) - FLOOR(
                  EPOCH_US("t"."assigned_at" AT TIME ZONE 'Europe/Riga') / CAST(1000000 AS DOUBLE) / 86400
                ) * 86400 - 28800,
                0
              ),
              32400
            )
          END
          WHEN 3
          THEN 97200 + CASE
            WHEN FLOOR(
              EPOCH_US("t"."assigned_at" AT TIME ZONE 'Europe/Riga') / CAST(1000000 AS DOUBLE) / 86400
            ) IN (20454, 20811, 20818)
            THEN 0
            ELSE LEAST(
              GREATEST(
                EPOCH_US("t"."assigned_at" AT TIME ZONE 'Europe/Riga') / CAST(1000000 AS DOUBLE) - FLOOR(
                  EPOCH_US("t"."assigned_at" AT TIME ZONE 'Europe/Riga') / CAST(1000000 AS DOUBLE) / 86400
                ) * 86400 - 28800,
                0
              ),
              32400
            )
          END
          WHEN 4
          THEN 129600 + CASE
            WHEN FLOOR(
              EPOCH_US("t"."assigned_at" AT TIME ZONE 'Europe/Riga') / CAST(1000000 AS DOUBLE) / 86400
            ) IN (20546, 20574, 20812)
            THEN 0
            ELSE LEAST(
              GREATEST(
                EPOCH_US("t"."assigned_at" AT TIME ZONE 'Europe/Riga') / CAST(1000000 AS DOUBLE) - FLOOR(
                  EPOCH_US("t"."assigned_at" AT TIME ZONE 'Europe/Riga') / CAST(1000000 AS DOUBLE) / 86400
                ) * 86400 - 28800,
                0
              ),
              32400
            )
          END
          WHEN 5
          THEN 162000
          WHEN 6
          THEN 162000
        END - CASE
          WHEN FLOOR(
            EPOCH_US("t"."assigned_at" AT TIME ZONE 'Europe/Riga') / CAST(1000000 AS DOUBLE) / 86400
          ) > 20818
          THEN 356400
          WHEN FLOOR(
            EPOCH_US("t"."assigned_at" AT TIME ZONE 'Europe/Riga') / CAST(1000000 AS DOUBLE) / 86400
          ) > 20812
          THEN 324000
          WHEN FLOOR(
            EPOCH_US("t"."assigned_at" AT TIME ZONE 'Europe/Riga') / CAST(1000000 AS DOUBLE) / 86400
          ) > 20811
          THEN 291600
          WHEN FLOOR(
            EPOCH_US("t"."assigned_at" AT TIME ZONE 'Europe/Riga') / CAST(1000000 AS DOUBLE) / 86400
          ) > 20775
          THEN 259200
          WHEN FLOOR(
            EPOCH_US("t"."assigned_at" AT TIME ZONE 'Europe/Riga') / CAST(1000000 AS DOUBLE) / 86400
          ) > 20628
          THEN 226800
          WHEN FLOOR(
            EPOCH_US("t"."assigned_at" AT TIME ZONE 'Europe/Riga') / CAST(1000000 AS DOUBLE) / 86400
          ) > 20627
          THEN 194400
          WHEN FLOOR(
            EPOCH_US("t"."assigned_at" AT TIME ZONE 'Europe/Riga') / CAST(1000000 AS DOUBLE) / 86400
          ) > 20577
          THEN 162000
          WHEN FLOOR(
            EPOCH_US("t"."assigned_at" AT TIME ZONE 'Europe/Riga') / CAST(1000000 AS DOUBLE) / 86400
          ) > 20574
          THEN 129600
          WHEN FLOOR(
            EPOCH_US("t"."assigned_at" AT TIME ZONE 'Europe/Riga') / CAST(1000000 AS DOUBLE) / 86400
          ) > 20549
          THEN 97200
          WHEN FLOOR(
            EPOCH_US("t"."assigned_at" AT TIME ZONE 'Europe/Riga') / CAST(1000000 AS DOUBLE) / 86400
          ) > 20546
          THEN 64800
          WHEN FLOOR(
            EPOCH_US("t"."assigned_at" AT TIME ZONE 'Europe/Riga') / CAST(1000000 AS DOUBLE) / 86400
          ) > 20454
          THEN 32400
          ELSE 0
        END - (
          FLOOR(
            (
              FLOOR(
                EPOCH_US("t"."created_at" AT TIME ZONE 'Europe/Riga') / CAST(1000000 AS DOUBLE) / 86400
              ) + 3
            ) / 7
          ) * 162000 + CASE FLOOR(
              EPOCH_US("t"."created_at" AT TIME ZONE 'Europe/Riga') / CAST(1000000 AS DOUBLE) / 86400
            ) + 3 - 7 * FLOOR(
              (
                FLOOR(
                  EPOCH_US("t"."created_at" AT TIME ZONE 'Europe/Riga') / CAST(1000000 AS DOUBLE) / 86400
                ) + 3
              ) / 7
            )
            WHEN 0
            THEN CASE
              WHEN FLOOR(
                EPOCH_US("t"."created_at" AT TIME ZONE 'Europe/Riga') / CAST(1000000 AS DOUBLE) / 86400
              ) IN (20549, 20577)
              THEN 0
              ELSE LEAST(
                GREATEST(
                  EPOCH_US("t"."created_at" AT TIME ZONE 'Europe/Riga') / CAST(1000000 AS DOUBLE) - FLOOR(
                    EPOCH_US("t"."created_at" AT TIME ZONE 'Europe/Riga') / CAST(1000000 AS DOUBLE) / 86400
                  ) * 86400 - 28800,
                  0
                ),
                32400
              )
            END
            WHEN 1
            THEN 32400 + CASE
              WHEN FLOOR(
                EPOCH_US("t"."created_at" AT TIME ZONE 'Europe/Riga') / CAST(1000000 AS DOUBLE) / 86400
              ) IN (20627)
              THEN 0
              ELSE LEAST(
                GREATEST(
                  EPOCH_US("t"."created_at" AT TIME ZONE 'Europe/Riga') / CAST(1000000 AS DOUBLE) - FLOOR(
                    EPOCH_US("t"."created_at" AT TIME ZONE 'Europe/Riga') / CAST(1000000 AS DOUBLE) / 86400
                  ) * 86400 - 28800,
                  0
                ),
                32400
              )
            END
            WHEN 2
            THEN 64800 + CASE
              WHEN FLOOR(
                EPOCH_US("t"."created_at" AT TIME ZONE 'Europe/Riga') / CAST(1000000 AS DOUBLE) / 86400
              ) IN (20628, 20775)
              THEN 0
              ELSE LEAST(
                GREATEST(
                  EPOCH_US("t"."created_at" AT TIME ZONE 'Europe/Riga') / CAST(1000000 AS DOUBLE) - FLOOR(
                    EPOCH_US("t"."created_at" AT TIME ZONE 'Europe/Riga') / CAST(1000000 AS DOUBLE) / 86400
                  ) * 86400 - 28800,
                  0
                ),
                32400
              )
            END
            WHEN 3
            THEN 97200 + CASE
              WHEN FLOOR(
                EPOCH_US("t"."created_at" AT TIME ZONE 'Europe/Riga') / CAST(1000000 AS DOUBLE) / 86400
              ) IN (20454, 20811, 20818)
              THEN 0
              ELSE LEAST(
                GREATEST(
                  EPOCH_US("t"."created_at" AT TIME ZONE 'Europe/Riga') / CAST(1000000 AS DOUBLE) - FLOOR(
                    EPOCH_US("t"."created_at" AT TIME ZONE 'Europe/Riga') / CAST(1000000 AS DOUBLE) / 86400
                  ) * 86400 - 28800,
                  0
                ),
                32400
              )
            END
            WHEN 4
            THEN 129600 + CASE
              WHEN FLOOR(
                EPOCH_US("t"."created_at" AT TIME ZONE 'Europe/Riga') / CAST(1000000 AS DOUBLE) / 86400
              ) IN (20546, 20574, 20812)
              THEN 0
              ELSE LEAST(
                GREATEST(
                  EPOCH_US("t"."created_at" AT TIME ZONE 'Europe/Riga') / CAST(1000000 AS DOUBLE) - FLOOR(
                    EPOCH_US("t"."created_at" AT TIME ZONE 'Europe/Riga') / CAST(1000000 AS DOUBLE) / 86400
                  ) * 86400 - 28800,
                  0
                ),
                32400
              )
            END
            WHEN 5
            THEN 162000
            WHEN 6
            THEN 162000
          END - CASE
            WHEN FLOOR(
              EPOCH_US("t"."created_at" AT TIME ZONE 'Europe/Riga') / CAST(1000000 AS DOUBLE) / 86400
            ) > 20818
            THEN 356400
            WHEN FLOOR(
              EPOCH_US("t"."created_at" AT TIME ZONE 'Europe/Riga') / CAST(1000000 AS DOUBLE) / 86400
            ) > 20812
            THEN 324000
            WHEN FLOOR(
              EPOCH_US("t"."created_at" AT TIME ZONE 'Europe/Riga') / CAST(1000000 AS DOUBLE) / 86400
            ) > 20811
            THEN 291600
            WHEN FLOOR(
              EPOCH_US("t"."created_at" AT TIME ZONE 'Europe/Riga') / CAST(1000000 AS DOUBLE) / 86400
            ) > 20775
            THEN 259200
            WHEN FLOOR(
              EPOCH_US("t"."created_at" AT TIME ZONE 'Europe/Riga') / CAST(1000000 AS DOUBLE) / 86400
            ) > 20628
            THEN 226800
            WHEN FLOOR(
              EPOCH_US("t"."created_at" AT TIME ZONE 'Europe/Riga') / CAST(1000000 AS DOUBLE) / 86400
            ) > 20627
            THEN 194400
            WHEN FLOOR(
              EPOCH_US("t"."created_at" AT TIME ZONE 'Europe/Riga') / CAST(1000000 AS DOUBLE) / 86400
            ) > 20577
            THEN 162000
            WHEN FLOOR(
              EPOCH_US("t"."created_at" AT TIME ZONE 'Europe/Riga') / CAST(1000000 AS DOUBLE) / 86400
            ) > 20574
            THEN 129600
            WHEN FLOOR(
              EPOCH_US("t"."created_at" AT TIME ZONE 'Europe/Riga') / CAST(1000000 AS DOUBLE) / 86400
            ) > 20549
            THEN 97200
            WHEN FLOOR(
              EPOCH_US("t"."created_at" AT TIME ZONE 'Europe/Riga') / CAST(1000000 AS DOUBLE) / 86400
            ) > 20546
            THEN 64800
            WHEN FLOOR(
              EPOCH_US("t"."created_at" AT TIME ZONE 'Europe/Riga') / CAST(1000000 AS DOUBLE) / 86400
            ) > 20454
            THEN 32400
            ELSE 0
          END
        ),
        0
      ) / 3600
    END <= CAST(2 AS DOUBLE)
    AND (
      NOT (
        "t"."priority" = 'critical' OR COALESCE("t"."equipment_down", FALSE)
      )
    )) / NULLIF(
    COUNT(*) FILTER(WHERE
      (
        NOT (
          "t"."priority" = 'critical' OR COALESCE("t"."equipment_down", FALSE)
        )
      )),
    0
  ) AS "v:acknowledged_in_business_hours", /* KPI acknowledged_in_business_hours (<ws>/kpis.yaml:140) */
  COUNT(*) FILTER(WHERE
    (
      NOT (
        "t"."priority" = 'critical' OR COALESCE("t"."equipment_down", FALSE)
      )
    )) AS "n:acknowledged_in_business_hours",
  COUNT(*) FILTER(WHERE
    COALESCE("t"."reassigned", FALSE)) / NULLIF(COUNT(*), 0) AS "v:reassignment_rate" /* KPI reassignment_rate (<ws>/kpis.yaml:153) */
FROM (
  SELECT
    *,
    '2026' AS "__period"
  FROM "requests"
  WHERE
    "created_at" >= CAST('2025-12-31 22:00:00+00' AS TIMESTAMPTZ)
    AND "created_at" < CAST('2026-12-31 22:00:00+00' AS TIMESTAMPTZ)
) AS "t"
LEFT JOIN "employees" AS "__person"
  ON CAST("t"."dispatcher_id" AS TEXT) = CAST("__person"."employee_id" AS TEXT)
LEFT JOIN "__units" AS "__up"
  ON "__up"."unit" = CAST("__person"."unit_id" AS TEXT)
GROUP BY
  GROUPING SETS (
    ("t"."__period", CAST("t"."dispatcher_id" AS TEXT)),
    ("t"."__period", "__up"."a1"),
    ("t"."__period", "__up"."a2"),
    ("t"."__period")
  );

-- scan 2: source `requests`, time `created_at`, subjects: person from `engineer_id`
WITH "__units" AS (
  SELECT
    *
  FROM (VALUES
    ('dispatch', 'nordlift', 'service', 'dispatch'),
    ('kurzeme', 'nordlift', 'service', 'kurzeme'),
    ('latgale', 'nordlift', 'service', 'latgale'),
    ('nordlift', 'nordlift', NULL, NULL),
    ('riga', 'nordlift', 'service', 'riga'),
    ('service', 'nordlift', 'service', NULL)) AS v(unit, a0, a1, a2)
)
SELECT
  "t"."__period" AS "__period",
  CAST("t"."engineer_id" AS TEXT) AS "__subject",
  NULL AS "__a0",
  "__up"."a1" AS "__a1",
  "__up"."a2" AS "__a2",
  GROUPING(CAST("t"."engineer_id" AS TEXT), "__up"."a1", "__up"."a2") AS "__grouping",
  COUNT(*) AS "__rows",
  COUNT(*) FILTER(WHERE
    CAST("t"."visits" AS DOUBLE) = CAST(1 AS DOUBLE)
    AND (
      "t"."needs_visit" AND NOT "t"."restored_at" IS NULL
    )) / NULLIF(COUNT(*) FILTER(WHERE
    "t"."needs_visit" AND NOT "t"."restored_at" IS NULL), 0) AS "v:first_time_fix", /* KPI first_time_fix (<ws>/kpis.yaml:61) */
  COUNT(*) FILTER(WHERE
    EPOCH_US("t"."arrived_at") / CAST(1000000 AS DOUBLE) - EPOCH_US("t"."created_at") / CAST(1000000 AS DOUBLE) <= CAST(172800 AS DOUBLE)
    AND (
      (
        "t"."priority" = 'critical' OR COALESCE("t"."equipment_down", FALSE)
      )
      AND (
        COALESCE("t"."needs_visit", FALSE)
      )
    )) / NULLIF(
    COUNT(*) FILTER(WHERE
      (
        "t"."priority" = 'critical' OR COALESCE("t"."equipment_down", FALSE)
      )
      AND (
        COALESCE("t"."needs_visit", FALSE)
      )),
    0
  ) AS "v:on_site_in_time.critical", /* KPI on_site_in_time.critical (<ws>/kpis.yaml:31) */
  COUNT(*) FILTER(WHERE
    (
      "t"."priority" = 'critical' OR COALESCE("t"."equipment_down", FALSE)
    )
    AND (
      COALESCE("t"."needs_visit", FALSE)
    )) AS "n:on_site_in_time.critical",
  COUNT(*) FILTER(WHERE
    EPOCH_US("t"."arrived_at") / CAST(1000000 AS DOUBLE) - EPOCH_US("t"."created_at") / CAST(1000000 AS DOUBLE) <= CAST(345600 AS DOUBLE)
    AND (
      (
        NOT (
          "t"."priority" = 'critical' OR COALESCE("t"."equipment_down", FALSE)
        )
      )
      AND (
        COALESCE("t"."needs_visit", FALSE)
      )
    )) / NULLIF(
    COUNT(*) FILTER(WHERE
      (
        NOT (
          "t"."priority" = 'critical' OR COALESCE("t"."equipment_down", FALSE)
        )
      )
      AND (
        COALESCE("t"."needs_visit", FALSE)
      )),
    0
  ) AS "v:on_site_in_time.routine", /* KPI on_site_in_time.routine (<ws>/kpis.yaml:31) */
  COUNT(*) FILTER(WHERE
    (
      NOT (
        "t"."priority" = 'critical' OR COALESCE("t"."equipment_down", FALSE)
      )
    )
    AND (
      COALESCE("t"."needs_visit", FALSE)
    )) AS "n:on_site_in_time.routine",
  COUNT(*) FILTER(WHERE
    COALESCE("t"."returned_within_30d", FALSE) AND NOT "t"."restored_at" IS NULL) / NULLIF(COUNT(*) FILTER(WHERE
    NOT "t"."restored_at" IS NULL), 0) AS "v:repeat_visit_rate", /* KPI repeat_visit_rate (<ws>/kpis.yaml:74) */
  COUNT(*) FILTER(WHERE
    CAST("t"."visits" AS DOUBLE) > CAST(1 AS DOUBLE)) AS "v:repeat_visits", /* KPI repeat_visits (<ws>/kpis.yaml:88) */
  COUNT(*) FILTER(WHERE
    EPOCH_US("t"."restored_at") / CAST(1000000 AS DOUBLE) - EPOCH_US("t"."created_at") / CAST(1000000 AS DOUBLE) <= CAST(14400 AS DOUBLE)
    AND (
      "t"."priority" = 'critical' OR COALESCE("t"."equipment_down", FALSE)
    )) / NULLIF(
    COUNT(*) FILTER(WHERE
      (
        "t"."priority" = 'critical' OR COALESCE("t"."equipment_down", FALSE)
      )),
    0
  ) AS "v:restored_in_sla.critical", /* KPI restored_in_sla.critical (<ws>/kpis.yaml:12) */
  COUNT(*) FILTER(WHERE
    (
      "t"."priority" = 'critical' OR COALESCE("t"."equipment_down", FALSE)
    )) AS "n:restored_in_sla.critical",
  COUNT(*) FILTER(WHERE
    EPOCH_US("t"."restored_at") / CAST(1000000 AS DOUBLE) - EPOCH_US("t"."created_at") / CAST(1000000 AS DOUBLE) <= CAST(345600 AS DOUBLE)
    AND (
      NOT (
        "t"."priority" = 'critical' OR COALESCE("t"."equipment_down", FALSE)
      )
    )) / NULLIF(
    COUNT(*) FILTER(WHERE
      (
        NOT (
          "t"."priority" = 'critical' OR COALESCE("t"."equipment_down", FALSE)
        )
      )),
    0
  ) AS "v:restored_in_sla.routine", /* KPI restored_in_sla.routine (<ws>/kpis.yaml:12) */
  COUNT(*) FILTER(WHERE
    (
      NOT (
        "t"."priority" = 'critical' OR COALESCE("t"."equipment_down", FALSE)
      )
    )) AS "n:restored_in_sla.routine",
  MEDIAN(
    (
      EPOCH_US("t"."restored_at") / CAST(1000000 AS DOUBLE) - EPOCH_US("t"."created_at") / CAST(1000000 AS DOUBLE)
    ) / CAST(86400 AS DOUBLE)
  ) FILTER(WHERE
    (
      NOT (
        "t"."priority" = 'critical' OR COALESCE("t"."equipment_down", FALSE)
      )
    )) AS "v:routine_days_to_restore" /* KPI routine_days_to_restore (<ws>/kpis.yaml:47) */
FROM (
  SELECT
    *,
    '2026' AS "__period"
  FROM "requests"
  WHERE
    "created_at" >= CAST('2025-12-31 22:00:00+00' AS TIMESTAMPTZ)
    AND "created_at" < CAST('2026-12-31 22:00:00+00' AS TIMESTAMPTZ)
) AS "t"
LEFT JOIN "employees" AS "__person"
  ON CAST("t"."engineer_id" AS TEXT) = CAST("__person"."employee_id" AS TEXT)
LEFT JOIN "__units" AS "__up"
  ON "__up"."unit" = CAST("__person"."unit_id" AS TEXT)
GROUP BY
  GROUPING SETS (
    ("t"."__period", CAST("t"."engineer_id" AS TEXT)),
    ("t"."__period", "__up"."a1"),
    ("t"."__period", "__up"."a2"),
    ("t"."__period")
  );

-- scan 3: source `timesheets`, time `work_date`, subjects: person from `engineer_id`
WITH "__units" AS (
  SELECT
    *
  FROM (VALUES
    ('dispatch', 'nordlift', 'service', 'dispatch'),
    ('kurzeme', 'nordlift', 'service', 'kurzeme'),
    ('latgale', 'nordlift', 'service', 'latgale'),
    ('nordlift', 'nordlift', NULL, NULL),
    ('riga', 'nordlift', 'service', 'riga'),
    ('service', 'nordlift', 'service', NULL)) AS v(unit, a0, a1, a2)
)
SELECT
  "t"."__period" AS "__period",
  CAST("t"."engineer_id" AS TEXT) AS "__subject",
  NULL AS "__a0",
  "__up"."a1" AS "__a1",
  "__up"."a2" AS "__a2",
  GROUPING(CAST("t"."engineer_id" AS TEXT), "__up"."a1", "__up"."a2") AS "__grouping",
  COUNT(*) AS "__rows",
  CAST(SUM(CAST(CAST("t"."scheduled_hours" AS DOUBLE) AS DECIMAL(38, 12))) AS DOUBLE) AS "v:available_hours", /* KPI available_hours (<ws>/kpis.yaml:102) */
  CAST(SUM(
    CAST(COALESCE(CAST("t"."on_site_hours" AS DOUBLE), CAST(0 AS DOUBLE)) + COALESCE(CAST("t"."travel_hours" AS DOUBLE), CAST(0 AS DOUBLE)) + COALESCE(CAST("t"."remote_hours" AS DOUBLE), CAST(0 AS DOUBLE)) AS DECIMAL(38, 12))
  ) AS DOUBLE) AS "v:productive_hours" /* KPI productive_hours (<ws>/kpis.yaml:112) */
FROM (
  SELECT
    *,
    '2026' AS "__period"
  FROM "timesheets"
  WHERE
    "work_date" BETWEEN CAST('2026-01-01' AS DATE) AND CAST('2026-12-31' AS DATE)
) AS "t"
LEFT JOIN "employees" AS "__person"
  ON CAST("t"."engineer_id" AS TEXT) = CAST("__person"."employee_id" AS TEXT)
LEFT JOIN "__units" AS "__up"
  ON "__up"."unit" = CAST("__person"."unit_id" AS TEXT)
GROUP BY
  GROUPING SETS (
    ("t"."__period", CAST("t"."engineer_id" AS TEXT)),
    ("t"."__period", "__up"."a1"),
    ("t"."__period", "__up"."a2"),
    ("t"."__period")
  );

-- derived KPI utilization [<ws>/kpis.yaml:122]: computed after the scans from productive_hours, available_hours

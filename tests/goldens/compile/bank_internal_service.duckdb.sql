-- kpi compile: period 2026 (2026-01-01..2026-12-31), dialect duckdb

-- scan 1: source `company_results`, time `month`, subjects: the organization only
SELECT
  "t"."__period" AS "__period",
  NULL AS "__subject",
  0 AS "__grouping",
  CAST(SUM(CAST(CAST("t"."net_profit" AS DOUBLE) AS DECIMAL(38, 12))) AS DOUBLE) / NULLIF(
    CAST(SUM(CAST(CAST("t"."net_profit_plan" AS DOUBLE) AS DECIMAL(38, 12))) AS DOUBLE),
    0
  ) AS "v:profit_vs_plan", /* KPI profit_vs_plan (<ws>/kpis.yaml:138) */
  COUNT(*) AS "n:profit_vs_plan"
FROM (
  SELECT
    *,
    '2026' AS "__period"
  FROM "company_results"
  WHERE
    "month" BETWEEN CAST('2026-01-01' AS DATE) AND CAST('2026-12-31' AS DATE)
) AS "t"
GROUP BY
  GROUPING SETS (
    ("t"."__period")
  );

-- scan 2: source `survey_answers`, time `answered_on`, subjects: unit from `rated_unit`
WITH "__units" AS (
  SELECT
    *
  FROM (VALUES
    ('')) AS v(unit)
)
SELECT
  "t"."__period" AS "__period",
  NULL AS "__subject",
  0 AS "__grouping",
  (
    AVG(CAST(CAST("t"."score" AS DOUBLE) AS DECIMAL(38, 12))) FILTER(WHERE
      (
        "t"."criterion" IN ('friendliness', 'willingness_to_help', 'respect')
      )
      AND (
        NOT (
          "t"."rater_unit" = "t"."rated_unit"
        )
      )) + AVG(CAST(CAST("t"."score" AS DOUBLE) AS DECIMAL(38, 12))) FILTER(WHERE
      (
        "t"."criterion" IN ('speed', 'quality', 'reliability', 'competence')
      )
      AND (
        NOT (
          "t"."rater_unit" = "t"."rated_unit"
        )
      )) + AVG(CAST(CAST("t"."score" AS DOUBLE) AS DECIMAL(38, 12))) FILTER(WHERE
      (
        "t"."criterion" IN ('clarity', 'availability', 'proactive_information')
      )
      AND (
        NOT (
          "t"."rater_unit" = "t"."rated_unit"
        )
      ))
  ) / CAST(3 AS DOUBLE) AS "v:internal_service_quality", /* KPI internal_service_quality (<ws>/kpis.yaml:37) */
  COUNT(*) FILTER(WHERE
    (
      NOT (
        "t"."rater_unit" = "t"."rated_unit"
      )
    )) AS "n:internal_service_quality",
  COUNT(DISTINCT "t"."respondent") FILTER(WHERE
    (
      NOT (
        "t"."rater_unit" = "t"."rated_unit"
      )
    )) >= CAST(3 AS DOUBLE) AS "ok:internal_service_quality",
  COUNT(DISTINCT "t"."respondent") FILTER(WHERE
    (
      NOT (
        "t"."rater_unit" = "t"."rated_unit"
      )
    )) AS "v:respondents", /* KPI respondents (<ws>/kpis.yaml:63) */
  AVG(CAST(CAST("t"."score" AS DOUBLE) AS DECIMAL(38, 12))) FILTER(WHERE
    (
      "t"."rater_unit" = "t"."rated_unit"
    )) - AVG(CAST(CAST("t"."score" AS DOUBLE) AS DECIMAL(38, 12))) FILTER(WHERE
    NOT (
      "t"."rater_unit" = "t"."rated_unit"
    )) AS "v:self_assessment_gap", /* KPI self_assessment_gap (<ws>/kpis.yaml:52) */
  COUNT(*) AS "n:self_assessment_gap",
  AVG(CAST(CAST("t"."score" AS DOUBLE) AS DECIMAL(38, 12))) FILTER(WHERE
    (
      "t"."criterion" IN ('friendliness', 'willingness_to_help', 'respect')
    )
    AND (
      NOT (
        "t"."rater_unit" = "t"."rated_unit"
      )
    )) AS "v:service_rating.attitude", /* KPI service_rating.attitude (<ws>/kpis.yaml:14) */
  COUNT(*) FILTER(WHERE
    (
      "t"."criterion" IN ('friendliness', 'willingness_to_help', 'respect')
    )
    AND (
      NOT (
        "t"."rater_unit" = "t"."rated_unit"
      )
    )) AS "n:service_rating.attitude",
  COUNT(DISTINCT "t"."respondent") FILTER(WHERE
    (
      "t"."criterion" IN ('friendliness', 'willingness_to_help', 'respect')
    )
    AND (
      NOT (
        "t"."rater_unit" = "t"."rated_unit"
      )
    )) >= CAST(3 AS DOUBLE) AS "ok:service_rating.attitude",
  AVG(CAST(CAST("t"."score" AS DOUBLE) AS DECIMAL(38, 12))) FILTER(WHERE
    (
      "t"."criterion" IN ('clarity', 'availability', 'proactive_information')
    )
    AND (
      NOT (
        "t"."rater_unit" = "t"."rated_unit"
      )
    )) AS "v:service_rating.communication", /* KPI service_rating.communication (<ws>/kpis.yaml:14) */
  COUNT(*) FILTER(WHERE
    (
      "t"."criterion" IN ('clarity', 'availability', 'proactive_information')
    )
    AND (
      NOT (
        "t"."rater_unit" = "t"."rated_unit"
      )
    )) AS "n:service_rating.communication",
  COUNT(DISTINCT "t"."respondent") FILTER(WHERE
    (
      "t"."criterion" IN ('clarity', 'availability', 'proactive_information')
    )
    AND (
      NOT (
        "t"."rater_unit" = "t"."rated_unit"
      )
    )) >= CAST(3 AS DOUBLE) AS "ok:service_rating.communication",
  AVG(CAST(CAST("t"."score" AS DOUBLE) AS DECIMAL(38, 12))) FILTER(WHERE
    (
      "t"."criterion" IN ('speed', 'quality', 'reliability', 'competence')
    )
    AND (
      NOT (
        "t"."rater_unit" = "t"."rated_unit"
      )
    )) AS "v:service_rating.performance", /* KPI service_rating.performance (<ws>/kpis.yaml:14) */
  COUNT(*) FILTER(WHERE
    (
      "t"."criterion" IN ('speed', 'quality', 'reliability', 'competence')
    )
    AND (
      NOT (
        "t"."rater_unit" = "t"."rated_unit"
      )
    )) AS "n:service_rating.performance",
  COUNT(DISTINCT "t"."respondent") FILTER(WHERE
    (
      "t"."criterion" IN ('speed', 'quality', 'reliability', 'competence')
    )
    AND (
      NOT (
        "t"."rater_unit" = "t"."rated_unit"
      )
    )) >= CAST(3 AS DOUBLE) AS "ok:service_rating.performance"
FROM (
  SELECT
    *,
    '2026' AS "__period"
  FROM "survey_answers"
  WHERE
    "answered_on" BETWEEN CAST('2026-01-01' AS DATE) AND CAST('2026-12-31' AS DATE)
) AS "t"
LEFT JOIN "__units" AS "__up"
  ON "__up"."unit" = CAST("t"."rated_unit" AS TEXT)
GROUP BY
  GROUPING SETS (
    ("t"."__period")
  );

-- scan 3: source `unit_results`, time `month`, subjects: unit from `unit_id`
WITH "__units" AS (
  SELECT
    *
  FROM (VALUES
    ('')) AS v(unit)
)
SELECT
  "t"."__period" AS "__period",
  NULL AS "__subject",
  0 AS "__grouping",
  AVG(CAST(CAST("t"."actual" AS DOUBLE) AS DECIMAL(38, 12))) FILTER(WHERE
    (
      "t"."metric" = 'requests_in_sla'
    )) AS "v:internal_requests_in_sla", /* KPI internal_requests_in_sla (<ws>/kpis.yaml:112) */
  COUNT(*) FILTER(WHERE
    (
      "t"."metric" = 'requests_in_sla'
    )) AS "n:internal_requests_in_sla",
  CAST(SUM(CAST(CAST("t"."actual" AS DOUBLE) AS DECIMAL(38, 12))) FILTER(WHERE
    (
      "t"."metric" = 'milestones'
    )) AS DOUBLE) / NULLIF(
    CAST(SUM(CAST(CAST("t"."plan" AS DOUBLE) AS DECIMAL(38, 12))) FILTER(WHERE
      (
        "t"."metric" = 'milestones'
      )) AS DOUBLE),
    0
  ) AS "v:milestones_on_time", /* KPI milestones_on_time (<ws>/kpis.yaml:125) */
  COUNT(*) FILTER(WHERE
    (
      "t"."metric" = 'milestones'
    )) AS "n:milestones_on_time",
  CAST(SUM(CAST(CAST("t"."actual" AS DOUBLE) AS DECIMAL(38, 12))) FILTER(WHERE
    (
      "t"."metric" = 'new_clients'
    )) AS DOUBLE) / NULLIF(
    CAST(SUM(CAST(CAST("t"."plan" AS DOUBLE) AS DECIMAL(38, 12))) FILTER(WHERE
      (
        "t"."metric" = 'new_clients'
      )) AS DOUBLE),
    0
  ) AS "v:new_clients_vs_plan", /* KPI new_clients_vs_plan (<ws>/kpis.yaml:86) */
  COUNT(*) FILTER(WHERE
    (
      "t"."metric" = 'new_clients'
    )) AS "n:new_clients_vs_plan",
  CAST(SUM(CAST(CAST("t"."actual" AS DOUBLE) AS DECIMAL(38, 12))) FILTER(WHERE
    (
      "t"."metric" = 'operating_income'
    )) AS DOUBLE) / NULLIF(
    CAST(SUM(CAST(CAST("t"."plan" AS DOUBLE) AS DECIMAL(38, 12))) FILTER(WHERE
      (
        "t"."metric" = 'operating_income'
      )) AS DOUBLE),
    0
  ) AS "v:operating_income_vs_plan", /* KPI operating_income_vs_plan (<ws>/kpis.yaml:74) */
  COUNT(*) FILTER(WHERE
    (
      "t"."metric" = 'operating_income'
    )) AS "n:operating_income_vs_plan",
  CAST(SUM(CAST(CAST("t"."actual" AS DOUBLE) AS DECIMAL(38, 12))) FILTER(WHERE
    (
      "t"."metric" = 'opex'
    )) AS DOUBLE) / NULLIF(
    CAST(SUM(CAST(CAST("t"."plan" AS DOUBLE) AS DECIMAL(38, 12))) FILTER(WHERE
      (
        "t"."metric" = 'opex'
      )) AS DOUBLE),
    0
  ) AS "v:opex_vs_budget", /* KPI opex_vs_budget (<ws>/kpis.yaml:98) */
  COUNT(*) FILTER(WHERE
    (
      "t"."metric" = 'opex'
    )) AS "n:opex_vs_budget"
FROM (
  SELECT
    *,
    '2026' AS "__period"
  FROM "unit_results"
  WHERE
    "month" BETWEEN CAST('2026-01-01' AS DATE) AND CAST('2026-12-31' AS DATE)
) AS "t"
LEFT JOIN "__units" AS "__up"
  ON "__up"."unit" = CAST("t"."unit_id" AS TEXT)
GROUP BY
  GROUPING SETS (
    ("t"."__period")
  );

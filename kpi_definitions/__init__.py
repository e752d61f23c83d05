"""The KPI library and example organizations; library/ ships in the wheel as `kpi init` templates."""

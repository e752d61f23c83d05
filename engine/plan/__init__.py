"""The planner: which KPIs share a scan of a source, and why others do not (`kpi compile --explain`)."""

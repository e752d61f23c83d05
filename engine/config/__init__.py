"""The static stages: load, shape, model, formulas and rules (see :mod:`kpi_engine.pipeline`)."""

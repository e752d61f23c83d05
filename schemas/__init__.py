"""The JSON Schema of the definitions YAML, shipped as package data (`kpi_engine.schemas`)."""

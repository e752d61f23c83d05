"""Renderers: tables, JSON, CSV, XLSX, statements and catalogs from the engine's results."""

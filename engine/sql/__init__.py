"""Plans and formulas as sqlglot expressions; :mod:`.render` is the one place they become SQL text."""

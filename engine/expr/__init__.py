"""The formula language: grammar, AST, parser, printer, types, the function table and the type checker."""

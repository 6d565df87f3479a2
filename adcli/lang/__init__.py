"""The language: grammar tables, the parser, the graph builder and points."""

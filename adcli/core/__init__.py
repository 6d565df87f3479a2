"""The core data: the table of elementary operations, IEEE helpers and the graph."""

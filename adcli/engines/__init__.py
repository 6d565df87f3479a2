"""Interpreters over the graph: primal, forward and reverse sweeps, and what runs them."""

"""Renderers: tables for people, traces, graph pictures and strict JSON."""

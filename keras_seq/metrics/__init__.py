"""Evaluation figures computed from decoded labels: entity spans and per-class tables."""

"""Text analysis: entities, keywords and an extractive summary.

Deterministic and offline; no model downloads.
"""

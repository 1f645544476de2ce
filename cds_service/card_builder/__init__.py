"""Findings + knowledge texts -> CDS Hooks cards: text, suggestions, links, evidence.

Named so it cannot be confused with the ``cards/`` folder, which holds the clinical knowledge.
"""

"""The clinical knowledge under ``cards/``, loaded and validated once at startup.

Imports neither Flask nor the history builders: the history, rules and card layers import it.
"""

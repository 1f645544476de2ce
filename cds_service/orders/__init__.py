"""Order-time checks (``order-select``, ``order-sign``): docs/clinical/order-checks.md.

The web layer takes the draft orders out of the hook's context (``web/order_context.py``: a 400
naming the field when they are malformed); :mod:`read` reads each order (drug, dose, schedule,
days), :mod:`checks` holds it up against the child's record and the regimens, :mod:`cards` words
one card per order with findings, and :mod:`evaluate` runs them in that order. A correct order
gets no card.
"""

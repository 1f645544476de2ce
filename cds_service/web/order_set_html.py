"""An order set as a readable, self-contained HTML page (no scripts, no external assets).

The pages are Jinja templates (``web/templates/``) with autoescaping on: every text from an
order-set file is HTML-escaped.
"""

from __future__ import annotations

from collections.abc import Iterable

from jinja2 import Environment, PackageLoader, select_autoescape

from cds_service.knowledge.order_sets import OrderSet

SYSTEM_NAMES = {
    "http://loinc.org": "LOINC",
    "http://snomed.info/sct": "SNOMED CT",
    "http://www.nlm.nih.gov/research/umls/rxnorm": "RxNorm",
}
STATUS_WORDS = {
    "verified": "verified",
    "verified-secondary": "verified (secondary source)",
    "candidate": "UNVERIFIED candidate",
}
_TEMPLATES = Environment(
    loader=PackageLoader("cds_service.web", "templates"),
    autoescape=select_autoescape(["html"]),
    trim_blocks=True,
    lstrip_blocks=True,
)


def render_html(order_set: OrderSet, base_url: str = "") -> str:
    """The page for one order set.

    ``base_url`` is the service's public URL (links to the list of order sets start there).
    """
    return _TEMPLATES.get_template("order_set.html").render(
        title=order_set.title,
        order_set=order_set,
        system_names=SYSTEM_NAMES,
        status_words=STATUS_WORDS,
        index_url=_index_url(base_url),
    )


def render_index_html(order_sets: Iterable[OrderSet], base_url: str = "") -> str:
    """A list of links to every order set, absolute under ``base_url``."""
    return _TEMPLATES.get_template("order_sets.html").render(
        title="Order sets", order_sets=list(order_sets), index_url=_index_url(base_url)
    )


def _index_url(base_url: str) -> str:
    return f"{base_url.rstrip('/')}/order-sets"

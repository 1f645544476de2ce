"""An order set as a readable, self-contained HTML page (no scripts, no external assets)."""

from __future__ import annotations

from collections.abc import Iterable
from html import escape

from cds_service.knowledge.order_sets import CodeRef, OrderItem, OrderSet

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
STYLE = """
body{font-family:system-ui,-apple-system,"Segoe UI",sans-serif;max-width:60rem;margin:2rem auto;
padding:0 1rem;color:#1b1b1b;line-height:1.45}
h1{font-size:1.6rem;margin-bottom:.25rem}
.lead{color:#444}
table{border-collapse:collapse;width:100%;margin:1rem 0}
th,td{border:1px solid #ccc;padding:.45rem .6rem;text-align:left;vertical-align:top}
th{background:#f1f4f8}
code{font-size:.95em}
.candidate{color:#8a1c1c;font-weight:600}
.byname{color:#555;font-style:italic}
footer{margin-top:2rem;font-size:.9rem;color:#555}
"""


def render_html(order_set: OrderSet, base_url: str = "") -> str:
    """The page for one order set; every text from the file is HTML-escaped.

    ``base_url`` is the service's public URL (links to the list of order sets start there).
    """
    rows = "\n".join(_row(item) for item in order_set.items)
    sources = "\n".join(
        f"<li><strong>{escape(c.key)}</strong>: {_linked(c.label, c.url)}</li>"
        for c in order_set.citations
    )
    body = f"""<h1>{escape(order_set.title)}</h1>
<p class="lead">{escape(order_set.description)}</p>
<h2>Purpose</h2>
<p>{escape(order_set.purpose)}</p>
<h2>Orders</h2>
<table>
<thead><tr><th>Order</th><th>Kind</th><th>Code</th><th>Note</th></tr></thead>
<tbody>
{rows}
</tbody>
</table>
<h2>Sources</h2>
<ul>
{sources}
</ul>
<p><a href="?_format=json">This order set as FHIR JSON (PlanDefinition)</a> ·
<a href="{escape(_index_url(base_url), quote=True)}">All order sets</a></p>"""
    return _page(order_set.title, body)


def render_index_html(order_sets: Iterable[OrderSet], base_url: str = "") -> str:
    """A list of links to every order set, absolute under ``base_url``."""
    index = _index_url(base_url)
    items = "\n".join(
        f'<li><a href="{escape(f"{index}/{o.id}", quote=True)}">{escape(o.title)}</a>: '
        f"{escape(o.description)}</li>"
        for o in order_sets
    )
    return _page("Order sets", f"<h1>Order sets</h1>\n<ul>\n{items}\n</ul>")


def _index_url(base_url: str) -> str:
    return f"{base_url.rstrip('/')}/order-sets"


def _page(title: str, body: str) -> str:
    return f"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{escape(title)} · jdm-cds</title>
<style>{STYLE}</style>
</head>
<body>
<main>
{body}
</main>
<footer>Decision support from jdm-cds: review every order before signing. Codes marked
UNVERIFIED are candidates to confirm before go-live.</footer>
</body>
</html>
"""


def _row(item: OrderItem) -> str:
    codes = "<br>".join(_code(code) for code in item.codes) or (
        '<span class="byname">ordered by name</span>'
    )
    kind = "Medication" if item.kind == "MedicationRequest" else "Service"
    return (
        f"<tr><td>{escape(item.title)}</td><td>{kind}</td><td>{codes}</td>"
        f"<td>{escape(item.description)}</td></tr>"
    )


def _code(code: CodeRef) -> str:
    system = SYSTEM_NAMES.get(code.system, code.system)
    status = STATUS_WORDS.get(code.status, code.status)
    css = ' class="candidate"' if not code.verified else ""
    return (
        f"{escape(system)} <code>{escape(code.code)}</code> {escape(code.display)} "
        f"<span{css}>({escape(status)})</span>"
    )


def _linked(label: str, url: str | None) -> str:
    if url and url.startswith(("https://", "http://")):
        return f'<a href="{escape(url, quote=True)}">{escape(label)}</a>'
    return escape(label)

"""Safe Markdown for card details: record-derived text is escaped, never interpreted.

A Condition's display or a unit string comes from the EHR; rendered unescaped it could inject
links, emphasis or HTML into a card a clinician trusts.

>>> md_escape("<b>*bold*</b> [link](x)")
'&lt;b&gt;\\\\*bold\\\\*&lt;/b&gt; \\\\[link\\\\](x)'
"""

from __future__ import annotations

_MARKDOWN_SPECIALS = "\\`*_{}[]#|~!"


def md_escape(text: str) -> str:
    text = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    text = "".join(f"\\{char}" if char in _MARKDOWN_SPECIALS else char for char in text)
    # no line breaks (one value never starts a new block); a space that joins it to the text
    # around it is kept
    collapsed = " ".join(text.split())
    lead = " " if text[:1].isspace() and collapsed else ""
    trail = " " if text[-1:].isspace() and collapsed else ""
    return lead + collapsed + trail

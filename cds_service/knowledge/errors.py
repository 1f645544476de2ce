"""The one error of the knowledge layer: a file under ``cards/`` that the service cannot honour."""

from __future__ import annotations


class KnowledgeError(ValueError):
    """A knowledge file is missing or invalid; the message names the file and the field.

    Every message has the form ``<path>: field <a.b.0>: <what is wrong>`` (see
    :func:`cds_service.knowledge.files.field_error`), so a pharmacist editing ``cards/`` is told
    exactly where to look.
    """

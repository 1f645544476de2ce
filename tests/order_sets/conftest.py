from __future__ import annotations

from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from cds_service.app import create_app


@pytest.fixture(scope="module")
def order_app(tmp_path_factory: pytest.TempPathFactory) -> Flask:
    """One app per module: these tests only read the (immutable) order sets."""
    store = tmp_path_factory.mktemp("order-sets-store") / "jdm-cds.sqlite3"
    settings: dict[str, Any] = {"database_url": f"sqlite:///{store}"}
    return create_app(settings)


@pytest.fixture
def order_client(order_app: Flask) -> FlaskClient:
    return order_app.test_client()

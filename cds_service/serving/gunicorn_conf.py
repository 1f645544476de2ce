"""gunicorn configuration: ``gunicorn -c cds_service/serving/gunicorn_conf.py``.

Used by ``make run`` and ``jdm-cds serve``.

Bind address, workers and threads come from the same ``CDS_*`` settings as the app. The app is
loaded once in the master (``preload_app``), so an invalid knowledge base or setting stops the
server at startup with its message instead of crash-looping workers.

In production gunicorn sits behind nginx (deploy/nginx/, docs/deploy.md), which reads requests in
full before they reach a worker thread. Its own limits here are set so that what nginx lets
through, gunicorn takes; what gunicorn still refuses is answered as JSON
(:mod:`cds_service.serving.worker`). Workers are replaced after ``worker_max_requests`` (with
jitter) and when a request leaves one above ``worker_max_rss_mb`` (:mod:`~.recycle`).
"""

from __future__ import annotations

import gc
import multiprocessing
import os
import sys
import tempfile
from typing import Any

from cds_service.config import Settings
from cds_service.serving.recycle import over_ceiling, resident_bytes
from cds_service.web.logging_setup import gunicorn_logconfig_dict

_settings = Settings.from_env(os.environ)

# Prometheus multiprocess mode (cds_service/web/metrics.py): every worker writes its samples
# to files in this folder and /metrics adds them up. It must be set before the app (and so
# prometheus_client) is loaded, which is why it is here. A fresh folder per server start, so
# counters from a previous run never leak in.
METRICS_ENV = "PROMETHEUS_MULTIPROC_DIR"
if not os.environ.get(METRICS_ENV):
    os.environ[METRICS_ENV] = tempfile.mkdtemp(prefix="jdm-cds-metrics-")

MAX_DEFAULT_WORKERS = 5


def _bind_address(host: str, port: int) -> str:
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


def default_workers(cores: int) -> int:
    """2 x cores + 1, at most 5: the service waits on FHIR I/O, threads do the rest."""
    return min(2 * cores + 1, MAX_DEFAULT_WORKERS)


wsgi_app = "cds_service.serving.wsgi:app"
bind = [_bind_address(_settings.host, _settings.port)]
workers = _settings.workers or default_workers(multiprocessing.cpu_count())
threads = _settings.threads
# gthread, with gunicorn's own error pages answered as JSON OperationOutcomes
worker_class = "cds_service.serving.worker.JsonErrorWorker"
preload_app = True
# A hook call is bounded by request_deadline_s inside the app. (With threads, this timeout only
# catches a worker whose main loop is stuck: a busy request thread does not stop its heartbeat.)
timeout = max(30, int(_settings.request_deadline_s * 3))
max_requests = _settings.worker_max_requests
max_requests_jitter = _settings.worker_max_requests_jitter
# Request line: gunicorn's own maximum. Header fields: room for the CDS Hooks JWT (the app takes
# up to 16 KiB) and as long as nginx's large_client_header_buffers (32k), so nginx and gunicorn
# agree; more than 100 header fields is no client this service has.
limit_request_line = 8190
limit_request_field_size = 32768
limit_request_fields = 100
# No header may set the WSGI SCRIPT_NAME or PATH_INFO, whoever sends it (gunicorn trusts these
# from loopback addresses by default, and answers a SCRIPT_NAME that does not fit with a 500).
forwarder_headers = ""
graceful_timeout = 20
keepalive = 5
# gunicorn's access log prints raw paths and query strings; the app writes its own PHI-free line
accesslog = None
loglevel = _settings.log_level.lower()
# gunicorn's own log lines go through the same PHI-free JSON formatter as the app's
logconfig_dict = gunicorn_logconfig_dict(_settings.log_level)
# gunicorn >= 25.1 opens a control socket at one fixed path per user; two instances (replicas,
# tests, make run next to serve) would fight over it, and nothing here uses it
control_socket_disable = True


def when_ready(server: Any) -> None:
    local = f"http://{_bind_address(_settings.host, _settings.port)}/cds-services"
    public = f"{_settings.public_base_url.rstrip('/')}/cds-services"
    shown = local if public == local else f"{local} (public URL: {public})"
    sys.stdout.write(f"jdm-cds is up. Discovery: {shown}\n")
    sys.stdout.flush()


_warmed_up: list[bool] = []


def pre_fork(server: Any, worker: Any) -> None:
    if not _warmed_up:  # once, in the master: workers are forked from a warm process
        _warmed_up.append(True)
        _warm_up()
    # Everything loaded so far (knowledge, models, modules: ~150,000 objects) lives as long as
    # the server: move it out of the collector's reach, so a full collection in a worker (which
    # otherwise walks all of it, 50-500 ms, in the middle of a request) sees only request
    # garbage. Also keeps those pages shared between workers (copy-on-write).
    gc.freeze()


def post_fork(server: Any, worker: Any) -> None:
    # Database connections opened in the master must not be shared with forked workers.
    from cds_service.serving.wsgi import app
    from cds_service.web.state import state

    state(app).store.engine.dispose(close=False)


def post_request(worker: Any, req: Any, environ: Any, resp: Any) -> None:
    # The call that made this worker large is answered; now let a fresh worker take over.
    if worker.alive and over_ceiling(resident_bytes(), _settings.worker_max_rss_mb):
        worker.log.warning(
            "worker above CDS_WORKER_MAX_RSS_MB (%s MiB) after a request; replacing it",
            _settings.worker_max_rss_mb,
        )
        worker.alive = False


def child_exit(server: Any, worker: Any) -> None:
    from cds_service.web.metrics import mark_worker_dead

    mark_worker_dead(worker.pid)


def _warm_up() -> None:
    from cds_service.serving.warmup import warm_up
    from cds_service.serving.wsgi import app

    try:
        warm_up(app)
    except Exception as failed:  # serve anyway: requests will show the fault with its status
        sys.stderr.write(f"jdm-cds: warm-up failed ({type(failed).__name__}); serving cold\n")

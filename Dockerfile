# jdm-cds: the CDS Hooks service, served by gunicorn (cds_service/serving/gunicorn_conf.py).
# Build: docker build -t jdm-cds:local .     Run: see docker-compose.yml and docs/deploy.md
FROM python:3.11-slim
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    CDS_HOST=0.0.0.0 \
    CDS_PORT=8080 \
    CDS_KNOWLEDGE_DIR=/app/cards \
    CDS_DATABASE_URL=sqlite:////app/var/jdm-cds.sqlite3 \
    JDM_CDS_FIXTURES_DIR=/app/fhir_fixtures/patients
RUN useradd --system --uid 10001 --user-group --home-dir /app --shell /usr/sbin/nologin jdmcds
WORKDIR /app
COPY pyproject.toml README.md ./
COPY cds_service ./cds_service
# knowledge (validated at startup) and the synthetic patients the compose loader posts to HAPI
COPY cards ./cards
COPY fhir_fixtures ./fhir_fixtures
# Installed in place (editable), as in a checkout: parts of the code find cards/ (schemas,
# history policy) next to the package, which a copy into site-packages would lose.
# /app/var: the SQLite store when no PostgreSQL is configured; /demo-issuer: the compose
# stack's demo JWT issuer (a named volume takes this folder's owner).
RUN pip install --no-cache-dir -e . \
    && mkdir -p /app/var /demo-issuer \
    && chown jdmcds:jdmcds /app/var /demo-issuer
USER jdmcds
EXPOSE 8080
HEALTHCHECK --interval=15s --timeout=3s --start-period=30s --retries=3 \
    CMD python -c "import os, urllib.request; urllib.request.urlopen('http://127.0.0.1:%s/healthz' % os.environ.get('CDS_PORT', '8080'), timeout=2)"
CMD ["jdm-cds", "serve"]

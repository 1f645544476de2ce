"""Everything Flask: hook endpoints, request bodies, health, metrics, audit, auth, OpenAPI,
order-set pages and error handlers."""

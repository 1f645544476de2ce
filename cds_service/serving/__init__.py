"""Running the service: gunicorn configuration, the WSGI entry point, the warm-up call."""

"""jdm-cds: a CDS Hooks 2.0 service for refractory juvenile dermatomyositis.

The app is built by :func:`cds_service.app.create_app`. Packages are layers; data flows down
the list, and an import never runs back up (``make lint`` checks it with import-linter)::

    commands/      the ``jdm-cds`` command line
    serving/       gunicorn config, WSGI entry, warm-up
    app.py         create_app: settings, knowledge, store, registry, blueprints
    web/           everything Flask: hook endpoints, request body, health, metrics, audit,
                   auth/, openapi/, order-set pages, error handlers
    gather/        service registry, prefetch ladder, FHIR client
    pipeline.py    one hook call: raw FHIR -> history -> findings -> cards
    card_builder/  findings + knowledge texts -> CDS Hooks cards
    rules/         one module per clinical question; pure functions of (context, knowledge, now)
    dosing/        dose arithmetic (Decimal)
    history/       FHIR reading (parse, select, validate) and the therapy-history model
    knowledge/     loaders for cards/: terminology, concepts, policies, order sets, texts
    store/         the database: issued cards, feedback, JWT replay
    config.py, errors.py   settings and the exception tree
"""

"""A Flask app answering every POST with the same TwiML: the yardstick for the load benchmark.

Served by benchmarks/load_webhooks.py with the Procfile's gunicorn options, it shows what the
machine, gunicorn and Flask cost on their own. Usage: gunicorn 'benchmarks.fixed_twiml:wsgi()'
"""

from __future__ import annotations

from flask import Flask, Response

TWIML = (
    '<?xml version="1.0" encoding="UTF-8"?><Response><Say voice="Polly.Amy">Please hold.</Say>'
    '<Dial timeout="20"><Number>+447700900001</Number></Dial></Response>'
)


def wsgi() -> Flask:
    """The fixed-TwiML app, for gunicorn."""
    app = Flask(__name__)

    @app.post("/voice/<path:step>")
    def fixed(step: str) -> Response:
        return Response(TWIML, mimetype="text/xml")

    return app

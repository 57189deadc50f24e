"""Is this request from Twilio? The X-Twilio-Signature check, against the public URL."""

from __future__ import annotations

import hmac
from urllib.parse import urlparse

from flask import Request
from twilio.request_validator import (
    HMAC_SHA1,
    HMAC_SHA256,
    SIGNATURE_SETTINGS_HEADER,
    RequestValidator,
    get_signature_algorithm,
    remove_port,
)

from helpline.settings import Settings


def public_url(settings: Settings, request: Request) -> str:
    """The URL Twilio requested, as it signed it: the public base URL, path and raw query."""
    base = settings.public_base_url or request.host_url.rstrip("/")
    url = base + request.path
    if request.query_string:
        url += "?" + request.query_string.decode("ascii", "replace")
    return url


def is_from_twilio(settings: Settings, request: Request) -> bool:
    """Whether the request carries a valid signature; always False without a key to check it."""
    signature = request.headers.get("X-Twilio-Signature", "")
    if not signature:
        return False
    algorithm = get_signature_algorithm(request.headers.get(SIGNATURE_SETTINGS_HEADER))
    key = (
        settings.twilio_auth_token if algorithm == HMAC_SHA1 else settings.twilio_webhook_shared_key
    )
    if not key:
        return False
    validator = RequestValidator(key)
    url = public_url(settings, request)
    if algorithm in (HMAC_SHA1, HMAC_SHA256):
        # The usual case first, with one HMAC: the URL as Twilio's full check signs it first
        # (without a port). Only a request that fails it goes on to that check, which signs
        # the URL both without and with a port.
        first = remove_port(urlparse(url))
        expected = validator.compute_signature(first, request.form, algorithm=algorithm)
        if hmac.compare_digest(expected.encode(), signature.encode("utf-8", "replace")):
            return True
    return bool(validator.validate(url, request.form, signature, algorithm=algorithm))

import time

from django.conf import settings
from django.contrib.auth import logout


class IdleTimeoutMiddleware:
    """Log a session out after settings.SESSION_IDLE_TIMEOUT seconds without a request."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        session = request.session
        now = int(time.time())
        last = session.get("last_seen")
        if last is not None and now - last > settings.SESSION_IDLE_TIMEOUT and "_auth_user_id" in session:
            logout(request)
            session = request.session
        # Write at most once a minute so each request does not rewrite the session row.
        # Only logged-in sessions: an anonymous or API request must not create a session row.
        # A page refreshing itself (htmx polling sends X-Linli-Poll) is not the user being active.
        polling = request.headers.get("X-Linli-Poll") == "1"
        if "_auth_user_id" in session and not polling and (last is None or now - last >= 60):
            session["last_seen"] = now
        return self.get_response(request)


class ChineseFirstMiddleware:
    """Simplified Chinese unless the user chose another language (the language cookie).

    Django's LocaleMiddleware would otherwise follow the browser's Accept-Language, and an
    English-language phone would get English by default; the product is Chinese first.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        request.META.pop("HTTP_ACCEPT_LANGUAGE", None)
        return self.get_response(request)

"""Nothing the app serves is kept by a browser or proxy: pages and files hold patient data.
A file deleted at the end of the retention period is answered with 410 Gone, saying so."""

from __future__ import annotations

from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.cache import add_never_cache_headers


class NoStore:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if not request.path.startswith("/static/"):
            add_never_cache_headers(response)  # Cache-Control: no-store, ...
        return response


class Gone:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        from .views import Purged

        if not isinstance(exception, Purged):
            return None
        context = {"when": exception.args[0], "days": settings.RETENTION_DAYS}
        return render(request, "web/410.html", context, status=410)

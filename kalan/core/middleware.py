"""A busy SQLite database is a reason to retry, not a server error."""

from collections.abc import Callable

from django.db import OperationalError
from django.http import HttpRequest, HttpResponse
from django.utils.translation import gettext as _


def is_database_busy(error: BaseException) -> bool:
    text = str(error).lower()
    return "database is locked" in text or "database is busy" in text


class DatabaseBusyMiddleware:
    """Answer 503 with Retry-After when SQLite stays locked past its timeout."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        if isinstance(exception, OperationalError) and is_database_busy(exception):
            response = HttpResponse(
                _("The school server is busy. Please try again in a moment."),
                status=503,
                content_type="text/plain; charset=utf-8",
            )
            response["Retry-After"] = "2"
            return response
        return None

"""Uploads that go straight to disk and stop at a size limit (the page builder's files).

Django keeps small uploads in memory and writes big ones to a temporary file;
here every upload is written to a temporary file, so the inspectors always get
a path, and a file past the limit is dropped while it arrives: its temporary
file is deleted and the rest of it is read and thrown away, never kept.
The handlers must be set before anything reads the request's body, so a view
using them is csrf_exempt and runs the CSRF check itself afterwards.
"""

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from django.core.files.uploadedfile import UploadedFile
from django.core.files.uploadhandler import (
    FileUploadHandler,
    SkipFile,
    TemporaryFileUploadHandler,
)
from django.http import HttpRequest
from django.utils.translation import gettext as _

from kalan.core.errors import ValidationFailed

# Room for the form's other fields and the multipart boundaries.
BODY_SLACK = 1024 * 1024


class SizeLimit(FileUploadHandler):
    """Drops an uploaded file past `limit` bytes; `refused` tells the view it happened."""

    def __init__(self, request: HttpRequest, limit: int) -> None:
        super().__init__(request)
        self.limit = limit
        self.refused = False
        self.received = 0
        self.body_too_large = False

    def handle_raw_input(
        self,
        input_data: Any,
        META: dict[str, Any],  # noqa: N803 - Django's name for it
        content_length: int,
        boundary: Any,
        encoding: str | None = None,
    ) -> None:
        # A request that announces more than the limit: its file is not even written.
        self.body_too_large = content_length > self.limit + BODY_SLACK

    def new_file(self, *args: Any, **kwargs: Any) -> None:
        super().new_file(*args, **kwargs)
        self.received = 0
        if self.body_too_large:
            self.refused = True
            raise SkipFile

    def receive_data_chunk(self, raw_data: bytes, start: int) -> bytes:
        self.received += len(raw_data)
        if self.received > self.limit:
            self.refused = True
            raise SkipFile
        return raw_data

    def file_complete(self, file_size: int) -> None:
        return None


def stream_to_disk(request: HttpRequest, limit: int) -> SizeLimit:
    """Uploads of this request go to temporary files and stop at `limit` bytes."""
    handler = SizeLimit(request, limit)
    request.upload_handlers = [handler, TemporaryFileUploadHandler(request)]
    return handler


@contextmanager
def upload_path(upload: UploadedFile) -> Iterator[Path]:
    """The path of the upload's temporary file, removed when the block ends.

    Raises ValidationFailed for an upload kept in memory (handlers set elsewhere).
    """
    try:
        temporary = getattr(upload, "temporary_file_path", None)
        if temporary is None:
            raise ValidationFailed(_("The upload could not be stored; try again."))
        yield Path(temporary())
    finally:
        upload.close()

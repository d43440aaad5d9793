"""The kinds of node a channel holds, and what each needs to be played."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class Kind(models.TextChoices):
    TOPIC = "topic", _("Topic")
    VIDEO = "video", _("Video")
    AUDIO = "audio", _("Audio")
    DOCUMENT = "document", _("PDF document")
    EPUB = "epub", _("Book (EPUB)")
    HTML5 = "html5", _("Interactive app")
    H5P = "h5p", _("H5P activity")
    SCORM = "scorm", _("SCORM course")
    CMI5 = "cmi5", _("cmi5 course")
    ZIM = "zim", _("Kiwix archive")
    EXERCISE = "exercise", _("Exercise")


RESOURCE_KINDS = frozenset(Kind.values) - {Kind.TOPIC}
# Kinds whose main file is a zip archive served member by member to a sandboxed frame.
ZIP_KINDS = frozenset({Kind.HTML5, Kind.H5P, Kind.SCORM, Kind.CMI5})


class FileRole(models.TextChoices):
    MAIN = "main", _("Main file")
    CAPTION = "caption", _("Captions")
    THUMBNAIL = "thumbnail", _("Thumbnail")
    SUPPLEMENTARY = "supplementary", _("Supplementary file")


class Accessibility(models.TextChoices):
    CAPTIONS = "captions", _("Captions")
    AUDIO_DESCRIPTION = "audio_description", _("Audio description")
    SCREEN_READER = "screen_reader", _("Screen-reader friendly")
    TRANSCRIPT = "transcript", _("Transcript")

"""Who may see which channel: the one choke point for the library's pages.

Every active, signed-in person of the instance sees every installed channel
(the library is the school's shared shelf); anyone else sees nothing, and the
pages send them to sign in. A channel or node the caller may not see is
reported as not found, like the schools' things.
"""

import uuid

from django.contrib.auth.models import AnonymousUser
from django.db.models import QuerySet

from kalan.accounts.models import User
from kalan.content.models import Channel, ContentNode
from kalan.core.errors import NotFound


def _may_read_library(user: User | AnonymousUser) -> bool:
    return bool(user.is_authenticated and user.is_active)


def visible_channels(user: User | AnonymousUser) -> QuerySet[Channel]:
    if not _may_read_library(user):
        return Channel.objects.none()
    return Channel.objects.all()


def visible_nodes(user: User | AnonymousUser) -> QuerySet[ContentNode]:
    if not _may_read_library(user):
        return ContentNode.objects.none()
    return ContentNode.objects.all()


def access_channel_by_id(user: User | AnonymousUser, channel_id: uuid.UUID) -> Channel:
    """The channel, if the caller may see it. Raises NotFound otherwise."""
    try:
        return visible_channels(user).get(id=channel_id)
    except Channel.DoesNotExist as error:
        raise NotFound(f"channel {channel_id} is not in the library") from error


def access_node_by_id(user: User | AnonymousUser, node_id: uuid.UUID) -> ContentNode:
    """The topic or resource (with its channel), if the caller may see it. Raises NotFound."""
    try:
        return visible_nodes(user).select_related("channel").get(id=node_id)
    except ContentNode.DoesNotExist as error:
        raise NotFound(f"library item {node_id} is not in the library") from error

"""Reading progress: a learner's recent resources, and roll-ups of topics and channels."""

import uuid
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from django.db.models import Count, Q, Sum
from django.urls import reverse

from kalan.content.kinds import Kind
from kalan.content.models import ContentNode
from kalan.progress.models import ResourceProgress, Status

RECENT = 6


@dataclass(frozen=True)
class RecentResource:
    node_id: uuid.UUID
    title: str
    kind: str
    channel_title: str
    status: int
    percent: int
    url: str  # the player, at the resume point when there is one

    @property
    def done(self) -> bool:
        return self.status >= Status.COMPLETED


def _resume_url(node_id: uuid.UUID, resume: dict[str, Any]) -> str:
    url = reverse("players:play", args=[node_id])
    time = resume.get("time")
    if isinstance(time, int | float) and time > 0:
        return f"{url}?t={int(time)}"
    location = resume.get("location")
    if isinstance(location, str) and location.startswith("page="):
        page = location.removeprefix("page=")
        if page.isdigit():
            return f"{url}?page={page}"
    if isinstance(location, str) and location.startswith("epubcfi("):
        return f"{url}?{urlencode({'cfi': location})}"
    return url


def recent_resources(user_id: uuid.UUID, *, limit: int = 2 * RECENT) -> list[RecentResource]:
    """The learner's latest resources that are still installed, latest first (two queries)."""
    progress = list(
        ResourceProgress.objects.filter(user_id=user_id, status__gte=Status.IN_PROGRESS)
        .order_by("-last_at")
        .values("node_id", "status", "progress", "resume")[: limit * 2]
    )
    if not progress:
        return []
    nodes = {
        node["id"]: node
        for node in ContentNode.objects.filter(id__in=[row["node_id"] for row in progress]).values(
            "id", "title", "kind", "channel__title"
        )
    }
    found = []
    for row in progress:
        node = nodes.get(row["node_id"])
        if node is None:
            continue
        found.append(
            RecentResource(
                node_id=row["node_id"],
                title=node["title"],
                kind=node["kind"],
                channel_title=node["channel__title"],
                status=row["status"],
                percent=round(row["progress"] * 100),
                url=_resume_url(row["node_id"], row["resume"]),
            )
        )
    return found[:limit]


@dataclass(frozen=True)
class RollUp:
    resources: int
    started: int
    completed: int
    time_spent_ms: int

    @property
    def percent_completed(self) -> int:
        return round(100 * self.completed / self.resources) if self.resources else 0


def _roll_up(user_id: uuid.UUID, nodes: Any) -> RollUp:
    resource_ids = nodes.exclude(kind=Kind.TOPIC).values("id")
    totals = ResourceProgress.objects.filter(user_id=user_id, node_id__in=resource_ids).aggregate(
        started=Count("id"),
        completed=Count("id", filter=Q(status__gte=Status.COMPLETED)),
        time=Sum("time_spent_ms"),
    )
    return RollUp(
        resources=nodes.exclude(kind=Kind.TOPIC).count(),
        started=totals["started"],
        completed=totals["completed"],
        time_spent_ms=totals["time"] or 0,
    )


def topic_roll_up(user_id: uuid.UUID, topic: ContentNode) -> RollUp:
    """A learner's progress over every resource under a topic (its whole subtree)."""
    nodes = ContentNode.objects.filter(
        channel_id=topic.channel_id, path__startswith=f"{topic.path}."
    )
    return _roll_up(user_id, nodes)


def channel_roll_up(user_id: uuid.UUID, channel_id: uuid.UUID) -> RollUp:
    return _roll_up(user_id, ContentNode.objects.filter(channel_id=channel_id))


def learner_panel(user: Any) -> dict[str, Any] | None:
    """The learner home's "continue" section; None when the learner has done nothing yet."""
    recent = recent_resources(user.id)
    if not recent:
        return None
    unfinished = [item for item in recent if not item.done][:RECENT]
    finished = [item for item in recent if item.done][:3]
    return {"unfinished": unfinished, "finished": finished}

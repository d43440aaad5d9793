"""Who may author local channels in the page builder, and which drafts they reach.

Superusers author for every school; a school's admins and teachers for that
school. Learners, parents and area viewers never reach the builder. A draft (or
a node of one) outside the caller's schools is reported as not found, so ids do
not leak.
"""

import uuid

from django.db.models import QuerySet

from kalan.accounts.models import User
from kalan.content.models import Draft, DraftNode
from kalan.core.errors import NotFound
from kalan.schools.models import School
from kalan.schools.roles import roles_of


def authoring_school_ids(user: User) -> frozenset[uuid.UUID] | None:
    """The schools `user` authors for; None means every school (a superuser)."""
    roles = roles_of(user)
    if roles.superuser:
        return None
    return roles.admin_of | roles.teacher_of


def can_author(user: User) -> bool:
    school_ids = authoring_school_ids(user)
    return school_ids is None or bool(school_ids)


def authoring_schools(user: User) -> QuerySet[School]:
    """The open schools `user` may start a draft for, by name."""
    schools = School.objects.filter(status=School.Status.OPEN).order_by("name")
    school_ids = authoring_school_ids(user)
    return schools if school_ids is None else schools.filter(id__in=school_ids)


def visible_drafts(user: User) -> QuerySet[Draft]:
    school_ids = authoring_school_ids(user)
    if school_ids is None:
        return Draft.objects.all()
    return Draft.objects.filter(school_id__in=school_ids)


def access_draft_by_id(user: User, draft_id: uuid.UUID) -> Draft:
    """The draft, if `user` may author it. Raises NotFound otherwise (or when absent)."""
    draft = visible_drafts(user).filter(id=draft_id).first()
    if draft is None:
        raise NotFound("draft")
    return draft


def access_draft_node_by_id(user: User, draft_id: uuid.UUID, node_id: uuid.UUID) -> DraftNode:
    """A topic or resource of the draft, if `user` may author it. Raises NotFound otherwise."""
    node = DraftNode.objects.filter(
        id=node_id, draft_id=draft_id, draft__in=visible_drafts(user)
    ).first()
    if node is None:
        raise NotFound("draft node")
    return node

"""Setting up an instance for a school, without questions (`kalan setup`)."""

import re
import unicodedata

from django.db import transaction

from kalan.accounts import services as accounts
from kalan.accounts.models import User, normalize_username
from kalan.schools import services
from kalan.schools.models import School, SchoolRole


def code_from_name(name: str) -> str:
    ascii_name = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
    return re.sub(r"[^A-Z0-9]+", "-", ascii_name.upper()).strip("-")[:50] or "SCHOOL"


@transaction.atomic
def provision_school(
    *, school_name: str, school_code: str, admin_username: str, admin_password: str
) -> tuple[School, User]:
    """The school (found by code, else created) and its admin, whose password is set.

    Safe to run again: an existing school and admin are kept, the password updated.
    """
    code = school_code.strip() or code_from_name(school_name)
    school = School.objects.filter(code=code).first() or services.create_school(
        name=school_name, code=code
    )
    admin = User.objects.filter(
        school_id=school.id, username=normalize_username(admin_username)
    ).first()
    if admin is None:
        admin = accounts.create_user(
            username=admin_username,
            full_name=admin_username,
            school_id=school.id,
            password=admin_password,
        )
    elif not admin.check_password(admin_password):
        accounts.update_user(user=admin, password=admin_password)
    services.grant_role(school=school, user=admin, kind=SchoolRole.Kind.ADMIN)
    return school, admin

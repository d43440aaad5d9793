"""Sign-in through the page: passwords, throttling, languages, deactivation.

A cross-app flow: the sign-in form lists the schools of the schools app.
"""

import uuid

import pytest
from django.test import Client, override_settings
from django.urls import reverse

from kalan.accounts import services
from kalan.accounts.models import SignInFailures, User
from kalan.schools import services as schools

pytestmark = pytest.mark.django_db
SIGN_IN = "/signin/"


def make_school_user(username, *, password=None, language=""):
    """A person of a new school of their own."""
    code = f"S-{uuid.uuid4().hex[:8]}"
    school = schools.create_school(name=f"School {code}", code=code)
    return services.create_user(
        username=username,
        full_name=username.title(),
        school_id=school.id,
        password=password,
        language=language,
    )


def post_sign_in(client, username, password, school=""):
    return client.post(SIGN_IN, {"username": username, "password": password, "school": school})


def test_sign_in_page_renders_with_language_picker(client):
    response = client.get(SIGN_IN)
    assert response.status_code == 200
    html = response.content.decode()
    assert 'name="language" value="bm"' in html
    assert ">Bamanankan</button>" in html
    assert 'href="#main"' in html


def test_password_sign_in_opens_a_session_and_uses_the_stored_language(client):
    user = make_school_user("amina", password="a-good-passphrase", language="fr")
    response = post_sign_in(client, "Amina", "a-good-passphrase", str(user.school_id))
    assert response.status_code == 302
    assert client.session["_auth_user_id"] == str(user.id)
    assert response.cookies["kalan_language"].value == "fr"
    page = client.get("/learn/")
    assert page["Content-Language"] == "fr"


def test_same_username_in_two_schools_signs_in_the_right_person(client):
    first = make_school_user("moussa", password="first-school-pass")
    second = make_school_user("moussa", password="second-school-pass")
    assert first.school_id != second.school_id
    post_sign_in(client, "moussa", "second-school-pass", str(second.school_id))
    assert client.session["_auth_user_id"] == str(second.id)


def test_wrong_password_is_refused_with_an_error_tied_to_the_form(client):
    make_school_user("awa", password="right-passphrase")
    response = post_sign_in(client, "awa", "wrong")
    assert response.status_code == 400
    assert "_auth_user_id" not in client.session
    assert 'role="alert"' in response.content.decode()


@override_settings(KALAN_SIGNIN_MAX_FAILURES=3)
def test_repeated_failures_lock_the_account_even_for_the_right_password(client):
    user = make_school_user("seydou", password="right-passphrase")
    for _ in range(3):
        post_sign_in(client, "seydou", "nope", str(user.school_id))
    response = post_sign_in(client, "seydou", "right-passphrase", str(user.school_id))
    assert response.status_code == 400
    assert "Too many failed attempts" in response.content.decode()
    assert "_auth_user_id" not in client.session
    SignInFailures.objects.all().delete()  # the window passes
    assert (
        post_sign_in(client, "seydou", "right-passphrase", str(user.school_id)).status_code == 302
    )


def test_a_success_clears_the_failures_of_the_account(client):
    user = make_school_user("kadi", password="right-passphrase")
    post_sign_in(client, "kadi", "nope", str(user.school_id))
    post_sign_in(client, "kadi", "right-passphrase", str(user.school_id))
    assert not SignInFailures.objects.filter(key__startswith="user:").exists()


def test_deactivated_person_cannot_sign_in_and_is_signed_out(client):
    user = make_school_user("ibrahim", password="right-passphrase")
    post_sign_in(client, "ibrahim", "right-passphrase", str(user.school_id))
    services.deactivate_user(user=user)
    assert client.get("/learn/").status_code == 302  # back to sign-in
    assert post_sign_in(client, "ibrahim", "right-passphrase").status_code == 400
    assert User.objects.filter(id=user.id, is_active=False).exists()


def test_next_parameter_only_goes_to_this_site(client):
    user = make_school_user("nilu", password="right-passphrase")
    response = client.post(
        SIGN_IN + "?next=https://example.org/",
        {"username": "nilu", "password": "right-passphrase", "school": str(user.school_id)},
    )
    assert response["Location"] == "/"


def test_language_picker_sets_cookie_and_stores_the_users_choice():
    client = Client()
    response = client.post(reverse("accounts:set-language"), {"language": "tg", "next": "/signin/"})
    assert response.status_code == 302
    assert response["Location"] == "/signin/"
    assert response.cookies["kalan_language"].value == "tg"
    user = make_school_user("rustam", password="right-passphrase")
    client.force_login(user)
    client.post(reverse("accounts:set-language"), {"language": "ru"})
    user.refresh_from_db()
    assert user.language == "ru"


def test_language_picker_refuses_unknown_languages_and_outside_redirects(client):
    response = client.post(
        reverse("accounts:set-language"), {"language": "xx", "next": "https://example.org/"}
    )
    assert response["Location"] == "/"
    assert "kalan_language" not in response.cookies


def test_argon2_is_the_password_hash(settings):
    settings.PASSWORD_HASHERS = [
        "kalan.accounts.hashers.Argon2idHasher",
        "django.contrib.auth.hashers.PBKDF2PasswordHasher",
    ]
    user = services.create_user(
        username="zarina", full_name="Zarina K", school_id=uuid.uuid4(), password="long-passphrase"
    )
    assert user.password.startswith("argon2$argon2id$v=19$m=19456,t=2,p=1$")
    assert user.check_password("long-passphrase")

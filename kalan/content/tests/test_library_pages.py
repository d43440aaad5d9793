"""The library pages (/library/) through HTTP: who sees them, what they show, what they cost."""

import re
import uuid
from html.parser import HTMLParser

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import translation

from kalan.accounts.models import User
from kalan.content import permissions
from kalan.content.kinds import Kind
from kalan.content.models import Channel
from kalan.content.tests.factories import (
    Res,
    Shelf,
    Topic,
    install_channel,
    many,
    shelf_fixture,  # noqa: F401
)
from kalan.core.errors import NotFound
from kalan.schools.tests.factories import make_person, make_school

pytestmark = pytest.mark.django_db
PAGE_BUDGET = 60 * 1024
KIND = re.compile(r'<span class="kind"><span aria-hidden="true">(.+?)</span> (.+?)</span>')


@pytest.fixture
def people() -> dict[str, User]:
    school = make_school()
    return {
        role: make_person(school=school, roles=(role,))
        for role in ("learner", "teacher", "parent", "admin")
    }


def signed_in(user: User, language: str = "") -> Client:
    client = Client(headers={"Accept-Language": language} if language else None)
    client.force_login(user)
    return client


def page_urls(shelf: Shelf) -> dict[str, str]:
    return {
        "index": reverse("library:index"),
        "search": reverse("library:search"),
        "channel": reverse("library:channel", args=[shelf.french.channel.id]),
        "topic": reverse("library:topic", args=[shelf["Lecture"]]),
        "resource": reverse("library:resource", args=[shelf["La leçon de l'élève"]]),
        "video": reverse("library:resource", args=[shelf["Le marché de Bamako"]]),
    }


class Outline(HTMLParser):
    """The parts of a page the tests look at: headings, links, lists, images."""

    def __init__(self, html: str) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.text: dict[str, list[str]] = {}
        self._open: list[tuple[str, int]] = []  # elements not closed yet, innermost last
        self.feed(html)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))
        if tag in {"h1", "h2", "h3", "a", "li", "dt", "dd", "nav"}:
            self.text.setdefault(tag, []).append("")
            self._open.append((tag, len(self.text[tag]) - 1))

    def handle_endtag(self, tag: str) -> None:
        for position in range(len(self._open) - 1, -1, -1):
            if self._open[position][0] == tag:
                del self._open[position]
                break

    def handle_data(self, data: str) -> None:
        for tag, index in self._open:
            self.text[tag][index] += data

    def all(self, tag: str) -> list[dict[str, str | None]]:
        return [attrs for name, attrs in self.tags if name == tag]

    def texts(self, tag: str) -> list[str]:
        return [" ".join(text.split()) for text in self.text.get(tag, [])]


def outline(response) -> Outline:
    assert response.status_code == 200, response.status_code
    html = response.content.decode()
    assert len(response.content) < PAGE_BUDGET
    page = Outline(html)
    assert len(page.all("h1")) == 1, page.texts("h1")
    return page


# ---------------------------------------------------------------- who may see the library


def test_anonymous_people_are_sent_to_sign_in(shelf):
    for name, url in page_urls(shelf).items():
        response = Client().get(url)
        assert response.status_code == 302, name
        assert response["Location"].startswith(reverse("accounts:sign-in")), name


@pytest.mark.parametrize("role", ["learner", "teacher", "parent", "admin"])
def test_every_signed_in_person_sees_every_page(shelf, people, role):
    client = signed_in(people[role])
    for name, url in page_urls(shelf).items():
        page = outline(client.get(url))
        assert {"href": reverse("library:index")} in [
            {"href": a.get("href")} for a in page.all("a")
        ], name


def test_the_permissions_show_nothing_to_anonymous_or_deactivated_people(shelf, people):
    from django.contrib.auth.models import AnonymousUser

    learner = people["learner"]
    assert set(permissions.visible_channels(learner)) == {
        shelf.french.channel,
        shelf.tajik.channel,
    }
    learner.is_active = False
    for nobody in (AnonymousUser(), learner):
        assert not permissions.visible_channels(nobody).exists()
        assert not permissions.visible_nodes(nobody).exists()
        with pytest.raises(NotFound):
            permissions.access_channel_by_id(nobody, shelf.french.channel.id)
        with pytest.raises(NotFound):
            permissions.access_node_by_id(nobody, shelf["Contes du soir"])


@pytest.mark.parametrize("name", ["library:channel", "library:topic", "library:resource"])
def test_unknown_ids_are_not_found(people, name):
    assert signed_in(people["learner"]).get(reverse(name, args=[uuid.uuid4()])).status_code == 404


def test_each_kind_of_node_has_one_address(shelf, people):
    client = signed_in(people["learner"])
    story, topic = shelf["Contes du soir"], shelf["Lecture"]
    root = shelf.french.channel.nodes.get(depth=0).id
    assert client.get(reverse("library:topic", args=[story]))["Location"] == reverse(
        "library:resource", args=[story]
    )
    assert client.get(reverse("library:resource", args=[topic]))["Location"] == reverse(
        "library:topic", args=[topic]
    )
    assert client.get(reverse("library:topic", args=[root]))["Location"] == reverse(
        "library:channel", args=[shelf.french.channel.id]
    )


def test_every_page_offers_the_library_in_the_main_navigation(shelf, people):
    home = signed_in(people["learner"]).get(reverse("schools:learner-home")).content.decode()
    assert f'<a href="{reverse("library:index")}">Library</a>' in home
    index = signed_in(people["learner"]).get(reverse("library:index")).content.decode()
    assert f'<a href="{reverse("library:index")}" aria-current="page">Library</a>' in index


# ---------------------------------------------------------------- what the pages show


def test_the_index_lists_the_channels_with_their_facts_and_a_search_form(shelf, people):
    page = outline(signed_in(people["learner"]).get(reverse("library:index")))
    assert page.texts("h3") == ["Français et bamanankan", "Китобхонаи мактабӣ"]
    items = page.texts("li")
    assert "Français" in items
    assert "Тоҷикӣ" in items  # the language named in itself
    assert "30 resources" in items
    assert "3 resources" in items
    assert "Вазорати маориф" in items
    (form,) = [f for f in page.all("form") if f.get("role") == "search"]
    assert form["action"] == reverse("library:search")
    assert form["method"] == "get"
    assert {"type": "search", "id": "library-q", "name": "q", "maxlength": "200"} in page.all(
        "input"
    )


def test_the_index_says_so_when_the_library_is_empty(shelf, people):
    Channel.objects.all().delete()
    html = signed_in(people["learner"]).get(reverse("library:index")).content.decode()
    assert "The library is empty for now." in html


def test_a_channel_lists_its_topics_in_order(shelf, people):
    page = outline(signed_in(people["teacher"]).get(page_urls(shelf)["channel"]))
    assert page.texts("h1") == ["Français et bamanankan"]
    assert page.texts("h3") == ["Français", "Bamanankan", "Exercices"]
    assert page.texts("li").count("☰ Topic") == 3  # the kind is text; the symbol is hidden
    assert "Published by Ministère de l'Éducation nationale" in page.texts("li")
    assert "Licence: CC BY 4.0" in page.texts("li")


def test_a_topic_shows_breadcrumbs_and_its_children_in_order(shelf, people):
    client = signed_in(people["learner"])
    page = outline(client.get(reverse("library:topic", args=[shelf["Français"]])))
    assert page.texts("h3") == ["La leçon de l'élève", "Lecture", "Le marché de Bamako"]
    assert {"class": "crumbs", "aria-label": "Breadcrumbs"} in page.all("nav")
    meta = page.texts("li")
    assert "▤ PDF document" in meta
    assert "☰ Topic" in meta
    assert "▶ Video" in meta
    assert "12 pages" in meta
    assert "3 min 20 s" in meta
    symbols = [s for s in page.all("span") if s.get("aria-hidden") == "true"]
    assert len(symbols) == 3
    deep = outline(client.get(page_urls(shelf)["topic"]))
    crumbs = deep.texts("nav")[1]  # after the main navigation
    assert crumbs == "Library Français et bamanankan Français Lecture"
    assert {"aria-current": "page"} in deep.all("li")
    hrefs = [a["href"] for a in deep.all("a")]
    assert reverse("library:channel", args=[shelf.french.channel.id]) in hrefs
    assert reverse("library:topic", args=[shelf["Français"]]) in hrefs
    assert reverse("library:resource", args=[shelf["Contes du soir"]]) in hrefs


def test_a_long_topic_comes_twenty_five_children_to_a_page(shelf, people, tmp_path):
    long = install_channel(
        tmp_path, [Topic("Long", list(many(60)))], title="Canal long", library=shelf.library
    )
    client = signed_in(people["learner"])
    url = reverse("library:topic", args=[long["Long"]])
    first = outline(client.get(url))
    assert first.texts("h3") == [f"Lesson {n:03d}" for n in range(1, 26)]
    assert "Page 1 of 3" in first.texts("nav")[-1]
    assert {"href": "?page=2", "rel": "next"} in first.all("a")
    last = outline(client.get(f"{url}?page=3"))
    assert last.texts("h3") == [f"Lesson {n:03d}" for n in range(51, 61)]
    assert {"class": "items", "start": "51"} in last.all("ol")
    assert {"href": "?page=2", "rel": "prev"} in last.all("a")
    single = outline(client.get(reverse("library:topic", args=[shelf["Exercices"]])))
    assert len(single.texts("h3")) == 25
    assert not any("Page 1 of" in text for text in single.texts("nav"))


def test_thumbnails_are_decorative_and_served_from_the_store(shelf, people, settings):
    settings.KALAN_CONTENT_DIR = shelf.library.root
    client = signed_in(people["learner"])
    page = outline(client.get(reverse("library:topic", args=[shelf["Français"]])))
    images = page.all("img")
    assert len(images) == 2  # the PDF and the video have one
    for image in images:
        assert image["alt"] == ""
        assert image["loading"] == "lazy"
        src = image["src"] or ""
        assert re.fullmatch(r"/content/files/[0-9a-f]{64}\.png", src)
        response = client.get(src)
        assert response.status_code == 200
        assert response["Content-Type"] == "image/png"
        assert response.getvalue().startswith(b"\x89PNG")


def test_a_resource_shows_its_facts_licence_and_credits(shelf, people):
    page = outline(signed_in(people["parent"]).get(page_urls(shelf)["resource"]))
    facts = dict(zip(page.texts("dt"), page.texts("dd"), strict=True))
    assert facts["Kind"] == "PDF document"
    assert facts["Language"] == "Français"
    assert facts["Grade levels"] == "P3"
    assert facts["Subjects"] == "Français"
    assert facts["Curriculum codes"] == "FR.P3.2"
    assert facts["Accessibility"] == "Screen-reader friendly"
    assert facts["Pages"] == "12"
    assert facts["Channel"] == "Français et bamanankan"
    assert facts["Licence"] == "CC BY-SA 4.0"
    assert facts["Author"] == "Awa Traoré"
    assert facts["Attribution"] == "Ministère de l'Éducation du Mali"
    assert facts["Publisher"] == "Ministère de l'Éducation nationale"
    assert re.fullmatch(r"\d+ bytes", facts["Size"])
    assert {"lang": "fr"} in page.all("h1")


def test_a_document_is_opened_in_its_player(shelf, people):
    node_id = shelf["La leçon de l'élève"]
    page = outline(signed_in(people["learner"]).get(page_urls(shelf)["resource"]))
    assert not page.all("video")
    assert not page.all("audio")
    assert not [s for s in page.all("script") if "media" in (s["src"] or "")]
    opens = [a for a in page.all("a") if a.get("class") == "button primary open"]
    assert [a["href"] for a in opens] == [f"/play/{node_id}/"]
    assert "Open La leçon de l'élève" in page.texts("a")  # a name that says what opens


def tracks(page: Outline) -> list[dict[str, str | None]]:
    return page.all("track")


@pytest.mark.parametrize(("language", "default"), [("fr", "fr"), ("en", "en"), ("ru", None)])
def test_a_video_plays_inline_with_a_caption_track_per_language(shelf, people, language, default):
    client = signed_in(people["learner"], language)
    page = outline(client.get(page_urls(shelf)["video"]))
    video = page.all("video")[0]
    assert "controls" in video
    assert video["preload"] == "none"
    assert re.fullmatch(r"/content/files/[0-9a-f]{64}\.png", video["poster"] or "")
    source = page.all("source")[0]
    assert re.fullmatch(r"/content/files/[0-9a-f]{64}\.webm", source["src"] or "")
    assert source["type"] == "video/webm"
    found = tracks(page)
    assert [(t["kind"], t["srclang"], t["label"]) for t in found] == [
        ("captions", "fr", "Français"),
        ("captions", "bm", "Bamanankan"),
        ("captions", "en", "English"),
    ]
    assert [t["srclang"] for t in found if "default" in t] == ([default] if default else [])
    for track in found:
        assert re.fullmatch(r"/content/files/[0-9a-f]{64}\.vtt", track["src"] or "")
    # content/media.js adds the captions switch to the figure, with the page's words.
    (figure,) = page.all("figure")
    assert "data-media-player" in figure
    with translation.override(language):
        assert figure["data-label-captions"] == translation.gettext("Captions")
        assert figure["data-label-language"] == translation.gettext("Caption language")
    assert [s["src"] for s in page.all("script") if "media" in (s["src"] or "")] == [
        "/static/content/media.js"
    ]


def test_an_audio_plays_inline_and_its_captions_are_served(shelf, people, settings):
    settings.KALAN_CONTENT_DIR = shelf.library.root
    client = signed_in(people["learner"], "bm")
    page = outline(client.get(reverse("library:resource", args=[shelf["Kɔrɔ ka kuma"]])))
    audio = page.all("audio")[0]
    assert "controls" in audio
    assert audio["preload"] == "none"
    assert page.all("source")[0]["type"] == "audio/mpeg"
    (track,) = tracks(page)
    assert (track["srclang"], track["label"], "default" in track) == ("bm", "Bamanankan", True)
    response = client.get(str(track["src"]))
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/vtt")
    assert response.getvalue().startswith(b"WEBVTT")
    assert {"lang": "bm"} in page.all("h1")


# ---------------------------------------------------------------- what the pages cost


def count_queries(client: Client, url: str) -> int:
    with CaptureQueriesContext(connection) as captured:
        assert client.get(url).status_code == 200
    return len(captured.captured_queries)


def test_the_index_costs_the_same_whatever_the_number_of_channels(shelf, people, tmp_path):
    client = signed_in(people["learner"])
    url = reverse("library:index")
    before = count_queries(client, url)
    for number in range(3):
        install_channel(
            tmp_path / str(number),
            [Res(f"Leçon {number}")],
            title=f"Canal {number}",
            library=shelf.library,
        )
    assert count_queries(client, url) == before <= 3  # session, user, channels


def test_a_topic_costs_the_same_whatever_the_number_of_children(shelf, people):
    client = signed_in(people["learner"])
    small = count_queries(client, reverse("library:topic", args=[shelf["Lecture"]]))
    large = count_queries(client, reverse("library:topic", args=[shelf["Exercices"]]))
    # session, user, the topic, its ancestors, the number of its children, a page of them
    assert small == large <= 6


def test_a_resource_costs_the_same_whatever_the_number_of_files(shelf, people):
    client = signed_in(people["learner"])
    plain = count_queries(client, reverse("library:resource", args=[shelf["Sɛbɛnni kalan"]]))
    rich = count_queries(client, reverse("library:resource", args=[shelf["Le marché de Bamako"]]))
    assert plain == rich <= 5  # session, user, the resource, its ancestors, its files


def test_a_channel_page_costs_the_same_whatever_its_size(shelf, people, tmp_path):
    client = signed_in(people["learner"])
    big = install_channel(
        tmp_path,
        [Topic(f"Thème {n}", list(many(3, prefix=f"T{n}"))) for n in range(30)],
        title="Grand canal",
        library=shelf.library,
    )
    small = count_queries(client, reverse("library:channel", args=[shelf.tajik.channel.id]))
    large = count_queries(client, reverse("library:channel", args=[big.channel.id]))
    assert small == large <= 5  # session, user, the channel, the root's children: count, page


def test_every_kind_has_a_name_in_text_beside_its_hidden_symbol(shelf, people, tmp_path):
    everything = [Res(f"Un {kind}", kind=kind) for kind in sorted(Kind.values) if kind != "topic"]
    installed = install_channel(tmp_path, everything, title="Tout", library=shelf.library)
    url = reverse("library:channel", args=[installed.channel.id])
    html = signed_in(people["learner"]).get(url).content.decode()
    kinds = re.findall(
        r'<span class="kind"><span aria-hidden="true">(.+?)</span> (.+?)</span>', html
    )
    assert [label for _, label in kinds] == [str(Kind(res.kind).label) for res in everything]
    assert all(symbol.strip() for symbol, _ in kinds)

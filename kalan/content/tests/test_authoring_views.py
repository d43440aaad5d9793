"""The page builder through HTTP: who gets in, uploads, describing, ordering, captions."""

import io
import os
import re
import wave
from dataclasses import dataclass
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse

from kalan.accounts.models import User
from kalan.content import authoring
from kalan.content.models import Draft, DraftNode
from kalan.content.store import hub_library
from kalan.schools.models import School
from kalan.schools.tests.manage_factories import make_person, make_school, make_superuser

pytestmark = pytest.mark.django_db

REPOSITORY = Path(__file__).resolve().parents[3]
CORPUS = Path(os.environ.get("KALAN_CORPUS") or REPOSITORY.parent / "shared" / "corpus")
PAGE_LIMIT = 60 * 1024


def corpus_bytes(relative: str) -> bytes:
    """A file of the shared corpus; the test skips when the corpus is not there."""
    path = CORPUS / relative
    if not path.is_file():
        pytest.skip(f"{path} is absent (set KALAN_CORPUS)")
    return path.read_bytes()


def pdf_bytes() -> bytes:
    return corpus_bytes("pdf/004-pdflatex-4-pages/pdflatex-4-pages.pdf")


def epub_bytes() -> bytes:
    return corpus_bytes("epub/childrens-literature.epub")


def encrypted_pdf_bytes() -> bytes:
    return corpus_bytes("pdf/005-libreoffice-writer-password/libreoffice-writer-password.pdf")


def corrupt_pdf_bytes() -> bytes:
    """The start of a real PDF, cut off: a header and nothing a reader can use."""
    return pdf_bytes()[:600]


def wav_bytes(seconds: int = 1) -> bytes:
    out = io.BytesIO()
    with wave.open(out, "wb") as sound:
        sound.setnchannels(1)
        sound.setsampwidth(1)
        sound.setframerate(8000)
        sound.writeframes(b"\x80" * 8000 * seconds)
    return out.getvalue()


SRT = (
    "1\n00:00:00,000 --> 00:00:00,900\nLa paix commence à l'école.\n\n"
    "2\n00:00:00,900 --> 00:00:01,000\nÉcoutons-nous.\n"
).encode()


def stored_files() -> set[str]:
    return set(hub_library().all_files())


@dataclass
class World:
    school: School
    other: School
    admin: User
    teacher: User
    learner: User
    parent: User
    other_teacher: User
    draft: Draft
    other_draft: Draft


@pytest.fixture
def world() -> World:
    school, other = make_school("Gao Primary"), make_school("Mopti Primary")
    teacher = make_person(school, "teacher", full_name="Seydou Teacher")
    other_teacher = make_person(other, "teacher", full_name="Other Teacher")
    return World(
        school=school,
        other=other,
        admin=make_person(school, "admin", full_name="Awa Head"),
        teacher=teacher,
        learner=make_person(school, "learner", full_name="Aminata Learner"),
        parent=make_person(school, "parent", full_name="Moussa Parent"),
        other_teacher=other_teacher,
        draft=authoring.create_draft(
            school_id=school.id, title="Peace education", created_by=teacher
        ),
        other_draft=authoring.create_draft(
            school_id=other.id, title="Mopti songs", created_by=other_teacher
        ),
    )


def signed_in(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


def upload(client: Client, draft: Draft, name: str, data: bytes, **extra: str):
    url = reverse("authoring:upload", args=[draft.id])
    return client.post(url, {"file": SimpleUploadedFile(name, data), **extra})


def add_pdf(draft: Draft, name: str = "peace.pdf", parent: DraftNode | None = None) -> DraftNode:
    """A resource added through the service, for tests about what comes after uploading."""
    folder = Path(hub_library().root).parent / "uploads"
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_bytes(pdf_bytes())
    return authoring.upload_resource(draft=draft, path=path, file_name=name, parent=parent)


def page_text(response) -> str:
    html: str = response.content.decode()
    assert len(response.content) <= PAGE_LIMIT, len(response.content)
    assert len(re.findall(r"<h1[ >]", html)) == 1
    return html


def draft_urls(draft: Draft, node: DraftNode) -> dict[str, str]:
    d, n = draft.id, node.id
    return {
        "draft": reverse("authoring:draft", args=[d]),
        "draft-edit": reverse("authoring:draft-edit", args=[d]),
        "draft-delete": reverse("authoring:draft-delete", args=[d]),
        "publish": reverse("authoring:publish", args=[d]),
        "node": reverse("authoring:node", args=[d, n]),
        "node-delete": reverse("authoring:node-delete", args=[d, n]),
    }


# ---------------------------------------------------------------- who gets in


@pytest.mark.parametrize("who", ["admin", "teacher"])
def test_the_school_admins_and_teachers_reach_every_page(world, who):
    topic = authoring.add_topic(draft=world.draft, title="Week 1")
    client = signed_in(getattr(world, who))
    html = page_text(client.get(reverse("authoring:home")))
    assert "Peace education" in html
    assert "Mopti songs" not in html
    for name, url in draft_urls(world.draft, topic).items():
        response = client.get(url)
        assert response.status_code == 200, name
        page_text(response)


def test_a_superuser_sees_every_school_and_chooses_one(world):
    client = signed_in(make_superuser())
    html = page_text(client.get(reverse("authoring:home")))
    assert "Peace education" in html
    assert "Mopti songs" in html
    assert '<select name="school"' in html
    response = client.post(
        reverse("authoring:create"), {"title": "Songs", "school": str(world.other.id)}
    )
    created = Draft.objects.get(title="Songs")
    assert created.school_id == world.other.id
    assert response["Location"] == reverse("authoring:draft", args=[created.id])


@pytest.mark.parametrize("who", ["learner", "parent"])
def test_learners_and_parents_never_see_the_builder(world, who):
    topic = authoring.add_topic(draft=world.draft, title="Week 1")
    client = signed_in(getattr(world, who))
    assert client.get(reverse("authoring:home")).status_code == 404
    for url in draft_urls(world.draft, topic).values():
        assert client.get(url).status_code == 404, url
    assert client.post(reverse("authoring:create"), {"title": "x"}).status_code == 404
    assert upload(client, world.draft, "peace.pdf", b"%PDF-").status_code == 404
    assert not Draft.objects.filter(title="x").exists()
    assert DraftNode.objects.filter(kind="document").count() == 0


def test_anonymous_visitors_are_sent_to_sign_in(world):
    response = Client().get(reverse("authoring:draft", args=[world.draft.id]))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("accounts:sign-in"))


def test_a_teacher_of_another_school_gets_404_and_changes_nothing(world, tmp_path):
    topic = authoring.add_topic(draft=world.draft, title="Week 1")
    client = signed_in(world.other_teacher)
    for url in draft_urls(world.draft, topic).values():
        assert client.get(url).status_code == 404, url
    d, n = world.draft.id, topic.id
    posts = [
        (reverse("authoring:draft-edit", args=[d]), {"title": "Stolen"}),
        (reverse("authoring:topic-add", args=[d]), {"topic-title": "Stolen"}),
        (reverse("authoring:node", args=[d, n]), {"title": "Stolen"}),
        (reverse("authoring:node-move", args=[d, n]), {"direction": "down"}),
        (reverse("authoring:node-delete", args=[d, n]), {}),
        (reverse("authoring:publish", args=[d]), {}),
        (reverse("authoring:export", args=[d]), {"destination": str(tmp_path / "x")}),
        (reverse("authoring:draft-delete", args=[d]), {}),
    ]
    for url, data in posts:
        assert client.post(url, data).status_code == 404, url
    assert upload(client, world.draft, "peace.pdf", pdf_bytes()).status_code == 404
    world.draft.refresh_from_db()
    assert world.draft.title == "Peace education"
    assert list(DraftNode.objects.filter(draft=world.draft).values_list("title", flat=True)) == [
        "Week 1"
    ]
    assert stored_files() == set()
    assert not (tmp_path / "x").exists()
    # A node of one draft is not reachable through another draft's URL either.
    own = signed_in(world.teacher)
    mixed = reverse("authoring:node", args=[world.other_draft.id, topic.id])
    assert own.get(mixed).status_code == 404


def test_the_draft_page_lists_the_tree_in_a_fixed_number_of_queries(
    world, django_assert_max_num_queries
):
    client = signed_in(world.teacher)
    url = reverse("authoring:draft", args=[world.draft.id])
    client.get(url)  # the session and the roles' first load
    with django_assert_max_num_queries(12) as few:
        page_text(client.get(url))
    topic = authoring.add_topic(draft=world.draft, title="Week 1")
    for n in range(4):
        add_pdf(world.draft, f"sheet-{n}.pdf", parent=topic if n % 2 else None)
        authoring.add_topic(draft=world.draft, title=f"Week {n + 2}", parent=topic)
    with django_assert_max_num_queries(len(few.captured_queries)):
        html = page_text(client.get(url))
    # 3 nodes at the top, 6 in "Week 1": every one but the first of its level moves up.
    assert html.count('name="direction" value="up"') == 2 + 5
    assert "sheet-3" in html


def test_the_home_page_lists_drafts_in_a_fixed_number_of_queries(
    world, django_assert_max_num_queries
):
    client = signed_in(world.admin)
    client.get(reverse("authoring:home"))
    with django_assert_max_num_queries(10) as few:
        client.get(reverse("authoring:home"))
    for n in range(5):
        authoring.create_draft(school_id=world.school.id, title=f"Draft {n}", created_by=None)
    with django_assert_max_num_queries(len(few.captured_queries)):
        html = page_text(client.get(reverse("authoring:home")))
    assert html.count(">Not published yet<") == 6


def test_creating_a_draft_needs_a_title_tied_to_its_field(world):
    client = signed_in(world.teacher)
    response = client.post(reverse("authoring:create"), {"title": "  "})
    assert response.status_code == 400
    html = response.content.decode()
    assert 'aria-describedby="id_title_error"' in html
    assert 'id="id_title_error"' in html
    # The teacher's one school is chosen for them.
    response = client.post(reverse("authoring:create"), {"title": "Songs"})
    assert Draft.objects.get(title="Songs").school_id == world.school.id
    assert response.status_code == 302


# ---------------------------------------------------------------- uploads


def test_uploading_a_pdf_inspects_stores_and_asks_for_a_description(world):
    client = signed_in(world.teacher)
    data = pdf_bytes()
    response = upload(client, world.draft, "02_peace_sheet.pdf", data)
    node = DraftNode.objects.get(draft=world.draft)
    assert response.status_code == 302
    assert response["Location"] == reverse("authoring:node", args=[world.draft.id, node.id])
    assert node.kind == "document"
    assert node.file_name == "02_peace_sheet.pdf"
    assert node.file_size == len(data)
    assert node.inspection["page_count"] == 4
    assert node.title  # from the PDF's metadata, else the file's name
    assert hub_library().path(node.file_sha256).read_bytes() == data
    assert node.file_sha256 in stored_files()
    html = page_text(client.get(response["Location"]))
    assert '<label for="id_title">' in html
    assert "4 pages" in html


def test_uploading_an_epub_into_a_topic(world):
    client = signed_in(world.teacher)
    topic = authoring.add_topic(draft=world.draft, title="Stories")
    response = upload(client, world.draft, "stories.epub", epub_bytes(), parent=str(topic.id))
    assert response.status_code == 302
    node = DraftNode.objects.get(draft=world.draft, kind="epub")
    assert node.parent_id == topic.id
    assert node.title


@pytest.mark.parametrize(
    ("name", "make", "reason"),
    [
        ("broken.pdf", corrupt_pdf_bytes, ""),
        ("locked.pdf", encrypted_pdf_bytes, "password"),
        ("notes.docx", lambda: b"PK\x03\x04 not a resource", "cannot play"),
        ("song.srt", lambda: SRT, "caption"),
    ],
)
def test_a_refused_file_gets_one_message_on_its_field_and_nothing_is_stored(
    world, name, make, reason
):
    client = signed_in(world.teacher)
    response = upload(client, world.draft, name, make())
    assert response.status_code == 400
    html = page_text(response)
    errors = re.findall(r'<p class="error" id="id_file_error">([^<]*)</p>', html)
    assert len(errors) == 1, html
    assert errors[0].startswith(f"{name}: ")
    assert reason in errors[0].lower()
    assert 'aria-describedby="id_file_helptext id_file_error"' in html
    assert not DraftNode.objects.exists()
    assert stored_files() == set()


def test_an_encrypted_pdf_says_it_is_encrypted(world):
    response = upload(signed_in(world.teacher), world.draft, "locked.pdf", encrypted_pdf_bytes())
    message = re.search(r'id="id_file_error">([^<]*)<', response.content.decode())
    assert message
    assert "password" in message[1] or "encrypt" in message[1]


def test_a_request_announcing_more_than_the_limit_writes_no_file(world, settings, monkeypatch):
    from django.core.files.uploadhandler import TemporaryFileUploadHandler

    started = []
    real = TemporaryFileUploadHandler.new_file

    def spy(self, *args, **kwargs):
        started.append(args)
        real(self, *args, **kwargs)

    monkeypatch.setattr(TemporaryFileUploadHandler, "new_file", spy)
    settings.KALAN_UPLOAD_MAX_BYTES = 1000
    big = pdf_bytes() * (1 + 2 * 1024 * 1024 // len(pdf_bytes()))
    response = upload(signed_in(world.teacher), world.draft, "big.pdf", big)
    assert response.status_code == 400
    assert 'id="id_file_error">The file is too large: at most 1000' in response.content.decode()
    assert started == []
    assert stored_files() == set()


def test_a_file_past_the_size_limit_is_dropped_while_it_arrives(world, settings):
    data = pdf_bytes()
    settings.KALAN_UPLOAD_MAX_BYTES = len(data) - 1
    response = upload(signed_in(world.teacher), world.draft, "peace.pdf", data)
    assert response.status_code == 400
    html = response.content.decode()
    assert re.search(r'id="id_file_error">The file is too large: at most [^<]+<', html)
    assert not DraftNode.objects.exists()
    assert stored_files() == set()
    settings.KALAN_UPLOAD_MAX_BYTES = len(data)
    assert upload(signed_in(world.teacher), world.draft, "peace.pdf", data).status_code == 302


def test_uploads_are_written_to_a_temporary_file_not_memory(world, monkeypatch):
    seen = []
    real = authoring.upload_resource

    def spy(**kwargs):
        seen.append(kwargs["path"])
        assert kwargs["path"].is_file()
        return real(**kwargs)

    monkeypatch.setattr(authoring, "upload_resource", spy)
    upload(signed_in(world.teacher), world.draft, "peace.pdf", pdf_bytes())
    assert seen
    assert seen[0].name.endswith(".upload.pdf")
    assert not seen[0].exists()  # removed once the request is done


def test_upload_without_a_file_or_without_the_csrf_token(world):
    client = signed_in(world.teacher)
    response = client.post(reverse("authoring:upload", args=[world.draft.id]), {})
    assert response.status_code == 400
    assert 'id="id_file_error">Choose a file to add.<' in response.content.decode()
    strict = Client(enforce_csrf_checks=True)
    strict.force_login(world.teacher)
    response = strict.post(
        reverse("authoring:upload", args=[world.draft.id]),
        {"file": SimpleUploadedFile("peace.pdf", pdf_bytes())},
    )
    assert response.status_code == 403
    assert not DraftNode.objects.exists()


# ---------------------------------------------------------------- describing and ordering


def test_describing_a_resource_saves_every_field(world):
    node = add_pdf(world.draft)
    client = signed_in(world.teacher)
    response = client.post(
        reverse("authoring:node", args=[world.draft.id, node.id]),
        {
            "title": "Living together",
            "description": "Sheets for week 1",
            "language": "fr",
            "grade_levels": "P5, P6, P5",
            "subjects": "Civics; Peace education",
            "curriculum_codes": "CIV.5.1",
            "licence": "CC BY-SA 4.0",
            "author": "Seydou",
            "attribution": "Gao Primary teachers",
            "accessibility": ["screen_reader", "transcript"],
        },
    )
    assert response.status_code == 302
    node.refresh_from_db()
    assert node.title == "Living together"
    assert node.grade_levels == ["P5", "P6"]
    assert node.subjects == ["Civics", "Peace education"]
    assert node.curriculum_codes == ["CIV.5.1"]
    assert node.licence == "CC BY-SA 4.0"
    assert node.accessibility == ["screen_reader", "transcript"]
    html = client.get(reverse("authoring:node", args=[world.draft.id, node.id])).content.decode()
    assert 'value="P5, P6"' in html


def test_a_bad_description_is_refused_field_by_field(world):
    node = add_pdf(world.draft)
    response = signed_in(world.teacher).post(
        reverse("authoring:node", args=[world.draft.id, node.id]),
        {"title": "", "language": "French!", "licence": "Mine", "accessibility": ["magic"]},
    )
    assert response.status_code == 400
    html = response.content.decode()
    for name in ("title", "language", "licence", "accessibility"):
        assert f'id="id_{name}_error"' in html, name
    node.refresh_from_db()
    assert node.title != ""


def test_move_buttons_reorder_siblings_and_keep_the_place_in_the_page(world):
    a = authoring.add_topic(draft=world.draft, title="A")
    b = authoring.add_topic(draft=world.draft, title="B")
    c = authoring.add_topic(draft=world.draft, title="C")
    client = signed_in(world.teacher)
    response = client.post(
        reverse("authoring:node-move", args=[world.draft.id, c.id]), {"direction": "up"}
    )
    assert response["Location"].endswith(f"#node-{c.id}")
    client.post(reverse("authoring:node-move", args=[world.draft.id, a.id]), {"direction": "down"})
    order = [row.node.title for row in authoring.get_outline(world.draft).items]
    assert order == ["C", "A", "B"]
    client.post(reverse("authoring:node-move", args=[world.draft.id, c.id]), {"direction": "up"})
    assert [row.node.title for row in authoring.get_outline(world.draft).items] == order
    html = client.get(reverse("authoring:draft", args=[world.draft.id])).content.decode()
    assert html.index(">C</strong>") < html.index(">A</strong>") < html.index(">B</strong>")
    assert f'id="node-{b.id}" tabindex="-1"' in html


def test_moving_into_a_topic_and_never_into_itself(world):
    week = authoring.add_topic(draft=world.draft, title="Week")
    day = authoring.add_topic(draft=world.draft, title="Day", parent=week)
    sheet = add_pdf(world.draft)
    client = signed_in(world.teacher)
    url = reverse("authoring:node-move", args=[world.draft.id, sheet.id])
    client.post(url, {"move-parent": str(day.id)})
    sheet.refresh_from_db()
    assert sheet.parent_id == day.id
    client.post(
        reverse("authoring:node-move", args=[world.draft.id, week.id]), {"move-parent": str(day.id)}
    )
    week.refresh_from_db()
    assert week.parent_id is None
    client.post(url, {"move-parent": ""})
    sheet.refresh_from_db()
    assert sheet.parent_id is None


def test_removing_a_topic_removes_what_it_holds_and_its_unused_files(world):
    week = authoring.add_topic(draft=world.draft, title="Week")
    sheet = add_pdf(world.draft, parent=week)
    kept = add_pdf(world.draft, "same-file.pdf")  # the same bytes, still used here
    client = signed_in(world.teacher)
    page = client.get(reverse("authoring:node-delete", args=[world.draft.id, week.id]))
    assert "everything in it" in page.content.decode()
    client.post(reverse("authoring:node-delete", args=[world.draft.id, week.id]))
    assert list(DraftNode.objects.values_list("id", flat=True)) == [kept.id]
    assert sheet.file_sha256 in stored_files()
    client.post(reverse("authoring:node-delete", args=[world.draft.id, kept.id]))
    assert stored_files() == set()


# ---------------------------------------------------------------- captions


def test_captions_for_an_audio_recording_are_converted_to_webvtt(world):
    client = signed_in(world.teacher)
    assert upload(client, world.draft, "song.wav", wav_bytes()).status_code == 302
    node = DraftNode.objects.get(kind="audio")
    url = reverse("authoring:caption-add", args=[world.draft.id, node.id])
    response = client.post(
        url,
        {
            "caption_file": SimpleUploadedFile("song.srt", SRT),
            "caption_language": "fr",
            "caption_label": "Français",
        },
    )
    assert response.status_code == 302
    node.refresh_from_db()
    [caption] = node.captions
    assert caption["language"] == "fr"
    assert caption["label"] == "Français"
    vtt = hub_library().path(caption["sha256"]).read_bytes()
    assert vtt.startswith(b"WEBVTT")
    assert "00:00:00.900 --> 00:00:01.000" in vtt.decode()
    assert "captions" in node.accessibility
    # Replacing the French captions drops the old file.
    client.post(
        url,
        {"caption_file": SimpleUploadedFile("song.vtt", vtt + b"\n"), "caption_language": "fr"},
    )
    node.refresh_from_db()
    assert len(node.captions) == 1
    assert node.captions[0]["label"] == "français"  # the language's own name by default
    assert caption["sha256"] not in stored_files()
    client.post(reverse("authoring:caption-remove", args=[world.draft.id, node.id, "fr"]))
    node.refresh_from_db()
    assert node.captions == []


def test_bad_captions_are_refused_on_their_field(world):
    client = signed_in(world.teacher)
    upload(client, world.draft, "song.wav", wav_bytes())
    node = DraftNode.objects.get(kind="audio")
    before = stored_files()
    url = reverse("authoring:caption-add", args=[world.draft.id, node.id])
    for name, data in (("song.vtt", b"not webvtt at all"), ("song.txt", SRT)):
        response = client.post(
            url, {"caption_file": SimpleUploadedFile(name, data), "caption_language": "fr"}
        )
        assert response.status_code == 400
        errors = re.findall(r'id="id_caption_file_error">([^<]*)<', response.content.decode())
        assert len(errors) == 1
        assert errors[0].startswith(f"{name}: ")
    assert stored_files() == before
    pdf = add_pdf(world.draft)
    response = client.post(
        reverse("authoring:caption-add", args=[world.draft.id, pdf.id]),
        {"caption_file": SimpleUploadedFile("x.srt", SRT), "caption_language": "fr"},
    )
    assert response.status_code == 302
    assert "Only videos and audio" in client.get(response["Location"]).content.decode()
    pdf.refresh_from_db()
    assert pdf.captions == []

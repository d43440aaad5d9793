"""Pages never load the API's libraries; the API and its docs still work."""

import os
import subprocess
import sys
import textwrap

import pytest

pytestmark = pytest.mark.django_db


def test_pages_do_not_load_pydantic_until_the_api_is_used(tmp_path):
    script = textwrap.dedent(
        """
        import sys
        import django
        django.setup()
        from django.core.management import call_command
        call_command("migrate", verbosity=0)
        from django.test import Client
        client = Client()
        assert client.get("/signin/").status_code == 200
        print("pages", "pydantic" in sys.modules, "ninja" in sys.modules)
        assert client.get("/api/v1/openapi.json").status_code == 200
        print("api", "pydantic" in sys.modules)
        """
    )
    env = {
        **os.environ,
        "KALAN_HOME": str(tmp_path),
        "DJANGO_SETTINGS_MODULE": "kalan.config.settings.test",
    }
    env.pop("KALAN_DATABASE_URL", None)
    result = subprocess.run(
        [sys.executable, "-c", script],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split("\n")[:2] == ["pages False False", "api True"]


def test_docs_page_is_served_from_local_files(client):
    html = client.get("/api/v1/docs").content.decode()
    assert "/static/ninja/swagger-ui-bundle" in html
    assert "cdn" not in html.lower()
    assert "https://" not in html

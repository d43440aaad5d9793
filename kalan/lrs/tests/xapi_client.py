"""Talking to /xapi/ in tests: credentials, headers, and statements to send."""

import base64
import json
import uuid
from typing import Any

from django.test import Client

from kalan.lrs.auth import new_credentials

ENDPOINT = "/xapi/"


def basic(user: str, password: str) -> str:
    return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()


class Xapi:
    """A client with HTTP Basic credentials and the version header on every request."""

    def __init__(
        self, client: Client, *, version: str = "2.0.0", authorization: str | None = None
    ) -> None:
        self.client = client
        self.version = version
        if authorization is None:
            credential, secret = new_credentials(name="test tool")
            authorization = basic(credential.key, secret)
            self.credential = credential
        self.authorization = authorization

    def headers(self, **extra: str) -> dict[str, str]:
        headers = {"X-Experience-API-Version": self.version}
        if self.authorization:
            headers["Authorization"] = self.authorization
        headers.update(extra)
        return headers

    def request(
        self,
        method: str,
        resource: str,
        *,
        params: dict[str, Any] | None = None,
        body: Any = None,
        raw: bytes | None = None,
        content_type: str = "application/json",
        headers: dict[str, str] | None = None,
    ) -> Any:
        from urllib.parse import urlencode

        path = ENDPOINT + resource
        if params:
            path += "?" + urlencode(
                {k: json.dumps(v) if isinstance(v, dict) else v for k, v in params.items()}
            )
        data = raw if raw is not None else (b"" if body is None else json.dumps(body).encode())
        return self.client.generic(
            method,
            path,
            data=data,
            content_type=content_type,
            headers=self.headers(**(headers or {})),
        )

    def post(self, statements: Any, **kwargs: Any) -> Any:
        return self.request("POST", "statements", body=statements, **kwargs)

    def put(self, statement: Any, statement_id: str, **kwargs: Any) -> Any:
        return self.request(
            "PUT", "statements", params={"statementId": statement_id}, body=statement, **kwargs
        )

    def get(self, **params: Any) -> Any:
        return self.request("GET", "statements", params=params)


def agent(name: str) -> dict[str, Any]:
    return {"objectType": "Agent", "mbox": f"mailto:{name}@example.org", "name": name}


def statement(
    *,
    actor: dict[str, Any] | None = None,
    verb: str = "http://adlnet.gov/expapi/verbs/experienced",
    activity: str = "http://example.org/activities/one",
    statement_id: str | None = None,
    **extra: Any,
) -> dict[str, Any]:
    made: dict[str, Any] = {
        "actor": actor or agent("ama"),
        "verb": {"id": verb, "display": {"en-US": verb.rsplit("/", 1)[-1]}},
        "object": {"objectType": "Activity", "id": activity},
        **extra,
    }
    if statement_id:
        made["id"] = statement_id
    return made


def new_id() -> str:
    return str(uuid.uuid4())

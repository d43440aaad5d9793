"""How a Kalan person appears in learning records: an xAPI Agent with an account.

The account's homePage is the same on every instance, so a learner's records
name them identically on the tablet's hub, the district server and the
national one, whatever address each was reached at. The name is the person's
id, never their name: records leave the school, personal data does not.
"""

import uuid
from typing import Any

# A reserved domain (RFC 2606): an identifier, never fetched.
ACCOUNT_HOMEPAGE = "https://kalan.invalid/people"


def actor_for(user_id: uuid.UUID) -> dict[str, Any]:
    return {"objectType": "Agent", "account": {"homePage": ACCOUNT_HOMEPAGE, "name": str(user_id)}}


def user_id_of(agent: Any) -> uuid.UUID | None:
    """The person an Agent names, when it is one of ours; None otherwise."""
    if not isinstance(agent, dict):
        return None
    account = agent.get("account")
    if not isinstance(account, dict) or account.get("homePage") != ACCOUNT_HOMEPAGE:
        return None
    try:
        return uuid.UUID(str(account.get("name")))
    except ValueError:
        return None

"""Contact names and pictures from the User Profile API, with a quiet fallback.

Facebook gives a name only with the profile feature approved and only for people who have
engaged with the page; anything else is normal, not an error, and the contact gets a
readable fallback name instead.
"""

from __future__ import annotations

from aws_lambda_powertools import Logger

from inbox import secrets
from inbox import settings as settings_module
from inbox.actions.graph_calls import flag_reconnect_needed
from inbox.actions.inbound import ProfileSource
from inbox.errors import GraphError, PageTokenInvalid
from inbox.facebook.graph import GraphClient
from inbox.models import Page

logger = Logger(child=True)


class GraphProfiles(ProfileSource):
    def __init__(self, graph: GraphClient | None = None) -> None:
        self._graph = graph

    @property
    def graph(self) -> GraphClient:
        settings = settings_module.settings
        # Made on first use (a cold start may need no profile) and again if the settings
        # moved, as they do between the local stack's and the tests' sandboxes.
        if self._graph is None or self._graph.base_url != settings.graph_api_url:
            self._graph = GraphClient(settings.graph_api_url, settings.graph_api_version,
                                      secrets.app_credentials()["app_secret"])
        return self._graph

    def messenger_profile(self, page: Page, psid: str) -> tuple[str, str | None] | None:
        if page.reconnect_needed:
            return None
        token = secrets.page_token(page.page_id)
        if not token:
            logger.warning("page has no token", extra={"page_id": page.page_id})
            return None
        try:
            profile = self.graph.get_user_profile(psid, token)
        except PageTokenInvalid as exc:
            # The inbox shows the page needs reconnecting before anyone's reply fails; the
            # page item is the ingest's cached one, so its next contacts skip the look-up.
            flag_reconnect_needed(page.page_id, exc)
            page.reconnect_needed = True
            return None
        except GraphError as exc:
            logger.warning("contact profile unavailable",
                           extra={"page_id": page.page_id, "code": exc.code,
                                  "graph_code": exc.fields.get("graph_code")})
            return None
        name = profile.get("name") or " ".join(
            part for part in (profile.get("first_name"), profile.get("last_name")) if part
        )
        return (name, profile.get("profile_pic")) if name else None

"""MCP behind the login page.

Gradio's MCP server runs a queued tool through a gradio_client of its own, which loads the app's config without
credentials; behind a login every such call then fails for everyone with "credentials were not provided". The
studio gives that loopback client a login of its own (a random password that never leaves this process) whose
role is visitor. Each call still carries its caller's headers, and a caller's own cookie wins over the loopback
client's, so owners run jobs over MCP while reviewers and anonymous callers get the studio's own refusal.
"""
from __future__ import annotations

import secrets
from typing import Any

LOOPBACK_USER = "studio-mcp-loopback"


def loopback_login() -> tuple[str, str]:
    return LOOPBACK_USER, secrets.token_urlsafe(24)


def attach(demo: Any, login: tuple[str, str]) -> bool:
    """Give the running app's MCP server a logged-in loopback client. False when there is no MCP server or this
    Gradio no longer has the hook (then MCP keeps Gradio's own behaviour)."""
    server = getattr(demo, "mcp_server_obj", None)
    if server is None or not hasattr(server, "_client_instance") or not server.local_url:
        return False
    from gradio_client import Client
    # The same options Gradio's MCP server gives its own client, plus the login.
    server._client_instance = Client(server.local_url, auth=login, download_files=False, verbose=False,
                                     analytics_enabled=False, ssl_verify=False, _skip_components=False,
                                     headers={"x-gradio-user": "mcp"})
    return True

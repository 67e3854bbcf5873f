"""Typing help: every view and API endpoint here runs behind a login, so request.user is our User."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.http import HttpRequest

if TYPE_CHECKING:
    from accounts.models import User


class AuthedRequest(HttpRequest):
    user: User  # type: ignore[assignment]

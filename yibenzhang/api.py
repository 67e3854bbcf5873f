"""The HTTP API (django-ninja): /api/, schema at /api/openapi.json, docs at /api/docs.

Machines authenticate with ``Authorization: Bearer <token>`` (accounts.services.issue_token);
the browser with its session (CSRF checked on writes). Scoping is the same as on the pages.
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse
from ninja import NinjaAPI
from ninja.security import HttpBearer
from ninja.security.session import SessionAuth

from accounts.services import user_for_token


class TokenAuth(HttpBearer):
    """The token's user, kept by each worker for accounts.services.TOKEN_CACHE_SECONDS (the window in which
    a token revoked in the admin may still be honoured; revoke_token refuses it at once in its process)."""

    openapi_description = "API token: Authorization: Bearer ybz_…（python manage.py issue_token USERNAME）"

    def authenticate(self, request: HttpRequest, token: str) -> Any:
        user = user_for_token(token)
        if user is not None:
            request.user = user
        return user


class BrowserSession(SessionAuth):
    """The logged-in browser; unsafe methods need the CSRF token (X-CSRFToken header)."""

    def authenticate(self, request: HttpRequest, key: str | None) -> Any:
        user = super().authenticate(request, key)
        if user is not None and not user.is_active:
            return None
        return user


api = NinjaAPI(
    title="一本账 API",
    version="1",
    description="基层卫生健康与社区工作台账。所有数据按用户所属单位及其下级范围过滤；证件号码默认脱敏。",
    urls_namespace="api",
    auth=[TokenAuth(), BrowserSession()],
)


@api.exception_handler(PermissionDenied)
def permission_denied(request: HttpRequest, exc: PermissionDenied) -> HttpResponse:
    return api.create_response(request, {"detail": str(exc) or "没有权限"}, status=403)


@api.exception_handler(ValidationError)
def validation_error(request: HttpRequest, exc: ValidationError) -> HttpResponse:
    errors = exc.message_dict if hasattr(exc, "error_dict") else {"__all__": exc.messages}
    detail = [{"field": field, "message": message} for field, messages in errors.items() for message in messages]
    return api.create_response(request, {"detail": detail}, status=422)


def _mount() -> None:
    from accounts.api import router as accounts_router
    from familyplanning.api import router as familyplanning_router
    from orgunits.api import router as orgunits_router
    from outbreak.api import router as outbreak_router
    from registry.api import households as households_router
    from registry.api import router as registry_router
    from testing.api import router as testing_router
    from testing.api_sampling import router as sampling_router
    from testing.routine.api import router as routine_router
    from vaccination.api import router as vaccination_router

    api.add_router("/", accounts_router)
    api.add_router("/units/", orgunits_router)
    api.add_router("/residents/", registry_router)
    api.add_router("/households/", households_router)
    api.add_router("/familyplanning/", familyplanning_router)
    api.add_router("/outbreak/", outbreak_router)
    api.add_router("/testing/", testing_router)
    api.add_router("/testing/", sampling_router)
    api.add_router("/testing/routine/", routine_router)
    api.add_router("/vaccination/", vaccination_router)


_mount()
__all__ = ["api"]

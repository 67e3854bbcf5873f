"""Small helpers every ledger page uses: the ?unit= parameter, GET filter forms, pagination links."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.http import Http404
from django.utils.translation import gettext as _

from core.http import AuthedRequest
from core.scoping import visible_units
from orgunits.models import OrgUnit


def unit_param(request: AuthedRequest) -> OrgUnit | None:
    """?unit=<id>: any unit of the user's subtree; another unit is "not found", never "forbidden"."""
    raw = request.GET.get("unit")
    if not raw:
        return None
    try:
        return visible_units(request.user).select_related("parent").get(pk=int(raw))
    except (ValueError, OrgUnit.DoesNotExist):
        raise Http404 from None


def unit_by_code(request: AuthedRequest, code: str) -> OrgUnit:
    """The API's ``unit=<code>``: a unit of the user's subtree by its code, the user's own when empty;
    another unit is "not found", never "forbidden"."""
    if not code:
        if request.user.org_unit is None:
            raise ValidationError({"unit": _("请指定单位代码（unit）")})
        return request.user.org_unit
    unit = visible_units(request.user).filter(code=code).first()
    if unit is None:
        raise Http404
    return unit


def cleaned(form: Any) -> dict[str, Any]:
    """The valid filters of a GET form: an invalid value (a typo in an old link) drops only itself."""
    if not form.is_bound:
        return {}
    form.is_valid()
    return dict(form.cleaned_data)


def query_without_page(request: AuthedRequest) -> str:
    """The current filters as a query string, for pagination and export links."""
    q = request.GET.copy()
    q.pop("page", None)
    q.pop("export", None)
    return q.urlencode()

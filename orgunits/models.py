"""The administrative tree: district > street/township > community/village > grid > building.

Subtree queries use a materialized path (``path``): each node's path is its
parent's path plus its own zero-padded id and a slash, so a subtree is the
half-open string range [path, path + "~") and is served by a plain b-tree
index on every database. See docs/orgunits.md.
"""

from __future__ import annotations

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

PATH_SEGMENT_WIDTH = 9
PATH_END = "~"  # sorts after digits and "/", closing the subtree range


class Level(models.TextChoices):
    DISTRICT = "district", _("区/县")
    STREET = "street", _("街道/乡镇")
    COMMUNITY = "community", _("社区/村")
    GRID = "grid", _("网格")
    BUILDING = "building", _("楼栋")


LEVEL_ORDER = [Level.DISTRICT, Level.STREET, Level.COMMUNITY, Level.GRID, Level.BUILDING]


class OrgUnit(models.Model):
    code = models.CharField(_("区划代码"), max_length=20, unique=True)
    name = models.CharField(_("名称"), max_length=100)
    level = models.CharField(_("层级"), max_length=12, choices=Level.choices)
    parent = models.ForeignKey(
        "self", verbose_name=_("上级"), null=True, blank=True, on_delete=models.PROTECT, related_name="children"
    )
    path = models.CharField(max_length=255, db_index=True, editable=False)
    depth = models.PositiveSmallIntegerField(default=0, editable=False)
    # Buildings only: how many household places the building has (可容纳户数).
    capacity_households = models.PositiveIntegerField(_("可容纳户数"), default=0)
    established_on = models.DateField(_("设立日期"), null=True, blank=True)
    retired_on = models.DateField(_("撤销日期"), null=True, blank=True)
    retired_reason = models.CharField(_("撤销原因"), max_length=200, blank=True)
    merged_into = models.ForeignKey(
        "self", verbose_name=_("并入"), null=True, blank=True, on_delete=models.PROTECT, related_name="merged_from"
    )
    history = HistoricalRecords(excluded_fields=["depth"])

    class Meta:
        verbose_name = _("行政区划")
        verbose_name_plural = _("行政区划")
        ordering = ["path"]
        constraints = [
            models.CheckConstraint(
                condition=Q(level="district") | Q(parent__isnull=False), name="orgunit_parent_required_below_district"
            ),
            models.CheckConstraint(
                condition=Q(retired_on__isnull=True) | ~Q(retired_reason=""), name="orgunit_retired_has_reason"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name}（{self.code}）"

    @property
    def is_active(self) -> bool:
        return self.retired_on is None

    @property
    def path_end(self) -> str:
        return self.path + PATH_END

    def subtree_q(self, prefix: str = "") -> Q:
        """Q object selecting rows whose ``{prefix}path`` lies in this unit's subtree."""
        return Q(**{f"{prefix}path__gte": self.path, f"{prefix}path__lt": self.path_end})

    def ancestors(self) -> models.QuerySet[OrgUnit]:
        ids = [int(seg) for seg in self.path.strip("/").split("/") if seg]
        return OrgUnit.objects.filter(pk__in=ids).order_by("depth")

    def is_within(self, other: OrgUnit) -> bool:
        return self.path.startswith(other.path)

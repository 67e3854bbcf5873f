"""疫苗接种 ledgers: vaccine products and their rules (data), doses given to residents, the reasons
people are not vaccinated (data) and the records that say so for a person.

What a person has reached (first dose, full course, booster), when the next dose is due and why a
person is not vaccinated at a level are pure rules in rules.py; "interval not met" and "no booster
needed" are computed there, never stored. Writes are in services.py. See docs/vaccination.md.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords


class VaccineKind(models.TextChoices):
    INACTIVATED = "inactivated", _("灭活疫苗")
    RECOMBINANT_PROTEIN = "recombinant_protein", _("重组蛋白疫苗")
    ADENOVIRUS_VECTOR = "adenovirus_vector", _("腺病毒载体疫苗")


class VaccineProduct(models.Model):
    """A vaccine on the market and its schedule: doses of the full course, intervals, booster or not."""

    code = models.SlugField(_("代码"), max_length=30, unique=True)
    name = models.CharField(_("疫苗名称"), max_length=60)
    manufacturer = models.CharField(_("生产企业"), max_length=60)
    kind = models.CharField(_("疫苗类型"), max_length=20, choices=VaccineKind.choices)
    course_doses = models.PositiveSmallIntegerField(_("全程接种剂次"))
    min_interval_days = models.PositiveSmallIntegerField(
        _("全程剂次最短间隔（天）"), default=0, help_text=_("相邻两剂之间至少相隔的天数")
    )
    booster_needed = models.BooleanField(_("需要加强免疫"), default=True)
    booster_interval_days = models.PositiveSmallIntegerField(
        _("加强针与全程最短间隔（天）"), default=90, help_text=_("完成全程接种后至少相隔多少天可接种加强针")
    )
    retired_on = models.DateField(_("停用日期"), null=True, blank=True)
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("疫苗产品")
        verbose_name_plural = _("疫苗产品")
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(fields=["name", "manufacturer"], name="vc_product_unique_name"),
            # At most 3 doses: DoseSummary keeps the dates of doses 1–4 (a course and its booster).
            models.CheckConstraint(
                condition=Q(course_doses__gte=1, course_doses__lte=3), name="vc_product_course_doses_range"
            ),
            models.CheckConstraint(
                condition=Q(kind__in=["inactivated", "recombinant_protein", "adenovirus_vector"]),
                name="vc_product_kind_valid",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name}（{self.manufacturer}）"


class Dose(models.Model):
    """One dose given to a resident. Corrections retire the wrong record and add a new one."""

    resident = models.ForeignKey(
        "registry.Resident", verbose_name=_("受种者"), on_delete=models.PROTECT, related_name="vaccine_doses"
    )
    # No index of its own: a product is looked up with the person or the date (fewer indexes, faster bulk loads).
    product = models.ForeignKey(
        VaccineProduct, verbose_name=_("疫苗"), on_delete=models.PROTECT, related_name="+", db_index=False
    )
    dose_number = models.PositiveSmallIntegerField(_("剂次"))
    date = models.DateField(_("接种日期"))
    site = models.CharField(_("接种单位"), max_length=100, blank=True)
    door_to_door = models.BooleanField(_("上门接种"), default=False)
    note = models.CharField(_("备注"), max_length=200, blank=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("登记人"),
        null=True,
        on_delete=models.PROTECT,
        related_name="+",
        db_index=False,
    )
    recorded_at = models.DateTimeField(_("登记时间"), default=timezone.now)
    retired_at = models.DateTimeField(_("作废时间"), null=True, blank=True)
    retired_reason = models.CharField(_("作废原因"), max_length=200, blank=True)
    # Versions are read per record (by id): the copied foreign keys need no index of their own.
    history = HistoricalRecords(no_db_index=["resident", "product", "recorded_by"])

    class Meta:
        verbose_name = _("接种记录")
        verbose_name_plural = _("接种记录")
        ordering = ["-date", "-id"]
        indexes = [models.Index(fields=["date"], name="vc_dose_date")]
        constraints = [
            models.UniqueConstraint(
                fields=["resident", "dose_number"],
                condition=Q(retired_at__isnull=True),
                name="vc_dose_unique_active_number",
            ),
            models.CheckConstraint(condition=Q(dose_number__gte=1), name="vc_dose_number_positive"),
            models.CheckConstraint(
                condition=Q(retired_at__isnull=True) | ~Q(retired_reason=""), name="vc_dose_retired_has_reason"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.resident_id} 第{self.dose_number}剂 {self.date}"


class RowidOneToOneField(models.OneToOneField):
    """A one-to-one primary key that SQLite stores as the table's rowid ("integer primary key"): a
    join from the person finds the row in one B-tree search instead of an index search and a rowid
    search (a foreign key to a big-integer id is declared "bigint", which SQLite does not alias)."""

    def db_type(self, connection: Any) -> str | None:
        if connection.vendor == "sqlite":
            return "integer"
        return super().db_type(connection)


class DoseSummary(models.Model):
    """One row per person with doses: a derived copy of the person's active doses, rebuilt from them by
    services.refresh_summaries whenever they change (never edited by hand). A street's coverage then
    reads 80,000 narrow rows in one pass instead of 230,000 doses (docs/vaccination.md, performance).

    ``d1``–``d4`` are the dates of doses 1–4: a course has at most 3 doses, so they hold the full
    course and the first booster of every product; ``product`` is dose 1's (the course's schedule).
    """

    resident = RowidOneToOneField(
        "registry.Resident", primary_key=True, on_delete=models.CASCADE, related_name="vaccination_summary"
    )
    product = models.ForeignKey(VaccineProduct, null=True, on_delete=models.PROTECT, related_name="+", db_index=False)
    doses = models.PositiveSmallIntegerField(default=0)
    d1 = models.DateField(null=True)
    d2 = models.DateField(null=True)
    d3 = models.DateField(null=True)
    d4 = models.DateField(null=True)
    last = models.DateField(null=True)

    class Meta:
        verbose_name = _("接种进度（由接种记录生成）")
        verbose_name_plural = _("接种进度（由接种记录生成）")

    def __str__(self) -> str:
        return f"{self.resident_id}: {self.doses}"


class NonVaccinationReason(models.Model):
    """Why a person is not vaccinated (禁忌症, 拒绝, 外出 …): data, kept by the district administrator.

    "Interval not met" is not a reason to record: rules.py computes it from the doses. ``absent``
    reasons (外出, 失联, 死亡) take the person out of the "现有人口" of an age group.
    """

    code = models.SlugField(_("代码"), max_length=40, unique=True)
    name = models.CharField(_("名称"), max_length=40, unique=True)
    absent = models.BooleanField(_("不在辖区（不计入现有人口）"), default=False)
    retired_on = models.DateField(_("停用日期"), null=True, blank=True)
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("未接种原因")
        verbose_name_plural = _("未接种原因")
        ordering = ["id"]

    def __str__(self) -> str:
        return self.name


class ReasonScope(models.TextChoices):
    """The level a reason explains: that level and every later one (a contraindication to the full
    course also explains the missing booster)."""

    ANY = "any", _("全部剂次（含首针）")
    FULL_COURSE = "full_course", _("全程接种")
    BOOSTER = "booster", _("加强免疫")


class ReasonRecord(models.Model):
    """A person's reason for not being vaccinated at a level, valid from a date (until a date)."""

    resident = models.ForeignKey(
        "registry.Resident", verbose_name=_("居民"), on_delete=models.PROTECT, related_name="vaccination_reasons"
    )
    reason = models.ForeignKey(
        NonVaccinationReason, verbose_name=_("原因"), on_delete=models.PROTECT, related_name="records"
    )
    scope = models.CharField(_("适用剂次"), max_length=12, choices=ReasonScope.choices, default=ReasonScope.ANY)
    valid_from = models.DateField(_("起始日期"))
    valid_to = models.DateField(_("截止日期"), null=True, blank=True)
    note = models.CharField(_("说明"), max_length=200, blank=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("登记人"), null=True, on_delete=models.PROTECT, related_name="+"
    )
    recorded_at = models.DateTimeField(_("登记时间"), default=timezone.now)
    retired_at = models.DateTimeField(_("作废时间"), null=True, blank=True)
    retired_reason = models.CharField(_("作废原因"), max_length=200, blank=True)
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("未接种原因记录")
        verbose_name_plural = _("未接种原因记录")
        ordering = ["-valid_from", "-id"]
        indexes = [models.Index(fields=["resident", "valid_from"], name="vc_reason_resident_from")]
        constraints = [
            models.CheckConstraint(
                condition=Q(valid_to__isnull=True) | Q(valid_to__gte=F("valid_from")), name="vc_reason_range_valid"
            ),
            models.CheckConstraint(
                condition=Q(scope__in=["any", "full_course", "booster"]), name="vc_reason_scope_valid"
            ),
            models.CheckConstraint(
                condition=Q(retired_at__isnull=True) | ~Q(retired_reason=""), name="vc_reason_retired_has_reason"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.resident_id} {self.reason_id} {self.valid_from}"

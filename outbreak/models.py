"""疫情防控 ledgers for any notifiable outbreak: the event and its risk areas, the measure rules (data),
screenings (摸排) with their findings, daily follow-ups and alerts, checkpoints with their register
and pass rules, and the daily / zero reports with their versions.

Rules (measure dates, alerts, pass quota, timeliness) are pure functions in rules.py; writes are in
services.py. See docs/outbreak.md.
"""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

TEMPERATURE_MIN = Decimal("34.0")
TEMPERATURE_MAX = Decimal("43.0")


class EventStatus(models.TextChoices):
    ACTIVE = "active", _("进行中")
    CLOSED = "closed", _("已结束")


class Event(models.Model):
    """An outbreak response, declared by a unit for its subtree (a district, a street)."""

    unit = models.ForeignKey("orgunits.OrgUnit", verbose_name=_("发起单位"), on_delete=models.PROTECT, related_name="+")
    name = models.CharField(_("名称"), max_length=100)
    disease = models.CharField(_("病种"), max_length=60)
    started_on = models.DateField(_("开始日期"))
    ended_on = models.DateField(_("结束日期"), null=True, blank=True)
    status = models.CharField(_("状态"), max_length=10, choices=EventStatus.choices, default=EventStatus.ACTIVE)
    report_deadline = models.TimeField(_("日报截止时间"), help_text=_("如 17:00"))
    lost_after_days = models.PositiveSmallIntegerField(_("连续未随访天数视为失访"), default=2)
    note = models.CharField(_("说明"), max_length=200, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("疫情事件")
        verbose_name_plural = _("疫情事件")
        ordering = ["-started_on", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(ended_on__isnull=True) | Q(ended_on__gte=F("started_on")), name="ob_event_range_valid"
            ),
        ]

    def __str__(self) -> str:
        return self.name


class RiskLevel(models.TextChoices):
    HIGH = "high", _("高风险")
    MEDIUM = "medium", _("中风险")
    LOW = "low", _("低风险")


class RiskArea(models.Model):
    event = models.ForeignKey(Event, on_delete=models.PROTECT, related_name="risk_areas")
    area = models.CharField(_("地区"), max_length=100, help_text=_("如“湖北省武汉市”或“上海市浦东新区”"))
    level = models.CharField(_("风险等级"), max_length=8, choices=RiskLevel.choices)
    valid_from = models.DateField(_("起始日期"))
    valid_to = models.DateField(_("截止日期"), null=True, blank=True)
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("风险地区")
        verbose_name_plural = _("风险地区")
        ordering = ["event", "area", "valid_from"]
        constraints = [
            models.CheckConstraint(
                condition=Q(valid_to__isnull=True) | Q(valid_to__gte=F("valid_from")), name="ob_riskarea_range_valid"
            ),
            models.UniqueConstraint(fields=["event", "area", "valid_from"], name="ob_riskarea_unique_start"),
        ]

    def __str__(self) -> str:
        return f"{self.area}（{self.get_level_display()}）"


class PersonKind(models.TextChoices):
    ARRIVAL = "arrival", _("风险地区来返人员")
    CLOSE_CONTACT = "close_contact", _("密切接触者")
    SECONDARY_CONTACT = "secondary_contact", _("次密切接触者")
    OTHER = "other", _("其他")


class Measure(models.TextChoices):
    CENTRAL_QUARANTINE = "central", _("集中隔离")
    HOME_QUARANTINE = "home", _("居家隔离")
    HEALTH_MONITORING = "monitoring", _("居家健康监测")
    NONE = "none", _("无需管控")


class MeasureRule(models.Model):
    """What happens to a kind of person from an area of a risk level: a measure for a number of days."""

    event = models.ForeignKey(Event, on_delete=models.PROTECT, related_name="measure_rules")
    person_kind = models.CharField(_("人员类别"), max_length=20, choices=PersonKind.choices)
    risk_level = models.CharField(_("风险等级"), max_length=8, choices=RiskLevel.choices, blank=True)
    measure = models.CharField(_("管控措施"), max_length=12, choices=Measure.choices)
    days = models.PositiveSmallIntegerField(_("天数"))
    # Counted from the arrival (or last exposure) date, as the notices say "自抵达之日起14天".
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("管控规则")
        verbose_name_plural = _("管控规则")
        ordering = ["event", "person_kind", "risk_level"]
        constraints = [
            models.UniqueConstraint(fields=["event", "person_kind", "risk_level"], name="ob_rule_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.get_person_kind_display()} {self.get_measure_display()} {self.days}"


class FoundBy(models.TextChoices):
    GRID = "grid", _("网格排查")
    BIG_DATA = "big_data", _("大数据推送")
    SELF_REPORT = "self_report", _("自主申报")
    PUBLIC_REPORT = "public_report", _("群众报告")
    CHECKPOINT = "checkpoint", _("卡口")
    # A positive pooled tube of a mass-testing round hands its members over (testing.services).
    MASS_TESTING = "mass_testing", _("核酸筛查")


class TrackingStatus(models.TextChoices):
    TRACKING = "tracking", _("跟踪中")
    RELEASED = "released", _("已解除")
    TRANSFERRED = "transferred", _("已转运")
    LOST = "lost", _("失访")
    NOT_REQUIRED = "not_required", _("无需跟踪")


class Screening(models.Model):
    """One person found in one event (摸排). A second finding of the same person is merged into it."""

    event = models.ForeignKey(Event, on_delete=models.PROTECT, related_name="screenings")
    unit = models.ForeignKey("orgunits.OrgUnit", verbose_name=_("所在区划"), on_delete=models.PROTECT, related_name="+")
    person = models.ForeignKey(
        "registry.Resident", verbose_name=_("居民"), null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    household = models.ForeignKey(
        "registry.Household", verbose_name=_("户"), null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    name = models.CharField(_("姓名"), max_length=50)
    id_number = models.CharField(_("证件号码"), max_length=32)
    phone = models.CharField(_("联系电话"), max_length=20, blank=True)
    address = models.CharField(_("现住址"), max_length=200, blank=True)
    from_area = models.CharField(_("来自地区"), max_length=100)
    risk_level = models.CharField(_("风险等级"), max_length=8, choices=RiskLevel.choices, blank=True)
    arrival_date = models.DateField(_("抵达日期"))
    person_kind = models.CharField(_("人员类别"), max_length=20, choices=PersonKind.choices)
    measure = models.CharField(_("管控措施"), max_length=12, choices=Measure.choices)
    measure_start = models.DateField(_("管控开始"))
    measure_end = models.DateField(_("计划解除"), null=True, blank=True)
    status = models.CharField(_("跟踪状态"), max_length=14, choices=TrackingStatus.choices)
    status_since = models.DateField(_("状态日期"))
    status_note = models.CharField(_("状态说明"), max_length=200, blank=True)
    household_members = models.PositiveSmallIntegerField(_("同住人数"), default=0)
    # 包保 (三包一): the named people answerable for this person.
    team_grid_worker = models.CharField(_("包保网格员"), max_length=50, blank=True)
    team_doctor = models.CharField(_("包保医生"), max_length=50, blank=True)
    team_police = models.CharField(_("包保民警"), max_length=50, blank=True)
    released_on = models.DateField(_("解除日期"), null=True, blank=True)
    notice_number = models.CharField(_("告知书编号"), max_length=30, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("摸排对象")
        verbose_name_plural = _("摸排对象")
        ordering = ["-arrival_date", "-id"]
        indexes = [
            models.Index(fields=["event", "status"], name="ob_screening_event_status"),
            models.Index(fields=["event", "measure_end"], name="ob_screening_event_end"),
        ]
        constraints = [
            models.UniqueConstraint(fields=["event", "id_number"], name="ob_screening_one_per_person"),
            models.CheckConstraint(
                condition=Q(measure_end__isnull=True) | Q(measure_end__gte=F("measure_start")),
                name="ob_screening_measure_range",
            ),
            models.CheckConstraint(
                condition=Q(released_on__isnull=True) | Q(status="released"), name="ob_screening_release_status"
            ),
        ]

    def __str__(self) -> str:
        return self.name


class Finding(models.Model):
    """How and when a screened person was found (a merged duplicate adds a finding, not a person)."""

    screening = models.ForeignKey(Screening, on_delete=models.PROTECT, related_name="findings")
    found_by = models.CharField(_("发现途径"), max_length=16, choices=FoundBy.choices)
    found_on = models.DateField(_("发现日期"))
    note = models.CharField(_("说明"), max_length=200, blank=True)
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+")
    recorded_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("发现记录")
        verbose_name_plural = _("发现记录")
        ordering = ["found_on", "id"]

    def __str__(self) -> str:
        return f"{self.get_found_by_display()} {self.found_on}"


class Slot(models.TextChoices):
    MORNING = "am", _("上午")
    EVENING = "pm", _("下午")


class FollowUp(models.Model):
    """One temperature check of a person under a measure (twice a day)."""

    screening = models.ForeignKey(Screening, on_delete=models.PROTECT, related_name="follow_ups")
    date = models.DateField(_("日期"))
    slot = models.CharField(_("时段"), max_length=2, choices=Slot.choices)
    temperature = models.DecimalField(_("体温（℃）"), max_digits=3, decimal_places=1)
    symptoms = models.JSONField(_("症状"), default=list, blank=True)
    note = models.CharField(_("备注"), max_length=200, blank=True)
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+")
    recorded_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("随访记录")
        verbose_name_plural = _("随访记录")
        ordering = ["-date", "slot"]
        constraints = [
            models.UniqueConstraint(fields=["screening", "date", "slot"], name="ob_followup_one_per_slot"),
            models.CheckConstraint(
                condition=Q(temperature__gte=TEMPERATURE_MIN, temperature__lte=TEMPERATURE_MAX),
                name="ob_followup_temperature_range",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.screening} {self.date} {self.slot}"


class AlertKind(models.TextChoices):
    FEVER = "fever", _("发热")
    SYMPTOM = "symptom", _("症状")
    NOT_SEEN = "not_seen", _("多日未随访")


class Alert(models.Model):
    screening = models.ForeignKey(Screening, on_delete=models.PROTECT, related_name="alerts")
    follow_up = models.ForeignKey(FollowUp, null=True, blank=True, on_delete=models.PROTECT, related_name="alerts")
    kind = models.CharField(_("类型"), max_length=10, choices=AlertKind.choices)
    detail = models.CharField(_("内容"), max_length=200)
    raised_at = models.DateTimeField(_("发生时间"))
    handled_at = models.DateTimeField(_("处置时间"), null=True, blank=True)
    handled_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    handling = models.CharField(_("处置情况"), max_length=200, blank=True)

    class Meta:
        verbose_name = _("预警")
        verbose_name_plural = _("预警")
        ordering = ["-raised_at"]
        constraints = [
            models.CheckConstraint(
                condition=Q(handled_at__isnull=True) | ~Q(handling=""), name="ob_alert_handled_has_note"
            ),
        ]

    def __str__(self) -> str:
        return self.detail


class Checkpoint(models.Model):
    unit = models.ForeignKey("orgunits.OrgUnit", verbose_name=_("所在区划"), on_delete=models.PROTECT, related_name="+")
    event = models.ForeignKey(Event, on_delete=models.PROTECT, related_name="checkpoints")
    name = models.CharField(_("名称"), max_length=60)
    location = models.CharField(_("位置"), max_length=100, blank=True)
    retired_on = models.DateField(_("撤除日期"), null=True, blank=True)
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("卡口")
        verbose_name_plural = _("卡口")
        ordering = ["unit__path", "name"]

    def __str__(self) -> str:
        return self.name


class DutyShift(models.Model):
    checkpoint = models.ForeignKey(Checkpoint, on_delete=models.PROTECT, related_name="shifts")
    starts_at = models.DateTimeField(_("开始"))
    ends_at = models.DateTimeField(_("结束"))
    people = models.CharField(_("值守人员"), max_length=200)
    phone = models.CharField(_("联系电话"), max_length=20, blank=True)

    class Meta:
        verbose_name = _("值班")
        verbose_name_plural = _("值班")
        ordering = ["starts_at"]
        constraints = [models.CheckConstraint(condition=Q(ends_at__gt=F("starts_at")), name="ob_shift_range_valid")]

    def __str__(self) -> str:
        return f"{self.checkpoint} {self.starts_at:%m-%d %H:%M}"


class PassRule(models.Model):
    """Seed 004: 每户居民每两天可一人出门 — at most ``max_exits`` exits per household in ``days`` days."""

    event = models.ForeignKey(Event, on_delete=models.PROTECT, related_name="pass_rules")
    unit = models.ForeignKey("orgunits.OrgUnit", verbose_name=_("适用区划"), on_delete=models.PROTECT, related_name="+")
    max_exits = models.PositiveSmallIntegerField(_("每户出门人次"))
    days = models.PositiveSmallIntegerField(_("天数"))
    valid_from = models.DateField(_("起始日期"))
    valid_to = models.DateField(_("截止日期"), null=True, blank=True)
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("通行规则")
        verbose_name_plural = _("通行规则")
        constraints = [
            models.CheckConstraint(condition=Q(max_exits__gte=1, days__gte=1), name="ob_passrule_positive"),
        ]

    def __str__(self) -> str:
        return f"{self.max_exits}/{self.days}"


class Direction(models.TextChoices):
    IN = "in", _("进")
    OUT = "out", _("出")


class VehicleType(models.TextChoices):
    NONE = "", _("步行")
    PRIVATE = "private", _("私家车")
    EXPRESS = "express", _("快递")
    SUPPLIES = "supplies", _("物资配送")
    OTHER = "other", _("其他车辆")


class HealthCode(models.TextChoices):
    GREEN = "green", _("绿码")
    YELLOW = "yellow", _("黄码")
    RED = "red", _("红码")
    NONE = "", _("未出示")


class CheckpointEntry(models.Model):
    """One crossing of a checkpoint. ``client_id`` makes a phone's retries idempotent."""

    checkpoint = models.ForeignKey(Checkpoint, on_delete=models.PROTECT, related_name="entries")
    client_id = models.CharField(max_length=64, unique=True)
    at = models.DateTimeField(_("时间"))
    direction = models.CharField(_("方向"), max_length=3, choices=Direction.choices)
    person = models.ForeignKey("registry.Resident", null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    household = models.ForeignKey(
        "registry.Household", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    name = models.CharField(_("姓名"), max_length=50, blank=True)
    id_number = models.CharField(_("证件号码"), max_length=32, blank=True)
    phone = models.CharField(_("联系电话"), max_length=20, blank=True)
    plate = models.CharField(_("车牌号"), max_length=12, blank=True)
    vehicle_type = models.CharField(_("车辆类型"), max_length=10, choices=VehicleType.choices, blank=True)
    temperature = models.DecimalField(_("体温（℃）"), max_digits=3, decimal_places=1, null=True, blank=True)
    health_code = models.CharField(_("健康码"), max_length=6, choices=HealthCode.choices, blank=True)
    purpose = models.CharField(_("事由"), max_length=60, blank=True)
    destination = models.CharField(_("去向"), max_length=100, blank=True)
    expected_return = models.DateTimeField(_("预计返回"), null=True, blank=True)
    breach = models.CharField(_("违规情况"), max_length=200, blank=True)
    allowed_reason = models.CharField(_("放行理由"), max_length=200, blank=True)
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    recorded_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("卡口登记")
        verbose_name_plural = _("卡口登记")
        ordering = ["-at", "-id"]
        indexes = [
            models.Index(fields=["checkpoint", "at"], name="ob_entry_checkpoint_at"),
            models.Index(fields=["household", "at"], name="ob_entry_household_at"),
            models.Index(fields=["id_number", "at"], name="ob_entry_person_at"),
        ]
        constraints = [
            models.CheckConstraint(condition=~Q(name="", plate="", id_number=""), name="ob_entry_identifies_someone"),
            models.CheckConstraint(
                condition=Q(temperature__isnull=True)
                | Q(temperature__gte=TEMPERATURE_MIN, temperature__lte=TEMPERATURE_MAX),
                name="ob_entry_temperature_range",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.checkpoint} {self.at:%m-%d %H:%M} {self.name or self.plate}"


class ExpectedReporter(models.Model):
    """A unit the event's level expects a daily report from (default: every community; plus those named)."""

    event = models.ForeignKey(Event, on_delete=models.PROTECT, related_name="reporters")
    unit = models.ForeignKey("orgunits.OrgUnit", on_delete=models.PROTECT, related_name="+")
    since = models.DateField(_("起始日期"))

    class Meta:
        verbose_name = _("报告单位")
        verbose_name_plural = _("报告单位")
        constraints = [models.UniqueConstraint(fields=["event", "unit"], name="ob_reporter_unique")]

    def __str__(self) -> str:
        return f"{self.event} {self.unit}"


class DailyReport(models.Model):
    """A unit's daily report for a date: computed counts plus free text, or an explicit zero report.

    Frozen when submitted; a correction is a new version with its reason.
    """

    event = models.ForeignKey(Event, on_delete=models.PROTECT, related_name="reports")
    unit = models.ForeignKey("orgunits.OrgUnit", on_delete=models.PROTECT, related_name="+")
    date = models.DateField(_("报告日期"))
    version = models.PositiveSmallIntegerField(_("版本"), default=1)
    is_zero = models.BooleanField(_("零报告"), default=False)
    counts = models.JSONField(_("数据"), default=dict)
    text = models.TextField(_("情况说明"), blank=True)
    correction_reason = models.CharField(_("更正原因"), max_length=200, blank=True)
    submitted_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    submitted_at = models.DateTimeField(_("提交时间"))

    class Meta:
        verbose_name = _("日报告")
        verbose_name_plural = _("日报告")
        ordering = ["-date", "unit__path", "-version"]
        constraints = [
            models.UniqueConstraint(fields=["event", "unit", "date", "version"], name="ob_report_unique_version"),
            models.CheckConstraint(
                condition=Q(version=1) | ~Q(correction_reason=""), name="ob_report_correction_has_reason"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.unit} {self.date} v{self.version}"

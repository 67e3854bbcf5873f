"""核酸检测: mass-testing rounds (全员核酸) and routine testing of key groups (应检尽检).

A round has its plan (sites, tables and mobile teams, the buildings each site serves, the staff by
role), its should-sample list (computed as of the round from the registry, minus exemptions, and
frozen into rows so that progress and missed lists are plain counts while the round runs), its
tubes and the samples registered into them at the tables, and the lab results per tube.

Routine testing: key groups (data), their members, a weekly schedule, and test records; each
scheduled day is a cycle whose missed members are listed. See docs/testing.md.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

POOL_SIZE = 10  # 10合1混采


class SampleType(models.TextChoices):
    SINGLE = "single", _("单采")
    POOLED = "pooled", _("10合1混采")


class RoundStatus(models.TextChoices):
    PLANNED = "planned", _("计划中")
    RUNNING = "running", _("进行中")
    CLOSED = "closed", _("已结束")


class Round(models.Model):
    """One mass-testing round (全员核酸 轮次) of a unit (usually a street) over one or more days."""

    unit = models.ForeignKey("orgunits.OrgUnit", verbose_name=_("组织单位"), on_delete=models.PROTECT, related_name="+")
    name = models.CharField(_("名称"), max_length=100)
    sample_type = models.CharField(_("采样方式"), max_length=8, choices=SampleType.choices)
    starts_on = models.DateField(_("开始日期"))
    ends_on = models.DateField(_("结束日期"))
    scope_units = models.ManyToManyField(
        "orgunits.OrgUnit", verbose_name=_("检测范围"), related_name="+", help_text=_("参加本轮的社区/村")
    )
    # Exemption rules of the round (data: the command post changes them from round to round).
    recent_test_hours = models.PositiveSmallIntegerField(
        _("近期已检豁免（小时）"), default=48, help_text=_("本轮开始前多少小时内已有核酸记录的人无需采集；0 表示不豁免")
    )
    previous_round = models.ForeignKey(
        "self",
        verbose_name=_("上一轮（已采者无需采集）"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    table_rate_per_hour = models.PositiveIntegerField(_("每台每小时采样人数"), default=120)
    status = models.CharField(_("状态"), max_length=8, choices=RoundStatus.choices, default=RoundStatus.PLANNED)
    roster_built_at = models.DateTimeField(_("应检名单生成时间"), null=True, blank=True)
    note = models.CharField(_("说明"), max_length=200, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    history = HistoricalRecords(excluded_fields=["roster_built_at"])

    class Meta:
        verbose_name = _("全员核酸轮次")
        verbose_name_plural = _("全员核酸轮次")
        ordering = ["-starts_on", "-id"]
        constraints = [
            models.CheckConstraint(condition=Q(ends_on__gte=F("starts_on")), name="round_ends_after_start"),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def tube_capacity(self) -> int:
        return POOL_SIZE if self.sample_type == SampleType.POOLED else 1


class SamplingSite(models.Model):
    """采样点: where people come to be sampled; serves the buildings assigned to it."""

    round = models.ForeignKey(Round, on_delete=models.PROTECT, related_name="sites")
    unit = models.ForeignKey("orgunits.OrgUnit", verbose_name=_("所在社区"), on_delete=models.PROTECT, related_name="+")
    name = models.CharField(_("名称"), max_length=100)
    location = models.CharField(_("位置"), max_length=200, blank=True)
    leader = models.CharField(_("点长"), max_length=50, blank=True)
    leader_phone = models.CharField(_("点长电话"), max_length=20, blank=True)
    buildings = models.ManyToManyField(
        "orgunits.OrgUnit", verbose_name=_("负责楼栋"), related_name="sampling_sites", blank=True
    )
    retired_at = models.DateTimeField(_("撤销时间"), null=True, blank=True)
    retired_reason = models.CharField(_("撤销原因"), max_length=200, blank=True)
    history = HistoricalRecords(m2m_fields=[buildings])

    class Meta:
        verbose_name = _("采样点")
        verbose_name_plural = _("采样点")
        ordering = ["round", "name"]
        constraints = [
            models.UniqueConstraint(
                fields=["round", "name"], condition=Q(retired_at__isnull=True), name="site_unique_name_in_round"
            ),
        ]

    def __str__(self) -> str:
        return self.name


class TableKind(models.TextChoices):
    FIXED = "fixed", _("固定采样台")
    MOBILE = "mobile", _("流动采样组")


class SamplingTable(models.Model):
    """采样台 (fixed) or 流动采样组 (mobile team, door to door); samples are registered at one."""

    site = models.ForeignKey(SamplingSite, on_delete=models.PROTECT, related_name="tables")
    kind = models.CharField(_("类型"), max_length=8, choices=TableKind.choices, default=TableKind.FIXED)
    number = models.PositiveSmallIntegerField(_("台号"))
    retired_at = models.DateTimeField(_("撤销时间"), null=True, blank=True)
    retired_reason = models.CharField(_("撤销原因"), max_length=200, blank=True)
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("采样台")
        verbose_name_plural = _("采样台")
        ordering = ["site", "kind", "number"]
        constraints = [
            models.UniqueConstraint(fields=["site", "kind", "number"], name="table_unique_number_in_site"),
        ]

    def __str__(self) -> str:
        return f"{self.site.name} {self.get_kind_display()}{self.number}"


class StaffRole(models.TextChoices):
    SAMPLER = "sampler", _("采样")
    REGISTRAR = "registrar", _("登记")
    ORDER = "order", _("秩序维护")
    POLICE = "police", _("公安")
    TRANSPORT = "transport", _("转运")
    DISINFECTION = "disinfection", _("消杀")


class RoundStaff(models.Model):
    """A person on duty in a round: at a site (and a table for samplers and registrars), by role."""

    round = models.ForeignKey(Round, on_delete=models.PROTECT, related_name="staff")
    site = models.ForeignKey(SamplingSite, null=True, blank=True, on_delete=models.PROTECT, related_name="staff")
    table = models.ForeignKey(SamplingTable, null=True, blank=True, on_delete=models.PROTECT, related_name="staff")
    role = models.CharField(_("岗位"), max_length=12, choices=StaffRole.choices)
    name = models.CharField(_("姓名"), max_length=50)
    phone = models.CharField(_("联系电话"), max_length=20, blank=True)
    organisation = models.CharField(_("所属单位"), max_length=100, blank=True)
    vehicle_plate = models.CharField(_("车牌号"), max_length=20, blank=True, help_text=_("转运人员填写"))
    retired_at = models.DateTimeField(_("撤销时间"), null=True, blank=True)
    retired_reason = models.CharField(_("撤销原因"), max_length=200, blank=True)
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("工作人员")
        verbose_name_plural = _("工作人员")
        ordering = ["round", "role", "name"]

    def __str__(self) -> str:
        return f"{self.name}（{self.get_role_display()}）"


class Exemption(models.TextChoices):
    """Why a person on the list needs no sample this round.

    Seed 000: 居家隔离、集中隔离、健康监测、48小时核酸、上一轮演练已采.
    """

    HOME_QUARANTINE = "home", _("居家隔离")
    CENTRAL_QUARANTINE = "central", _("集中隔离")
    HEALTH_MONITORING = "monitoring", _("居家健康监测")
    RECENT_TEST = "recent_test", _("48小时内已检")
    PREVIOUS_ROUND = "previous_round", _("上一轮已采")
    OTHER = "other", _("其他")


class ShouldSample(models.Model):
    """One person of the round's list (应检名单), frozen when the round's list is built.

    ``exemption`` empty means the person should be sampled. Residents link to the registry; people
    added to the round only (workers of sites, shops and hotels in scope) carry name and ID number.
    """

    round = models.ForeignKey(Round, on_delete=models.PROTECT, related_name="roster")
    resident = models.ForeignKey("registry.Resident", null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    name = models.CharField(_("姓名"), max_length=50)
    id_number = models.CharField(_("证件号码"), max_length=32)
    phone = models.CharField(_("联系电话"), max_length=20, blank=True)
    # The building (or the lowest unit) the person lives or works in; grid and community follow from its path.
    unit = models.ForeignKey("orgunits.OrgUnit", verbose_name=_("所在区划"), on_delete=models.PROTECT, related_name="+")
    site = models.ForeignKey(SamplingSite, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    exemption = models.CharField(_("无需采集原因"), max_length=16, choices=Exemption.choices, blank=True)
    exemption_note = models.CharField(_("说明"), max_length=200, blank=True)
    needs_door_to_door = models.BooleanField(_("需上门采集"), default=False)
    # People added to the round only (not residents): where they work, and its kind (工地, 商铺, 企业, 酒店 …).
    workplace = models.CharField(_("工作单位"), max_length=100, blank=True)
    workplace_kind = models.CharField(_("从业场所类型"), max_length=20, blank=True)

    class Meta:
        verbose_name = _("应检人员")
        verbose_name_plural = _("应检人员")
        constraints = [
            models.UniqueConstraint(fields=["round", "id_number"], name="should_sample_unique_person_in_round"),
        ]
        indexes = [models.Index(fields=["round", "unit"], name="should_sample_round_unit")]

    def __str__(self) -> str:
        return self.name


class Tube(models.Model):
    """A tube (试管条码) opened at one table; ``filled`` counts the people in it, never above ``capacity``."""

    round = models.ForeignKey(Round, on_delete=models.PROTECT, related_name="tubes")
    barcode = models.CharField(_("试管条码"), max_length=40)
    table = models.ForeignKey(SamplingTable, on_delete=models.PROTECT, related_name="tubes")
    capacity = models.PositiveSmallIntegerField(_("容量"))
    filled = models.PositiveSmallIntegerField(_("已采人数"), default=0)
    opened_at = models.DateTimeField(_("开管时间"))
    opened_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+")
    closed_at = models.DateTimeField(_("封管时间"), null=True, blank=True)

    class Meta:
        verbose_name = _("试管")
        verbose_name_plural = _("试管")
        constraints = [
            models.UniqueConstraint(fields=["round", "barcode"], name="tube_unique_barcode_in_round"),
            models.CheckConstraint(condition=Q(filled__lte=F("capacity")), name="tube_not_over_capacity"),
            models.CheckConstraint(condition=Q(capacity__gte=1, capacity__lte=POOL_SIZE), name="tube_capacity_range"),
        ]

    def __str__(self) -> str:
        return self.barcode


class Sample(models.Model):
    """One person swabbed into a tube. ``client_id`` (the table's own id for the scan) makes resends harmless.

    A person sampled a second time in the same round is stored (the swab exists) with ``repeat_of``
    pointing at the first sample, and counted once.
    """

    round = models.ForeignKey(Round, on_delete=models.PROTECT, related_name="samples")
    tube = models.ForeignKey(Tube, on_delete=models.PROTECT, related_name="samples")
    position = models.PositiveSmallIntegerField(_("管内序号"))
    client_id = models.CharField(max_length=64)
    resident = models.ForeignKey("registry.Resident", null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    name = models.CharField(_("姓名"), max_length=50)
    id_number = models.CharField(_("证件号码"), max_length=32)
    phone = models.CharField(_("联系电话"), max_length=20, blank=True)
    table = models.ForeignKey(SamplingTable, on_delete=models.PROTECT, related_name="+")
    door_to_door = models.BooleanField(_("上门采集"), default=False)
    make_up = models.BooleanField(_("补采"), default=False)
    taken_at = models.DateTimeField(_("采样时间"))
    received_at = models.DateTimeField(_("接收时间"), auto_now_add=True)
    operator = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+")
    repeat_of = models.ForeignKey(
        "self", verbose_name=_("重复采样"), null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    # Set when a positive pooled tube hands its members over to the outbreak module (摸排).
    screening = models.ForeignKey(
        "outbreak.Screening", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        verbose_name = _("采样记录")
        verbose_name_plural = _("采样记录")
        constraints = [
            models.UniqueConstraint(fields=["round", "client_id"], name="sample_unique_client_id_in_round"),
            models.UniqueConstraint(fields=["tube", "position"], name="sample_unique_position_in_tube"),
            models.UniqueConstraint(fields=["tube", "id_number"], name="sample_person_once_per_tube"),
            models.CheckConstraint(condition=Q(position__gte=1, position__lte=POOL_SIZE), name="sample_position_range"),
        ]
        indexes = [models.Index(fields=["round", "id_number"], name="sample_round_person")]

    def __str__(self) -> str:
        return f"{self.tube.barcode}#{self.position}"


class Result(models.TextChoices):
    NEGATIVE = "negative", _("阴性")
    POSITIVE = "positive", _("阳性")
    INVALID = "invalid", _("无效")


class TubeResult(models.Model):
    """A lab result for a tube; a correction supersedes the earlier one (never edited in place)."""

    tube = models.ForeignKey(Tube, on_delete=models.PROTECT, related_name="results")
    result = models.CharField(_("结果"), max_length=8, choices=Result.choices)
    tested_at = models.DateTimeField(_("检测时间"))
    lab = models.CharField(_("检测机构"), max_length=100, blank=True)
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+")
    recorded_at = models.DateTimeField(auto_now_add=True)
    superseded_at = models.DateTimeField(_("被更正时间"), null=True, blank=True)
    correction_reason = models.CharField(_("更正原因"), max_length=200, blank=True)

    class Meta:
        verbose_name = _("检测结果")
        verbose_name_plural = _("检测结果")
        constraints = [
            models.UniqueConstraint(
                fields=["tube"], condition=Q(superseded_at__isnull=True), name="tube_result_one_current"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.tube.barcode} {self.get_result_display()}"


# ---- routine testing of key groups (应检尽检) ---------------------------------------------------------------------


class KeyGroup(models.Model):
    """A key group tested on a schedule (社区干部, 物业人员 …); data, added by the street."""

    unit = models.ForeignKey("orgunits.OrgUnit", verbose_name=_("管理单位"), on_delete=models.PROTECT, related_name="+")
    name = models.CharField(_("名称"), max_length=60)
    retired_on = models.DateField(_("停用日期"), null=True, blank=True)
    retired_reason = models.CharField(_("停用原因"), max_length=200, blank=True)
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("应检人群")
        verbose_name_plural = _("应检人群")
        ordering = ["unit", "name"]
        constraints = [
            models.UniqueConstraint(
                fields=["unit", "name"], condition=Q(retired_on__isnull=True), name="key_group_unique_name"
            ),
        ]

    def __str__(self) -> str:
        return self.name


class KeyGroupMember(models.Model):
    group = models.ForeignKey(KeyGroup, on_delete=models.PROTECT, related_name="members")
    resident = models.ForeignKey("registry.Resident", null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    name = models.CharField(_("姓名"), max_length=50)
    id_number = models.CharField(_("证件号码"), max_length=32)
    phone = models.CharField(_("联系电话"), max_length=20, blank=True)
    unit = models.ForeignKey("orgunits.OrgUnit", verbose_name=_("所属社区"), on_delete=models.PROTECT, related_name="+")
    workplace = models.CharField(_("工作单位"), max_length=100, blank=True)
    batch = models.PositiveSmallIntegerField(_("批次"), null=True, blank=True)
    joined_on = models.DateField(_("纳入日期"))
    left_on = models.DateField(_("移出日期"), null=True, blank=True)
    left_reason = models.CharField(_("移出原因"), max_length=200, blank=True)
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("应检人员")
        verbose_name_plural = _("应检人员")
        constraints = [
            models.UniqueConstraint(
                fields=["group", "id_number"], condition=Q(left_on__isnull=True), name="key_group_member_unique"
            ),
            models.CheckConstraint(
                condition=Q(left_on__isnull=True) | (Q(left_on__gte=F("joined_on")) & ~Q(left_reason="")),
                name="key_group_member_left_with_reason",
            ),
        ]

    def __str__(self) -> str:
        return self.name


class ScheduleSlot(models.Model):
    """A weekly testing day of a group (e.g. Monday batch 1); a member is due on the slots of his batch
    (or on every slot when the slot has no batch). Dated, so a schedule change keeps past cycles right."""

    group = models.ForeignKey(KeyGroup, on_delete=models.PROTECT, related_name="slots")
    weekday = models.PositiveSmallIntegerField(_("星期"), help_text=_("0=星期一 … 6=星期日"))
    batch = models.PositiveSmallIntegerField(_("批次"), null=True, blank=True)
    site = models.CharField(_("采样点"), max_length=100, blank=True)
    valid_from = models.DateField(_("起始日期"))
    valid_to = models.DateField(_("截止日期"), null=True, blank=True)
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("检测安排")
        verbose_name_plural = _("检测安排")
        ordering = ["group", "weekday", "batch"]
        constraints = [
            models.CheckConstraint(condition=Q(weekday__gte=0, weekday__lte=6), name="schedule_slot_weekday_range"),
            models.CheckConstraint(
                condition=Q(valid_to__isnull=True) | Q(valid_to__gte=F("valid_from")), name="schedule_slot_dates"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.group} {self.weekday + 1} {self.batch or ''}".strip()


class TestSource(models.TextChoices):
    ROUND = "round", _("全员核酸")
    ROUTINE = "routine", _("应检尽检采样点")
    IMPORT = "import", _("导入")


class RoutineTest(models.Model):
    """A key-group member tested on a date (one record per member and day)."""

    member = models.ForeignKey(KeyGroupMember, on_delete=models.PROTECT, related_name="tests")
    tested_on = models.DateField(_("检测日期"))
    source = models.CharField(_("来源"), max_length=8, choices=TestSource.choices)
    sample = models.ForeignKey(Sample, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    site = models.CharField(_("采样点"), max_length=100, blank=True)
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+")
    recorded_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("应检尽检记录")
        verbose_name_plural = _("应检尽检记录")
        constraints = [
            models.UniqueConstraint(fields=["member", "tested_on"], name="routine_test_once_per_day"),
        ]
        indexes = [models.Index(fields=["tested_on"], name="routine_test_date")]

    def __str__(self) -> str:
        return f"{self.member} {self.tested_on}"

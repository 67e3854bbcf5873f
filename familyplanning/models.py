"""计生 ledgers: births, birth-service registrations, assistance/reward schemes with dated standards,
beneficiaries, annual applications (frozen once submitted) with their adjustments, and holiday visits.

Rules (amounts, eligible months, rates, order checks) are pure functions in rules.py; every write
goes through services.py. See docs/familyplanning.md.
"""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from registry.models import Sex

MAX_BIRTH_ORDER = 15


class BirthPolicy(models.Model):
    """The birth policy in force over a date range (e.g. up to three children from 2021-05-31): data."""

    name = models.CharField(_("政策名称"), max_length=100)
    max_children = models.PositiveSmallIntegerField(_("政策内最多孩次"))
    valid_from = models.DateField(_("施行日期"))
    valid_to = models.DateField(_("截止日期"), null=True, blank=True)
    note = models.CharField(_("说明"), max_length=200, blank=True)
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("生育政策")
        verbose_name_plural = _("生育政策")
        ordering = ["valid_from"]
        constraints = [
            models.CheckConstraint(condition=Q(max_children__gte=1), name="birthpolicy_max_children_positive"),
            models.CheckConstraint(
                condition=Q(valid_to__isnull=True) | Q(valid_to__gte=F("valid_from")), name="birthpolicy_range_valid"
            ),
        ]

    def __str__(self) -> str:
        return self.name


class RegistrationStatus(models.TextChoices):
    REGISTERED = "registered", _("已登记")
    BORN = "born", _("已生育")
    CANCELLED = "cancelled", _("已注销")


class BirthServiceRegistration(models.Model):
    """生育服务登记: a couple registers the birth of a child of a given order before it is born."""

    unit = models.ForeignKey("orgunits.OrgUnit", verbose_name=_("所在区划"), on_delete=models.PROTECT, related_name="+")
    mother = models.ForeignKey(
        "registry.Resident", verbose_name=_("女方"), null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    mother_name = models.CharField(_("女方姓名"), max_length=50)
    mother_id_number = models.CharField(_("女方证件号码"), max_length=32, blank=True)
    father = models.ForeignKey(
        "registry.Resident", verbose_name=_("男方"), null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    father_name = models.CharField(_("男方姓名"), max_length=50, blank=True)
    father_id_number = models.CharField(_("男方证件号码"), max_length=32, blank=True)
    birth_order = models.PositiveSmallIntegerField(_("孩次"))
    registered_on = models.DateField(_("登记日期"))
    status = models.CharField(
        _("状态"), max_length=12, choices=RegistrationStatus.choices, default=RegistrationStatus.REGISTERED
    )
    status_reason = models.CharField(_("状态说明"), max_length=200, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("生育服务登记")
        verbose_name_plural = _("生育服务登记")
        ordering = ["-registered_on", "-id"]
        indexes = [models.Index(fields=["registered_on"], name="fp_registration_date")]
        constraints = [
            models.CheckConstraint(
                condition=Q(birth_order__gte=1, birth_order__lte=MAX_BIRTH_ORDER), name="fp_registration_order_range"
            ),
            models.CheckConstraint(condition=~Q(mother_name=""), name="fp_registration_mother_named"),
        ]

    def __str__(self) -> str:
        return f"{self.mother_name}（{self.birth_order}）"


class Birth(models.Model):
    """One child born: the birth facts are kept here; the child is linked to the registry."""

    unit = models.ForeignKey("orgunits.OrgUnit", verbose_name=_("所在区划"), on_delete=models.PROTECT, related_name="+")
    child = models.ForeignKey(
        "registry.Resident",
        verbose_name=_("婴儿（居民）"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="birth_records",
    )
    child_name = models.CharField(_("婴儿姓名"), max_length=50)
    sex = models.CharField(_("性别"), max_length=1, choices=Sex.choices)
    birth_date = models.DateField(_("出生日期"))
    birth_order = models.PositiveSmallIntegerField(_("孩次"))
    place = models.CharField(_("出生地点"), max_length=100, blank=True)
    mother = models.ForeignKey(
        "registry.Resident", verbose_name=_("母亲"), null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    mother_name = models.CharField(_("母亲姓名"), max_length=50)
    mother_id_number = models.CharField(_("母亲证件号码"), max_length=32, blank=True)
    father = models.ForeignKey(
        "registry.Resident", verbose_name=_("父亲"), null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    father_name = models.CharField(_("父亲姓名"), max_length=50, blank=True)
    father_id_number = models.CharField(_("父亲证件号码"), max_length=32, blank=True)
    registration = models.OneToOneField(
        BirthServiceRegistration,
        verbose_name=_("生育服务登记"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="birth",
    )
    # The office's own finding that a birth was outside the policy for a reason the order does not show.
    out_of_policy = models.BooleanField(_("政策外生育"), default=False)
    out_of_policy_reason = models.CharField(_("政策外原因"), max_length=200, blank=True)
    entered_on = models.DateField(_("录入日期"))
    retired_at = models.DateTimeField(_("作废时间"), null=True, blank=True)
    retired_reason = models.CharField(_("作废原因"), max_length=200, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("出生登记")
        verbose_name_plural = _("出生登记")
        ordering = ["-birth_date", "-id"]
        indexes = [
            models.Index(fields=["birth_date"], name="fp_birth_date"),
            models.Index(fields=["mother_id_number"], name="fp_birth_mother_id"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(birth_order__gte=1, birth_order__lte=MAX_BIRTH_ORDER), name="fp_birth_order_range"
            ),
            models.CheckConstraint(condition=Q(sex__in=["M", "F"]), name="fp_birth_sex_valid"),
            models.CheckConstraint(condition=Q(entered_on__gte=F("birth_date")), name="fp_birth_entered_after_birth"),
            models.CheckConstraint(
                condition=Q(out_of_policy=False) | ~Q(out_of_policy_reason=""), name="fp_birth_out_of_policy_reason"
            ),
            models.UniqueConstraint(
                fields=["child"],
                condition=Q(child__isnull=False, retired_at__isnull=True),
                name="fp_birth_one_record_per_child",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.child_name} {self.birth_date}"

    @property
    def days_to_entry(self) -> int:
        return (self.entered_on - self.birth_date).days


class SchemeCategory(models.TextChoices):
    SPECIAL_ASSISTANCE = "special", _("计生特别扶助")
    REWARD_ASSISTANCE = "reward", _("奖励扶助")
    ONLY_CHILD = "only_child", _("独生子女")
    ONE_TIME = "one_time", _("一次性扶助")
    OTHER = "other", _("其他")


class PaymentUnit(models.TextChoices):
    PERSON = "person", _("按人")
    HOUSEHOLD = "household", _("按户")


class PaymentPeriod(models.TextChoices):
    MONTHLY = "monthly", _("按月")
    YEARLY = "yearly", _("按年")
    ONE_TIME = "one_time", _("一次性")


class Scheme(models.Model):
    """An assistance or reward scheme; administrators add new ones as data, without code."""

    code = models.SlugField(_("代码"), max_length=40, unique=True)
    name = models.CharField(_("名称"), max_length=60, unique=True)
    short_name = models.CharField(_("简称"), max_length=20, blank=True, help_text=_("用于工作总结，如“伤残”"))
    category = models.CharField(_("类别"), max_length=12, choices=SchemeCategory.choices)
    payment_unit = models.CharField(_("发放单位"), max_length=12, choices=PaymentUnit.choices)
    period = models.CharField(_("发放周期"), max_length=12, choices=PaymentPeriod.choices)
    # A standard may depend on one attribute of the beneficiary (only-child reward: the child's sex).
    attribute_label = models.CharField(_("标准依据"), max_length=30, blank=True, help_text=_("如“子女性别”"))
    attribute_values = models.CharField(
        _("依据取值"), max_length=200, blank=True, help_text=_("用顿号或逗号分隔，如“男、女”")
    )
    sort_order = models.PositiveSmallIntegerField(_("排序"), default=100)
    note = models.CharField(_("说明"), max_length=200, blank=True)
    retired_on = models.DateField(_("停用日期"), null=True, blank=True)
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("扶助项目")
        verbose_name_plural = _("扶助项目")
        ordering = ["sort_order", "code"]
        constraints = [
            models.CheckConstraint(
                condition=Q(category__in=[c.value for c in SchemeCategory]), name="fp_scheme_category_valid"
            ),
            models.CheckConstraint(
                condition=Q(payment_unit__in=[c.value for c in PaymentUnit]), name="fp_scheme_unit_valid"
            ),
            models.CheckConstraint(
                condition=Q(period__in=[c.value for c in PaymentPeriod]), name="fp_scheme_period_valid"
            ),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def attribute_choices(self) -> list[str]:
        from familyplanning.rules import split_values

        return split_values(self.attribute_values)

    @property
    def label(self) -> str:
        return self.short_name or self.name


class Standard(models.Model):
    """The amount of a scheme (per person or household, per month/year/once) over a date range."""

    scheme = models.ForeignKey(Scheme, verbose_name=_("扶助项目"), on_delete=models.PROTECT, related_name="standards")
    attribute_value = models.CharField(_("依据取值"), max_length=30, blank=True)
    amount = models.DecimalField(_("标准（元）"), max_digits=12, decimal_places=2)
    valid_from = models.DateField(_("起始日期"))
    valid_to = models.DateField(_("截止日期"), null=True, blank=True)
    reason = models.CharField(_("依据文件/原因"), max_length=200, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("扶助标准")
        verbose_name_plural = _("扶助标准")
        ordering = ["scheme", "attribute_value", "valid_from"]
        constraints = [
            models.CheckConstraint(condition=Q(amount__gte=Decimal(0)), name="fp_standard_amount_not_negative"),
            models.CheckConstraint(
                condition=Q(valid_to__isnull=True) | Q(valid_to__gte=F("valid_from")), name="fp_standard_range_valid"
            ),
            models.UniqueConstraint(
                fields=["scheme", "attribute_value", "valid_from"], name="fp_standard_unique_start"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.scheme} {self.attribute_value} {self.amount}"


class EndReason(models.TextChoices):
    DEATH = "death", _("死亡")
    MOVED_OUT = "moved_out", _("迁出")
    INELIGIBLE = "ineligible", _("失去资格")


class Beneficiary(models.Model):
    """A person (or household) enrolled in a scheme from a month until an end date."""

    scheme = models.ForeignKey(
        Scheme, verbose_name=_("扶助项目"), on_delete=models.PROTECT, related_name="beneficiaries"
    )
    unit = models.ForeignKey("orgunits.OrgUnit", verbose_name=_("所在区划"), on_delete=models.PROTECT, related_name="+")
    person = models.ForeignKey(
        "registry.Resident", verbose_name=_("对象（领款人）"), on_delete=models.PROTECT, related_name="fp_enrollments"
    )
    household = models.ForeignKey(
        "registry.Household", verbose_name=_("户"), null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    # The people the enrollment covers (one for a per-person scheme; the family for a per-household one).
    members = models.ManyToManyField("registry.Resident", verbose_name=_("涉及人员"), related_name="+")
    attribute_value = models.CharField(_("依据取值"), max_length=30, blank=True)
    start_month = models.DateField(_("起始月份"), help_text=_("从该月1日起享受"))
    end_date = models.DateField(_("终止日期"), null=True, blank=True)
    end_reason = models.CharField(_("终止原因"), max_length=12, choices=EndReason.choices, blank=True)
    end_note = models.CharField(_("终止说明"), max_length=200, blank=True)
    documents = models.JSONField(_("已核验材料"), default=list, blank=True)
    bank_account = models.CharField(_("银行账号"), max_length=40, blank=True)
    note = models.CharField(_("备注"), max_length=200, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    history = HistoricalRecords(m2m_fields=[members])

    class Meta:
        verbose_name = _("扶助对象")
        verbose_name_plural = _("扶助对象")
        ordering = ["scheme", "start_month", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["scheme", "person"],
                condition=Q(end_date__isnull=True),
                name="fp_beneficiary_one_open_enrollment",
            ),
            models.CheckConstraint(
                condition=Q(end_date__isnull=True) | Q(end_date__gte=F("start_month")),
                name="fp_beneficiary_end_after_start",
            ),
            models.CheckConstraint(
                condition=Q(end_date__isnull=True, end_reason="") | Q(end_date__isnull=False) & ~Q(end_reason=""),
                name="fp_beneficiary_end_has_reason",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.scheme.label} {self.person.name}"

    @property
    def is_active(self) -> bool:
        return self.end_date is None


class ApplicationStatus(models.TextChoices):
    SUBMITTED = "submitted", _("已提交")


class Application(models.Model):
    """The annual application of a unit: frozen when submitted; corrections are Adjustments."""

    unit = models.ForeignKey("orgunits.OrgUnit", verbose_name=_("申报单位"), on_delete=models.PROTECT, related_name="+")
    year = models.PositiveSmallIntegerField(_("年度"))
    status = models.CharField(
        _("状态"), max_length=12, choices=ApplicationStatus.choices, default=ApplicationStatus.SUBMITTED
    )
    total = models.DecimalField(_("申报金额（元）"), max_digits=14, decimal_places=2)
    note = models.CharField(_("备注"), max_length=200, blank=True)
    submitted_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    submitted_at = models.DateTimeField(_("提交时间"))

    class Meta:
        verbose_name = _("年度申报")
        verbose_name_plural = _("年度申报")
        ordering = ["-year", "unit__path"]
        constraints = [
            models.UniqueConstraint(fields=["unit", "year"], name="fp_application_one_per_unit_year"),
            models.CheckConstraint(condition=Q(year__gte=2000, year__lte=2100), name="fp_application_year_range"),
        ]

    def __str__(self) -> str:
        return f"{self.unit.name} {self.year}"


class ApplicationLine(models.Model):
    """One beneficiary's amount in a submitted application, with what the roster shows, as submitted."""

    application = models.ForeignKey(Application, on_delete=models.PROTECT, related_name="lines")
    beneficiary = models.ForeignKey(Beneficiary, on_delete=models.PROTECT, related_name="application_lines")
    scheme = models.ForeignKey(Scheme, on_delete=models.PROTECT, related_name="+")
    unit = models.ForeignKey("orgunits.OrgUnit", on_delete=models.PROTECT, related_name="+")
    name = models.CharField(_("姓名"), max_length=50)
    id_number = models.CharField(_("证件号码"), max_length=32)
    attribute_value = models.CharField(_("依据取值"), max_length=30, blank=True)
    people = models.PositiveSmallIntegerField(_("人数"), default=1)
    months = models.PositiveSmallIntegerField(_("月数"), default=0)
    # [[month, "amount"], …] as applied (month 0: a yearly or one-time payment), for later back-pay.
    breakdown = models.JSONField(default=list)
    detail = models.CharField(_("计算"), max_length=200)
    amount = models.DecimalField(_("金额（元）"), max_digits=12, decimal_places=2)
    bank_account = models.CharField(_("银行账号"), max_length=40, blank=True)

    class Meta:
        verbose_name = _("申报明细")
        verbose_name_plural = _("申报明细")
        ordering = ["scheme__sort_order", "scheme__code", "id"]
        constraints = [
            models.UniqueConstraint(fields=["application", "beneficiary"], name="fp_line_one_per_beneficiary"),
            models.CheckConstraint(condition=Q(amount__gte=Decimal(0)), name="fp_line_amount_not_negative"),
        ]

    def __str__(self) -> str:
        return f"{self.name} {self.amount}"


class Adjustment(models.Model):
    """A correction to a submitted application: back-pay (补发) after a standard changed, or a deduction."""

    application = models.ForeignKey(Application, on_delete=models.PROTECT, related_name="adjustments")
    reason = models.CharField(_("原因"), max_length=200)
    total = models.DecimalField(_("金额（元）"), max_digits=14, decimal_places=2)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(_("登记时间"))

    class Meta:
        verbose_name = _("申报调整（补发/扣减）")
        verbose_name_plural = _("申报调整（补发/扣减）")
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return f"{self.application} {self.total}"


class AdjustmentLine(models.Model):
    adjustment = models.ForeignKey(Adjustment, on_delete=models.PROTECT, related_name="lines")
    line = models.ForeignKey(ApplicationLine, on_delete=models.PROTECT, related_name="adjustment_lines")
    detail = models.CharField(_("计算"), max_length=200)
    months = models.PositiveSmallIntegerField(_("月数"), default=0)
    breakdown = models.JSONField(default=list)
    amount = models.DecimalField(_("金额（元）"), max_digits=12, decimal_places=2)

    class Meta:
        verbose_name = _("调整明细")
        verbose_name_plural = _("调整明细")
        ordering = ["id"]

    def __str__(self) -> str:
        return f"{self.detail} {self.amount}"


class Visit(models.Model):
    """A holiday visit (慰问) to family-planning families: who was visited, when, with what."""

    unit = models.ForeignKey("orgunits.OrgUnit", verbose_name=_("组织单位"), on_delete=models.PROTECT, related_name="+")
    date = models.DateField(_("日期"))
    occasion = models.CharField(_("节日/事由"), max_length=30)
    given = models.CharField(_("慰问内容"), max_length=200)
    people = models.ManyToManyField("registry.Resident", verbose_name=_("慰问对象"), related_name="+")
    note = models.CharField(_("备注"), max_length=200, blank=True)
    retired_at = models.DateTimeField(_("作废时间"), null=True, blank=True)
    retired_reason = models.CharField(_("作废原因"), max_length=200, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    history = HistoricalRecords(m2m_fields=[people])

    class Meta:
        verbose_name = _("慰问")
        verbose_name_plural = _("慰问")
        ordering = ["-date", "-id"]

    def __str__(self) -> str:
        return f"{self.date} {self.occasion}"

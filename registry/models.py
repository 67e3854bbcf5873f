"""Households and residents (人口登记). Rules are in rules.py, writes in services.py."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords


class HouseholdType(models.TextChoices):
    PERMANENT = "permanent", _("常住")
    FLOATING = "floating", _("流动")
    RENTED = "rented", _("出租")


class Sex(models.TextChoices):
    MALE = "M", _("男")
    FEMALE = "F", _("女")


class IdType(models.TextChoices):
    RESIDENT_ID = "resident_id", _("居民身份证")
    PASSPORT = "passport", _("护照")
    HK_MO_TW = "hk_mo_tw", _("港澳台居民证件")
    OTHER = "other", _("其他证件")


class LivingStatus(models.TextChoices):
    RESIDENT = "resident", _("常住")
    FLOATING = "floating", _("流动")
    AWAY = "away", _("外出")
    MOVED_OUT = "moved_out", _("迁出")
    DECEASED = "deceased", _("死亡")


# People who count in the population of a unit (see docs/registry.md).
PRESENT_STATUSES = (LivingStatus.RESIDENT, LivingStatus.FLOATING)


class MaritalStatus(models.TextChoices):
    UNMARRIED = "unmarried", _("未婚")
    MARRIED = "married", _("已婚")
    DIVORCED = "divorced", _("离婚")
    WIDOWED = "widowed", _("丧偶")
    UNKNOWN = "unknown", _("不详")


class Relation(models.TextChoices):
    HEAD = "head", _("户主")
    SPOUSE = "spouse", _("配偶")
    CHILD = "child", _("子女")
    PARENT = "parent", _("父母")
    GRANDCHILD = "grandchild", _("孙子女")
    SIBLING = "sibling", _("兄弟姐妹")
    OTHER = "other", _("其他")


class Tag(models.Model):
    """Key groups (60岁以上, 残疾, 慢病, 孤寡, 低保, 特扶家庭 …): data, added by administrators."""

    code = models.SlugField(_("代码"), max_length=40, unique=True)
    name = models.CharField(_("名称"), max_length=40, unique=True)
    retired_on = models.DateField(_("停用日期"), null=True, blank=True)

    class Meta:
        verbose_name = _("重点人群标签")
        verbose_name_plural = _("重点人群标签")
        ordering = ["code"]

    def __str__(self) -> str:
        return self.name


class Household(models.Model):
    unit = models.ForeignKey(
        "orgunits.OrgUnit", verbose_name=_("所在区划"), on_delete=models.PROTECT, related_name="households"
    )
    entrance = models.CharField(_("单元"), max_length=20, blank=True)
    door = models.CharField(_("门牌号"), max_length=30)
    household_type = models.CharField(
        _("户类型"), max_length=12, choices=HouseholdType.choices, default=HouseholdType.PERMANENT
    )
    head_name = models.CharField(_("户主姓名"), max_length=50, blank=True)
    occupied_since = models.DateField(_("入住日期"), null=True, blank=True)
    retired_on = models.DateField(_("注销日期"), null=True, blank=True)
    retired_reason = models.CharField(_("注销原因"), max_length=200, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("户")
        verbose_name_plural = _("户")
        constraints = [
            models.UniqueConstraint(
                fields=["unit", "entrance", "door"],
                condition=Q(retired_on__isnull=True),
                name="household_unique_active_address",
            ),
        ]

    def __str__(self) -> str:
        return self.address

    @property
    def address(self) -> str:
        parts = [self.unit.name]
        if self.entrance:
            parts.append(f"{self.entrance}单元")
        parts.append(self.door)
        return " ".join(parts)


class Resident(models.Model):
    name = models.CharField(_("姓名"), max_length=50)
    id_type = models.CharField(_("证件类型"), max_length=16, choices=IdType.choices, default=IdType.RESIDENT_ID)
    id_number = models.CharField(_("证件号码"), max_length=32)
    # Reversed ID number and phone: "last digits" searches become indexed prefix searches.
    id_number_rev = models.CharField(max_length=32, editable=False)
    sex = models.CharField(_("性别"), max_length=1, choices=Sex.choices)
    birth_date = models.DateField(_("出生日期"))
    phone = models.CharField(_("联系电话"), max_length=20, blank=True)
    phone_rev = models.CharField(max_length=20, blank=True, editable=False)
    unit = models.ForeignKey(
        "orgunits.OrgUnit", verbose_name=_("所在区划"), on_delete=models.PROTECT, related_name="residents"
    )
    household = models.ForeignKey(
        Household, verbose_name=_("户"), null=True, blank=True, on_delete=models.PROTECT, related_name="members"
    )
    relation = models.CharField(_("与户主关系"), max_length=12, choices=Relation.choices, default=Relation.OTHER)
    registered = models.BooleanField(_("户籍人口"), default=True, help_text=_("户籍/非户籍"))
    living_status = models.CharField(
        _("居住状态"), max_length=12, choices=LivingStatus.choices, default=LivingStatus.RESIDENT
    )
    status_since = models.DateField(_("状态日期"))
    # Valid-time interval of presence in the registry: the point-in-time counts use these.
    arrived_on = models.DateField(_("迁入/出生日期"))
    left_on = models.DateField(_("迁出/死亡日期"), null=True, blank=True)
    marital_status = models.CharField(
        _("婚姻状况"), max_length=12, choices=MaritalStatus.choices, default=MaritalStatus.UNKNOWN
    )
    tags = models.ManyToManyField(Tag, verbose_name=_("重点人群"), blank=True, related_name="residents")
    note = models.CharField(_("备注"), max_length=200, blank=True)
    retired_at = models.DateTimeField(_("作废时间"), null=True, blank=True)
    retired_reason = models.CharField(_("作废原因"), max_length=200, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    history = HistoricalRecords(m2m_fields=[tags], excluded_fields=["id_number_rev", "phone_rev"])

    class Meta:
        verbose_name = _("居民")
        verbose_name_plural = _("居民")
        indexes = [
            models.Index(fields=["unit", "living_status"], name="resident_unit_status"),
            models.Index(fields=["birth_date"], name="resident_birth_date"),
            # Prefix searches (name, last digits of ID and phone): pattern operator classes let
            # PostgreSQL use the index for LIKE 'x%' under any collation; SQLite ignores them.
            models.Index(fields=["name"], name="resident_name_prefix", opclasses=["varchar_pattern_ops"]),
            models.Index(fields=["id_number_rev"], name="resident_id_rev_prefix", opclasses=["varchar_pattern_ops"]),
            models.Index(fields=["phone_rev"], name="resident_phone_rev_prefix", opclasses=["varchar_pattern_ops"]),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["id_type", "id_number"],
                condition=Q(retired_at__isnull=True),
                name="resident_unique_active_id_number",
            ),
            models.CheckConstraint(condition=~Q(name=""), name="resident_name_not_empty"),
            models.CheckConstraint(condition=Q(sex__in=["M", "F"]), name="resident_sex_valid"),
            models.CheckConstraint(
                condition=Q(left_on__isnull=True) | Q(left_on__gte=models.F("arrived_on")),
                name="resident_left_after_arrived",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    def save(self, *args: object, **kwargs: object) -> None:
        self.id_number_rev = self.id_number[::-1]
        self.phone_rev = self.phone[::-1]
        update_fields = kwargs.get("update_fields")
        if update_fields is not None:
            extra = {"id_number_rev"} if "id_number" in update_fields else set()  # type: ignore[operator]
            if "phone" in update_fields:  # type: ignore[operator]
                extra.add("phone_rev")
            kwargs["update_fields"] = set(update_fields) | extra  # type: ignore[call-overload]
        super().save(*args, **kwargs)  # type: ignore[arg-type]


class ImportStatus(models.TextChoices):
    UPLOADED = "uploaded", _("已上传")
    CHECKING = "checking", _("校验中")
    CHECKED = "checked", _("已校验")
    IMPORTING = "importing", _("导入中")
    DONE = "done", _("已导入")
    REJECTED = "rejected", _("已放弃")
    FAILED = "failed", _("失败")


class ImportBatch(models.Model):
    """One uploaded roster: checked (dry run) first, then imported or rejected by the user."""

    unit = models.ForeignKey("orgunits.OrgUnit", verbose_name=_("导入到"), on_delete=models.PROTECT)
    uploaded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    file = models.FileField(upload_to="imports/%Y/%m/")
    original_name = models.CharField(max_length=255)
    status = models.CharField(max_length=12, choices=ImportStatus.choices, default=ImportStatus.UPLOADED)
    rows_total = models.PositiveIntegerField(default=0)
    rows_done = models.PositiveIntegerField(default=0)
    summary = models.JSONField(default=dict, blank=True)
    error_message = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("导入批次")
        verbose_name_plural = _("导入批次")
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return self.original_name

    @property
    def progress_percent(self) -> int:
        if not self.rows_total:
            return 0
        return min(100, round(100 * self.rows_done / self.rows_total))


class StaticCode(models.Model):
    """A resident's printed static QR code (静态二维码): a random token, never the ID number, so a
    lost card reveals nothing and is simply revoked by issuing a new one."""

    resident = models.ForeignKey(
        Resident, verbose_name=_("居民"), on_delete=models.PROTECT, related_name="static_codes"
    )
    token = models.CharField(_("码值"), max_length=40, unique=True)
    issued_at = models.DateTimeField(_("发放时间"))
    issued_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    revoked_at = models.DateTimeField(_("作废时间"), null=True, blank=True)

    class Meta:
        verbose_name = _("静态二维码")
        verbose_name_plural = _("静态二维码")
        ordering = ["-issued_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["resident"], condition=Q(revoked_at__isnull=True), name="static_code_one_active"
            ),
        ]

    def __str__(self) -> str:
        return self.token

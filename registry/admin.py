from django.contrib import admin
from simple_history.admin import SimpleHistoryAdmin

from registry.models import Household, ImportBatch, Resident, Tag


@admin.register(Tag)
class TagAdmin(admin.ModelAdmin):
    list_display = ("code", "name", "retired_on")


@admin.register(Household)
class HouseholdAdmin(SimpleHistoryAdmin):
    list_display = ("__str__", "household_type", "head_name", "retired_on")
    raw_id_fields = ("unit",)

    def has_delete_permission(self, request, obj=None):  # type: ignore[no-untyped-def]
        return False


@admin.register(Resident)
class ResidentAdmin(SimpleHistoryAdmin):
    list_display = ("name", "sex", "birth_date", "living_status", "unit")
    search_fields = ("name",)
    raw_id_fields = ("unit", "household")

    def has_delete_permission(self, request, obj=None):  # type: ignore[no-untyped-def]
        return False


@admin.register(ImportBatch)
class ImportBatchAdmin(admin.ModelAdmin):
    list_display = ("original_name", "unit", "status", "rows_total", "created_at")

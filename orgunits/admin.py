from django.contrib import admin
from simple_history.admin import SimpleHistoryAdmin

from orgunits.models import OrgUnit


@admin.register(OrgUnit)
class OrgUnitAdmin(SimpleHistoryAdmin):
    list_display = ("code", "name", "level", "parent", "retired_on")
    list_filter = ("level",)
    search_fields = ("code", "name")
    raw_id_fields = ("parent", "merged_into")
    readonly_fields = ("path", "depth")

    def has_delete_permission(self, request, obj=None):  # type: ignore[no-untyped-def]
        return False

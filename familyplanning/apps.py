from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class FamilyPlanningConfig(AppConfig):
    name = "familyplanning"
    verbose_name = _("计划生育")

    def ready(self) -> None:
        from familyplanning import signals  # noqa: F401 - connects the org-unit merge receiver

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class OutbreakConfig(AppConfig):
    name = "outbreak"
    verbose_name = _("疫情防控")

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class VaccinationConfig(AppConfig):
    name = "vaccination"
    verbose_name = _("疫苗接种")

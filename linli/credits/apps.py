from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CreditsConfig(AppConfig):
    name = "linli.credits"
    label = "credits"
    verbose_name = _("服务记录与积分")

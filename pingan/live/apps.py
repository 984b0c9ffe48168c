from django.apps import AppConfig


class LiveConfig(AppConfig):
    name = "pingan.live"
    label = "live"
    verbose_name = "实时推送"

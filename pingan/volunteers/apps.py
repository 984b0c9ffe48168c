from django.apps import AppConfig


class VolunteersConfig(AppConfig):
    name = "pingan.volunteers"
    label = "volunteers"
    verbose_name = "群防群治（义警）"

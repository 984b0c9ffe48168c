from django.apps import AppConfig


class VolunteersConfig(AppConfig):
    name = "pingan.volunteers"
    label = "volunteers"
    verbose_name = "群防群治（义警）"

    def ready(self):
        from pingan.live import registry

        from .push import listener_groups

        registry.register_groups(listener_groups)

from django.apps import AppConfig


class IncidentsConfig(AppConfig):
    name = "pingan.incidents"
    label = "incidents"
    verbose_name = "警情与调度"

    def ready(self):
        from . import push, refdata

        push.register()
        # Keeps the per-process category cache current (see incidents/refdata.py).
        refdata.register()

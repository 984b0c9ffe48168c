from django.apps import AppConfig


class OrgsConfig(AppConfig):
    name = "pingan.orgs"
    label = "orgs"
    verbose_name = "辖区与网格"

    def ready(self):
        from . import refdata

        # Keeps the per-process reference caches current (see orgs/refdata.py).
        refdata.register()

from django.apps import AppConfig


class OrgsConfig(AppConfig):
    name = "pingan.orgs"
    label = "orgs"
    verbose_name = "辖区与网格"

from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "pingan.accounts"
    label = "accounts"
    verbose_name = "账号与角色"

    def ready(self):
        from . import services

        # Keeps the per-process bearer-token cache current (see accounts/services.py).
        services.register_cache_signals()

from django.apps import AppConfig


class AuditConfig(AppConfig):
    name = "pingan.audit"
    label = "audit"
    verbose_name = "审计日志"

    def ready(self):
        # Sign-ins, the accounts app's security events and admin edits (receivers.py).
        from . import receivers

        receivers.connect()

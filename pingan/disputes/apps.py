from django.apps import AppConfig


class DisputesConfig(AppConfig):
    name = "pingan.disputes"
    label = "disputes"
    verbose_name = "矛盾纠纷"

    def ready(self):
        from . import push

        push.register()

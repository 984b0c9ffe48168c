from django.apps import AppConfig


class NotifyConfig(AppConfig):
    name = "pingan.notify"
    label = "notify"
    verbose_name = "短信与消息"

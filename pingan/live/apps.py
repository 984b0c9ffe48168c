from django.apps import AppConfig


class LiveConfig(AppConfig):
    name = "pingan.live"
    label = "live"
    verbose_name = "实时推送"

    def ready(self):
        from . import registry
        from .groups import user_group
        from .models import LivePush
        from .outbox import PUSHES

        def deliveries(ids):
            rows = LivePush.objects.filter(pk__in=ids).order_by("pk")
            return [
                registry.Delivery(tuple(groups), body)
                for groups, body in rows.values_list("groups", "body")
            ]

        registry.register_source(registry.Source(PUSHES, LivePush._meta.db_table, deliveries))
        registry.register_groups(lambda user: [user_group(user.pk)])

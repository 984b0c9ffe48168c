from django.apps import AppConfig
from django.db.models.signals import post_migrate


def _forget_reference_caches(**kwargs):
    # migrate and flush (also between transactional tests) can replace the data under counters
    # that no longer exist, which read as 0 like before: start from nothing.
    from . import refcache

    refcache.clear_all()


class CoreConfig(AppConfig):
    name = "pingan.core"
    label = "core"

    def ready(self):
        post_migrate.connect(_forget_reference_caches, dispatch_uid="refcache-post-migrate")

from django.apps import AppConfig


class PointsConfig(AppConfig):
    name = "pingan.points"
    label = "points"
    verbose_name = "积分与爱心超市"

from django.db import models
from django.utils import timezone


class Report(models.Model):
    """One row per report: the fields of pingan's `ReportIn`, and when it came in."""

    category = models.CharField(max_length=6)
    description = models.TextField()
    lat = models.FloatField()
    lng = models.FloatField()
    crs = models.CharField(max_length=8)
    address = models.CharField(max_length=200, null=True, blank=True)
    anonymous = models.BooleanField(default=False)
    source = models.CharField(max_length=20)
    reported_at = models.DateTimeField(default=timezone.now)

    class Meta:
        app_label = "floor"

    def __str__(self) -> str:
        return f"{self.category} at {self.lat},{self.lng}"

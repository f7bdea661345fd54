"""Model pieces shared across apps."""

from django.db import models


class UTMFields(models.Model):
    """Campaign attribution (first touch) carried from a visit to a lead, a user, an enrollment, a payment."""

    utm_source = models.CharField(max_length=100, blank=True, default="")
    utm_medium = models.CharField(max_length=100, blank=True, default="")
    utm_campaign = models.CharField(max_length=150, blank=True, default="")
    utm_term = models.CharField(max_length=150, blank=True, default="")
    utm_content = models.CharField(max_length=150, blank=True, default="")

    class Meta:
        abstract = True

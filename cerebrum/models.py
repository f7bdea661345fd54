"""Model pieces shared across apps."""

from django.db import models

# The one list of UTM fields: the query parameters of a campaign link, a session's touches, and the
# columns of UTMFields (a test checks they agree).
UTM_KEYS = ("utm_source", "utm_medium", "utm_campaign", "utm_term", "utm_content")


class UTMFields(models.Model):
    """Campaign attribution (first touch) carried from a visit to a lead, a user, an enrollment, a payment."""

    utm_source = models.CharField(max_length=100, blank=True, default="")
    utm_medium = models.CharField(max_length=100, blank=True, default="")
    utm_campaign = models.CharField(max_length=150, blank=True, default="")
    utm_term = models.CharField(max_length=150, blank=True, default="")
    utm_content = models.CharField(max_length=150, blank=True, default="")

    class Meta:
        abstract = True

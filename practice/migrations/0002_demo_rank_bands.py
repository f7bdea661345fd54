"""Demo rows for the estimated NEET rank band: staff replace them with official figures in the admin."""

from decimal import Decimal

from django.db import migrations

CANDIDATES = 2_200_000  # about 22 lakh candidates sat NEET (UG) 2025
EDGES = ["100", "99.99", "99.9", "99.5", "99", "98", "95", "90", "80", "70", "50", "0"]
SOURCE = (
    "Demo rows, not official: rank ≈ (100 − percentile) × 22 lakh ÷ 100 (about 22 lakh sat NEET (UG) 2025). "
    "Replace with NTA's published marks and ranks."
)


def add_demo_rows(apps, schema_editor):
    RankBand = apps.get_model("practice", "RankBand")
    if RankBand.objects.exists():
        return
    rows = []
    for high, low in zip(EDGES, EDGES[1:], strict=False):
        high_p, low_p = Decimal(high), Decimal(low)
        rows.append(
            RankBand(
                year=2025,
                percentile_min=low_p,
                percentile_max=high_p,
                rank_best=max(1, int((100 - high_p) * CANDIDATES / 100)),
                rank_worst=max(1, int((100 - low_p) * CANDIDATES / 100)),
                source=SOURCE,
            )
        )
    RankBand.objects.bulk_create(rows)


def remove_demo_rows(apps, schema_editor):
    apps.get_model("practice", "RankBand").objects.filter(source=SOURCE).delete()


class Migration(migrations.Migration):
    dependencies = [("practice", "0001_initial")]

    operations = [migrations.RunPython(add_demo_rows, remove_demo_rows)]

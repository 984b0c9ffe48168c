from django.db import migrations


def load(apps, schema_editor):
    from pingan.disputes.risk import ensure_default_rules

    ensure_default_rules(apps.get_model("disputes", "RiskRule"))


class Migration(migrations.Migration):
    dependencies = [("disputes", "0001_initial")]

    operations = [migrations.RunPython(load, migrations.RunPython.noop)]

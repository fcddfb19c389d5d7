"""Every existing application gets a service code for the face library (new apps get one at creation)."""
import secrets

from django.db import migrations


def add_library_codes(apps, schema_editor):
    Application = apps.get_model("gateway", "Application")
    ServiceCode = apps.get_model("gateway", "ServiceCode")
    have = set(ServiceCode.objects.filter(api="library").values_list("application_id", flat=True))
    ServiceCode.objects.bulk_create([
        ServiceCode(application_id=app_id, api="library", code=secrets.token_hex(16))
        for app_id in Application.objects.exclude(pk__in=have).values_list("pk", flat=True)
    ])


def remove_library_codes(apps, schema_editor):
    apps.get_model("gateway", "ServiceCode").objects.filter(api="library").delete()


class Migration(migrations.Migration):
    dependencies = [("gateway", "0003_library_api")]
    operations = [migrations.RunPython(add_library_codes, remove_library_codes)]

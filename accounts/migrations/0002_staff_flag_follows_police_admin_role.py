"""``is_staff`` follows the police admin role from now on (accounts.services); bring existing accounts in line."""

from django.db import migrations
from django.db.models import Q


def staff_flag_follow_role(apps, schema_editor):
    User = apps.get_model("accounts", "User")
    RoleGrant = apps.get_model("accounts", "RoleGrant")
    police_admins = RoleGrant.objects.filter(role="police_admin", revoked_at__isnull=True).values("user_id")
    staff = Q(is_superuser=True) | Q(pk__in=police_admins)
    User.objects.filter(staff, is_active=True, is_staff=False).update(is_staff=True)
    User.objects.exclude(staff).filter(is_staff=True).update(is_staff=False)


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0001_initial"),
    ]

    operations = [migrations.RunPython(staff_flag_follow_role, migrations.RunPython.noop)]

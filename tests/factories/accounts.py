"""People: a user with a verified phone, a known password and platform roles (granted as the admin grants them)."""

from __future__ import annotations

import factory

from accounts.models import RoleGrant, User
from accounts.services import role_grant

DEMO_PASSWORD = "Pingan-test-2026"


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        skip_postgeneration_save = True

    phone = factory.Sequence(lambda n: f"+86139{n:08d}")
    phone_verified = True
    display_name = factory.Sequence(lambda n: f"用户{n}")
    password = factory.PostGenerationMethodCall("set_password", DEMO_PASSWORD)

    @factory.post_generation
    def roles(self, create, extracted, **kwargs):
        self.save()
        for role in extracted or []:
            RoleGrant.objects.create(user=self, role=role, reason="test")


def role_granted(*, user: User, role: str, by: User, reason: str = "test") -> RoleGrant:
    """``role`` granted to ``user`` by the police admin ``by`` through ``role_grant`` (audited, as the API does)."""
    return role_grant(actor=by, user=user, role=role, reason=reason)

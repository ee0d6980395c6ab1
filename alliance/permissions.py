"""Who may do what in an alliance: its roles, its members, its stations and stores. Rules about accounts (roles,
the police) are in ``accounts.permissions``; REST views and the WebSocket consumer both call these."""

from __future__ import annotations

from accounts.models import Role
from accounts.permissions import has_role, is_police, is_police_admin

# ``access`` is what the viewer has in one alliance (``selectors.alliances.AllianceAccess``): their membership or
# None, and whether the alliance lies in their police jurisdiction (only ever true for police admins). Someone with
# neither cannot see the alliance at all, and the APIs answer 404 so its existence does not leak.

# Alliance roles whose holders respond to incidents and may mark themselves on duty.
ALLIANCE_RESPONDER_ROLES = frozenset({"police_liaison", "mall_manager", "volunteer"})
# Alliance roles that administer the alliance's contact groups.
ALLIANCE_GROUP_ADMIN_ROLES = frozenset({"admin", "police_liaison"})
# Roles an invite may hand out. "admin" is never taken by an invite: an alliance admin appoints admins.
ALLIANCE_INVITE_ROLES = ("police_liaison", "mall_manager", "merchant", "volunteer")


def can_view_alliance(user, access) -> bool:
    return access is not None and (access.membership is not None or access.in_jurisdiction)


def can_manage_alliance(user, access) -> bool:
    """Invites, join requests, member roles and removals, store verification, the alliance's own details: its
    admins, and the police admins whose jurisdiction holds it."""
    if access is None:
        return False
    if access.membership is not None and access.membership.role == "admin":
        return True
    return access.in_jurisdiction and is_police_admin(user)


def can_create_alliance(user, *, station_in_jurisdiction: bool) -> bool:
    return is_police_admin(user) and station_in_jurisdiction


def can_post_station_staff(user, *, station_in_jurisdiction: bool) -> bool:
    """Police admins post officers to the units of their own jurisdiction."""
    return is_police_admin(user) and station_in_jurisdiction


def can_be_posted_to_station(user) -> bool:
    return is_police(user)


def can_hold_alliance_role(user, role: str) -> bool:
    """The platform role that an alliance role needs: merchants and volunteers signed up as such, mall managers
    and police granted by a police admin. Anyone already in the alliance may be appointed its admin."""
    required = {
        "merchant": (Role.MERCHANT,),
        "volunteer": (Role.VOLUNTEER,),
        "mall_manager": (Role.MALL_MANAGER,),
        "police_liaison": (Role.OFFICER, Role.POLICE_ADMIN),
    }
    if role == "admin":
        return True
    return role in required and has_role(user, *required[role])


def can_go_on_duty(user, membership) -> bool:
    """Responders (police liaisons, mall managers, volunteers, and police in any alliance role) can be dispatched."""
    return membership is not None and (membership.role in ALLIANCE_RESPONDER_ROLES or is_police(user))


def can_go_on_duty_by_switch(user, membership) -> bool:
    """Volunteers are on duty by checking in to a patrol shift (groups), which replaces the switch for them; police
    holding the volunteer role still use the switch."""
    return membership.role != "volunteer" or is_police(user)


def can_register_store(user, access) -> bool:
    return access is not None and access.membership is not None and has_role(user, Role.MERCHANT)


def can_edit_store(user, store, *, is_store_staff: bool) -> bool:
    return store.owner_id == user.pk or is_store_staff


def can_manage_store_staff(user, store, access) -> bool:
    return store.owner_id == user.pk or can_manage_alliance(user, access)


def can_verify_store(user, access) -> bool:
    return can_manage_alliance(user, access)


# --- rewards ------------------------------------------------------------------------------------------------------


def can_manage_rewards(user, access) -> bool:
    """The catalogue (add, change, withdraw) and the redemption queue (approve, reject, hand over): whoever manages
    the alliance, its admins and the police admins of its jurisdiction."""
    return can_manage_alliance(user, access)


def can_redeem_reward(user, access) -> bool:
    """Points are earned and spent as a member: a police admin who only oversees the alliance has none there."""
    return access is not None and access.membership is not None


def can_award_safe_stores(user, access) -> bool:
    """Publishing a Safe Store ranking and holding a store back from it: the police admins whose jurisdiction holds
    the alliance (the police award the badge, not the alliance's own admins)."""
    return access is not None and access.in_jurisdiction and is_police_admin(user)


def can_have_safe_store_certificate(user, store, access, *, is_store_staff: bool) -> bool:
    """A store's certificate: its people (owner and staff), and those who manage its alliance (its admins, the
    police admins of the jurisdiction)."""
    return store.owner_id == user.pk or is_store_staff or can_manage_alliance(user, access)


# --- the Safe Store ranking ---------------------------------------------------------------------------------------


def is_alliance_police(user, access) -> bool:
    """Police of the alliance's jurisdiction: police admins whose jurisdiction holds it, and police who are its
    members (its police liaisons)."""
    return access is not None and is_police(user) and (access.in_jurisdiction or access.membership is not None)


def can_set_safe_store_weights(user, access) -> bool:
    return access is not None and access.in_jurisdiction and is_police_admin(user)


def can_record_store_inspection(user, access) -> bool:
    return is_alliance_police(user, access)


def can_see_safe_store_details(user, access) -> bool:
    """Every store's score and its parts, in the preview and in a final ranking, and rankings not yet published:
    the alliance's admins and its police. Others see the ranks and names, and the details of their own store."""
    return can_manage_alliance(user, access) or is_alliance_police(user, access)


def can_see_store_safety_record(user, store, access, *, is_store_staff: bool) -> bool:
    """A store's score breakdown and its inspections: its owner and staff, the alliance's admins, its police."""
    return store.owner_id == user.pk or is_store_staff or can_see_safe_store_details(user, access)


def can_correct_points(user, access) -> bool:
    """Points corrections and the alliance's points rules: police admins whose jurisdiction holds the alliance (an
    alliance admin is often a merchant of it, and would be correcting their own street's accounts)."""
    return access is not None and access.in_jurisdiction and is_police_admin(user)


def can_read_points_ledger(user, access) -> bool:
    return can_correct_points(user, access)


def can_award_merchant_contribution(user, access) -> bool:
    """A merchant's contribution (a camera lent, a stall given to a patrol post) is seen by those who run the
    alliance: its admins and the police admins of its jurisdiction."""
    return can_manage_alliance(user, access)

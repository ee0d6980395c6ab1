"""The personal-data export covers what a person did on cases: comments, photos, disputes responded to."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from alliance.models import AllianceInvite, AllianceJoinRequest
from reports.models import Incident
from tests.reports.test_incidents import LANE, jpeg


@pytest.mark.django_db
def test_export_covers_comments_photos_responses_and_join_requests(login, qingguo, fengming):
    # given a merchant who reported with a photo and commented, and a mall manager who responded to a flag
    merchant, responder = qingguo.merchant, qingguo.mall_manager
    reporter_client = login(merchant)
    created = reporter_client.post(
        f"/api/v1/alliances/{qingguo.alliance.pk}/incidents",
        {"category": "theft", "description": "店里丢了手机", "photos": [jpeg()], **LANE},
        format="multipart",
    )
    incident_id = created.json()["id"]
    reporter_client.post_json(f"/api/v1/incidents/{incident_id}/comments", {"body": "监控里看到了"})
    flagged = reporter_client.post_json(f"/api/v1/alliances/{qingguo.alliance.pk}/disputes", {"category": "quarrel"})
    login(responder).post_json(f"/api/v1/disputes/{flagged.json()['id']}/acknowledge", {"eta_minutes": 3})
    # and a pending request of the merchant to join another alliance
    invite = AllianceInvite.objects.create(
        alliance=fengming.alliance,
        code="fm-join",
        role="merchant",
        max_uses=5,
        expires_at=timezone.now() + timedelta(days=1),
    )
    AllianceJoinRequest.objects.create(alliance=fengming.alliance, user=merchant, role="merchant", invite=invite)

    # when each downloads their data
    mine = reporter_client.get("/api/v1/me/export").json()
    theirs = login(responder).get("/api/v1/me/export").json()

    # then each export has the person's own acts, and nobody else's
    photo = Incident.objects.get(pk=incident_id).photos.get()
    assert [c["body"] for c in mine["incident_comments"]] == ["监控里看到了"]
    assert [p["file"] for p in mine["case_photos"]] == [photo.image.name]
    assert [r["alliance"] for r in mine["join_requests"]] == [fengming.alliance.name]
    assert [r["dispute"] for r in theirs["disputes_responded"]] == [flagged.json()["id"]]
    assert theirs["disputes_responded"][0]["eta_minutes"] == 3
    assert mine["disputes_responded"] == [] and theirs["incident_comments"] == []
    assert {"acknowledged"} <= {a["what"] for a in theirs["case_actions"]}

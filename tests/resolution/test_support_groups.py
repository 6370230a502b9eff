"""The support group pages: internal groups with their member counts, and one group's
members, kept by administrators and process owners, read-only for everyone else, and
never reaching another tenant's groups or people."""

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext

from processes.resolution import services_groups
from processes.resolution.models import GroupMember
from tests.conftest import membership_of
from tests.factories import PartyFactory

pytestmark = pytest.mark.django_db
GROUPS = "/t/acme/desk/groups/"
API = "/api/v1/support-group-members/"


@pytest.fixture
def groups(personas, tenant_a, tenant_b, in_tenant):
    with in_tenant(tenant_a, personas["admin"]):
        network = PartyFactory(name="Network team", party_type="internal_group")
        apps = PartyFactory(name="Application support", party_type="internal_group")
        customer = PartyFactory(name="Acme Retail", party_type="customer")
        GroupMember.objects.create(group=network, user=personas["agent"])
    with in_tenant(tenant_b, personas["outsider_admin"]):
        theirs = PartyFactory(name="Globex network", party_type="internal_group")
        their_member = GroupMember.objects.create(group=theirs, user=personas["outsider"])
    return {"network": network, "apps": apps, "customer": customer, "theirs": theirs, "their_member": their_member}


def members(tenant, group, in_tenant) -> set[str]:
    with in_tenant(tenant):
        return {m.user.username for m in services_groups.members_of(group)}


def test_everyone_sees_the_groups_and_their_counts(web, groups):
    for who in ("agent", "auditor", "process_owner"):
        page = web(who).get(GROUPS).content.decode()
        assert "Network team" in page and "Application support" in page
    page = web("auditor").get(GROUPS).content.decode()
    assert "<td>1</td>" in page and "<td>0</td>" in page
    assert "Acme Retail" not in page and "Globex network" not in page
    assert f"{GROUPS}{groups['network'].pk}/" in web("agent").get("/t/acme/desk/").content.decode()


def test_group_list_reads_a_fixed_number_of_queries(web, groups, personas, tenant_a, in_tenant):
    client = web("auditor")
    client.get(GROUPS)
    with CaptureQueriesContext(connection) as few:
        client.get(GROUPS)
    with in_tenant(tenant_a, personas["admin"]):
        for n in range(5):
            group = PartyFactory(name=f"Group {n}", party_type="internal_group")
            GroupMember.objects.create(group=group, user=personas["agent"])
    with CaptureQueriesContext(connection) as more:
        assert "Group 4" in client.get(GROUPS).content.decode()
    assert len(more) == len(few)


def test_admin_and_process_owner_add_and_remove_members(web, groups, personas, tenant_a, in_tenant):
    url = f"{GROUPS}{groups['apps'].pk}/"
    page = web("admin").get(url).content.decode()
    assert "Add a member" in page and "Nobody is in this group yet" in page
    resp = web("admin").post(url, {"action": "add", "user": personas["agent"].pk, "reason": "Second line"})
    assert resp.status_code == 302
    resp = web("process_owner").post(url, {"action": "add", "user": personas["auditor"].pk})
    assert resp.status_code == 302
    assert members(tenant_a, groups["apps"], in_tenant) == {"acme-agent", "acme-auditor"}
    page = web("process_owner").get(url).content.decode()
    assert "Remove" in page and "acme-agent" not in page.split("Add a member")[1]  # not offered twice
    with in_tenant(tenant_a):
        member = GroupMember.objects.get(group=groups["apps"], user=personas["auditor"])
        assert GroupMember.history.get(id=GroupMember.objects.get(user=personas["agent"], group=groups["apps"]).pk,
                                       history_type="+").history_change_reason == "Second line"
    resp = web("process_owner").post(url, {"action": "remove", "member": member.pk, "reason": "Moved on"})
    assert resp.status_code == 302
    assert members(tenant_a, groups["apps"], in_tenant) == {"acme-agent"}
    with in_tenant(tenant_a):
        gone = GroupMember.history.get(id=member.pk, history_type="-")
    assert gone.history_change_reason == "Moved on" and gone.history_user_id == personas["process_owner"].pk


def test_others_read_only(web, groups, personas, tenant_a, in_tenant):
    url = f"{GROUPS}{groups['network'].pk}/"
    with in_tenant(tenant_a):
        member = GroupMember.objects.get(group=groups["network"])
    for who in ("auditor", "agent", "change_approver", "top_management"):
        page = web(who).get(url).content.decode()
        assert "acme-agent@example.test" in page
        assert "Add a member" not in page and 'value="remove"' not in page
        assert web(who).post(url, {"action": "add", "user": personas[who].pk}).status_code == 403
        assert web(who).post(url, {"action": "remove", "member": member.pk}).status_code == 403
    assert members(tenant_a, groups["network"], in_tenant) == {"acme-agent"}


def test_bad_input_is_refused_without_change(web, groups, personas, tenant_a, in_tenant):
    url = f"{GROUPS}{groups['network'].pk}/"
    client = web("admin")
    # Someone of another tenant, someone already in, nobody: the form says so.
    for user in (personas["outsider"].pk, personas["agent"].pk, "", "abc"):
        resp = client.post(url, {"action": "add", "user": user})
        assert resp.status_code == 200 and "errorlist" in resp.content.decode()
    assert client.post(url, {"action": "remove", "member": "abc"}).status_code == 404
    assert client.post(url, {"action": "remove", "member": groups["their_member"].pk}).status_code == 404
    assert members(tenant_a, groups["network"], in_tenant) == {"acme-agent"}


def test_other_tenants_groups_and_other_parties_are_not_found(web, groups):
    assert web("admin").get(f"{GROUPS}{groups['theirs'].pk}/").status_code == 404
    resp = web("admin").post(f"{GROUPS}{groups['theirs'].pk}/", {"action": "add", "user": 1})
    assert resp.status_code == 404
    assert web("admin").get(f"{GROUPS}{groups['customer'].pk}/").status_code == 404
    # A member of tenant B only: no way into tenant A's pages.
    assert web("outsider_admin").get(GROUPS).status_code in (403, 404)
    assert web("outsider_admin").get(f"{GROUPS}{groups['network'].pk}/").status_code in (403, 404)


def test_service_rules(groups, personas, tenant_a, in_tenant):
    with in_tenant(tenant_a, personas["agent"]):
        with pytest.raises(PermissionDenied):
            services_groups.add_group_member(
                groups["apps"], personas["agent"], membership=membership_of(personas["agent"], tenant_a)
            )
    admin = membership_of(personas["admin"], tenant_a)
    with in_tenant(tenant_a, personas["admin"]):
        with pytest.raises(ValidationError) as exc:
            services_groups.add_group_member(groups["customer"], personas["agent"], membership=admin)
        assert "group" in exc.value.message_dict
        with pytest.raises(ValidationError) as exc:
            services_groups.add_group_member(groups["apps"], personas["outsider"], membership=admin)
        assert "user" in exc.value.message_dict


def test_api_follows_the_same_rights(api, groups, personas):
    body = {"group": groups["apps"].pk, "user": personas["auditor"].pk}
    assert api("auditor").post(API, body, format="json").status_code == 403
    assert api("agent").post(API, body, format="json").status_code == 403
    created = api("process_owner").post(API, body, format="json")
    assert created.status_code == 201
    assert api("agent").delete(f"{API}{created.json()['id']}/").status_code == 403
    assert api("process_owner").delete(f"{API}{created.json()['id']}/").status_code == 204

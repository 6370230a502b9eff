from governance.models import Improvement
from sms.tenancy import context


def test_create_improvement_over_api(api, tenant_a):
    resp = api("agent").post("/api/v1/improvements/", {"title": "Reduce repeat incidents"}, format="json")
    assert resp.status_code == 201, resp.content
    assert resp.json()["reference"] == "IMP-1"
    with context.tenant_context(tenant_a):
        assert Improvement.objects.get().title == "Reduce repeat incidents"

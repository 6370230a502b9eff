"""CSV export and import of CIs and relationships in the browser (clause 9.1).

Export honours the CI list's filters. Import is two steps: upload and a dry run that
lists every row error; then "run for real" on exactly the file that was checked (it
travels back signed, so nothing is kept on the server between the steps).
"""

from __future__ import annotations

from django.core import signing
from django.core.exceptions import PermissionDenied
from django.http import HttpResponse, StreamingHttpResponse
from django.shortcuts import render
from django.views import View

from sms.core.views.mixins import TenantViewMixin

from ..csvio import CI_COLUMNS, RELATIONSHIP_COLUMNS, export_cis, export_relationships, import_cis, import_relationships
from ..filters import ConfigurationItemFilterSet
from ..models import ConfigurationItem, Relationship

SALT = "sms.cmdb.import"
MAX_AGE = 3600
BROWSER_MAX_BYTES = 2 * 1024 * 1024
IMPORTERS = {"cis": import_cis, "relationships": import_relationships}


def _filtered_cis(request):
    filterset = ConfigurationItemFilterSet(request.GET or None, queryset=ConfigurationItem.objects.all(),
                                           request=request)
    if filterset.is_bound and not filterset.is_valid():
        return None, filterset
    return filterset.qs, filterset


def _csv(lines, filename: str) -> StreamingHttpResponse:
    response = StreamingHttpResponse(lines, content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


class CIExportView(TenantViewMixin, View):
    capability = "ci.view"

    def get(self, request, *args, **kwargs):
        qs, filterset = _filtered_cis(request)
        if qs is None:
            return HttpResponse(f"The filters are not valid: {dict(filterset.errors)}", status=400,
                                content_type="text/plain")
        return _csv(export_cis(qs), f"{request.tenant.slug}-cis.csv")


class RelationshipExportView(TenantViewMixin, View):
    """Relationships whose source CI matches the list's filters."""

    capability = "ci.view"

    def get(self, request, *args, **kwargs):
        qs, filterset = _filtered_cis(request)
        if qs is None:
            return HttpResponse(f"The filters are not valid: {dict(filterset.errors)}", status=400,
                                content_type="text/plain")
        rels = Relationship.objects.filter(source__in=qs.values("pk"))
        return _csv(export_relationships(rels), f"{request.tenant.slug}-relationships.csv")


class ImportView(TenantViewMixin, View):
    """Upload a CSV of CIs or relationships, see the dry run, then run it for real."""

    capability = "ci.update"
    template_name = "cmdb/import.html"

    def dispatch(self, request, *args, **kwargs):
        membership = getattr(request, "membership", None)
        if request.user.is_authenticated and membership is not None and not membership.can("ci.create"):
            raise PermissionDenied("Your role in this tenant does not allow importing into the CMDB (ci.create).")
        return super().dispatch(request, *args, **kwargs)

    def render(self, request, **ctx):
        ctx.setdefault("kind", "cis")
        ctx.update(ci_columns=CI_COLUMNS, relationship_columns=RELATIONSHIP_COLUMNS)
        return render(request, self.template_name, ctx, status=ctx.pop("status", 200))

    def get(self, request, *args, **kwargs):
        return self.render(request)

    def post(self, request, *args, **kwargs):
        token = request.POST.get("token")
        if token:
            try:
                payload = signing.loads(token, salt=SALT, max_age=MAX_AGE)
            except signing.BadSignature:
                return self.render(request, error="The checked file has expired; upload it again.", status=400)
            if payload.get("tenant") != request.tenant.pk or payload.get("kind") not in IMPORTERS:
                return self.render(request, error="This file was checked for another tenant.", status=400)
            report = IMPORTERS[payload["kind"]](
                payload["content"].encode(), filename=payload["filename"], by=request.user, dry_run=False
            )
            return self.render(request, report=report, kind=payload["kind"], status=200 if report.valid else 400)
        kind = request.POST.get("kind", "cis")
        upload = request.FILES.get("file")
        if kind not in IMPORTERS:
            return self.render(request, error="Choose what the file holds.", status=400)
        if upload is None:
            return self.render(request, kind=kind, error="Choose a CSV file to upload.", status=400)
        if upload.size > BROWSER_MAX_BYTES:
            return self.render(request, kind=kind, status=400,
                               error="Files over 2 MB are imported through the API (POST /api/v1/cis/import/).")
        content = upload.read()
        filename = upload.name[:200]
        report = IMPORTERS[kind](content, filename=filename, by=request.user, dry_run=True)
        ctx = {"report": report, "kind": kind}
        if report.valid:
            ctx["token"] = signing.dumps(
                {"tenant": request.tenant.pk, "kind": kind, "filename": filename,
                 "content": content.decode("utf-8-sig")},
                salt=SALT, compress=True,
            )
        return self.render(request, status=200 if report.valid else 400, **ctx)

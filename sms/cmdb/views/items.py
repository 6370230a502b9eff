"""Browser pages of configuration items: list, register, detail with relationships,
edit under change control, and the impact graph (clause 9.1)."""

from __future__ import annotations

from django.db import IntegrityError, transaction
from django.db.models import Q
from django.http import HttpResponseRedirect
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.views.generic import TemplateView

from sms.core.views.mixins import TenantViewMixin
from sms.core.views.records import (
    Column,
    RecordActionView,
    RecordCreateView,
    RecordDetailView,
    RecordListView,
    RecordUpdateView,
    record_tenant_slug,
    record_url,
)

from ..api.serializers import RelationshipSerializer
from ..choices import CI_INITIAL_STATES, RELATIONSHIP_INVERSE_LABELS, CIState, ImpactDirection, RelationshipKind
from ..filters import ConfigurationItemFilterSet
from ..models import CIType, ConfigurationItem, Relationship, Service
from ..services import DEFAULT_IMPACT_DEPTH, MAX_IMPACT_DEPTH, impact
from .forms import ConfigurationItemForm, RelationshipForm


class ConfigurationItemListView(RecordListView):
    model = ConfigurationItem
    filterset_class = ConfigurationItemFilterSet
    select_related = ("owner", "ci_type")
    columns = (
        Column("reference", "Ref.", sort="number", link=True),
        Column("title", "Name", sort="title", link=True),
        Column("ci_type", "Type", sort="ci_type__name"),
        Column("state", "Status", sort="state", badge=True),
        Column("version", "Version"),
        Column("location", "Location", sort="location"),
        Column("owner", "Owner"),
    )
    empty_text = "The CMDB is empty. Register the CIs your services are made of."
    template_name = "cmdb/ci_list.html"
    results_template = "cmdb/_ci_results.html"


def attribute_rows(ci: ConfigurationItem) -> list[dict]:
    """The CI's attributes in the order of its type's definition, then any the type no
    longer defines (kept, and flagged, until someone cleans them up)."""
    values = dict(ci.attributes or {})
    rows = []
    for definition in ci.ci_type.attribute_schema or []:
        value = values.pop(definition["name"], None)
        if isinstance(value, bool):
            value = "Yes" if value else "No"
        rows.append(
            {
                "label": definition.get("label") or definition["name"],
                "value": value,
                "required": definition.get("required", False),
                "defined": True,
            }
        )
    for name, value in sorted(values.items()):
        rows.append({"label": name, "value": value, "required": False, "defined": False})
    return rows


def ci_relationships(ci: ConfigurationItem) -> list[dict]:
    rows = []
    qs = (
        Relationship.objects.filter(Q(source=ci) | Q(target=ci))
        .select_related("source__ci_type", "target__ci_type", "created_by")
        .order_by("kind", "id")
    )
    for rel in qs:
        outgoing = rel.source_id == ci.pk
        kind = RelationshipKind(rel.kind)
        rows.append(
            {
                "relationship": rel,
                "outgoing": outgoing,
                "label": kind.label if outgoing else RELATIONSHIP_INVERSE_LABELS[kind],
                "other": rel.target if outgoing else rel.source,
            }
        )
    return rows


class ConfigurationItemDetailView(RecordDetailView):
    model = ConfigurationItem
    template_name = "cmdb/ci_detail.html"
    select_related = ("owner", "created_by", "updated_by", "ci_type", "supplier")
    detail_fields = (
        "version",
        "location",
        "serial_number",
        "supplier",
        "asset_tag",
        "purchase_cost",
        "currency",
        "purchase_date",
        "warranty_expires",
        "cost_centre",
        "last_change_reference",
    )

    def get_context_data(self, **kwargs):
        ctx = super().get_context_data(**kwargs)
        ci = self.object
        ctx["attribute_rows"] = attribute_rows(ci)
        ctx["relationships"] = ci_relationships(ci)
        ctx["services"] = list(ci.services.order_by("number"))
        ctx["can_relate"] = self.membership.can("ci.update") and ci.state != CIState.DISPOSED
        ctx["relationship_kinds"] = [(k, RelationshipKind(k).label) for k in ci.ci_type.allowed_relationships]
        ctx["relationship_form"] = RelationshipForm()
        return ctx


class _TypedFormMixin:
    """The CI's type decides the form's attribute fields."""

    form_class = ConfigurationItemForm

    def get_ci_type(self) -> CIType:
        raise NotImplementedError

    def get_form_kwargs(self):
        kwargs = super().get_form_kwargs()
        kwargs["ci_type"] = self.get_ci_type()
        return kwargs

    def get_context_data(self, **kwargs):
        ctx = super().get_context_data(**kwargs)
        ctx["ci_type"] = self.get_ci_type()
        return ctx


class ConfigurationItemCreateView(_TypedFormMixin, RecordCreateView):
    """``?type=<id>`` picks the type; without it the page lists the types to choose from."""

    model = ConfigurationItem
    template_name = "cmdb/ci_form.html"

    def get_ci_type(self) -> CIType:
        if not hasattr(self, "_ci_type"):
            raw = self.request.GET.get("type", "")
            self._ci_type = CIType.objects.filter(pk=raw, is_active=True).first() if raw.isdigit() else None
        return self._ci_type

    def get(self, request, *args, **kwargs):
        if self.get_ci_type() is None:
            types = CIType.objects.filter(is_active=True).order_by("name")
            return render(request, "cmdb/ci_type_choice.html", {"types": types, "kind": self.kind})
        return super().get(request, *args, **kwargs)

    def post(self, request, *args, **kwargs):
        if self.get_ci_type() is None:
            return HttpResponseRedirect(request.path)
        return super().post(request, *args, **kwargs)

    def get_form_kwargs(self):
        kwargs = super().get_form_kwargs()
        # The status is set once, at registration; afterwards only transitions move it.
        state = self.request.POST.get("initial_state", CIState.PLANNED)
        kwargs["instance"] = ConfigurationItem(
            ci_type=self.get_ci_type(), state=state if state in CI_INITIAL_STATES else CIState.PLANNED
        )
        return kwargs


class ConfigurationItemUpdateView(_TypedFormMixin, RecordUpdateView):
    model = ConfigurationItem
    template_name = "cmdb/ci_form.html"

    def get_queryset(self):
        return ConfigurationItem.objects.select_related("ci_type")

    def get_ci_type(self) -> CIType:
        return self.object.ci_type  # UpdateView loads the object before it builds the form


# --- relationships ---------------------------------------------------------------------------
class _RelationshipActionView(RecordActionView):
    """Relationship changes from the CI page; the rules are the API's serializer's."""

    action_capability = "ci.update"

    def dispatch(self, request, *args, **kwargs):
        kwargs["kind"] = "ci"
        return super().dispatch(request, *args, **kwargs)


class RelationshipAddView(_RelationshipActionView):
    def post(self, request, *args, **kwargs):
        form = RelationshipForm(request.POST)
        if not form.is_valid():
            return self.done(self.first_error(form.errors), error=True)
        reference = form.cleaned_data["target"].strip()
        target = ConfigurationItem.objects.filter(Q(reference__iexact=reference)).first()
        if target is None:
            return self.done(f"No CI {reference} in this tenant.", error=True)
        ser = RelationshipSerializer(
            data={
                "source": self.record.pk,
                "kind": form.cleaned_data["kind"],
                "target": target.pk,
                "note": form.cleaned_data["note"],
                "change_reason": form.cleaned_data["change_reason"],
            }
        )
        if not ser.is_valid():
            return self.done(self.first_error(ser.errors), error=True)
        relationship = Relationship(**ser.validated_data)
        try:
            with transaction.atomic():
                relationship.save(reason=ser.change_reason or "Added in the browser")
        except IntegrityError:
            return self.done("These CIs already have this relationship.", error=True)
        return self.done(f"{self.record.reference} {relationship.get_kind_display()} {target.reference}.")


class RelationshipDeleteView(_RelationshipActionView):
    def post(self, request, *args, **kwargs):
        relationship = get_object_or_404(
            Relationship.objects.filter(Q(source=self.record) | Q(target=self.record)).select_related(
                "source__ci_type"
            ),
            pk=kwargs["relationship_id"],
        )
        reason = request.POST.get("change_reason", "").strip()
        if relationship.source.ci_type.under_change_control and not reason:
            return self.done(
                f"{relationship.source.ci_type.name} CIs are under change control: give a reason.", error=True
            )
        relationship._change_reason = reason or "Removed in the browser"
        relationship.delete()
        return self.done("Relationship removed.")


# --- impact analysis -----------------------------------------------------------------------------
# The page draws every node it gets: a few hundred keep the graph readable and quick; the
# table under it can be asked for more.
PAGE_IMPACT_LIMIT = 300
MAX_PAGE_IMPACT_LIMIT = 5_000


def _bounded_int(raw: str | None, default: int, highest: int) -> int:
    try:
        return max(1, min(int(raw), highest)) if raw else default
    except ValueError:
        return default


class ImpactView(TenantViewMixin, TemplateView):
    """What depends on a CI or service, and what it depends on, drawn as a graph (the
    table under it carries the same content without JavaScript)."""

    template_name = "cmdb/impact.html"
    model = ConfigurationItem

    def get_capability(self) -> str:
        return "service.view" if self.model is Service else "ci.view"

    def get_context_data(self, **kwargs):
        ctx = super().get_context_data(**kwargs)
        node = get_object_or_404(self.model.objects.all(), pk=kwargs["pk"])
        direction = self.request.GET.get("direction", ImpactDirection.DOWN)
        if direction not in ImpactDirection.values:
            direction = ImpactDirection.DOWN
        depth = _bounded_int(self.request.GET.get("depth"), DEFAULT_IMPACT_DEPTH, MAX_IMPACT_DEPTH)
        limit = _bounded_int(self.request.GET.get("limit"), PAGE_IMPACT_LIMIT, MAX_PAGE_IMPACT_LIMIT)
        result = impact(node, direction, depth, limit)
        ctx.update(
            record=node,
            result=result,
            direction=direction,
            depth=depth,
            max_depth=MAX_IMPACT_DEPTH,
            limit=limit,
            more_limit=MAX_PAGE_IMPACT_LIMIT if limit < MAX_PAGE_IMPACT_LIMIT else None,
            directions=ImpactDirection.choices,
            graph=graph_data(node, result, PAGE_IMPACT_LIMIT),
            graph_clipped=PAGE_IMPACT_LIMIT if len(result.nodes) > PAGE_IMPACT_LIMIT else None,
            record_page=record_url(node),
        )
        return ctx


def graph_data(origin, result, most: int) -> dict:
    """Nodes and edges for the graph library, with each node's page: the nearest ``most``
    of the result (a node's path only runs through nearer nodes, so none dangles)."""
    slug = record_tenant_slug()

    def url(kind: str, pk: int) -> str:
        return reverse(f"{'services' if kind == 'service' else 'cis'}:detail", kwargs={"tenant_slug": slug, "pk": pk})

    origin_kind = "service" if isinstance(origin, Service) else "ci"
    nodes = {
        origin.reference: {
            "id": origin.reference,
            "label": f"{origin.reference}\n{origin.title}",
            "kind": origin_kind,
            "state": origin.state,
            "origin": True,
            "url": url(origin_kind, origin.pk),
        }
    }
    edges = {}
    for n in sorted(result.nodes, key=lambda n: n.depth)[:most]:
        nodes.setdefault(
            n.reference,
            {
                "id": n.reference,
                "label": f"{n.reference}\n{n.title}",
                "kind": n.kind,
                "state": n.state,
                "origin": False,
                "url": url(n.kind, n.id),
            },
        )
        key = (n.edge["from"], n.edge["to"], n.edge["kind"])
        edges.setdefault(key, {"id": "|".join(key), "source": key[0], "target": key[1], "label": n.via_label})
    return {"nodes": list(nodes.values()), "edges": list(edges.values()), "origin": origin.reference}


class ServiceImpactView(ImpactView):
    model = Service

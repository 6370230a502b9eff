"""Browser forms of the CMDB. They validate with the same rules as the API: the models'
``clean()``, the type's attribute schema and the change-control check."""

from __future__ import annotations

import datetime as dt
import json

from django import forms
from django.core.exceptions import NON_FIELD_ERRORS, ValidationError

from sms.core.views.records import RecordForm
from sms.parties.choices import PartyType
from sms.parties.models import Party

from ..choices import CI_INITIAL_STATES, AttributeType, CIState, MasterCopyPolicy, RelationshipKind
from ..hooks import change_reference_errors
from ..models import CIType, ConfigurationItem, Service
from ..schema import normalise_schema, schema_errors

ATTR_PREFIX = "attr_"
MASTER_COPY_FIELDS = ("master_copy_location", "master_copy_sha256")


def attribute_field(definition: dict, initial=None) -> forms.Field:
    """A form field for one attribute definition. Requirement is enforced by the schema
    check (one message for API and browser); booleans may be left unknown."""
    kind = definition["type"]
    label = definition.get("label") or definition["name"]
    common = {"label": label, "required": False, "help_text": definition.get("help", ""), "initial": initial}
    if kind == AttributeType.INTEGER:
        return forms.IntegerField(**common)
    if kind == AttributeType.NUMBER:
        return forms.FloatField(**common)
    if kind == AttributeType.BOOLEAN:
        return forms.NullBooleanField(**common)
    if kind == AttributeType.DATE:
        return forms.DateField(widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"), **common)
    if kind == AttributeType.CHOICE:
        choices = [("", "—")] + [(c, c) for c in definition.get("choices", [])]
        return forms.ChoiceField(choices=choices, **common)
    return forms.CharField(max_length=2000, **common)


class ConfigurationItemForm(RecordForm):
    """A CI of one type: the type's attributes become fields of the form."""

    # Declared, not generated: generating it would read the tenant-scoped manager at import.
    supplier = forms.ModelChoiceField(queryset=Party.unscoped.none(), required=False)
    initial_state = forms.ChoiceField(
        label="Status",
        choices=[(s.value, s.label) for s in CI_INITIAL_STATES],
        initial=CIState.PLANNED,
        help_text="Existing infrastructure is registered as live; afterwards the status moves through transitions.",
    )

    class Meta:
        model = ConfigurationItem
        fields = [
            "title",
            "description",
            "owner",
            "version",
            "location",
            "serial_number",
            "asset_tag",
            "purchase_cost",
            "currency",
            "purchase_date",
            "warranty_expires",
            "cost_centre",
            "master_copy_location",
            "master_copy_sha256",
            "last_change_reference",
        ]
        labels = {"title": "Name"}
        widgets = {"description": forms.Textarea(attrs={"rows": 4})}

    def __init__(self, *args, ci_type: CIType, **kwargs):
        super().__init__(*args, **kwargs)
        self.ci_type = ci_type
        self.has_attribute_errors = False
        self.instance.ci_type = ci_type
        self.fields["supplier"].queryset = Party.objects.filter(party_type=PartyType.SUPPLIER, is_active=True)
        self.initial.setdefault("supplier", self.instance.supplier_id)
        values = self.instance.attributes or {}
        names = []
        for definition in ci_type.attribute_schema or []:
            name = ATTR_PREFIX + definition["name"]
            self.fields[name] = attribute_field(definition, values.get(definition["name"]))
            if definition.get("required") and definition["type"] != AttributeType.BOOLEAN:
                self.fields[name].required = True
            names.append(name)
        if ci_type.master_copy == MasterCopyPolicy.NONE:
            for name in MASTER_COPY_FIELDS:
                del self.fields[name]
        elif ci_type.master_copy == MasterCopyPolicy.REQUIRED:
            for name in MASTER_COPY_FIELDS:
                self.fields[name].required = True
        if not self.instance._state.adding:
            del self.fields["initial_state"]
            if ci_type.under_change_control:
                # Each change of a controlled CI names its own RFC: start from an empty field.
                self.fields["change_reason"].required = True
                self.fields["last_change_reference"].required = True
                self.fields["last_change_reference"].label = "Request for change"
                self.fields[
                    "last_change_reference"
                ].help_text = f"{ci_type.name} CIs are under change control: the RFC this change is made under."
                self.initial["last_change_reference"] = ""
        head = ["title", "description", "owner"] + (["initial_state"] if "initial_state" in self.fields else [])
        self.order_fields([*head, "version", "location", *names, "serial_number", "supplier"])

    def clean(self):
        cleaned = super().clean()
        values = {}
        for definition in self.ci_type.attribute_schema or []:
            value = cleaned.get(ATTR_PREFIX + definition["name"])
            if isinstance(value, dt.date):
                value = value.isoformat()
            if value is not None and value != "":
                values[definition["name"]] = value
        result, problems = self.ci_type.check_attributes(values)
        self.has_attribute_errors = bool(problems)
        for name, messages in problems.items():
            field = ATTR_PREFIX + name
            self.add_error(field if field in self.fields else None, messages)
        self.instance.attributes = result
        self.instance.supplier = cleaned.get("supplier")
        reference = cleaned.get("last_change_reference")
        if reference and not self.instance._state.adding and self.ci_type.under_change_control:
            for message in change_reference_errors(self.instance, reference):
                self.add_error("last_change_reference", message)
        if cleaned.get("currency"):
            cleaned["currency"] = cleaned["currency"].strip().upper()
        if cleaned.get("master_copy_sha256"):
            cleaned["master_copy_sha256"] = cleaned["master_copy_sha256"].strip().lower()
        return cleaned

    def _update_errors(self, errors):
        # The model's clean() names fields this form shows differently (the attributes are
        # one field per attribute, the type is fixed by the page): keep every message, on
        # the form rather than on a field it does not have.
        if hasattr(errors, "error_dict"):
            kept, other = {}, []
            for field, errs in errors.error_dict.items():
                if field in self.fields or field == NON_FIELD_ERRORS:
                    kept[field] = errs
                elif not (field == "attributes" and self.has_attribute_errors):
                    other.extend(f"{field.replace('_', ' ')}: {m}" for e in errs for m in e.messages)
            if other:
                kept.setdefault(NON_FIELD_ERRORS, []).extend(ValidationError(m) for m in other)
            errors = ValidationError(kept)
        super()._update_errors(errors)

    def save(self, commit: bool = True):
        reference = self.cleaned_data.get("last_change_reference")
        reason = self.cleaned_data.get("change_reason")
        if reason and reference and not self.instance._state.adding:
            self.cleaned_data["change_reason"] = f"{reason} (under {reference})"
        return super().save(commit=commit)


class RelationshipForm(forms.Form):
    """Add a relationship from this CI to another, named by its reference."""

    kind = forms.ChoiceField(choices=RelationshipKind.choices)
    target = forms.CharField(label="Other CI", max_length=40, help_text="Its reference, e.g. CI-12.")
    note = forms.CharField(required=False, max_length=250)
    change_reason = forms.CharField(required=False, max_length=500, label="Reason")


class ServiceForm(RecordForm):
    customers = forms.ModelMultipleChoiceField(queryset=Party.objects.none(), required=False)
    components = forms.ModelMultipleChoiceField(
        queryset=ConfigurationItem.objects.none(),
        required=False,
        widget=forms.SelectMultiple(attrs={"size": 12}),
        help_text="The CIs this service is made of.",
    )
    depends_on = forms.ModelMultipleChoiceField(
        queryset=Service.objects.none(), required=False, label="Depends on services"
    )

    class Meta:
        model = Service
        fields = ["title", "description", "owner", "criticality", "hours_of_service", "is_customer_facing"]
        labels = {"title": "Name"}
        widgets = {"description": forms.Textarea(attrs={"rows": 4})}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["customers"].queryset = Party.objects.filter(party_type=PartyType.CUSTOMER, is_active=True)
        self.fields["components"].queryset = (
            ConfigurationItem.objects.exclude(state=CIState.DISPOSED).select_related("ci_type").order_by("title")
        )
        self.fields["components"].label_from_instance = lambda ci: f"{ci.reference} {ci.title} ({ci.ci_type})"
        others = Service.objects.order_by("title")
        if self.instance.pk:
            others = others.exclude(pk=self.instance.pk)
            self.initial.setdefault("customers", list(self.instance.customers.values_list("pk", flat=True)))
            self.initial.setdefault("components", list(self.instance.components.values_list("pk", flat=True)))
            self.initial.setdefault("depends_on", list(self.instance.depends_on.values_list("pk", flat=True)))
        self.fields["depends_on"].queryset = others
        self.fields["depends_on"].label_from_instance = lambda s: f"{s.reference} {s.title}"

    def save(self, commit: bool = True):
        from ..services import set_service_links

        service = super().save(commit=commit)
        set_service_links(
            service,
            customers=self.cleaned_data["customers"],
            components=self.cleaned_data["components"],
            depends_on=self.cleaned_data["depends_on"],
            reason=self.cleaned_data.get("change_reason") or "",
        )
        return service


class CITypeForm(forms.ModelForm):
    allowed_relationships = forms.MultipleChoiceField(
        choices=RelationshipKind.choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text="Relationships a CI of this type may have towards other CIs.",
    )
    attribute_schema = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 12, "class": "mono"}),
        required=False,
        help_text='A JSON list, e.g. [{"name": "ram_gb", "label": "Memory (GB)", "type": "integer", '
        '"required": true}]. Types: text, number, integer, boolean, date, choice (with a list of choices).',
    )
    change_reason = forms.CharField(required=False, max_length=250, label="Reason for the change")

    class Meta:
        model = CIType
        fields = ["name", "code", "description", "under_change_control", "master_copy", "is_active"]
        widgets = {"description": forms.Textarea(attrs={"rows": 4})}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.initial.setdefault("attribute_schema", json.dumps(self.instance.attribute_schema or [], indent=2))
        self.initial.setdefault("allowed_relationships", self.instance.allowed_relationships or [])
        if self.instance._state.adding:
            del self.fields["change_reason"]

    def clean_attribute_schema(self):
        text = self.cleaned_data["attribute_schema"].strip() or "[]"
        try:
            schema = json.loads(text)
        except json.JSONDecodeError as exc:
            raise forms.ValidationError(f"Not valid JSON: {exc.msg} (line {exc.lineno}).") from exc
        problems = schema_errors(schema)
        if problems:
            raise forms.ValidationError(problems)
        return normalise_schema(schema)

    def clean_code(self):
        code = self.cleaned_data["code"]
        others = CIType.objects.filter(code=code)
        if self.instance.pk:
            others = others.exclude(pk=self.instance.pk)
        if others.exists():
            raise forms.ValidationError("Another CI type has this code.")
        return code

    def clean_name(self):
        name = self.cleaned_data["name"].strip()
        others = CIType.objects.filter(name__iexact=name)
        if self.instance.pk:
            others = others.exclude(pk=self.instance.pk)
        if others.exists():
            raise forms.ValidationError("Another CI type has this name.")
        return name

    def save(self, commit: bool = True):
        self.instance.attribute_schema = self.cleaned_data["attribute_schema"]
        self.instance.allowed_relationships = sorted(set(self.cleaned_data["allowed_relationships"]))
        reason = self.cleaned_data.get("change_reason")
        self.instance._change_reason = reason or ("Edited in the browser" if self.instance.pk else "Defined")
        return super().save(commit=commit)


class BaselineForm(forms.Form):
    name = forms.CharField(max_length=200)
    description = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 3}))
    services = forms.ModelMultipleChoiceField(queryset=Service.objects.none(), required=False)
    ci_types = forms.ModelMultipleChoiceField(queryset=CIType.objects.none(), required=False, label="CI types")
    include_dependencies = forms.BooleanField(
        required=False, initial=True, label="Include everything the services depend on"
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["services"].queryset = Service.objects.order_by("title")
        self.fields["services"].label_from_instance = lambda s: f"{s.reference} {s.title}"
        self.fields["ci_types"].queryset = CIType.objects.order_by("name")
        self.fields["services"].help_text = "Leave services and types empty to take the whole CMDB."

    def clean_name(self):
        name = self.cleaned_data["name"].strip()
        if not name:
            raise forms.ValidationError("A name is required.")
        return name

"""The default CI types every tenant starts with: each a documented definition (9.1)."""

from __future__ import annotations

from .choices import MasterCopyPolicy as M
from .choices import RelationshipKind as R

ENVIRONMENTS = ["production", "staging", "test", "development"]


def _attr(name: str, label: str, kind: str = "text", required: bool = False, choices=None) -> dict:
    entry = {"name": name, "label": label, "type": kind, "required": required}
    if choices:
        entry["choices"] = list(choices)
    return entry


DEFAULT_CI_TYPES: list[dict] = [
    {
        "code": "service",
        "name": "Service",
        "description": "A service, or part of one, that the provider depends on and that is delivered by a "
        "supplier or an internal group (for example a payment gateway or a managed DNS). Recorded "
        "as a CI so that the CIs relying on it can be found. The provider's own services are in the "
        "catalogue of services, not here.",
        "attribute_schema": [
            _attr("provider_reference", "Provider's service identifier"),
            _attr("support_hours", "Support hours"),
            _attr("status_page", "Status page URL"),
        ],
        "allowed_relationships": [R.DEPENDS_ON, R.USES, R.PART_OF, R.CONNECTED_TO],
        "under_change_control": True,
        "master_copy": M.NONE,
    },
    {
        "code": "application",
        "name": "Application",
        "description": "Software installed and run by the provider: a packaged product or an in-house build, one "
        "CI per installation and environment. The installable release kept in the definitive media "
        "library is its master copy.",
        "attribute_schema": [
            _attr("vendor", "Vendor"),
            _attr("environment", "Environment", "choice", True, ENVIRONMENTS),
            _attr("url", "URL"),
            _attr("support_group", "Support group"),
        ],
        "allowed_relationships": [
            R.RUNS_ON,
            R.HOSTED_ON,
            R.DEPENDS_ON,
            R.USES,
            R.LICENSED_BY,
            R.CONNECTED_TO,
            R.PART_OF,
        ],
        "under_change_control": True,
        "master_copy": M.REQUIRED,
    },
    {
        "code": "server",
        "name": "Physical server",
        "description": "A physical computer in a data centre or server room, from delivery to disposal. An image "
        "of its hardware configuration is kept as master copy where one exists.",
        "attribute_schema": [
            _attr("manufacturer", "Manufacturer"),
            _attr("model", "Model"),
            _attr("cpu_cores", "CPU cores", "integer"),
            _attr("ram_gb", "Memory (GB)", "integer", True),
            _attr("operating_system", "Operating system"),
            _attr("ip_address", "Management IP address"),
            _attr("rack_position", "Rack position"),
        ],
        "allowed_relationships": [R.CONNECTED_TO, R.PART_OF, R.DEPENDS_ON, R.LICENSED_BY],
        "under_change_control": True,
        "master_copy": M.OPTIONAL,
    },
    {
        "code": "virtual_machine",
        "name": "Virtual machine",
        "description": "A virtual machine on a hypervisor host or in a cloud region, with its sizing. The template "
        "or image it was built from may be referenced as master copy.",
        "attribute_schema": [
            _attr("vcpus", "Virtual CPUs", "integer", True),
            _attr("ram_gb", "Memory (GB)", "integer", True),
            _attr("operating_system", "Operating system"),
            _attr("ip_address", "IP address"),
            _attr("environment", "Environment", "choice", False, ENVIRONMENTS),
        ],
        "allowed_relationships": [R.HOSTED_ON, R.RUNS_ON, R.CONNECTED_TO, R.DEPENDS_ON, R.LICENSED_BY, R.PART_OF],
        "under_change_control": True,
        "master_copy": M.OPTIONAL,
    },
    {
        "code": "database",
        "name": "Database",
        "description": "A database instance or schema holding data of one or more applications, with the engine "
        "it runs on and whether it holds personal data.",
        "attribute_schema": [
            _attr(
                "engine",
                "Engine",
                "choice",
                True,
                ["PostgreSQL", "MySQL", "Microsoft SQL Server", "Oracle", "MongoDB", "Other"],
            ),
            _attr("engine_version", "Engine version"),
            _attr("size_gb", "Size (GB)", "number"),
            _attr("personal_data", "Holds personal data", "boolean"),
            _attr("backup_schedule", "Backup schedule"),
        ],
        "allowed_relationships": [R.RUNS_ON, R.HOSTED_ON, R.DEPENDS_ON, R.PART_OF, R.LICENSED_BY],
        "under_change_control": True,
        "master_copy": M.NONE,
    },
    {
        "code": "network_device",
        "name": "Network device",
        "description": "A router, switch, firewall, load balancer or wireless access point. Its saved "
        "configuration is kept as master copy where available.",
        "attribute_schema": [
            _attr(
                "device_role",
                "Role",
                "choice",
                True,
                ["router", "switch", "firewall", "load balancer", "wireless access point"],
            ),
            _attr("manufacturer", "Manufacturer"),
            _attr("model", "Model"),
            _attr("firmware", "Firmware version"),
            _attr("management_ip", "Management IP address"),
        ],
        "allowed_relationships": [R.CONNECTED_TO, R.PART_OF, R.DEPENDS_ON, R.LICENSED_BY],
        "under_change_control": True,
        "master_copy": M.OPTIONAL,
    },
    {
        "code": "licence",
        "name": "Licence",
        "description": "The right to use software or a service: what it covers, how many seats and until when. "
        "The licence certificate or agreement is its master copy.",
        "attribute_schema": [
            _attr("licence_type", "Licence type", "choice", True, ["perpetual", "subscription", "open source", "site"]),
            _attr("seats", "Seats", "integer"),
            _attr("expires", "Expires", "date"),
        ],
        "allowed_relationships": [R.PART_OF],
        "under_change_control": True,
        "master_copy": M.REQUIRED,
    },
    {
        "code": "document",
        "name": "Document",
        "description": "Documentation that is itself under configuration control: architecture descriptions, "
        "run books, operating procedures, configuration records. The approved file in the document "
        "library is its master copy.",
        "attribute_schema": [
            _attr(
                "document_type",
                "Document type",
                "choice",
                True,
                ["architecture", "run book", "procedure", "manual", "configuration record", "other"],
            ),
        ],
        "allowed_relationships": [R.PART_OF, R.DEPENDS_ON],
        "under_change_control": True,
        "master_copy": M.REQUIRED,
    },
    {
        "code": "supplier_contract",
        "name": "Supplier contract",
        "description": "A contract with a supplier under which CIs or service components are supplied. The "
        "signed contract is its master copy.",
        "attribute_schema": [
            _attr("contract_number", "Contract number", required=True),
            _attr("start_date", "Start date", "date"),
            _attr("end_date", "End date", "date"),
            _attr("notice_days", "Notice period (days)", "integer"),
            _attr("annual_value", "Annual value", "number"),
        ],
        "allowed_relationships": [R.PART_OF],
        "under_change_control": False,
        "master_copy": M.REQUIRED,
    },
    {
        "code": "storage",
        "name": "Storage",
        "description": "A storage array, file share or object-storage bucket that other CIs keep data on.",
        "attribute_schema": [
            _attr("capacity_tb", "Capacity (TB)", "number"),
            _attr("storage_class", "Class", "choice", False, ["block", "file", "object", "backup"]),
        ],
        "allowed_relationships": [R.CONNECTED_TO, R.HOSTED_ON, R.PART_OF, R.DEPENDS_ON],
        "under_change_control": True,
        "master_copy": M.NONE,
    },
]

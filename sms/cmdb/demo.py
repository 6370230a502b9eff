"""Demo CMDB: two data centres, their network, hosts, storage, virtual machines,
applications and databases behind e-mail, payroll and a web shop (about 115 CIs)."""

from __future__ import annotations

import datetime as dt
import hashlib
from decimal import Decimal

from django.db import transaction
from django.utils import timezone

from sms.core.workflow import run_transition
from sms.parties.choices import PartyType
from sms.parties.models import Party
from sms.tenancy.roles import Role

from .choices import CIState, Criticality, ServiceState
from .models import CIType, ConfigurationItem, Relationship, Service
from .services import ensure_default_ci_types, set_service_links, take_baseline


def _sha(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


class _Builder:
    def __init__(self, tenant, people):
        self.tenant = tenant
        self.types = {t.code: t for t in CIType.objects.all()}
        self.owner = people[Role.PROCESS_OWNER]
        self.admin = people[Role.ADMIN]
        self.suppliers = {p.name: p for p in Party.objects.filter(party_type=PartyType.SUPPLIER)}
        self.count = 0

    def ci(
        self, code: str, title: str, *, owner=None, state=CIState.LIVE, master: bool = False, **fields
    ) -> ConfigurationItem:
        self.count += 1
        ci_type = self.types[code]
        if master or ci_type.master_copy == "required":
            fields.setdefault("master_copy_location", f"dml://{self.tenant.slug}/{code}/{title}")
            fields.setdefault("master_copy_sha256", _sha(f"{self.tenant.slug}/{title}/{fields.get('version', '')}"))
        supplier = fields.pop("supplier", None)
        ci = ConfigurationItem(
            ci_type=ci_type,
            title=title,
            state=state,
            owner=owner or self.owner,
            supplier=self.suppliers.get(supplier) if supplier else None,
            asset_tag=fields.pop("asset_tag", "") or (f"AT-{self.count:05d}" if code in _HARDWARE else ""),
            **fields,
        )
        ci.clean()  # the demo obeys the same type definitions as everyone else
        ci.save(reason="Recorded in the initial CMDB load")
        return ci

    @staticmethod
    def rel(source: ConfigurationItem, kind: str, target: ConfigurationItem) -> None:
        relationship = Relationship(source=source, kind=kind, target=target)
        relationship.clean()
        relationship.save(reason="Recorded in the initial CMDB load")


_HARDWARE = {"server", "network_device", "storage"}


@transaction.atomic
def seed_cmdb(tenant, people) -> None:
    ensure_default_ci_types(tenant)
    if ConfigurationItem.objects.exists():
        return
    b = _Builder(tenant, people)
    bought = dt.date(2023, 3, 1)

    # --- network, per data centre ------------------------------------------------------------
    sites = {}
    for dc in ("dc1", "dc2"):
        loc = f"{dc.upper()} core room"
        router = b.ci(
            "network_device",
            f"{dc}-rtr-01",
            owner=b.admin,
            location=loc,
            version="17.9",
            attributes={"device_role": "router", "manufacturer": "Cisco", "model": "ASR 1001-X", "firmware": "17.9.4"},
            purchase_cost=Decimal("18500.00"),
            currency="EUR",
            purchase_date=bought,
            supplier="NetLink Carrier",
        )
        firewall = b.ci(
            "network_device",
            f"{dc}-fw-01",
            owner=b.admin,
            location=loc,
            version="7.4",
            attributes={"device_role": "firewall", "manufacturer": "Fortinet", "model": "FG-600F"},
            purchase_cost=Decimal("24000.00"),
            currency="EUR",
            purchase_date=bought,
        )
        lb = b.ci(
            "network_device",
            f"{dc}-lb-01",
            owner=b.admin,
            location=loc,
            attributes={"device_role": "load balancer", "manufacturer": "F5", "model": "r2600"},
        )
        cores = [
            b.ci(
                "network_device",
                f"{dc}-core-sw-{i:02d}",
                owner=b.admin,
                location=loc,
                attributes={"device_role": "switch", "manufacturer": "Arista", "model": "7050X3"},
            )
            for i in (1, 2)
        ]
        access = [
            b.ci(
                "network_device",
                f"{dc}-acc-sw-{i:02d}",
                owner=b.admin,
                location=f"{dc.upper()} row {i}",
                attributes={"device_role": "switch", "manufacturer": "Arista", "model": "720XP"},
            )
            for i in (1, 2, 3)
        ]
        b.rel(firewall, "connected_to", router)
        b.rel(lb, "connected_to", firewall)
        for core in cores:
            b.rel(core, "connected_to", firewall)
        for i, sw in enumerate(access):
            b.rel(sw, "connected_to", cores[i % 2])
        storage = b.ci(
            "storage",
            f"{dc}-san-01",
            location=loc,
            attributes={"capacity_tb": 240, "storage_class": "block"},
            purchase_cost=Decimal("96000.00"),
            currency="EUR",
            purchase_date=bought,
            supplier="CloudHost Ltd",
        )
        b.rel(storage, "connected_to", cores[0])
        hosts = []
        for i in range(1, 5):
            host = b.ci(
                "server",
                f"{dc}-esx-{i:02d}",
                location=f"{dc.upper()} row {1 + (i - 1) % 3} rack {i}",
                version="ESXi 8.0U2",
                serial_number=f"CZ{dc[-1]}{i:03d}X7",
                master=(i == 1),
                attributes={
                    "manufacturer": "HPE",
                    "model": "ProLiant DL380 Gen11",
                    "cpu_cores": 64,
                    "ram_gb": 1024,
                    "operating_system": "VMware ESXi 8.0",
                },
                purchase_cost=Decimal("32000.00"),
                currency="EUR",
                purchase_date=bought,
                warranty_expires=bought + dt.timedelta(days=5 * 365),
                cost_centre="IT-INFRA",
            )
            b.rel(host, "connected_to", access[(i - 1) % 3])
            b.rel(host, "depends_on", storage)
            hosts.append(host)
        sites[dc] = {"lb": lb, "hosts": hosts, "storage": storage, "firewall": firewall}

    def vm(name, dc, n, vcpus=4, ram=16, os="Ubuntu 24.04", env="production", state=CIState.LIVE):
        machine = b.ci(
            "virtual_machine",
            name,
            location=f"{dc.upper()} cluster A",
            state=state,
            attributes={
                "vcpus": vcpus,
                "ram_gb": ram,
                "operating_system": os,
                "environment": env,
                "ip_address": f"10.{1 if dc == 'dc1' else 2}.20.{n}",
            },
        )
        b.rel(machine, "hosted_on", sites[dc]["hosts"][n % 4])
        return machine

    # --- external services, licences and contracts ---------------------------------------------
    internet = b.ci(
        "service",
        "Internet transit (NetLink)",
        supplier="NetLink Carrier",
        attributes={"provider_reference": "NL-TRANSIT-4471", "support_hours": "24x7"},
    )
    payments = b.ci(
        "service",
        "Card payment gateway",
        attributes={"provider_reference": "PGW-MERCHANT-88120", "status_page": "https://status.pay.example"},
    )
    smtp_relay = b.ci(
        "service",
        "Outbound mail relay",
        supplier="CloudHost Ltd",
        attributes={"provider_reference": "CH-SMTP-12", "support_hours": "Mon-Fri 08-18"},
    )
    for dc in sites:
        b.rel(internet, "connected_to", sites[dc]["firewall"])
    contracts = {
        name: b.ci(
            "supplier_contract",
            f"Contract {number} - {name}",
            supplier=name,
            attributes={
                "contract_number": number,
                "start_date": "2024-01-01",
                "end_date": "2026-12-31",
                "notice_days": 90,
                "annual_value": value,
            },
        )
        for name, number, value in (
            ("CloudHost Ltd", "C-2024-017", 180000),
            ("NetLink Carrier", "C-2023-044", 42000),
            ("PayCalc Software", "C-2024-102", 36000),
        )
    }
    licences = {
        key: b.ci(
            "licence",
            title,
            version=version,
            supplier=supplier,
            attributes={"licence_type": kind, "seats": seats, "expires": expires},
        )
        for key, title, version, supplier, kind, seats, expires in (
            ("vmware", "VMware vSphere Enterprise Plus", "8", "CloudHost Ltd", "subscription", 16, "2026-06-30"),
            ("exchange", "Microsoft Exchange Server CALs", "2019", None, "perpetual", 1200, None),
            ("paycalc", "PayCalc Payroll Enterprise", "11", "PayCalc Software", "subscription", 2500, "2026-03-31"),
            ("mssql", "SQL Server Standard core licences", "2022", None, "perpetual", 16, None),
            ("rhel", "Red Hat Enterprise Linux subscriptions", "9", None, "subscription", 40, "2026-09-30"),
            ("magento", "Adobe Commerce licence", "2.4", None, "subscription", 1, "2026-12-31"),
        )
    }
    for key in ("vmware", "paycalc"):
        b.rel(licences[key], "part_of", contracts["CloudHost Ltd" if key == "vmware" else "PayCalc Software"])
    for site in sites.values():
        for host in site["hosts"]:
            b.rel(host, "licensed_by", licences["vmware"])

    # --- identity (supporting service) -----------------------------------------------------------
    dcs = [vm(f"idm-dc-0{i}", dc, 10 + i, os="Windows Server 2022") for i, dc in ((1, "dc1"), (2, "dc2"))]
    ad = b.ci(
        "application",
        "Active Directory",
        version="2022",
        attributes={"vendor": "Microsoft", "environment": "production"},
    )
    sso_vm = vm("idm-sso-01", "dc1", 13)
    sso = b.ci(
        "application",
        "Keycloak single sign-on",
        version="24.0.4",
        attributes={"vendor": "Red Hat", "environment": "production", "url": "https://sso.example.net"},
    )
    for machine in dcs:
        b.rel(ad, "runs_on", machine)
    b.rel(sso, "runs_on", sso_vm)
    b.rel(sso, "depends_on", ad)
    b.rel(sso, "licensed_by", licences["rhel"])

    # --- e-mail ----------------------------------------------------------------------------------
    mail_vms = [
        vm(f"mail-mbx-0{i}", dc, 20 + i, vcpus=8, ram=64, os="Windows Server 2022")
        for i, dc in ((1, "dc1"), (2, "dc1"), (3, "dc2"))
    ]
    mail_edge = vm("mail-edge-01", "dc1", 24)
    exchange = b.ci(
        "application",
        "Exchange mailbox cluster",
        version="2019 CU14",
        attributes={"vendor": "Microsoft", "environment": "production", "support_group": "Messaging"},
    )
    edge = b.ci(
        "application",
        "Mail edge transport",
        version="2019 CU14",
        attributes={"vendor": "Microsoft", "environment": "production"},
    )
    for machine in mail_vms:
        b.rel(exchange, "runs_on", machine)
    b.rel(edge, "runs_on", mail_edge)
    b.rel(edge, "depends_on", smtp_relay)
    b.rel(edge, "uses", exchange)
    b.rel(exchange, "depends_on", ad)
    b.rel(exchange, "licensed_by", licences["exchange"])
    webmail = b.ci(
        "application",
        "Outlook on the web",
        version="2019 CU14",
        attributes={"vendor": "Microsoft", "environment": "production", "url": "https://mail.example.net"},
    )
    b.rel(webmail, "uses", exchange)
    b.rel(webmail, "depends_on", sites["dc1"]["lb"])
    mail_db = b.ci(
        "database",
        "Mailbox databases DAG",
        attributes={"engine": "Other", "size_gb": 9200, "personal_data": True, "backup_schedule": "daily 01:00"},
    )
    for machine in mail_vms:
        b.rel(mail_db, "hosted_on", machine)
    b.rel(exchange, "depends_on", mail_db)

    # --- payroll ---------------------------------------------------------------------------------
    pay_app_vms = [vm(f"pay-app-0{i}", "dc1", 30 + i, ram=32) for i in (1, 2)]
    pay_db_vm = vm("pay-sql-01", "dc1", 33, vcpus=8, ram=64, os="Windows Server 2022")
    pay_db_replica = vm("pay-sql-02", "dc2", 34, vcpus=8, ram=64, os="Windows Server 2022")
    paycalc = b.ci(
        "application",
        "PayCalc payroll",
        version="11.2",
        supplier="PayCalc Software",
        attributes={
            "vendor": "PayCalc Software",
            "environment": "production",
            "url": "https://payroll.example.net",
            "support_group": "HR systems",
        },
    )
    pay_db = b.ci(
        "database",
        "Payroll database",
        version="2022",
        attributes={
            "engine": "Microsoft SQL Server",
            "engine_version": "2022 CU12",
            "size_gb": 310,
            "personal_data": True,
            "backup_schedule": "hourly log, nightly full",
        },
    )
    for machine in pay_app_vms:
        b.rel(paycalc, "runs_on", machine)
    b.rel(pay_db, "runs_on", pay_db_vm)
    b.rel(pay_db, "licensed_by", licences["mssql"])
    b.rel(pay_db, "depends_on", pay_db_replica)
    b.rel(paycalc, "depends_on", pay_db)
    b.rel(paycalc, "depends_on", sso)
    b.rel(paycalc, "licensed_by", licences["paycalc"])
    pay_test_vm = vm("pay-test-01", "dc2", 35, env="test")
    pay_test = b.ci(
        "application",
        "PayCalc payroll (test)",
        version="11.3-rc1",
        attributes={"vendor": "PayCalc Software", "environment": "test"},
        state=CIState.IN_BUILD,
    )
    b.rel(pay_test, "runs_on", pay_test_vm)

    # --- web shop --------------------------------------------------------------------------------
    shop_web = [vm(f"shop-web-0{i}", dc, 40 + i, ram=8) for i, dc in ((1, "dc1"), (2, "dc1"), (3, "dc2"), (4, "dc2"))]
    shop_app = [vm(f"shop-app-0{i}", dc, 45 + i, vcpus=8, ram=32) for i, dc in ((1, "dc1"), (2, "dc2"))]
    shop_db_vms = [vm(f"shop-db-0{i}", dc, 48 + i, vcpus=8, ram=64) for i, dc in ((1, "dc1"), (2, "dc2"))]
    shop_cache = vm("shop-cache-01", "dc1", 51, ram=32)
    shop_search = vm("shop-search-01", "dc1", 52, ram=32)
    storefront = b.ci(
        "application",
        "Web shop storefront",
        version="2.4.7",
        attributes={
            "vendor": "Adobe",
            "environment": "production",
            "url": "https://shop.example.net",
            "support_group": "E-commerce",
        },
    )
    backend = b.ci(
        "application",
        "Web shop order service",
        version="5.12.0",
        attributes={"vendor": "in-house", "environment": "production", "support_group": "E-commerce"},
    )
    cache = b.ci(
        "application", "Redis session cache", version="7.2", attributes={"vendor": "Redis", "environment": "production"}
    )
    search = b.ci(
        "application",
        "OpenSearch product index",
        version="2.13",
        attributes={"vendor": "OpenSearch", "environment": "production"},
    )
    shop_db = b.ci(
        "database",
        "Web shop database",
        version="16",
        attributes={
            "engine": "PostgreSQL",
            "engine_version": "16.3",
            "size_gb": 480,
            "personal_data": True,
            "backup_schedule": "continuous WAL archive",
        },
    )
    for machine in shop_web:
        b.rel(storefront, "runs_on", machine)
    for machine in shop_app:
        b.rel(backend, "runs_on", machine)
    b.rel(shop_db, "runs_on", shop_db_vms[0])
    b.rel(shop_db, "depends_on", shop_db_vms[1])
    b.rel(cache, "runs_on", shop_cache)
    b.rel(search, "runs_on", shop_search)
    b.rel(storefront, "depends_on", backend)
    b.rel(storefront, "uses", cache)
    b.rel(storefront, "uses", search)
    b.rel(storefront, "depends_on", sites["dc1"]["lb"])
    b.rel(storefront, "licensed_by", licences["magento"])
    b.rel(backend, "depends_on", shop_db)
    b.rel(backend, "depends_on", payments)
    b.rel(backend, "uses", edge)
    b.rel(search, "depends_on", shop_db)
    shop_next = b.ci(
        "application",
        "Web shop storefront 3.0",
        version="3.0.0-beta",
        attributes={"vendor": "Adobe", "environment": "staging"},
        state=CIState.PLANNED,
    )
    b.rel(shop_next, "depends_on", backend)

    # --- monitoring, backup and spare capacity ----------------------------------------------------
    mon_vm = vm("ops-mon-01", "dc2", 60)
    monitoring = b.ci(
        "application", "Zabbix monitoring", version="7.0", attributes={"vendor": "Zabbix", "environment": "production"}
    )
    b.rel(monitoring, "runs_on", mon_vm)
    backup_vm = vm("ops-bak-01", "dc2", 61, ram=32)
    backup = b.ci(
        "application", "Veeam backup", version="12.1", attributes={"vendor": "Veeam", "environment": "production"}
    )
    b.rel(backup, "runs_on", backup_vm)
    b.rel(backup, "uses", sites["dc2"]["storage"])
    for dc in sites:
        bucket = b.ci(
            "storage",
            f"{dc}-backup-bucket",
            location=f"{dc.upper()} object store",
            attributes={"capacity_tb": 500, "storage_class": "object"},
        )
        b.rel(bucket, "hosted_on", sites[dc]["storage"])
        b.rel(backup, "uses", bucket)
    dns_vms = [vm(f"ops-dns-0{i}", dc, 62 + i, vcpus=2, ram=4) for i, dc in ((1, "dc1"), (2, "dc2"))]
    dns = b.ci(
        "application", "Internal DNS", version="9.18", attributes={"vendor": "ISC BIND", "environment": "production"}
    )
    for machine in dns_vms:
        b.rel(dns, "runs_on", machine)
    b.rel(ad, "depends_on", dns)
    desk_vm = vm("ops-desk-01", "dc1", 65, ram=16)
    desk = b.ci(
        "application",
        "Service desk tool",
        version="2025.2",
        attributes={"vendor": "in-house", "environment": "production", "url": "https://desk.example.net"},
    )
    b.rel(desk, "runs_on", desk_vm)
    b.rel(desk, "depends_on", sso)
    b.rel(desk, "uses", edge)
    intranet_vms = [vm(f"intra-web-0{i}", "dc1", 66 + i, ram=16) for i in (1, 2)]
    intranet = b.ci(
        "application",
        "Intranet portal",
        version="4.1",
        attributes={"vendor": "in-house", "environment": "production", "url": "https://intra.example.net"},
    )
    for machine in intranet_vms:
        b.rel(intranet, "runs_on", machine)
    b.rel(intranet, "depends_on", sso)
    for n in range(1, 11):
        vm(
            f"spare-vm-{n:02d}",
            "dc1" if n % 2 else "dc2",
            70 + n,
            ram=8,
            env="development",
            state=CIState.IN_BUILD if n > 8 else CIState.LIVE,
        )
    old = b.ci(
        "server",
        "dc1-legacy-01",
        location="DC1 row 3 rack 9",
        state=CIState.LIVE,
        serial_number="CZ1OLD01",
        attributes={"manufacturer": "Dell", "model": "R730", "ram_gb": 256},
        purchase_cost=Decimal("9000.00"),
        currency="EUR",
        purchase_date=dt.date(2016, 5, 1),
    )
    run_transition(old, "retire", by=b.owner, reason="Out of support; replaced by the ESXi cluster")

    # --- documents ----------------------------------------------------------------------------------
    for title, app, doc_type in (
        ("Web shop architecture", storefront, "architecture"),
        ("Payroll run book", paycalc, "run book"),
        ("Exchange operating procedures", exchange, "procedure"),
        ("Network configuration record DC1", None, "configuration record"),
        ("Network configuration record DC2", None, "configuration record"),
        ("Backup and restore procedure", backup, "procedure"),
    ):
        doc = b.ci("document", title, version="1.0", attributes={"document_type": doc_type})
        if app is not None:
            b.rel(doc, "part_of", app)

    # --- catalogue of services -------------------------------------------------------------------------
    customers = {p.name: p for p in Party.objects.filter(party_type=PartyType.CUSTOMER)}

    def service(title, description, criticality, hours, components, names, facing=True, state=ServiceState.LIVE):
        svc = Service(
            title=title,
            description=description,
            criticality=criticality,
            hours_of_service=hours,
            is_customer_facing=facing,
            owner=b.owner,
            state=state,
        )
        svc.save(reason="Added to the catalogue")
        set_service_links(
            svc,
            by=b.owner,
            components=components,
            customers=[customers[n] for n in names if n in customers],
            reason="Initial catalogue",
        )
        return svc

    everyone = ["Harbour Retail Group", "Lakeside Health Trust", "Internal business units"]
    identity = service(
        "Identity and access",
        "Directory, single sign-on and multi-factor authentication.",
        Criticality.CRITICAL,
        "24x7",
        [ad, sso],
        ["Internal business units"],
        facing=False,
    )
    hosting = service(
        "Hosting and network",
        "Data centres, network, virtualisation and storage.",
        Criticality.CRITICAL,
        "24x7",
        [sites["dc1"]["lb"], sites["dc2"]["lb"], dns],
        [],
        facing=False,
    )
    service(
        "Intranet",
        "Company news, policies and forms for staff.",
        Criticality.LOW,
        "Mon-Fri 07:00-19:00",
        [intranet],
        ["Internal business units"],
    )
    service(
        "Service desk",
        "Single point of contact for incidents and requests.",
        Criticality.HIGH,
        "Mon-Fri 07:00-19:00",
        [desk],
        everyone,
    )
    email = service(
        "E-mail",
        "Mailboxes, calendars, web and mobile access, anti-spam.",
        Criticality.HIGH,
        "24x7; support Mon-Fri 07:00-19:00",
        [exchange, edge, webmail, mail_db],
        everyone,
    )
    payroll = service(
        "Payroll",
        "Monthly payroll runs, payslips and year-end reporting.",
        Criticality.HIGH,
        "Mon-Fri 07:00-19:00; payroll days 06:00-22:00",
        [paycalc, pay_db],
        everyone,
    )
    shop = service(
        "Web shop",
        "Online shop with checkout, order tracking and customer accounts.",
        Criticality.CRITICAL,
        "24x7",
        [storefront, backend, cache, search, shop_db],
        ["Harbour Retail Group"],
    )
    service(
        "Backup and restore",
        "Nightly backup of all production systems, restores on request.",
        Criticality.MEDIUM,
        "Mon-Fri 08:00-18:00",
        [backup],
        [],
        facing=False,
    )
    service(
        "Mobile app for shop customers",
        "Native app for the web shop.",
        Criticality.MEDIUM,
        "24x7",
        [],
        ["Harbour Retail Group"],
        state=ServiceState.PIPELINE,
    )
    for svc, needs in ((email, [identity, hosting]), (payroll, [identity, hosting]), (shop, [hosting, email])):
        set_service_links(svc, by=b.owner, depends_on=needs, reason="Initial catalogue")

    # A baseline of the web shop, then a change after it, so the diff has something to show.
    take_baseline(
        "Web shop before release 2.4.8",
        by=b.owner,
        scope={"services": [shop.pk], "include_dependencies": True},
        description="Taken before deploying storefront 2.4.8.",
    )
    storefront.version = "2.4.8"
    storefront.last_change_reference = "CHG-1"
    storefront.attributes = {**storefront.attributes, "support_group": "E-commerce platform"}
    storefront._history_user = b.owner
    storefront.save(reason="Release 2.4.8 deployed (under CHG-1)")
    take_baseline(
        "Whole CMDB, start of quarter", by=b.owner, description=f"Quarterly baseline of {timezone.localdate():%B %Y}."
    )


def seed_cmdb_audits(tenant, people) -> None:
    """A completed CMDB audit of the database servers with one deficiency, and the
    planned activity that schedules the next CMDB audit (clause 9.1). Idempotent."""
    from sms.core.models import PlannedActivity

    from .auditing import ACTIVITY_KIND, verify_ci
    from .models import CMDBAudit

    owner, auditor = people[Role.PROCESS_OWNER], people[Role.AUDITOR]
    if not PlannedActivity.objects.filter(kind=ACTIVITY_KIND).exists():
        PlannedActivity(
            kind=ACTIVITY_KIND,
            title="CMDB audit",
            description="Half-yearly audit of the CMDB records: automatic checks and a sample verified on site.",
            interval_count=6,
            interval_unit="months",
            owner=owner,
            next_due=timezone.localdate() + dt.timedelta(days=45),
        ).save(reason="Demo data")
    if CMDBAudit.objects.exists():
        return
    vm_type = CIType.objects.filter(code="virtual_machine").first()
    if vm_type is None or not ConfigurationItem.objects.filter(ci_type=vm_type).exists():
        return
    with transaction.atomic():
        audit = CMDBAudit(
            title="CMDB audit of the virtual machines",
            description="Sample of the virtual machines checked against the hypervisor inventory.",
            owner=owner,
            auditor=auditor,
            scope={"ci_types": [vm_type.pk]},
            planned_for=timezone.localdate() - dt.timedelta(days=135),
        )
        audit.save(reason="Demo data")
        if audit.area_owner_id == auditor.pk:  # never in the demo, but never audit your own area
            return
        audit = run_transition(audit, "start", by=auditor)
        sample = list(ConfigurationItem.objects.filter(ci_type=vm_type).order_by("number")[:3])
        for ci in sample[:-1]:
            verify_ci(audit, ci, by=auditor, result="ok")
        verify_ci(
            audit,
            sample[-1],
            by=auditor,
            result="deficient",
            note="The hypervisor shows 32 GB of memory; the record says 16 GB.",
        )
        audit.deficiencies = f"{sample[-1].reference}: recorded memory does not match the machine."
        audit.actions_taken = (
            "Record corrected by the CI owner under the standard change for VM resizing; "
            "resizing now updates the CMDB as a step of that change."
        )
        audit._history_user = auditor
        audit.save(reason="Findings recorded")
        run_transition(audit, "complete", by=auditor)

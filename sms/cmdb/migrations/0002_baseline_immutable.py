from django.db import migrations

# Baselines are evidence (clause 9.1): even a bug or a hand-written UPDATE cannot alter one.
FORWARD = """
CREATE FUNCTION cmdb_baseline_refuse_update() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'configuration baselines are immutable (baseline %)', OLD.id
        USING ERRCODE = 'integrity_constraint_violation';
END
$$;
CREATE TRIGGER cmdb_baseline_immutable BEFORE UPDATE ON cmdb_baseline
    FOR EACH ROW EXECUTE FUNCTION cmdb_baseline_refuse_update();
"""
BACKWARD = """
DROP TRIGGER IF EXISTS cmdb_baseline_immutable ON cmdb_baseline;
DROP FUNCTION IF EXISTS cmdb_baseline_refuse_update();
"""


class Migration(migrations.Migration):
    dependencies = [("cmdb", "0001_initial")]

    operations = [migrations.RunSQL(FORWARD, BACKWARD)]

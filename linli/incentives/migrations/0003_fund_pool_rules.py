"""Approved fund pools are kept by the database itself, so that no code path (a service,
the admin, a shell, a second process) can change money already approved:

- an allocation line is never updated; on PostgreSQL never deleted either;
- no line is added to a pool once it is approved;
- an approved pool is never updated (a correction is a new pool); on PostgreSQL never
  deleted either.

On SQLite, Django's test flush deletes rows, so (as for the time bank, volunteers 0002)
only updates and late inserts are refused there; the ORM still refuses to delete a pool
with lines (PROTECT).
"""

from django.db import migrations

POSTGRESQL = """
CREATE FUNCTION incentives_fund_frozen() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'funds: % of an approved pool cannot change; create a new pool',
        TG_TABLE_NAME USING ERRCODE = 'integrity_constraint_violation';
END
$$ LANGUAGE plpgsql;

CREATE TRIGGER incentives_fundallocation_frozen BEFORE UPDATE OR DELETE
    ON incentives_fundallocation
    FOR EACH ROW EXECUTE FUNCTION incentives_fund_frozen();

CREATE TRIGGER incentives_fundpool_frozen BEFORE UPDATE OR DELETE ON incentives_fundpool
    FOR EACH ROW WHEN (OLD.state = 'approved')
    EXECUTE FUNCTION incentives_fund_frozen();

CREATE FUNCTION incentives_fund_line_open() RETURNS trigger AS $$
BEGIN
    IF (SELECT state FROM incentives_fundpool WHERE id = NEW.pool_id) = 'approved' THEN
        RAISE EXCEPTION 'funds: pool % is approved; no line can be added', NEW.pool_id
            USING ERRCODE = 'integrity_constraint_violation';
    END IF;
    RETURN NEW;
END
$$ LANGUAGE plpgsql;

CREATE TRIGGER incentives_fundallocation_open BEFORE INSERT ON incentives_fundallocation
    FOR EACH ROW EXECUTE FUNCTION incentives_fund_line_open();
"""

POSTGRESQL_REVERSE = """
DROP TRIGGER incentives_fundallocation_open ON incentives_fundallocation;
DROP FUNCTION incentives_fund_line_open();
DROP TRIGGER incentives_fundpool_frozen ON incentives_fundpool;
DROP TRIGGER incentives_fundallocation_frozen ON incentives_fundallocation;
DROP FUNCTION incentives_fund_frozen();
"""

SQLITE = [
    """
    CREATE TRIGGER incentives_fundallocation_frozen BEFORE UPDATE ON incentives_fundallocation
    BEGIN
        SELECT RAISE(ABORT, 'funds: allocation lines cannot change; create a new pool');
    END
    """,
    """
    CREATE TRIGGER incentives_fundpool_frozen BEFORE UPDATE ON incentives_fundpool
    WHEN OLD.state = 'approved'
    BEGIN
        SELECT RAISE(ABORT, 'funds: an approved pool cannot change; create a new pool');
    END
    """,
    """
    CREATE TRIGGER incentives_fundallocation_open BEFORE INSERT ON incentives_fundallocation
    WHEN (SELECT state FROM incentives_fundpool WHERE id = NEW.pool_id) = 'approved'
    BEGIN
        SELECT RAISE(ABORT, 'funds: the pool is approved; no line can be added');
    END
    """,
]

SQLITE_REVERSE = [
    "DROP TRIGGER incentives_fundallocation_open",
    "DROP TRIGGER incentives_fundpool_frozen",
    "DROP TRIGGER incentives_fundallocation_frozen",
]


def _run(schema_editor, statements):
    # Straight to the cursor: the PL/pgSQL bodies hold '%' placeholders of their own.
    with schema_editor.connection.cursor() as cursor:
        for sql in [statements] if isinstance(statements, str) else statements:
            cursor.execute(sql)


def install(apps, schema_editor):
    postgresql = schema_editor.connection.vendor == "postgresql"
    _run(schema_editor, POSTGRESQL if postgresql else SQLITE)


def uninstall(apps, schema_editor):
    postgresql = schema_editor.connection.vendor == "postgresql"
    _run(schema_editor, POSTGRESQL_REVERSE if postgresql else SQLITE_REVERSE)


class Migration(migrations.Migration):
    dependencies = [("incentives", "0002_fund_pools")]

    operations = [migrations.RunPython(install, uninstall)]

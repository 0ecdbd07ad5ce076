"""The time bank's rules, kept by the database itself, so that no code path (a service,
the admin, a shell, a second process) can break the books:

- every movement adds its amount to its account's balance (and the balance check of
  0001 then refuses any balance below zero but the issuing account's);
- a transfer declares its number of legs; a leg beyond that number is refused, and the
  last leg is refused unless the legs sum to zero;
- on PostgreSQL, a transfer left with fewer legs than declared is refused at commit;
- movements and transfers are never updated; on PostgreSQL never deleted either (on
  SQLite, Django's test flush deletes rows, so only updates are refused there).
"""

from django.db import migrations

POSTGRESQL = """
CREATE FUNCTION volunteers_movement_post() RETURNS trigger AS $$
DECLARE
    declared integer;
    booked integer;
    total numeric;
BEGIN
    UPDATE volunteers_account SET balance = balance + NEW.amount WHERE id = NEW.account_id;
    SELECT legs INTO declared FROM volunteers_transfer WHERE id = NEW.transfer_id;
    SELECT count(*), coalesce(sum(amount), 0) INTO booked, total
        FROM volunteers_movement WHERE transfer_id = NEW.transfer_id;
    IF booked > declared THEN
        RAISE EXCEPTION 'timebank: transfer % has more movements than it declares',
            NEW.transfer_id USING ERRCODE = 'integrity_constraint_violation';
    END IF;
    IF booked = declared AND total <> 0 THEN
        RAISE EXCEPTION 'timebank: the movements of transfer % do not sum to zero',
            NEW.transfer_id USING ERRCODE = 'integrity_constraint_violation';
    END IF;
    RETURN NULL;
END
$$ LANGUAGE plpgsql;

CREATE TRIGGER volunteers_movement_post AFTER INSERT ON volunteers_movement
    FOR EACH ROW EXECUTE FUNCTION volunteers_movement_post();

CREATE FUNCTION volunteers_transfer_complete() RETURNS trigger AS $$
BEGIN
    IF (SELECT count(*) FROM volunteers_movement WHERE transfer_id = NEW.id) <> NEW.legs THEN
        RAISE EXCEPTION 'timebank: transfer % is incomplete', NEW.id
            USING ERRCODE = 'integrity_constraint_violation';
    END IF;
    RETURN NULL;
END
$$ LANGUAGE plpgsql;

CREATE CONSTRAINT TRIGGER volunteers_transfer_complete AFTER INSERT ON volunteers_transfer
    DEFERRABLE INITIALLY DEFERRED
    FOR EACH ROW EXECUTE FUNCTION volunteers_transfer_complete();

CREATE FUNCTION volunteers_append_only() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'timebank: % is append-only; book a reversing transfer', TG_TABLE_NAME
        USING ERRCODE = 'integrity_constraint_violation';
END
$$ LANGUAGE plpgsql;

CREATE TRIGGER volunteers_movement_append_only BEFORE UPDATE OR DELETE ON volunteers_movement
    FOR EACH ROW EXECUTE FUNCTION volunteers_append_only();
CREATE TRIGGER volunteers_transfer_append_only BEFORE UPDATE OR DELETE ON volunteers_transfer
    FOR EACH ROW EXECUTE FUNCTION volunteers_append_only();
"""

POSTGRESQL_REVERSE = """
DROP TRIGGER volunteers_transfer_append_only ON volunteers_transfer;
DROP TRIGGER volunteers_movement_append_only ON volunteers_movement;
DROP FUNCTION volunteers_append_only();
DROP TRIGGER volunteers_transfer_complete ON volunteers_transfer;
DROP FUNCTION volunteers_transfer_complete();
DROP TRIGGER volunteers_movement_post ON volunteers_movement;
DROP FUNCTION volunteers_movement_post();
"""

# SQLite keeps decimals as floating point: sums are rounded to the hundredth before they
# are compared, and balances are rounded as they are kept.
SQLITE = [
    """
    CREATE TRIGGER volunteers_movement_post AFTER INSERT ON volunteers_movement
    BEGIN
        UPDATE volunteers_account SET balance = round(balance + NEW.amount, 2)
            WHERE id = NEW.account_id;
        SELECT RAISE(ABORT, 'timebank: a transfer has more movements than it declares')
            WHERE (SELECT count(*) FROM volunteers_movement WHERE transfer_id = NEW.transfer_id)
                > (SELECT legs FROM volunteers_transfer WHERE id = NEW.transfer_id);
        SELECT RAISE(ABORT, 'timebank: the movements of a transfer do not sum to zero')
            WHERE (SELECT count(*) FROM volunteers_movement WHERE transfer_id = NEW.transfer_id)
                = (SELECT legs FROM volunteers_transfer WHERE id = NEW.transfer_id)
            AND round((SELECT sum(amount) FROM volunteers_movement
                       WHERE transfer_id = NEW.transfer_id), 2) <> 0;
    END
    """,
    """
    CREATE TRIGGER volunteers_movement_append_only BEFORE UPDATE ON volunteers_movement
    BEGIN
        SELECT RAISE(ABORT, 'timebank: movements are append-only; book a reversing transfer');
    END
    """,
    """
    CREATE TRIGGER volunteers_transfer_append_only BEFORE UPDATE ON volunteers_transfer
    BEGIN
        SELECT RAISE(ABORT, 'timebank: transfers are append-only; book a reversing transfer');
    END
    """,
]

SQLITE_REVERSE = [
    "DROP TRIGGER volunteers_transfer_append_only",
    "DROP TRIGGER volunteers_movement_append_only",
    "DROP TRIGGER volunteers_movement_post",
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
    dependencies = [("volunteers", "0001_initial")]

    operations = [migrations.RunPython(install, uninstall)]

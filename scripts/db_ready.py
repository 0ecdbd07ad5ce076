"""Exit 0 when the PostgreSQL server of the given URL answers, 1 when it does not."""

import sys

import psycopg


def main(url: str) -> int:
    # Connect to the maintenance database: the test database does not exist yet.
    dsn = url.rsplit("/", 1)[0] + "/postgres"
    try:
        with psycopg.connect(dsn.replace("postgres://", "postgresql://", 1), connect_timeout=5):
            return 0
    except psycopg.OperationalError as error:
        print(f"PostgreSQL: {error}".strip(), file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))

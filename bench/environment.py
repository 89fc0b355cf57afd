"""What every benchmark does first: choose its database, set Django up and migrate."""

import os
import sys
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent
BENCH_DIR = ROOT / "var" / "bench"


def bench_database(sqlite_name: str, *, fresh: bool = False) -> str:
    """WAYPOINT_BENCH_DATABASE_URL, or a SQLite file under var/bench/ (emptied first when `fresh`)."""
    url = os.environ.get("WAYPOINT_BENCH_DATABASE_URL")
    if url:
        return url
    BENCH_DIR.mkdir(parents=True, exist_ok=True)
    sqlite_file = BENCH_DIR / sqlite_name
    if fresh:
        for suffix in ("", "-wal", "-shm"):
            Path(f"{sqlite_file}{suffix}").unlink(missing_ok=True)
    return f"sqlite:///{sqlite_file}"


def django_ready(url: str) -> None:
    """Point Django at `url`, set it up and bring the schema up to date."""
    os.environ["DATABASE_URL"] = url
    os.environ["DJANGO_SETTINGS_MODULE"] = "config.settings"
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)


def fresh_database(kind: str, *, sqlite_name: str, postgres_url: str) -> str:
    """An empty database: a new SQLite file under var/bench/, or the PostgreSQL database of `postgres_url` dropped
    and created again. Each benchmark names its own, so that one never drops another's."""
    if kind == "sqlite":
        BENCH_DIR.mkdir(parents=True, exist_ok=True)
        path = BENCH_DIR / sqlite_name
        for suffix in ("", "-wal", "-shm"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)
        return f"sqlite:///{path}"
    import psycopg
    from psycopg import sql

    parts = urlsplit(postgres_url)
    name = parts.path.lstrip("/")
    admin_url = urlunsplit((parts.scheme, parts.netloc, "/postgres", parts.query, parts.fragment))
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    return postgres_url

"""PLR attainments download against the LRS emulator over HTTP, with the emulator's latency per call.

    .venv/bin/python bench/plr.py [--learners 1000,10000] [--latency-ms 100] [--concurrency 8]

Starts the LRS emulator in a `runserver` of its own (WAYPOINT_EMULATORS=1, the given latency on every call), builds
the learners set-based into a fresh SQLite file var/bench/plr.sqlite3 (or WAYPOINT_BENCH_DATABASE_URL), each with a
valid ULN, then for each size: `plr_download_start` for that many learners and the worker's half,
`plr_download_run`, timed, with the real LRS client (zeep over the vendored WSDL) calling the emulator with
WAYPOINT_LRS_CONCURRENCY calls at once. Reports seconds, learners per second, rows written, the peak RSS of the run
(VmHWM, reset before it), and checks that every learner has its rows. Targets: 1,000 learners in under 20 s at
100 ms latency; memory that does not grow with the number of learners.
"""

import argparse
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

from environment import ROOT, bench_database, django_ready

CREDENTIALS = {
    "WAYPOINT_LRS_UKPRN": "10012345",
    "WAYPOINT_LRS_USERNAME": "waypoint-bench",
    "WAYPOINT_LRS_PASSWORD": "bench-lrs-password",
    "WAYPOINT_LRS_VENDOR_ID": "3",
}


def rss_reset() -> None:
    Path("/proc/self/clear_refs").write_text("5")


def rss_mb(key: str = "VmHWM") -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(key + ":"):
            return int(line.split()[1]) / 1024
    return float("nan")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start_emulator(port: int, latency_ms: int, database_url: str) -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        **CREDENTIALS,
        "WAYPOINT_EMULATORS": "1",
        "WAYPOINT_LRS_EMULATOR_LATENCY_MS": str(latency_ms),
        "DATABASE_URL": database_url,
        "WAYPOINT_LOG_LEVEL": "WARNING",
    }
    server = subprocess.Popen(
        [str(ROOT / ".venv/bin/python"), "manage.py", "runserver", f"127.0.0.1:{port}", "--noreload"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    for _ in range(100):
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return server
        except OSError:
            time.sleep(0.1)
    server.kill()
    raise SystemExit("the emulator's server did not start")


def build(count: int) -> None:
    import datetime as dt

    from waypoint.core.ilr import uln_check_digit
    from waypoint.people.models import Learner

    have = Learner.objects.count()
    if have >= count:
        return
    learners = []
    base = 300_000_000 + have * 11
    while len(learners) < count - have:
        base += 1
        digit = uln_check_digit(str(base))
        if digit is None:
            continue
        n = have + len(learners)
        learners.append(
            Learner(
                first_name=f"Bench{n:05d}", surname="Learner", uln=f"{base}{digit}", date_of_birth=dt.date(2004, 1, 1)
            )
        )
    Learner.objects.bulk_create(learners, batch_size=2000)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--learners", default="1000,10000", help="comma-separated sizes")
    parser.add_argument("--latency-ms", type=int, default=100)
    parser.add_argument("--concurrency", type=int, default=8)
    args = parser.parse_args()
    sizes = [int(s) for s in args.learners.split(",")]

    url = bench_database("plr.sqlite3", fresh=True)
    port = free_port()
    os.environ.update(CREDENTIALS)
    os.environ["WAYPOINT_LRS_URL"] = f"http://127.0.0.1:{port}/emulators/lrs/LearnerServiceR9.svc"
    os.environ["WAYPOINT_LRS_CONCURRENCY"] = str(args.concurrency)
    django_ready(url)
    from django.contrib.auth import get_user_model

    from waypoint.attainments.models import PlrRow
    from waypoint.attainments.services import plr_download_run, plr_download_start
    from waypoint.people.models import Learner, Perm, StaffProfile

    build(max(sizes))
    admin = get_user_model().objects.create_user("bench.mis", password="x")
    StaffProfile.objects.create(user=admin, permissions=[Perm.PLR_IMPORT.value], all_groups=True)
    server = start_emulator(port, args.latency_ms, url)
    print(
        f"database: {url}; emulator at {os.environ['WAYPOINT_LRS_URL']}, {args.latency_ms} ms per call; "
        f"{args.concurrency} calls at once",
        flush=True,
    )
    try:
        print(f"{'learners':>9} {'seconds':>8} {'learners/s':>10} {'rows':>8} {'peak RSS MB':>11}  check")
        for size in sizes:
            learners = Learner.objects.order_by("id").values_list("id", flat=True)[:size]
            download = plr_download_start(by=admin, learners=Learner.objects.filter(pk__in=learners))
            rss_reset()
            started = time.perf_counter()
            plr_download_run(download.pk)
            seconds = time.perf_counter() - started
            peak = rss_mb()
            download.refresh_from_db()
            rows = PlrRow.objects.filter(download=download)
            covered = rows.values("learner_id").distinct().count()
            check = (
                "ok"
                if covered == size and download.status == "done"
                else f"FAILED ({covered} learners, {download.status})"
            )
            print(
                f"{size:>9,} {seconds:>8.2f} {size / seconds:>10.1f} {rows.count():>8,} {peak:>11.0f}  {check}",
                flush=True,
            )
    finally:
        server.terminate()
        server.wait(timeout=10)


if __name__ == "__main__":
    sys.exit(main())

"""Run background work.

    python worker.py [QUEUE ...]   an RQ worker (with its scheduler, for retries and
                                   enqueue_in) on the given queues, default: all of them
    python worker.py --burst ...   process what is queued, then exit
    python worker.py --cron        the cron scheduler for app.jobs.PERIODIC_JOBS

Every job runs in a fresh app context of the one app created here.
"""

from __future__ import annotations

import argparse
import sys

from app import create_app
from app.jobs import QUEUES, AppWorker, redis_connection, register_periodic_jobs


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("queues", nargs="*", default=list(QUEUES))
    parser.add_argument("--burst", action="store_true", help="exit when the queues are empty")
    parser.add_argument("--cron", action="store_true", help="run the cron scheduler instead")
    parser.add_argument("--name", help="worker name (default: RQ's)")
    args = parser.parse_args(argv)

    unknown = [q for q in args.queues if q not in QUEUES]
    if unknown:
        parser.error(f"unknown queue(s) {', '.join(unknown)}; known: {', '.join(QUEUES)}")

    app = create_app()
    with app.app_context():
        conn = redis_connection(app)
        if conn is None:
            print("REDIS_URL is not set: in embedded mode jobs run inline, no worker needed.", file=sys.stderr)
            return 2
        if args.cron:
            from rq.cron import create_cron

            register_periodic_jobs()
            create_cron(conn).start()
            return 0
        AppWorker.flask_app = app
        worker = AppWorker(args.queues, connection=conn, name=args.name)
        worker.work(burst=args.burst, with_scheduler=True, logging_level=app.config["LOG_LEVEL"])
    return 0


if __name__ == "__main__":
    sys.exit(main())

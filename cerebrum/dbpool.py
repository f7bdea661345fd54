"""The PostgreSQL connection pool's health check (issue 14 item 8).

Settings import this (OPTIONS["pool"]["check"]), so it imports nothing of Django's models.
"""

from __future__ import annotations

import logging

from psycopg import Connection
from psycopg_pool import ConnectionPool

logger = logging.getLogger(__name__)


def pool_connection_check(conn: Connection) -> None:
    """Test a connection as the pool hands it out (one empty round trip); raise if it is dead.

    A dead one is rarely alone: a failover, a PgBouncer restart or pg_terminate_backend kills every
    idle connection at once. psycopg_pool would find them one per `getconn`, sleeping 1, 2, 4, 8 s
    between attempts, so a request drawing several in a row passed the pool's 10 s timeout (a 500).
    On the first dead one the whole pool is checked, so the retry after the pool's first 1 s back-off
    gets a live (or new) connection.
    """
    try:
        ConnectionPool.check_connection(conn)
    except Exception:
        pool = getattr(conn, "_pool", None)
        if pool is not None:
            logger.warning("dead database connection in pool %s; checking every idle connection", pool.name)
            pool.check()
        raise

"""Django's PostgreSQL backend, its pool built with `cerebrum.dbpool.pool_connection_check`.

Django builds the psycopg pool itself and passes `check=` on its own (the plain check with
CONN_HEALTH_CHECKS, else none), so a check of our own cannot go through OPTIONS["pool"]. The pool is
built here the way Django builds it (django/db/backends/postgresql/base.py, 5.2), with that check.
"""

from __future__ import annotations

from django.core.exceptions import ImproperlyConfigured
from django.db.backends.base.base import NO_DB_ALIAS
from django.db.backends.postgresql import base
from psycopg_pool import ConnectionPool

from cerebrum.dbpool import pool_connection_check

__all__ = ["DatabaseWrapper"]


class DatabaseWrapper(base.DatabaseWrapper):
    @property
    def pool(self):
        pool_options = self.settings_dict["OPTIONS"].get("pool")
        if self.alias != NO_DB_ALIAS and pool_options and self.alias not in self._connection_pools:
            if self.settings_dict.get("CONN_MAX_AGE", 0) != 0:
                raise ImproperlyConfigured("Pooling doesn't support persistent connections.")
            connect_kwargs = self.get_connection_params()
            connect_kwargs["autocommit"] = True  # as Django: it sets autocommit itself later
            pool = ConnectionPool(
                kwargs=connect_kwargs,
                open=False,
                configure=self._configure_connection,
                check=pool_connection_check,
                **({} if pool_options is True else pool_options),
            )
            self._connection_pools.setdefault(self.alias, pool)
        return super().pool

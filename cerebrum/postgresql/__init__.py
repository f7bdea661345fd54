"""Django's PostgreSQL backend whose connection pool checks connections with cerebrum.dbpool's check."""

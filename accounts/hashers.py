"""Password hashing: Argon2id at OWASP's recommended parameters."""

from django.contrib.auth.hashers import Argon2PasswordHasher


class Argon2idHasher(Argon2PasswordHasher):
    """Argon2id with 19 MiB, 2 passes, 1 lane (the OWASP Password Storage Cheat Sheet's configuration).

    Django's defaults (100 MiB, 8 lanes) cost ~180 ms of CPU per login on this 2-core machine; these
    cost ~18 ms. Thousands of learners log in in the minutes before a mock test, and at the default a
    login storm of 10,000 would take 30 core-minutes. The algorithm name stays "argon2", so stored
    hashes keep verifying and Django re-hashes them with these parameters at the next login.
    """

    memory_cost = 19456  # KiB
    time_cost = 2
    parallelism = 1

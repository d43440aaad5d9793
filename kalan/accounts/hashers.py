from django.contrib.auth.hashers import Argon2PasswordHasher


class Argon2idHasher(Argon2PasswordHasher):
    """Argon2id with OWASP's minimum (19 MiB, 2 passes, 1 lane).

    Django's default asks 100 MiB and 8 lanes per sign-in, which a single-board
    school server cannot give to 40 children signing in at once. The hash
    keeps the standard "argon2" format with its parameters inside it.
    """

    time_cost = 2
    memory_cost = 19 * 1024
    parallelism = 1

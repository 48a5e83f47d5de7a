"""The seed's old home, kept for tools outside this repository that import it from here (the
side-by-side benchmark in ``../shared/peers`` reads the first seeded user's subject). The seed
data lives with the demo, in ``demo.seed``."""

from demo.seed import FIRST_USER_SUBJECT, seed_database, user_subject

__all__ = ["FIRST_USER_SUBJECT", "seed_database", "user_subject"]

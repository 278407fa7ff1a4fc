"""Seed the whole demo portal: users, dictionaries, CRM entities, tasks (deterministic per seed).

Example::

    store = Store()
    seed_portal(store, SandboxConfig(deals=1000, seed=7))
"""

from __future__ import annotations

import importlib
import logging
import random
from types import ModuleType

from .config import SandboxConfig
from .seed_crm import seed_crm
from .store import Store

log = logging.getLogger(__name__)


def _optional(name: str) -> ModuleType | None:
    """Import a sibling seeding module, or None while it does not exist yet."""
    try:
        return importlib.import_module(f"{__package__}.{name}")
    except ModuleNotFoundError as exc:
        if exc.name != f"{__package__}.{name}":
            raise
        log.warning("%s.%s is missing; that part of the portal stays empty", __package__, name)
        return None


def seed_portal(store: Store, config: SandboxConfig) -> None:
    """Users -> dictionaries -> CRM -> tasks, all from one ``random.Random(config.seed)``."""
    from . import methods  # noqa: F401  (registers every method table)
    from .store import SCHEMAS

    users_mod = _optional("seed_users")
    dicts_mod = _optional("seed_dicts")
    # TODO(S2): drop the optional imports once seed_users/seed_dicts/seed_tasks (S3) are all in git.
    tasks_mod = _optional("seed_tasks")
    with store.lock:  # a Store created before these imports lacks their tables
        for ddl in SCHEMAS:
            store.db.executescript(ddl)

    rng = random.Random(config.seed)
    user_ids = users_mod.seed_users(store, config, rng) if users_mod else [config.user_id]
    if dicts_mod:
        dicts_mod.seed_dicts(store, config, rng)
    ids = seed_crm(store, config, rng, user_ids)
    if tasks_mod:
        tasks_mod.seed_tasks(store, config, rng, user_ids, ids["deal"])

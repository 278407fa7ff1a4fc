"""Seed the whole demo portal: users, dictionaries, CRM entities, tasks (deterministic per seed).

Example::

    store = Store()
    seed_portal(store, SandboxConfig(deals=1000, seed=7))
"""

from __future__ import annotations

import random

from . import methods  # noqa: F401  (registers every method table)
from .config import SandboxConfig
from .seed_activities import seed_activities
from .seed_crm import seed_crm
from .seed_dicts import seed_dicts
from .seed_history import seed_history
from .seed_items import seed_items
from .seed_products import seed_products
from .seed_tasks import seed_tasks
from .seed_users import seed_users
from .store import SCHEMAS, Store


def seed_portal(store: Store, config: SandboxConfig) -> None:
    """Users -> dictionaries -> CRM -> tasks from one ``random.Random(config.seed)``, then the
    stage history of the deals and leads, the smart processes, the product catalogue and rows,
    and the activities, each from its own stream (the records above stay as they were)."""
    with store.lock:  # a Store created before every module was imported lacks some tables
        for ddl in SCHEMAS:
            store.db.executescript(ddl)
    rng = random.Random(config.seed)
    user_ids = seed_users(store, config, rng)
    seed_dicts(store, config, rng)
    ids = seed_crm(store, config, rng, user_ids)
    seed_history(store, config)
    seed_tasks(store, config, rng, user_ids, ids["deal"])
    seed_items(
        store, config, user_ids
    )  # own streams from here: the records above stay as they were
    seed_products(store, config, ids, user_ids)
    seed_activities(store, config, user_ids)

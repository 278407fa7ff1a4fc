"""Tasks of the demo portal, linked to deals through ``UF_CRM_TASK`` (``["D_<id>"]``).

Declares ``b_task`` (one row per task; auditors/accomplices as JSON arrays of id strings),
``b_task_crm`` (task id -> CRM binding code such as ``D_17``) and ``b_task_tag``. Seeds
``max(30, len(deal_ids) // 3)`` tasks: ~90 % bound to a random deal, statuses 2/3/4/5/6 in
realistic shares, most with a deadline (open tasks with a past deadline are overdue), some with
auditors, accomplices and tags. Bulk inserts keep 100k deals fast.

Example::

    seed_tasks(store, config, random.Random(1), user_ids=[1, 2, 3], deal_ids=list(range(1, 91)))
    store.scalar("SELECT COUNT(*) FROM b_task")   # 30
"""

from __future__ import annotations

import datetime as dt
import itertools
import random
import uuid

from .config import SandboxConfig
from .store import Store

TASK_COLUMNS = (
    "id, parent_id, title, description, priority, not_viewed, created_by, created_date,"
    " responsible_id, changed_by, changed_date, status_changed_by, status_changed_date, closed_by,"
    " closed_date, activity_date, date_start, deadline, guid, comments_count, allow_change_deadline,"
    " task_control, time_estimate, forum_topic_id, viewed_date, status, favorite, auditors,"
    " accomplices"
)

_TITLES = [
    "Call the client",
    "Send the commercial proposal",
    "Prepare the contract",
    "Follow up on the invoice",
    "Schedule a product demo",
    "Collect requirements",
    "Check the payment",
    "Update deal documents",
    "Negotiate the discount",
    "Arrange a meeting",
]
_DESCRIPTIONS = ["", "", "Discuss next steps with the [B]decision maker[/B].", "See the deal card."]
_TAGS = ["urgent", "follow-up", "vip", "billing"]
# (real status, weight) and, for open tasks, how far back they were created (days)
_STATUSES = [(2, 30), (3, 20), (4, 5), (5, 38), (6, 7)]
_DAY = 86400


def task_count(deal_count: int) -> int:
    """Number of seeded tasks for ``deal_count`` deals: ``max(30, deal_count // 3)``."""
    return max(30, deal_count // 3)


def seed_tasks(
    store: Store,
    config: SandboxConfig,
    rng: random.Random,
    user_ids: list[int],
    deal_ids: list[int],
) -> None:
    """Insert the demo tasks (replacing existing ones).

    Example: ``seed_tasks(store, config, rng, [1, 2], [1, 2, 3])`` -> 30 tasks, most bound to deals.
    """
    users = user_ids or [config.user_id]
    now = int(dt.datetime.now(config.tz).replace(minute=0, second=0, microsecond=0).timestamp())
    statuses = [s for s, _ in _STATUSES]
    cum_status = list(itertools.accumulate(w for _, w in _STATUSES))
    cum_priority = [10, 85, 100]
    tasks: list[tuple] = []
    links: list[tuple[int, str]] = []
    tags: list[tuple[int, str]] = []
    for task_id in range(1, task_count(len(deal_ids)) + 1):
        status = rng.choices(statuses, cum_weights=cum_status)[0]
        is_open = status in (2, 3)
        age = rng.randint(0, 60) if is_open else rng.randint(5, 400)
        created = now - age * _DAY - rng.randint(0, _DAY)
        creator = rng.choice(users)
        responsible = rng.choice(users)
        deadline = None
        if rng.random() < 0.8:
            deadline = created + rng.randint(1, 45) * _DAY
            deadline -= deadline % 3600
        closed = closed_by = None
        if status in (4, 5):
            closed = min(now, created + rng.randint(3600, 30 * _DAY))
            closed_by = responsible
        changed = closed or min(now, created + rng.randint(0, 5 * _DAY))
        status_changed = changed if status != 2 else created
        deal = rng.choice(deal_ids) if deal_ids and rng.random() < 0.9 else None
        title = rng.choice(_TITLES) + (f" (deal #{deal})" if deal else "")
        auditors = f'["{rng.choice(users)}"]' if rng.random() < 0.2 else "[]"
        accomplices = f'["{rng.choice(users)}"]' if rng.random() < 0.1 else "[]"
        guid = "{" + str(uuid.UUID(int=rng.getrandbits(128), version=4)) + "}"
        comments = rng.randint(1, 12) if rng.random() < 0.4 else None
        tasks.append(
            (
                task_id,
                None,
                title,
                rng.choice(_DESCRIPTIONS),
                rng.choices((0, 1, 2), cum_weights=cum_priority)[0],
                "Y" if status == 2 and rng.random() < 0.2 else "N",
                creator,
                created,
                responsible,
                creator,
                changed,
                responsible if status != 2 else creator,
                status_changed,
                closed_by,
                closed,
                changed,
                created + 3600 if status in (3, 4, 5) else None,
                deadline,
                guid,
                comments,
                "Y" if rng.random() < 0.3 else "N",
                "Y" if rng.random() < 0.3 else "N",
                0,
                1000 + task_id if comments else None,
                changed if rng.random() < 0.7 else None,
                status,
                "Y" if rng.random() < 0.05 else "N",
                auditors,
                accomplices,
            )
        )
        if deal:
            links.append((task_id, f"D_{deal}"))
        if rng.random() < 0.15:
            tags.append((task_id, rng.choice(_TAGS)))
    with store.transaction() as db:
        for table in ("b_task", "b_task_crm", "b_task_tag"):
            db.execute(f"DELETE FROM {table}")
        db.execute("DELETE FROM sqlite_sequence WHERE name IN ('b_task', 'b_task_tag')")
        db.executemany(
            f"INSERT INTO b_task ({TASK_COLUMNS}) VALUES ({', '.join('?' * len(tasks[0]))})",
            tasks,
        )
        db.executemany("INSERT INTO b_task_crm (task_id, code) VALUES (?, ?)", links)
        db.executemany("INSERT INTO b_task_tag (task_id, name) VALUES (?, ?)", tags)

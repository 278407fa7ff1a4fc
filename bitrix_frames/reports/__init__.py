"""Pipeline reports: matplotlib figures plus the tidy tables they are drawn from.

Every function returns a :class:`Report` ``(figure, table)``; labels, never raw ids; amounts
either converted to the base currency (pass ``rates``) or shown per currency, as the title says.

Example::

    import bitrix_frames as bf
    from bitrix_frames import reports
    portal = bf.connect()
    deals = portal.deals()
    rates = reports.Rates.from_portal(portal)
    fig, table = reports.funnel(deals, rates)
    history = portal.stage_history("deal")
    reports.stage_conversion(history, pipeline="General", since="2024-01-01")
    reports.time_in_stage(history)
    reports.cycle_time(history)
    reports.win_rate(deals, by="ASSIGNED_BY_ID", users=portal.users())
    reports.velocity(deals, history, rates)
    reports.won_lost_by_month(deals, rates)
    reports.revenue_by_user(deals, rates, users=portal.users())
    reports.leads_by_source(portal.leads())
    reports.tasks_by_status(portal.tasks(), users=portal.users())
"""

from __future__ import annotations

from bitrix_frames.reports.common import Rates, Report
from bitrix_frames.reports.conversion import stage_conversion
from bitrix_frames.reports.cycle import cycle_time
from bitrix_frames.reports.durations import time_in_stage
from bitrix_frames.reports.funnel import funnel, funnel_table
from bitrix_frames.reports.leads import leads_by_source
from bitrix_frames.reports.outcomes import won_lost_by_month
from bitrix_frames.reports.revenue import revenue_by_user
from bitrix_frames.reports.tasks import TASK_STATUSES, tasks_by_status
from bitrix_frames.reports.velocity import velocity
from bitrix_frames.reports.winrate import win_rate

__all__ = [
    "TASK_STATUSES",
    "Rates",
    "Report",
    "cycle_time",
    "funnel",
    "funnel_table",
    "leads_by_source",
    "revenue_by_user",
    "stage_conversion",
    "tasks_by_status",
    "time_in_stage",
    "velocity",
    "win_rate",
    "won_lost_by_month",
]

"""A report built by hand (no database) for chart, text and XLSX tests: names in three scripts, two currencies."""

from __future__ import annotations

import itertools
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

from core.usecases import reports
from core.usecases.reports import (
    Conversion,
    MemberFigures,
    OverduePayment,
    Period,
    Report,
    SilentCustomer,
    StageFigures,
    TopCustomer,
    WonBucket,
)

NAMES = ("王大明", "李小龍", "张伟", "Ben Carter", "蔡依林", "刘德华", "Zoë Ørsted", "陳美玲")
CUSTOMERS = ("新光設計", "大同五金行股份有限公司", "Acme Trading Ltd.", "华为技术", "鴻海精密")


def sample_report(*, people: int = 6, long_stages: bool = False, empty: bool = False) -> Report:
    period = Period("month", datetime(2026, 10, 31, 16, tzinfo=UTC), datetime(2026, 11, 18, 2, tzinfo=UTC),
                    date(2026, 11, 1), date(2026, 11, 18))
    members = tuple(
        MemberFigures(i + 1, NAMES[i % len(NAMES)] + (f" {i // len(NAMES)}" if i >= len(NAMES) else ""),
                      visits=0 if empty else (7 * i + 3) % 11, calls=0 if empty else (5 * i + 1) % 7,
                      meetings=0 if empty else i % 3, notes=0 if empty else (3 * i + 2) % 9,
                      deals_won=0 if empty else i % 2,
                      won=() if empty or not i % 2 else (("TWD", Decimal(150000 + 1000 * i)),))
        for i in range(people))
    stages = []
    for index, (key, names, outcome) in enumerate(reports.DEFAULT_STAGES):
        if long_stages:
            names = {"zh-Hant": "非常長的階段名稱" * 5, "zh-Hans": "非常长的阶段名称" * 5,
                     "en": "A very long stage name of forty chars" + "xyz"}
            names = {k: v[:40] for k, v in names.items()}
        reached = 0 if empty else max(40 - 12 * index, 3)
        stages.append(StageFigures(key, names, outcome, 0 if empty else 5 + index,
                                   () if empty else (("TWD", Decimal(120000 * (index + 1))),), reached,
                                   None if empty else 3.5 + index))
    ladder = [s for s in stages if s.outcome != "lost"]
    conversion = tuple(Conversion(a.key, b.key, b.reached / a.reached if a.reached else 0.0)
                       for a, b in itertools.pairwise(ladder))
    won = tuple(WonBucket(date(2026, 10, 26) + timedelta(days=7 * i),
                          () if empty else (("TWD", Decimal(80000 * i + 50000)), ("USD", Decimal("1200.50"))))
                for i in range(4))
    top = () if empty else tuple(TopCustomer(i + 1, name, (("TWD", Decimal(300000 - 50000 * i)),), 0.3 - 0.05 * i)
                                 for i, name in enumerate(CUSTOMERS))
    return Report(period=period, team_view=True, members=members, stages=tuple(stages), conversion=conversion,
                  top_customers=top, customers_for_80=0 if empty else 3, won_customers=0 if empty else 5,
                  silent=() if empty else (SilentCustomer(9, "鴻海精密", 45), SilentCustomer(10, "Acme", None)),
                  payments_overdue=() if empty else (OverduePayment(1, "新光設計", "TWD", Decimal("30000"),
                                                                   datetime(2026, 11, 14, 2, tzinfo=UTC)),),
                  won_over_time=won)

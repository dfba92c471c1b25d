"""Treatment schedule and enrolment periods: Figure 1 of Zhang et al., Blood Adv 2020 as a timeline.

The paper's Figure 1 is a schematic of the protocol. We redraw it from the numbers of the published
record (``data/published/claims.csv``, by claim id): lymphodepletion days, leukapheresis-to-infusion
interval, day of the primary assessment, day of consolidative allo-HSCT (Table 4) and the sizes of the
two costimulatory-domain periods. The calendar dates of the enrolment periods are not numbers of the
record: they are the study calendar of ``data/published/design.yml`` (:func:`periods`), the one place
the reconstruction also reads them from, so the switch to 4-1BB falls on the same day here as in the
cohort (reading ``costim_switch_date``: "after November 2017" read as from 1 November).

Pure functions: claims DataFrame -> facts DataFrame -> matplotlib Figure.
"""
from __future__ import annotations

import datetime as dt

import pandas as pd

from cart19.record import claims as C

#: Claims used for the timeline: event label -> claim id (see data/published/ID_CONVENTIONS.md).
SCHEDULE_CLAIMS = {
    "Leukapheresis to infusion (days)": "methods.vein_to_vein",
    "Bridging chemotherapy (patients)": "methods.bridging",
    "Fludarabine/cyclophosphamide (day)": "methods.ld.schedule",
    "Day of primary efficacy assessment": "methods.endpoint.day",
    "Consolidative allo-HSCT (day)": "table4.hsct_day",
    "Patients per domain, first period": "methods.costim.initial",
    "4-1BB patients, second period": "methods.costim.later_41bb",
    "Patients infused": "methods.manufactured",
}

#: Enrolment calendar (dates are not in claims.csv): start, end, what happened, where it is printed.
def periods(design=None) -> pd.DataFrame:
    """The two costimulatory-domain periods of Figure 1B from the design's calendar: start, end,
    period, the paper's words, where printed, and the reading that dates a month-only sentence.

    Methods ("Clinical procedures") and Results (first paragraph) of Zhang et al. 2020."""
    if design is None:
        from cart19.record import design as D
        design = D.load()
    cal = design.calendar
    start, switch, end = (cal[k] for k in ("enrolment_start", "costim_switch", "enrolment_end"))
    rows = [
        (start.date, switch.date - dt.timedelta(days=1), "CD28 or 4-1BB",
         "Results, first paragraph (start); Methods, 'Clinical procedures' (switch)",
         start.quote, switch.reading or ""),
        (switch.date, end.date, "4-1BB only",
         "Methods, 'Clinical procedures' (switch); Results, first paragraph (end)",
         switch.quote, switch.reading or ""),
    ]
    out = pd.DataFrame(rows, columns=["start", "end", "period", "location", "printed", "reading"])
    out["start"] = pd.to_datetime(out["start"])
    out["end"] = pd.to_datetime(out["end"])
    return out


def schedule_facts(claims: pd.DataFrame) -> pd.DataFrame:
    """The timeline's numbers, one row per event, with the claim id and printed text they come from.

    Columns: event, id, n, N, median, min, max, value, location, printed. Serves Figure 1 (Methods,
    "Clinical procedures"; Table 4, last row).
    """
    rows = []
    for event, cid in SCHEDULE_CLAIMS.items():
        c = C.claim(claims, cid)
        rows.append({"event": event, "id": cid, "n": c["n"], "N": c["N"], "median": c["median"], "min": c["min"],
                     "max": c["max"], "value": c["value"], "location": c["location"],
                     "printed": c["printed"]})
    return pd.DataFrame(rows)


def _fact(facts: pd.DataFrame, cid: str) -> pd.Series:
    return facts.loc[facts["id"] == cid].iloc[0]


def consistency(facts: pd.DataFrame, claims: pd.DataFrame) -> pd.DataFrame:
    """Derived check of the enrolment counts against Table 3 and the infused total.

    The two periods (21 + 21, then 68) must add up to Table 3's costimulatory-domain groups (CD28 N,
    4-1BB N) and to the number infused. Returns quantity, derived (from the schedule facts),
    published (with its claim id) and difference.
    """
    first = int(_fact(facts, "methods.costim.initial")["n"])
    later = int(_fact(facts, "methods.costim.later_41bb")["n"])
    rows = [
        ("CD28 patients", first, "table3.cr.costim.cd28"),
        ("4-1BB patients", first + later, "table3.cr.costim.41bb"),
        ("patients infused", 2 * first + later, "methods.manufactured"),
    ]
    out = []
    for quantity, derived, cid in rows:
        c = C.claim(claims, cid)
        published = int(c["N"]) if cid.startswith("table3") else int(c["n"])
        out.append({"quantity": quantity, "derived": derived, "published": published,
                    "published_id": cid, "difference": derived - published, "label": "derived"})
    return pd.DataFrame(out)


def schedule_figure(facts: pd.DataFrame, calendar: pd.DataFrame | None = None):
    """Figure 1 redrawn: (A) one patient's course in days from infusion, (B) enrolment periods
    (``calendar``: :func:`periods` unless given)."""
    calendar = periods() if calendar is None else calendar
    import matplotlib.dates as mdates
    from matplotlib.figure import Figure

    # a Figure outside pyplot: no global state, and notebooks show it only where they glue it

    vv = _fact(facts, "methods.vein_to_vein")
    ld = _fact(facts, "methods.ld.schedule")
    day30 = _fact(facts, "methods.endpoint.day")
    hsct = _fact(facts, "table4.hsct_day")
    bridging = _fact(facts, "methods.bridging")
    first = int(_fact(facts, "methods.costim.initial")["n"])
    later = int(_fact(facts, "methods.costim.later_41bb")["n"])

    fig = Figure(figsize=(9, 5.6), layout="constrained")
    ax, bx = fig.subplots(2, 1, height_ratios=[3, 1.3])
    lanes = ["Leukapheresis", "Bridging chemotherapy", "Flu/Cy lymphodepletion", "CAR T infusion",
             "Response assessment", "Consolidative allo-HSCT"]
    y = {name: len(lanes) - 1 - i for i, name in enumerate(lanes)}
    grey, blue, red, green = "#7f7f7f", "#1f77b4", "#d62728", "#2ca02c"

    # leukapheresis: median and range of days before infusion
    ax.hlines(y["Leukapheresis"], -vv["max"], -vv["min"], color=grey, lw=6, alpha=0.5)
    ax.plot(-vv["median"], y["Leukapheresis"], "D", color="black")
    ax.annotate(f"median day {-vv['median']:.0f} (range {-vv['max']:.0f} to {-vv['min']:.0f})",
                (-vv["median"], y["Leukapheresis"]), xytext=(0, 9), textcoords="offset points",
                ha="center", fontsize=8)
    # bridging: between leukapheresis and lymphodepletion, for some patients
    ax.hlines(y["Bridging chemotherapy"], -vv["median"], ld["min"] - 1, color=grey, lw=6,
              linestyles=(0, (2, 1)))
    ax.annotate(f"{bridging['n']:.0f} of {bridging['N']:.0f} enrolled patients",
                ((-vv["median"] + ld["min"] - 1) / 2, y["Bridging chemotherapy"]),
                xytext=(0, 9), textcoords="offset points", ha="center", fontsize=8)
    # lymphodepletion: one bar per day
    for d in range(int(ld["min"]), int(ld["max"]) + 1):
        ax.barh(y["Flu/Cy lymphodepletion"], 0.8, left=d - 0.4, height=0.5, color=blue)
    ax.annotate(f"days {ld['min']:.0f} to {ld['max']:.0f}", (ld["max"] + 0.8, y["Flu/Cy lymphodepletion"]),
                va="center", fontsize=8)
    ax.plot(0, y["CAR T infusion"], "v", color=red, ms=11)
    ax.annotate("day 0", (0.9, y["CAR T infusion"]), va="center", fontsize=8)
    ax.plot(day30["value"], y["Response assessment"], "s", color="black")
    ax.annotate(f"day {day30['value']:.0f}: CR, MRD", (day30["value"] + 2, y["Response assessment"]),
                va="center", fontsize=8)
    ax.hlines(y["Consolidative allo-HSCT"], hsct["min"], hsct["max"], color=green, lw=6, alpha=0.5)
    ax.plot(hsct["median"], y["Consolidative allo-HSCT"], "D", color=green)
    ax.annotate(f"median day {hsct['median']:.0f} (range {hsct['min']:.0f} to {hsct['max']:.0f})",
                (hsct["median"], y["Consolidative allo-HSCT"]), xytext=(0, 9),
                textcoords="offset points", ha="center", fontsize=8)
    ax.axvline(0, color=red, lw=0.8, ls=":")
    ax.set_yticks(list(y.values()), list(y.keys()))
    ax.set_ylim(-0.7, len(lanes) - 0.3)
    ax.set_xlim(-vv["max"] - 3, hsct["max"] + 5)
    ax.set_xlabel("days from CAR T-cell infusion")
    ax.set_title("A  Treatment course of one patient", loc="left", fontsize=10)
    ax.spines[["top", "right"]].set_visible(False)

    colors = [red, blue]
    for i, row in calendar.reset_index(drop=True).iterrows():
        bx.barh(0, (row["end"] - row["start"]).days, left=row["start"], height=0.6,
                color=colors[i % 2], alpha=0.35)
        n = f"{first} + {first} patients" if i == 0 else f"{later} patients"
        bx.annotate(f"{row['period']}\n{n}", (row["start"] + (row["end"] - row["start"]) / 2, 0),
                    ha="center", va="center", fontsize=8)
    bx.set_yticks([])
    bx.xaxis.set_major_locator(mdates.MonthLocator(bymonth=[1, 4, 7, 10]))
    bx.xaxis.set_major_formatter(mdates.DateFormatter("%b %Y"))
    bx.set_title("B  Enrolment periods by costimulatory domain (infused patients)", loc="left",
                 fontsize=10)
    bx.spines[["top", "right", "left"]].set_visible(False)
    return fig

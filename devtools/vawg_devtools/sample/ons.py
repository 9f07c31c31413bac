"""ONS population estimates in their published layouts, from the seed's figures.

On the run's first day the sample drops, as an operator would after downloading them:

* ``ons/mid_year_estimates/mid-year-estimates-mid<YYYY>.xlsx``: a mid-year estimates workbook
  (a cover sheet, then ``MYE2 - Persons``, ``MYE2 - Males`` and ``MYE2 - Females``, each a title
  naming mid-YYYY and notes above the header row ``Code, Name, Geography, All ages, 0 ... 89,
  90+``);
* ``ons/nomis/nomis-population-estimates-<YYYY>.csv``: a Nomis download, one block per sex
  (``Total``, ``Female``), each a title, the copyright line, the selection's labelled lines, a
  blank line, the table (area, ``mnemonic``, ``All Ages``, ``Aged 16+``), a blank line and a
  footnote.

Both hold the home force's local authorities for the seed's latest year (seed
``population_mid_year``), so what the warehouse reads from them is what the seed says: the
published totals, spread over the single years of age so that they add up exactly.

In the default ``SOURCE_FACTORIES``: the nightly's shared dbt group waits for the public
extract that publishes them, so the night they land rebuilds every family once, and the next
night (the same files, skipped by checksum) rebuilds none.
"""

from __future__ import annotations

import csv
import os
from datetime import date, datetime
from pathlib import Path

from vawg_devtools.sample.context import DatasetSummary, SampleContext
from vawg_devtools.sample.force import CrimeBatch
from vawg_devtools.sample.reference import read_seed
from vawg_devtools.sample.services import write_xlsx
from vawg_warehouse.ingest.contracts import load_contract

WORKBOOK = "public_ons_mid_year_estimates"
NOMIS = "public_nomis_population_estimates"
AGE_COLUMNS = [str(a) for a in range(90)] + ["90+"]  # 90+: ages 90 and over
SHEETS = (("MYE2 - Persons", "persons"), ("MYE2 - Males", "males"), ("MYE2 - Females", "females"))
UNITARY, DISTRICT = "Unitary Authority", "Non-metropolitan District"
NOMIS_BLOCKS = (("persons", "Total"), ("females", "Female"))


def spread(total: int, parts: int) -> list[int]:
    """``total`` in ``parts`` whole numbers that add up to it exactly."""
    base, extra = divmod(total, parts)
    return [base + (1 if i < extra else 0) for i in range(parts)]


def by_single_year(total: int, aged_16_plus: int) -> list[int]:
    """Ages 0 ... 89 and 90+ adding up to ``total``, of which ``aged_16_plus`` at 16 and over."""
    return spread(total - aged_16_plus, 16) + spread(aged_16_plus, len(AGE_COLUMNS) - 16)


class OnsSource:
    """Writes the two ONS files on the run's first day (a ``DaySource``: see context.py)."""

    def __init__(self, ctx: SampleContext):
        self.ctx = ctx
        self.contracts = {d: load_contract(d) for d in (WORKBOOK, NOMIS)}
        home = dict(zip(ctx.reference.la_codes, ctx.reference.la_names, strict=True))
        seed = [r for r in read_seed("population_mid_year") if r["local_authority_code"] in home]
        self.year = max((int(r["reference_year"]) for r in seed), default=None)
        self.areas: list[tuple[str, str, dict[str, list[int]]]] = []
        for row in seed:
            if int(row["reference_year"]) != self.year:
                continue
            persons = by_single_year(int(row["persons"]), int(row["persons_16_plus"]))
            females = by_single_year(int(row["females"]), int(row["females_16_plus"]))
            males = [p - f for p, f in zip(persons, females, strict=True)]
            code = row["local_authority_code"]
            self.areas.append(
                (code, home[code], {"persons": persons, "females": females, "males": males})
            )
        self.counts = {d: [0, 0] for d in self.contracts}  # files, rows as the loader reads them

    def on_day(self, day: date, crimes: CrimeBatch) -> None:
        if day != self.ctx.start or not self.areas:
            return
        self._write_workbook()
        self._write_nomis()

    def summaries(self) -> list[DatasetSummary]:
        return [
            DatasetSummary(d, c.landing_dir(self.ctx.landing_dir), *self.counts[d])
            for d, c in self.contracts.items()
        ]

    def _path(self, dataset: str, name: str) -> Path:
        contract = self.contracts[dataset]
        path = contract.landing_dir(self.ctx.landing_dir) / name
        if not contract.matches(path.relative_to(self.ctx.landing_dir).as_posix()):
            raise RuntimeError(f"{name} does not match {contract.file_pattern}")
        path.parent.mkdir(parents=True, exist_ok=True)
        return path

    def _write_workbook(self) -> None:
        year = self.year
        path = self._path(WORKBOOK, f"mid-year-estimates-mid{year}.xlsx")
        if path.exists():  # downloaded once: a later run into the same folder leaves it be
            return
        sheets: list[tuple[str, list[list[object]]]] = [
            (
                "Cover sheet",
                [
                    [f"Population estimates for England and Wales: mid-{year}"],
                    ["Source: Office for National Statistics"],
                ],
            )
        ]
        for sheet, sex in SHEETS:
            rows: list[list[object]] = [
                [f"MYE2: {sex.capitalize()} by single year of age and sex, mid-{year}"],
                ["Figures are the usual resident population at 30 June."],
                [],
                ["Code", "Name", "Geography", "All ages", *AGE_COLUMNS],
            ]
            for code, name, figures in self.areas:
                geography = UNITARY if code.startswith("E06") else DISTRICT
                rows.append([code, name, geography, sum(figures[sex]), *figures[sex]])
            sheets.append((sheet, rows))
        published = datetime(year + 1, 6, 26)  # ONS publishes mid-year estimates the next summer
        write_xlsx(path, sheets, author="Office for National Statistics", when=published)
        self.counts[WORKBOOK][0] += 1
        self.counts[WORKBOOK][1] += len(self.areas) * len(SHEETS) * (1 + len(AGE_COLUMNS))

    def _write_nomis(self) -> None:
        path = self._path(NOMIS, f"nomis-population-estimates-{self.year}.csv")
        if path.exists():
            return
        lines: list[list[str]] = []
        for sex, label in NOMIS_BLOCKS:
            lines += [
                ["Population estimates - local authority based by five year age band"],
                [f"ONS Crown Copyright Reserved [from Nomis on {self.ctx.start:%-d %B %Y}]"],
                ["Sex        :", label],
                ["Date       :", str(self.year)],
                ["Measures   :", "Value"],
                [],
                ["local authority: district / unitary", "mnemonic", "All Ages", "Aged 16+"],
            ]
            for code, name, figures in self.areas:
                lines.append([name, code, str(sum(figures[sex])), str(sum(figures[sex][16:]))])
            lines += [[], ["Estimates are of the usual resident population as at 30 June."], []]
        tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
        try:
            with tmp.open("w", newline="", encoding="utf-8") as fh:
                csv.writer(fh, quoting=csv.QUOTE_ALL, lineterminator="\r\n").writerows(lines)
            os.replace(tmp, path)
        finally:
            tmp.unlink(missing_ok=True)
        self.counts[NOMIS][0] += 1
        self.counts[NOMIS][1] += len(self.areas) * len(NOMIS_BLOCKS) * 2

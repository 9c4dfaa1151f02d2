"""``coverplan rules list|show``: the programme rule packs shipped with coverplan (:mod:`gis.rules`) and the rules
a project's ``[programme]`` chooses, each with its citation (docs/programme.md).

Errors (an unknown pack, a bad project file) leave through the group's one error door (exit 2)."""

from __future__ import annotations

from pathlib import Path

import click

from gis.errors import ProjectError
from gis.project import load_project
from gis.settings import Programme, build_programme, pack_ids, read_pack
from planning.cli.options import programme_project_opt


@click.group()
def rules() -> None:
    """Programme rule packs: which are shipped, and what a pack or a project's [programme] sets."""


@rules.command("list")
def rules_list() -> None:
    """Every shipped rule pack: id, version, title."""
    for pack_id in pack_ids():
        head = read_pack(pack_id).get("pack", {})
        click.echo(f"{pack_id}\t{head.get('version', '')}\t{head.get('title', '')}")


def programme_lines(programme: Programme) -> list[str]:
    """The rules of a programme as plain lines: KPIs with target, deadline year and citation, the definitions,
    categories, subsidy and applicant."""
    lines = [f"packs: {', '.join(f'{p.id} ({p.version})' for p in programme.packs)}"]
    for key, rule in programme.kpis.items():
        lines.append(f"kpi {key}: target {rule.target:.0%} by end of {rule.deadline_year} | {rule.citation.text()}")
    g4 = programme.village_4g
    cite = f" | {g4.citation.text()}" if g4.citation else ""
    lines.append(
        f"village_4g definition: {g4.rule} (site within {g4.site_within_m:g} m; settlements of "
        f"{g4.settlement_households}+ households){cite}"
    )
    if programme.broadband_citation:
        lines.append(f"broadband: {programme.broadband} | {programme.broadband_citation.text()}")
    if programme.categories_citation:
        lines.append(
            f"升级村: access below {programme.upgrade_below_mbps:g} Mbps | {programme.categories_citation.text()}"
        )
    s = programme.subsidy
    if s is not None:
        cite = f" | {s.citation.text()}" if s.citation else ""
        lines.append(
            f"subsidy: {s.rate:.0%} x (capex + {s.opex_years} years of opex; {s.border_opex_years} in key border "
            f"areas) on {', '.join(s.eligible)} items; border = {programme.border}{cite}"
        )
        if s.regional_rates:
            rates = ", ".join(f"{r} {'not verified' if v is None else f'{v:.0%}'}" for r, v in s.regional_rates.items())
            reg_cite = f" | {s.regional_citation.text()}" if s.regional_citation else ""
            lines.append(f"subsidy by region: {rates}; region = {programme.region or 'not stated'}{reg_cite}")
        if s.assumed:
            lines.append(f"subsidy terms assumed: {s.assumed}")
    for a in programme.applicants:
        lines.append(f"applicant: {a.applicant}; builders: {a.builders} | {a.citation.text()}")
    return lines


@rules.command("show")
@click.argument("pack", required=False)
@programme_project_opt
def rules_show(pack: str | None, project_file: Path | None) -> None:
    """The rules of one PACK, or of a project's [programme] (--project), each with its citation."""
    if (pack is None) == (project_file is None):
        msg = "coverplan rules show: give one PACK id or --project project.toml; expected exactly one"
        raise ProjectError(msg)
    programme = build_programme([pack]) if pack else load_project(Path(str(project_file)), required_layers=()).programme
    if not programme.chosen:
        click.echo(f"{project_file}: no [programme] rules chosen; [targets] and [funding] apply")
        return
    for line in programme_lines(programme):
        click.echo(line)

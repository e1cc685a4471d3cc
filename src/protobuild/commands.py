"""What each command says: runs the pipeline and turns its values into text for the CLI."""

from __future__ import annotations

import shlex
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Literal, cast

from protobuild import pipeline
from protobuild.errors import shown

if TYPE_CHECKING:  # resolve is imported only when a run needs a plan (not on a cache hit)
    from protobuild.resolve import Plan, ProtoFile


def generate(
    config: Path, only: Sequence[Path], dry_run: bool, waiting: Callable[[str], None]
) -> str:
    """Generate (or with `dry_run` only show) the outputs; returns the summary to print.
    `waiting` is told when another run holds the project and this one waits for it."""
    outcome = pipeline.generate(config, only, dry_run, waiting)
    changes = outcome.changes
    lines = []
    if dry_run:
        lines += [shlex.join(argv) for argv in outcome.protoc_commands]
        lines += [f"would add {p}" for p in changes.added]
        lines += [f"would change {p}" for p in changes.changed]
        lines += [f"would remove {p}" for p in changes.stale]
    where = shown(outcome.root)
    if not changes:
        lines.append(f"protobuild: {outcome.file_count} files in {where}/ are up to date")
    elif not dry_run:
        lines.append(
            f"protobuild: {where}/: {len(changes.added)} added, {len(changes.changed)} changed, "
            f"{len(changes.stale)} removed ({outcome.file_count} files{_partial(outcome)})"
        )
    if outcome.left_whole_tree:
        lines.append(
            "protobuild: note: [[descriptors]] snapshots and templates that render per package "
            "or per run draw on every proto, so a run on some paths leaves them as they are; "
            "run `protobuild` without paths to update them"
        )
    return "".join(f"{line}\n" for line in lines)


def _partial(outcome: pipeline.Outcome) -> str:
    if outcome.compiled_protos == outcome.total_protos:
        return ""
    return f"; {outcome.compiled_protos} of {outcome.total_protos} protos rebuilt"


def check(config: Path, fix: str, waiting: Callable[[str], None]) -> tuple[str, bool]:
    """(report, stale?) for `protobuild check`; writes nothing but the cache."""
    outcome = pipeline.check(config, waiting)
    if not outcome.changes:
        current = f"protobuild check: {outcome.file_count} generated files are current\n"
        return current + (_stale_record(outcome) if outcome.record_stale else ""), False
    from protobuild import report as check_report  # difflib and the rest: only for a report

    report = check_report.report(outcome.built_tree(), outcome.changes, fix)
    return report, True


def _stale_record(outcome: pipeline.Outcome) -> str:
    from protobuild import record

    name = shown(record.path(outcome.built_config()))
    if outcome.compiled_protos < outcome.total_protos:
        # This machine's cache allowed a partial rebuild; a fresh clone (CI) has no cache.
        cost = (
            f"rebuild {outcome.compiled_protos} of {outcome.total_protos} protos (a fresh "
            "clone would regenerate everything)"
        )
    else:
        cost = "regenerate everything"
    return (
        f"protobuild check: note: {name} is missing or out of date, so this check had to "
        f"{cost}; run `protobuild` and commit {name} to make checks fast\n"
    )


def breaking(config: Path, against: Path, fmt: str) -> tuple[str, bool]:
    """(findings as text, anything broken?) for `protobuild breaking`."""
    from protobuild.breaking import format_findings

    plan, findings = pipeline.breaking(config, against)
    sources = {proto.import_path: shown(proto.source) for proto in plan.files}
    style = cast("Literal['text', 'json', 'github']", fmt)  # argparse allowed only these
    text = format_findings(findings, style, lambda path: sources.get(path) or _was(plan, path))
    return text, bool(findings)


def _was(plan: Plan, import_path: str) -> str:
    """Where a deleted source file most likely was: under the first source root that could
    hold its import path (a path in the repository, for annotations and editors)."""
    for root in plan.includes:
        if root.kind == "source" and import_path.startswith(f"{root.prefix}/".lstrip("/")):
            return shown(root.file_for(import_path))
    return import_path


def explain(config: Path, wanted: Sequence[Path]) -> str:
    """For each proto (all, or those named by path or import path): root, module, outputs,
    and which include root resolved each of its imports."""
    plan = pipeline.plan(config)
    files = pipeline.selected_files(plan, wanted) if wanted else plan.files
    blocks = [_explain_file(plan, proto) for proto in files]
    includes = "".join(f"  {i + 1}. {root.describe()}\n" for i, root in enumerate(plan.includes))
    return "".join(blocks) + f"include roots, in search order:\n{includes}"


def _explain_file(plan: Plan, proto: ProtoFile) -> str:
    from protobuild.compile import SERVICE_ONLY, output_path
    from protobuild.layout import relative_dir

    directory = plan.config.output.dir / relative_dir(plan, proto.module)
    outputs = [
        str(directory / Path(output_path(proto.import_path, g.name)).name)
        for g in proto.generators
        if g.name in ("python", "pyi", "mypy") or (g.name in SERVICE_ONLY and proto.has_services)
    ]
    outputs += [str(plan.config.output.dir / p) for p in _rendered_outputs(plan, proto)]
    outputs.sort()
    lines = [
        proto.import_path,
        f"  file:    {shown(proto.source)}",
        f"  root:    {proto.root.describe()}",
        f"  module:  {proto.module}",
        f"  outputs: {', '.join(shown(Path(o)) for o in outputs) or '(none)'}",
    ]
    lines += [f"  import {i.path} -> {i.root.describe()}" for i in proto.imports]
    return "".join(f"{line}\n" for line in lines)


def _rendered_outputs(plan: Plan, proto: ProtoFile) -> list[str]:
    """What the per-file templates of its `services` generator write for a proto with services
    (per-package and per-run outputs are not attributed to one proto)."""
    from protobuild.rendering import per_file_outputs

    found = []
    for generator in proto.generators:
        if generator.name == "services" and proto.has_services:
            templates = str(generator.option("templates", ""))
            template_dir = Path(templates) if templates else None
            found += per_file_outputs(template_dir, proto.module, plan.config.output.package)
    return found

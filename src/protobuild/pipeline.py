"""The only module that chains the stages: config -> resolve -> compile -> render -> layout,
then write or check. Each stage takes and returns frozen values; none of them prints.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path

from protobuild import config as config_stage
from protobuild import layout, resolve, write
from protobuild.compile import Compiled, compile_plan, protoc_argv, protoc_groups
from protobuild.config import Config, Generator
from protobuild.errors import ResolveError
from protobuild.layout import OutputTree
from protobuild.resolve import Plan
from protobuild.tree import Changes, compare


@dataclass(frozen=True)
class Outcome:
    """What a run produced and how it differs from the disk (before any write)."""

    config: Config
    plan: Plan
    tree: OutputTree
    changes: Changes
    protoc_commands: tuple[tuple[str, ...], ...]


def load(config_path: Path) -> Config:
    """Stage 1 alone: the validated config at `config_path`."""
    return config_stage.load(config_path)


def plan(config_path: Path) -> Plan:
    """Stages 1-2: what would be compiled, where from and into which modules."""
    return resolve.resolve(load(config_path))


def build(config_path: Path, only: Sequence[Path] = ()) -> Outcome:
    """Stages 1-5a and the comparison with disk; nothing is written.

    With `only`, just the protos under those paths are generated and nothing counts as stale.
    """
    cfg = load(config_path)
    full = resolve.resolve(cfg)
    selected = _select(full, only)
    compiled = compile_plan(selected)
    rendered = _render(selected, compiled)
    output = layout.lay_out(selected, compiled, rendered)
    changes = compare(output, prune=not only)
    return Outcome(cfg, selected, output, changes, _commands(selected))


def generate(config_path: Path, only: Sequence[Path] = (), dry_run: bool = False) -> Outcome:
    """Build and, unless `dry_run`, write the output tree. All or nothing on failure."""
    outcome = build(config_path, only)
    if not dry_run and outcome.changes:
        write.apply(outcome.tree, outcome.changes)
    return outcome


def _select(plan: Plan, only: Sequence[Path]) -> Plan:
    if not only:
        return plan
    wanted = [path.absolute() for path in only]
    files = tuple(f for f in plan.files if any(_is_within(f.source, p) for p in wanted))
    if not files:
        shown = ", ".join(str(p) for p in only)
        raise ResolveError(f"no proto under a source root matches {shown}")
    return replace(plan, files=files)


def _is_within(path: Path, prefix: Path) -> bool:
    return path == prefix or prefix in path.parents


def _render(plan: Plan, compiled: Compiled) -> dict[str, str]:
    groups: dict[Generator, list[str]] = {}
    for proto in plan.files:
        for generator in proto.generators:
            if generator.name == "services":
                groups.setdefault(generator, []).append(proto.import_path)
    if not groups:
        return {}
    from protobuild.render import render_services

    fds = compiled.descriptor_set()
    modules = _all_modules(plan, [f.name for f in fds.file])
    rendered: dict[str, str] = {}
    for generator, targets in groups.items():
        templates = generator.option("templates", "")
        template_dir = Path(str(templates)) if templates else None
        rendered.update(
            render_services(fds, targets, modules, plan.config.output.package, template_dir)
        )
    return rendered


def _all_modules(plan: Plan, names: Sequence[str]) -> dict[str, str]:
    known = plan.module_map()
    packages = dict(plan.config.packages)
    return {
        name: known.get(name) or packages.get(name) or resolve.protoc_module(name) for name in names
    }


def _commands(plan: Plan) -> tuple[tuple[str, ...], ...]:
    out = Path("OUT")  # a temporary directory, read back into memory
    return tuple(
        tuple(protoc_argv(plan, group, builtins, out))
        for builtins, group in protoc_groups(plan.files).items()
    )

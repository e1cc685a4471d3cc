"""Stage 4 as the pipeline runs it: the render stage (render.py) applied to a plan.

Targets are grouped by the template set their `services` generator names. Templates that
render once per proto file render with the rest of a chunk of files (each output then records
the proto it comes from, which partial rebuilds and a run on some paths rely on); templates
that render per package or per run need all of their protos at once, so the pipeline renders
them for the whole plan.
"""

from __future__ import annotations

import posixpath
from collections.abc import Mapping, Sequence
from pathlib import Path

from protobuild import resolve
from protobuild.compile import Compiled
from protobuild.config import Generator
from protobuild.errors import TemplateError, shown
from protobuild.layout import Rendered
from protobuild.model import module_location
from protobuild.render import Template, discover, render_services, template_digest
from protobuild.resolve import Plan
from protobuild.toolchain import stock_template_dir


def render(
    plan: Plan, compiled: Compiled, per_file: bool, compiled_templates: Path | None = None
) -> dict[str, Rendered]:
    """The modules the `services` generators of `plan` render, by output path: those of the
    templates that render once per proto file, or (not `per_file`) of the others, which need
    every proto at once. `compiled_templates` is where compiled templates are kept between
    runs (or None). Raises TemplateError when two template directories write one path."""
    scopes = _FILE_SCOPE if per_file else _WHOLE_SCOPES
    groups = {g: targets for g, targets in _groups(plan).items() if _has_scope(g, scopes)}
    if not groups:
        return {}
    fds = compiled.merged
    modules = _all_modules(plan, [f.name for f in fds.file])
    package = plan.config.output.package
    rendered: dict[str, Rendered] = {}
    for generator, targets in groups.items():
        template_dir = _templates(generator)
        outputs = render_services(
            fds,
            targets,
            modules,
            package,
            template_dir,
            compiled_templates,
            scopes,
            compiled.commented,
        )
        owners = _owners(template_dir, targets, modules, package) if per_file else {}
        digest = template_digest(template_dir)
        merge(
            rendered,
            {p: Rendered(t, digest, owners.get(p, ""), shown(f)) for p, (t, f) in outputs.items()},
        )
    return rendered


_FILE_SCOPE = ("file",)
_WHOLE_SCOPES = ("package", "tree")


def merge(rendered: dict[str, Rendered], more: Mapping[str, Rendered]) -> None:
    """Add `more` to `rendered`; raises TemplateError for a path both render."""
    for path, module in more.items():
        if path in rendered:
            raise TemplateError(
                f"{path} is produced twice, by {rendered[path].template} and by "
                f"{module.template}; rename one of the templates"
            )
        rendered[path] = module


def _has_scope(generator: Generator, scopes: Sequence[str]) -> bool:
    templates = discover(_templates(generator) or stock_template_dir())
    return any(template.scope in scopes for template in templates)


def renders_per_file(generator: Generator) -> bool:
    """Whether every template of this `services` generator renders once per proto file."""
    return not _has_scope(generator, _WHOLE_SCOPES)


def renders_across_files(plan: Plan) -> bool:
    """Whether some `services` generator of `plan` has templates rendering per package or
    per run (outputs drawn from several protos)."""
    return any(not renders_per_file(generator) for generator in _groups(plan))


def _groups(plan: Plan) -> dict[Generator, list[str]]:
    """The targets of each `services` generator of `plan`."""
    groups: dict[Generator, list[str]] = {}
    for proto in plan.files:
        for generator in proto.generators:
            if generator.name == "services":
                groups.setdefault(generator, []).append(proto.import_path)
    return groups


def _templates(generator: Generator) -> Path | None:
    """The template directory a `services` generator names (None: the stock templates)."""
    templates = generator.option("templates", "")
    return Path(str(templates)) if templates else None


def per_file_outputs(template_dir: Path | None, module: str, package: str) -> list[str]:
    """The paths the per-file templates of `template_dir` write for the proto whose `_pb2`
    module is `module` (relative to the output directory)."""
    templates = discover(template_dir or stock_template_dir())
    return _outputs([t for t in templates if t.scope == "file"], module, package)


def _outputs(templates: Sequence[Template], module: str, package: str) -> list[str]:
    directory, stem = module_location(module, package)
    return [posixpath.join(directory, t.pattern.replace("{stem}", stem)) for t in templates]


def _owners(
    template_dir: Path | None, targets: Sequence[str], modules: Mapping[str, str], package: str
) -> dict[str, str]:
    """Output path -> the target a per-file template of `template_dir` renders it from."""
    templates = [t for t in discover(template_dir or stock_template_dir()) if t.scope == "file"]
    return {
        path: target for target in targets for path in _outputs(templates, modules[target], package)
    }


def _all_modules(plan: Plan, names: Sequence[str]) -> dict[str, str]:
    """The Python module of every file in the descriptor set, imports included."""
    known = plan.module_map()
    packages = dict(plan.config.packages)
    return {
        name: known.get(name) or packages.get(name) or resolve.protoc_module(name) for name in names
    }

"""Stage 4: render typed service modules from jinja2 templates, fed by the descriptor model.

A template directory holds `*.j2` templates; the placeholders in a template's path decide
what it produces (docs/templates.md):

    {stem}     one output per target proto file, in the directory of its _pb2 module:
               `{stem}_services.py.j2` turns acme/echo/v1/echo.proto into
               acme/echo/v1/echo_services.py (context: `file`)
    {package}  one output per proto package of the targets, `{package}` being the package as
               a path: `{package}/README.md.j2` -> acme/echo/v1/README.md (context: `package`)
    neither    one output for the whole run (context: `files`, `packages`, `imports`)

Every template also sees `python_package`, the Python package of the output directory. An
output that renders to whitespace only is not produced, which is how the stock template skips
proto files without services. Other files (e.g. `macros.jinja`) are not rendered but can be
included or imported by the templates.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import posixpath
import re
import traceback
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import jinja2
from google.protobuf import descriptor_pb2

from protobuild import model
from protobuild.errors import Location, TemplateError
from protobuild.toolchain import stock_template_dir
from protobuild.tree import is_skipped_dir, template_files

if TYPE_CHECKING:
    from protobuild.compile import Commented

_PLACEHOLDER = re.compile(r"\{([^{}]*)\}")
_SCOPES = {"stem": "file", "package": "package"}
_KNOWN = "{stem} (one output per proto file) and {package} (one per proto package)"


@dataclass(frozen=True)
class Template:
    """One `*.j2` file of a template directory and what it produces."""

    name: str  # posix path inside the template directory: "{stem}_services.py.j2"
    scope: str  # "file", "package" or "tree"
    pattern: str  # the output path with placeholders: "{stem}_services.py"


def template_digest(template_dir: Path | None = None) -> str:
    """A short sha256 of every file of a template directory (names and bytes; bytecode caches
    skipped), for telling a template change apart from other drift in `protobuild check`.

    The same files give the same digest on any machine, also where a checkout gave them CRLF
    line ends (tree.as_lf): jinja2 renders both alike.
    """
    directory = template_dir if template_dir is not None else stock_template_dir()
    digest = hashlib.sha256()
    for name, content in template_files(directory):
        digest.update(f"{name}\0{len(content)}\0".encode())
        digest.update(content)
    return digest.hexdigest()[:16]


def render_services(
    fds: descriptor_pb2.FileDescriptorSet,
    targets: Sequence[str],
    modules: Mapping[str, str],
    package: str,
    template_dir: Path | None = None,
    compiled_templates: Path | None = None,
    scopes: Sequence[str] = ("file", "package", "tree"),
    commented: Mapping[str, Commented] | None = None,
) -> dict[str, tuple[str, Path]]:
    """Render every template of `template_dir` (the stock ones if None) for `targets`.

    Templates compiled to Python are kept in `compiled_templates` when given (jinja2's
    bytecode cache, checked against each template's source), so a run need not compile them.

    `fds` holds the targets and all their imports with source info; `modules` maps every
    file of `fds` to its fully qualified _pb2 module, each target's starting with `package`.
    Only templates of the given `scopes` render. `commented` has the source locations with
    comments of some files of `fds`, when the compile stage found them already. Returns
    output paths (posix, relative to the output directory) to the text and the template file
    that rendered it, sorted by path.
    A template that cannot be loaded or rendered, an unknown placeholder or two templates
    producing one path raise TemplateError naming the template file (and line when known).
    """
    directory = template_dir if template_dir is not None else stock_template_dir()
    templates = discover(directory)
    environment = make_environment(directory, compiled_templates)
    inputs = _Inputs(model.DescriptorIndex(fds, commented), sorted(targets), modules, package)
    outputs: dict[str, tuple[str, str]] = {}  # path -> (text, template name)
    for template in (t for t in templates if t.scope in scopes):
        units = _units(template, directory, inputs)
        for path, text in _render(environment, directory, template.name, units):
            if text.strip():
                _claim(outputs, path, text, template.name, directory)
    return {path: (outputs[path][0], directory / outputs[path][1]) for path in sorted(outputs)}


def discover(directory: Path) -> list[Template]:
    """The `*.j2` templates under `directory`, sorted by name, each with its scope."""
    if not directory.is_dir():
        raise TemplateError(
            "template directory not found; fix the templates option of the services generator "
            "(a path relative to the config file)",
            Location(directory),
        )
    found = (p.relative_to(directory).as_posix() for p in directory.rglob("*.j2"))
    # Bytecode caches are never templates (template_digest skips them too).
    names = sorted(name for name in found if "__pycache__" not in name.split("/"))
    if not names:
        raise TemplateError(
            "no *.j2 templates in the template directory; add one (docs/templates.md) or drop "
            "the templates option to use the stock ones",
            Location(directory),
        )
    return [_template(directory, name) for name in names]


def _template(directory: Path, name: str) -> Template:
    """The Template for `name`, its placeholders validated."""
    placeholders = set(_PLACEHOLDER.findall(name))
    unknown = sorted(placeholders - set(_SCOPES))
    if unknown:
        message = f"unknown placeholder {{{unknown[0]}}} in the template name; known: {_KNOWN}"
        raise TemplateError(message, Location(directory / name))
    if len(placeholders) > 1:
        message = f"a template name may use one of {_KNOWN}, not both"
        raise TemplateError(message, Location(directory / name))
    hidden = [part for part in name.split("/")[:-1] if is_skipped_dir(part)]
    if hidden:
        message = (
            f"the template is in {hidden[0]}/, so its output would be too, and protobuild "
            "never looks inside hidden directories: it could not check or remove the file; "
            "move the template out of it"
        )
        raise TemplateError(message, Location(directory / name))
    scope = _SCOPES[placeholders.pop()] if placeholders else "tree"
    return Template(name=name, scope=scope, pattern=name[: -len(".j2")])


@functools.lru_cache(maxsize=8)  # one per process and directory: templates compile once
def make_environment(directory: Path, compiled: Path | None = None) -> jinja2.Environment:
    """The jinja2 environment every template renders in (see docs/templates.md); `compiled`
    is a directory for jinja2's bytecode cache."""
    return jinja2.Environment(
        loader=jinja2.FileSystemLoader(directory),
        bytecode_cache=_bytecode_cache(compiled),
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        autoescape=False,
    )


def _bytecode_cache(directory: Path | None) -> jinja2.BytecodeCache | None:
    if directory is None:
        return None
    try:
        directory.mkdir(exist_ok=True)
    except OSError:
        return None  # no cache, just slower
    return _QuietBytecodeCache(str(directory))


class _QuietBytecodeCache(jinja2.FileSystemBytecodeCache):
    """jinja2's file cache, except that a failure to store a compiled template (a full disk,
    a read-only directory) only costs the next run a compilation, never this run."""

    def dump_bytecode(self, bucket: jinja2.bccache.Bucket) -> None:
        with contextlib.suppress(OSError):
            super().dump_bytecode(bucket)


@dataclass(frozen=True)
class _Inputs:
    """What every unit is built from: the descriptors, targets and where modules live."""

    index: model.DescriptorIndex
    targets: Sequence[str]  # sorted
    modules: Mapping[str, str]
    package: str  # the Python package of the output directory


Unit = tuple[str, dict[str, Any]]  # (output path, template context)


def _units(template: Template, directory: Path, inputs: _Inputs) -> list[Unit]:
    """Each unit `template` renders, in a deterministic order."""
    if template.scope == "file":
        return [_file_unit(template, inputs, target) for target in inputs.targets]
    if template.scope == "package":
        groups = _by_package(inputs.index, inputs.targets)
        return [_package_unit(template, directory, inputs, protos) for protos in groups.values()]
    return [_tree_unit(template, inputs)]


def _file_unit(template: Template, inputs: _Inputs, target: str) -> Unit:
    """One target file, output next to its _pb2 module."""
    (file,), _ = model.build_files(inputs.index, [target], inputs.modules, inputs.package)
    path = posixpath.join(file.directory, template.pattern.replace("{stem}", file.stem))
    return path, {"python_package": inputs.package, "file": file}


def _package_unit(
    template: Template, directory: Path, inputs: _Inputs, protos: Sequence[str]
) -> Unit:
    """The target files of one proto package, output under the package's path."""
    files, imports = model.build_files(inputs.index, protos, inputs.modules, inputs.package)
    unit = _package(files[0].package, files, imports)
    path = _package_output(template, unit.path, directory)
    return path, {"python_package": inputs.package, "package": unit}


def _tree_unit(template: Template, inputs: _Inputs) -> Unit:
    """Every target at once, names shared across all of them."""
    index, targets = inputs.index, inputs.targets
    files, imports = model.build_files(index, targets, inputs.modules, inputs.package)
    names = sorted({file.package for file in files})
    packages = tuple(_package(n, [f for f in files if f.package == n], imports) for n in names)
    context = {"files": files, "packages": packages, "imports": imports}
    return template.pattern, {"python_package": inputs.package, **context}


def _by_package(index: model.DescriptorIndex, targets: Sequence[str]) -> dict[str, list[str]]:
    """Targets grouped by proto package, packages sorted by name."""
    groups: dict[str, list[str]] = {}
    for target in targets:
        groups.setdefault(index.file(target).package, []).append(target)
    return dict(sorted(groups.items()))


def _package(
    name: str, files: Sequence[model.FileModel], imports: Sequence[model.Import]
) -> model.PackageModel:
    """The PackageModel of `files`, keeping only the imports they use."""
    used = {item.module for file in files for item in file.imports}
    return model.PackageModel(
        name=name,
        path=model.package_path(name),
        files=tuple(files),
        imports=tuple(item for item in imports if item.module in used),
        services=tuple(service for file in files for service in file.services),
    )


def _package_output(template: Template, path: str, directory: Path) -> str:
    """The normalized output path of a per-package template.

    An empty package drops its path segment: `{package}/x.py` becomes `x.py`; a name that
    leaves nothing (`{package}.j2` for files without a package) is an error.
    """
    output = posixpath.normpath(template.pattern.replace("{package}", path)).lstrip("/")
    if output in ("", "."):
        message = "the template name gives an empty output path for files without a package"
        raise TemplateError(message, Location(directory / template.name))
    name = posixpath.basename(output)
    if name.startswith(".") and not posixpath.basename(template.pattern).startswith("."):
        message = (
            f"the template name gives the file name {name!r} (no stem) for files without a "
            "package; put {package} in a directory name instead ({package}/services.py.j2)"
        )
        raise TemplateError(message, Location(directory / template.name))
    return output


def _render(
    environment: jinja2.Environment, directory: Path, name: str, units: Sequence[Unit]
) -> list[tuple[str, str]]:
    """Render template `name` for each unit: (output path, text) in unit order.

    The template is looked up once: each lookup checks the file's mtime on disk, a tenth of
    the rendering time of a file-scoped template on a large tree.
    jinja2 errors become TemplateError at the template's line.
    """
    try:
        template = environment.get_template(name)
        return [(path, template.render(context)) for path, context in units]
    except jinja2.TemplateSyntaxError as exc:
        where = Path(exc.filename) if exc.filename else directory / name
        raise TemplateError(exc.message or "syntax error", Location(where, exc.lineno)) from exc
    except Exception as exc:  # undefined names, a missing include, errors in filters...
        where, line = _template_frame(exc, directory, directory / name)
        raise TemplateError(f"{type(exc).__name__}: {exc}", Location(where, line)) from exc


def _template_frame(exc: BaseException, directory: Path, fallback: Path) -> tuple[Path, int]:
    """The innermost template file and line in `exc`'s traceback (jinja2 rewrites frames so
    that they carry the template's own file name and line)."""
    found = (fallback, 0)
    for frame in traceback.extract_tb(exc.__traceback__):
        if Path(frame.filename).is_relative_to(directory) and frame.lineno is not None:
            found = (Path(frame.filename), frame.lineno)
    return found


def _claim(
    outputs: dict[str, tuple[str, str]], path: str, text: str, name: str, directory: Path
) -> None:
    """Record `path` as produced by template `name`; a path produced twice is an error."""
    if path in outputs:
        other = outputs[path][1]
        message = f"{path} is produced twice, by {other} and by {name}"
        raise TemplateError(message, Location(directory / name))
    outputs[path] = (text, name)

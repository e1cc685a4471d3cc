"""The resolve stage's errors that explain themselves: what was searched, the likely cause
and the way out (an import resolving nowhere, a proto found twice, a path that is no Python
name, a distribution that is not installed)."""

from __future__ import annotations

import keyword
import re
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

from protobuild.config import Config, SourceRoot, is_python_package, locate
from protobuild.errors import Location, ResolveError, shown

if TYPE_CHECKING:
    from protobuild.resolve import IncludeRoot


def installed_near(name: str) -> str:
    """ "did you mean ...? " for an installed distribution whose name is close to `name`."""
    import importlib.metadata

    from protobuild.toml_reader import did_you_mean

    installed = sorted({dist.metadata["Name"] or "" for dist in importlib.metadata.distributions()})
    return did_you_mean(name, [n for n in installed if n])


def shadowed(import_path: str, first: IncludeRoot, second: IncludeRoot) -> ResolveError:
    return ResolveError(
        f"{import_path} is found under two roots, {first.describe()} and {second.describe()}; "
        "remove one copy or give one root a different prefix",
        Location(second.file_for(import_path)),
    )


def vendored(import_path: str, source: IncludeRoot, include: IncludeRoot) -> ResolveError:
    """A source root holding a copy of a proto that an include root (well-known types, a
    distribution, includes.before/after) provides: usually a vendored copy to leave out."""
    from protobuild.resolve import WELL_KNOWN  # here: resolve imports this module

    folder = import_path.rpartition("/")[0]
    pattern = f"{folder}/**" if folder else import_path
    other = "" if include.kind == WELL_KNOWN else "; to compile this copy, take the other out"
    return ResolveError(
        f"{import_path} is both here, under {source.label}, and in {include.describe()}; to "
        f'use the latter, add exclude = ["{pattern}"] to {source.label} (or name the file '
        f"alone){other}",
        Location(source.file_for(import_path)),
    )


def unresolved(found: Sequence[tuple[str, Location, str]]) -> ResolveError:
    """One error for every import that resolves nowhere: the first in full, then where the
    others stand, so that one run shows all that is missing."""
    _path, where, message = found[0]
    if len(found) > 1:
        others = [f'{shown(at.path)}:{at.line}: "{path}"' for path, at, _ in found[1:]]
        listed = "; ".join(others[:5]) + ("; ..." if len(others) > 5 else "")
        message += f" ({len(others)} more imports were not found either: {listed})"
    return ResolveError(message, where)


def unresolved_message(
    path: str,
    includes: tuple[IncludeRoot, ...],
    sources: Mapping[str, tuple[IncludeRoot, SourceRoot]],
) -> str:
    searched = ", ".join(str(root.path) for root in includes)
    hint = _suggest(path, sources)
    return f'import "{path}" was not found; searched {searched}. {hint}'.rstrip()


def _suggest(path: str, sources: Mapping[str, tuple[IncludeRoot, SourceRoot]]) -> str:
    similar = sorted(p for p in sources if p.endswith("/" + path) or path.endswith("/" + p))
    deeper = _deeper_root(path, similar[0], sources) if similar else None
    if deeper is not None:
        return (
            f"Did you mean {similar[0]!r}? Import paths include the root's prefix; if the "
            f'imports are right as written, make {deeper} a root ([[roots]] path = "{deeper}") '
            "and exclude it from the root that holds it now."
        )
    if similar:
        return f"Did you mean {similar[0]!r}? Import paths include the root's prefix."
    dist = _distribution_shipping(path)
    if dist:
        return f"It is shipped by {dist!r}: add it to includes.distributions."
    return "Add the directory that holds it to includes.before or includes.after."


def _deeper_root(
    path: str, similar: str, sources: Mapping[str, tuple[IncludeRoot, SourceRoot]]
) -> str | None:
    """The directory below a root's top from which `similar` (a source file) is `path`: a
    tree whose own imports start there (a vendored repository) needs it as a root."""
    root = sources[similar][0]
    file = str(root.file_for(similar))
    directory = file[: -len(path) - 1]
    if not file.endswith("/" + path) or len(directory) <= len(str(root.path)):
        return None
    return shown(directory)


def _distribution_shipping(path: str) -> str | None:
    import importlib.metadata

    for dist in importlib.metadata.distributions():
        if any(str(f) == path for f in dist.files or ()):
            return str(dist.metadata["Name"])
    return None


def shadowing(import_path: str, top: str, spec: SourceRoot, config: Config) -> ResolveError:
    key = f"roots[{config.roots.index(spec)}].{'prefix' if spec.prefix else 'path'}"
    return ResolveError(
        f"{import_path} would make a top-level package {top!r}, which hides the {top!r} that "
        'Python or the generated code imports; set output.package (say "acme_api"), or '
        "mount the root under a prefix with python_package",
        locate(config, key),
    )


def _package_name_for(prefix: str) -> str:
    """A valid Python name made from the last part of `prefix`, for a suggestion."""
    name = re.sub(r"\W", "_", prefix.rsplit("/", 1)[-1])
    return name if name.isidentifier() and not keyword.iskeyword(name) else f"_{name}"


def not_importable(
    import_path: str, relative: str, spec: SourceRoot, config: Config
) -> ResolveError:
    parts = relative.split(".")
    index = next(i for i, part in enumerate(parts) if not is_python_package(part))
    what = "a Python keyword" if keyword.iskeyword(parts[index]) else "not a Python name"
    # The prefix's own parts come first (a dot in a prefix also separates modules).
    in_prefix = spec.python_package is None and index < len(
        spec.prefix.replace("/", ".").split(".")
    )
    if spec.prefix and in_prefix:
        fix = (
            f"set python_package for the root mounted at {spec.prefix!r} "
            f'(e.g. python_package = "{_package_name_for(spec.prefix)}")'
        )
    elif spec.prefix:
        fix = "rename the directory or the file, or leave it out with the root's exclude"
    else:
        fix = "rename the directory or mount the root under a prefix with python_package"
    key = f"roots[{config.roots.index(spec)}].{'prefix' if spec.prefix else 'path'}"
    return ResolveError(
        f"{import_path} would become module {relative!r}, whose part {parts[index]!r} is "
        f"{what}; {fix}",
        locate(config, key),
    )

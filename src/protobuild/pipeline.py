"""The only module that chains the stages: config -> resolve -> compile -> render -> layout,
then write or check. Each stage takes and returns frozen values; none of them prints.

A large plan is cut into chunks of files, one per core, and each chunk goes through compile,
per-file render and placement in its own process, without waiting for the others: one fan-out
instead of one per stage, and only finished files travel back. What needs every file at once
(per-package templates, API snapshots, the tree's own files) is assembled afterwards.

When the incremental cache shows the output current, no stage after config runs: the heavy
modules (protobuf, grpc_tools, jinja2) are imported only when a build is needed.
"""

from __future__ import annotations

import contextlib
import functools
import gc
import itertools
from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, NamedTuple

from protobuild import cache, inputs, lock, record, toolchain
from protobuild import config as config_stage
from protobuild.config import Config
from protobuild.errors import InternalError, ResolveError, shown
from protobuild.tree import Changes, OutputTree, compare, is_outside, is_users_marker

if TYPE_CHECKING:
    from protobuild import incremental
    from protobuild.breaking import Finding
    from protobuild.layout import Placed, Rendered
    from protobuild.resolve import Plan, ProtoFile


class Outcome(NamedTuple):
    """What a run produced and how it differs from the disk (before any write)."""

    root: Path
    file_count: int
    changes: Changes
    # None when the cache showed the output current and nothing was built.
    tree: OutputTree | None
    protoc_commands: tuple[tuple[str, ...], ...] = ()
    config: Config | None = None
    keys: inputs.Keys | None = None
    # How many protos were compiled (fewer than all when an edit allowed a partial build).
    compiled_protos: int = 0
    total_protos: int = 0
    # The cache entry (or committed record) that showed the output current, on a cache hit.
    vouched: cache.Entry | None = None
    # Set by check: the output is current but the committed record is missing or outdated.
    record_stale: bool = False
    # The digests the cache had for the outputs a partial rebuild kept as they are on disk,
    # and the sizes and mtimes they were verified with.
    kept: Mapping[str, str] = {}
    kept_stats: Mapping[str, cache.Stat] = {}
    # A run on some paths left out outputs drawn from many protos (see _build_tree).
    left_whole_tree: bool = False
    # A run on some paths: the committed record was left as it was.
    on_paths: bool = False
    # Why the committed record could not be written ("" when it was, or had no need to be).
    record_error: str = ""
    # The output directory of the cache's previous run, when the config moved the output
    # elsewhere and files generated there are still in it: (directory, how many).
    left_behind: tuple[Path, int] | None = None

    def built_config(self) -> Config:
        if self.config is None:
            raise InternalError("the config is unknown for a run that needs it")
        return self.config

    def built_tree(self) -> OutputTree:
        if self.tree is None:
            raise InternalError("the output tree was not built for a run that needs it")
        return self.tree


def load(config_path: Path) -> Config:
    """Stage 1 alone: the validated config at `config_path`."""
    return config_stage.load(config_path)


def plan(config_path: Path) -> Plan:
    """Stages 1-2: what would be compiled, where from and into which modules."""
    from protobuild import resolve

    return resolve.resolve(load(config_path))


def build(config_path: Path, only: Sequence[Path] = (), use_cache: bool = True) -> Outcome:
    """Stages 1-5a and the comparison with disk; nothing is written but the cache.

    With `only`, just the protos under those paths are generated and nothing counts as stale;
    the cache is neither read nor written then.
    """
    return _build(load(config_path), only, use_cache)


def _build(cfg: Config, only: Sequence[Path], use_cache: bool) -> Outcome:
    cached = use_cache and not only
    entry = cache.load(cfg) if cached else None
    sources = cache.ProtoSources()  # the inputs' digest and resolve read the same protos
    keys = inputs.keys(cfg, entry, sources) if cached else None
    toolchain.remember(_versions_of(entry, keys))
    if keys is not None:
        hit = _cache_hit(cfg, entry, keys)
        if hit is not None:
            count, vouched = hit
            changes = Changes(cfg.output.dir)
            return Outcome(cfg.output.dir, count, changes, None, (), cfg, keys, vouched=vouched)
    selected = _select(_resolve(cfg, keys, sources), only)
    part = _incremental_part(selected, entry, keys)
    templates = _compiled_templates(cfg) if keys is not None else None
    output = _build_tree(selected, not only, part, templates)
    changes = compare(output, prune=not only, former=_former_outputs(cfg, entry))
    compiled = len(part.plan.files) if part is not None else len(selected.files)
    kept = {path: entry.digests[path] for path in output.kept} if entry else {}
    kept_stats = {path: part.carried_stats[path] for path in output.kept} if part else {}
    return Outcome(
        output.root,
        output.file_count,
        changes,
        output,
        _commands(selected),
        cfg,
        keys,
        compiled,
        len(selected.files),
        kept=kept,
        kept_stats=kept_stats,
        left_whole_tree=bool(only) and _has_whole_tree_outputs(selected),
        on_paths=bool(only),
        left_behind=_left_behind(cfg, entry),
    )


def _former_outputs(cfg: Config, entry: cache.Entry | None) -> frozenset[str]:
    """The files the previous run generated in this output directory, as this machine's
    cache or else the committed record lists them."""
    if entry is not None and entry.output == str(cfg.output.dir):
        return frozenset(entry.digests)
    return record.generated_paths(cfg)


def _left_behind(cfg: Config, entry: cache.Entry | None) -> tuple[Path, int] | None:
    """The former output directory and how many files generated there remain, when the
    config now writes elsewhere (protobuild touches nothing outside the output directory)."""
    if entry is None or not entry.output or Path(entry.output) == cfg.output.dir:
        return None
    former = Path(entry.output)
    inside = [path for path in entry.digests if not is_outside(path)]  # not snapshots
    count = sum(1 for path in inside if (former / path).is_file())
    return (former, count) if count else None


def _has_whole_tree_outputs(plan: Plan) -> bool:
    from protobuild import rendering

    return bool(plan.config.snapshots) or rendering.renders_across_files(plan)


def _versions_of(entry: cache.Entry | None, keys: inputs.Keys | None) -> Mapping[str, str]:
    """The toolchain's versions as `entry` recorded them, if it was written with the same
    packages installed (the base key covers where and when each was), else none."""
    if entry is None or keys is None or entry.base_key != keys.base:
        return {}
    return entry.versions


def _cache_hit(
    config: Config, entry: cache.Entry | None, keys: inputs.Keys
) -> tuple[int, cache.Entry] | None:
    """(file count, the entry that vouched) when this machine's cache or else the committed
    record shows the output current, having checked the files on disk against it."""
    count = cache.lookup(config, entry, keys)
    if count is not None and entry is not None:
        return count, entry
    if (
        entry is not None
        and entry.record_stat is not None
        and entry.record_stat == record.stat(config)
    ):
        # The record is the one this machine wrote or verified for the cache's inputs, so it
        # cannot vouch for what the cache did not (and reading it costs a partial rebuild).
        return None
    committed = record.entry(config, keys)
    count = cache.lookup(config, committed, keys)  # seeds this machine's cache on success
    return (count, committed) if count is not None and committed is not None else None


def _resolve(config: Config, keys: inputs.Keys | None, sources: cache.ProtoSources) -> Plan:
    """Stage 2, with the summaries of unchanged protos from the cache (and the new ones kept)."""
    # Imported here, not at the top: a cache hit never needs them.
    from protobuild import resolve, summaries

    if keys is None:
        return resolve.resolve(config, sources=sources)
    known = summaries.load(config, keys.protos)
    plan = resolve.resolve(config, known, sources)
    # Rewriting every summary costs about as much as reading 16 protos: a few edited protos
    # are read again on the next runs instead, until there are enough of them to store.
    if (len(plan.files) - len(known)) * 16 > len(plan.files):
        digests = keys.protos
        by_digest = {
            digests[f.import_path]: resolve.summary_of(f)
            for f in plan.files
            if f.import_path in digests
        }
        summaries.store(config, by_digest)
    return plan


def _incremental_part(
    plan: Plan, entry: cache.Entry | None, keys: inputs.Keys | None
) -> incremental.Partial | None:
    """The part of `plan` to rebuild when the cache allows it (None: rebuild all of it)."""
    from protobuild import incremental

    return incremental.partial(plan, entry, keys) if keys is not None else None


def _no_wait_note(holder: str) -> None:
    del holder


def check(config_path: Path, waiting: Callable[[str], None] = _no_wait_note) -> Outcome:
    """Build and compare with disk; writes nothing but the cache (not even the record).

    Waits for a run writing the same project to finish (calling `waiting` first), so that it
    never compares a tree half way through being written.
    """
    cfg = load(config_path)
    with lock.exclusive(cache.cache_directory(cfg), waiting):
        return _check(cfg)


def _check(cfg: Config) -> Outcome:
    outcome = _build(cfg, (), True)
    tree, config, keys = outcome.tree, outcome.config, outcome.keys
    if tree is None or config is None or keys is None:
        return outcome
    digests, owners = _digests(outcome, tree), dict(tree.owners)
    current = record.is_current(config, keys, digests, owners)
    differing = (*outcome.changes.added, *outcome.changes.changed)
    record_stat = _stat_if(current, config)
    # The cache ignores marker files it does not list (they may be the user's), so an entry
    # stored now would vouch for a tree still holding a stale py.typed.
    if not any(is_users_marker(path) for path in outcome.changes.stale):
        cache.store(config, keys, digests, owners, differing, record_stat, outcome.kept_stats)
    return outcome._replace(record_stale=not current and not outcome.changes)


def generate(
    config_path: Path,
    only: Sequence[Path] = (),
    dry_run: bool = False,
    waiting: Callable[[str], None] = _no_wait_note,
) -> Outcome:
    """Build and, unless `dry_run`, write the output tree. All or nothing on failure.

    One run at a time per project: waits (calling `waiting` first) while another writes it.
    A dry run writes nothing, not even the lock, and does not wait.
    """
    cfg = load(config_path)
    if dry_run:
        return _build(cfg, only, use_cache=False)
    with lock.exclusive(cache.cache_directory(cfg), waiting):
        return _generate(cfg, only)


def _generate(cfg: Config, only: Sequence[Path]) -> Outcome:
    outcome = _build(cfg, only, use_cache=True)
    if not outcome.changes:
        return outcome._replace(record_error=_remember(outcome, {}))
    from protobuild import write

    # The record is written before an interrupt held during the renames is delivered.
    remember = functools.partial(_remember, outcome)
    error = write.apply_then(outcome.built_tree(), outcome.changes, remember)
    return outcome._replace(record_error=error)


def _remember(outcome: Outcome, written: Mapping[str, cache.Stat]) -> str:
    """Record a freshly written tree in the cache (after the write, so that stats are final;
    `written` has those of the files just written) and in the committed record; after a
    cache hit, bring the record up to date if need be. Returns why the record could not be
    written ("" when it was)."""
    tree, config, keys = outcome.tree, outcome.config, outcome.keys
    if outcome.vouched is not None and config is not None and keys is not None:
        return _refresh_record(config, keys, outcome.vouched)
    if tree is not None and config is not None and keys is not None:
        digests, owners = _digests(outcome, tree), dict(tree.owners)
        record_stat, error = _store_record(config, keys, digests, owners)
        verified = {**outcome.kept_stats, **written}
        cache.store(config, keys, digests, owners, (), record_stat, verified)
        return error
    return ""


def _refresh_record(config: Config, keys: inputs.Keys, entry: cache.Entry) -> str:
    """Rewrite a missing or changed record from the cache entry that vouched for the output
    (one stat when it is as this machine last wrote or verified it)."""
    found = record.stat(config)
    if not config.output.record or (found is not None and found == entry.record_stat):
        return ""
    written, error = _store_record(config, keys, entry.digests, entry.owners)
    cache.note_record(config, entry, keys, written)
    return error


def _store_record(
    config: Config, keys: inputs.Keys, digests: Mapping[str, str], owners: Mapping[str, str]
) -> tuple[record.Stat | None, str]:
    """The record written (its stat), or why it could not be: it speeds checks up, a run
    never fails for it."""
    try:
        return record.store(config, keys, digests, owners), ""
    except OSError as exc:
        return None, exc.strerror or str(exc)


def _digests(outcome: Outcome, tree: OutputTree) -> dict[str, str]:
    """The digest of every output: computed for the files built, the cache's for those kept."""
    known = tree.digests
    undigested = {path: content for path, content in tree.by_path().items() if path not in known}
    return {**cache.digests(undigested), **known, **outcome.kept}


def _stat_if(current: bool, config: Config) -> record.Stat | None:
    return record.stat(config) if current else None


def _compiled_templates(config: Config) -> Path | None:
    """Where compiled templates are kept between runs: inside the cache directory."""
    directory = cache.cache_directory(config)
    return directory / "templates" if directory is not None else None


def _build_tree(
    plan: Plan, whole_tree: bool, part: incremental.Partial | None, templates: Path | None
) -> OutputTree:
    """The output tree of `plan` (or of `part` of it). Without `whole_tree` (a run on some
    paths) the outputs drawn from many protos, snapshots and templates rendering per package
    or per run, are left out: made from the selected protos alone they would be wrong."""
    from protobuild import layout, parallel, rendering
    from protobuild.compile import Compiled

    built = part.plan if part is not None else plan
    carried = part.carried if part is not None else None
    toolchain.versions()  # looked up once, here: forked workers inherit them
    with _without_cyclic_gc():
        build_piece = functools.partial(_build_piece, built, templates)
        pieces = parallel.map_chunks(build_piece, built.files)
        compiled = Compiled((), tuple(d for piece in pieces for d in piece.descriptors))
        rendered = {path: r for piece in pieces for path, r in piece.rendered.items()}
        if whole_tree:
            rendering.merge(rendered, rendering.render(built, compiled, False, templates))
        placed = itertools.chain.from_iterable(piece.placed for piece in pieces)
        tree = layout.lay_out(built, placed, rendered, compiled, whole_tree, carried)
        return tree._replace(digests={p: d for piece in pieces for p, d in piece.digests})


class _Piece(NamedTuple):
    """What a chunk of files becomes: placed outputs, per-file renders, and the descriptor
    sets protoc wrote (sent back serialized; parsed only if something needs them), and the
    digests of the placed files (see OutputTree.digests)."""

    placed: tuple[Placed, ...]
    rendered: dict[str, Rendered]
    descriptors: tuple[bytes, ...]
    digests: tuple[tuple[str, str], ...]


def _build_piece(plan: Plan, templates: Path | None, files: list[ProtoFile]) -> _Piece:
    """Compile, per-file render and placement of some of `plan`'s files (often in a worker)."""
    from protobuild import layout, rendering
    from protobuild.compile import compile_plan

    chunk = plan.with_files(files)
    compiled = compile_plan(chunk)
    rendered = rendering.render(chunk, compiled, True, templates)
    placed = layout.place(chunk, compiled)
    digests = cache.digests({item.file.path: item.file.content for item in placed})
    return _Piece(placed, rendered, compiled.descriptors, tuple(digests.items()))


@contextlib.contextmanager
def _without_cyclic_gc() -> Iterator[None]:
    """A build allocates millions of short-lived objects and almost no reference cycles;
    the cyclic collector scanning the growing heap cost a fifth of a large build. Reference
    counting still frees everything; the collector runs again afterwards."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def breaking(config_path: Path, against: Path) -> tuple[Plan, list[Finding]]:
    """Compare the current protos with the descriptor set in `against`: what breaks."""
    from protobuild import consistency
    from protobuild.breaking import Ignore, compare, load_descriptor_set
    from protobuild.compile import descriptor_set

    current_plan = plan(config_path)
    previous = load_descriptor_set(against)
    current = descriptor_set(current_plan)
    consistency.reject_unmatched_ignores(current_plan.config, [*current.file, *previous.file])
    ignores = [Ignore(i.rule, i.files, i.reason) for i in current_plan.config.breaking_ignores]
    return current_plan, compare(current, previous, ignores)


def _select(plan: Plan, only: Sequence[Path]) -> Plan:
    return plan.with_files(selected_files(plan, only)) if only else plan


def selected_files(plan: Plan, names: Sequence[Path]) -> tuple[ProtoFile, ...]:
    """The files of `plan` that `names` name: each name a .proto file or a directory (as a
    path) or an import path. A name that matches nothing is an error, not a quiet no-op."""
    matches = {
        name: {f for f in plan.files if _named(f, str(name), name.absolute())} for name in names
    }
    unmatched = [str(name) for name, found in matches.items() if not found]
    if unmatched:
        roots = ", ".join(shown(root.path) for root in plan.config.roots)
        raise ResolveError(
            f"no proto matches {', '.join(unmatched)}: name a .proto file or a directory under "
            f"a source root ({roots}), or an import path"
        )
    chosen = set().union(*matches.values())
    return tuple(f for f in plan.files if f in chosen)


def _named(proto: ProtoFile, name: str, path: Path) -> bool:
    """Whether `name` (as typed; `path` is it made absolute) is `proto`'s import path, its
    file, or a directory above it."""
    return name == proto.import_path or path == proto.source or path in proto.source.parents


def _commands(plan: Plan) -> tuple[tuple[str, ...], ...]:
    from protobuild.compile import protoc_argv, protoc_groups

    out = Path("OUT")  # a temporary directory, read back into memory
    return tuple(
        tuple(protoc_argv(plan, group, builtins, out))
        for builtins, group in protoc_groups(plan.files).items()
    )

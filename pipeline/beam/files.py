"""Beam plumbing shared by the project's jobs: listing inputs, atomic JSONL.gz I/O, sharding.

Everything here works on any Beam filesystem (local, gs://, s3://) through `FileSystems`, and
writes atomically (a temporary name, then a rename), so a crashed job never leaves a file
that looks complete. `WriteShards` makes outputs deterministic: a stable hash assigns records
to shards and each shard is sorted, so the same input gives the same bytes.
"""

from __future__ import annotations

import contextlib
import errno
import gzip
import hashlib
import io
import json
import logging
import math
import os
import re
import shutil
import socket
import time
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from typing import Any

import apache_beam as beam
from apache_beam.io.filesystem import CompressionTypes, FileSystem
from apache_beam.io.filesystems import FileSystems
from htlm.pipeline.config import SourceConfig
from htlm.pipeline.reading import sources

COMPRESSLEVEL = 6  # gzip -6: level 9 costs ~3x the CPU for ~2% smaller files


def stable_shard(key: str, shards: int) -> int:
    """A shard number that is the same on every worker and every run (no salted hash())."""
    return int.from_bytes(hashlib.blake2b(key.encode(), digest_size=8).digest(), "big") % shards


def dumps(record: dict[str, Any]) -> bytes:
    return json.dumps(record, ensure_ascii=False, sort_keys=True).encode("utf-8") + b"\n"


def write_jsonl_gz(
    path: str, records: Iterable[dict[str, Any]], commit_if: Callable[[], bool] | None = None
) -> int:
    """Write records as gzipped JSONL, atomically (temp name, then rename), without a timestamp.

    With `commit_if`, the finished file is committed only if it says yes (else it is removed
    and -1 returned): a WARC step abandoned by its timeout must not commit later."""
    partial = path + ".partial"
    count = 0
    with (
        FileSystems.create(partial, compression_type=CompressionTypes.UNCOMPRESSED) as channel,
        gzip.GzipFile(fileobj=channel, mode="wb", compresslevel=COMPRESSLEVEL, mtime=0, filename="") as out,
    ):
        for record in records:
            out.write(dumps(record))
            count += 1
    if commit_if is not None and not commit_if():
        delete_files([partial])
        return -1
    commit(partial, path)
    return count


def write_text(path: str, text: str) -> None:
    """Write a small text file atomically on any Beam filesystem."""
    partial = path + ".partial"
    with FileSystems.create(partial, compression_type=CompressionTypes.UNCOMPRESSED) as channel:
        channel.write(text.encode("utf-8"))
    commit(partial, path)


def commit(partial: str, path: str) -> None:
    """Give a finished temporary file its final name (replacing an older one)."""
    if "://" not in path:  # local: one atomic rename, and no glob anywhere near the user's path
        os.replace(partial, path)
        return
    if FileSystems.exists(path):
        delete_files([path])
    FileSystems.rename([partial], [path])


LOCK_NAME = ".htlm.lock"


@contextlib.contextmanager
def output_lock(output: str, program: str) -> Iterator[None]:
    """Hold `<output>/.htlm.lock` while a job writes there: a second run into the folder refuses.

    Created with O_EXCL, so two launches cannot both take it; a lock left by a process that
    is gone (same host, pid not alive) is taken over. Local folders only: object stores have no
    atomic create, and there the launcher is the user's own scheduler's business.
    """
    if "://" in output:
        yield
        return
    os.makedirs(output, exist_ok=True)
    path = os.path.join(output, LOCK_NAME)
    me = {"pid": os.getpid(), "host": socket.gethostname(), "started": time.strftime("%Y-%m-%dT%H:%M:%S")}
    for _ in range(2):
        try:
            fd = os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
        except FileExistsError:
            holder = _lock_holder(path)
            if holder is not None:
                raise SystemExit(
                    f"{program}: {output} is in use by another run (pid {holder.get('pid')} on "
                    f"{holder.get('host')}, since {holder.get('started')}); wait for it, or delete {path} "
                    "if that run is gone"
                ) from None
            with contextlib.suppress(FileNotFoundError):
                os.remove(path)  # the run that left it is gone
            continue
        with os.fdopen(fd, "w") as lock:
            json.dump(me, lock)
        break
    try:
        yield
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.remove(path)


def _lock_holder(path: str) -> dict[str, Any] | None:
    """Who holds a lock file, or None when it is stale (its process is gone) or unreadable."""
    try:
        with open(path) as lock:
            holder = json.load(lock)
    except (OSError, ValueError):
        return None
    if holder.get("host") != socket.gethostname():
        return holder  # another machine's run: cannot tell, so it holds
    try:
        os.kill(int(holder.get("pid", 0)), 0)
    except ProcessLookupError:
        return None
    except (PermissionError, ValueError, OverflowError):
        pass
    return holder


def beam_safe(path: str) -> str | bytes:
    """A path Beam can carry: a local name that is not valid UTF-8 travels as its bytes
    (Beam's str coder refuses lone surrogates); `fs_path` turns it back."""
    try:
        path.encode("utf-8")
    except UnicodeEncodeError:
        return os.fsencode(path)
    return path


def fs_path(element: str | bytes) -> str:
    """The path of a `beam_safe` element."""
    return os.fsdecode(element) if isinstance(element, bytes) else element


def escape_glob(path: str) -> str:
    """`path` as a pattern that matches only itself: `*`, `?` and `[` in it are literal.

    Paths a user gives are literal everywhere; only the patterns we append (`documents-*`)
    expand. Bracket escapes work for Beam's local (glob) and object-store (fnmatch) matching.
    """
    return re.sub(r"([*?[])", r"[\1]", path)


def delete_files(paths: list[str]) -> None:
    """Delete exactly these files. Beam's `FileSystems.delete` expands its arguments as globs and
    deletes folders recursively; local files are removed one by one instead, remote ones escaped."""
    for path in paths:
        if "://" not in path:
            with contextlib.suppress(FileNotFoundError):
                os.remove(path)
    remote = [escape_glob(path) for path in paths if "://" in path]
    if remote:
        FileSystems.delete(remote)


def inside(path: str, folder: str) -> bool:
    """Whether local `path` lies inside local `folder` (after resolving links and dots)."""
    if "://" in path or "://" in folder:
        return path.rstrip("/").startswith(folder.rstrip("/") + "/")
    path, folder = os.path.realpath(path), os.path.realpath(folder)
    return os.path.commonpath([path, folder]) == folder


def copy_file(source: str, target: str) -> None:
    """Copy a file between any Beam filesystems, atomically at the target."""
    partial = target + ".partial"
    with (
        FileSystems.open(source, compression_type=CompressionTypes.UNCOMPRESSED) as reader,
        FileSystems.create(partial, compression_type=CompressionTypes.UNCOMPRESSED) as writer,
    ):
        shutil.copyfileobj(reader, writer, 1 << 20)
    commit(partial, target)


def read_jsonl_gz(path: str) -> Iterator[dict[str, Any]]:
    """Records of a gzipped JSONL file on any Beam filesystem."""
    with (
        FileSystems.open(path, compression_type=CompressionTypes.UNCOMPRESSED) as channel,
        gzip.GzipFile(fileobj=channel, mode="rb") as stream,
    ):
        for line in io.TextIOWrapper(stream, encoding="utf-8"):
            yield json.loads(line)


def open_source(path: str, source: SourceConfig) -> Any:
    """A byte stream of a WARC: https through our retrying reader, anything else through Beam."""
    if sources.is_url(path):
        return sources.open_url(path, retries=source.http_retries, backoff=source.http_backoff)
    return FileSystems.open(path, compression_type=CompressionTypes.UNCOMPRESSED)


DANGLING_LINK = "dangling-link"  # a symbolic link whose target does not exist
LINK_LOOP = "link-loop"  # a symbolic link that leads back to itself


def link_problem(path: str) -> str | None:
    """`dangling-link` or `link-loop` for a local symbolic link that cannot be followed, else None."""
    if "://" in path or not os.path.islink(path):
        return None
    try:
        os.stat(path)
    except FileNotFoundError:
        return DANGLING_LINK
    except OSError as error:
        return LINK_LOOP if error.errno == errno.ELOOP else None
    return None


def broken_links(spec: str) -> dict[str, str]:
    """The local paths a glob matches that are links which cannot be followed, with why.

    Beam's local listing skips them without a word (it cannot stat them); they are inputs all the
    same, and opening them fails, so they are counted (dead-lettered) instead of lost. The walk is
    Beam's: from the folder before the first glob character, links to folders not followed."""
    prefix = re.match(r"^[^[*?]*", spec).group(0)
    if "://" in spec or prefix == spec:
        return {}
    pattern = re.compile(FileSystem.translate_pattern(spec))
    found = {}
    for folder, _, names in os.walk(os.path.dirname(prefix) or "."):
        for name in names:
            path = os.path.join(folder, name)
            why = link_problem(path) if pattern.match(path) else None
            if why is not None:
                found[path] = why
    return found


class ListInputs(beam.DoFn):
    """Expand one input spec into WARC paths at run time: a glob, a URL, or a crawl's listing."""

    def __init__(self, source: SourceConfig) -> None:
        self.source = source

    def process(self, spec: str) -> Iterator[str]:
        if spec.startswith("crawl:"):
            listing = sources.crawl_paths_url(spec[len("crawl:") :], self.source.crawl_base_url)
            with open_source(listing, self.source) as stream:
                yield from sources.read_warc_paths(
                    stream, self.source.crawl_base_url, self.source.max_files, name=listing
                )
        elif sources.is_url(spec):
            yield spec
        else:
            listed = {match.path for match in FileSystems.match([spec])[0].metadata_list}
            broken = {path: why for path, why in broken_links(spec).items() if path not in listed}
            if not listed and not broken:
                raise FileNotFoundError(f"--input {spec!r} matches no file")
            if broken:
                logging.warning(
                    "--input %r matches %d link(s) that cannot be followed (%s): each counts as unreadable",
                    spec,
                    len(broken),
                    ", ".join(f"{why} {n}" for why, n in sorted(Counter(broken.values()).items())),
                )
            yield from (beam_safe(path) for path in sorted(listed | broken.keys()))


class InputFiles(beam.PTransform):
    """Input specs -> distinct file paths, listed at run time and spread over workers."""

    def __init__(self, specs: list[str], source: SourceConfig) -> None:
        super().__init__()
        self.specs, self.source = specs, source

    def expand(self, pipeline: beam.pvalue.PBegin) -> beam.PCollection:
        return (
            pipeline
            | "Specs" >> beam.Create(self.specs)
            | "List" >> beam.ParDo(ListInputs(self.source))
            | "Distinct" >> beam.Distinct()
            | "Spread" >> beam.Reshuffle()
        )


class WriteShards(beam.PTransform):
    """Write records into `<prefix>-SSSSS-of-NNNNN.jsonl.gz`, N chosen from the count at run time.

    Each record goes to the shard given by a stable hash of its sort key, and shards are sorted
    by that key: the same input gives the same bytes. Empty shards are written too, so a
    consumer always finds N files. Returns (path, lines) per shard.
    """

    def __init__(self, output: str, prefix: str, per_shard: int, key: Any) -> None:
        super().__init__()
        self.output, self.prefix, self.per_shard, self.key = output, prefix, per_shard, key

    def expand(self, records: beam.PCollection) -> beam.PCollection:
        per_shard, key = self.per_shard, self.key
        count = records | "Count" >> beam.combiners.Count.Globally()
        shards = count | "Shards" >> beam.Map(lambda n: max(1, math.ceil(n / per_shard)))
        keyed = records | "Assign" >> beam.Map(
            lambda record, n: (stable_shard(key(record), n), record), n=beam.pvalue.AsSingleton(shards)
        )
        slots = shards | "Slots" >> beam.FlatMap(lambda n: [(shard, None) for shard in range(n)])
        grouped = {"records": keyed, "slot": slots} | "Group" >> beam.CoGroupByKey()
        output, prefix = self.output, self.prefix
        return grouped | "Write" >> beam.Map(
            lambda item, n: _write_shard(output, prefix, item[0], n, item[1]["records"], key),
            n=beam.pvalue.AsSingleton(shards),
        )


def shard_path(output: str, prefix: str, shard: int, shards: int) -> str:
    return FileSystems.join(output, f"{prefix}-{shard:05d}-of-{shards:05d}.jsonl.gz")


def _write_shard(
    output: str, prefix: str, shard: int, shards: int, records: Iterable[dict], key: Any
) -> tuple:
    path = shard_path(output, prefix, shard, shards)
    ordered = sorted(records, key=lambda record: (key(record), dumps(record)))
    return path, write_jsonl_gz(path, ordered)

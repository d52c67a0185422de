"""Batches in flight on the cluster: submit, collect as they finish, and survive poison files.

A group of photos becomes decode tasks (CPU workers) feeding one embed task (the model worker).
At most `window` groups are in flight. A group whose decoder crashed its worker, or that made
no progress for `decode_timeout_s`, is retried file by file on restarted workers; the file
that crashes or stalls again comes back as a failure with its reason, and the run goes on.
"""
from __future__ import annotations

import logging
import threading
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from distributed import Client, Future, as_completed

from engine.db.photos import PendingPhoto
from engine.indexing.cluster import DECODE, MODEL
from engine.indexing.tasks import DecodedPhoto, DecodeItem, ModelRef, decode_batch, embed_batch, warm_up
from engine.media.preprocess import Preprocessor

log = logging.getLogger(__name__)

Group = dict[int, PendingPhoto]


@dataclass
class _InFlight:
    group: Group
    result: Future
    decodes: list[Future]


class BatchStream:
    def __init__(
        self,
        client: Client,
        root: Path,
        refs: list[ModelRef],
        geometries: list[Preprocessor],
        *,
        decode_batch_size: int,
        model_batch_size: int,
        max_pixels: int,
        decode_timeout_s: float,
    ) -> None:
        self.client = client
        self.root = root
        self.refs = refs
        self.geometries = geometries
        self.decode_size = max(1, decode_batch_size)
        self.group_size = self.decode_size * (max(1, model_batch_size // self.decode_size) if refs else 1)
        self.max_pixels = max_pixels
        self.timeout = decode_timeout_s
        workers = client.scheduler_info(n_workers=-1).get("workers", {})
        self.window = max(2, 2 * len(workers))

    def run(self, chunks: Iterable[list[PendingPhoto]], cancel: threading.Event | None = None) -> Iterator[tuple[Group, list[DecodedPhoto]]]:
        """Yield (group, results) as groups finish, keeping a bounded window in flight."""
        in_flight: list[_InFlight] = []
        for chunk in chunks:
            for start in range(0, len(chunk), self.group_size):
                if cancel is not None and cancel.is_set():
                    break
                in_flight.append(self._submit(chunk[start : start + self.group_size]))
                while len(in_flight) >= self.window:
                    yield from self._collect(in_flight)
            if cancel is not None and cancel.is_set():
                break
        while in_flight:
            yield from self._collect(in_flight)

    def _submit(self, photos: list[PendingPhoto]) -> _InFlight:
        items = [DecodeItem(p.id, self.root / p.path, p.format) for p in photos]
        decodes = [self._submit_decode(items[i : i + self.decode_size]) for i in range(0, len(items), self.decode_size)]
        if self.has_model_stage:
            result = self._submit_model(decodes)
        else:
            (result,) = decodes  # metadata only: no model stage
        return _InFlight({p.id: p for p in photos}, result, decodes)

    def _collect(self, in_flight: list[_InFlight]) -> Iterator[tuple[Group, list[DecodedPhoto]]]:
        """Wait for the next finished group; on a stall, retry the stuck groups file by file."""
        try:
            next(as_completed([f.result for f in in_flight], loop=self.client.loop, timeout=self.timeout))
        except TimeoutError:
            stuck = [f for f in in_flight if any(d.status == "pending" for d in f.decodes)]
            if not stuck:
                return  # the model stage is slow (first load, big batch), not a decoder
            log.warning("no decode progress for %g s; retrying %d groups file by file", self.timeout, len(stuck))
            self._stop([d for f in stuck for d in f.decodes] + [f.result for f in stuck])
            for f in stuck:
                in_flight.remove(f)
                yield from self._one_by_one(f.group)
            return
        done = next(f for f in in_flight if f.result.done())
        in_flight.remove(done)
        if done.result.status == "finished":
            yield done.group, done.result.result()
        elif all(d.status == "finished" for d in done.decodes):
            raise done.result.exception()  # the model stage failed: a setup problem, not a bad file
        else:
            log.warning("a decode batch failed (%s); retrying its files one by one", done.result.exception())
            yield from self._one_by_one(done.group)
        for future in {done.result, *done.decodes}:
            future.release()

    def _one_by_one(self, group: Group) -> Iterator[tuple[Group, list[DecodedPhoto]]]:
        for photo in group.values():
            item = DecodeItem(photo.id, self.root / photo.path, photo.format)
            decoded = self._submit_decode([item])
            try:
                result = decoded.result(timeout=self.timeout)
            except TimeoutError:
                self._stop([decoded])
                result = [DecodedPhoto(photo.id, False, f"decoding did not finish in {self.timeout:g} s; stopped")]
            except Exception as exc:
                result = [DecodedPhoto(photo.id, False, f"the decoder crashed on this file ({type(exc).__name__})")]
            if self.has_model_stage and result[0].ok:
                result = self._submit_model([result]).result()
            yield {photo.id: photo}, result

    @property
    def has_model_stage(self) -> bool:
        return bool(self.refs)

    def _submit_decode(self, items: list[DecodeItem]) -> Future:
        """One decode task on a CPU worker; subclasses run other decoders (faces)."""
        return self.client.submit(decode_batch, items, self.geometries, self.max_pixels, resources=DECODE, pure=False)

    def _submit_model(self, decodes: list) -> Future:
        """One model task on the model worker over decode results (futures or lists)."""
        return self.client.submit(embed_batch, decodes, self.refs, resources=MODEL, pure=False)

    def _stop(self, futures: list[Future]) -> None:
        """Cancel futures and restart the workers still busy with them (a hung decoder holds its thread)."""
        keys = {f.key for f in futures}
        busy = [addr for addr, running in self.client.processing().items() if keys & set(running)]
        self.client.cancel(futures, force=True)
        if not busy:
            return
        try:
            self.client.restart_workers(busy, timeout=max(30.0, self.timeout))
            self.client.run(warm_up)  # restarted workers come back under new addresses
        except Exception as exc:  # workers without a nanny cannot be restarted
            log.warning("could not restart stuck workers %s: %s", busy, exc)

"""Call-site profiles: what one drain of one CPU touches and how much work it does.

Each profile sets the registry parameters that differ per call site (items
per batch, lines per item, work per item, local critical section). Values
come from the structures in the seed patch (mm/swap.c, mm/mlock.c) and the
SLUB sheaves conversion described in design/MODEL.md; where the kernel
source does not fix a number the source says "assumption".
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Mapping

from pwmodel.errors import PwmodelError


@dataclass(frozen=True)
class CallSite:
    name: str
    lock: str
    description: str
    params: Mapping[str, float] = field(default_factory=dict)
    sources: Mapping[str, str] = field(default_factory=dict)


CALLSITES: dict[str, CallSite] = {c.name: c for c in [
    CallSite(
        "lru_add_drain", "cpu_fbatches.lock",
        "lru_add_drain_all(): per-CPU cpu_fbatches (lru_add, deactivate_file, deactivate, "
        "lazyfree, activate) under pw_lock, drained by lru_add_drain_cpu()",
        {"batch_items": 15.5, "folio_lines_per_item": 1, "lines_per_item": 0.125,
         "lines_batch_hdr": 1, "local_cs_ns": 30.0},
        {"batch_items": "kernel source: PAGEVEC_SIZE 31; assumption: uniform fill (mean 15.5)",
         "folio_lines_per_item": "kernel source: folio->flags and folio->lru in the first line",
         "local_cs_ns": "assumption: folio_batch_add + checks, ~100 cycles"}),
    CallSite(
        "lru_add_drain_irq", "cpu_fbatches.lock_irq",
        "lru_move_tail batch under pw_lock_irqsave (folio_rotate_reclaimable); remote drain "
        "disables interrupts on the requester, local ops disable them on the owner",
        {"batch_items": 15.5, "folio_lines_per_item": 1, "lines_per_item": 0.125,
         "lines_batch_hdr": 1, "local_cs_ns": 40.0},
        {"local_cs_ns": "assumption: as lru_add plus irqsave/irqrestore (~30 cycles)"}),
    CallSite(
        "mlock_fbatch", "mlock_fbatch.lock",
        "mlock_drain_cpu(): the per-CPU mlock folio batch (mlock_folio, munlock_folio, "
        "mlock_new_folio) drained by mlock_folio_batch()",
        {"batch_items": 15.5, "folio_lines_per_item": 1, "lines_per_item": 0.125,
         "lines_batch_hdr": 1, "local_cs_ns": 60.0, "item_drain_ns": 80.0},
        {"local_cs_ns": "assumption: batch add + NR_MLOCK stat update",
         "item_drain_ns": "assumption: __mlock_folio/__munlock_folio per folio, heavier than lru_add"}),
    CallSite(
        "slub_sheaves", "slub_percpu_sheaves.lock",
        "SLUB per-CPU sheaves: flush_all_cpus_locked() returns a sheaf's objects to their slabs",
        {"batch_items": 16.0, "folio_lines_per_item": 1, "lines_per_item": 0.125,
         "lines_batch_hdr": 1, "local_cs_ns": 15.0, "item_drain_ns": 40.0},
        {"batch_items": "assumption: half of a 32-object sheaf",
         "folio_lines_per_item": "assumption: one slab (struct slab) line written per freed object",
         "local_cs_ns": "assumption: sheaf push/pop is a few tens of cycles (trylock fast path)",
         "item_drain_ns": "assumption: free to slab freelist per object"}),
]}


def get(name: str) -> CallSite:
    if name not in CALLSITES:
        raise PwmodelError(f"unknown call site '{name}' (known: {', '.join(CALLSITES)})",
                           field="callsite")
    return CALLSITES[name]

"""Generators that fail on purpose, for the worker-process fault tests (tests/test_run_faults.py).

Loaded in a run's worker process through ``SYNTHLAB_PLUGINS=tests.fault_generators`` and registered in
the test process by the tests' fixture (which removes them again, so no other test sees them). Each is
the MLP GAN until step ``FAULT_AT`` (after a checkpoint at ``CHECKPOINT_EVERY``), then fails its way.
"""
from __future__ import annotations

import contextlib
import os
import signal
import sys
import time
from typing import Iterator

import pytest

import torch

from synth_core.generators import get_generator, list_generators, register_generator, unregister_generator
from synth_core.generators.gan import MLPGAN

FAULT_AT = 40
CHECKPOINT_EVERY = 20


def _raise() -> None:
    raise ValueError("a bug in this generator's train step")


def _too_big() -> None:
    torch.empty(2**42, dtype=torch.uint8)  # 4 TiB: the allocator refuses (a RuntimeError)


def _abort() -> None:
    os.abort()


def _kill() -> None:
    os.kill(os.getpid(), signal.SIGKILL)  # what the kernel's out-of-memory killer sends


def _hang() -> None:
    time.sleep(3600)  # a long call that never returns to the loop


FAULTS = {"fault_raise": _raise, "fault_oom": _too_big, "fault_abort": _abort, "fault_kill": _kill, "fault_hang": _hang}


def _faulty(name: str, fault) -> type:
    class Faulty(MLPGAN):
        def _train_step(self):
            if self.step_ + 1 == FAULT_AT:
                fault()
            return super()._train_step()

    Faulty.name, Faulty.label, Faulty.__name__ = name, f"Faulty GAN ({name})", f"Faulty_{name}"
    return Faulty


def register() -> list[str]:
    """Register every faulty generator not registered yet; returns the names."""
    have = {g.name for g in list_generators()}
    for name, fault in FAULTS.items():
        if name not in have:
            register_generator(_faulty(name, fault))
    assert all(get_generator(n) for n in FAULTS)
    return list(FAULTS)


@contextlib.contextmanager
def plugged_in() -> Iterator:
    """This module's generators registered here and named in SYNTHLAB_PLUGINS (so worker processes and Ray
    actors import them too); both undone afterwards, so no other test sees them."""
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("SYNTHLAB_PLUGINS", __name__)
        names = register()
        try:
            yield sys.modules[__name__]
        finally:
            for name in names:
                unregister_generator(name)


register()

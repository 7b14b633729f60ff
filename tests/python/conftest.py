"""Shared fixtures of the Python suite: the CLI beside the module, sample
arrays, and a helper that runs a snippet in a fresh interpreter (for what
might take the interpreter down, and for fork and import-time behaviour)."""

import os
import subprocess
import sys
import textwrap

import numpy as np
import pytest

SOURCE_ROOT = os.environ.get("SIGNCUT_SOURCE_ROOT", os.path.join(os.path.dirname(__file__), "..", ".."))


@pytest.fixture(scope="session")
def cli():
    path = os.environ.get("SIGNCUT_CLI")
    if not path or not os.path.exists(path):
        pytest.skip("SIGNCUT_CLI does not name the signcut executable")
    return path


def smooth_field(shape, seed=0):
    """A correlated float32 field (cumulative sums of noise along every
    mode), the kind of data the auto block rule cuts into tiles."""
    x = np.random.default_rng(seed).standard_normal(shape)
    for axis in range(len(shape)):
        x = np.cumsum(x, axis=axis)
    x -= x.mean()
    return (x / np.abs(x).max()).astype(np.float32)


@pytest.fixture
def field():
    return smooth_field((96, 80))


def run_python(code, env_update=None, timeout=120):
    """Runs `code` in a new /usr/bin/python3 with this one's PYTHONPATH;
    returns the CompletedProcess (it may have died of a signal)."""
    env = dict(os.environ)
    env.update(env_update or {})
    return subprocess.run([sys.executable, "-c", textwrap.dedent(code)], env=env, capture_output=True, text=True,
                          timeout=timeout)

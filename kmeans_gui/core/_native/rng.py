"""Seeded random numbers without importing ``numpy.random`` (``rng.c``).

Importing ``numpy.random`` costs a run more CPU than pngquant needs to
quantize a small image, and a default run only needs uniform doubles for its
k-means++ seeding. :class:`Generator` draws exactly what
``numpy.random.default_rng(seed)`` draws (SeedSequence seeding of PCG64,
53-bit doubles), so seeded results are unchanged; for anything beyond
``random`` it hands over to a real numpy Generator advanced past the numbers
already drawn, so the stream stays numpy's throughout.
"""

from __future__ import annotations

import ctypes
import operator

import numpy as np

from . import I64, PTR, declare

_seed = declare("pcg64_seed", None, PTR, ctypes.c_uint64, ctypes.c_uint64, ctypes.c_uint64,
                ctypes.c_uint64)
_uniforms = declare("pcg64_uniforms", None, PTR, PTR, I64)

# numpy's SeedSequence constants (a pool of four 32-bit words).
_POOL = 4
_INIT_A, _MULT_A = 0x43B0D7E5, 0x931E8875
_INIT_B, _MULT_B = 0x8B51F9DD, 0x58F38DED
_MIX_L, _MIX_R = 0xCA01F9DD, 0x4973F715
_M32 = 0xFFFFFFFF


def _words(seed: int) -> list[int]:
    """A non-negative integer as little-endian 32-bit words ([0] for 0)."""
    words = []
    while True:
        words.append(seed & _M32)
        seed >>= 32
        if not seed:
            return words


def seed_state(seed: int, n_words: int) -> list[int]:
    """``SeedSequence(seed).generate_state(n_words, np.uint32)``."""
    if not isinstance(seed, int) or isinstance(seed, bool) or seed < 0:
        raise ValueError("seed must be a non-negative integer")
    hash_a = _INIT_A

    def hashmix(value: int) -> int:
        nonlocal hash_a
        value ^= hash_a
        hash_a = (hash_a * _MULT_A) & _M32
        value = (value * hash_a) & _M32
        return value ^ (value >> 16)

    def mix(x: int, y: int) -> int:
        result = (_MIX_L * x - _MIX_R * y) & _M32
        return result ^ (result >> 16)

    entropy = _words(seed)
    pool = [hashmix(entropy[i] if i < len(entropy) else 0) for i in range(_POOL)]
    for src in range(_POOL):
        for dst in range(_POOL):
            if src != dst:
                pool[dst] = mix(pool[dst], hashmix(pool[src]))
    for src in range(_POOL, len(entropy)):
        for dst in range(_POOL):
            pool[dst] = mix(pool[dst], hashmix(entropy[src]))
    hash_b = _INIT_B
    state = []
    for i in range(n_words):
        value = pool[i % _POOL] ^ hash_b
        hash_b = (hash_b * _MULT_B) & _M32
        value = (value * hash_b) & _M32
        state.append(value ^ (value >> 16))
    return state


def _default_rng(seed):
    from numpy.random import default_rng  # only when numpy's own is needed
    return default_rng(seed)


class Generator:
    """``numpy.random.default_rng(seed)``, its ``random`` drawn natively."""

    def __init__(self, seed) -> None:
        self._seed = seed
        self._drawn = 0
        self._numpy = None
        try:
            seed = operator.index(seed)
        except TypeError:
            seed = -1
        if seed < 0:  # None (fresh entropy), sequences, bad values: numpy's own
            self._numpy = _default_rng(self._seed)
            return
        words = seed_state(seed, 8)
        # generate_state(4, uint64): pairs of words, low word first.
        init_hi, init_lo, seq_hi, seq_lo = (words[i] | words[i + 1] << 32
                                            for i in range(0, 8, 2))
        self._state = np.zeros(4, np.uint64)
        _seed(self._state.ctypes.data, init_hi, init_lo, seq_hi, seq_lo)

    def random(self, size: int | None = None):
        """``size`` doubles in [0, 1), or one float when ``size`` is None."""
        if self._numpy is not None:
            return self._numpy.random(size)
        n = 1 if size is None else int(size)
        if n < 0:
            raise ValueError("size must be non-negative")
        out = np.empty(n, np.float64)
        _uniforms(self._state.ctypes.data, out.ctypes.data, n)
        self._drawn += n
        return float(out[0]) if size is None else out

    def __getattr__(self, name: str):
        # Any other method: numpy's own generator, past the draws made here.
        if name.startswith("_"):
            raise AttributeError(name)
        if self._numpy is None:
            self._numpy = _default_rng(self._seed)
            self._numpy.bit_generator.advance(self._drawn)
        return getattr(self._numpy, name)

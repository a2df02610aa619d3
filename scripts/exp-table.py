#!/usr/bin/env python3
"""Prints the 2^(k/128) table of `src/libm_exp.rs` (glibc's `__exp_data.tab`, derived here).

For k = 0 … 127, with H_k the double nearest 2^(k/128) and T_k the double nearest
2^(k/128)/H_k − 1 (both from 60 significant digits):
    tab[2k]     = bits(T_k)
    tab[2k + 1] = bits(H_k) − k · 2^45
glibc 2.36's libm holds exactly these 256 words (checked against its .rodata); the test
`libm_exp::tests::the_table_is_two_to_the_k_over_128` checks them against f64 arithmetic.
Usage: python3 scripts/exp-table.py > /tmp/table.rs, then paste over the table (kept four words
a line by its #[rustfmt::skip]).
"""
import struct
from decimal import Decimal, getcontext
from fractions import Fraction

getcontext().prec = 60


def bits(x: float) -> int:
    return struct.unpack("<Q", struct.pack("<d", x))[0]


words = []
for k in range(128):
    v = Decimal(2) ** (Decimal(k) / Decimal(128))
    h = float(Fraction(v))  # correctly rounded
    t = float(Fraction(v / Decimal(h) - 1)) if k else 0.0
    words += [bits(t), (bits(h) - (k << 45)) % (1 << 64)]
print("const TABLE: [u64; 256] = [")
for i in range(0, 256, 4):
    print("    " + " ".join(f"0x{w:016x}," for w in words[i:i + 4]))
print("];")

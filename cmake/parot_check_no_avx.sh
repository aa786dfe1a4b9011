#!/bin/sh
# SPDX-License-Identifier: BSD-3-Clause
# parot_check_no_avx.sh OBJDUMP BINARY: fails if a function of BINARY outside the AVX2 / AVX-512
# kernel levels (parot::kernels::isa_avx2 / isa_avx512, chosen at run time) uses a ymm or zmm
# register, an FMA or an AVX-512 mask: such code would die with SIGILL on an older CPU.
set -eu
"$1" -d --no-show-raw-insn -C "$2" | awk '
  /^[0-9a-f]+ <.*>:$/ { fn = $0; next }
  /%[yz]mm[0-9]|vfn?m(add|sub)|%k[1-7]/ {
    if (fn !~ /parot::kernels::isa_avx(2|512)::/ && !(fn in seen)) { seen[fn] = 1; print fn; bad = 1 }
    else if (!(fn in seen)) { seen[fn] = 1; ok++ }
  }
  END {
    if (bad) { print "AVX instructions outside the dispatched kernel levels (above)"; exit 1 }
    if (ok == 0) { print "no AVX code at all: are the kernel levels compiled in?"; exit 1 }
    print ok " functions use AVX, all in the dispatched kernel levels"
  }'

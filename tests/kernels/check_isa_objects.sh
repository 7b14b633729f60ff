#!/usr/bin/env bash
# Proves that the per-ISA kernel libraries hold real vector code, so that a
# build that silently fell back to the portable loops (lost flags, a
# dispatch table pointing at the wrong functions) cannot pass.
#
#   check_isa_objects.sh OBJDUMP AVX512_LIB AVX2_LIB
#
# For each library, every kernel must have at least one function (the kernel
# or a helper named after it) whose disassembly uses the ISA's vector
# registers: zmm for AVX-512; ymm and never zmm for AVX2. The AVX-512
# library must also contain VPOPCNTQ (the VPOPCNTDQ popcount) and masked
# float ops (sign bits used directly as lane masks).
set -euo pipefail

objdump=$1 avx512=$2 avx2=$3
status=0

fail() {
    echo "FAIL: $*" >&2
    status=1
}

# Prints "function<TAB>count of lines matching $2" for every function of
# the archive $1, with demangled names.
count_per_function() {
    "$objdump" -d -C --no-show-raw-insn "$1" | awk -v pat="$2" '
        /^[0-9a-f]+ <.*>:$/ { name = substr($0, index($0, "<") + 1); sub(/>:$/, "", name); next }
        name != "" && $0 ~ pat { n[name]++ }
        END { for (f in n) printf "%s\t%d\n", f, n[f] }'
}

kernels="dense_matvec dense_tmatvec sign_matvec sign_tmatvec sign_dots kron rows_add sign_gemm"

check_lib() {
    local lib=$1 ns=$2 reg=$3
    [[ -f $lib ]] || { fail "$lib does not exist"; return; }
    local counts
    counts=$(count_per_function "$lib" "%$reg[0-9]")
    for k in $kernels; do
        # sign_dots' vector work may sit in its differing_bits helpers.
        local key=$k
        [[ $k == sign_dots ]] && key='sign_dots|differing_bits'
        local n
        n=$(printf '%s\n' "$counts" | awk -F'\t' -v ns="$ns" -v k="$key" \
            'index($1, ns) && $1 ~ k { s += $2 } END { print s + 0 }')
        if (( n == 0 )); then
            fail "$(basename "$lib"): no $reg instruction in any $ns function named after $k"
        else
            echo "ok: $(basename "$lib"): $k uses $reg ($n instructions)"
        fi
    done
}

check_lib "$avx512" "signcut::kernels::avx512::" zmm
check_lib "$avx2" "signcut::kernels::avx2::" ymm

dis512=$("$objdump" -d --no-show-raw-insn "$avx512")
grep -q 'vpopcntq' <<<"$dis512" || fail "no vpopcntq in the avx512 library"
grep -Eq 'vxorps +%zmm[0-9]+,%zmm[0-9]+,%zmm[0-9]+\{%k[1-7]\}' <<<"$dis512" ||
    fail "no masked vxorps in the avx512 library (sign bits are meant to be lane masks)"

zmm_in_avx2=$("$objdump" -d --no-show-raw-insn "$avx2" | grep -c '%zmm' || true)
if (( zmm_in_avx2 != 0 )); then
    fail "the avx2 library uses zmm registers ($zmm_in_avx2 instructions): it would fault on AVX2-only CPUs"
fi
grep -q 'vpsllvd' < <("$objdump" -d --no-show-raw-insn "$avx2") ||
    fail "no vpsllvd in the avx2 library (sign bits are expanded to lane masks by variable shifts)"

exit $status

#!/usr/bin/env bash
# Compile check of every translation unit that includes LibTorch against another LibTorch's headers (2.x, with or
# without CUDA), syntax only: nothing is linked, so no GPU and no torch libraries are needed. Catches API changes
# between Debian's LibTorch 1.13 (what this machine builds with) and the 2.x a GPU server has, before device time
# is spent on a build that fails. See bench/gpu/README.md for where the headers come from.
#
# Usage: bench/gpu/check_torch2_headers.sh INCLUDE_ROOT [--cuda CUDA_INCLUDE_DIR] [--no-tests] [--core] [FILE.cpp ...]
#   INCLUDE_ROOT  the folder holding torch/, ATen/, c10/ and torch/csrc/api/include (LibTorch's include/, or
#                 usr/include of an unpacked Debian libtorch-dev / libtorch-cuda-dev package)
#   --cuda DIR    also check the CUDA-only code paths: defines MATRIX_HAVE_CUDA (as CMake does when LibTorch has
#                 torch_cuda) and USE_C10D_NCCL (what torch_cuda gives its users) and adds DIR (cuda_runtime.h)
#   --no-tests    only the engine, CLI and benchmark TUs (tests need Qt's headers and moc)
#   --core        also every torch-free TU of the engine-only build (core/, app/cli/): they are compiled with the
#                 same -std as the torch TUs there (C++20 for LibTorch 2.10+)
#   FILE.cpp ...  only these TUs (paths relative to the repository root)
# Exit status: 0 when every TU compiled; 1 otherwise (the failing TUs are listed at the end). One TU at a time
# under `nice`: each takes 10-30 s and ~1.5 GiB.
set -u
shopt -s nullglob
here=$(cd "$(dirname "$0")/../.." && pwd)
cd "$here"

root=""; cuda=""; tests=1; core=0; files=()
while [ $# -gt 0 ]; do
  case "$1" in
    --cuda) cuda="$2"; shift 2 ;;
    --no-tests) tests=0; shift ;;
    --core) core=1; shift ;;
    -h|--help) sed -n '2,18p' "$0"; exit 0 ;;
    *) if [ -z "$root" ]; then root="$1"; else files+=("$1"); fi; shift ;;
  esac
done
if [ -z "$root" ] || [ ! -f "$root/torch/csrc/api/include/torch/version.h" ]; then
  echo "usage: $0 INCLUDE_ROOT [--cuda DIR] [--no-tests] [FILE.cpp ...] (INCLUDE_ROOT/torch/csrc/api/include/torch/version.h must exist)" >&2
  exit 2
fi
root=$(cd "$root" && pwd)
vfile="$root/torch/csrc/api/include/torch/version.h"
[ -f "$root/torch/headeronly/version.h" ] && vfile="$root/torch/headeronly/version.h"  # 2.9+: the numbers moved
version=$(sed -n 's/^#define TORCH_VERSION_\(MAJOR\|MINOR\|PATCH\) \([0-9]*\).*/\2/p' "$vfile" | paste -sd.)
# LibTorch 2.10+ refuses anything older than C++20 (torch/all.h #error); the top CMakeLists.txt then switches the
# whole build to C++20, so check with the standard that build will use.
std=c++17
grep -q 'C++20 or later' "$root/torch/csrc/api/include/torch/all.h" && std=c++20
echo "LibTorch headers $version at $root (-std=$std)${cuda:+, CUDA headers at $cuda}"

flags=(-std=$std -fsyntax-only -D_GLIBCXX_USE_CXX11_ABI=1 -Wall -Wextra -Wno-unused-parameter -Wno-unused-variable
       -Wno-sign-compare -DMATRIX_HAVE_TORCH=1 -DPCRE2_CODE_UNIT_WIDTH=8 -DSQLITE_ENABLE_FTS5
       -DMATRIX_SHARED_DIR=\"/nonexistent/shared\" -DMATRIX_SOURCE_DIR=\"$here\" -DMATRIX_BINARY_DIR=\"/nonexistent/build\"
       -DMATRIX_VERSION=\"0.0-check\"
       -I"$here" -isystem "$root" -isystem "$root/torch/csrc/api/include")
if [ -n "$cuda" ]; then
  [ -f "$cuda/cuda_runtime.h" ] || { echo "no cuda_runtime.h in $cuda" >&2; exit 2; }
  flags+=(-DMATRIX_HAVE_CUDA=1 -DUSE_C10D_NCCL -isystem "$cuda")
fi

if [ ${#files[@]} -eq 0 ]; then
  files=(core/model/*.cpp core/training/*.cpp app/cli/torch/*.cpp bench/bench_model.cpp bench/bench_train.cpp bench/op_profile.cpp)
  [ $tests = 1 ] && files+=(tests/core/model/*.cpp tests/core/training/*.cpp)
  [ $core = 1 ] && files+=(core/util/*.cpp core/store/*.cpp core/formats/*.cpp core/tokenizer/*.cpp core/eval/*.cpp
                           core/agent/*.cpp app/cli/*.cpp)
fi

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
moc=""
for m in /usr/lib/qt6/libexec/moc "$(command -v moc-qt6 2>/dev/null)" "$(command -v moc 2>/dev/null)"; do
  [ -n "$m" ] && [ -x "$m" ] && { moc=$m; break; }
done
qt_flags=()
for d in /usr/include/x86_64-linux-gnu/qt6 /usr/include/qt6; do
  [ -d "$d" ] && qt_flags=(-DQT_TESTLIB_LIB -DQT_CORE_LIB -isystem "$d" -isystem "$d/QtCore" -isystem "$d/QtTest" -fPIC) && break
done

failed=(); n=0
for f in "${files[@]}"; do
  extra=()
  if [[ "$f" == tests/* ]]; then
    if [ -z "$moc" ] || [ ${#qt_flags[@]} -eq 0 ]; then echo "skip $f (no Qt headers / moc)"; continue; fi
    base=$(basename "$f" .cpp)
    "$moc" "$f" -o "$tmp/$base.moc" || { failed+=("$f (moc)"); continue; }
    extra=("${qt_flags[@]}" -I"$tmp" -DMATRIX_HAVE_OPENCV=1 -isystem /usr/include/opencv4)
  fi
  t0=$(date +%s)
  if nice g++ "${flags[@]}" "${extra[@]}" -MD -MF "$tmp/deps" "$f" 2> "$tmp/err"; then
    # A header missing from INCLUDE_ROOT would silently come from the system's own LibTorch: refuse that.
    if [ "$root" != /usr/include ] && grep -Eq '(^| )/usr/include/(torch|ATen|c10|caffe2)/' "$tmp/deps"; then
      echo "FAIL $f: some torch headers came from /usr/include, not from $root:"
      grep -Eo '(^| )/usr/include/(torch|ATen|c10|caffe2)/[^ ]*' "$tmp/deps" | head -5
      failed+=("$f (mixed headers)")
    else
      echo "ok   $f ($(( $(date +%s) - t0 )) s)"
    fi
  else
    echo "FAIL $f"
    grep -E 'error|required from here' "$tmp/err" | head -25
    failed+=("$f")
  fi
  n=$((n + 1))
done
echo "checked $n TUs against LibTorch $version${cuda:+ + CUDA}: ${#failed[@]} failed"
for f in "${failed[@]}"; do echo "  failed: $f"; done
[ ${#failed[@]} -eq 0 ]

#!/usr/bin/env bash
# One script for a fresh Debian 12 machine: installs what is missing (idempotent), configures and builds with
# CMake + Ninja, then runs the workbench on the demo project (`run`) or the test suites (`test`).
#   packaging/setup.sh run     set up, build, open matrix-workbench on the bundled demo project
#   packaging/setup.sh test    set up, build, run every test (CTest)
#   packaging/setup.sh deps    only install the Debian packages
#   packaging/setup.sh build   set up and build
# Environment: BUILD_DIR (default build), MATRIX_CMAKE_ARGS (extra configure flags), JOBS.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/.." && pwd)
build_dir=${BUILD_DIR:-$root/build}
jobs=${JOBS:-$(nproc)}
mode=${1:-build}

# Debian packages: toolchain, Qt 6 Widgets/Charts/Svg, LibTorch (CPU), OpenCV (the three modules we use),
# SQLite, nlohmann-json, PCRE2, libcurl (chat endpoints), cpp-httplib (the endpoint tests' local server),
# OpenBLAS (LibTorch's BLAS: the reference BLAS is ~30x slower), Tesseract OCR (library + English data) for the
# ocr tool, OpenCV's objdetect + opencv-data cascades for face detection, poppler-cpp for PDF reading and libarchive
# for DOCX/XLSX/PPTX (zip) in inspect_file_as_text, bubblewrap and
# Debian's python3 with numpy/PIL/OpenCV/pandas for the agent's sandbox (openpyxl, python-docx and reportlab: the
# synthesis files stage's programs write XLSX, DOCX and PDF there), Xvfb for
# screenshots without a display; libgloo-dev for the headers of LibTorch's Gloo process group (data-parallel training).
packages=(
  build-essential cmake ninja-build pkg-config
  qt6-base-dev qt6-charts-dev libqt6opengl6-dev qt6-svg-dev libgl-dev libxkbcommon-dev
  libtorch-dev libopenblas0-pthread libgloo-dev
  libopencv-core-dev libopencv-imgproc-dev libopencv-imgcodecs-dev libopencv-objdetect-dev opencv-data
  libsqlite3-dev nlohmann-json3-dev libpcre2-dev
  libcurl4-openssl-dev libcpp-httplib-dev
  tesseract-ocr tesseract-ocr-eng libtesseract-dev libleptonica-dev libpoppler-cpp-dev libarchive-dev
  bubblewrap python3 python3-numpy python3-pil python3-opencv python3-pandas
  python3-openpyxl python3-docx python3-reportlab
  xvfb xauth fonts-dejavu-core
  slurm-wlm munge   # test_slurm_jobs: a one-node Slurm cluster started by tests/slurm/slurm_cluster.sh
  slurmdbd slurm-wlm-mysql-plugin mariadb-server  # its accounting (sacct): tests/slurm/slurm_accounting.sh
)
# Packages whose maintainer scripts start a system service (mariadb, slurmdbd, munge, slurmctld, slurmd): the tests
# start their own daemons in a temporary folder, so these are installed with a policy-rc.d that refuses every start
# (invoke-rc.d and deb-systemd-invoke ask it): nothing is left running, and a container without systemd or init
# scripts cannot fail the install.
service_packages=" mariadb-server slurmdbd munge slurm-wlm slurmctld slurmd "

install_deps() {
  local missing=()
  for p in "${packages[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
  done
  if ((${#missing[@]} == 0)); then
    echo "setup: all ${#packages[@]} packages present"
    return
  fi
  echo "setup: installing ${missing[*]}"
  local sudo=""
  if [ "$(id -u)" -ne 0 ]; then sudo=sudo; fi
  $sudo apt-get update -qq
  local policy=/usr/sbin/policy-rc.d made_policy=0 p
  for p in "${missing[@]}"; do
    if [[ "$service_packages" == *" $p "* ]] && [ ! -e "$policy" ]; then
      printf '#!/bin/sh\n# packaging/setup.sh: no service starts while it installs packages\nexit 101\n' | $sudo tee "$policy" >/dev/null
      $sudo chmod 755 "$policy"
      made_policy=1
      break
    fi
  done
  local rc=0
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" || rc=$?
  if ((made_policy)); then $sudo rm -f "$policy"; fi
  # On a systemd host the new units are still enabled for the next boot. The tests start their own daemons and never
  # use these services, so the ones this run installed are disabled again; a service the machine already had is
  # left as it was.
  if ((made_policy)) && [ -d /run/systemd/system ]; then
    local unit
    for p in "${missing[@]}"; do
      case $p in
        mariadb-server) set -- mariadb ;;
        slurm-wlm) set -- slurmctld slurmd ;;
        slurmdbd | munge | slurmctld | slurmd) set -- "$p" ;;
        *) set -- ;;
      esac
      for unit in "$@"; do
        $sudo systemctl disable "$unit" > /dev/null 2>&1 && echo "setup: disabled the $unit service (installed for the tests only)"
      done
    done
  fi
  return $rc
}

# The real-client test of `matrix serve` (tests/node) runs the official `openai` npm package: Node from Debian's nodejs
# only where no node is installed (a NodeSource node brings its own npm, which Debian's npm package would conflict
# with), then the package pinned in tests/node/package.json, unless that exact version is already there.
install_node_tests() {
  local sudo=""
  if [ "$(id -u)" -ne 0 ]; then sudo=sudo; fi
  if ! command -v node >/dev/null 2>&1; then
    echo "setup: installing nodejs npm"
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends nodejs npm
  fi
  local dir="$root/tests/node" want have
  want=$(sed -n 's/.*"openai": *"\([^"]*\)".*/\1/p' "$dir/package.json")
  have=$(sed -n 's/^  "version": *"\([^"]*\)".*/\1/p' "$dir/node_modules/openai/package.json" 2>/dev/null || true)
  if [ "$want" = "$have" ]; then
    echo "setup: openai $have (npm) present in tests/node"
    return
  fi
  echo "setup: installing openai $want (npm) into tests/node"
  (cd "$dir" && npm ci --no-audit --no-fund)
}

build() {
  # shellcheck disable=SC2086
  cmake -S "$root" -B "$build_dir" -G Ninja -DCMAKE_BUILD_TYPE=${BUILD_TYPE:-Release} ${MATRIX_CMAKE_ARGS:-}
  cmake --build "$build_dir" -j "$jobs"
}

case "$mode" in
  deps) install_deps ;;
  build) install_deps; build ;;
  test)
    install_deps
    install_node_tests
    build
    cd "$build_dir"
    QT_QPA_PLATFORM=offscreen ctest --output-on-failure -j "$jobs"
    ;;
  run)
    install_deps
    build
    if [ -z "${DISPLAY:-}" ] && [ -z "${WAYLAND_DISPLAY:-}" ]; then
      echo "setup: no display; starting the workbench under Xvfb (set DISPLAY to use yours)"
      exec xvfb-run -a -s "-screen 0 1600x1000x24" "$build_dir/app/matrix-workbench" --demo
    fi
    exec "$build_dir/app/matrix-workbench" --demo
    ;;
  *) echo "usage: packaging/setup.sh run|test|deps|build" >&2; exit 2 ;;
esac

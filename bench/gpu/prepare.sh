#!/usr/bin/env bash
# Fills .device/ (git-ignored) with what bench/gpu/device_run.sh needs on the GPU machine and cannot get there:
#   .device/include/  sqlite3.h, sqlite3ext.h, pcre2.h, curl/ (the GPU machine has the .so.0 / .so.4 libraries
#                     but no headers; CMake points at them with -DMATRIX_EXTRA_INCLUDE_DIR)
#   .device/fixtures/qwen2vl-tiny/  the HF reference fixture (shared/ is outside the repository, so it does not
#                     travel with the working tree; device_run.sh configures MATRIX_SHARED_DIR=.device)
# Run it here, from anywhere, before calling the device tool with carry [".device"]. Idempotent.
set -eu
repo=$(cd "$(dirname "$0")/../.." && pwd)
shared=${MATRIX_SHARED_DIR:-$repo/../shared}
mkdir -p "$repo/.device/include" "$repo/.device/fixtures"
for h in sqlite3.h sqlite3ext.h pcre2.h; do
  [ -f "/usr/include/$h" ] || { echo "prepare: /usr/include/$h missing (apt-get install libsqlite3-dev libpcre2-dev)" >&2; exit 1; }
  cp -f "/usr/include/$h" "$repo/.device/include/"
done
curl_dir=$(dirname "$(echo '#include <curl/curl.h>' | cpp -H -o /dev/null 2>&1 | grep -m1 'curl/curl.h' | sed 's/^\.* //')")
[ -f "$curl_dir/curl.h" ] || { echo "prepare: curl/curl.h missing (apt-get install libcurl4-openssl-dev)" >&2; exit 1; }
rm -rf "$repo/.device/include/curl"
cp -r "$curl_dir" "$repo/.device/include/curl"
[ -d "$shared/fixtures/qwen2vl-tiny" ] || { echo "prepare: no fixture at $shared/fixtures/qwen2vl-tiny" >&2; exit 1; }
rm -rf "$repo/.device/fixtures/qwen2vl-tiny"
cp -r "$shared/fixtures/qwen2vl-tiny" "$repo/.device/fixtures/"
chmod -R u+w "$repo/.device"
echo "prepare: $(du -sh "$repo/.device" | cut -f1) in $repo/.device (carry it: [\".device\"])"

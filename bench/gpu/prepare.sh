#!/usr/bin/env bash
# Fills .device/ (git-ignored) with what bench/gpu/device_run.sh needs on the GPU machine and cannot get there:
#   .device/include/  sqlite3.h, sqlite3ext.h, pcre2.h, curl/ (the GPU machine has the .so.0 / .so.4 libraries
#                     but no headers; CMake points at them with -DMATRIX_EXTRA_INCLUDE_DIR)
# The HF reference fixture is in the repository (tests/data/external/fixtures/qwen2vl-tiny) and travels with it.
# Run it here, from anywhere, before calling the device tool with carry [".device"]. Idempotent.
set -eu
repo=$(cd "$(dirname "$0")/../.." && pwd)
mkdir -p "$repo/.device/include"
for h in sqlite3.h sqlite3ext.h pcre2.h; do
  [ -f "/usr/include/$h" ] || { echo "prepare: /usr/include/$h missing (apt-get install libsqlite3-dev libpcre2-dev)" >&2; exit 1; }
  cp -f "/usr/include/$h" "$repo/.device/include/"
done
curl_dir=$(dirname "$(echo '#include <curl/curl.h>' | cpp -H -o /dev/null 2>&1 | grep -m1 'curl/curl.h' | sed 's/^\.* //')")
[ -f "$curl_dir/curl.h" ] || { echo "prepare: curl/curl.h missing (apt-get install libcurl4-openssl-dev)" >&2; exit 1; }
rm -rf "$repo/.device/include/curl"
cp -r "$curl_dir" "$repo/.device/include/curl"
chmod -R u+w "$repo/.device"
echo "prepare: $(du -sh "$repo/.device" | cut -f1) in $repo/.device (carry it: [\".device\"])"

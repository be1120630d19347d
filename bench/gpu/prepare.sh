#!/usr/bin/env bash
# Fills .device/ (git-ignored) with what bench/gpu/device_run.sh needs on the GPU machine and cannot get there:
#   .device/include/  sqlite3.h, sqlite3ext.h, pcre2.h, curl/ (the GPU machine has the .so.0 / .so.4 libraries
#                     but no headers; CMake points at them with -DMATRIX_EXTRA_INCLUDE_DIR)
#   .device/include/  httplib.h and the headers it includes (openssl/, zlib.h, zconf.h, brotli/), and
#   .device/lib/      Debian's libcpp-httplib.so.0.11 with the libraries it links (libssl, libcrypto, libz,
#                     libbrotli*), for `matrix serve` / bench_serve (bench/gpu/serve_run.sh; -DMATRIX_EXTRA_LIB_DIR)
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
# cpp-httplib for `matrix serve`: Debian ships it as a compiled library built with OpenSSL, zlib and brotli.
if [ -f /usr/include/httplib.h ]; then
  cp -f /usr/include/httplib.h /usr/include/zlib.h /usr/include/zconf.h "$repo/.device/include/"
  rm -rf "$repo/.device/include/openssl" "$repo/.device/include/brotli"
  cp -r /usr/include/openssl /usr/include/brotli "$repo/.device/include/"
  cp -f /usr/include/x86_64-linux-gnu/openssl/*.h "$repo/.device/include/openssl/"
  mkdir -p "$repo/.device/lib"
  for l in libcpp-httplib.so.0.11 libssl.so.3 libcrypto.so.3 libz.so.1 libbrotlidec.so.1 libbrotlienc.so.1 libbrotlicommon.so.1; do
    cp -fL "/usr/lib/x86_64-linux-gnu/$l" "$repo/.device/lib/$l"
  done
  ln -sf libcpp-httplib.so.0.11 "$repo/.device/lib/libcpp-httplib.so"
else
  echo "prepare: /usr/include/httplib.h missing (apt-get install libcpp-httplib-dev): matrix serve will be left out" >&2
fi
chmod -R u+w "$repo/.device"
echo "prepare: $(du -sh "$repo/.device" | cut -f1) in $repo/.device (carry it: [\".device\"])"

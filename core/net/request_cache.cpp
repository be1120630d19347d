// The request cache's key (see request_cache.h).
#include "core/net/request_cache.h"

#include "core/util/sha256.h"

namespace matrix::net {

std::string request_cache_key(const std::string& endpoint, const std::string& canonical_request, int sample_index) {
    Sha256 h;
    h.update(endpoint);
    h.update("\n");
    h.update(canonical_request);
    h.update("\n");
    h.update(std::to_string(sample_index));
    return h.hex_digest();
}

}  // namespace matrix::net

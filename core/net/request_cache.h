// The request cache a ChatClient may consult: replies of a chat endpoint by request, so that an interrupted job
// that is run again gets the same answers without paying for them twice. An abstract interface here so that
// core/net does not depend on the store; store::RequestCacheRepo keeps the entries in the project file.
// Thread safety: a ChatClient calls find/put from several threads at once; implementations must allow that.
#pragma once

#include <optional>
#include <string>

#include "core/util/result.h"

namespace matrix::net {

struct RequestCacheEntry {
    std::string key;       // request_cache_key(...)
    std::string endpoint;  // the URL the request went to (holds no key)
    std::string model;
    std::string request;   // the canonical request JSON, images replaced by their sha256 (see chat_request.h)
    std::string response;  // a chat.completion JSON object
};

class RequestCache {
public:
    virtual ~RequestCache() = default;
    // The stored response for `key`, nullopt when none.
    virtual Result<std::optional<std::string>> find(const std::string& key) = 0;
    // Stores an entry; an entry already present under the same key is kept (first answer wins).
    virtual Status put(const RequestCacheEntry& entry) = 0;
};

// sha256 hex of the endpoint, the canonical request JSON and the sample index: the k-th sampled answer of the
// same request is cached apart from the others.
std::string request_cache_key(const std::string& endpoint, const std::string& canonical_request, int sample_index);

}  // namespace matrix::net

// Stage "images": a photo for each task that needs one, from a pool folder the user points at. Captions come from
// the pool (captions.json {"file name": "caption"}, or <image stem>.txt beside each image); an image without one
// is captioned by the local captioner when one is given (--caption-model DIR: greedy, core/synth/local), each
// caption kept in the project's request cache under the image's sha256 so a resumed run does not caption again;
// without a captioner such an image is left out. Ranking: cosine similarity between the query's and each
// caption's embedding from an OpenAI-compatible /v1/embeddings endpoint (--embeddings-endpoint; requests through
// the project's request cache, usage accounted like chat requests), or from a local model (--embeddings-model DIR
// without an endpoint: mean-pooled final hidden states, L2-normalised; not paid, so not in synth_usage). Without
// either, a lexical fallback ranks captions by word overlap (Jaccard over normalised words). Every output says
// which ranking and which caption source it used. The chosen image is copied into the project's media folder and
// attached.
#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>
#include <thread>

#include "core/net/http_client.h"
#include "core/store/media_repo.h"
#include "core/synth/synth_context.h"
#include "core/util/sha256.h"

namespace matrix::synth::detail {

namespace fs = std::filesystem;
using json = nlohmann::json;

namespace {

bool is_image_file(const fs::path& p) {
    std::string e = p.extension().string();
    std::transform(e.begin(), e.end(), e.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    return e == ".jpg" || e == ".jpeg" || e == ".png" || e == ".webp" || e == ".bmp";
}

std::string read_text(const fs::path& p) {
    std::ifstream in(p, std::ios::binary);
    std::stringstream ss;
    ss << in.rdbuf();
    std::string s = ss.str();
    while (!s.empty() && (s.back() == '\n' || s.back() == '\r' || s.back() == ' ')) s.pop_back();
    return s;
}

std::string embeddings_url(const std::string& base) {
    if (base.size() >= 11 && base.compare(base.size() - 11, 11, "/embeddings") == 0) return base;
    return (base.empty() || base.back() != '/' ? base + "/" : base) + "embeddings";
}

// One /v1/embeddings request (cached by the project's request cache; 429/5xx and transport failures retried
// with backoff, then an infrastructure error). Vectors in input order.
Result<std::vector<std::vector<double>>> embed(Job& job, store::Database& db, const std::string& item_key,
                                               const std::vector<std::string>& inputs) {
    if (job.cancelled()) return cancelled_error();
    if (job.budget_hit.load()) return budget_error();
    const std::string url = embeddings_url(job.s.embeddings_endpoint);
    const std::string model = job.s.embeddings_model.empty() ? job.s.model : job.s.embeddings_model;
    const json body = {{"model", model}, {"input", inputs}};
    const std::string canonical = body.dump();
    const std::string key = net::request_cache_key(url, canonical, 0);
    std::string reply;
    bool cached = false;
    MATRIX_TRY(auto hit, job.cache->find(key));
    BudgetReservation reservation;  // a paid request's worst case, held until its usage is recorded below
    if (hit) {
        reply = *hit;
        cached = true;
    } else {
        MATRIX_TRY(reservation, reserve_budget(job, embedding_tokens_bound(inputs)));
        net::HttpHeaders headers = {{"Content-Type", "application/json"}};
        if (const char* k = std::getenv(job.s.api_key_env.c_str()); k && *k)
            headers.emplace_back("Authorization", std::string("Bearer ") + k);
        std::string last;
        const int attempts = std::max(1, job.s.retry_attempts);
        for (int a = 1; a <= attempts; ++a) {
            net::HttpResult h = net::http_post_json(url, canonical, headers, 10000, job.s.timeout_ms);
            if (h.ok() && h.response.status == 200) {
                reply = h.response.body;
                break;
            }
            const bool retry = !h.ok() || h.response.status == 429 || h.response.status >= 500;
            last = h.ok() ? "HTTP " + std::to_string(h.response.status) + ": " + excerpt(h.response.body, 200)
                          : std::string(net::transport_failure_name(h.failure)) + ": " + h.message;
            if (!retry) return make_error("embeddings request refused: " + last, url);
            if (a == attempts) return Error{"embeddings endpoint could not answer: " + last + " (" +
                                                std::to_string(attempts) + " attempts)", "synth:infrastructure " + url};
            const int delay = std::min(30000, job.s.retry_base_delay_ms << (a - 1));
            for (int waited = 0; waited < delay; waited += 20) {
                if (job.cancelled()) return cancelled_error();
                std::this_thread::sleep_for(std::chrono::milliseconds(20));
            }
        }
    }
    const json j = json::parse(reply, nullptr, false);
    if (!j.is_object() || !j.contains("data") || !j["data"].is_array() || j["data"].size() != inputs.size())
        return make_error("embeddings reply is not a list of " + std::to_string(inputs.size()) + " vectors: " +
                          excerpt(reply, 200), url);
    std::vector<std::vector<double>> out(inputs.size());
    for (const json& d : j["data"]) {
        const size_t index = d.value("index", size_t(0));
        if (index >= out.size() || !d.contains("embedding") || !d["embedding"].is_array())
            return make_error("embeddings reply has a malformed item", url);
        for (const json& x : d["embedding"]) {
            if (!x.is_number()) return make_error("embeddings reply holds a non-number", url);
            out[index].push_back(x.get<double>());
        }
    }
    if (!cached) {
        net::RequestCacheEntry e{key, url, model, canonical, reply};
        (void)job.cache->put(e);
    }
    int64_t tokens = 0;
    if (j.contains("usage") && j["usage"].is_object()) tokens = j["usage"].value("prompt_tokens", int64_t(0));
    MATRIX_CHECK(record_usage(job, db, "images", model, item_key, "embeddings", tokens, 0, cached));
    return out;
}

double cosine(const std::vector<double>& a, const std::vector<double>& b) {
    if (a.size() != b.size() || a.empty()) return -2;
    double ab = 0, aa = 0, bb = 0;
    for (size_t i = 0; i < a.size(); ++i) {
        ab += a[i] * b[i];
        aa += a[i] * a[i];
        bb += b[i] * b[i];
    }
    return (aa == 0 || bb == 0) ? -2 : ab / std::sqrt(aa * bb);
}

std::set<std::string> words(const std::string& s) {
    std::set<std::string> out;
    std::istringstream in(normalise_query(s));
    for (std::string w; in >> w;)
        if (w.size() > 2) out.insert(w);
    return out;
}

double jaccard(const std::string& a, const std::string& b) {
    const auto x = words(a), y = words(b);
    if (x.empty() || y.empty()) return 0;
    size_t common = 0;
    for (const auto& w : x) common += y.count(w);
    return double(common) / double(x.size() + y.size() - common);
}

// Captions for pool images that have none, by the local captioner; each kept in the project's request cache
// under the captioner's identity and the image's sha256 (a resumed run reads it back instead of captioning). An
// image whose captioning fails or gives nothing is left out with a note naming it.
Status caption_locally(Job& job, const std::vector<fs::path>& images) {
    ImageCaptioner& captioner = *job.s.local.captioner;
    int made = 0, cached = 0, failed = 0;
    for (const fs::path& p : images) {
        if (job.cancelled()) return cancelled_error();
        const std::string path = fs::absolute(p).string();
        const std::string sha = sha256_file_hex(path);
        const json request = {{"captioner", captioner.identity()}, {"image_sha256", sha}};
        const std::string key = net::request_cache_key("local-caption", request.dump(), 0);
        std::string caption;
        MATRIX_TRY(auto hit, job.cache->find(key));
        if (hit) {
            const json j = json::parse(*hit, nullptr, false);
            if (j.is_object() && j.contains("caption") && j["caption"].is_string()) caption = j["caption"].get<std::string>();
        }
        if (!caption.empty()) {
            ++cached;
        } else {
            auto c = captioner.caption(path, job.cancel);
            if (job.cancelled()) return cancelled_error();
            if (!c.ok() || c->empty()) {
                ++failed;
                job.notes.push_back("images: " + path + " left out: " +
                                    (c.ok() ? std::string("the captioner gave an empty caption") : c.error().to_string()));
                continue;
            }
            caption = *c;
            ++made;
            net::RequestCacheEntry e{key, "local-caption", captioner.describe(), request.dump(), json{{"caption", caption}}.dump()};
            MATRIX_CHECK(job.cache->put(e));
        }
        job.pool.push_back({path, caption, captioner.describe(), {}});
    }
    job.notes.push_back("images: " + std::to_string(images.size()) + " pool image(s) without a caption: " +
                        std::to_string(made) + " captioned by " + captioner.describe() + ", " + std::to_string(cached) +
                        " from the project's cache, " + std::to_string(failed) + " left out");
    return {};
}

}  // namespace

Status prepare_images(Job& job, store::Database& db) {
    if (job.s.image_pool.empty()) return make_error("the images stage needs an image pool folder (--image-pool DIR)");
    std::error_code ec;
    if (!fs::is_directory(job.s.image_pool, ec)) return make_error("not a folder", job.s.image_pool);
    json captions = json::object();
    const fs::path cj = fs::path(job.s.image_pool) / "captions.json";
    if (fs::exists(cj, ec)) {
        captions = json::parse(read_text(cj), nullptr, false);
        if (!captions.is_object()) return make_error("captions.json is not a JSON object {\"file\": \"caption\"}", cj.string());
    }
    std::vector<fs::path> images;
    for (const auto& e : fs::directory_iterator(job.s.image_pool, ec))
        if (e.is_regular_file() && is_image_file(e.path())) images.push_back(e.path());
    std::sort(images.begin(), images.end());
    std::vector<fs::path> uncaptioned;
    for (const fs::path& p : images) {
        std::string caption;
        const std::string name = p.filename().string();
        if (captions.contains(name) && captions[name].is_string()) caption = captions[name].get<std::string>();
        else if (fs::path txt = fs::path(p).replace_extension(".txt"); fs::exists(txt, ec)) caption = read_text(txt);
        if (caption.empty()) {
            uncaptioned.push_back(p);  // captioned below when a captioner is given, else left out (cannot be ranked)
            continue;
        }
        job.pool.push_back({fs::absolute(p).string(), caption, "pool", {}});
    }
    if (job.s.local.captioner && !uncaptioned.empty()) MATRIX_CHECK(caption_locally(job, uncaptioned));
    if (job.pool.empty())
        return make_error("no captioned image in the pool (captions.json or <image>.txt beside each image, or "
                          "--caption-model DIR)", job.s.image_pool);
    std::sort(job.pool.begin(), job.pool.end(), [](const ImageEntry& a, const ImageEntry& b) { return a.path < b.path; });
    std::vector<std::string> texts;
    for (const auto& e : job.pool) texts.push_back(e.caption);
    if (!job.s.embeddings_endpoint.empty()) {
        job.ranking = "embeddings " + job.s.embeddings_endpoint;
        // The pool's captions once per run, in batches (answered by the cache after the first run).
        for (size_t at = 0; at < texts.size(); at += 64) {
            std::vector<std::string> batch(texts.begin() + at, texts.begin() + std::min(texts.size(), at + 64));
            MATRIX_TRY(auto vectors, embed(job, db, "pool-" + std::to_string(at / 64), batch));
            for (size_t i = 0; i < vectors.size(); ++i) job.pool[at + i].embedding = std::move(vectors[i]);
        }
        return {};
    }
    if (job.s.local.embedder) {
        job.local_embeddings = true;
        job.ranking = "local embeddings: " + job.s.local.embedder->describe();
        for (size_t at = 0; at < texts.size(); at += 64) {
            if (job.cancelled()) return cancelled_error();
            std::vector<std::string> batch(texts.begin() + at, texts.begin() + std::min(texts.size(), at + 64));
            MATRIX_TRY(auto vectors, job.s.local.embedder->embed(batch));
            for (size_t i = 0; i < vectors.size(); ++i)
                job.pool[at + i].embedding.assign(vectors[i].begin(), vectors[i].end());
        }
        return {};
    }
    job.lexical = true;
    job.ranking = "lexical (word overlap, no embeddings endpoint or local model)";
    return {};
}

Result<UnitResult> run_images(Job& job, store::Database& db, const Unit& unit) {
    UnitResult r;
    r.prompt_name = job.lexical ? "lexical-fallback" : job.local_embeddings ? "local-embeddings" : "embeddings";
    r.seed = 0;
    MATRIX_TRY(store::Statement q, db.prepare("SELECT query FROM tasks WHERE id=?"));
    q.bind_all(unit.task_id);
    MATRIX_TRY(bool found, q.step());
    if (!found) return make_error("task " + std::to_string(unit.task_id) + " is gone");
    const std::string query = q.column_text(0);
    q.reset();
    size_t best = 0;
    double best_score = -3;
    if (job.lexical) {
        for (size_t i = 0; i < job.pool.size(); ++i) {
            const double s = jaccard(query, job.pool[i].caption);
            if (s > best_score) best_score = s, best = i;
        }
    } else {
        std::vector<std::vector<double>> v;
        if (job.local_embeddings) {
            MATRIX_TRY(auto local, job.s.local.embedder->embed({query}));
            for (const auto& x : local) v.emplace_back(x.begin(), x.end());
        } else {
            MATRIX_TRY(v, embed(job, db, unit.key, {query}));
        }
        for (size_t i = 0; i < job.pool.size(); ++i) {
            const double s = cosine(v[0], job.pool[i].embedding);
            if (s > best_score) best_score = s, best = i;
        }
    }
    store::Transaction tx(db);
    MATRIX_CHECK(tx.begin_status());
    if ((job.lexical && best_score <= 0) || (!job.lexical && best_score <= -2)) {
        r.reject({"no matching image", job.lexical ? "no caption shares a word with the query" : "no comparable embedding"});
        MATRIX_CHECK(record_unit(job, db, "images", unit, r));
        MATRIX_CHECK(tx.commit());
        return r;
    }
    const ImageEntry& img = job.pool[best];
    const std::string name = fs::path(img.path).filename().string();
    const fs::path dest_dir = fs::path(job.media_root) / job.s.dataset / "images";
    std::error_code ec;
    fs::create_directories(dest_dir, ec);
    const fs::path dest = dest_dir / name;
    if (!fs::exists(dest, ec)) fs::copy_file(img.path, dest, fs::copy_options::overwrite_existing, ec);
    if (ec) return make_error("cannot copy " + img.path + " to " + dest.string() + ": " + ec.message());
    store::MediaRepo media(db);
    store::Media m;
    m.path = job.s.dataset + "/images/" + name;
    m.resolved_path = dest.string();
    m.size_bytes = static_cast<int64_t>(fs::file_size(dest, ec));
    m.sha256 = sha256_file_hex(dest.string());
    MATRIX_TRY(int64_t mid, media.upsert(m, true));
    MATRIX_CHECK(media.link(unit.task_id, "image", 0, mid));
    MATRIX_CHECK(write_task_text(db, unit.task_id, query));
    r.n_out = 1;
    r.output = {{"image", m.path}, {"pool_image", img.path}, {"caption", img.caption},
                {"caption_source", img.caption_source}, {"score", best_score}, {"ranking", job.ranking}};
    MATRIX_CHECK(record_unit(job, db, "images", unit, r));
    MATRIX_CHECK(tx.commit());
    return r;
}

}  // namespace matrix::synth::detail

// Stop-string filter for streamed text (see stop_filter.h).
#include "core/serve/stop_filter.h"

#include <algorithm>

namespace matrix::serve {

StopFilter::StopFilter(std::vector<std::string> stops) : m_stops(std::move(stops)) {
    m_stops.erase(std::remove(m_stops.begin(), m_stops.end(), std::string()), m_stops.end());
}

std::string StopFilter::push(std::string_view piece) {
    if (m_stopped) return {};
    m_pending.append(piece);
    // The earliest complete stop string wins.
    size_t cut = std::string::npos;
    for (const auto& s : m_stops) cut = std::min(cut, m_pending.find(s));
    std::string out;
    if (cut != std::string::npos) {
        m_stopped = true;
        out = m_pending.substr(0, cut);
        m_pending.clear();
    } else {
        // Hold back the longest tail that is a proper prefix of some stop string.
        size_t hold = 0;
        for (const auto& s : m_stops)
            for (size_t k = std::min(s.size() - 1, m_pending.size()); k > hold; --k)
                if (m_pending.compare(m_pending.size() - k, k, s, 0, k) == 0) {
                    hold = k;
                    break;
                }
        out = m_pending.substr(0, m_pending.size() - hold);
        m_pending.erase(0, m_pending.size() - hold);
    }
    m_sent += out;
    return out;
}

std::string StopFilter::finish() {
    if (m_stopped) return {};
    std::string out = std::move(m_pending);
    m_pending.clear();
    m_sent += out;
    return out;
}

}  // namespace matrix::serve

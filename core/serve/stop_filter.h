// Stop strings over streamed text, with OpenAI's semantics: the answer ends right before the first stop string and
// never contains it, also when it arrives split across tokens. Text that might be the start of a stop string is held
// back until the next piece shows whether it is one, so a streamed answer equals the non-streamed one.
// Thread safety: one filter per generated sequence, used by one thread.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace matrix::serve {

class StopFilter {
public:
    explicit StopFilter(std::vector<std::string> stops = {});
    // Appends a piece of generated text; returns the text that may be sent now. Once a stop string has appeared,
    // stopped() is true, the returned text ends before it, and later pushes return "".
    std::string push(std::string_view piece);
    // The end of generation (EOS, length): whatever was held back.
    std::string finish();
    bool stopped() const { return m_stopped; }
    const std::string& text() const { return m_sent; }  // everything returned so far

private:
    std::vector<std::string> m_stops;
    std::string m_pending;  // received, not yet sent (a possible stop-string prefix)
    std::string m_sent;
    bool m_stopped = false;
};

}  // namespace matrix::serve

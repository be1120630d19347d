// The prompts of M-TRACE synthesis (resources/prompts/synth/*.txt, compiled in): our own texts with the input and
// output contracts of the reference pipeline (mbzuai-oryx/MATRIX data_generation/). A prompt file is a system part,
// a line "=== user ===", then the user part; {{name}} placeholders are filled per request. A project overrides a
// prompt by storing its whole text (same format) in the project setting "synth.prompt.<name>" (`matrix synth
// prompt --set NAME=FILE`); every output row records the prompt's name and the sha256 of the text used.
// Thread safety: pure functions; reading an override uses the caller's connection.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "core/store/database.h"
#include "core/util/result.h"

namespace matrix::synth {

struct SynthPrompt {
    std::string name;    // queries | file_content | file_code | verify_files | verify_trajectory
    std::string system;  // before "=== user ==="
    std::string user;    // after it
    std::string sha256;  // of the whole text
    bool overridden = false;
};

// The bundled prompts' names.
const std::vector<std::string>& synth_prompt_names();
// The bundled text of a prompt (empty for an unknown name).
std::string bundled_synth_prompt(const std::string& name);
// Splits a prompt text; an error when the "=== user ===" line is missing or a part is empty.
Result<SynthPrompt> parse_synth_prompt(const std::string& name, const std::string& text);
// The prompt a project uses: its override when set, else the bundled one. Unknown names are an error.
Result<SynthPrompt> load_synth_prompt(store::Database& db, const std::string& name);
// Stores (or, with an empty text, removes) a project's override after checking it parses.
Status set_synth_prompt_override(store::Database& db, const std::string& name, const std::string& text);
// Replaces each {{key}} with its value (one pass; values are not scanned again). An error names a placeholder
// left without a value.
Result<std::string> fill_prompt(const std::string& text, const std::map<std::string, std::string>& values);

}  // namespace matrix::synth
